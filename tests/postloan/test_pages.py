"""The collection pages — calendar, overdue list and its export, classification queue, portfolio quality: login
required, 404 for a role without access (nothing changed), the allowed view with the figures of postloan.queries,
in both languages."""

from __future__ import annotations

import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from rmdesk.audit.models import AuditEvent
from rmdesk.demo.loans import record_last_end_of_day
from rmdesk.loans.choices import Classification
from rmdesk.loans.models import LoanContract
from rmdesk.postloan.models import ClassificationDecision
from rmdesk.postloan.queries import DueLine, DueTotals, collection_calendar, overdue_loans, portfolio_quality
from rmdesk.web.templatetags.rmdesk_tags import money
from tests.personas import Bank
from tests.postloan.conftest import LiveBook
from tests.postloan.factories import collection_log, snapshot

HTMX = {"HTTP_HX_REQUEST": "true"}
PAGES = ["postloan:calendar", "postloan:overdue", "postloan:overdue_export", "postloan:queue", "postloan:portfolio"]


def login(client: Client, user: Any, language: str = "en") -> Client:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.mark.parametrize("page", PAGES)
def test_the_pages_need_a_login(client: Client, live: LiveBook, page: str) -> None:
    response = client.get(reverse(page))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("persona", ["admin", "officer"])
def test_a_role_without_customer_access_gets_404(
    client: Client, bank: Bank, live: LiveBook, page: str, persona: str
) -> None:
    assert login(client, getattr(bank, persona)).get(reverse(page)).status_code == 404


def test_the_nav_links_the_collection_pages_by_role(client: Client, bank: Bank, live: LiveBook) -> None:
    # when
    rm = login(client, bank.alice).get(reverse("home")).content.decode()
    risk = login(Client(), bank.risk).get(reverse("home")).content.decode()
    # then
    assert reverse("postloan:calendar") in rm and reverse("postloan:overdue") in rm
    assert reverse("postloan:queue") not in rm and reverse("postloan:portfolio") not in rm
    assert reverse("postloan:queue") in risk and reverse("postloan:portfolio") in risk


# --- the calendar ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_an_rm_sees_todays_dues_and_the_overdue_with_the_figures_of_the_query(
    client: Client, bank: Bank, live: LiveBook, language: str
) -> None:
    # when
    response = login(client, bank.alice, language).get(reverse("postloan:calendar"))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    calendar = response.context["calendar"]
    expected = collection_calendar(bank.alice)
    assert calendar == expected
    assert [line.contract_no for line in calendar.this_week] == ["HT-LIVE-DUE"]
    assert {line.contract_no for line in calendar.overdue} == {"HT-LIVE-OVERDUE"}
    for figure in (calendar.overdue_totals.total, calendar.week_totals.total, calendar.this_week[0].total):
        assert money(figure) in html
    assert "HT-LIVE-CAROL" not in html
    assert response.context["own_book"] is True
    assert 'name="rm"' not in html


def test_a_lead_narrows_the_calendar_to_an_rm(client: Client, bank: Bank, live: LiveBook) -> None:
    # when
    team = login(client, bank.lead).get(reverse("postloan:calendar"))
    daves = client.get(reverse("postloan:calendar"), {"rm": bank.dave.pk})
    # then
    assert 'name="rm"' in team.content.decode()
    assert {line.contract_no for line in team.context["calendar"].overdue} == {"HT-LIVE-OVERDUE"}
    assert daves.context["calendar"].overdue == []


def test_a_risk_officer_chooses_a_unit_first(client: Client, bank: Bank, live: LiveBook) -> None:
    # when
    first = login(client, bank.risk).get(reverse("postloan:calendar"))
    chosen = client.get(reverse("postloan:calendar"), {"unit": bank.branch2.pk})
    # then
    assert (first.context["choose_unit"], first.context["calendar"]) == (True, None)
    assert 'id="choose-unit"' in first.content.decode()
    assert {line.contract_no for line in chosen.context["calendar"].overdue} == {"HT-LIVE-CAROL"}


