"""The demo bank's loans: contracts in proportion to the book, the engine's schedules, a state consistent with the
instalments (loans/state.py's definitions), the overdue spread, classification history, collection calls, the
end-of-day batch run on top, and the named users' week."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import F, Q, Sum
from django.utils import timezone

from rmdesk.batch import runner
from rmdesk.customers.choices import LifecycleStatus
from rmdesk.customers.models import Customer
from rmdesk.demo.builder import DemoSummary, build_demo_bank
from rmdesk.demo.customers import CUSTOMER_FIELDS
from rmdesk.demo.loans import (
    CONTRACT_FIELDS,
    SHOW_DAYS_PAST_DUE,
    LoanBook,
    Show,
    category,
    plan_loans,
    run_end_of_day,
)
from rmdesk.loans.choices import Classification, InstalmentStatus, LoanStatus, RateKind
from rmdesk.loans.due_dates import bank_calendar
from rmdesk.loans.models import AccrualSegment, Instalment, LoanContract, Repayment
from rmdesk.loans.services.schedules import instalments_of
from rmdesk.loans.state import contract_state, instalment_status
from rmdesk.org.models import User
from rmdesk.postloan.choices import PromiseStatus
from rmdesk.postloan.jobs.reminders import INSTALMENT_SOURCE, PROMISE_SOURCE
from rmdesk.postloan.models import ClassificationDecision, ClassificationSnapshot, CollectionLog
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Task

# Big enough that each named RM has the current customers their showcase needs.
LOAN_BANK_CUSTOMERS = 400
NAMED_RMS = ("rm_zhang", "rm_li", "rm_wang", "rm_zhao")
STATE_FIELDS = ("outstanding_principal", "overdue_principal", "overdue_interest", "penalty_unpaid", "days_past_due",
                "overdue_since", "next_due_date")  # fmt: skip
LIMITS = (90, 270, 360)


@pytest.fixture
def loan_bank(db: Any) -> DemoSummary:
    return build_demo_bank(customers=LOAN_BANK_CUSTOMERS)


@pytest.fixture
def closed_day(loan_bank: DemoSummary) -> DemoSummary:
    """The bank after today's end-of-day batch, as `rmdesk demo` leaves it."""
    run_end_of_day(today=timezone.localdate(), report=lambda done, total: None)
    return loan_bank


def _instalments_by_contract() -> dict[int, list[Instalment]]:
    rows: dict[int, list[Instalment]] = defaultdict(list)
    for instalment in Instalment.objects.order_by("contract_id", "due_date", "number"):
        rows[instalment.contract_id].append(instalment)
    return rows


def _assert_state_as_of(as_of: date) -> None:
    """Every instalment's status and every contract's summary are what loans/state.py computes from the rows."""
    rows = _instalments_by_contract()
    accrued: dict[tuple[int, str], Decimal] = defaultdict(Decimal)
    for instalment_id, kind, amount in AccrualSegment.objects.values_list("instalment_id", "kind", "amount"):
        accrued[instalment_id, kind] += amount
    for contract in LoanContract.objects.all():
        instalments = rows[contract.pk]
        for row in instalments:
            assert row.status == instalment_status(row, as_of), (contract.contract_no, row.number)
            if row.status == InstalmentStatus.PAID:  # on the due date, or later when it fell overdue first
                assert row.paid_on == row.due_date if row.overdue_since is None else row.paid_on > row.due_date
            assert (row.penalty_accrued, row.compound_accrued) == (accrued[row.pk, "penalty"],
                                                                   accrued[row.pk, "compound"])  # fmt: skip
        state = contract_state(instalments, as_of)
        assert [getattr(state, name) for name in STATE_FIELDS] == [getattr(contract, n) for n in STATE_FIELDS], (
            contract.contract_no
        )
        assert (contract.status == LoanStatus.CLOSED) == (state.paid_off_on is not None)
        assert contract.closed_on == state.paid_off_on


