"""/api/v1 of the collection work 收息收贷: the collection calendar, the overdue list, a loan's collection log and
classification, the classification queue, and portfolio quality. Thin: every figure comes from `postloan.queries`
(as on the pages and in `rmdesk collection`), every write from `postloan.services`; out of scope is a 404.

The `*_out` functions are the answers' shapes as dicts: the `rmdesk collection` command prints the same ones.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rmdesk.access.policy import Action, may
from rmdesk.core.api import ERRORS, amount_in, amount_out
from rmdesk.core.errors import DomainError, NotFoundError
from rmdesk.core.pagination import check_limit
from rmdesk.loans.models import LoanContract
from rmdesk.loans.queries import contract_for
from rmdesk.org.models import User
from rmdesk.postloan import services
from rmdesk.postloan.filters import CalendarFilter, LoanScopeFilter, OverdueFilter, PortfolioFilter, QueueFilter
from rmdesk.postloan.models import ClassificationDecision, CollectionLog
from rmdesk.postloan.queries import (
    OVERDUE_ORDERS,
    CollectionCalendar,
    DueLine,
    DueTotals,
    OverdueTotals,
    PortfolioQuality,
    QualityRow,
    classification_queue,
    collection_calendar,
    overdue_loans,
    overdue_totals,
    percent,
    portfolio_quality,
)
from rmdesk.postloan.schemas import (
    BAND_DESCRIPTION,
    CalendarOut,
    ClassificationOut,
    CollectionLogIn,
    CollectionLogOut,
    DecisionIn,
    DecisionOut,
    OverduePage,
    ProposalPage,
    QualityOut,
)

router = Router(tags=["collection"])

# The list's orders the API pages through (a nullable key cannot carry a keyset cursor: no "last_contact").
API_ORDERS = {name: order for name, order in OVERDUE_ORDERS.items() if all(isinstance(key, str) for key in order)}
QUEUE_ORDER = ("-proposed_classification", "-days_past_due", "pk")
_INT_KEYS = {"pk", "days_past_due", "classification", "proposed_classification"}
_AMOUNT_KEYS = {"overdue_principal", "overdue_interest", "penalty_unpaid"}


def _actor(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def _checked(filter_form: LoanScopeFilter | QueueFilter) -> None:
    """The filters' errors as a 422 naming each query parameter."""
    if not filter_form.is_valid():
        raise ValidationError(filter_form.error_fields())


def _unit_chosen(filter_form: LoanScopeFilter) -> None:
    """A bank-wide role names a unit: the whole bank is no one's calendar or portfolio."""
    if filter_form.bank_wide and filter_form.cleaned_data.get("unit") is None:
        raise ValidationError({"unit": _("Choose a unit: the whole bank is too large for one view.")})


def _params(**values: Any) -> dict[str, str]:
    return {name: str(value) for name, value in values.items() if value is not None and value != ""}


# --- shapes ----------------------------------------------------------------------------------------------------------


def due_line_out(line: DueLine) -> dict[str, Any]:
    return {
        "contract_id": line.contract_id,
        "contract_no": line.contract_no,
        "currency": line.currency,
        "customer_id": line.customer_id,
        "customer_name": line.customer_name,
        "rm_id": line.rm_id,
        "rm_name": line.rm_name,
        "due_date": line.due_date,
        "principal": amount_out(line.principal),
        "interest": amount_out(line.interest),
        "fee": amount_out(line.fee),
        "penalty": amount_out(line.penalty),
        "total": amount_out(line.total),
        "days_overdue": line.days_overdue,
    }


def due_totals_out(totals: DueTotals) -> dict[str, Any]:
    return {
        "lines": totals.lines,
        "principal": amount_out(totals.principal),
        "interest": amount_out(totals.interest),
        "fee": amount_out(totals.fee),
        "penalty": amount_out(totals.penalty),
        "total": amount_out(totals.total),
        "other_currency_lines": totals.other_currency_lines,
    }


