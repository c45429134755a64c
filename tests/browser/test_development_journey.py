"""Customer development in a real browser, as issue 4's "done when" walks it: an RM sees a firm that guarantees one of
her customers suggested as a prospect, with the link that explains it; accepts it into her team's pool and claims it;
rates one scorecard item and sees the score move; walks it through 接触 → 拜访 → 方案 → 开户/签约 (the won step refusing
to go without the account or contract) until it is a real customer (现实客户) on its 360° page; then her team lead logs
in, finds it counted in the funnel with its chart drawn, and reads the page in English.

The pages are found by address, form action and field name, not by their words, which the translation of these pages
changes; where a label is checked, it is the label the app's catalogue gives in the user's language (read here under
the same language), or, once the user has switched to English, the English words themselves.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import Locator, Page, expect

from rmdesk.customers import services
from rmdesk.customers.choices import LifecycleStatus
from rmdesk.customers.models import Relationship
from rmdesk.development.choices import Source, Stage
from rmdesk.development.models import PoolRule, Scorecard
from rmdesk.development.suggestions import explain_link
from tests.browser.conftest import PASSWORD, BrowserBank, Session
from tests.personas import credit_code

GUARANTOR = "钱江融资担保有限公司"
GUARANTEED = Decimal("32000000")  # 3,200 万元
CHINESE = "zh-hans"  # the language Chromium's zh-CN asks for
RATED = 2  # 竞争优势: a characteristic no data decides, so the RM rates it
RATED_WEIGHT = Decimal(8)  # its weight on the default scorecard (development migration 0002), out of 100
RATING, TOP_RATING = 5, 5
EVIDENCE = "基本存款账户 33050161234500000001"


@dataclass
class Guarantee:
    """What the journey starts from: alice's customer 华兴科技, guaranteed by a firm that is no customer of the bank."""

    relationship: Relationship
    guarantor_code: str
    explanation: str  # the suggestion's reason, in Chinese, as the page should show it


@pytest.fixture
def guarantee(browser_bank: BrowserBank) -> Guarantee:
    """Made before Chromium starts (see conftest): request it before `session`."""
    # The default scorecard is data of a migration; an earlier browser test's flush may have emptied its tables.
    if not Scorecard.objects.exists():
        migration = importlib.import_module("rmdesk.development.migrations.0002_default_scorecard")
        migration.create_default_scorecard(apps, None)
    # Alice's team claims without the team lead's approval.
    team = browser_bank.alice.unit
    assert team is not None
    PoolRule.objects.create(unit=team, approval_required=False, contact_days=10)
    code = credit_code()
    relationship = services.add_relationship(
        actor=browser_bank.alice,
        customer_id=browser_bank.huaxing.pk,
        data={
            "kind": "guarantee",
            "direction": "inward",  # the firm guarantees our customer's borrowing
            "counterparty_name": GUARANTOR,
            "counterparty_credit_code": code,
            "amount": GUARANTEED,
        },
    )
    with translation.override(CHINESE):
        explanation = explain_link(
            kind="guarantee",
            direction="inward",
            customer_name=browser_bank.huaxing.name,
            amount=GUARANTEED,
            share_pct=None,
            controller_name="",
        )
    return Guarantee(relationship=relationship, guarantor_code=code, explanation=explanation)


def chinese(label: object) -> str:
    """A label as the app shows it to a Chinese browser (the same catalogue the live server reads)."""
    with translation.override(CHINESE):
        return str(label)


def log_in_through_the_form(page: Page, session: Session, username: str) -> None:
    page.goto(session.url(reverse("login")))
    login = page.locator(f"form[action='{reverse('login')}']")
    login.locator("input[name=username]").fill(username)
    login.locator("input[name=password]").fill(PASSWORD)
    login.locator("button[type=submit]").click()
    expect(page).to_have_url(session.url(reverse("home")))


