"""The collection state of a loan as of a business date (loans.state), definition by definition, and the same figures
from the end-of-day batch's set-based jobs (postloan.jobs.due and .standing) on the same loans."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from django.db import transaction

from rmdesk.loans.models import Instalment, LoanContract
from rmdesk.loans.state import STATE_FIELDS, instalment_status, refresh_contract_state
from tests.loans.factories import accrue, charge_fee, instalments, make_loan
from tests.personas import Bank, make_customer

D = date(2025, 5, 15)  # the fourth period's due date (a Thursday) of the default loan


def _pay(row: Instalment, **paid: str) -> None:
    for name, value in paid.items():
        setattr(row, name, Decimal(value))
    row.save()


def _loan(bank: Bank) -> LoanContract:
    """The default loan (100,000.00 principal a month from 2025-02-17), as of its opening day (nothing overdue)."""
    return make_loan(bank.alice, make_customer(bank.alice), as_of=date(2025, 1, 15))


def test_an_instalment_is_paid_overdue_due_or_scheduled(bank: Bank) -> None:
    # given the default loan: period 1 due 2025-02-17, 3 on 2025-04-15, 4 on D, 5 on 2025-06-16
    rows = instalments(_loan(bank))
    _pay(rows[0], principal_paid="100000.00", interest_paid="4350.00")
    # then as of D: 1 is paid, 2 and 3 overdue, 4 due today, 5 scheduled
    assert [instalment_status(r, D) for r in rows[:5]] == ["paid", "overdue", "overdue", "due", "scheduled"]


def test_an_instalment_with_penalty_unpaid_is_not_paid(bank: Bank) -> None:
    row = instalments(_loan(bank))[0]
    _pay(row, principal_paid="100000.00", interest_paid="4350.00")
    accrue(row, penalty="10.00")
    assert instalment_status(row, D) == "overdue"
    _pay(row, penalty_paid="10.00")
    assert instalment_status(row, D) == "paid"


def test_the_contract_state_sums_what_is_unpaid_and_dates_the_oldest_overdue(bank: Bank) -> None:
    # given the default loan with period 1 paid except 50.00 of interest, period 2 unpaid with a fee and penalty
    loan = _loan(bank)
    rows = instalments(loan)
    _pay(rows[0], principal_paid="100000.00", interest_paid="4300.00")
    charge_fee(rows[1], "200.00")
    accrue(rows[1], penalty="120.50", compound="0.75")
    # when the state is refreshed as of D
    assert refresh_contract_state([loan.pk], D) == 1
    loan.refresh_from_db()
    # then
    assert loan.outstanding_principal == Decimal("1100000.00")
    assert loan.overdue_principal == Decimal("200000.00")  # periods 2 and 3 (period 4 is due today)
    assert loan.overdue_interest == Decimal("50.00") + Decimal("3987.50") + Decimal("3625.00")
    assert loan.penalty_unpaid == Decimal("121.25")
    # the oldest period with interest or principal unpaid is period 1 (due 2025-02-17)
    assert loan.days_past_due == (D - date(2025, 2, 17)).days == 87
    assert loan.overdue_since == date(2025, 2, 18)
    assert loan.next_due_date == D
    statuses = list(Instalment.objects.filter(contract=loan).order_by("number").values_list("status", "overdue_since"))
    assert statuses[:5] == [
        ("overdue", date(2025, 2, 18)),
        ("overdue", date(2025, 3, 18)),
        ("overdue", date(2025, 4, 16)),
        ("due", None),
        ("scheduled", None),
    ]


def test_days_past_due_ignore_a_period_owing_only_fees_or_penalty(bank: Bank) -> None:
    # given period 1 paid but for its penalty, period 2 wholly unpaid
    loan = _loan(bank)
    rows = instalments(loan)
    _pay(rows[0], principal_paid="100000.00", interest_paid="4350.00")
    accrue(rows[0], penalty="99.00")
    refresh_contract_state([loan.pk], D)
    loan.refresh_from_db()
    # then the loan is past due from period 2 (2025-03-17), and period 1 is still overdue
    assert loan.days_past_due == (D - date(2025, 3, 17)).days
    assert Instalment.objects.get(pk=rows[0].pk).status == "overdue"


def test_a_loan_with_everything_paid_closes_on_the_day_of_its_last_payment(bank: Bank) -> None:
    # given every period paid, the last on 2026-01-20
    loan = _loan(bank)
    for row in instalments(loan):
        _pay(row, principal_paid=str(row.principal_due), interest_paid=str(row.interest_due))
        row.paid_on = row.due_date
        row.save()
    Instalment.objects.filter(contract=loan, number=12).update(paid_on=date(2026, 1, 20))
    # when the state is refreshed after maturity
    refresh_contract_state([loan.pk], date(2026, 2, 1))
    loan.refresh_from_db()
    # then it is closed on that day, owing nothing
    assert (loan.status, loan.closed_on) == ("closed", date(2026, 1, 20))
    assert (loan.outstanding_principal, loan.days_past_due, loan.next_due_date) == (Decimal("0.00"), 0, None)


def test_nothing_reopens_a_closed_loan_but_the_figures_stay_true(bank: Bank) -> None:
    loan = _loan(bank)
    LoanContract.objects.filter(pk=loan.pk).update(status="closed", closed_on=date(2025, 3, 1))
    refresh_contract_state([loan.pk], D)
    loan.refresh_from_db()
    assert (loan.status, loan.closed_on) == ("closed", date(2025, 3, 1))
    assert loan.outstanding_principal == Decimal("1200000.00")


def test_refreshing_twice_changes_nothing_the_second_time(bank: Bank) -> None:
    loan = _loan(bank)
    assert refresh_contract_state([loan.pk], D) == 1
    assert refresh_contract_state([loan.pk], D) == 0


def test_the_batch_computes_the_same_state_as_the_services(bank: Bank) -> None:
    """The end-of-day batch (postloan.jobs) and loans.state must agree on every figure of every loan."""
    from rmdesk.postloan.jobs import due, standing
    from rmdesk.postloan.jobs.common import WHOLE_BANK

    # given loans in various states as of the opening day
    customer = make_customer(bank.alice)
    paid_late = _loan(bank)
    rows = instalments(paid_late)
    _pay(rows[0], principal_paid="100000.00", interest_paid="4300.00")
    charge_fee(rows[1], "200.00")
    accrue(rows[1], penalty="120.50", compound="0.75")
    penalty_only = _loan(bank)
    rows = instalments(penalty_only)
    for row in rows[:3]:
        _pay(row, principal_paid=str(row.principal_due), interest_paid=str(row.interest_due))
    accrue(rows[0], penalty="5.00")
    untouched = make_loan(bank.alice, customer, repayment_method="interest-quarterly", as_of=date(2025, 1, 15))
    ids = [paid_late.pk, penalty_only.pk, untouched.pk]
    # when the batch's jobs run as of D, and the services' refresh on a copy of the same rows
    with_batch = _state_after(
        ids, lambda: (due.run(on=D, customers=WHOLE_BANK), standing.run(on=D, customers=WHOLE_BANK))
    )
    with_services = _state_after(ids, lambda: refresh_contract_state(ids, D))
    # then every contract field and every instalment status is the same
    assert with_batch == with_services


def _state_after(ids: list[int], run: Callable[[], object]) -> tuple[list[tuple], list[tuple]]:
    """Run `run` in a savepoint, read the contracts' state and instalment statuses, and roll back."""

    class _Undo(Exception):
        pass

    read: tuple[list[tuple], list[tuple]] = ([], [])
    try:
        with transaction.atomic():
            run()
            contracts = list(LoanContract.objects.filter(pk__in=ids).order_by("pk").values_list(*STATE_FIELDS))
            statuses = list(
                Instalment.objects.filter(contract_id__in=ids)
                .order_by("contract_id", "drawdown_id", "number")
                .values_list("status", "overdue_since")
            )
            read = (contracts, statuses)
            raise _Undo
    except _Undo:
        pass
    return read
