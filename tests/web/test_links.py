"""{% link %} gives what {% url %} gives, under any script prefix (it keeps each address per prefix)."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.urls import reverse, set_script_prefix

from tests.personas import Bank

NAMES = ("home", "customers:list", "customers:quick_search", "logout", "set_language")


def _both(name: str) -> tuple[str, str]:
    template = Template(f"{{% load rmdesk_tags %}}{{% link '{name}' %}}|{{% url '{name}' %}}")
    link, url = template.render(Context()).split("|")
    return link, url


@pytest.mark.parametrize("name", NAMES)
def test_a_link_is_the_url_under_each_script_prefix(name: str) -> None:
    try:
        for prefix in ("/", "/rmdesk/", "/"):
            set_script_prefix(prefix)
            link, url = _both(name)
            assert link == url == reverse(name)
            assert link.startswith(prefix)
    finally:
        set_script_prefix("/")


def test_the_layout_links_its_menu(client, bank: Bank) -> None:
    client.force_login(bank.alice)
    page = client.get("/customers/").content.decode()
    for name in ("home", "customers:list", "tasks:list", "visits:list", "postloan:calendar"):
        assert f'href="{reverse(name)}"' in page
    assert f'action="{reverse("set_language")}"' in page and f'action="{reverse("logout")}"' in page