# --- the book --------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_about_one_customer_in_five_borrows_with_about_35_instalments_a_loan(loan_bank: DemoSummary) -> None:
    # given: the demo bank
    current = Customer.objects.filter(status=LifecycleStatus.CUSTOMER).count()
    # when
    loans = LoanContract.objects.count()
    # then: a fifth of the book, all of them current customers' (the named RMs' showcase adds a few)
    assert loans == loan_bank.loans and loans == LoanContract.objects.filter(customer__status="customer").count()
    assert 0.17 * LOAN_BANK_CUSTOMERS <= loans <= 0.3 * LOAN_BANK_CUSTOMERS
    assert loans < 0.5 * current
    assert 25 <= loan_bank.instalments / loans <= 45
    assert loan_bank.instalments == Instalment.objects.count()
    assert not LoanContract.objects.exclude(primary_rm=F("customer__primary_rm")).exists()
    methods = Counter(LoanContract.objects.values_list("repayment_method", flat=True))
    assert set(methods) >= {"annuity", "equal-principal", "interest-monthly", "interest-quarterly"}
    assert methods["annuity"] + methods["equal-principal"] + methods["interest-monthly"] > 0.7 * loans
    kinds = Counter(LoanContract.objects.values_list("rate_kind", flat=True))
    assert kinds[RateKind.FIXED] and kinds[RateKind.LPR_1Y]
    assert all(12 <= months <= 120 for months in LoanContract.objects.values_list("term_months", flat=True))


@pytest.mark.django_db
def test_guaranteed_loans_name_the_customers_guarantors(loan_bank: DemoSummary) -> None:
    # given
    guaranteed = LoanContract.objects.filter(guarantee_method="guarantee").prefetch_related("guarantors")
    # when / then: from the customer's guarantee relationships where it has them, else its legal representative
    assert guaranteed.exists()
    for contract in guaranteed:
        guarantors = list(contract.guarantors.all())
        assert guarantors
        for guarantor in guarantors:
            if guarantor.relationship is None:
                assert guarantor.name == contract.customer.legal_representative
            else:
                assert guarantor.relationship.customer_id == contract.customer_id
                assert guarantor.relationship.kind == "guarantee"
                assert guarantor.name == guarantor.relationship.counterparty_name
    assert not LoanContract.objects.filter(~Q(guarantee_method="guarantee"), guarantors__isnull=False).exists()


def _terms(row: Instalment) -> tuple[Any, ...]:
    return (row.number, row.scheduled_date, row.due_date, row.principal_due, row.interest_due, row.rate_pct)


@pytest.mark.django_db
def test_every_schedule_is_the_engines_with_its_repricings_and_sums_to_the_amount(loan_bank: DemoSummary) -> None:
    # given
    as_of = timezone.localdate() - timedelta(days=1)
    rows = _instalments_by_contract()
    repriced = 0
    # when / then: the loan services would have written the same instalments, rates and due dates
    for contract in LoanContract.objects.prefetch_related("drawdowns"):
        (drawdown,) = contract.drawdowns.all()
        expected = instalments_of(contract, drawdown, through=as_of)
        mine = sorted(rows[contract.pk], key=lambda row: row.number)
        assert [_terms(row) for row in mine] == [_terms(row) for row in expected], contract.contract_no
        assert sum(row.principal_due for row in mine) == contract.amount == drawdown.amount
        repriced += len({row.rate_pct for row in mine}) > 1
    assert repriced  # floating loans repriced since their drawdown are among them


@pytest.mark.django_db
def test_the_loaded_state_is_that_of_yesterdays_end_of_day(loan_bank: DemoSummary) -> None:
    # given
    today = timezone.localdate()
    # when / then: statuses and contract summaries as loans/state.py has them on yesterday's date, and the ledger
    # says yesterday's end-of-day is done
    _assert_state_as_of(today - timedelta(days=1))
    assert runner.next_date() == today
    for repayment in Repayment.objects.annotate(allocated=Sum("allocations__amount")):
        assert repayment.allocated == repayment.amount and repayment.unallocated == 0