def open_user_menu(page: Page) -> Locator:
    page.locator("#user-menu [data-bs-toggle=dropdown]").click()
    menu = page.locator("#user-menu .dropdown-menu")
    expect(menu).to_be_visible()
    return menu


def development_tab(page: Page, name: str) -> None:
    """Follow the development pages' own tabs to one of them."""
    page.locator(f".nav-tabs a[href='{reverse(name)}']").click()
    expect(page).to_have_url(re.compile(re.escape(reverse(name)) + r"$"))


def move_form(panel: Locator, stage: Stage) -> Locator:
    offered = panel.page.locator(f"input[name=to_stage][value={stage}]")
    return panel.locator(".rm-stage-actions form").filter(has=offered)


def test_a_guarantor_becomes_a_customer_and_the_lead_sees_it_in_the_funnel(
    guarantee: Guarantee, session: Session, browser_bank: BrowserBank
) -> None:
    page = session.page
    huaxing = browser_bank.huaxing

    # --- the RM logs in and asks who to call next ------------------------------------------------------------
    log_in_through_the_form(page, session, browser_bank.alice.username)
    page.locator(f"header a[href='{reverse('development:board')}']").click()
    expect(page).to_have_url(session.url(reverse("development:board")))
    development_tab(page, "development:suggestions")
    suggestion = page.locator(f"#suggestion-{guarantee.relationship.pk}")
    # the guarantor, its code, and the link that explains it: 华兴科技's guarantor, for 3,200 万元
    expect(suggestion).to_contain_text(GUARANTOR)
    expect(suggestion).to_contain_text(guarantee.guarantor_code)
    explanation = suggestion.locator("li")
    expect(explanation).to_have_text([guarantee.explanation])
    expect(explanation).to_contain_text(huaxing.name)
    expect(explanation).to_contain_text("3,200")
    session.shot("01-suggestions")

    # --- accepted into the pool: the suggestion goes, the pool has it -----------------------------------------
    accept = suggestion.locator(f"form[action='{reverse('development:accept_suggestion')}']")
    accept.locator("button[type=submit]:not([name])").click()  # into the pool ("accept and claim" is name=claim)
    expect(page).to_have_url(session.url(reverse("development:suggestions")))
    expect(page.locator("#messages .alert-success")).to_contain_text(GUARANTOR)
    expect(page.locator(f"#suggestion-{guarantee.relationship.pk}")).to_have_count(0)
    session.shot("02-accepted")

    development_tab(page, "development:pool")
    row = page.locator("tr[id^='pool-']").filter(has_text=GUARANTOR)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(f"{Source.GUARANTORS.value}. {chinese(Source.GUARANTORS.label)}")
    session.shot("03-pool")

    # --- claimed at once (the team's rule needs no approval) ---------------------------------------------------
    row.locator("form[action$='/claim/'] button[type=submit]").click()
    expect(page).to_have_url(session.url(reverse("development:pool")))
    expect(page.locator("#messages .alert-success")).to_contain_text(GUARANTOR)
    expect(page.locator("tr[id^='pool-']").filter(has_text=GUARANTOR)).to_have_count(0)
    expect(page.locator("#my-claims")).to_have_count(0)  # no application waiting for the team lead
    session.shot("04-claimed")

    # --- from her board to the firm's 360° page, and its development file -------------------------------------
    development_tab(page, "development:board")
    page.locator("#pipeline-results").get_by_role("link", name=GUARANTOR).click()
    expect(page).to_have_url(re.compile(r"/customers/\d+/$"))
    customer_url = page.url
    panel = page.locator("#prospect-panel")
    open_file = panel.locator(".card-header a[href^='/development/prospects/']")
    expect(open_file).to_be_visible()  # the panel htmx loaded into the 360° page
    expect(page.locator("#prospect-panel.card:not(.htmx-settling)")).to_be_visible()  # its own attributes settled
    session.shot("05-360-prospect")
    open_file.click()
    expect(page).to_have_url(re.compile(r"/development/prospects/\d+/$"))
    prospect_url = page.url
    customer_pk = int(re.findall(r"\d+", prospect_url)[-1])
    assert customer_url == session.url(reverse("customers:detail", args=[customer_pk]))
    panel = page.locator("#prospect-panel")
    expect(panel.locator("dl .badge.bg-blue-lt")).to_have_text(chinese(Stage.IDENTIFIED.label))
    expect(panel).to_contain_text(huaxing.name)  # the referring customer
    session.shot("06-prospect")

    # --- the RM rates one item with a reason, and the score moves ---------------------------------------------
    total = panel.locator("#score-total")
    expect(total).to_have_text(re.compile(r"^\d+(\.\d+)?$"))
    before = Decimal(total.inner_text())
    item = panel.locator(f"#score-item-{RATED}")
    item.locator("summary").click()
    rating = item.locator("form input[name=rating]")
    expect(rating).to_be_visible()
    rating.fill(str(RATING))
    item.locator("form [name=reason]").fill("细分行业前三，自有专利十余项")
    session.shot("07-rating")
    item.locator("form button[type=submit]").click()
    expect(page).to_have_url(prospect_url)
    expect(page.locator("#messages .alert-success")).to_have_count(1)
    expect(item).to_contain_text("细分行业前三，自有专利十余项")
    expect(item.locator("td").nth(1)).to_have_text(f"{RATING} / {TOP_RATING}")
    expect(total).not_to_have_text(str(before))
    assert Decimal(total.inner_text()) - before == RATED_WEIGHT * RATING / TOP_RATING
    session.shot("08-rated")

    # --- 接触 → 拜访 → 方案 --------------------------------------------------------------------------------------
    history = panel.locator("#stage-history li")
    expect(history).to_have_count(1)
    previous = Stage.IDENTIFIED
    for n, stage in enumerate((Stage.CONTACTED, Stage.VISITED, Stage.PROPOSAL), start=2):
        move_form(panel, stage).locator("button[type=submit]").click()
        expect(page).to_have_url(prospect_url)
        expect(panel.locator("dl .badge.bg-blue-lt")).to_have_text(chinese(stage.label))
        expect(history).to_have_count(n)
        expect(history.last).to_contain_text(f"{chinese(previous.label)} → {chinese(stage.label)}")
        expect(move_form(panel, stage)).to_have_count(0)  # forward only
        session.shot(f"09-{n - 1}-{stage}")
        previous = stage

    # --- 开户/签约: not without the account or the contract -----------------------------------------------------
    won = panel.locator(".rm-stage-actions details").filter(has=page.locator("input[name=to_stage][value=won]"))
    won.locator("summary").click()
    evidence = won.locator("input[name=won_evidence]")
    expect(evidence).to_be_visible()
    # left empty, the browser holds the form back at the field
    won.locator("button[type=submit]").click()
    expect(page).to_have_url(prospect_url)
    assert evidence.evaluate("field => field.validity.valueMissing") is True
    # blanks get past the browser, not past the server: the move page, the error beside the field
    evidence.fill("   ")
    won.locator("button[type=submit]").click()
    expect(page).to_have_url(session.url(reverse("development:move", args=[customer_pk])))
    field = page.locator("#id_won_evidence")
    expect(field).to_have_class(re.compile(r"\bis-invalid\b"))
    with translation.override(CHINESE):
        missing = translation.gettext("Give the account number opened or the signed product or contract reference.")
    expect(page.locator(".invalid-feedback")).to_have_text([missing])
    expect(page.locator("#id_to_stage")).to_have_value(Stage.WON)
    session.shot("10-won-needs-evidence")
    # given, it goes through
    field.fill(EVIDENCE)
    page.locator("form.card button[type=submit]").click()
    expect(page).to_have_url(prospect_url)
    expect(panel.locator("dl .badge.bg-blue-lt")).to_have_text(chinese(Stage.WON.label))
    expect(panel).to_contain_text(EVIDENCE)
    expect(history).to_have_count(5)
    expect(panel.locator(".rm-stage-actions")).to_have_count(0)  # the pipeline is closed
    session.shot("11-won")

    # --- a real customer (现实客户) on its 360° page -------------------------------------------------------------
    page.locator(f".page-pretitle a[href='{reverse('customers:detail', args=[customer_pk])}']").click()
    expect(page).to_have_url(customer_url)
    real = chinese(LifecycleStatus.CUSTOMER.label)
    assert "现实" in real, real
    expect(page.locator(".rm-heading-badges .badge").first).to_have_text(real)
    expect(page.locator("#prospect-panel.card:not(.htmx-settling)")).to_contain_text(EVIDENCE)  # the file, kept
    session.shot("12-customer-360")

    # --- she logs out ------------------------------------------------------------------------------------------
    open_user_menu(page).locator(f"form[action='{reverse('logout')}'] button[type=submit]").click()
    expect(page).to_have_url(re.compile(re.escape(reverse("login")) + r"$"))
    page.goto(session.url(reverse("development:board")))
    expect(page).to_have_url(re.compile(re.escape(reverse("login")) + r"\?next="))

    # --- her team lead finds it in the funnel -----------------------------------------------------------------
    log_in_through_the_form(page, session, "lead")  # tests/personas.py: team lead of alice's team
    page.locator(f"header a[href='{reverse('development:board')}']").click()
    development_tab(page, "development:funnel")
    figures = page.locator(".row-cards .card-sm .h2")
    expect(figures).to_have_count(5)
    expect(figures.nth(0)).to_have_text("1")  # found
    expect(figures.nth(1)).to_have_text("1")  # won
    expect(figures.nth(2)).to_have_text("100.0%")  # overall conversion
    expect(figures.nth(3)).to_have_text("0")  # dropped
    stages = page.locator("table").first.locator("tbody tr")
    expect(stages).to_have_count(5)  # 识别, 接触, 拜访, 方案, 开户/签约: reached once each
    for n, stage in enumerate((*(Stage.IDENTIFIED, Stage.CONTACTED, Stage.VISITED, Stage.PROPOSAL), Stage.WON)):
        expect(stages.nth(n).locator("td").nth(0)).to_have_text(chinese(stage.label))
        expect(stages.nth(n).locator("td").nth(1)).to_have_text("1")
    guarantors = page.locator("tbody tr").filter(has=page.locator("td", has_text=re.compile(r"^11\. ")))
    expect(guarantors.locator("td")).to_have_text([re.compile(r"^11\. "), "1", "1", "100.0%"])
    by_rm = page.locator("tbody tr").filter(has=page.locator("td", has_text=browser_bank.alice.display_name))
    expect(by_rm.locator("td")).to_have_text([browser_bank.alice.display_name, "1", "1", "1", "1", "1", "100.0%"])
    chart = page.locator(".rm-chart[data-dev-chart=funnel][data-chart-ready]")
    expect(chart.locator("canvas, svg").first).to_be_visible()
    session.shot("13-funnel")

    # --- the same page in English ------------------------------------------------------------------------------
    open_user_menu(page).locator("button[name=language][value=en]").click()
    expect(page).to_have_url(session.url(reverse("development:funnel")))
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".page-title")).to_have_text("Development funnel")
    expect(page.locator(".nav-tabs .nav-link.active")).to_have_text("Funnel")
    expect(page.get_by_role("heading", name="By stage")).to_be_visible()
    expect(page.get_by_role("heading", name="By source")).to_be_visible()
    expect(page.get_by_text("Overall conversion")).to_be_visible()
    expect(stages.nth(4).locator("td").nth(0)).to_have_text("Won (account opened or contract signed)")
    expect(chart.locator("canvas, svg").first).to_be_visible()  # drawn again after the reload
    session.shot("14-funnel-english")
    session.assert_no_page_problems()
