"""The LPR page 贷款市场报价利率: login required; anyone who reads loans sees the rate of each tenor in force today and
the history shipped with the migration, in both languages; head office publishes (audited, then redirected), bad input
is refused beside its field in the user's language with nothing written; everyone else gets no form and 403 on POST."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from rmdesk.audit.models import AuditEvent
from rmdesk.loans import rates
from rmdesk.loans.models import LprRate
from rmdesk.org.models import User
from rmdesk.postloan.views.lpr import InForce, Publication, basis_points
from tests.personas import Bank

PAGE = reverse("postloan:lpr")
SHIPPED = 15  # publication days in rmdesk/loans/migrations/0002_lpr_history.py, 2019-08-20 to 2025-05-20
LAST_SHIPPED = date(2025, 5, 20)


def login(client: Client, user: Any, language: str = "en") -> Client:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def publish(client: Client, **fields: str) -> Any:
    return client.post(PAGE, {"tenor": "1y", "published_on": "2025-06-20", "rate_pct": "2.95", **fields})


def nothing_written() -> bool:
    return LprRate.objects.count() == 2 * SHIPPED and not AuditEvent.objects.filter(action="loans.lpr_publish").exists()


# --- reading ---------------------------------------------------------------------------------------------------------


def test_the_page_needs_a_login(client: Client, bank: Bank) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_role_that_reads_no_loans_gets_404(client: Client, bank: Bank) -> None:
    # when a department officer (no loan access, may not publish) opens the page or posts to it
    assert login(client, bank.officer).get(PAGE).status_code == 404
    assert publish(client).status_code == 404
    # then nothing was written
    assert nothing_written()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("persona", ["alice", "lead", "head", "risk", "auditor"])
def test_anyone_who_reads_loans_sees_the_rates_in_force_and_the_shipped_history(
    client: Client, bank: Bank, persona: str, language: str
) -> None:
    # when
    response = login(client, getattr(bank, persona), language).get(PAGE)
    # then: today's rates are the last shipped, as loans.rates reads them, with their publication day
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    today = timezone.localdate()
    in_force = response.context["in_force"]
    assert [(r.tenor, r.rate_pct, r.published_on) for r in in_force] == [
        ("1y", Decimal("3.00"), LAST_SHIPPED),
        ("5y", Decimal("3.50"), LAST_SHIPPED),
    ]
    assert [r.rate_pct for r in in_force] == [rates.lpr_on("1y", today), rates.lpr_on("5y", today)]
    with translation.override(language):
        assert [r.label for r in in_force] == [gettext("1-year LPR"), gettext("Over-5-year LPR")]
        assert gettext("LPR rates") in html and gettext("LPR history") in html
    assert '<div class="h1 m-0 lpr-rate">3.00%</div>' in html
    assert '<div class="h1 m-0 lpr-rate">3.50%</div>' in html
    # and the whole history, newest first, each tenor's change in basis points since its previous publication
    history = response.context["history"]
    assert [row.published_on for row in history] == sorted((row.published_on for row in history), reverse=True)
    assert len(history) == SHIPPED and html.count('class="lpr-row"') == SHIPPED
    newest, oldest = history[0], history[-1]
    assert (newest.published_on, newest.one_year, newest.five_year) == (
        LAST_SHIPPED,
        Publication(Decimal("3.00"), Decimal("-10.00")),
        Publication(Decimal("3.50"), Decimal("-10.00")),
    )
    assert (oldest.published_on, oldest.one_year, oldest.five_year) == (
        date(2019, 8, 20),
        Publication(Decimal("4.25"), None),
        Publication(Decimal("4.85"), None),
    )
    unchanged = next(row for row in history if row.published_on == date(2022, 5, 20))
    assert (unchanged.one_year.change if unchanged.one_year else None) == "0"
    assert (unchanged.five_year.change if unchanged.five_year else None) == "-15"
    first_row = html[html.index('data-published-on="2025-05-20"') :].split("</tr>")[0]
    assert ">3.00%<" in first_row and ">3.50%<" in first_row and first_row.count(">-10<") == 2
    # and no one of these roles is offered the form
    assert response.context["form"] is None
    assert 'id="lpr-form"' not in html


def test_the_collection_menu_links_the_page(client: Client, bank: Bank) -> None:
    html = login(client, bank.alice).get(reverse("home")).content.decode()
    assert f'href="{PAGE}"' in html


def test_the_change_is_said_in_signed_basis_points() -> None:
    assert [basis_points(c) for c in (Decimal("5.00"), Decimal("-10.00"), Decimal("0.00"), Decimal("-2.50"))] == [
        "+5",
        "-10",
        "0",
        "-2.5",
    ]
    assert basis_points(None) == "—"


# --- publishing ------------------------------------------------------------------------------------------------------


def test_head_office_publishes_an_lpr_and_it_appears_audited(client: Client, bank: Bank, ho_lead: User) -> None:
    # given head office sees the form
    page = login(client, ho_lead).get(PAGE)
    assert 'id="lpr-form"' in page.content.decode()
    # when it publishes the 1-year LPR of 2025-06-20
    response = publish(client, tenor="1y", published_on="2025-06-20", rate_pct="2.95")
    # then it is in the table, entered by them, with one audit event, and the page is shown again
    assert response.status_code == 302
    assert response["Location"] == PAGE
    lpr = LprRate.objects.get(tenor="1y", published_on=date(2025, 6, 20))
    assert (lpr.rate_pct, lpr.created_by_id) == (Decimal("2.95"), ho_lead.pk)
    [event] = AuditEvent.objects.filter(action="loans.lpr_publish")
    assert event.actor_id == ho_lead.pk
    assert event.changes == {"tenor": "1y", "published_on": "2025-06-20", "rate_pct": "2.95"}
    # and the page says so, shows it in force and first in the history, 5 bp below the last 1-year LPR
    followed = client.get(response["Location"])
    html = followed.content.decode()
    assert (
        "The 1-year LPR of 2025-06-20 (2.95%) is published; floating loans take it on their next repricing date."
        in html
    )
    assert followed.context["in_force"][0] == InForce("1y", "1-year LPR", Decimal("2.95"), date(2025, 6, 20))
    assert followed.context["in_force"][1] == InForce("5y", "Over-5-year LPR", Decimal("3.50"), LAST_SHIPPED)
    newest = followed.context["history"][0]
    assert (newest.published_on, newest.one_year, newest.five_year) == (
        date(2025, 6, 20),
        Publication(Decimal("2.95"), Decimal("-5.00")),
        None,
    )
    first_row = html[html.index('data-published-on="2025-06-20"') :].split("</tr>")[0]
    assert ">2.95%<" in first_row and ">-5<" in first_row


def test_an_administrator_keeps_the_reference_data_and_may_publish(client: Client, bank: Bank) -> None:
    # given an administrator, who reads no customer's loans but keeps the bank's reference data
    page = login(client, bank.admin).get(PAGE)
    assert page.status_code == 200
    assert 'id="lpr-form"' in page.content.decode()
    # when
    response = publish(client, tenor="5y", published_on="2025-06-20", rate_pct="3.45")
    # then
    assert response.status_code == 302
    assert LprRate.objects.get(tenor="5y", published_on=date(2025, 6, 20)).created_by_id == bank.admin.pk


def _tomorrow() -> str:
    return (timezone.localdate() + timedelta(days=1)).isoformat()


BAD_INPUT: list[tuple[dict[str, Any], str, str]] = [
    ({"rate_pct": "-0.5"}, "rate_pct", "The annual rate must be from 0 to 36 percent, not -0.5."),
    ({"rate_pct": "36.01"}, "rate_pct", "The annual rate must be from 0 to 36 percent, not 36.01."),
    ({"rate_pct": "3,45"}, "rate_pct", "Enter the annual rate in percent, e.g. 3.45."),
    ({"rate_pct": "3.4.5"}, "rate_pct", "Enter the annual rate in percent, e.g. 3.45."),
    ({"rate_pct": "NaN"}, "rate_pct", "Enter the annual rate in percent, e.g. 3.45."),
    ({"rate_pct": "2.9512345"}, "rate_pct", "The rate must not have more than 6 decimal places."),
    ({"rate_pct": ""}, "rate_pct", "This field is required."),
    ({"published_on": "2025-02-30"}, "published_on", "Enter a valid date."),
    (
        {"published_on": "tomorrow"},
        "published_on",
        "An LPR is entered once published: the date cannot be in the future.",
    ),
    ({"published_on": "2025-05-20"}, "published_on", "The 1-year LPR of 2025-05-20 is already in the table."),
    ({"tenor": "10y"}, "tenor", "Select a valid choice. 10y is not one of the available choices."),
]


@pytest.mark.parametrize(("fields", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_written(
    client: Client, bank: Bank, ho_lead: User, fields: dict[str, Any], field: str, message: str
) -> None:
    # when
    if fields.get("published_on") == "tomorrow":
        fields = {"published_on": _tomorrow()}
    response = publish(login(client, ho_lead), **fields)
    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {field: [message]}
    assert f'<div class="invalid-feedback d-block">{message}</div>' in response.content.decode()
    assert nothing_written()


def test_every_bad_field_is_named_at_once(client: Client, bank: Bank, ho_lead: User) -> None:
    response = publish(login(client, ho_lead), tenor="10y", published_on="2025-13-01", rate_pct="abc")
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"tenor", "published_on", "rate_pct"}
    assert nothing_written()


@pytest.mark.parametrize(
    ("fields", "field", "msgid"),
    [
        ({"published_on": "2025-05-20"}, "published_on", "The %(tenor)s of %(date)s is already in the table."),
        ({"rate_pct": "abc"}, "rate_pct", "Enter the annual rate in percent, e.g. 3.45."),
        ({"rate_pct": "40"}, "rate_pct", "The annual rate must be from 0 to %(maximum)s percent, not %(value)s."),
    ],
)
def test_the_field_errors_are_in_chinese_for_a_chinese_user(
    client: Client, bank: Bank, ho_lead: User, fields: dict[str, str], field: str, msgid: str
) -> None:
    # when
    response = publish(login(client, ho_lead, "zh-hans"), **fields)
    # then: the message is the catalogue's Chinese, not the English
    assert response.status_code == 200
    [error] = response.context["form"].errors[field]
    with translation.override("zh-hans"):
        chinese = gettext(msgid)
    assert chinese != msgid
    assert error.startswith(chinese.split("%(")[0])
    assert not error.startswith(msgid.split("%(")[0])
    assert nothing_written()


@pytest.mark.parametrize("persona", ["alice", "lead", "head", "risk", "auditor"])
def test_others_get_no_form_and_403_on_post_with_nothing_written(client: Client, bank: Bank, persona: str) -> None:
    # when someone outside head office (or a read-only role) posts a rate anyway
    response = publish(login(client, getattr(bank, persona)))
    # then it is refused, said plainly on the page (with no form), and nothing was written
    assert response.status_code == 403
    html = response.content.decode()
    assert "Only head office can publish LPR rates." in html
    assert 'id="lpr-form"' not in html and 'id="lpr-history"' in html
    assert nothing_written()


def test_the_refusal_is_in_chinese_for_a_chinese_user(client: Client, bank: Bank) -> None:
    response = publish(login(client, bank.alice, "zh-hans"))
    assert response.status_code == 403
    with translation.override("zh-hans"):
        assert gettext("Only head office can publish LPR rates.") in response.content.decode()
