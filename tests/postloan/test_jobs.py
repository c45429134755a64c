"""The end-of-day's loan jobs on real rows: instalments marked due and overdue, penalty and compound interest accrued
in segments to the fen (a repayment or a repricing starts a new one), each contract's state, and the month-end
snapshots. The jobs run through `rmdesk eod`, day by day as a bank runs it."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from rmdesk.loans import state
from rmdesk.loans.choices import LoanStatus
from rmdesk.loans.models import AccrualSegment, Instalment, LoanContract
from rmdesk.postloan.jobs import due, snapshots, standing
from rmdesk.postloan.jobs.common import WHOLE_BANK, CustomerRange
from rmdesk.postloan.models import ClassificationSnapshot
from tests.batch.factories import make_loan, pay, rows
from tests.personas import Bank

D = Decimal
FEB_10, MAR_10, APR_10 = date(2026, 2, 10), date(2026, 3, 10), date(2026, 4, 10)
THREE_MONTHS = [(FEB_10, "100000.00", "435.00"), (MAR_10, "100000.00", "362.50"), (APR_10, "100000.00", "290.00")]


@pytest.fixture(autouse=True)
def bank_language_english(settings: Any) -> None:
    # Batch jobs write task titles in the bank's language; English keeps the assertions independent of the catalogue.
    settings.LANGUAGE_CODE = "en"


def eod_through(last: date, first: date | None = None) -> None:
    """Run the end-of-day from `first` (the bank's first date) or the next date, through `last`."""
    if first is not None:
        call_command("eod", "--date", first.isoformat(), stdout=io.StringIO())
    if first is None or last > first:
        call_command("eod", "--until", last.isoformat(), stdout=io.StringIO())


def segments(instalment: Instalment, kind: str) -> list[tuple[date, date, Decimal, Decimal, Decimal]]:
    return list(
        AccrualSegment.objects.filter(instalment=instalment, kind=kind)
        .order_by("start_date")
        .values_list("start_date", "end_date", "base", "annual_rate_pct", "amount")
    )


# --- due and overdue -------------------------------------------------------------------------------------------------


def test_an_instalment_is_due_on_its_date_and_overdue_from_the_next_day(bank: Bank) -> None:
    # given
    loan = make_loan(bank.alice, THREE_MONTHS)
    # when / then
    eod_through(FEB_10 - timedelta(days=1), first=FEB_10 - timedelta(days=1))
    assert [(r.status, r.overdue_since) for r in rows(loan)] == [("scheduled", None)] * 3
    eod_through(FEB_10)
    assert (rows(loan)[0].status, rows(loan)[0].overdue_since) == ("due", None)
    eod_through(FEB_10 + timedelta(days=1))
    assert [(r.status, r.overdue_since) for r in rows(loan)] == [
        ("overdue", date(2026, 2, 11)),
        ("scheduled", None),
        ("scheduled", None),
    ]


def test_an_instalment_paid_on_its_due_date_is_never_overdue(bank: Bank) -> None:
    # given
    loan = make_loan(bank.alice, THREE_MONTHS)
    eod_through(FEB_10, first=FEB_10)
    pay(rows(loan)[0], principal="100000.00", interest="435.00", on=FEB_10)
    # when
    eod_through(date(2026, 2, 12))
    # then
    first = rows(loan)[0]
    assert (first.status, first.overdue_since, first.penalty_accrued, first.paid_on) == ("paid", None, D(0), FEB_10)


def test_the_due_job_marks_paid_what_a_feed_paid_in_full_without_marking_it(bank: Bank) -> None:
    # given: the paid amounts set, the status left as it was
    loan = make_loan(bank.alice, THREE_MONTHS)
    Instalment.objects.filter(pk=rows(loan)[0].pk).update(principal_paid=D("100000.00"), interest_paid=D("435.00"))
    # when
    counts = due.run(on=FEB_10, customers=WHOLE_BANK)
    # then
    assert counts == {"paid": 1, "due": 0, "overdue": 0}
    assert (rows(loan)[0].status, rows(loan)[0].paid_on) == ("paid", FEB_10)


def test_jobs_over_a_customer_range_touch_only_its_customers(bank: Bank) -> None:
    # given: two loans of two customers, both falling due
    first = make_loan(bank.alice, THREE_MONTHS)
    second = make_loan(bank.bob, THREE_MONTHS)
    # when: the range of the first customer only
    counts = due.run(on=FEB_10, customers=CustomerRange(first.customer_id, first.customer_id))
    # then
    assert counts["due"] == 1
    assert (rows(first)[0].status, rows(second)[0].status) == ("due", "scheduled")


# --- penalty and compound to the fen ---------------------------------------------------------------------------------


def test_penalty_and_compound_accrue_to_the_fen_day_by_day(bank: Bank) -> None:
    # given: 100,000.00 principal and 435.00 interest due on 2026-02-10 and never paid, at 4.35 %
    loan = make_loan(bank.alice, THREE_MONTHS)
    # when: the end-of-day runs every day through 2026-03-13, 31 days after the due date
    eod_through(date(2026, 3, 13), first=FEB_10)
    # then: 100,000.00 × 4.35 % × 1.5 / 360 × 31 = 561.875 → 561.88; 435.00 × 6.525 % / 360 × 31 = 2.44
    first = rows(loan)[0]
    assert (first.penalty_accrued, first.compound_accrued, first.accrued_through) == (
        D("561.88"),
        D("2.44"),
        date(2026, 3, 13),
    )
    since = date(2026, 2, 11)
    assert segments(first, "penalty") == [(since, date(2026, 3, 13), D("100000.00"), D("6.525000"), D("561.88"))]
    assert segments(first, "compound") == [(since, date(2026, 3, 13), D("435.00"), D("6.525000"), D("2.44"))]
    # and the March instalment, overdue since 2026-03-11: 3 days → 54.375 → 54.38 and 362.50 → 0.197 → 0.20
    second = rows(loan)[1]
    assert (second.penalty_accrued, second.compound_accrued) == (D("54.38"), D("0.20"))


def test_catching_up_many_days_at_once_gives_the_same_figures(bank: Bank) -> None:
    # given
    loan = make_loan(bank.alice, THREE_MONTHS)
    # when: the first date of the bank is already 31 days after the due date
    eod_through(date(2026, 3, 13), first=date(2026, 3, 13))
    # then
    first = rows(loan)[0]
    assert (first.penalty_accrued, first.compound_accrued) == (D("561.88"), D("2.44"))


def test_a_repayment_that_lowers_the_overdue_principal_starts_a_new_segment(bank: Bank) -> None:
    # given: 10 days overdue on 100,000.00, then 40,000.00 principal repaid before the end-of-day of 02-21
    loan = make_loan(bank.alice, THREE_MONTHS)
    eod_through(date(2026, 2, 20), first=FEB_10)
    pay(rows(loan)[0], principal="40000.00", on=date(2026, 2, 21))
    # when
    eod_through(date(2026, 2, 28))
    # then: 181.25 on 100,000.00 for 02-11…02-20, 87.00 on 60,000.00 for 02-21…02-28; compound unbroken: 1.42
    first = rows(loan)[0]
    assert segments(first, "penalty") == [
        (date(2026, 2, 11), date(2026, 2, 20), D("100000.00"), D("6.525000"), D("181.25")),
        (date(2026, 2, 21), date(2026, 2, 28), D("60000.00"), D("6.525000"), D("87.00")),
    ]
    assert segments(first, "compound") == [
        (date(2026, 2, 11), date(2026, 2, 28), D("435.00"), D("6.525000"), D("1.42"))
    ]
    assert (first.penalty_accrued, first.compound_accrued) == (D("268.25"), D("1.42"))


def test_repricing_on_its_date_starts_a_new_segment_at_the_new_rate(bank: Bank) -> None:
    # given: a 1-year LPR loan at 3.45 % repriced on 2026-02-21 to the LPR then in force, 3.00 % (+0 bp)
    loan = make_loan(
        bank.alice,
        THREE_MONTHS,
        rate="3.45",
        rate_kind="lpr_1y",
        lpr_spread_bp=0,
        repricing_rule="anniversary",
        next_repricing_on=date(2026, 2, 21),
        start=date(2025, 2, 21),
        schedule_source="core",  # the core's schedule is left as it is: only the rate is repriced
    )
    # when
    eod_through(date(2026, 2, 28), first=FEB_10)
    # then: 10 days at 3.45 % × 1.5 = 5.175 % (143.75), then 8 days at 4.5 % (100.00)
    loan.refresh_from_db()
    # (the next anniversary, 2027-02-21, is after maturity: there is none)
    assert (loan.current_rate_pct, loan.next_repricing_on) == (D("3.000000"), None)
    assert segments(rows(loan)[0], "penalty") == [
        (date(2026, 2, 11), date(2026, 2, 20), D("100000.00"), D("5.175000"), D("143.75")),
        (date(2026, 2, 21), date(2026, 2, 28), D("100000.00"), D("4.500000"), D("100.00")),
    ]
    assert rows(loan)[0].penalty_accrued == D("243.75")


def test_the_uplift_and_compound_interest_are_settings(bank: Bank, settings: Any) -> None:
    # given: a bank that raises the rate by 30 % and charges no compound interest
    settings.PENALTY_UPLIFT_PCT = 30
    settings.COMPOUND_ON_OVERDUE_INTEREST = False
    loan = make_loan(bank.alice, THREE_MONTHS)
    # when
    eod_through(date(2026, 3, 13), first=FEB_10)
    # then: 100,000.00 × 4.35 % × 1.3 / 360 × 31 = 486.958… → 486.96
    first = rows(loan)[0]
    assert (first.penalty_accrued, first.compound_accrued) == (D("486.96"), D("0.00"))
    assert segments(first, "compound") == []


# --- the contract's state --------------------------------------------------------------------------------------------


def test_the_contract_state_follows_its_instalments(bank: Bank) -> None:
    # given: February unpaid, March's interest paid but not its principal
    loan = make_loan(bank.alice, THREE_MONTHS)
    eod_through(MAR_10, first=FEB_10)
    pay(rows(loan)[1], interest="362.50", on=MAR_10)
    # when
    eod_through(date(2026, 3, 13))
    # then
    loan.refresh_from_db()
    first, second = rows(loan)[:2]
    assert (
        loan.outstanding_principal,
        loan.overdue_principal,
        loan.overdue_interest,
        loan.penalty_unpaid,
        loan.days_past_due,
        loan.overdue_since,
        loan.next_due_date,
        loan.status,
    ) == (
        D("300000.00"),
        D("200000.00"),
        D("435.00"),
        first.penalty_accrued + first.compound_accrued + second.penalty_accrued,
        31,
        date(2026, 2, 11),
        APR_10,
        LoanStatus.ACTIVE,
    )
    assert second.compound_accrued == D("0.00")  # its interest was paid on time


def test_the_batch_state_is_the_loans_services_state(bank: Bank) -> None:
    # given: loans in assorted states (unpaid, part-paid, paid on time, paid late with penalty left)
    loans = [make_loan(bank.alice, THREE_MONTHS) for _ in range(4)]
    eod_through(MAR_10, first=FEB_10)
    pay(rows(loans[1])[0], principal="30000.00", interest="435.00", on=date(2026, 2, 15))
    pay(rows(loans[2])[0], principal="100000.00", interest="435.00", on=FEB_10)
    pay(rows(loans[3])[0], principal="100000.00", interest="435.00", on=date(2026, 3, 1))
    eod_through(date(2026, 3, 20))
    batch = {loan.pk: _state(loan.pk) for loan in loans}
    # when: the loans' own per-contract refresh (loans/state.py) recomputes them from scratch
    LoanContract.objects.filter(pk__in=batch).update(
        outstanding_principal=0, overdue_principal=0, overdue_interest=0, penalty_unpaid=0, days_past_due=0,
        overdue_since=None, next_due_date=None,
    )  # fmt: skip
    state.refresh_contract_state(batch, date(2026, 3, 20))
    # then
    assert {pk: _state(pk) for pk in batch} == batch
    assert batch[loans[3].pk][4] == 10  # March unpaid since 03-11


def _state(pk: int) -> tuple[Any, ...]:
    return tuple(LoanContract.objects.filter(pk=pk).values_list(*standing.STATE_COLUMNS).get())


def test_a_loan_paid_off_closes_on_the_day_its_last_instalment_was_paid(bank: Bank) -> None:
    # given: a one-period loan paid in full on its due date
    loan = make_loan(bank.alice, [(FEB_10, "50000.00", "200.00")])
    eod_through(FEB_10, first=FEB_10)
    pay(rows(loan)[0], principal="50000.00", interest="200.00", on=FEB_10)
    # when
    eod_through(date(2026, 2, 11))
    # then
    loan.refresh_from_db()
    assert (loan.status, loan.closed_on, loan.outstanding_principal, loan.next_due_date) == (
        LoanStatus.CLOSED,
        FEB_10,
        D("0.00"),
        None,
    )


def test_a_second_standing_run_reads_the_contracts_and_writes_none(bank: Bank) -> None:
    # given
    make_loan(bank.alice, THREE_MONTHS)
    eod_through(date(2026, 2, 15), first=FEB_10)
    # when
    counts = standing.run(on=date(2026, 2, 15), customers=WHOLE_BANK)
    # then
    assert counts == {"contracts": 1, "changed": 0, "closed": 0}


# --- month-end snapshots ---------------------------------------------------------------------------------------------


def test_the_last_day_of_a_month_snapshots_every_active_loan_once(bank: Bank) -> None:
    # given: an overdue loan, a loan paid off and closed
    overdue = make_loan(bank.alice, THREE_MONTHS)
    closed = make_loan(bank.bob, [(FEB_10, "50000.00", "200.00")])
    eod_through(FEB_10, first=FEB_10)
    pay(rows(closed)[0], principal="50000.00", interest="200.00", on=FEB_10)
    # when: through the end of February, and the snapshot job again
    eod_through(date(2026, 2, 28))
    again = snapshots.run(on=date(2026, 2, 28), customers=WHOLE_BANK)
    # then: one row, for February, of the active loan; none on other days; none twice
    assert list(
        ClassificationSnapshot.objects.values_list(
            "month", "contract_id", "classification", "outstanding_principal", "overdue_principal"
        )
    ) == [(date(2026, 2, 1), overdue.pk, 1, D("300000.00"), D("100000.00"))]
    assert again == {"snapshots": 0}
    assert snapshots.run(on=date(2026, 2, 27), customers=WHOLE_BANK) == {"snapshots": 0}
