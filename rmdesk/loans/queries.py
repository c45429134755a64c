"""Reads of loans, always through the customer's scope: a loan, its instalments and its repayments inherit the
visibility of the customer they belong to."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from rmdesk.access.policy import Action
from rmdesk.core.errors import NotFoundError
from rmdesk.loans.models import Drawdown, Instalment, LoanContract, LoanGuarantor, Repayment, RepaymentAllocation


def contracts_for(user: Any, action: Action = Action.VIEW) -> QuerySet[LoanContract]:
    """The loans of the customers `user` may apply `action` to."""
    return LoanContract.objects.restrict(user, action)


def contract_for(user: Any, contract_id: int, action: Action = Action.VIEW, *, lock: bool = False) -> LoanContract:
    """One loan in scope (with its customer and primary RM); NotFoundError (404) for one out of scope or missing."""
    contracts = contracts_for(user, action).select_related("customer", "primary_rm")
    if lock:
        contracts = contracts.select_for_update(of=("self",))
    contract = contracts.filter(pk=contract_id).first()
    if contract is None:
        raise NotFoundError()
    return contract


def contract_detail(contract: LoanContract) -> LoanContract:
    """The loan again with its guarantors and drawdowns, for a detail page or answer (one query each)."""
    return (
        LoanContract.objects.select_related("customer", "primary_rm", "classified_by")
        .prefetch_related(
            Prefetch("guarantors", queryset=LoanGuarantor.objects.order_by("pk")),
            Prefetch("drawdowns", queryset=Drawdown.objects.order_by("number")),
        )
        .get(pk=contract.pk)
    )


def schedule_of(contract: LoanContract) -> QuerySet[Instalment]:
    """A loan's instalments, oldest due first (drawdown and period break ties): the order repayments pay them in."""
    return Instalment.objects.filter(contract=contract).order_by("due_date", "drawdown__number", "number")


def repayments_of(contract: LoanContract) -> QuerySet[Repayment]:
    """A loan's repayments, newest first, each with its allocations."""
    allocations = RepaymentAllocation.objects.select_related("instalment__drawdown").order_by("pk")
    return (
        Repayment.objects.filter(contract=contract)
        .select_related("entered_by")
        .prefetch_related(Prefetch("allocations", queryset=allocations))
        .order_by("-paid_on", "-pk")
    )