@pytest.mark.django_db
def test_todays_end_of_day_runs_on_the_loaded_bank_and_leaves_tomorrow_next(closed_day: DemoSummary) -> None:
    # given: the bank after today's end-of-day
    today = timezone.localdate()
    # when / then: the state is the batch's own as of today, consistent with the rows, and tomorrow runs next
    _assert_state_as_of(today)
    assert runner.next_date() == today + timedelta(days=1)
    assert runner.plan(on=today + timedelta(days=1), until=None, rerun=False, today=today + timedelta(days=1))


# --- overdue, penalty, classification --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_about_three_percent_of_loans_are_overdue_mostly_by_weeks_a_few_by_over_a_year() -> None:
    # given: a book of 20,000 current customers made directly by the loan book (no database rows needed)
    plan = plan_loans(seed=5, today=date(2026, 6, 15), rms=[], risk_officer=1, stamp="2026-06-15 00:00:00",
                      text_times=True, first_ids=[1, 1, 1, 1, 1])  # fmt: skip
    book = LoanBook(plan)
    rng = random.Random(5)
    customers = [_customer_row(pk, rng) for pk in range(1, 20_001)]
    # when
    contracts = []
    for index, start in enumerate(range(0, len(customers), 5000)):
        contracts += book.chunk(index, customers[start : start + 5000], [], []).contracts
    # then: days past due as of the day before (the batch adds today's), a realistic spread
    dpd_at = CONTRACT_COLUMN("days_past_due")
    active = [row for row in contracts if row[CONTRACT_COLUMN("status")] == LoanStatus.ACTIVE]
    overdue = [row[dpd_at] + 1 for row in active if row[dpd_at] > 0]
    # A current customer holds 0.28 loans: 0.2 a customer in a book where 70% of the customers are current ones.
    assert 0.26 <= len(contracts) / len(customers) <= 0.30
    assert 0.022 <= len(overdue) / len(contracts) <= 0.035
    bands = Counter(0 if dpd <= 30 else 1 if dpd <= 90 else 2 if dpd <= 360 else 3 for dpd in overdue)
    assert bands[0] > bands[1] > bands[3] > 0 and bands[2] > bands[3]
    closed = sum(row[CONTRACT_COLUMN("status")] == LoanStatus.CLOSED for row in contracts)
    assert 0.015 <= closed / len(contracts) < 0.05


def CONTRACT_COLUMN(name: str) -> int:  # reads as the constant it stands for
    return CONTRACT_FIELDS.index(name)


def _customer_row(pk: int, rng: random.Random) -> tuple[Any, ...]:
    """A current customer's row as the customer book makes it, with what the loan book reads of it."""
    values: dict[str, Any] = dict.fromkeys(CUSTOMER_FIELDS)
    values["id"], values["name"], values["legal_representative"] = pk, f"客户{pk}", "张三"
    values["size"] = rng.choice(["micro", "small", "medium", "large"])
    values["status"], values["primary_rm_id"] = LifecycleStatus.CUSTOMER.value, 1 + pk % 50
    return tuple(values[name] for name in CUSTOMER_FIELDS)


@pytest.mark.django_db
def test_overdue_loans_accrue_penalty_and_compound_interest_in_segments_to_the_fen(closed_day: DemoSummary) -> None:
    # given
    today = timezone.localdate()
    overdue = LoanContract.objects.filter(days_past_due__gt=0)
    # when / then: every overdue instalment accrues from the day after its due date through today at the contract rate
    # raised by half, one segment per base and rate, each rounded once
    assert overdue.exists()
    for instalment in Instalment.objects.filter(status=InstalmentStatus.OVERDUE).prefetch_related("accruals"):
        segments = sorted(instalment.accruals.all(), key=lambda s: (s.kind, s.start_date))
        penalty = [s for s in segments if s.kind == "penalty"]
        if instalment.principal_unpaid:
            assert penalty[0].start_date == instalment.overdue_since == instalment.due_date + timedelta(days=1)
            assert penalty[-1].end_date == today == instalment.accrued_through
        for segment in segments:
            exact = segment.base * segment.annual_rate_pct / 100 / 360 * segment.days
            assert segment.amount == exact.quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")
    for contract in overdue:
        assert contract.penalty_unpaid > 0 or contract.days_past_due == 1