def calendar_out(calendar: CollectionCalendar) -> dict[str, Any]:
    return {
        "today": calendar.today,
        "month": calendar.month,
        "week_start": calendar.week_start,
        "week_end": calendar.week_end,
        "overdue": [due_line_out(line) for line in calendar.overdue],
        "this_week": [due_line_out(line) for line in calendar.this_week],
        "this_month": [due_line_out(line) for line in calendar.this_month],
        "overdue_totals": due_totals_out(calendar.overdue_totals),
        "week_totals": due_totals_out(calendar.week_totals),
        "month_totals": due_totals_out(calendar.month_totals),
        "days": [
            {
                "day": cell.day,
                "in_month": cell.in_month,
                "lines": cell.lines,
                "total": amount_out(cell.total),
                "overdue": cell.overdue,
            }
            for week in calendar.weeks
            for cell in week
        ],
    }


def overdue_loan_out(loan: Any) -> dict[str, Any]:
    """A loan of the overdue list or the queue (annotated by `overdue_loans` with its last contact and promise)."""
    return {
        "id": loan.pk,
        "contract_no": loan.contract_no,
        "currency": loan.currency,
        "customer_id": loan.customer_id,
        "customer_name": loan.customer.name,
        "rm_id": loan.primary_rm_id,
        "rm_name": loan.primary_rm.display_name,
        "days_past_due": loan.days_past_due,
        "overdue_since": loan.overdue_since,
        "outstanding_principal": amount_out(loan.outstanding_principal),
        "overdue_principal": amount_out(loan.overdue_principal),
        "overdue_interest": amount_out(loan.overdue_interest),
        "penalty": amount_out(loan.penalty_unpaid),
        "classification": loan.classification,
        "classification_label": loan.get_classification_display(),
        "proposed_classification": loan.proposed_classification,
        "proposed_classification_label": loan.get_proposed_classification_display()
        if loan.proposed_classification
        else None,
        "last_contact": getattr(loan, "last_contact", None),
        "promise_date": getattr(loan, "promise_date", None),
        "promise_amount": amount_out(getattr(loan, "promise_amount", None)),
    }


def overdue_totals_out(totals: OverdueTotals) -> dict[str, Any]:
    return {
        "loans": totals.loans,
        "outstanding": amount_out(totals.outstanding),
        "overdue_principal": amount_out(totals.overdue_principal),
        "overdue_interest": amount_out(totals.overdue_interest),
        "penalty": amount_out(totals.penalty),
        "other_currency_loans": totals.other_currency_loans,
    }


def collection_log_out(log: CollectionLog) -> dict[str, Any]:
    return {
        "id": log.pk,
        "contract_id": log.contract_id,
        "contacted_on": log.contacted_on,
        "channel": log.channel,
        "channel_label": log.get_channel_display(),
        "contact_person": log.contact_person,
        "result": log.result,
        "promise_date": log.promise_date,
        "promise_amount": amount_out(log.promise_amount),
        "promise_status": log.promise_status,
        "promise_status_label": log.get_promise_status_display(),
        "created_by": log.created_by.username,
        "created_at": log.created_at,
    }


def decision_out(decision: ClassificationDecision) -> dict[str, Any]:
    return {
        "id": decision.pk,
        "contract_id": decision.contract_id,
        "decided_on": decision.decided_on,
        "previous": decision.previous,
        "proposed": decision.proposed,
        "decided": decision.decided,
        "decided_label": decision.get_decided_display(),
        "days_past_due": decision.days_past_due,
        "reason": decision.reason,
        "decided_by": decision.decided_by.username,
        "decided_at": decision.decided_at,
    }


