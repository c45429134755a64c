"""Loans for tests: opened through the service (so every loan has the engine's schedule and its audit event), and
small helpers that put a loan into a state the end-of-day batch would have left it in (penalty accrued, amounts
paid) by writing the instalments directly."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from rmdesk.customers.choices import Direction, RelationshipKind
from rmdesk.customers.models import Customer, Relationship
from rmdesk.loans import services
from rmdesk.loans.models import Instalment, LoanContract
from rmdesk.org.models import User
from tests.personas import credit_code

_numbers = itertools.count(1)

# A fixed business date for the tests that need one: after every default start date below, before maturity.
AS_OF = date(2025, 9, 30)


def contract_no() -> str:
    return f"HT-TEST-{next(_numbers):05d}"


def make_loan(rm: User, customer: Customer, **fields: Any) -> LoanContract:
    """A loan opened by `rm` through create_contract: by default 1,200,000.00 at a fixed 4.35% over 12 months, equal
    principal, drawn on 2025-01-15, unsecured, as of AS_OF."""
    fields.setdefault("contract_no", contract_no())
    fields.setdefault("product", "working_capital")
    fields.setdefault("amount", Decimal("1200000.00"))
    fields.setdefault("term_months", 12)
    fields.setdefault("repayment_method", "equal-principal")
    fields.setdefault("guarantee_method", "credit")
    fields.setdefault("start_date", date(2025, 1, 15))
    if fields.get("rate_kind", "fixed") == "fixed":
        fields.setdefault("fixed_rate_pct", Decimal("4.35"))
    fields.setdefault("as_of", AS_OF)
    return services.create_contract(actor=rm, customer=customer, **fields)


def make_guarantee(customer: Customer, *, direction: str = Direction.INWARD, **fields: Any) -> Relationship:
    """A guarantee relationship of `customer` (by default an outside firm guaranteeing it)."""
    fields.setdefault("counterparty_name", f"担保公司{next(_numbers)}有限公司")
    fields.setdefault("counterparty_credit_code", credit_code())
    return Relationship.objects.create(
        customer=customer, kind=RelationshipKind.GUARANTEE, direction=direction, **fields
    )


def instalments(loan: LoanContract) -> list[Instalment]:
    """The loan's instalments, oldest due first."""
    return list(Instalment.objects.filter(contract=loan).order_by("due_date", "drawdown__number", "number"))


def accrue(instalment: Instalment, *, penalty: str = "0.00", compound: str = "0.00", through: date = AS_OF) -> None:
    """Penalty and compound interest as the end-of-day batch would have accrued them on an overdue instalment."""
    instalment.penalty_accrued = Decimal(penalty)
    instalment.compound_accrued = Decimal(compound)
    instalment.accrued_through = through
    instalment.save(update_fields=["penalty_accrued", "compound_accrued", "accrued_through"])


def charge_fee(instalment: Instalment, fee: str) -> None:
    instalment.fee_due = Decimal(fee)
    instalment.save(update_fields=["fee_due"])
