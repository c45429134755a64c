"""Collecting interest and principal 收息收贷 in a real browser, as issue 6's "done when" walks it: an RM opens her
collection calendar from the menu and sees what falls due this week and what is overdue; she opens the overdue loan
and finds its penalty to the fen, then logs a call with the customer's promise to pay. The risk officer confirms the
batch's proposed classification from his queue; the team lead sees the portfolio's quality with its charts.

The pages are found by address, form action and element id, not by their words, which translation changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from rmdesk.loans.choices import Classification
from rmdesk.loans.models import LoanContract
from rmdesk.web.templatetags.rmdesk_tags import money
from tests.browser.conftest import PASSWORD, BrowserBank, Session
from tests.postloan.factories import days_back_to_a_plain_day, due_on, overdue_loan, snapshot

PROMISE = "财务总监承诺周五前归还逾期本息"


@dataclass
class Loans:
    overdue: LoanContract  # 华兴科技's, past due with penalty, the batch proposing 关注
    due: LoanContract  # 西湖电子's, an instalment due today


@pytest.fixture
def loans(browser_bank: BrowserBank) -> Loans:
    """Made before Chromium starts (see tests/browser/conftest.py)."""
    today = timezone.localdate()
    overdue = overdue_loan(
        browser_bank.huaxing, as_of=today, days=days_back_to_a_plain_day(today, 40), contract_no="HT-HX-0001"
    )
    LoanContract.objects.filter(pk=overdue.pk).update(proposed_classification=Classification.SPECIAL_MENTION)
    due = due_on(browser_bank.xihu, today, as_of=today, contract_no="HT-XH-0002")
    # Two month ends, so the lead's page has a migration and a trend to draw.
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    before = (last_month - timedelta(days=1)).replace(day=1)
    snapshot(overdue, before)
    snapshot(overdue, last_month, Classification.SPECIAL_MENTION, overdue_principal=overdue.overdue_principal)
    snapshot(due, last_month)
    overdue.refresh_from_db()
    return Loans(overdue=overdue, due=due)


def log_in_through_the_form(page: Page, session: Session, username: str) -> None:
    page.context.clear_cookies()
    page.goto(session.url(reverse("login")))
    form = page.locator(f"form[action='{reverse('login')}']")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(session.url(reverse("home")))


def test_an_rm_collects_and_the_risk_officer_and_the_lead_follow(
    loans: Loans, session: Session, browser_bank: BrowserBank
) -> None:
    page = session.page
    today = timezone.localdate()
    overdue = loans.overdue

    # --- the RM's calendar, from the menu --------------------------------------------------------------------------
    session.log_in_as(browser_bank.alice)
    page.goto(session.url(reverse("home")))
    page.locator(f"header .dropdown-toggle[href='{reverse('postloan:calendar')}']").click()
    page.locator(f"header .dropdown-menu a[href='{reverse('postloan:calendar')}']").click()
    expect(page).to_have_url(session.url(reverse("postloan:calendar")))
    week = page.locator("#calendar-week")
    expect(week.locator(".due-line[data-contract='HT-XH-0002']")).to_have_count(1)
    expect(week).to_contain_text(today.strftime("%Y-%m-%d"))
    overdue_section = page.locator("#calendar-overdue")
    expect(overdue_section.locator(".due-line[data-contract='HT-HX-0001']")).to_have_count(2)
    expect(page.locator(f"#calendar-grid td[data-day='{today:%Y-%m-%d}'] .badge")).to_have_text("1")
    session.shot("01-calendar")

    # --- the overdue loan and its penalty to the fen ----------------------------------------------------------------
    overdue_section.locator(f"a[href='{reverse('postloan:detail', args=[overdue.pk])}']").first.click()
    expect(page).to_have_url(session.url(reverse("postloan:detail", args=[overdue.pk])))
    expect(page.locator("#loan-penalty")).to_have_text(money(overdue.penalty_unpaid))
    expect(page.locator("#penalty-unpaid")).to_have_text(money(overdue.penalty_unpaid))
    expect(page.locator("#penalty .accrual")).to_have_count(4)
    expect(page.locator("#schedule .instalment[data-status='overdue']")).to_have_count(2)
    session.shot("02-loan-penalty")

    # --- a call, with a promise to pay ------------------------------------------------------------------------------
    form = page.locator("#collection-form")
    expect(form.locator("input[name=contacted_on]")).to_have_value(today.isoformat())
    form.locator("select[name=channel]").select_option("phone")
    form.locator("input[name=contact_person]").fill("王芳")
    form.locator("textarea[name=result]").fill(PROMISE)
    form.locator("input[name=promise_date]").fill((today + timedelta(days=5)).isoformat())
    form.locator("input[name=promise_amount]").fill("207863.38")
    session.shot("03-collection-form")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(session.url(reverse("postloan:detail", args=[overdue.pk]) + "#collection"))
    row = page.locator("#collection .collection-log")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(PROMISE)
    expect(row).to_contain_text("207,863.38")
    session.shot("04-collection-logged")
    page.set_viewport_size({"width": 390, "height": 844})
    session.shot("05-loan-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # --- the risk officer confirms the proposal ---------------------------------------------------------------------
    log_in_through_the_form(page, session, "risk")
    page.goto(session.url(reverse("postloan:queue")))
    queue_row = page.locator("#queue-table .queue-row[data-contract='HT-HX-0001']")
    expect(queue_row).to_have_count(1)
    queue_row.locator("input[name=loans]").check()
    page.locator("#confirm-proposals textarea[name=reason]").fill("逾期未超90天，列关注类")
    session.shot("06-queue")
    page.locator("#confirm-proposals button[type=submit]").click()
    expect(page.locator("#messages .alert-success")).to_have_count(1)
    expect(page.locator("#queue-table")).to_have_count(0)
    session.shot("07-confirmed")
    page.goto(session.url(reverse("postloan:detail", args=[overdue.pk])))
    expect(page.locator("#classification .classification-decision")).to_have_count(1)
    expect(page.locator("#loan-proposal")).to_have_count(0)

    # --- the team lead's portfolio quality --------------------------------------------------------------------------
    log_in_through_the_form(page, session, "lead")
    page.goto(session.url(reverse("postloan:portfolio")))
    expect(page.locator("#quality-loans")).to_have_text("2")
    expect(page.locator("#quality-npl-ratio")).to_have_text("0.00%")  # 关注 is not non-performing
    expect(page.locator("#migration-table")).to_be_visible()
    for kind in ("classes", "ratios", "stack", "rms"):
        expect(page.locator(f"[data-quality-chart='{kind}'] canvas")).to_have_count(1)
    session.shot("08-portfolio")
    session.assert_no_page_problems()