def _ratio(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def quality_row_out(row: QualityRow) -> dict[str, Any]:
    return {
        "id": row.key,
        "name": row.name,
        "loans": row.loans,
        "outstanding": amount_out(row.outstanding),
        "overdue_loans": row.overdue_loans,
        "overdue_balance": amount_out(row.overdue_balance),
        "overdue_principal": amount_out(row.overdue_principal),
        "overdue_ratio": _ratio(row.overdue_ratio),
        "overdue_principal_ratio": _ratio(row.overdue_principal_ratio),
        "npl_balance": amount_out(row.npl_balance),
        "npl_ratio": _ratio(row.npl_ratio),
    }


def quality_out(quality: PortfolioQuality) -> dict[str, Any]:
    migration = quality.migration
    return {
        "today": quality.today,
        "unit_id": quality.unit.pk if quality.unit else None,
        "total": quality_row_out(quality.total),
        "classes": [
            {
                "classification": category.value,
                "label": str(category.label),
                "loans": loans,
                "outstanding": amount_out(amount),
                "share": _ratio(share),
            }
            for category, loans, amount, share in quality.classes
        ],
        "proposals": quality.proposals,
        "other_currency_loans": quality.other_currency_loans,
        "teams": [quality_row_out(row) for row in quality.teams],
        "rms": [quality_row_out(row) for row in quality.rms],
        "migration": None
        if migration is None
        else {
            "from_month": migration.from_month,
            "to_month": migration.to_month,
            "cells": [
                {"source": source, "target": target, "loans": cell.loans, "amount": amount_out(cell.amount)}
                for (source, target), cell in sorted(migration.cells.items(), key=lambda item: _cell_key(*item[0]))
            ],
        },
        "trend": [
            {
                "month": point.month,
                "loans": point.loans,
                "outstanding": amount_out(point.outstanding),
                "overdue_principal": amount_out(point.overdue_principal),
                "npl_balance": amount_out(point.npl_balance),
                "npl_ratio": _ratio(point.npl_ratio),
                "overdue_principal_ratio": _ratio(percent(point.overdue_principal, point.outstanding)),
                "by_class": {str(category): amount_out(amount) for category, amount in sorted(point.by_class.items())},
            }
            for point in quality.trend
        ],
    }


def _cell_key(source: int | None, target: int | None) -> tuple[int, int]:
    return (source or 0, target or 9)


# --- keyset pages over an order ---------------------------------------------------------------------------------------


def _key_value(loan: Any, key: str) -> Any:
    value = loan
    for part in key.lstrip("-").split("__"):
        value = getattr(value, part)
    return value


def _encode(sort: str, loan: Any, order: tuple[str, ...]) -> str:
    values = [str(_key_value(loan, key)) for key in order]
    return base64.urlsafe_b64encode(json.dumps([sort, values]).encode()).decode().rstrip("=")


def _decode(cursor: str, sort: str, order: tuple[str, ...]) -> list[Any]:
    """The last row's keys of a cursor made for this order; anything else is a field error."""
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        cursor_sort, raw = json.loads(text)
        if cursor_sort != sort or len(raw) != len(order):
            raise ValueError(text)
        values: list[Any] = []
        for key, value in zip(order, raw, strict=True):
            name = key.lstrip("-")
            values.append(int(value) if name in _INT_KEYS else Decimal(value) if name in _AMOUNT_KEYS else str(value))
        return values
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, InvalidOperation, json.JSONDecodeError):
        message = _("The cursor is not valid.")
        raise DomainError(message, fields={"cursor": [str(message)]}) from None


def _after(order: tuple[str, ...], values: list[Any]) -> Q:
    """Rows after the one with these keys in this order (each key ascending, or descending with a '-')."""
    after = Q(pk__in=[])
    for index, key in enumerate(order):
        name = key.lstrip("-")
        beyond = Q(**{f"{name}__{'lt' if key.startswith('-') else 'gt'}": values[index]})
        for earlier, value in zip(order[:index], values[:index], strict=True):
            beyond &= Q(**{earlier.lstrip("-"): value})
        after |= beyond
    return after


def keyset_page(
    loans: QuerySet[LoanContract], *, sort: str, order: tuple[str, ...], limit: int, cursor: str | None
) -> tuple[list[LoanContract], str | None]:
    check_limit(limit)
    if cursor:
        loans = loans.filter(_after(order, _decode(cursor, sort, order)))
    rows = list(loans.order_by(*order)[: limit + 1])
    items = rows[:limit]
    return items, (_encode(sort, items[-1], order) if len(rows) > limit and items else None)


# --- the collection calendar ------------------------------------------------------------------------------------------


class CalendarQuery(Schema):
    month: str | None = Field(None, description="YYYY-MM; default this month")
    unit: int | None = Field(None, description="An org unit of your scope (a risk officer or auditor must give one)")
    rm: int | None = Field(None, description="Only the loans of this primary RM (user id)")


