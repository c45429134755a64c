"""The overdue list and the classification queue."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)

from rmdesk.access.policy import Action
from rmdesk.loans.choices import Currency, LoanStatus
from rmdesk.loans.models import LoanContract
from rmdesk.org.models import OrgUnit, User
from rmdesk.postloan.choices import PromiseStatus
from rmdesk.postloan.models import CollectionLog
from rmdesk.postloan.queries.scope import MONEY, amount_of, fen_sum, scoped_loans

# --- the overdue list -------------------------------------------------------------------------------------------------

# Days-past-due bands of the overdue list's filter: (low, high) inclusive, high None for open-ended.
DPD_BANDS: dict[str, tuple[int, int | None]] = {
    "1-30": (1, 30),
    "31-90": (31, 90),
    "91-180": (91, 180),
    "181-360": (181, 360),
    "361+": (361, None),
}

# The overdue list's orders: name → order_by fields (each ends on pk, so pages are stable).
OVERDUE_ORDERS: dict[str, tuple[str, ...]] = {
    "-dpd": ("-days_past_due", "pk"),
    "dpd": ("days_past_due", "pk"),
    "-overdue_principal": ("-overdue_principal", "pk"),
    "-overdue_interest": ("-overdue_interest", "pk"),
    "-penalty": ("-penalty_unpaid", "pk"),
    "customer": ("customer__name", "pk"),
    "contract": ("contract_no", "pk"),
    "last_contact": (F("last_contact").asc(nulls_first=True), "pk"),  # type: ignore[dict-item]
    "-classification": ("-classification", "-days_past_due", "pk"),
}


def overdue_loans(
    user: Any,
    *,
    unit: OrgUnit | None = None,
    rm: User | None = None,
    band: str | None = None,
    classification: int | None = None,
    proposal: bool | None = None,
    promise: str | None = None,
    action: Action = Action.VIEW,
) -> QuerySet[LoanContract]:
    """The active loans in scope with days past due, each with its last collection contact and its open promise to
    pay (the earliest still open). Unordered: the caller orders (OVERDUE_ORDERS)."""
    loans = scoped_loans(user, unit=unit, rm=rm, action=action).filter(days_past_due__gt=0, status=LoanStatus.ACTIVE)
    if band:
        low, high = DPD_BANDS[band]
        loans = loans.filter(days_past_due__gte=low)
        if high is not None:
            loans = loans.filter(days_past_due__lte=high)
    if classification:
        loans = loans.filter(classification=classification)
    if proposal is True:
        loans = loans.filter(proposed_classification__isnull=False)
    elif proposal is False:
        loans = loans.filter(proposed_classification__isnull=True)
    logs = CollectionLog.objects.filter(contract=OuterRef("pk")).order_by()
    open_promise = logs.filter(promise_status=PromiseStatus.OPEN).order_by("promise_date", "pk")
    loans = loans.annotate(
        last_contact=Subquery(logs.order_by("-contacted_on", "-pk").values("contacted_on")[:1]),
        promise_date=Subquery(open_promise.values("promise_date")[:1]),
        promise_amount=Subquery(open_promise.values("promise_amount")[:1], output_field=MONEY),
    )
    if promise == PromiseStatus.OPEN:
        loans = loans.filter(promise_date__isnull=False)
    elif promise == PromiseStatus.BROKEN:
        loans = loans.filter(Exists(logs.filter(promise_status=PromiseStatus.BROKEN)))
    elif promise == PromiseStatus.NONE:
        loans = loans.filter(promise_date__isnull=True)
    return loans.select_related("customer", "primary_rm")


@dataclass(frozen=True)
class OverdueTotals:
    loans: int
    outstanding: Decimal  # CNY loans only, as every sum of this module
    overdue_principal: Decimal
    overdue_interest: Decimal
    penalty: Decimal
    other_currency_loans: int


def overdue_totals(loans: QuerySet[LoanContract]) -> OverdueTotals:
    """Counts and CNY sums of an overdue list (as filtered)."""
    cny = Q(currency=Currency.CNY)
    sums = loans.order_by().aggregate(
        loans=Count("pk"),
        cny_loans=Count("pk", filter=cny),
        outstanding=fen_sum("outstanding_principal", filter=cny),
        overdue_principal=fen_sum("overdue_principal", filter=cny),
        overdue_interest=fen_sum("overdue_interest", filter=cny),
        penalty=fen_sum("penalty_unpaid", filter=cny),
    )
    return OverdueTotals(
        loans=sums["loans"],
        outstanding=amount_of(sums["outstanding"]),
        overdue_principal=amount_of(sums["overdue_principal"]),
        overdue_interest=amount_of(sums["overdue_interest"]),
        penalty=amount_of(sums["penalty"]),
        other_currency_loans=sums["loans"] - sums["cny_loans"],
    )


# --- the classification queue ----------------------------------------------------------------------------------------


def classification_queue(
    user: Any, *, unit: OrgUnit | None = None, proposed: int | None = None
) -> QuerySet[LoanContract]:
    """The active loans whose batch proposal waits for a person with Action.CLASSIFY, worst proposal first."""
    loans = scoped_loans(user, unit=unit, action=Action.CLASSIFY).filter(
        proposed_classification__isnull=False, status=LoanStatus.ACTIVE
    )
    if proposed:
        loans = loans.filter(proposed_classification=proposed)
    return loans.select_related("customer", "primary_rm").order_by("-proposed_classification", "-days_past_due", "pk")