@pytest.mark.parametrize("query", [{"month": "2026-13"}, {"month": "soon"}, {"unit": "999999"}, {"rm": "x"}])
def test_bad_calendar_filters_are_named_never_a_500(client: Client, bank: Bank, live: LiveBook, query: dict) -> None:
    # when
    response = login(client, bank.lead).get(reverse("postloan:calendar"), query)
    # then
    assert response.status_code == 200
    assert response.context["calendar"] is None
    assert response.context["filter"].errors


def test_a_unit_outside_the_scope_is_no_choice(client: Client, bank: Bank, live: LiveBook) -> None:
    # when
    response = login(client, bank.lead).get(reverse("postloan:calendar"), {"unit": bank.branch2.pk})
    # then
    assert set(response.context["filter"].errors) == {"unit"}
    assert "HT-LIVE-CAROL" not in response.content.decode()


# --- the overdue list ------------------------------------------------------------------------------------------------


def test_the_overdue_list_shows_dpd_penalty_classification_contact_and_promise(
    client: Client, bank: Bank, live: LiveBook
) -> None:
    # given
    LoanContract.objects.filter(pk=live.overdue.pk).update(proposed_classification=Classification.SPECIAL_MENTION)
    collection_log(
        live.overdue, bank.alice, contacted_on=live.today, promise_date=live.today, promise_amount=Decimal("5000")
    )
    # when
    response = login(client, bank.alice).get(reverse("postloan:overdue"))
    # then
    html = response.content.decode()
    [loan] = response.context["page_obj"].object_list
    assert loan.contract_no == "HT-LIVE-OVERDUE"
    assert f">{live.overdue.days_past_due}<" in html
    assert money(live.overdue.penalty_unpaid) in html and live.overdue.penalty_unpaid > 0
    assert money(live.overdue.overdue_principal) in html
    assert "Special mention?" in html
    assert f"{live.today:%Y-%m-%d} · 5,000.00" in html
    assert response.context["totals"].loans == 1
    assert "HT-LIVE-CAROL" not in html


def test_htmx_gets_only_the_table_and_the_order_follows_the_sort(client: Client, bank: Bank, live: LiveBook) -> None:
    # when
    response = login(client, bank.risk).get(reverse("postloan:overdue"), {"sort": "customer"}, **HTMX)
    # then
    html = response.content.decode()
    assert "<html" not in html
    assert [loan.contract_no for loan in response.context["page_obj"].object_list] == [
        "HT-LIVE-CAROL",  # 宁波港务 sorts before 西湖电子 by code point
        "HT-LIVE-OVERDUE",
    ]


@pytest.mark.parametrize("page", ["postloan:overdue", "postloan:calendar", "postloan:portfolio"])
def test_the_collection_pages_say_which_end_of_day_their_figures_are_as_of(
    client: Client, bank: Bank, live: LiveBook, page: str
) -> None:
    # given: no end-of-day run yet, then one for yesterday (recorded as the runner records it)
    user = bank.lead if page == "postloan:portfolio" else bank.alice
    browser = login(client, user, "en")
    before = browser.get(reverse(page)).content.decode()
    yesterday = live.today - timedelta(days=1)
    record_last_end_of_day(yesterday)
    # when
    after = browser.get(reverse(page)).content.decode()
    # then
    assert "The end-of-day batch has not run yet" in before
    assert (
        f"Days past due, penalty interest and proposed classifications are as of the end of day of "
        f"{yesterday.isoformat()}." in after
    )


def test_a_bad_overdue_filter_is_named(client: Client, bank: Bank, live: LiveBook) -> None:
    response = login(client, bank.alice).get(reverse("postloan:overdue"), {"band": "forever", "sort": "random"})
    assert response.status_code == 200
    assert set(response.context["filter"].errors) == {"band", "sort"}
    assert response.context["page_obj"] is None