@router.get(
    "/collection/calendar",
    response={200: CalendarOut, **ERRORS},
    summary="The collection calendar 收息收贷日历: what falls due this week and this month, and what is overdue",
    description=(
        "The loans of your scope (an RM: their customers'; a lead or head: their subtree's, narrowed by `unit` and "
        "`rm`). Each line is one loan's instalments due on one day, with what is still unpaid; penalty and compound "
        "interest as accrued at the last end of day. Sums add CNY lines only."
    ),
)
def get_calendar(request: HttpRequest, query: Query[CalendarQuery]) -> Any:
    actor = _actor(request)
    if not may(actor, Action.VIEW):
        raise NotFoundError()
    calendar_filter = CalendarFilter(_params(month=query.month, unit=query.unit, rm=query.rm), user=actor)
    _checked(calendar_filter)
    _unit_chosen(calendar_filter)
    month = calendar_filter.cleaned_data.get("month")
    calendar = collection_calendar(actor, month=month, **calendar_filter.scope_kwargs())
    return calendar_out(calendar)


# --- the overdue list -------------------------------------------------------------------------------------------------


class OverdueQuery(Schema):
    limit: int = 50
    cursor: str | None = None
    unit: int | None = None
    rm: int | None = Field(None, description="Only the loans of this primary RM (user id)")
    band: str | None = Field(None, description=BAND_DESCRIPTION)
    classification: int | None = Field(None, description="1–5")
    proposal: str | None = Field(None, description="yes: a proposal waits; no: none waits")
    promise: str | None = Field(None, description="open, broken (some promise was broken) or none (no open promise)")
    sort: str = Field("-dpd", json_schema_extra={"enum": list(API_ORDERS)})


@router.get(
    "/loans/overdue",
    response={200: OverduePage, **ERRORS},
    summary="Overdue loans in your scope, with penalty to date, classification, last contact and open promise",
    description=(
        "Active loans with days past due, `limit` per page in the order `sort` (default most days past due first); "
        "pass `next_cursor` back as `cursor` with the same `sort`. `totals` add up every loan the filters select."
    ),
)
def list_overdue(request: HttpRequest, query: Query[OverdueQuery]) -> Any:
    actor = _actor(request)
    if not may(actor, Action.VIEW):
        raise NotFoundError()
    if query.sort not in API_ORDERS:
        raise ValidationError({"sort": _("Select a valid choice.")})
    params = _params(
        unit=query.unit,
        rm=query.rm,
        band=query.band,
        classification=query.classification,
        proposal=query.proposal,
        promise=query.promise,
    )
    overdue_filter = OverdueFilter(params, user=actor)
    _checked(overdue_filter)
    loans = overdue_loans(actor, **overdue_filter.query_kwargs())
    items, next_cursor = keyset_page(
        loans, sort=query.sort, order=API_ORDERS[query.sort], limit=query.limit, cursor=query.cursor
    )
    return {
        "items": [overdue_loan_out(loan) for loan in items],
        "totals": overdue_totals_out(overdue_totals(loans)),
        "next_cursor": next_cursor,
    }


# --- the collection log -----------------------------------------------------------------------------------------------


@router.get(
    "/loans/{int:loan_id}/collection-log",
    response={200: list[CollectionLogOut], **ERRORS},
    summary="A loan's collection contacts, latest first, with their promises to pay",
)
def list_collection_log(request: HttpRequest, loan_id: int) -> Any:
    loan = contract_for(_actor(request), loan_id)
    logs = CollectionLog.objects.filter(contract=loan).select_related("created_by")
    return [collection_log_out(log) for log in logs]


@router.post(
    "/loans/{int:loan_id}/collection-log",
    response={201: CollectionLogOut, **ERRORS},
    summary="Record a collection contact on a loan, with the customer's promise to pay if any",
    description=(
        "For whoever works on the customer (its RMs, their lead and head). `contacted_on` today or earlier; a promise "
        "is `promise_date` (within a year of the contact) and `promise_amount` together. It stays open until the "
        "end-of-day batch finds it kept or broken."
    ),
)
def add_collection_log(request: HttpRequest, loan_id: int, payload: CollectionLogIn) -> Any:
    log = services.log_collection(
        actor=_actor(request),
        contract_id=loan_id,
        contacted_on=payload.contacted_on,
        channel=payload.channel,
        contact_person=payload.contact_person,
        result=payload.result,
        promise_date=payload.promise_date,
        promise_amount=amount_in(payload.promise_amount),
    )
    return Status(201, collection_log_out(CollectionLog.objects.select_related("created_by").get(pk=log.pk)))


# --- classification ---------------------------------------------------------------------------------------------------


