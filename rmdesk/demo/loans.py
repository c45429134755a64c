"""The demo bank's loans: contracts on about one customer in five, their schedules, what was paid, what is overdue,
the collection calls, the classification history and the month-end snapshots.

About a quarter of the current customers (现实客户) borrow, some of them twice or three times: a million-customer bank
holds about 200,000 loans and 7 million instalments. Products, terms, repayment methods and amounts follow the
product and the firm's size (loan_words.py); rates are fixed, or the 1-year or over-5-year LPR plus a spread, repriced
on each anniversary or each 1 January from the LPR history the database holds, exactly as the loan services reprice
them. Loans were drawn over the past three years and most are mid-life; a few matured and were repaid. Schedules come
from the vectorised kernel (`loans.schedule_fen`) at the rate of the first drawdown; for a floating loan repriced since,
the periods from each new rate on are recomputed on the same arrays as the exact reference does with rate changes
(`_Repricing`; the demo tests compare every loan's schedule with the loan services').

State is as of the business date `LoanPlan.as_of` (the day before today when the builder runs today's end-of-day
batch afterwards): instalments due by then were paid on their due date, except on about 3% of the loans, overdue by
a realistic spread of days (many a few weeks, some months, a few over a year), some with a part paid, with penalty
and compound interest in segments as the batch accrues them, collection calls with promises to pay kept, broken or
open, and the classification a risk officer confirmed as the days past due grew (some proposals still waiting). About
1% were late once and caught up, paying the penalty; a risk officer may have upgraded them again since. Twelve
month-ends of classification snapshots give the migration matrix its history. Repayments with their allocations are
kept for the last month of every loan and the last year of the late and overdue ones, not for all history.

The named RMs (org.NAMED_USERS) get a week to show (SHOWCASE): instalments due in one, three and seven days, an overdue
loan with penalty and a promise to pay that is broken (its date is yesterday), a non-performing loan in the lead's
team and a proposal waiting for the risk officer.

Rows are made a chunk of customers at a time in the book maker's process (pipeline.py), from the chunk's own random
stream; contracts, drawdowns, instalments, repayments and collection calls are numbered here so rows can point at each
other. The instalments and snapshots of loans paid on time, most of the rows, travel as integer columns
(rmdesk.demo.columns). The tasks the batch would have opened on past days (reminders, loans newly overdue, promises
broken) are made too, in its words and keys; today's are left to the batch.
"""

from __future__ import annotations

import enum
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from rmdesk.batch import runner
from rmdesk.batch.models import JobRun, RunStatus
from rmdesk.core.workdays import WorkingDays
from rmdesk.customers.choices import Direction, KeyPersonRole, LifecycleStatus, RelationshipKind
from rmdesk.demo.columns import (
    Columns,
    ColumnSpec,
    Expression,
    Sql,
    amount_of,
    column,
    concat,
    date_of,
    flag_of,
    rate_of,
    sql,
)
from rmdesk.demo.customers import CUSTOMER_FIELDS, KEY_PERSON_FIELDS
from rmdesk.demo.links import RELATIONSHIP_FIELDS
from rmdesk.demo.loan_words import (
    AMOUNT_WAN,
    CHANNELS,
    DOWNGRADE_REASONS,
    GUARANTEES,
    PRODUCT_TERMS,
    PRODUCTS,
    RESULT_PAID,
    RESULTS_NO_PROMISE,
    RESULTS_PROMISE,
    SPREADS_BP,
    UPGRADE_REASON,
)
from rmdesk.demo.org import Rm
from rmdesk.demo.vocabulary import FEN_PER_WAN, pick, skewed
from rmdesk.demo.writer import Row
from rmdesk.loans import penalty, rates
from rmdesk.loans.choices import (
    AccrualKind,
    Classification,
    Component,
    Currency,
    GuaranteeMethod,
    InstalmentStatus,
    LoanProduct,
    LoanStatus,
    RateKind,
    RepaymentMethod,
    RepaymentSource,
    RepricingRule,
    ScheduleSource,
)
from rmdesk.loans.models import Instalment, LprRate
from rmdesk.loans.schedule import Method, RateChange, add_months, maturity_date
from rmdesk.loans.schedule_fen import METHOD_CODES, build_schedules
from rmdesk.postloan.choices import PromiseStatus
from rmdesk.postloan.jobs.reminders import CONTRACT_SOURCE, INSTALMENT_SOURCE, PROMISE_SOURCE
from rmdesk.postloan.models import ClassificationSnapshot
from rmdesk.tasks.choices import Priority, TaskKind, TaskStatus

# The order of the values in each kind of row.
CONTRACT_FIELDS = ("id", "customer_id", "contract_no", "product", "currency", "amount", "term_months",
                   "repayment_method", "interest_day", "rate_kind", "fixed_rate_pct", "lpr_spread_bp",
                   "repricing_rule", "current_rate_pct", "next_repricing_on", "guarantee_method", "purpose",
                   "primary_rm_id", "start_date", "maturity_date", "status", "closed_on", "schedule_source",
                   "outstanding_principal", "overdue_principal", "overdue_interest", "penalty_unpaid", "overpayment",
                   "days_past_due", "overdue_since", "next_due_date", "classification", "proposed_classification",
                   "classified_on", "classified_by_id", "created_at", "updated_at", "version",
                   "archived_at")  # fmt: skip
GUARANTOR_FIELDS = ("contract_id", "relationship_id", "name", "credit_code", "amount")
DRAWDOWN_FIELDS = ("id", "contract_id", "number", "drawn_on", "amount", "months", "external_ref")
INSTALMENT_FIELDS = ("id", "contract_id", "drawdown_id", "customer_id", "number", "scheduled_date", "due_date",
                     "due_date_provisional", "rate_pct", "principal_due", "interest_due", "principal_paid",
                     "interest_paid", "status", "paid_on", "overdue_since", "accrued_through", "penalty_accrued",
                     "compound_accrued", "penalty_paid", "compound_paid")  # fmt: skip
SEGMENT_FIELDS = ("instalment_id", "kind", "start_date", "end_date", "base", "annual_rate_pct", "amount")
REPAYMENT_FIELDS = ("id", "contract_id", "customer_id", "paid_on", "amount", "source", "external_ref", "unallocated",
                    "note", "created_at", "updated_at")  # fmt: skip
ALLOCATION_FIELDS = ("repayment_id", "instalment_id", "component", "amount")
COLLECTION_FIELDS = ("id", "contract_id", "customer_id", "contacted_on", "channel", "contact_person", "result",
                     "promise_date", "promise_amount", "promise_status", "created_by_id", "created_at",
                     "updated_at")  # fmt: skip
DECISION_FIELDS = ("contract_id", "customer_id", "decided_on", "previous", "proposed", "decided", "days_past_due",
                   "reason", "decided_by_id", "decided_at")  # fmt: skip
SNAPSHOT_FIELDS = ("month", "contract_id", "customer_id", "classification", "outstanding_principal",
                   "overdue_principal")  # fmt: skip


BORROWER_SHARE = 0.24  # of current customers: they have a loan (1.2 on average): 0.2 loans a customer in all
MORE_LOANS = ((0.83, 1), (0.97, 2), (1.0, 3))  # cumulative shares of borrowers with one, two, three loans
CLOSED_SHARE = 0.05  # matured and repaid (of the loans of up to two years: about 2.5% of all)
CURED_SHARE = 0.01  # were late once, then paid everything with the penalty
OVERDUE_SHARE = 0.03
# Days past due of the overdue loans (as of today): many a few weeks, some months, fewer a year, a few beyond. The
# instalment missed is the one due nearest the target, so the days drift up by up to a period: 1–30 is drawn more.
DPD_BANDS = ((0.60, 1, 30), (0.80, 31, 90), (0.90, 91, 270), (0.94, 271, 360), (1.0, 361, 720))
LATE_DAYS = (3, 45)  # how late a cured loan's instalment was paid
PARTIAL_SHARE = 0.3  # of overdue loans: a part was paid after the promise of a collection call
HISTORY_YEARS = 3  # loans were drawn over the past three years
SNAPSHOT_MONTHS = 12
RECENT_DAYS = 35  # repayments kept for every loan: the last month or so
LATE_HISTORY_DAYS = 366  # and for late and overdue loans: the last year
CONFIRM_DAYS = (2, 20)  # how long the risk officer takes to confirm a proposal
UPGRADE_DAYS = (90, 240)  # after a late loan caught up, until the risk officer upgrades it again
FLOATING_SHARE = 0.45
LONG_TERM_MONTHS = 60  # longer loans float on the over-5-year LPR
USD_SHARE = 0.1  # of trade finance
YUAN_PER_USD = 7
CENTS = tuple(f"{cents:02d}" for cents in range(100))
ZERO_TEXT = "0.00"
DAY = timedelta(days=1)

M = RepaymentMethod
CUSTOMER = LifecycleStatus.CUSTOMER.value
C_ID, C_NAME, C_SIZE, C_STATUS, C_RM, C_LEGAL = (CUSTOMER_FIELDS.index(name) for name in (
    "id", "name", "size", "status", "primary_rm_id", "legal_representative"))  # fmt: skip
R_CUSTOMER, R_KIND, R_DIRECTION, R_ID, R_NAME, R_CODE, R_AMOUNT = (RELATIONSHIP_FIELDS.index(name) for name in (
    "customer_id", "kind", "direction", "id", "counterparty_name", "counterparty_credit_code", "amount"))  # fmt: skip
K_CUSTOMER, K_ROLE, K_NAME, K_TITLE = (KEY_PERSON_FIELDS.index(name) for name in (
    "customer_id", "role", "name", "title"))  # fmt: skip
GUARANTORS_INWARD = (Direction.INWARD.value, Direction.MUTUAL.value)  # the counterparty guarantees the customer
CONTACT_ROLES = (KeyPersonRole.FINANCE_HEAD.value, KeyPersonRole.LEGAL_REPRESENTATIVE.value)
PAID, DUE, OVERDUE, SCHEDULED = (InstalmentStatus.PAID.value, InstalmentStatus.DUE.value,
                                 InstalmentStatus.OVERDUE.value, InstalmentStatus.SCHEDULED.value)  # fmt: skip
