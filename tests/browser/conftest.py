"""Browser tests: the real pages in Debian's headless Chromium, driven by Playwright against a live server.

No browser is ever downloaded (`playwright install` is never run): Playwright drives the system Chromium at
/usr/bin/chromium (or $RMDESK_CHROMIUM). Without it the tests skip, saying so; with RMDESK_REQUIRE_BROWSER=1 (set by
.ci/run) they fail instead, so a broken Chromium install cannot pass CI by skipping.

Every step saves a screenshot to test-artifacts/browser/<test>-<step>.png, and a failing test also saves
<test>-failure.png of the page as it stood.

A test talks to the application only through the browser. While Playwright's sync API runs, its asyncio loop is marked
as running in this thread, and Django refuses the ORM there (SynchronousOnlyOperation) — or, told to allow it, opens a
second connection that the test database's teardown never closes. So the bank and the log-in sessions are made before
Chromium starts (`browser_bank`), and a test checks what was saved on the pages, as the user would.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import ConsoleMessage, Page, Response, sync_playwright

from rmdesk.customers import services
from rmdesk.customers.models import Customer
from rmdesk.org.models import User
from tests.audit_trigger import set_audit_triggers
from tests.personas import build_bank, credit_code

CHROMIUM = Path(os.environ.get("RMDESK_CHROMIUM") or "/usr/bin/chromium")
REQUIRE_BROWSER = os.environ.get("RMDESK_REQUIRE_BROWSER", "") == "1"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "correct horse battery"  # every persona's (tests/personas.py)

# The bank runs offline: no GPU, no QUIC, and none of Chromium's own calls home (without the background-networking
# flags it keeps trying update, sync and field-trial servers and floods the log with refused connections).
# --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LEAKED_TEMPLATE_SYNTAX = re.compile(r"\{[#%{].*?(?:[#%}]\}|$)", re.DOTALL)
TIMEOUT_MS = 10_000  # a missing element fails in seconds, not Playwright's default 30 s


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything in tests/browser is marked `browser` (`pytest -m browser`, `pytest -m "not browser"`)."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


# --- the audit trigger and the flush ------------------------------------------------------------------------------
#
# The live server answers from another thread, so these tests cannot run inside a rolled-back transaction: pytest-django
# gives them `transactional_db`, which empties every table afterwards with `flush` — on PostgreSQL a TRUNCATE. But on
# PostgreSQL audit_auditevent is append-only (audit migration 0003): its trigger refuses TRUNCATE, so the flush would
# fail and leave the test database full for every test after it. Production keeps the trigger; only here, in the test
# database the session created and destroys, is it switched off for the flush and straight back on, so the other
# tests (including those proving the trigger refuses DELETE and TRUNCATE) see it as migrated. SQLite has no trigger.
#
# Browser tests get their database through `browser_bank` (or `live_server`), which ask for `transactional_db` — this
# override. `@pytest.mark.django_db(transaction=True)` would bypass it, and fail the flush on PostgreSQL.


@pytest.fixture
def transactional_db(audit_trigger_back_on: None, transactional_db: None) -> Iterator[None]:
    """pytest-django's transactional_db (which the live server pulls in), with the audit trigger off for its flush."""
    yield
    set_audit_triggers(enabled=False)


# --- the bank -----------------------------------------------------------------------------------------------------


@dataclass
class BrowserBank:
    alice: User  # RM, team 1, branch 1 (Hangzhou)
    carol: User  # RM, team 3, branch 2 (Ningbo): none of alice's customers are hers, nor hers alice's
    huaxing: Customer  # alice's: 华兴科技有限公司, pinyin initials hxkj; two years of statements (a chart)
    xihu: Customer  # alice's
    ningbo_port: Customer  # carol's
    session_keys: dict[str, str]  # username → a logged-in session, for tests that do not test the login form


@pytest.fixture
def browser_bank(transactional_db: None) -> BrowserBank:
    bank = build_bank()

    def open_file(rm: User, name: str) -> Customer:
        return services.create_customer(
            actor=rm, data={"name": name, "credit_code": credit_code(), "status": "customer"}
        )

    def session_key(user: User) -> str:
        client = Client()
        client.force_login(user)
        return client.cookies[settings.SESSION_COOKIE_NAME].value

    huaxing = open_file(bank.alice, "华兴科技有限公司")
    for year, revenue, profit in ((2023, "86000000", "5200000"), (2024, "97500000", "6100000")):
        figures = {"revenue": revenue, "net_profit": profit, "operating_cash_flow": profit}
        figures |= {"total_assets": "150000000", "total_liabilities": "90000000"}
        data = {"year": year, **{name: Decimal(value) for name, value in figures.items()}}
        services.add_financial_statement(actor=bank.alice, customer_id=huaxing.pk, data=data)
    return BrowserBank(
        alice=bank.alice,
        carol=bank.carol,
        huaxing=huaxing,
        xihu=open_file(bank.alice, "西湖电子有限公司"),
        ningbo_port=open_file(bank.carol, "宁波港务有限公司"),
        session_keys={user.username: session_key(user) for user in (bank.alice, bank.carol)},
    )