@pytest.mark.django_db
def test_classification_history_follows_days_past_due_and_proposals_wait_for_the_risk_officer(
    closed_day: DemoSummary,
) -> None:
    # given
    today = timezone.localdate()
    risk_officer = User.objects.get(username="risk_sun")
    decisions: dict[int, list[ClassificationDecision]] = defaultdict(list)
    for decision in ClassificationDecision.objects.order_by("decided_on", "pk"):
        decisions[decision.contract_id].append(decision)
    # when / then: a downgrade only after the days past due called for it; the last decision is the classification;
    # a proposal where days past due ask for worse
    assert decisions
    for contract in LoanContract.objects.all():
        history = decisions.get(contract.pk, [])
        for decision in history:
            assert decision.decided_by_id == risk_officer.pk and decision.decided_on < today
            if decision.decided > decision.previous:
                assert category(decision.days_past_due, LIMITS) == decision.decided
        confirmed = history[-1].decided if history else Classification.NORMAL
        assert contract.classification == confirmed
        wanted = max(category(contract.days_past_due, LIMITS), contract.classification)
        assert contract.proposed_classification == (wanted if wanted != contract.classification else None)
    assert LoanContract.objects.filter(proposed_classification__isnull=False).exists()
    assert LoanContract.objects.filter(classification__gte=Classification.SUBSTANDARD).exists()