PENALTY, COMPOUND = AccrualKind.PENALTY.value, AccrualKind.COMPOUND.value
NORMAL, SPECIAL_MENTION = Classification.NORMAL.value, Classification.SPECIAL_MENTION.value
SUBSTANDARD, DOUBTFUL, LOSS = Classification.SUBSTANDARD.value, Classification.DOUBTFUL.value, Classification.LOSS.value


def _paid(then: Callable[[Sql], str], otherwise: str = "0") -> Expression:
    return lambda sql: f"CASE WHEN paid <> 0 THEN {then(sql)} ELSE {otherwise} END"


# The instalments of loans paid on time (most of them) come as integer columns; the database makes the rest
# (rmdesk.demo.columns): paid means paid in full on the due date, and such an instalment never owed penalty.
INSTALMENTS = ColumnSpec(
    Instalment,
    (
        "id",
        "contract",
        "drawdown",
        "customer",
        "number",
        "scheduled",
        "due",
        "provisional",
        "rate",
        "principal",
        "interest",
        "paid",
    ),
    {
        "id": column("id"),
        "contract_id": column("contract"),
        "drawdown_id": column("drawdown"),
        "customer_id": column("customer"),
        "number": column("number"),
        "scheduled_date": date_of("scheduled"),
        "due_date": date_of("due"),
        "due_date_provisional": flag_of("provisional"),
        "rate_pct": rate_of("rate"),
        "principal_due": amount_of("principal"),
        "interest_due": amount_of("interest"),
        "fee_due": sql(lambda sql: "0"),
        "principal_paid": _paid(lambda sql: sql.amount("principal")),
        "interest_paid": _paid(lambda sql: sql.amount("interest")),
        "fee_paid": sql(lambda sql: "0"),
        "penalty_accrued": sql(lambda sql: "0"),
        "compound_accrued": sql(lambda sql: "0"),
        "penalty_paid": sql(lambda sql: "0"),
        "compound_paid": sql(lambda sql: "0"),
        "accrued_through": sql(lambda sql: "NULL"),
        "status": _paid(lambda sql: f"'{PAID}'", f"'{SCHEDULED}'"),
        "overdue_since": sql(lambda sql: "NULL"),
        "paid_on": _paid(lambda sql: sql.date("due"), "NULL"),
    },
)
SNAPSHOTS = ColumnSpec(
    ClassificationSnapshot,
    ("month", "contract", "customer", "classification", "outstanding", "overdue"),
    {
        "month": date_of("month"),
        "contract_id": column("contract"),
        "customer_id": column("customer"),
        "classification": column("classification"),
        "outstanding_principal": amount_of("outstanding"),
        "overdue_principal": amount_of("overdue"),
    },
)


class Fate(enum.Enum):
    """What became of a loan by the business date."""

    PERFORMING = "paid every instalment on its due date"
    CLOSED = "matured and repaid"
    CURED = "late once, then paid everything with the penalty"
    OVERDUE = "stopped paying"


class Show(enum.Enum):
    """What a named RM's loan is made to show, in the order they are handed out."""

    DUE_1 = 1  # an instalment due tomorrow (the next working day from there)
    DUE_3 = 3
    DUE_7 = 7
    OVERDUE = "about forty days overdue, penalty and compound accruing, a promise to pay broken yesterday"
    NPL = "about five months overdue, confirmed substandard"
    PROPOSAL = "just past ninety days overdue: substandard proposed, still special mention"


# The lead's team (rm_zhang, rm_li) holds non-performing loans; every named RM has a proposal or an NPL for the risk
# officer. The most telling first: a small bank's named RMs have only a few current customers.
# The batch's titles (postloan.jobs.reminders), in the bank's language (translated in LoanBook.chunk).
_DUE = gettext_noop("Instalment due in %(days)s day(s): %(name)s, loan %(contract)s, %(amount)s on %(due)s")
_OVERDUE = gettext_noop("Loan %(contract)s of %(name)s is overdue since %(since)s: %(amount)s unpaid")
_BROKEN = gettext_noop(
    "Promise to pay broken: %(name)s promised %(amount)s on loan %(contract)s by %(date)s, repaid %(repaid)s"
)
RECENT_TASK_DAYS = 14  # tasks opened this recently are still open (an RM closes the older ones)

SHOWCASE: dict[str, tuple[Show, ...]] = {
    "rm_zhang": (Show.DUE_1, Show.OVERDUE, Show.DUE_3, Show.NPL, Show.DUE_7, Show.PROPOSAL),
    "rm_li": (Show.DUE_1, Show.OVERDUE, Show.DUE_3, Show.NPL, Show.DUE_7),
    "rm_wang": (Show.DUE_1, Show.OVERDUE, Show.DUE_3, Show.PROPOSAL, Show.DUE_7),
    "rm_zhao": (Show.DUE_1, Show.OVERDUE, Show.DUE_3, Show.PROPOSAL, Show.DUE_7),
}
SHOW_DAYS_PAST_DUE = {Show.OVERDUE: 40, Show.NPL: 150, Show.PROPOSAL: 95}


@dataclass(frozen=True)
class LoanPlan:
    """What the loan rows need besides the chunk: the dates, the bank's loan settings, who decides, where numbering
    starts."""

    seed: int
    today: date  # the demo's business date
    as_of: date  # the state is that of this day's end (today, or yesterday when the batch then runs today)
    roll: bool  # due dates roll to the next working day (settings.DUE_DATE_ROLL)
    zone: str
    text_times: bool  # SQLite takes timestamps as naive UTC text; PostgreSQL's COPY gets the same with "+00"
    stamp: Any  # created_at / updated_at, as the rest of the load writes them
    lpr: tuple[tuple[str, date, Decimal], ...]  # (tenor, published on, rate %) as the database holds them
    uplift_pct: int
    compound: bool
    allocation_order: tuple[str, ...]
    classify_days: tuple[int, int, int]  # substandard, doubtful, loss: more than this many days past due
    risk_officer: int  # who confirms classifications (the named risk officer)
    showcase: tuple[tuple[int, tuple[Show, ...]], ...]  # named RM's user id → what their loans show
    first_contract_id: int
    first_drawdown_id: int
    first_instalment_id: int
    first_repayment_id: int
    first_collection_id: int
    reminder_days: tuple[int, ...]  # settings.DUE_REMINDER_DAYS


def plan_loans(
    *,
    seed: int,
    today: date,
    rms: Sequence[Rm],
    risk_officer: int,
    stamp: Any,
    text_times: bool,
    first_ids: Sequence[int],
) -> LoanPlan:
    """The plan of a bank's loans as of yesterday's end of day (today's is the batch's to run), with the bank's
    settings and the LPR history the database holds. `first_ids`: contract, drawdown, instalment, repayment,
    collection record."""
    showcase = tuple((rm.user_id, SHOWCASE[rm.username]) for rm in rms if rm.named and rm.username in SHOWCASE)
    return LoanPlan(
        seed=seed,
        today=today,
        as_of=today - DAY,
        roll=settings.DUE_DATE_ROLL != "none",
        zone=settings.TIME_ZONE,
        text_times=text_times,
        stamp=stamp,
        lpr=tuple(LprRate.objects.order_by("tenor", "published_on").values_list("tenor", "published_on", "rate_pct")),
        uplift_pct=settings.PENALTY_UPLIFT_PCT,
        compound=settings.COMPOUND_ON_OVERDUE_INTEREST,
        allocation_order=tuple(settings.REPAYMENT_ALLOCATION_ORDER),
        classify_days=(
            settings.CLASSIFY_SUBSTANDARD_DAYS,
            settings.CLASSIFY_DOUBTFUL_DAYS,
            settings.CLASSIFY_LOSS_DAYS,
        ),
        risk_officer=risk_officer,
        showcase=showcase,
        first_contract_id=first_ids[0],
        first_drawdown_id=first_ids[1],
        first_instalment_id=first_ids[2],
        first_repayment_id=first_ids[3],
        first_collection_id=first_ids[4],
        reminder_days=tuple(settings.DUE_REMINDER_DAYS),
    )


def record_last_end_of_day(as_of: date) -> None:
    """Write the job ledger of the business date the loans' state is as of, as if its end-of-day had run: the next
    `rmdesk eod` is for the day after."""
    moment = timezone.now()
    JobRun.objects.bulk_create(
        JobRun(business_date=as_of, job=name, status=RunStatus.DONE, started_at=moment, finished_at=moment,
               counts={"loaded": 1})
        for name in runner.JOB_NAMES
    )  # fmt: skip


def run_end_of_day(*, today: date, report: Callable[[int, int], None]) -> dict[str, dict[str, int]]:
    """Run the end-of-day batch from the day after the loaded state through `today` (in this process), so that
    penalties, days past due, proposals and tasks of the demo's business date are the batch's own;
    `report(jobs done, jobs)` as it goes. Returns the counts of each job of the last date run."""
    dates = runner.plan(on=None, until=today, rerun=False, today=today)
    total, done = len(dates) * len(runner.JOBS), 0

    def line(text: str) -> None:
        nonlocal done
        done += 1
        report(done, total)

    report(0, total)
    results = runner.eod(on=None, until=today, today=today, launcher=runner.in_process, report=line)
    return results[max(results)] if results else {}