# --- Chromium ---------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        reason = f"Chromium not installed at {CHROMIUM}"
        if REQUIRE_BROWSER:
            pytest.fail(f"{reason}, and RMDESK_REQUIRE_BROWSER=1 asks for the browser tests", pytrace=False)
        pytest.skip(reason)
    return CHROMIUM


@dataclass
class PageWatch:
    """What the pages complained about: console errors (Chromium reports CSP violations there, and CSP_LISTENER
    reports each once more), uncaught exceptions and HTTP error responses."""

    problems: list[str] = field(default_factory=list)
    allowed_404: set[str] = field(default_factory=set)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        url = message.location.get("url", "")
        if url in self.allowed_404 and "404" in message.text:
            return
        self.problems.append(f"console error at {url or '?'}: {message.text}")

    def on_page_error(self, error: Exception) -> None:
        self.problems.append(f"uncaught exception: {error}")

    def on_response(self, response: Response) -> None:
        if response.status >= 400 and not (response.status == 404 and response.url in self.allowed_404):
            self.problems.append(f"HTTP {response.status} for {response.url}")


# Reports every Content-Security-Policy violation to the console, where PageWatch collects it. Playwright's init scripts
# are not subject to the page's CSP, so this needs no exception to it.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline code"}`);
});
"""


@dataclass
class Session:
    """One test's browser tab on the live server, and where its screenshots go."""

    page: Page
    base_url: str
    name: str
    bank: BrowserBank
    watch: PageWatch

    def url(self, path: str) -> str:
        return self.base_url + path

    def shot(self, step: str) -> Path:
        """Save this step's screenshot, and note any template syntax the page shows as text (a multi-line {# #}
        comment, an unclosed tag): the user would see it, the HTML checks of the other tests would not."""
        path = ARTIFACTS / f"{self.name}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        text = self.page.locator("body").inner_text()
        for match in LEAKED_TEMPLATE_SYNTAX.finditer(text):
            self.watch.problems.append(f"step {step}: template syntax shown on the page: {match.group(0)[:80]!r}")
        return path

    def log_in_as(self, user: User) -> None:
        """Skip the login form (test_log_in_through_the_form covers it): hand the browser a session cookie."""
        cookie = {"name": settings.SESSION_COOKIE_NAME, "value": self.bank.session_keys[user.username]}
        self.page.context.add_cookies([{**cookie, "url": self.base_url, "httpOnly": True}])

    def expect_404(self, url: str) -> None:
        """This address answering 404 is the point of the test, not a problem of the page."""
        self.watch.allowed_404.add(url)

    def assert_no_page_problems(self) -> None:
        assert self.watch.problems == [], "\n".join(self.watch.problems)


_phase_reports = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    item.stash.setdefault(_phase_reports, {})[report.when] = report
    return report


@pytest.fixture
def session(
    browser_bank: BrowserBank, chromium_path: Path, live_server: Any, request: pytest.FixtureRequest
) -> Iterator[Session]:
    """A fresh Chromium (about 0.7 s) and tab per test; the bank is made first — see the module docstring."""
    name = request.node.name
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob(f"{name}-*.png"):
        stale.unlink()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(chromium_path), args=CHROMIUM_ARGS)
        # A Chinese bank's browser: Accept-Language zh-CN (Django serves zh-hans), Beijing time, a desktop screen.
        context = chromium.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script(CSP_LISTENER)
        watch = PageWatch()
        page = context.new_page()
        page.on("console", watch.on_console)
        page.on("pageerror", watch.on_page_error)
        page.on("response", watch.on_response)
        yield Session(page=page, base_url=live_server.url, name=name, bank=browser_bank, watch=watch)
        call = request.node.stash.get(_phase_reports, {}).get("call")
        if call is not None and call.failed:
            page.screenshot(path=str(ARTIFACTS / f"{name}-failure.png"), full_page=True)
        # Closed before the flush: no request may still be in flight when the tables are emptied.
        context.close()
        chromium.close()