def classification_out(loan: LoanContract) -> dict[str, Any]:
    decisions = ClassificationDecision.objects.filter(contract=loan).select_related("decided_by")
    return {
        "contract_id": loan.pk,
        "classification": loan.classification,
        "classification_label": loan.get_classification_display(),
        "proposed_classification": loan.proposed_classification,
        "classified_on": loan.classified_on,
        "classified_by": loan.classified_by.username if loan.classified_by else None,
        "days_past_due": loan.days_past_due,
        "required_by_days_past_due": int(services.classification_for_days(loan.days_past_due)),
        "decisions": [decision_out(decision) for decision in decisions],
    }


@router.get(
    "/loans/{int:loan_id}/classification",
    response={200: ClassificationOut, **ERRORS},
    summary="A loan's five-category classification: confirmed, proposed, required by days past due, and decisions",
)
def get_classification(request: HttpRequest, loan_id: int) -> Any:
    return classification_out(contract_for(_actor(request), loan_id))


@router.post(
    "/loans/{int:loan_id}/classification",
    response={201: DecisionOut, **ERRORS},
    summary="Decide a loan's classification (risk officers)",
    description=(
        "`decided` (1–5) with a `reason` (always required). Any category may be decided; one better than days past "
        "due require is marked so on the audit trail, and the batch proposes the stricter category again. The "
        "batch's proposal, if any, is answered and cleared. Others than risk officers get 404."
    ),
)
def decide_classification(request: HttpRequest, loan_id: int, payload: DecisionIn) -> Any:
    decision = services.confirm_classification(
        actor=_actor(request), contract_id=loan_id, decided=payload.decided, reason=payload.reason
    )
    return Status(201, decision_out(ClassificationDecision.objects.select_related("decided_by").get(pk=decision.pk)))


class ProposalQuery(Schema):
    limit: int = 50
    cursor: str | None = None
    unit: int | None = None
    proposed: int | None = Field(None, description="1–5")


@router.get(
    "/loans/proposals",
    response={200: ProposalPage, **ERRORS},
    summary="The classification queue: loans whose proposal waits for a risk officer, worst proposal first",
)
def list_proposals(request: HttpRequest, query: Query[ProposalQuery]) -> Any:
    actor = _actor(request)
    if not may(actor, Action.CLASSIFY):
        raise NotFoundError()
    queue_filter = QueueFilter(_params(unit=query.unit, proposed=query.proposed), user=actor)
    _checked(queue_filter)
    loans = classification_queue(
        actor, unit=queue_filter.cleaned_data.get("unit"), proposed=queue_filter.cleaned_data.get("proposed")
    )
    items, next_cursor = keyset_page(loans, sort="queue", order=QUEUE_ORDER, limit=query.limit, cursor=query.cursor)
    return {"items": [overdue_loan_out(loan) for loan in items], "next_cursor": next_cursor}


# --- portfolio quality ------------------------------------------------------------------------------------------------


class QualityQuery(Schema):
    unit: int | None = Field(None, description="An org unit of your scope (a risk officer or auditor must give one)")
    month: str | None = Field(None, description="YYYY-MM: the month end the migration ends at (default the latest)")


@router.get(
    "/portfolio/quality",
    response={200: QualityOut, **ERRORS},
    summary="Portfolio quality: overdue and NPL ratios, categories, migration, twelve month ends, per team and RM",
    description=(
        "Active CNY loans of your scope (a team lead: the team; a branch head: the branch; `unit` narrows it). "
        "Overdue ratio = outstanding principal of loans with days past due / outstanding principal; NPL ratio = "
        "outstanding of loans classified 次级, 可疑 or 损失 / outstanding principal; per cent, half-up to 0.01. "
        "The migration compares the last two month-end snapshots."
    ),
)
def get_quality(request: HttpRequest, query: Query[QualityQuery]) -> Any:
    actor = _actor(request)
    if not may(actor, Action.VIEW):
        raise NotFoundError()
    portfolio_filter = PortfolioFilter(_params(unit=query.unit, month=query.month), user=actor)
    _checked(portfolio_filter)
    _unit_chosen(portfolio_filter)
    quality = portfolio_quality(
        actor, unit=portfolio_filter.cleaned_data.get("unit"), month=portfolio_filter.cleaned_data.get("month")
    )
    return quality_out(quality)