@dataclass
class LoanChunk:
    """The loan rows of one chunk's customers, table by table, each in its insert order."""

    contracts: list[Row] = field(default_factory=list)  # CONTRACT_FIELDS
    guarantors: list[Row] = field(default_factory=list)
    drawdowns: list[Row] = field(default_factory=list)
    instalment_columns: Columns = field(default_factory=dict)  # INSTALMENTS: paid on time, as integer columns
    full_instalments: list[Row] = field(default_factory=list)  # INSTALMENT_FIELDS: late and overdue loans' rows
    segments: list[Row] = field(default_factory=list)
    repayments: list[Row] = field(default_factory=list)
    allocations: list[Row] = field(default_factory=list)
    collection_logs: list[Row] = field(default_factory=list)
    decisions: list[Row] = field(default_factory=list)
    tasks: list[Row] = field(default_factory=list)  # customers.TASK_FIELDS: what the batch opened on past days
    snapshot_columns: Columns = field(default_factory=dict)  # SNAPSHOTS: of loans paid on time
    snapshots: list[Row] = field(default_factory=list)  # SNAPSHOT_FIELDS: of late and overdue loans

    @property
    def instalment_count(self) -> int:
        return len(self.full_instalments) + (len(self.instalment_columns["id"]) if self.instalment_columns else 0)

    @property
    def snapshot_count(self) -> int:
        return len(self.snapshots) + (len(self.snapshot_columns["contract"]) if self.snapshot_columns else 0)


@dataclass(slots=True)
class _Terms:
    """A contract's rate terms as rates.py reads them (the RateTerms protocol)."""

    rate_kind: str
    fixed_rate_pct: Decimal | None
    lpr_spread_bp: int | None
    repricing_rule: str
    start_date: date
    maturity_date: date


@dataclass(slots=True)
class _Loan:
    """One loan being made: its terms, its fate, and what became of it."""

    pk: int
    drawdown: int
    customer: int
    rm: int
    product: str
    method: str
    months: int
    amount: int  # fen
    currency: str
    terms: _Terms
    guarantee: str
    purpose: str
    fate: Fate
    days_past_due: int = 0  # the target, for an overdue loan (as of today)
    late_days: int = 0  # how late a cured loan paid
    show: Show | None = None
    initial_rate: Decimal = Decimal(0)
    changes: tuple[RateChange, ...] = ()
    current_rate: Decimal = Decimal(0)
    next_repricing: date | None = None
    guarantors: list[Row] = field(default_factory=list)
    contact: str = ""


class _Lpr:
    """The LPR in force on a day, from the history the plan carries (rates.lpr_on without the database)."""

    def __init__(self, history: Sequence[tuple[str, date, Decimal]]) -> None:
        self.days: dict[str, list[date]] = {}
        self.rates: dict[str, list[Decimal]] = {}
        for tenor, day, rate in sorted(history):
            self.days.setdefault(tenor, []).append(day)
            self.rates.setdefault(tenor, []).append(rate)

    def on(self, tenor: str, day: date) -> Decimal:
        index = bisect_right(self.days[tenor], day)
        if index == 0:
            raise rates.NoLprPublished(tenor, day)
        return self.rates[tenor][index - 1]

    def contract_rate_on(self, terms: _Terms, day: date) -> Decimal:
        if terms.rate_kind == RateKind.FIXED:
            assert terms.fixed_rate_pct is not None
            return terms.fixed_rate_pct
        assert terms.lpr_spread_bp is not None
        set_on = rates.last_repricing_on_or_before(terms, day)
        return rates.floating_rate(self.on(rates.tenor_of(terms), set_on), terms.lpr_spread_bp)


class _Texts:
    """Dates as the database's text form, made once per day and shared (the rows are pickled to the writer's
    process, which then sends each distinct string once)."""

    def __init__(self, first: date, days: int) -> None:
        self.first = first.toordinal()
        self.dates = [(first + timedelta(days=d)).isoformat() for d in range(days)]

    def date(self, ordinal: int) -> str:
        return self.dates[ordinal - self.first]


def yuan_text(fen: int) -> str:
    return f"{fen // 100}.{CENTS[fen % 100]}"


def rate_text(rate: Decimal) -> str:
    return f"{rate:.6f}"


def category(days_past_due: int, limits: tuple[int, int, int]) -> int:
    """The five-category classification days past due call for (domain.md §5)."""
    substandard, doubtful, loss = limits
    if days_past_due > loss:
        return LOSS
    if days_past_due > doubtful:
        return DOUBTFUL
    if days_past_due > substandard:
        return SUBSTANDARD
    return SPECIAL_MENTION if days_past_due > 0 else NORMAL


