"""Security headers on every page, and the two languages: zh-Hans by default, English on request."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from tests.web.conftest import WebBank, credit_code

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(src|type=\"application/json\")=)[^>]*>", re.IGNORECASE)


def test_pages_carry_a_content_security_policy_and_no_inline_script(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    for url in (reverse("home"), reverse("customers:detail", args=[web_bank.customer.pk]), reverse("login")):
        response = client.get(url)
        # then
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert INLINE_SCRIPT.findall(response.content.decode()) == [], url


def test_static_libraries_are_served_locally(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    html = client.get(reverse("home")).content.decode()
    # then: nothing is fetched from another host (bank intranets are offline)
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources
    assert [s for s in sources if s.startswith(("http://", "https://", "//"))] == []
    assert any("vendor/htmx/" in s for s in sources)
    assert any("vendor/tabler/" in s for s in sources)


def test_the_interface_is_chinese_by_default(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    html = client.get(reverse("home")).content.decode()
    # then
    assert "客户经理工作台" in html
    assert "RM Workbench" not in html


def test_a_user_can_switch_to_english_and_back(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    # when
    client.post(reverse("set_language"), {"language": "en", "next": reverse("home")})
    english = client.get(reverse("home")).content.decode()
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("home")})
    chinese = client.get(reverse("home")).content.decode()
    # then
    assert "RM Workbench" in english
    assert "客户经理工作台" in chinese


def test_a_form_error_names_the_field_in_the_users_language(client: Client, web_bank: WebBank) -> None:
    # given
    client.force_login(web_bank.rm)
    good = credit_code()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    form = {"name": "新客户有限公司", "credit_code": bad, "tier": "general", "status": "prospect"}
    # when
    chinese = client.post(reverse("customers:create"), form).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    english = client.post(reverse("customers:create"), form).content.decode()
    # then
    assert "统一社会信用代码" in chinese
    assert "check character" in english.lower()