def read_xlsx(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode()


def test_the_overdue_list_exports_with_its_filters_and_is_on_the_audit_trail(
    client: Client, bank: Bank, live: LiveBook
) -> None:
    # when
    response = login(client, bank.risk).get(reverse("postloan:overdue_export"), {"unit": bank.branch1.pk})
    # then
    assert response.status_code == 200
    sheet = read_xlsx(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert "HT-LIVE-OVERDUE" in sheet and "HT-LIVE-CAROL" not in sheet
    assert f"{live.overdue.penalty_unpaid:.2f}" in sheet
    [event] = AuditEvent.objects.filter(action="loan.overdue_export")
    assert (event.actor_id, event.changes["rows"]) == (bank.risk.pk, 1)


def test_an_rm_exports_only_their_own_overdue_loans(client: Client, bank: Bank, live: LiveBook) -> None:
    response = login(client, bank.carol).get(reverse("postloan:overdue_export"))
    sheet = read_xlsx(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert "HT-LIVE-CAROL" in sheet and "HT-LIVE-OVERDUE" not in sheet


# --- the classification queue ----------------------------------------------------------------------------------------


@pytest.fixture
def proposals(live: LiveBook) -> LiveBook:
    LoanContract.objects.filter(pk__in=[live.overdue.pk, live.carols.pk]).update(
        proposed_classification=Classification.SPECIAL_MENTION
    )
    return live


@pytest.mark.parametrize("persona", ["alice", "lead", "head", "auditor"])
def test_the_queue_is_the_risk_officers_only(client: Client, bank: Bank, proposals: LiveBook, persona: str) -> None:
    # when
    response = login(client, getattr(bank, persona)).post(
        reverse("postloan:queue"), {"loans": [f"{proposals.overdue.pk}:2"], "reason": "理由"}
    )
    # then
    assert response.status_code == 404
    assert ClassificationDecision.objects.count() == 0


def test_the_risk_officer_confirms_ticked_proposals_with_one_reason(
    client: Client, bank: Bank, proposals: LiveBook
) -> None:
    # given
    page = login(client, bank.risk).get(reverse("postloan:queue"))
    assert [loan.contract_no for loan in page.context["page_obj"].object_list] == ["HT-LIVE-OVERDUE", "HT-LIVE-CAROL"]
    # when
    response = client.post(
        reverse("postloan:queue"), {"loans": [f"{proposals.overdue.pk}:2"], "reason": "逾期未超90天，列关注"}
    )
    # then
    assert response.status_code == 302
    loan = LoanContract.objects.get(pk=proposals.overdue.pk)
    assert (loan.classification, loan.proposed_classification) == (2, None)
    assert LoanContract.objects.get(pk=proposals.carols.pk).proposed_classification == 2
    followed = client.get(response["Location"])
    assert "1 classification confirmed." in followed.content.decode()
    assert [row.contract_no for row in followed.context["page_obj"].object_list] == ["HT-LIVE-CAROL"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"reason": "理由"}, "Select at least one loan."),
        ({"loans": ["1:2"], "reason": ""}, "This field is required."),
    ],
)
def test_a_confirmation_without_loans_or_reason_is_refused(
    client: Client, bank: Bank, proposals: LiveBook, data: dict, message: str
) -> None:
    response = login(client, bank.risk).post(reverse("postloan:queue"), data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ClassificationDecision.objects.count() == 0


def test_a_proposal_changed_meanwhile_is_reported_and_nothing_confirmed(
    client: Client, bank: Bank, proposals: LiveBook
) -> None:
    # given
    LoanContract.objects.filter(pk=proposals.carols.pk).update(proposed_classification=Classification.SUBSTANDARD)
    # when
    response = login(client, bank.risk).post(
        reverse("postloan:queue"),
        {"loans": [f"{proposals.overdue.pk}:2", f"{proposals.carols.pk}:2"], "reason": "批量"},
    )
    # then
    assert response.status_code == 200
    assert "The proposal changed since you opened the list (HT-LIVE-CAROL)" in response.content.decode()
    assert ClassificationDecision.objects.count() == 0


def test_a_confirmation_of_a_loan_that_does_not_exist_is_404(client: Client, bank: Bank, proposals: LiveBook) -> None:
    response = login(client, bank.risk).post(reverse("postloan:queue"), {"loans": ["999999:2"], "reason": "理由"})
    assert response.status_code == 404


# --- portfolio quality -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_lead_sees_portfolio_quality_with_its_charts(
    client: Client, bank: Bank, live: LiveBook, language: str
) -> None:
    # given
    LoanContract.objects.filter(pk=live.overdue.pk).update(classification=Classification.SUBSTANDARD)
    last_month = (live.today.replace(day=1) - date.resolution).replace(day=1)
    before = (last_month - date.resolution).replace(day=1)
    snapshot(live.overdue, before)
    snapshot(live.overdue, last_month, Classification.SUBSTANDARD)
    # when
    response = login(client, bank.lead, language).get(reverse("postloan:portfolio"))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    quality = response.context["quality"]
    expected = portfolio_quality(bank.lead)
    assert (quality.total.loans, quality.total.outstanding, quality.total.npl_ratio) == (
        expected.total.loans,
        expected.total.outstanding,
        expected.total.npl_ratio,
    )
    assert quality.total.loans == 2
    assert f"{quality.total.npl_ratio:.2f}%" in html
    assert money(quality.total.outstanding) in html
    assert 'id="quality-chart-data"' in html and "postloan/portfolio.js" in html
    assert "<script>" not in html
    assert response.context["chart"]["months"] == [before.strftime("%Y-%m"), last_month.strftime("%Y-%m")]
    assert quality.migration.cell(1, 3).loans == 1
    assert 'id="migration-table"' in html