@pytest.mark.django_db
def test_twelve_month_ends_of_snapshots_agree_with_the_confirmed_history(loan_bank: DemoSummary) -> None:
    # given
    months = sorted(set(ClassificationSnapshot.objects.values_list("month", flat=True)))
    # when
    last = months[-1]
    latest = dict(ClassificationSnapshot.objects.filter(month=last).values_list("contract_id", "classification"))
    # then: twelve months, one row per active loan a month; last month-end's classification is the one confirmed then
    assert len(months) == 12 and all(month.day == 1 for month in months)
    assert ClassificationSnapshot.objects.count() == loan_bank.classification_snapshots
    month_end = (last + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    for contract in LoanContract.objects.filter(pk__in=latest):
        decided = ClassificationDecision.objects.filter(contract=contract, decided_on__lte=month_end)
        confirmed = decided.order_by("-decided_on", "-pk").values_list("decided", flat=True).first()
        assert latest[contract.pk] == (confirmed or Classification.NORMAL)
        assert contract.start_date <= month_end
        assert contract.closed_on is None or contract.closed_on > month_end
    moved: Counter[tuple[int, int]] = Counter()
    before = dict(ClassificationSnapshot.objects.filter(month=months[-2]).values_list("contract_id", "classification"))
    for contract_id, level in latest.items():
        if contract_id in before:
            moved[before[contract_id], level] += 1
    assert moved[Classification.NORMAL, Classification.NORMAL] > 0.8 * sum(moved.values())


@pytest.mark.django_db
def test_promises_to_pay_are_kept_broken_or_open_as_the_repayments_say(closed_day: DemoSummary) -> None:
    # given
    today = timezone.localdate()
    promises = CollectionLog.objects.exclude(promise_status=PromiseStatus.NONE)
    # when / then
    assert promises.filter(promise_status=PromiseStatus.BROKEN).exists()
    for log in promises:
        assert log.promise_date is not None and log.promise_amount is not None
        repaid = Repayment.objects.filter(
            contract=log.contract, paid_on__gte=log.contacted_on, paid_on__lte=log.promise_date
        ).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        assert log.contract.days_past_due > 0 or log.promise_status != PromiseStatus.OPEN
        if log.promise_status == PromiseStatus.KEPT:
            assert repaid >= log.promise_amount
        elif log.promise_status == PromiseStatus.BROKEN:
            assert repaid < log.promise_amount and log.promise_date < today
        else:
            assert repaid < log.promise_amount and log.promise_date >= today
    broken = promises.filter(promise_status=PromiseStatus.BROKEN).values_list("pk", flat=True)
    tasks = set(Task.objects.filter(kind=TaskKind.PROMISE_BROKEN).values_list("source_type", "source_id"))
    assert {(PROMISE_SOURCE, str(pk)) for pk in broken} == tasks


# --- the named users' week -------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_named_rm_has_instalments_due_in_one_three_and_seven_days_with_reminders(closed_day: DemoSummary) -> None:
    # given
    today = timezone.localdate()
    calendar = bank_calendar()
    # when / then: due on the day, or the next working day when it is none
    for username in NAMED_RMS:
        rm = User.objects.get(username=username)
        unpaid = Instalment.objects.filter(contract__primary_rm=rm).exclude(status=InstalmentStatus.PAID)
        for days in (1, 3, 7):
            day = today + timedelta(days=days)
            due_on = calendar.roll_forward(day) if calendar else day
            rows = list(unpaid.filter(due_date=due_on))
            assert rows, (username, days)
            if due_on == day:  # today's batch reminded them of it, as it does 7, 3 and 1 days ahead
                keys = {f"{row.pk}:{days}" for row in rows}
                reminded = Task.objects.filter(kind=TaskKind.INSTALMENT_DUE, owner=rm, source_type=INSTALMENT_SOURCE)
                assert keys & set(reminded.values_list("source_id", flat=True)), (username, days)


@pytest.mark.django_db
def test_each_named_rm_has_an_overdue_loan_with_penalty_and_a_promise_broken_yesterday(closed_day: DemoSummary) -> None:
    # given
    today = timezone.localdate()
    # when / then
    for username in NAMED_RMS:
        rm = User.objects.get(username=username)
        overdue = LoanContract.objects.filter(primary_rm=rm, days_past_due__gt=0)
        near = [c for c in overdue if SHOW_DAYS_PAST_DUE[Show.OVERDUE] <= c.days_past_due <= 50]
        assert near and all(c.penalty_unpaid > 0 and c.overdue_interest > 0 for c in near), username
        broken = CollectionLog.objects.filter(
            contract__in=near, promise_status=PromiseStatus.BROKEN, promise_date=today - timedelta(days=1)
        )
        assert broken.exists(), username
        task = Task.objects.get(kind=TaskKind.PROMISE_BROKEN, source_id=str(broken[0].pk))
        assert (task.owner_id, task.status, task.due_date) == (rm.pk, TaskStatus.OPEN, today)


@pytest.mark.django_db
def test_the_leads_team_has_overdue_and_npl_and_the_risk_officer_has_proposals(closed_day: DemoSummary) -> None:
    # given: lead_chen's team (rm_zhang and rm_li)
    lead = User.objects.get(username="lead_chen")
    team = LoanContract.objects.restrict(lead, "view")
    risk_officer = User.objects.get(username="risk_sun")
    # when
    npl = team.filter(classification__gte=Classification.SUBSTANDARD)
    proposals = LoanContract.objects.restrict(risk_officer, "view").filter(proposed_classification__isnull=False)
    # then
    assert team.filter(days_past_due__gt=0).count() >= 2
    assert npl.filter(primary_rm__username__in=("rm_zhang", "rm_li")).count() >= 2
    assert proposals.filter(primary_rm__username__in=NAMED_RMS).count() >= 3
    waiting = proposals.get(primary_rm__username="rm_zhang", proposed_classification=Classification.SUBSTANDARD)
    assert waiting.classification == Classification.SPECIAL_MENTION and waiting.days_past_due > 90
