"""Loans for the end-of-day tests, written row by row so each test knows every instalment to the fen (the schedule
engine and the loans services have their own tests): a contract, one drawdown, and the instalments given."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from rmdesk.customers.models import Customer
from rmdesk.loans.models import Drawdown, Instalment, LoanContract
from rmdesk.org.models import User
from tests.personas import make_customer

_numbers = itertools.count(1)

# (due date, principal, interest) of each period.
Period = tuple[date, str, str]


def make_loan(
    rm: User,
    schedule: Sequence[Period],
    *,
    customer: Customer | None = None,
    rate: str = "4.35",
    start: date = date(2026, 1, 10),
    **fields: Any,
) -> LoanContract:
    """A fixed-rate loan of `rm`'s customer (a new one unless given) with these periods."""
    customer = customer or make_customer(rm)
    amount = sum((Decimal(principal) for _, principal, _ in schedule), Decimal("0.00"))
    fields.setdefault("rate_kind", "fixed")
    if fields["rate_kind"] == "fixed":
        fields.setdefault("fixed_rate_pct", Decimal(rate))
    else:
        fields.setdefault("lpr_spread_bp", 0)
    contract = LoanContract.objects.create(
        contract_no=f"HT-EOD-{next(_numbers):05d}",
        customer=customer,
        product="working_capital",
        amount=amount,
        term_months=len(schedule),
        repayment_method="equal-principal",
        current_rate_pct=Decimal(rate),
        guarantee_method="credit",
        primary_rm=rm,
        start_date=start,
        maturity_date=schedule[-1][0],
        outstanding_principal=amount,
        next_due_date=schedule[0][0],
        **fields,
    )
    drawdown = Drawdown.objects.create(contract=contract, number=1, drawn_on=start, amount=amount, months=len(schedule))
    Instalment.objects.bulk_create(
        Instalment(
            contract=contract,
            drawdown=drawdown,
            customer=customer,
            number=number,
            scheduled_date=due,
            due_date=due,
            rate_pct=Decimal(rate),
            principal_due=Decimal(principal),
            interest_due=Decimal(interest),
        )
        for number, (due, principal, interest) in enumerate(schedule, start=1)
    )
    return contract


def rows(contract: LoanContract) -> list[Instalment]:
    return list(Instalment.objects.filter(contract=contract).order_by("due_date", "number"))


def pay(
    instalment: Instalment,
    *,
    principal: str = "0.00",
    interest: str = "0.00",
    penalty: str = "0.00",
    compound: str = "0.00",
    on: date | None = None,
) -> Instalment:
    """Add to what was paid on an instalment, as a repayment would (marking it paid when nothing is left)."""
    instalment.refresh_from_db()
    instalment.principal_paid += Decimal(principal)
    instalment.interest_paid += Decimal(interest)
    instalment.penalty_paid += Decimal(penalty)
    instalment.compound_paid += Decimal(compound)
    if (
        instalment.principal_paid == instalment.principal_due
        and instalment.interest_paid == instalment.interest_due
        and instalment.fee_paid == instalment.fee_due
        and instalment.penalty_paid == instalment.penalty_accrued
        and instalment.compound_paid == instalment.compound_accrued
    ):
        instalment.status, instalment.paid_on = "paid", on
    instalment.save()
    return instalment