class LoanBook:
    """Makes the loan rows of the book's chunks, in order: ids and the named RMs' showcase run across chunks."""

    def __init__(self, plan: LoanPlan) -> None:
        self.plan = plan
        self.calendar = WorkingDays.from_chinese_calendar() if plan.roll else None
        self.lpr = _Lpr(plan.lpr)
        self.next_contract, self.next_drawdown = plan.first_contract_id, plan.first_drawdown_id
        self.next_instalment, self.next_repayment = plan.first_instalment_id, plan.first_repayment_id
        self.next_log = plan.first_collection_id
        self.names: dict[int, str] = {}
        with translation.override(settings.LANGUAGE_CODE):  # as the batch writes them: it has no reader
            self.titles = {message: gettext(message) for message in (_DUE, _OVERDUE, _BROKEN)}
        self.showcase = {rm: list(shows) for rm, shows in plan.showcase}
        self.named = set(self.showcase)
        # Dates from well before the oldest loan to after the longest one's maturity.
        first = plan.today - timedelta(days=366 * (HISTORY_YEARS + 4))
        self.texts = _Texts(first, 366 * (HISTORY_YEARS + 4 + 12))
        self.tz = ZoneInfo(plan.zone)
        self.rng = random.Random()
        self.month_ends = _month_ends(plan.as_of, SNAPSHOT_MONTHS)
        self.uplifted: dict[Decimal, int] = {}
        self.out = LoanChunk()

    def chunk(
        self, index: int, customers: Sequence[Row], relationships: Sequence[Row], key_persons: Sequence[Row]
    ) -> LoanChunk:
        """The loans of a chunk's current customers, with everything that hangs off them."""
        self.rng = random.Random(f"rmdesk-demo:{self.plan.seed}:loans:{index}")
        self.out = LoanChunk()
        guarantors: dict[int, list[Row]] = {}
        for row in relationships:
            if row[R_KIND] == RelationshipKind.GUARANTEE and row[R_DIRECTION] in GUARANTORS_INWARD:
                guarantors.setdefault(row[R_CUSTOMER], []).append(row)
        contacts: dict[int, str] = {}
        for row in key_persons:
            if row[K_ROLE] in CONTACT_ROLES and (row[K_ROLE] == CONTACT_ROLES[0] or row[K_CUSTOMER] not in contacts):
                contacts[row[K_CUSTOMER]] = f"{row[K_NAME]}（{row[K_TITLE]}）"[:50]
        loans: list[_Loan] = []
        self.names = {}
        for row in customers:
            if row[C_STATUS] != CUSTOMER or row[C_RM] is None:
                continue
            self.names[row[C_ID]] = row[C_NAME]
            queue = self.showcase.get(row[C_RM])
            if queue:
                # The first customer takes all but three of the showcase loans: a small bank's named RMs have only
                # a few current customers.
                take = max(1, len(queue) - 3)
                shows: list[Show | None] = list(queue[:take])
                del queue[:take]
            elif self.rng.random() < BORROWER_SHARE:
                roll = self.rng.random()
                shows = [None] * next(count for share, count in MORE_LOANS if roll < share)
            else:
                continue
            for show in shows:
                loan = self._loan(row, show, named=row[C_RM] in self.named)
                loan.guarantors = self._guarantors(loan, guarantors.get(loan.customer, ()), row[C_LEGAL])
                loan.contact = contacts.get(loan.customer, "")
                loans.append(loan)
        if loans:
            self._write(loans)
        return self.out

    # --- one loan's terms ------------------------------------------------------------------------------------------

    def _loan(self, customer: Row, show: Show | None, *, named: bool) -> _Loan:
        rng, random_ = self.rng, self.rng.random
        size = customer[C_SIZE]
        product = PRODUCTS.draw(rng) if show is None else LoanProduct.WORKING_CAPITAL.value
        kind = PRODUCT_TERMS[product]
        months = kind.terms.draw(rng) if show is None else 36
        method = kind.methods.draw(rng) if show is None else pick(rng, (M.ANNUITY.value, M.EQUAL_PRINCIPAL.value))
        if show is None and months <= 12 and random_() < 0.25 and product != LoanProduct.TRADE_FINANCE:
            method = M.BULLET.value
        amount = skewed(rng, *AMOUNT_WAN.get(size, AMOUNT_WAN["small"])) * FEN_PER_WAN
        currency = Currency.CNY.value
        if product == LoanProduct.TRADE_FINANCE and random_() < USD_SHARE and show is None:
            currency, amount = Currency.USD.value, amount // YUAN_PER_USD // FEN_PER_WAN * FEN_PER_WAN
        fate = Fate.PERFORMING
        days_past_due = late_days = 0
        if show in SHOW_DAYS_PAST_DUE:
            fate, days_past_due = Fate.OVERDUE, SHOW_DAYS_PAST_DUE[show]
        elif show is None and not named:
            roll = random_()
            if roll < OVERDUE_SHARE:
                fate = Fate.OVERDUE
                band = random_()
                low, high = next((low, high) for share, low, high in DPD_BANDS if band < share)
                days_past_due = low + int(random_() * (high - low + 1))
            elif roll < OVERDUE_SHARE + CURED_SHARE:
                fate, late_days = Fate.CURED, LATE_DAYS[0] + int(random_() * (LATE_DAYS[1] - LATE_DAYS[0] + 1))
            elif roll < OVERDUE_SHARE + CURED_SHARE + CLOSED_SHARE and months <= 24:
                fate = Fate.CLOSED
        start = self._start(fate, method, months, days_past_due, show)
        maturity = maturity_date(start, months)
        floating = random_() < FLOATING_SHARE or (months > LONG_TERM_MONTHS and random_() < 0.7)
        spread = SPREADS_BP.draw(rng)
        if floating and show is None:
            kind_of_rate = RateKind.LPR_5Y.value if months > LONG_TERM_MONTHS else RateKind.LPR_1Y.value
            rule = RepricingRule.ANNIVERSARY.value if random_() < 0.6 else RepricingRule.JANUARY_FIRST.value
            terms = _Terms(kind_of_rate, None, spread, rule, start, maturity)
        else:
            fixed = rates.floating_rate(self.lpr.on("1y", start), spread)
            terms = _Terms(RateKind.FIXED.value, fixed, None, "", start, maturity)
        guarantee = GUARANTEES.get(size, GUARANTEES["small"]).draw(rng)
        loan = _Loan(
            pk=self.next_contract,
            drawdown=self.next_drawdown,
            customer=customer[C_ID],
            rm=customer[C_RM],
            product=product,
            method=method,
            months=months,
            amount=amount,
            currency=currency,
            terms=terms,
            guarantee=guarantee,
            purpose=pick(rng, kind.purposes),
            fate=fate,
            days_past_due=days_past_due,
            late_days=late_days,
            show=show,
        )
        self.next_contract += 1
        self.next_drawdown += 1
        self._rates(loan)
        return loan

    def _start(self, fate: Fate, method: str, months: int, days_past_due: int, show: Show | None) -> date:
        """The drawdown date: mid-life for most loans; for an overdue one early enough that an instalment fell due
        about `days_past_due` days before today; so that a named RM's instalment falls due on the day shown."""
        random_, today, as_of = self.rng.random, self.plan.today, self.plan.as_of
        if show is not None:
            if isinstance(show.value, int):
                target = self._working_day_on_or_after(today + timedelta(days=show.value))
            else:
                target = self._working_day_on_or_before(today - timedelta(days=days_past_due))
            return _start_for_due(target, 8 + int(random_() * 10))
        term_days = (add_months(as_of, months) - as_of).days
        if fate is Fate.CLOSED:
            matured = as_of - timedelta(days=1 + int(random_() * 700))
            return add_months(matured, -months)
        if fate is Fate.OVERDUE:
            missed = today - timedelta(days=days_past_due)
            if method == M.BULLET:
                return add_months(missed, -months)
            gap = 92 if method == M.INTEREST_QUARTERLY else 31
            return missed - timedelta(days=gap + int(random_() * max(1, min(term_days, 1100) - gap)))
        if fate is Fate.CURED:
            missed = as_of - timedelta(days=60 + int(random_() * 300))
            if method == M.BULLET:  # a bullet loan paid late has matured: a closed loan that was late
                return add_months(missed, -months)
            return missed - timedelta(days=92 + int(random_() * max(1, min(term_days, 1100) - 92)))
        return as_of - timedelta(days=int(random_() * min(term_days - 2, 366 * HISTORY_YEARS)))

    def _working_day_on_or_after(self, day: date) -> date:
        return day if self.calendar is None else self.calendar.roll_forward(day)

    def _working_day_on_or_before(self, day: date) -> date:
        if self.calendar is not None:
            while not self.calendar.is_working_day(day):
                day -= DAY
        return day

    def _rates(self, loan: _Loan) -> None:
        """The rate at the first drawdown, its changes on the repricing dates through the business date (as the
        services' rate_history), the rate in force and the next repricing date."""
        terms, as_of = loan.terms, self.plan.as_of
        loan.initial_rate = self.lpr.contract_rate_on(terms, terms.start_date)
        current, changes = loan.initial_rate, []
        if terms.rate_kind != RateKind.FIXED:
            for day in rates.repricing_dates(terms, after=terms.start_date, through=as_of):
                rate = self.lpr.contract_rate_on(terms, day)
                if rate != current:
                    changes.append(RateChange(effective_from=day, annual_rate_pct=rate))
                    current = rate
            loan.next_repricing = rates.next_repricing_date(terms, max(as_of, terms.start_date))
        loan.changes, loan.current_rate = tuple(changes), current

    def _guarantors(self, loan: _Loan, links: Sequence[Row], legal_representative: str) -> list[Row]:
        """A guaranteed loan's guarantors: the firms guaranteeing the customer (its guarantee relationships), else
        the legal representative personally, for the whole amount."""
        if loan.guarantee != GuaranteeMethod.GUARANTEE:
            return []
        if links:
            chosen = [links[0]] if len(links) == 1 or self.rng.random() < 0.6 else list(links[:2])
            return [(loan.pk, row[R_ID], row[R_NAME], row[R_CODE], row[R_AMOUNT]) for row in chosen]
        return [(loan.pk, None, legal_representative, "", yuan_text(loan.amount))]

    # --- the rows ----------------------------------------------------------------------------------------------------

    def _write(self, loans: list[_Loan]) -> None:
        """Schedules, instalments, repayments, the late and overdue loans' histories, tasks, contracts and snapshots
        of the chunk's loans."""
        plan = self.plan
        schedules = self._schedules(loans)
        count = schedules.count
        first = schedules.first
        rows = int(count.sum())
        ids = np.arange(self.next_instalment, self.next_instalment + rows, dtype=np.int64)
        self.next_instalment += rows
        loan_of = np.repeat(np.arange(len(loans)), count)
        as_of = plan.as_of.toordinal()
        # Everyone paid on the due date; the late and overdue loans are settled one by one below.
        due = schedules.due
        paid = due <= as_of
        special = np.array([loan.fate in (Fate.CURED, Fate.OVERDUE) for loan in loans], dtype=np.bool_)
        common = ~special[loan_of]
        # Every loan has at least one instalment, so reduceat sums each loan's rows.
        outstanding = np.add.reduceat(np.where(paid, 0, schedules.principal), first)
        far = np.int64(date.max.toordinal())
        next_due = np.minimum.reduceat(np.where(paid, far, due), first)
        last_paid = np.maximum.reduceat(np.where(paid, due, 0), first)

        self._common_instalments(loans, schedules, ids, loan_of, common, paid)
        states: dict[int, _State] = {}
        for n in np.flatnonzero(special).tolist():
            rows_of = slice(int(first[n]), int(first[n] + count[n]))
            states[n] = self._settle(loans[n], schedules, rows_of, ids[rows_of])
        self._recent_repayments(loans, schedules, ids, loan_of, common)
        self._reminders(loans, schedules, ids, loan_of)
        for n, loan in enumerate(loans):
            state = states.get(n)
            if state is None:
                closed = next_due[n] == far
                state = _State(
                    outstanding=int(outstanding[n]),
                    next_due=None if closed else int(next_due[n]),
                    closed_on=int(last_paid[n]) if closed else None,
                )
            self._contract(loan, state)
        self._snapshots(loans, schedules, special, states)

    def _schedules(self, loans: list[_Loan]) -> _Schedules:
        """Every loan's schedule, in loan order: the kernel's at the first drawdown's rate, recomputed from each new
        rate on for the floating loans repriced since."""
        arrays = build_schedules(
            np.array([loan.amount for loan in loans], dtype=np.int64),
            np.array([penalty.to_rate_micro(loan.initial_rate) for loan in loans], dtype=np.int64),
            np.array([loan.months for loan in loans], dtype=np.int64),
            np.array([METHOD_CODES[Method(loan.method)] for loan in loans], dtype=np.int64),
            np.array([loan.terms.start_date.toordinal() for loan in loans], dtype=np.int64),
            calendar=self.calendar,
        )
        count = arrays.period_count.astype(np.int64)
        first = np.zeros(len(loans), dtype=np.int64)
        np.cumsum(count[:-1], out=first[1:])
        # The kernel's rows come grouped by method and length: put them in loan order.
        order = np.repeat(arrays.first_row - first, count) + np.arange(int(count.sum()))
        schedules = _Schedules(
            first=first,
            count=count,
            number=arrays.period[order].astype(np.int64),
            scheduled=arrays.scheduled[order].astype(np.int64),
            due=arrays.due[order].astype(np.int64),
            provisional=arrays.due_provisional[order],
            principal=arrays.principal[order],
            interest=arrays.interest[order],
            balance=arrays.balance[order],
            rate=np.repeat(np.array([penalty.to_rate_micro(loan.initial_rate) for loan in loans]), count),
        )
        repriced = [n for n, loan in enumerate(loans) if loan.changes]
        if repriced:
            _Repricing(loans, schedules, np.array(repriced, dtype=np.int64)).apply()
        return schedules

    def _common_instalments(
        self,
        loans: list[_Loan],
        schedules: _Schedules,
        ids: npt.NDArray[np.int64],
        loan_of: npt.NDArray[np.int64],
        common: npt.NDArray[np.bool_],
        paid: npt.NDArray[np.bool_],
    ) -> None:
        """The instalments of the loans that paid every instalment on its due date, as integer columns
        (INSTALMENTS): the database makes their dates, amounts and statuses."""
        rows = np.flatnonzero(common)
        if rows.size == 0:
            return
        owner = loan_of[rows]
        self.out.instalment_columns = {
            "id": ids[rows],
            "contract": np.array([loan.pk for loan in loans], dtype=np.int64)[owner],
            "drawdown": np.array([loan.drawdown for loan in loans], dtype=np.int64)[owner],
            "customer": np.array([loan.customer for loan in loans], dtype=np.int64)[owner],
            "number": schedules.number[rows],
            "scheduled": schedules.scheduled[rows],
            "due": schedules.due[rows],
            "provisional": schedules.provisional[rows].astype(np.int64),
            "rate": schedules.rate[rows],
            "principal": schedules.principal[rows],
            "interest": schedules.interest[rows],
            "paid": paid[rows].astype(np.int64),
        }

    def _recent_repayments(
        self,
        loans: list[_Loan],
        schedules: _Schedules,
        ids: npt.NDArray[np.int64],
        loan_of: npt.NDArray[np.int64],
        common: npt.NDArray[np.bool_],
    ) -> None:
        """A repayment from the core banking file for each instalment paid in the last month, allocated to its
        interest and principal."""
        as_of = self.plan.as_of.toordinal()
        due = schedules.due
        recent = np.flatnonzero(common & (due <= as_of) & (due > as_of - RECENT_DAYS))
        for row in recent.tolist():
            loan = loans[int(loan_of[row])]
            principal, interest = int(schedules.principal[row]), int(schedules.interest[row])
            allocations = [(Component.INTEREST.value, interest), (Component.PRINCIPAL.value, principal)]
            self._repayment(loan, int(due[row]), principal + interest, [(int(ids[row]), c, a) for c, a in allocations])

    def _repayment(self, loan: _Loan, day: int, amount: int, allocations: list[tuple[int, str, int]]) -> None:
        pk = self.next_repayment
        self.next_repayment += 1
        paid_on = self.texts.date(day)
        reference = f"CB{paid_on.replace('-', '')}{pk:09d}"
        self.out.repayments.append((pk, loan.pk, loan.customer, paid_on, yuan_text(amount),
                                    RepaymentSource.CORE_FEED.value, reference, ZERO_TEXT, "", self.plan.stamp,
                                    self.plan.stamp))  # fmt: skip
        self.out.allocations += [(pk, instalment, component, yuan_text(value))
                                 for instalment, component, value in allocations if value]  # fmt: skip

    # --- the late and overdue loans ----------------------------------------------------------------------------------

    def _penalty_micro(self, rate: Decimal) -> int:
        micro = self.uplifted.get(rate)
        if micro is None:
            micro = penalty.to_rate_micro(penalty.penalty_rate(rate, self.plan.uplift_pct))
            self.uplifted[rate] = micro
        return micro

    def _settle(self, loan: _Loan, schedules: _Schedules, rows: slice, ids: npt.NDArray[np.int64]) -> _State:
        """Play a late or overdue loan's history through the business date: payments on the due dates until the
        missed one, accrual in segments, the part paid after a promise or the late payment of everything, the
        collection calls and the classification decisions. Writes its instalments, segments, repayments, calls and
        decisions; returns its state as of the business date."""
        plan = self.plan
        as_of, today = plan.as_of.toordinal(), plan.today.toordinal()
        due = schedules.due[rows].tolist()
        account = _Account(
            due=due,
            principal=schedules.principal[rows].tolist(),
            interest=schedules.interest[rows].tolist(),
            order=plan.allocation_order,
            compound=plan.compound,
            rate_on=self._rate_timeline(loan),
        )
        # The instalment missed first: the one due nearest to `days_past_due` before today (a late loan's: one due
        # long enough ago to have been paid late and then on time since).
        if loan.fate is Fate.OVERDUE:
            target = today - loan.days_past_due
            candidates = [k for k, day in enumerate(due) if day <= as_of]
        else:
            candidates = [k for k, day in enumerate(due) if day + loan.late_days < as_of - 30]
            target = as_of - 60
        if not candidates:
            candidates = [0]
        missed = min(candidates, key=lambda k: (abs(due[k] - target), k))
        for k in range(missed):
            account.pay_on_time(k)
        payments: list[tuple[int, int]] = []  # (day, amount) of the unscheduled payments
        logs: list[_Log] = []
        if loan.fate is Fate.CURED:
            cured_on = min(due[missed] + loan.late_days, as_of)
            payments.append((cured_on, -1))  # everything owed on that day
        else:
            logs = self._calls(loan, due[missed] + 1, as_of)
            keeper = next((log for log in logs if log.keeps), None)
            if keeper is not None:
                payments.append((keeper.paid_on, keeper.share))
        cured = loan.fate is Fate.CURED
        account.play(first_overdue=due[missed] + 1, through=as_of, payments=payments, after_cure=cured)
        for log in logs:
            if log.keeps:
                # Promised what was then paid; a payment that came to nothing leaves a promise unkept.
                log.promise_amount = account.event_amounts.get(log.paid_on, 0)
                log.keeps = log.promise_amount > 0
        state = account.state(as_of)
        if due[missed] < as_of:
            since = due[missed] + 1  # the day it fell overdue: the batch told the RM then
            self._task(TaskKind.LOAN_OVERDUE, self.titles[_OVERDUE] % {
                "contract": _contract_no(loan), "name": self.names.get(loan.customer, ""),
                "since": self.texts.date(since), "amount": _money(account.principal[missed] + account.interest[missed]),
            }, loan, since, Priority.URGENT, CONTRACT_SOURCE, f"{loan.pk}:{self.texts.date(since)}",
                open_=loan.fate is Fate.OVERDUE)  # fmt: skip
        state.levels = self._decisions(loan, due[missed], account.cured_on)
        state.classification, state.classified_on = state.levels[-1] if state.levels else (NORMAL, None)
        worst = max(category(state.days_past_due, plan.classify_days), state.classification)
        state.proposed = worst if worst != state.classification else None
        self._full_instalments(loan, schedules, rows, ids, account)
        self._late_repayments(loan, ids, account)
        self._write_logs(loan, logs, account)
        state.history = account
        state.missed_due = due[missed]
        return state

    def _rate_timeline(self, loan: _Loan) -> _RateTimeline:
        """The penalty rate in force on each day: the contract rate raised by the uplift, changing on repricing."""
        days = [change.effective_from.toordinal() for change in loan.changes]
        micro = [self._penalty_micro(loan.initial_rate)]
        micro += [self._penalty_micro(change.annual_rate_pct) for change in loan.changes]
        return _RateTimeline(days, micro)

    def _calls(self, loan: _Loan, overdue_since: int, as_of: int) -> list[_Log]:
        """The collection calls on an overdue loan: a few days after it fell overdue, then every few weeks (at most
        six of them kept), with promises to pay; one of them kept by a payment in part, for some loans."""
        rng, random_ = self.rng, self.rng.random
        days: list[int] = []
        day = overdue_since + 1 + int(random_() * 5)
        while day <= as_of:
            days.append(day)
            day += 10 + int(random_() * 21)
        if len(days) > 6:
            days = [days[0], *days[-5:]]
        logs = [_Log(day, CHANNELS.draw(rng)) for day in days]
        if loan.show is Show.OVERDUE:
            # The showcase: an early promise broken, and the last one, for yesterday, not kept either.
            for log, promise in zip(logs, (7, None), strict=False):
                if promise is not None:
                    log.promise_on = log.day + promise
            if logs:
                logs[-1].promise_on = self.plan.today.toordinal() - 1
                logs[-1].day = min(logs[-1].day, logs[-1].promise_on - 2)
            return logs
        partial = loan.show is None and random_() < PARTIAL_SHARE
        for n, log in enumerate(logs):
            if partial and n < len(logs) - 1 and log.day + 8 < as_of and random_() < 0.5:
                log.keeps, partial = True, False
                log.paid_on = log.day + 1 + int(random_() * 4)
                log.promise_on = log.paid_on + int(random_() * 3)
                log.share = 30 + int(random_() * 50)
            elif random_() < 0.45:
                log.promise_on = log.day + 3 + int(random_() * 8)
        # A promise whose window holds the kept one's payment would count it: such a promise is no promise.
        for keeper in (log for log in logs if log.keeps):
            for log in logs:
                if log is not keeper and log.promise_on and log.day <= keeper.paid_on <= log.promise_on:
                    log.promise_on = 0
        return logs

    def _write_logs(self, loan: _Loan, logs: list[_Log], account: _Account) -> None:
        rng, as_of = self.rng, self.plan.as_of.toordinal()
        for log in logs:
            owed = account.overdue_at(log.day)
            status, promise_day, amount = PromiseStatus.NONE.value, None, None
            if log.keeps:
                result = pick(rng, RESULTS_PROMISE)
                status, promise_day = PromiseStatus.KEPT.value, log.promise_on
                amount = max(log.promise_amount, 100)
            elif log.promise_on:
                result = pick(rng, RESULTS_PROMISE)
                promise_day = log.promise_on
                # Promised: the overdue amount, rounded up to a thousand yuan.
                amount = max(100_000, (owed + 99_999) // 100_000 * 100_000)
                status = PromiseStatus.OPEN.value if log.promise_on >= as_of else PromiseStatus.BROKEN.value
            else:
                result = pick(rng, RESULTS_NO_PROMISE)
            if log.keeps:
                result += RESULT_PAID
            pk = self.next_log
            self.next_log += 1
            if status == PromiseStatus.BROKEN:
                assert promise_day is not None and amount is not None
                self._task(TaskKind.PROMISE_BROKEN, self.titles[_BROKEN] % {
                    "name": self.names.get(loan.customer, ""), "amount": _money(amount), "contract": _contract_no(loan),
                    "date": self.texts.date(promise_day), "repaid": _money(0),
                }, loan, promise_day + 1, Priority.URGENT, PROMISE_SOURCE, str(pk))  # fmt: skip
            self.out.collection_logs.append((pk, loan.pk, loan.customer, self.texts.date(log.day), log.channel,
                                             loan.contact or "财务负责人", result,
                                             self.texts.date(promise_day) if promise_day else None,
                                             yuan_text(amount) if amount else None, status, loan.rm,
                                             self._moment(log.day, 17), self._moment(log.day, 17)))  # fmt: skip

    def _task(
        self,
        kind: str,
        title: str,
        loan: _Loan,
        day: int,
        priority: int,
        source_type: str,
        source_id: str,
        *,
        open_: bool = True,
        due: int | None = None,
    ) -> None:
        """A task the end-of-day batch opened on `day` (postloan.jobs.reminders, in its words and keys): still open
        if it is recent and still called for, else done."""
        recent = day > self.plan.as_of.toordinal() - RECENT_TASK_DAYS
        status, completed = TaskStatus.OPEN.value, None
        if not (open_ and recent):
            status, completed = TaskStatus.DONE.value, self.plan.stamp
        self.out.tasks.append((kind, title[:200], loan.customer, loan.rm, self.texts.date(due or day), status, priority,
                               completed, self.plan.stamp, self.plan.stamp, source_type, source_id))  # fmt: skip

    def _reminders(
        self, loans: list[_Loan], schedules: _Schedules, ids: npt.NDArray[np.int64], loan_of: npt.NDArray[np.int64]
    ) -> None:
        """The reminders the batch opened on the past days for instalments falling due from today on: 7, 3 and 1
        days ahead (today's are the batch's to open when it runs)."""
        today = self.plan.today.toordinal()
        longest = max(self.plan.reminder_days, default=0)
        rows = np.flatnonzero((schedules.due >= today) & (schedules.due < today + longest))
        for row in rows.tolist():
            loan, due = loans[int(loan_of[row])], int(schedules.due[row])
            if loan.fate is Fate.CLOSED:
                continue
            for days in self.plan.reminder_days:
                made = due - days
                if made >= today or made < today - longest:
                    continue
                title = self.titles[_DUE] % {
                    "days": days, "name": self.names.get(loan.customer, ""), "contract": _contract_no(loan),
                    "amount": _money(int(schedules.principal[row] + schedules.interest[row])),
                    "due": self.texts.date(due),
                }  # fmt: skip
                priority = Priority.HIGH if days <= 1 else Priority.NORMAL
                self._task(TaskKind.INSTALMENT_DUE, title, loan, made, priority, INSTALMENT_SOURCE,
                           f"{int(ids[row])}:{days}", due=due)  # fmt: skip

    def _decisions(self, loan: _Loan, missed_due: int, cured_on: int | None) -> list[tuple[int, int]]:
        """The risk officer's confirmations as the days past due crossed each threshold (a few days after, unless
        the next threshold came first), and for a late loan that caught up, its upgrade months later. Returns the
        (classification, day) confirmed, in order."""
        plan, rng = self.plan, self.rng
        as_of = plan.as_of.toordinal()
        limits = plan.classify_days
        crossings = [(missed_due + 1, SPECIAL_MENTION)]
        crossings += [(missed_due + days + 1, level) for days, level in zip(limits, (SUBSTANDARD, DOUBTFUL, LOSS),
                                                                           strict=True)]  # fmt: skip
        end = as_of if cured_on is None else cured_on - 1
        crossings = [(day, level) for day, level in crossings if day <= end]
        confirmed: list[tuple[int, int]] = []
        previous = NORMAL
        for n, (day, level) in enumerate(crossings):
            lag = CONFIRM_DAYS[0] + int(rng.random() * (CONFIRM_DAYS[1] - CONFIRM_DAYS[0] + 1))
            if loan.show is Show.PROPOSAL and level == SUBSTANDARD:
                continue  # the showcase's proposal waits for the risk officer
            decided_on = day + lag
            if loan.show is not None:
                decided_on = day + 2
            if decided_on > end or (n + 1 < len(crossings) and decided_on >= crossings[n + 1][0]):
                continue
            days_past_due = decided_on - missed_due
            self._decision(loan, decided_on, previous, level, level, days_past_due, pick(rng, DOWNGRADE_REASONS))
            confirmed.append((level, decided_on))
            previous = level
        if cured_on is not None and previous != NORMAL:
            upgraded_on = cured_on + UPGRADE_DAYS[0] + int(rng.random() * (UPGRADE_DAYS[1] - UPGRADE_DAYS[0] + 1))
            if upgraded_on <= as_of:
                self._decision(loan, upgraded_on, previous, None, NORMAL, 0, UPGRADE_REASON)
                confirmed.append((NORMAL, upgraded_on))
        return confirmed

    def _decision(
        self, loan: _Loan, day: int, previous: int, proposed: int | None, decided: int, days_past_due: int, reason: str
    ) -> None:
        self.out.decisions.append((loan.pk, loan.customer, self.texts.date(day), previous, proposed, decided,
                                   days_past_due, reason, self.plan.risk_officer, self._moment(day, 10)))  # fmt: skip

    def _full_instalments(
        self, loan: _Loan, schedules: _Schedules, rows: slice, ids: npt.NDArray[np.int64], account: _Account
    ) -> None:
        texts, as_of = self.texts, self.plan.as_of.toordinal()
        date_of = texts.date
        for k in range(rows.stop - rows.start):
            row = rows.start + k
            instalment = int(ids[k])
            status = account.status(k, as_of)
            late = account.overdue_since(k, as_of)
            self.out.full_instalments.append((
                instalment, loan.pk, loan.drawdown, loan.customer, int(schedules.number[row]),
                date_of(int(schedules.scheduled[row])), date_of(account.due[k]), bool(schedules.provisional[row]),
                rate_text(Decimal(int(schedules.rate[row])).scaleb(-6)), yuan_text(account.principal[k]),
                yuan_text(account.interest[k]), yuan_text(account.principal_paid[k]),
                yuan_text(account.interest_paid[k]), status,
                date_of(account.paid_on[k]) if account.paid_on[k] else None,
                date_of(late) if late else None,
                date_of(account.accrued_through[k]) if account.accrued_through[k] else None,
                yuan_text(account.accrued(k, PENALTY)), yuan_text(account.accrued(k, COMPOUND)),
                yuan_text(account.penalty_paid[k]), yuan_text(account.compound_paid[k]),
            ))  # fmt: skip
            for kind, start, end, base, rate, amount in account.segments[k]:
                self.out.segments.append((instalment, kind, date_of(start), date_of(end), yuan_text(base),
                                          rate_text(Decimal(rate).scaleb(-6)), yuan_text(amount)))  # fmt: skip

    def _late_repayments(self, loan: _Loan, ids: npt.NDArray[np.int64], account: _Account) -> None:
        since = self.plan.as_of.toordinal() - LATE_HISTORY_DAYS
        for day, amount, allocations in account.payments:
            if day > since:
                paid = [(int(ids[k]), component, value) for k, component, value in allocations]
                self._repayment(loan, day, amount, paid)

    # --- contracts and snapshots ----------------------------------------------------------------------------------

    def _contract(self, loan: _Loan, state: _State) -> None:
        plan, texts, terms = self.plan, self.texts, loan.terms
        date_of = texts.date
        start, maturity = terms.start_date, terms.maturity_date
        status, closed_on = LoanStatus.ACTIVE.value, None
        next_repricing = loan.next_repricing
        if state.closed_on is not None:
            status, closed_on, next_repricing = LoanStatus.CLOSED.value, date_of(state.closed_on), None
        self.out.contracts.append((
            loan.pk, loan.customer, _contract_no(loan), loan.product, loan.currency,
            yuan_text(loan.amount), loan.months, loan.method, 20, terms.rate_kind,
            rate_text(terms.fixed_rate_pct) if terms.fixed_rate_pct is not None else None, terms.lpr_spread_bp,
            terms.repricing_rule, rate_text(loan.current_rate),
            next_repricing.isoformat() if next_repricing else None, loan.guarantee, loan.purpose, loan.rm,
            start.isoformat(), maturity.isoformat(), status, closed_on, ScheduleSource.RMDESK.value,
            yuan_text(state.outstanding), yuan_text(state.overdue_principal), yuan_text(state.overdue_interest),
            yuan_text(state.penalty_unpaid), ZERO_TEXT, state.days_past_due,
            date_of(state.overdue_since) if state.overdue_since else None,
            date_of(state.next_due) if state.next_due else None, state.classification, state.proposed,
            date_of(state.classified_on) if state.classified_on else None,
            plan.risk_officer if state.classified_on else None, plan.stamp, plan.stamp, 1, None,
        ))  # fmt: skip
        self.out.guarantors += loan.guarantors
        self.out.drawdowns.append((loan.drawdown, loan.pk, 1, start.isoformat(), yuan_text(loan.amount), loan.months,
                                   f"FK{start:%Y%m%d}{loan.drawdown:08d}"))  # fmt: skip

    def _snapshots(
        self, loans: list[_Loan], schedules: _Schedules, special: npt.NDArray[np.bool_], states: dict[int, _State]
    ) -> None:
        """A row per loan active at each of the last twelve month-ends: its classification then, its outstanding
        and overdue principal then. A loan paid on time has nothing overdue, is normal, and closed on its last due
        date."""
        starts = np.array([loan.terms.start_date.toordinal() for loan in loans], dtype=np.int64)
        contract_ids = np.array([loan.pk for loan in loans], dtype=np.int64)
        customer_ids = np.array([loan.customer for loan in loans], dtype=np.int64)
        amounts = np.array([loan.amount for loan in loans], dtype=np.int64)
        last_due = np.maximum.reduceat(schedules.due, schedules.first)
        common: list[Columns] = []
        for month_end in self.month_ends:
            month_first = date.fromordinal(month_end).replace(day=1).toordinal()
            month = self.texts.date(month_first)
            repaid = np.add.reduceat(np.where(schedules.due <= month_end, schedules.principal, 0), schedules.first)
            active = np.flatnonzero(~special & (starts <= month_end) & (last_due > month_end))
            common.append({
                "month": np.full(active.size, month_first, dtype=np.int64),
                "contract": contract_ids[active],
                "customer": customer_ids[active],
                "classification": np.full(active.size, NORMAL, dtype=np.int64),
                "outstanding": amounts[active] - repaid[active],
                "overdue": np.zeros(active.size, dtype=np.int64),
            })  # fmt: skip
            for n in np.flatnonzero(special & (starts <= month_end)).tolist():
                state, loan = states[n], loans[n]
                if state.closed_on is not None and state.closed_on <= month_end:
                    continue
                assert state.history is not None
                principal, overdue = state.history.principal_at(month_end)
                level = NORMAL
                for confirmed, day in state.levels:
                    if day <= month_end:
                        level = confirmed
                self.out.snapshots.append((month, loan.pk, loan.customer, level, yuan_text(principal),
                                           yuan_text(overdue)))  # fmt: skip
        self.out.snapshot_columns = concat(common)

    def _moment(self, day: int, hour: int) -> str:
        """Local `hour` o'clock of the day, as the database takes a timestamp."""
        moment = datetime.combine(date.fromordinal(day), time(hour), tzinfo=self.tz).astimezone(UTC)
        text = moment.strftime("%Y-%m-%d %H:%M:%S")
        return text if self.plan.text_times else text + "+00"


@dataclass
class _Schedules:
    """The chunk's schedules as flat arrays, each loan's rows together and in period order."""

    first: npt.NDArray[np.int64]  # per loan
    count: npt.NDArray[np.int64]
    number: npt.NDArray[np.int64]  # per row
    scheduled: npt.NDArray[np.int64]
    due: npt.NDArray[np.int64]
    provisional: npt.NDArray[np.bool_]
    principal: npt.NDArray[np.int64]
    interest: npt.NDArray[np.int64]
    balance: npt.NDArray[np.int64]  # after the period
    rate: npt.NDArray[np.int64]  # the period's rate, millionths of a percent


class _Repricing:
    """The schedules of floating loans repriced since their drawdown, as the reference computes them with its rate
    changes (loans.schedule), on the kernel's arrays: each period at the rate in force on its first day; an annuity's
    instalment recomputed on the balance left over the periods left from the first period at a new rate (a fresh
    annuity, which the kernel computes); equal principal keeps its principal, its interest on the balance at the
    period's rate; the actual-day methods split a period's days by rate, rounded once."""

    MONTHLY = 100 * 12 * 1_000_000  # fen × rate (millionths of a percent) / this = a month's interest in fen
    DAILY = 100 * 360 * 1_000_000

    def __init__(self, loans: list[_Loan], schedules: _Schedules, which: npt.NDArray[np.int64]) -> None:
        self.schedules = schedules
        count = schedules.count[which]
        first = schedules.first[which]
        self.rows = np.repeat(first - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
        self.owner = np.repeat(np.arange(which.size), count)
        self.is_first = np.zeros(self.rows.size, dtype=np.bool_)
        self.is_first[np.cumsum(count) - count] = True
        self.last_row = np.repeat(first + count - 1, count)
        chosen = [loans[int(n)] for n in which]
        self.method = np.array([METHOD_CODES[Method(loan.method)] for loan in chosen], dtype=np.int64)[self.owner]
        self.amount = np.array([loan.amount for loan in chosen], dtype=np.int64)[self.owner]
        most = max(len(loan.changes) for loan in chosen)
        far = date.max.toordinal()
        effective = np.full((which.size, most), far, dtype=np.int64)
        rate = np.zeros((which.size, most), dtype=np.int64)
        for n, loan in enumerate(chosen):
            for j, change in enumerate(loan.changes):
                effective[n, j] = change.effective_from.toordinal()
                rate[n, j] = penalty.to_rate_micro(change.annual_rate_pct)
        self.effective, self.new_rate = effective[self.owner], rate[self.owner]
        self.starts = np.array([loan.terms.start_date.toordinal() for loan in chosen], dtype=np.int64)

    def apply(self) -> None:
        schedules, rows = self.schedules, self.rows
        scheduled = schedules.scheduled[rows]
        first_day = np.empty_like(scheduled)
        first_day[1:] = scheduled[:-1]
        first_day[self.is_first] = self.starts
        rate = schedules.rate[rows].copy()  # the first drawdown's rate, then each change from its date on
        for j in range(self.effective.shape[1]):
            rate = np.where(first_day >= self.effective[:, j], self.new_rate[:, j], rate)
        schedules.rate[rows] = rate
        monthly = self.method <= 1  # annuity and equal principal
        if (self.method == 1).any():
            self._equal_principal(self.method == 1, rate)
        if (~monthly).any():
            self._actual_days(~monthly, first_day, scheduled, rate)
        if (self.method == 0).any():
            self._annuity(self.method == 0, rate)

    def _balance_before(self) -> npt.NDArray[np.int64]:
        balance = self.schedules.balance[self.rows]
        before = np.empty_like(balance)
        before[1:] = balance[:-1]
        before[self.is_first] = self.amount[self.is_first]
        return before

    def _equal_principal(self, mask: npt.NDArray[np.bool_], rate: npt.NDArray[np.int64]) -> None:
        rows = self.rows[mask]
        before = self._balance_before()[mask]
        self.schedules.interest[rows] = (before * rate[mask] + self.MONTHLY // 2) // self.MONTHLY

    def _actual_days(
        self,
        mask: npt.NDArray[np.bool_],
        first_day: npt.NDArray[np.int64],
        end: npt.NDArray[np.int64],
        rate: npt.NDArray[np.int64],
    ) -> None:
        """principal × Σ(rate × days) / 100 / 360 over the period's pieces at one rate, rounded once: each piece's
        principal × rate is split as q·d + r so that × days cannot overflow."""
        principal = self.amount[mask]
        cursor, current, end = first_day[mask], rate[mask], end[mask]
        whole = np.zeros(principal.size, dtype=np.int64)
        rest = np.zeros(principal.size, dtype=np.int64)

        def add(until: npt.NDArray[np.int64], at: npt.NDArray[np.int64], take: npt.NDArray[np.bool_]) -> None:
            days = np.where(take, until - cursor, 0)
            quotient, remainder = np.divmod(principal * at, self.DAILY)
            whole[...] += quotient * days
            rest[...] += remainder * days

        for j in range(self.effective.shape[1]):
            change = self.effective[mask, j]
            inside = (change > cursor) & (change < end)
            add(change, current, inside)
            cursor = np.where(inside, change, cursor)
            current = np.where(inside, self.new_rate[mask, j], current)
        add(end, current, np.ones(principal.size, dtype=np.bool_))
        self.schedules.interest[self.rows[mask]] = whole + (rest + self.DAILY // 2) // self.DAILY

    def _annuity(self, mask: npt.NDArray[np.bool_], rate: npt.NDArray[np.int64]) -> None:
        """From each period whose rate differs from the one before, a fresh annuity on the balance left, one rate
        change at a time (a later one starts from the balance the earlier one left)."""
        schedules = self.schedules
        rows = self.rows
        changed = mask & ~self.is_first
        changed[1:] &= rate[1:] != rate[:-1]
        starts = np.flatnonzero(changed)
        if starts.size == 0:
            return
        owners = self.owner[starts]
        # The how-manieth change of its loan each start is.
        rank = np.arange(starts.size) - np.searchsorted(owners, owners, side="left")
        for round_ in range(int(rank.max()) + 1):
            these = starts[rank == round_]
            row = rows[these]
            balance = schedules.balance[row - 1]
            months = self.last_row[these] - row + 1
            arrays = build_schedules(
                balance,
                rate[these],
                months,
                np.zeros(these.size, dtype=np.int64),
                schedules.scheduled[row - 1],
            )
            for n in range(these.size):
                source = arrays.rows(n)
                target = slice(int(row[n]), int(row[n] + months[n]))
                schedules.principal[target] = arrays.principal[source]
                schedules.interest[target] = arrays.interest[source]
                schedules.balance[target] = arrays.balance[source]


@dataclass
class _State:
    """A contract's collection state as of the business date (loan_rules.md)."""

    outstanding: int
    overdue_principal: int = 0
    overdue_interest: int = 0
    penalty_unpaid: int = 0
    days_past_due: int = 0
    overdue_since: int | None = None
    next_due: int | None = None
    closed_on: int | None = None
    classification: int = NORMAL
    classified_on: int | None = None
    proposed: int | None = None
    history: _Account | None = None
    missed_due: int = 0
    levels: list[tuple[int, int]] = field(default_factory=list)  # (classification, day) confirmed, in order


@dataclass
class _Log:
    """A collection call being made: its day and channel, and the promise to pay if one was given."""

    day: int
    channel: str
    promise_on: int = 0
    keeps: bool = False  # the promise was kept by a payment in part
    paid_on: int = 0
    share: int = 0  # percent of what was owed then that the payment covered
    promise_amount: int = 0


class _RateTimeline:
    """The penalty rate (millionths of a percent) in force on a day."""

    def __init__(self, days: list[int], micro: list[int]) -> None:
        self.days, self.micro = days, micro

    def on(self, day: int) -> int:
        return self.micro[bisect_right(self.days, day)]


class _Account:
    """One late or overdue loan's instalments played through time in integer fen, as the end-of-day batch and the
    repayment services would have left them: payments allocated oldest instalment first in the bank's order, penalty
    on overdue principal and compound on overdue interest in segments that end when the base or the rate changes."""

    def __init__(
        self,
        *,
        due: list[int],
        principal: list[int],
        interest: list[int],
        order: tuple[str, ...],
        compound: bool,
        rate_on: _RateTimeline,
    ) -> None:
        n = len(due)
        self.due, self.principal, self.interest = due, principal, interest
        self.order, self.compound, self.rate_on = order, compound, rate_on
        self.principal_paid, self.interest_paid = [0] * n, [0] * n
        self.penalty_paid, self.compound_paid = [0] * n, [0] * n
        self.paid_on, self.accrued_through = [0] * n, [0] * n
        # Closed segments per instalment: (kind, start, end, base, rate, amount); the open one per kind.
        self.segments: list[list[tuple[str, int, int, int, int, int]]] = [[] for _ in range(n)]
        self.open: dict[str, list[list[int] | None]] = {PENALTY: [None] * n, COMPOUND: [None] * n}
        self.payments: list[tuple[int, int, list[tuple[int, str, int]]]] = []
        self.principal_events: list[tuple[int, int, int]] = []  # (day, instalment, principal paid)
        self.event_amounts: dict[int, int] = {}
        self.cured_on: int | None = None

    # --- accrual ---

    def accrued(self, k: int, kind: str, through: int | None = None) -> int:
        """What instalment k has accrued of `kind` (through a day, else in all)."""
        total = sum(segment[5] for segment in self.segments[k] if segment[0] == kind)
        segment = self.open[kind][k]
        if segment is not None and (through is None or through >= segment[0]):
            end = segment[3] if through is None else through
            total += penalty.segment_amount_fen(segment[1], segment[2], end - segment[0] + 1)
        return total

    def _base(self, k: int, kind: str) -> int:
        if kind == PENALTY:
            return self.principal[k] - self.principal_paid[k]
        return self.interest[k] - self.interest_paid[k]

    def _kinds(self) -> tuple[str, ...]:
        return (PENALTY, COMPOUND) if self.compound else (PENALTY,)

    def _start(self, k: int, day: int) -> None:
        """Segments of instalment k from `day` on, on its unpaid principal and interest at the rate of the day."""
        for kind in self._kinds():
            base = self._base(k, kind)
            if base > 0:
                self.open[kind][k] = [day, base, self.rate_on.on(day), day]

    def _close(self, k: int, kind: str, end: int) -> None:
        segment = self.open[kind][k]
        if segment is None:
            return
        self.open[kind][k] = None
        if end >= segment[0]:
            amount = penalty.segment_amount_fen(segment[1], segment[2], end - segment[0] + 1)
            self.segments[k].append((kind, segment[0], end, segment[1], segment[2], amount))
            self.accrued_through[k] = end

    def _extend(self, through: int) -> None:
        for kind in self._kinds():
            for segment in self.open[kind]:
                if segment is not None:
                    segment[3] = through

    # --- payments ---

    def pay_on_time(self, k: int) -> None:
        self.principal_paid[k], self.interest_paid[k] = self.principal[k], self.interest[k]
        self.paid_on[k] = self.due[k]
        allocations = [(k, Component.INTEREST.value, self.interest[k]),
                       (k, Component.PRINCIPAL.value, self.principal[k])]  # fmt: skip
        self.payments.append((self.due[k], self.principal[k] + self.interest[k], allocations))
        self.principal_events.append((self.due[k], k, self.principal[k]))

    def owed_on(self, day: int) -> int:
        """Everything owed on the instalments due by `day`, penalty as accrued through the day before."""
        total = 0
        for k, due in enumerate(self.due):
            if due <= day:
                total += self._owed(k, day)
        return total

    def _owed(self, k: int, day: int) -> int:
        return (self.principal[k] - self.principal_paid[k] + self.interest[k] - self.interest_paid[k]
                + self.accrued(k, PENALTY, day - 1) - self.penalty_paid[k]
                + self.accrued(k, COMPOUND, day - 1) - self.compound_paid[k])  # fmt: skip

    def pay(self, day: int, amount: int) -> None:
        """A repayment on `day`, allocated oldest instalment first in the bank's order (penalty and compound as
        accrued through the day before); where an overdue instalment's base changes its segments end the day before."""
        left, allocations = amount, []
        for k, due in enumerate(self.due):
            if due > day or left == 0:
                break
            if self.paid_on[k]:
                continue
            before = (self._base(k, PENALTY), self._base(k, COMPOUND))
            for component in self.order:
                if component == Component.PENALTY:
                    owed = self.accrued(k, PENALTY, day - 1) - self.penalty_paid[k]
                elif component == Component.COMPOUND:
                    owed = self.accrued(k, COMPOUND, day - 1) - self.compound_paid[k]
                elif component == Component.INTEREST:
                    owed = self.interest[k] - self.interest_paid[k]
                elif component == Component.PRINCIPAL:
                    owed = self.principal[k] - self.principal_paid[k]
                else:
                    owed = 0  # no fees in the demo
                paid = min(left, owed)
                if paid <= 0:
                    continue
                left -= paid
                allocations.append((k, component, paid))
                if component == Component.PENALTY:
                    self.penalty_paid[k] += paid
                elif component == Component.COMPOUND:
                    self.compound_paid[k] += paid
                elif component == Component.INTEREST:
                    self.interest_paid[k] += paid
                else:
                    self.principal_paid[k] += paid
                    self.principal_events.append((day, k, paid))
            if due < day:  # overdue: a new base starts new segments from the payment day
                for kind, base in zip((PENALTY, COMPOUND), before, strict=True):
                    if self._base(k, kind) != base and self.open[kind][k] is not None:
                        self._close(k, kind, day - 1)
                        if self._base(k, kind) > 0:
                            self.open[kind][k] = [day, self._base(k, kind), self.rate_on.on(day), day]
            if self._owed(k, day + 1) == 0 and self.principal[k] == self.principal_paid[k]:
                for kind in self._kinds():
                    self._close(k, kind, day - 1)
                self.paid_on[k] = day
        assert left == 0, "the demo never pays more than is owed"
        self.payments.append((day, amount, allocations))
        self.event_amounts[day] = amount

    def play(self, *, first_overdue: int, through: int, payments: list[tuple[int, int]], after_cure: bool) -> None:
        """Run the days from the first one overdue through `through`: repricings, payments (amount −1: everything
        owed; else a share in percent of what is owed on the oldest instalment), instalments falling overdue. After a
        late loan caught up, it pays on the due dates again."""
        events: set[int] = {day for day, _ in payments}
        events |= {day for day in self.rate_on.days if first_overdue <= day <= through}
        events |= {due + 1 for due in self.due if first_overdue <= due + 1 <= through}
        wanted = dict(payments)
        for day in sorted(events):
            if self.cured_on is not None:
                break
            if day in self.rate_on.days:  # repriced: the segments open go on at the new rate
                for kind in self._kinds():
                    for k, segment in enumerate(self.open[kind]):
                        if segment is not None and segment[2] != self.rate_on.on(day):
                            base = segment[1]
                            self._close(k, kind, day - 1)
                            self.open[kind][k] = [day, base, self.rate_on.on(day), day]
            if day in wanted:
                share = wanted[day]
                if share < 0:
                    self.pay(day, self.owed_on(day))
                    self.cured_on = day
                else:  # a share of what the oldest instalment owes, in hundreds of yuan
                    oldest = next(k for k, due in enumerate(self.due) if self._owed(k, day) > 0)
                    amount = self._owed(oldest, day) * share // 100 // 10_000 * 10_000
                    if amount > 0:
                        self.pay(day, amount)
            for k, due in enumerate(self.due):
                if due + 1 == day and self.paid_on[k] == 0:
                    self._start(k, day)
        if self.cured_on is None:
            self._extend(through)
            for kind in self._kinds():
                for k in range(len(self.due)):
                    self._close_open_at(k, kind, through)
        elif after_cure:
            for k, due in enumerate(self.due):
                if self.paid_on[k] == 0 and due <= through:
                    self.pay_on_time(k)

    def _close_open_at(self, k: int, kind: str, through: int) -> None:
        """The segments still running end on the business date (the batch extends them day by day from there)."""
        segment = self.open[kind][k]
        if segment is not None:
            self._close(k, kind, through)

    # --- state ---

    def status(self, k: int, as_of: int) -> str:
        if self.paid_on[k]:
            return PAID
        if self.due[k] < as_of:
            return OVERDUE
        return DUE if self.due[k] == as_of else SCHEDULED

    def overdue_since(self, k: int, as_of: int) -> int:
        """The day after the due date for an instalment overdue, or paid late (it keeps it: it was overdue)."""
        if (self.paid_on[k] and self.paid_on[k] > self.due[k]) or (not self.paid_on[k] and self.due[k] < as_of):
            return self.due[k] + 1
        return 0

    def overdue_at(self, day: int) -> int:
        """Principal and interest of the instalments due before `day` still unpaid (as they stand now)."""
        return sum(self.principal[k] - self.principal_paid[k] + self.interest[k] - self.interest_paid[k]
                   for k, due in enumerate(self.due) if due < day)  # fmt: skip

    def principal_at(self, day: int) -> tuple[int, int]:
        """Outstanding and overdue principal at the end of `day`."""
        paid = [0] * len(self.due)
        for when, k, amount in self.principal_events:
            if when <= day:
                paid[k] += amount
        outstanding = sum(self.principal) - sum(paid)
        overdue = sum(self.principal[k] - paid[k] for k, due in enumerate(self.due) if due < day)
        return outstanding, overdue

    def state(self, as_of: int) -> _State:
        """The contract's state as of the business date (loans/state.py's definitions)."""
        state = _State(outstanding=sum(self.principal) - sum(self.principal_paid))
        oldest = None
        for k, due in enumerate(self.due):
            principal_unpaid = self.principal[k] - self.principal_paid[k]
            interest_unpaid = self.interest[k] - self.interest_paid[k]
            state.penalty_unpaid += (self.accrued(k, PENALTY) - self.penalty_paid[k]
                                     + self.accrued(k, COMPOUND) - self.compound_paid[k])  # fmt: skip
            if due < as_of:
                state.overdue_principal += principal_unpaid
                state.overdue_interest += interest_unpaid
                if (principal_unpaid or interest_unpaid) and oldest is None:
                    oldest = due
            if not self.paid_on[k] and due >= as_of and state.next_due is None:
                state.next_due = due
        if oldest is not None:
            state.days_past_due, state.overdue_since = as_of - oldest, oldest + 1
        if all(self.paid_on):
            state.closed_on = max(self.paid_on)
        return state


def _contract_no(loan: _Loan) -> str:
    """借款合同编号: the product's prefix, the year of the first drawdown and a serial number."""
    return f"{PRODUCT_TERMS[loan.product].prefix}{loan.terms.start_date.year}{loan.pk:08d}"


def _money(fen: int) -> str:
    """An amount as the batch writes it in a task's title: 1,234,567.80."""
    return f"{Decimal(fen).scaleb(-2):,}"


def _start_for_due(target: date, months: int) -> date:
    """A drawdown date whose monthly schedule falls due on `target` after about `months` months (a date that clamps,
    the 29th to the 31st, is matched by trying the months around)."""
    for offset in range(24):
        for back in (months + offset, months - offset):
            if back < 2:
                continue
            start = add_months(target, -back)
            if add_months(start, back) == target:
                return start
    return add_months(target, -months)


def _month_ends(as_of: date, months: int) -> list[int]:
    """The last `months` month-ends on or before `as_of`, oldest first, as ordinals."""
    ends = []
    day = as_of.replace(day=1) - DAY if (as_of + DAY).day != 1 else as_of
    for _ in range(months):
        ends.append(day.toordinal())
        day = day.replace(day=1) - DAY
    return ends[::-1]
