"""`rmdesk collection`: the calendar, the overdue list and portfolio quality on the command line — with --json the
API's very answers, so the figures on screen, in the API and on the command line are one."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from rmdesk.web.templatetags.rmdesk_tags import money
from tests.personas import Bank
from tests.postloan.conftest import LiveBook


def run(*args: str) -> str:
    out = StringIO()
    call_command("collection", *args, stdout=out)
    return out.getvalue()


def api(user: Any, path: str, **params: Any) -> Any:
    client = Client()
    client.force_login(user)
    return client.get("/api/v1" + path, params).json()


def test_the_calendar_on_the_command_line_is_the_apis(bank: Bank, live: LiveBook) -> None:
    assert json.loads(run("calendar", "--user", "alice", "--json")) == json.loads(
        json.dumps(api(bank.alice, "/collection/calendar"))
    )


def test_the_overdue_list_on_the_command_line_has_the_apis_items_and_totals(bank: Bank, live: LiveBook) -> None:
    # when
    printed = json.loads(run("overdue", "--user", "head", "--json"))
    answer = api(bank.head, "/loans/overdue")
    # then
    assert printed["items"] == answer["items"]
    assert printed["totals"] == answer["totals"]


def test_portfolio_quality_on_the_command_line_is_the_apis(bank: Bank, live: LiveBook) -> None:
    printed = json.loads(run("quality", "--user", "risk", "--unit", "BR1", "--json"))
    assert printed == api(bank.risk, "/portfolio/quality", unit=bank.branch1.pk)


def test_the_text_output_shows_the_same_figures(bank: Bank, live: LiveBook) -> None:
    # when
    text = run("calendar", "--user", "alice", "--language", "en")
    # then
    assert "HT-LIVE-OVERDUE" in text and "HT-LIVE-CAROL" not in text
    assert money(live.overdue.penalty_unpaid) in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("calendar", "--user", "nobody"), "No active user nobody"),
        (("calendar", "--user", "admin"), "No active user admin"),
        (("quality", "--user", "risk"), "Choose a unit"),
        (("calendar", "--user", "lead", "--unit", "BR2"), "--unit:"),
        (("calendar", "--user", "alice", "--month", "2026-13"), "--month:"),
        (("overdue", "--user", "lead", "--unit", "NOPE"), "No org unit with code NOPE"),
    ],
)
def test_bad_arguments_are_clear_errors(bank: Bank, live: LiveBook, args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError) as refused:
        run(*args, "--language", "en")
    assert message in str(refused.value)
