"""Loans in a given collection state, written directly with the models (tests of the read side and of the
collection services): the schedule from the engine (due dates not rolled, so a test knows them), instalments paid up
to a date, penalty segments as the end-of-day batch leaves them, the contract's state recomputed as of a date with
loans.state, month-end snapshots and collection logs."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from rmdesk.customers.models import Customer
from rmdesk.loans.choices import AccrualKind, Classification, InstalmentStatus
from rmdesk.loans.models import AccrualSegment, Drawdown, Instalment, LoanContract
from rmdesk.loans.schedule import LoanTerms, Method, build_schedule, maturity_date
from rmdesk.loans.schedule import add_months as schedule_add_months
from rmdesk.loans.state import refresh_contract_state
from rmdesk.org.models import User
from rmdesk.postloan.choices import ContactChannel, PromiseStatus
from rmdesk.postloan.models import ClassificationSnapshot, CollectionLog

_numbers = itertools.count(1)
FEN = Decimal("0.01")


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, 28))


def make_loan(
    customer: Customer,
    *,
    start: date,
    amount: str = "1200000.00",
    rate: str = "4.350000",
    months: int = 12,
    method: str = Method.EQUAL_PRINCIPAL,
    rm: User | None = None,
    paid_through: date | None = None,
    as_of: date | None = None,
    **fields: Any,
) -> LoanContract:
    """A fixed-rate loan of `customer` drawn on `start`, its instalments paid in full (on their due dates) up to
    `paid_through`, its state recomputed as of `as_of` (when given) as the batch would leave it."""
    principal = Decimal(amount)
    terms = LoanTerms(
        principal=principal, annual_rate_pct=Decimal(rate), months=months, method=Method(method), start=start
    )
    periods = build_schedule(terms)
    rm = rm or customer.primary_rm
    assert rm is not None
    fields.setdefault("contract_no", f"HT-PL-{next(_numbers):05d}")
    fields.setdefault("product", "working_capital")
    fields.setdefault("guarantee_method", "credit")
    loan = LoanContract.objects.create(
        customer=customer,
        amount=principal,
        term_months=months,
        repayment_method=method,
        fixed_rate_pct=Decimal(rate),
        current_rate_pct=Decimal(rate),
        primary_rm=rm,
        start_date=start,
        maturity_date=maturity_date(start, months),
        outstanding_principal=principal,
        **fields,
    )
    drawdown = Drawdown.objects.create(contract=loan, number=1, drawn_on=start, amount=principal, months=months)
    Instalment.objects.bulk_create(
        Instalment(
            contract=loan,
            drawdown=drawdown,
            customer=customer,
            number=period.number,
            scheduled_date=period.scheduled_date,
            due_date=period.due_date,
            rate_pct=Decimal(rate),
            principal_due=period.principal,
            interest_due=period.interest,
        )
        for period in periods
    )
    if paid_through is not None:
        pay_through(loan, paid_through)
    if as_of is not None:
        refresh(loan, as_of)
    return loan


def instalments(loan: LoanContract) -> list[Instalment]:
    return list(Instalment.objects.filter(contract=loan).order_by("due_date", "number"))


def pay_through(loan: LoanContract, day: date) -> None:
    """Every instalment due on or before `day` paid in full on its due date."""
    for row in Instalment.objects.filter(contract=loan, due_date__lte=day):
        row.principal_paid, row.interest_paid, row.fee_paid = row.principal_due, row.interest_due, row.fee_due
        row.penalty_paid, row.compound_paid = row.penalty_accrued, row.compound_accrued
        row.status, row.paid_on = InstalmentStatus.PAID, row.due_date
        row.save()


def refresh(loan: LoanContract, as_of: date) -> LoanContract:
    """The contract's state (and its instalments' statuses) as of `as_of`, as loans.state computes it."""
    refresh_contract_state([loan.pk], as_of)
    loan.refresh_from_db()
    return loan


def segment_amount(base: Decimal, rate_pct: Decimal, days: int) -> Decimal:
    """base × rate / 100 / 360 × days, half-up to the fen once."""
    return (base * rate_pct / 100 / 360 * days).quantize(FEN, rounding=ROUND_HALF_UP)


def accrue(
    instalment: Instalment,
    *,
    kind: str = AccrualKind.PENALTY,
    start: date,
    end: date,
    base: str | Decimal,
    rate_pct: str | Decimal,
) -> AccrualSegment:
    """A penalty (or compound) segment on an overdue instalment, added to its accrued total."""
    base, rate_pct = Decimal(base), Decimal(rate_pct)
    amount = segment_amount(base, rate_pct, (end - start).days + 1)
    segment = AccrualSegment.objects.create(
        instalment=instalment,
        kind=kind,
        start_date=start,
        end_date=end,
        base=base,
        annual_rate_pct=rate_pct,
        amount=amount,
    )
    if kind == AccrualKind.PENALTY:
        instalment.penalty_accrued += amount
    else:
        instalment.compound_accrued += amount
    instalment.accrued_through = end
    instalment.save(update_fields=["penalty_accrued", "compound_accrued", "accrued_through"])
    return segment


def overdue_loan(customer: Customer, *, as_of: date, days: int, **fields: Any) -> LoanContract:
    """A 1,200,000.00 equal-principal loan (100,000.00 principal a month at 4.35%) whose instalment due `days` days
    before `as_of` is unpaid, with its penalty and compound interest accrued through `as_of` at 4.35% × 1.5."""
    due = as_of - timedelta(days=days)
    # The third instalment falls due on `due` (pick dates whose day exists three months earlier).
    start = schedule_add_months(due, -3)
    loan = make_loan(customer, start=start, paid_through=due - timedelta(days=1), **fields)
    rows = instalments(loan)
    assert rows[2].due_date == due, f"choose another date: the third instalment falls due on {rows[2].due_date}"
    overdue_rows = [row for row in rows if row.due_date < as_of and row.due_date >= due]
    rate = Decimal("6.525")
    for row in overdue_rows:
        since = row.due_date + timedelta(days=1)
        accrue(row, start=since, end=as_of, base=row.principal_due, rate_pct=rate)
        accrue(row, kind=AccrualKind.COMPOUND, start=since, end=as_of, base=row.interest_due, rate_pct=rate)
    return refresh(loan, as_of)


def snapshot(loan: LoanContract, month: date, classification: int = Classification.NORMAL, **fields: Any) -> Any:
    """The loan's month-end snapshot for `month` (its first day)."""
    fields.setdefault("outstanding_principal", loan.outstanding_principal)
    fields.setdefault("overdue_principal", Decimal("0.00"))
    return ClassificationSnapshot.objects.create(
        month=month.replace(day=1), contract=loan, customer_id=loan.customer_id, classification=classification, **fields
    )