def test_a_risk_officer_picks_a_unit_for_portfolio_quality(client: Client, bank: Bank, live: LiveBook) -> None:
    first = login(client, bank.risk).get(reverse("postloan:portfolio"))
    chosen = client.get(reverse("postloan:portfolio"), {"unit": bank.branch2.pk})
    assert first.context["choose_unit"] is True
    assert chosen.context["quality"].total.loans == 1


def test_a_branch_head_sees_each_team(client: Client, bank: Bank, live: LiveBook) -> None:
    response = login(client, bank.head).get(reverse("postloan:portfolio"))
    assert [row.name for row in response.context["quality"].rms] == ["Alice"]
    assert response.context["quality"].total.loans == 2


def test_an_rm_sees_their_own_books_quality(client: Client, bank: Bank, live: LiveBook) -> None:
    response = login(client, bank.carol).get(reverse("postloan:portfolio"))
    assert response.context["quality"].total.loans == 1
    assert response.context["own_book"] is True


def test_the_pages_agree_with_the_overdue_query(client: Client, bank: Bank, live: LiveBook) -> None:
    response = login(client, bank.head).get(reverse("postloan:overdue"))
    assert [loan.pk for loan in response.context["page_obj"].object_list] == list(
        overdue_loans(bank.head).values_list("pk", flat=True)
    )


def test_a_long_section_lists_200_lines_and_counts_the_rest_in_its_totals() -> None:
    # given
    line = DueLine(1, "HT-1", "CNY", 1, "客户", 1, "RM", date(2026, 3, 20), *[Decimal("1.00")] * 4, 0)
    lines = [line] * 201
    # when
    with translation.override("en"):
        html = render_to_string(
            "postloan/partials/due_table.html",
            {"lines": lines, "totals": DueTotals.of(lines), "overdue_section": False, "own_book": True},
        )
    # then
    assert html.count('class="due-line"') == 200
    assert "1 more line: narrow the view to a unit or an RM to list it" in html
    assert "804.00" in html  # 201 × 4.00