def collection_log(loan: LoanContract, by: User, **fields: Any) -> CollectionLog:
    """A collection contact written directly (tests of the read side)."""
    fields.setdefault("contacted_on", date.today())
    fields.setdefault("channel", ContactChannel.PHONE)
    fields.setdefault("contact_person", "王财务")
    fields.setdefault("result", "答应月底前还款")
    if fields.get("promise_date") is not None:
        fields.setdefault("promise_status", PromiseStatus.OPEN)
    return CollectionLog.objects.create(contract=loan, customer_id=loan.customer_id, created_by=by, **fields)


def days_back_to_a_plain_day(today: date, at_least: int) -> int:
    """At least `at_least` days back from `today`, landing on a day of month ≤ 28 (which every month has), so a
    monthly schedule can fall due exactly then."""
    days = at_least
    while (today - timedelta(days=days)).day > 28:
        days += 1
    return days


def due_on(customer: Customer, day: date, *, as_of: date, **fields: Any) -> LoanContract:
    """A loan whose first instalment falls due on `day` (the loan drawn a month before), state as of `as_of`."""
    loan = make_loan(customer, start=schedule_add_months(day, -1), **fields)
    first = instalments(loan)[0]
    if first.due_date != day:  # a day of month the month before lacks: move the first due date onto it
        Instalment.objects.filter(pk=first.pk).update(due_date=day, scheduled_date=day)
    return refresh(loan, as_of)
