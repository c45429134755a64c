"""/api/v1/loans and /api/v1/lpr: loan contracts, their schedules and repayments, and the LPR table. Thin: reads through
`loans.queries` (restrict() on the customer; out of scope is 404), writes through the services."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from rmdesk.core.api import ERRORS, ErrorOut, amount_out
from rmdesk.core.models import choice_label
from rmdesk.core.pagination import keyset_page
from rmdesk.loans import services
from rmdesk.loans.forms import LoanFilter
from rmdesk.loans.models import Instalment, LoanContract, LprRate, Repayment
from rmdesk.loans.queries import contract_detail, contract_for, contracts_for, repayments_of, schedule_of
from rmdesk.loans.rates import published_lpr
from rmdesk.loans.repayments import PostedRepayment, post_repayment
from rmdesk.loans.schemas import (
    DrawdownIn,
    LoanDetailOut,
    LoanIn,
    LoanPage,
    LprIn,
    LprList,
    LprOut,
    PostedRepaymentOut,
    RepaymentIn,
    RepaymentList,
    ScheduleOut,
)
from rmdesk.org.models import User

router = Router(tags=["loans"])
FORBIDDEN = {403: ErrorOut}
# The filter form's field names → the API's query parameters, for its error messages.
_QUERY_NAMES = {"customer": "customer_id", "rm": "rm_id"}


def _actor(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def rate_out(value: Decimal | None) -> str | None:
    """A rate as its shortest exact decimal: 4.350000 → "4.35", 10.000000 → "10"."""
    return None if value is None else format(value.normalize(), "f")


def _amount(value: Decimal) -> str:
    text = amount_out(value)
    assert text is not None
    return text


# --- reading loans ---------------------------------------------------------------------------------------------------


def loan_out(loan: LoanContract) -> dict[str, Any]:
    """A loan as lists show it."""
    field = LoanContract._meta.get_field
    return {
        "id": loan.pk,
        "contract_no": loan.contract_no,
        "customer_id": loan.customer_id,
        "customer_name": loan.customer.name,
        "product": loan.product,
        "product_label": choice_label(field("product"), loan.product),  # type: ignore[arg-type]
        "currency": loan.currency,
        "amount": _amount(loan.amount),
        "term_months": loan.term_months,
        "repayment_method": loan.repayment_method,
        "repayment_method_label": choice_label(field("repayment_method"), loan.repayment_method),  # type: ignore[arg-type]
        "interest_day": loan.interest_day,
        "rate_kind": loan.rate_kind,
        "fixed_rate_pct": rate_out(loan.fixed_rate_pct),
        "lpr_spread_bp": loan.lpr_spread_bp,
        "repricing_rule": loan.repricing_rule,
        "current_rate_pct": rate_out(loan.current_rate_pct),
        "next_repricing_on": loan.next_repricing_on,
        "guarantee_method": loan.guarantee_method,
        "guarantee_method_label": choice_label(field("guarantee_method"), loan.guarantee_method),  # type: ignore[arg-type]
        "purpose": loan.purpose,
        "primary_rm_id": loan.primary_rm_id,
        "primary_rm": loan.primary_rm.username,
        "primary_rm_name": loan.primary_rm.display_name,
        "start_date": loan.start_date,
        "maturity_date": loan.maturity_date,
        "status": loan.status,
        "closed_on": loan.closed_on,
        "schedule_source": loan.schedule_source,
        "outstanding_principal": _amount(loan.outstanding_principal),
        "overdue_principal": _amount(loan.overdue_principal),
        "overdue_interest": _amount(loan.overdue_interest),
        "penalty_unpaid": _amount(loan.penalty_unpaid),
        "overpayment": _amount(loan.overpayment),
        "days_past_due": loan.days_past_due,
        "overdue_since": loan.overdue_since,
        "next_due_date": loan.next_due_date,
        "classification": loan.classification,
        "classification_label": choice_label(field("classification"), loan.classification),  # type: ignore[arg-type]
        "proposed_classification": loan.proposed_classification,
        "version": loan.version,
    }


def loan_detail_out(loan: LoanContract) -> dict[str, Any]:
    """The loan with its guarantors and drawdowns."""
    loan = contract_detail(loan)
    return {
        **loan_out(loan),
        "guarantors": [
            {
                "id": g.pk,
                "name": g.name,
                "credit_code": g.credit_code,
                "relationship_id": g.relationship_id,
                "amount": amount_out(g.amount),
            }
            for g in loan.guarantors.all()
        ],
        "drawdowns": [
            {
                "number": d.number,
                "drawn_on": d.drawn_on,
                "amount": _amount(d.amount),
                "months": d.months,
                "external_ref": d.external_ref,
            }
            for d in loan.drawdowns.all()
        ],
        "classified_on": loan.classified_on,
        "classified_by": loan.classified_by.username if loan.classified_by else None,
    }


class LoanQuery(Schema):
    limit: int = 50
    cursor: str | None = None
    customer_id: int | None = None
    status: str | None = Field(None, json_schema_extra={"enum": ["active", "closed"]})
    overdue: bool | None = Field(None, description="true: days past due > 0; false: not overdue")
    rm_id: int | None = Field(None, description="The loan's primary RM (user id)")
    classification: int | None = Field(None, ge=1, le=5)


@router.get(
    "/loans",
    response={200: LoanPage, **ERRORS},
    summary="Loans in your scope",
    description=(
        "The loans of the customers you may see, by ascending id, `limit` per page; pass `next_cursor` back as "
        "`cursor` for the next page. Filters: `customer_id`, `status` (active, closed), `overdue`, `rm_id` (the "
        "loan's primary RM) and `classification` (1 normal … 5 loss). The collection figures are those of the last "
        "end-of-day run and of repayments posted since."
    ),
)
def list_loans(request: HttpRequest, query: Query[LoanQuery]) -> Any:
    params = {
        "customer": query.customer_id,
        "status": query.status,
        "overdue": query.overdue,
        "rm": query.rm_id,
        "classification": query.classification,
    }
    loan_filter = LoanFilter({name: value for name, value in params.items() if value is not None})
    if not loan_filter.is_valid():
        raise ValidationError(
            {_QUERY_NAMES.get(name, name): messages for name, messages in loan_filter.error_fields().items()}
        )
    loans = loan_filter.apply(contracts_for(_actor(request))).select_related("customer", "primary_rm")
    page = keyset_page(loans, limit=query.limit, cursor=query.cursor)
    return {"items": [loan_out(loan) for loan in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/loans/{int:loan_id}",
    response={200: LoanDetailOut, **ERRORS},
    summary="One loan, with its guarantors and drawdowns",
)
def get_loan(request: HttpRequest, loan_id: int) -> Any:
    return loan_detail_out(contract_for(_actor(request), loan_id))


@router.post(
    "/loans",
    response={201: LoanDetailOut, **ERRORS},
    summary="Open a loan contract with its first drawdown",
    description=(
        "On a customer you may change. The schedule is computed by rmdesk's engine (due dates rolled to working "
        "days); a floating rate is LPR (1-year or over-5-year) + `lpr_spread_bp`, repriced each anniversary of the "
        "first drawdown or each 1 January. Guarantors: the customer's guarantee relationships (`relationship_id`) "
        "or named ones."
    ),
)
def create_loan(request: HttpRequest, payload: LoanIn) -> Any:
    actor = _actor(request)
    loan = services.create_contract(
        actor=actor,
        customer=payload.customer_id,
        contract_no=payload.contract_no,
        product=payload.product,
        currency=payload.currency,
        amount=payload.amount,
        term_months=payload.term_months,
        repayment_method=payload.repayment_method,
        interest_day=payload.interest_day,
        rate_kind=payload.rate_kind,
        fixed_rate_pct=payload.fixed_rate_pct,
        lpr_spread_bp=payload.lpr_spread_bp,
        repricing_rule=payload.repricing_rule,
        guarantee_method=payload.guarantee_method,
        guarantors=[
            services.GuarantorInput(
                relationship_id=g.relationship_id, name=g.name, credit_code=g.credit_code, amount=g.amount
            )
            for g in payload.guarantors
        ],
        purpose=payload.purpose,
        primary_rm=payload.primary_rm_id,
        start_date=payload.start_date,
        drawdown_amount=payload.drawdown_amount,
        drawdown_ref=payload.drawdown_ref,
    )
    # Read back through the actor's view scope: what a write answers is what a read would show them.
    return Status(201, loan_detail_out(contract_for(actor, loan.pk)))


@router.post(
    "/loans/{int:loan_id}/drawdowns",
    response={201: LoanDetailOut, **ERRORS},
    summary="Draw more under a contract",
    description="Never more than the contract amount in all; the drawdown is repaid by the contract's maturity.",
)
def create_drawdown(request: HttpRequest, loan_id: int, payload: DrawdownIn) -> Any:
    actor = _actor(request)
    services.add_drawdown(
        actor=actor,
        contract=loan_id,
        drawn_on=payload.drawn_on,
        amount=payload.amount,
        external_ref=payload.external_ref,
    )
    return Status(201, loan_detail_out(contract_for(actor, loan_id)))


# --- schedule and repayments -----------------------------------------------------------------------------------------


def instalment_out(row: Instalment) -> dict[str, Any]:
    return {
        "id": row.pk,
        "drawdown": row.drawdown.number,
        "number": row.number,
        "scheduled_date": row.scheduled_date,
        "due_date": row.due_date,
        "due_date_provisional": row.due_date_provisional,
        "rate_pct": rate_out(row.rate_pct),
        "principal_due": _amount(row.principal_due),
        "interest_due": _amount(row.interest_due),
        "fee_due": _amount(row.fee_due),
        "principal_paid": _amount(row.principal_paid),
        "interest_paid": _amount(row.interest_paid),
        "fee_paid": _amount(row.fee_paid),
        "penalty_accrued": _amount(row.penalty_accrued),
        "compound_accrued": _amount(row.compound_accrued),
        "penalty_paid": _amount(row.penalty_paid),
        "compound_paid": _amount(row.compound_paid),
        "accrued_through": row.accrued_through,
        "owed": _amount(row.owed),
        "status": row.status,
        "status_label": row.get_status_display(),
        "overdue_since": row.overdue_since,
        "paid_on": row.paid_on,
    }


@router.get(
    "/loans/{int:loan_id}/schedule",
    response={200: ScheduleOut, **ERRORS},
    summary="A loan's repayment schedule, with what was paid and accrued on each period",
    description="Oldest due first (drawdown and period break ties): the order repayments pay the periods in.",
)
def get_schedule(request: HttpRequest, loan_id: int) -> Any:
    loan = contract_for(_actor(request), loan_id)
    rows = schedule_of(loan).select_related("drawdown")
    return {
        "contract_id": loan.pk,
        "schedule_source": loan.schedule_source,
        "items": [instalment_out(row) for row in rows],
    }


def repayment_out(repayment: Repayment) -> dict[str, Any]:
    return {
        "id": repayment.pk,
        "contract_id": repayment.contract_id,
        "paid_on": repayment.paid_on,
        "amount": _amount(repayment.amount),
        "source": repayment.source,
        "external_ref": repayment.external_ref,
        "allocated": _amount(repayment.amount - repayment.unallocated),
        "unallocated": _amount(repayment.unallocated),
        "entered_by": repayment.entered_by.username if repayment.entered_by else None,
        "note": repayment.note,
        "created_at": repayment.created_at,
        "allocations": [
            {
                "instalment_id": a.instalment_id,
                "drawdown": a.instalment.drawdown.number,
                "period": a.instalment.number,
                "due_date": a.instalment.due_date,
                "component": a.component,
                "amount": _amount(a.amount),
            }
            for a in repayment.allocations.all()
        ],
    }


@router.get(
    "/loans/{int:loan_id}/repayments",
    response={200: RepaymentList, **ERRORS},
    summary="A loan's repayments, newest first, with how each was allocated",
)
def list_repayments(request: HttpRequest, loan_id: int) -> Any:
    loan = contract_for(_actor(request), loan_id)
    return {"items": [repayment_out(r) for r in repayments_of(loan)]}


@router.post(
    "/loans/{int:loan_id}/repayments",
    response={201: PostedRepaymentOut, 200: PostedRepaymentOut, **ERRORS},
    summary="Enter a repayment received outside the core system's file (operations officers)",
    description=(
        "Allocated at once over the instalments due on or before `paid_on`, oldest first, each instalment's "
        "fees → penalty → compound → interest → principal (the bank's order, RMDESK_REPAYMENT_ALLOCATION_ORDER). "
        "What is left over is held as an overpayment (`unallocated`) and never applied to instalments not yet due. "
        "A reference already posted answers 200 with that repayment and `duplicate: true`, and nothing is allocated "
        "twice. Only operations officers post repayments, for the loans of their unit; for anyone else the loan is "
        "not found (404)."
    ),
)
def create_repayment(request: HttpRequest, loan_id: int, payload: RepaymentIn) -> Any:
    actor = _actor(request)
    posted = post_repayment(
        actor=actor,
        contract=loan_id,
        paid_on=payload.paid_on,
        amount=payload.amount,
        external_ref=payload.external_ref,
        note=payload.note,
    )
    return Status(200 if posted.duplicate else 201, _posted_out(posted))


def _posted_out(posted: PostedRepayment) -> dict[str, Any]:
    repayment = (
        Repayment.objects.select_related("entered_by")
        .prefetch_related("allocations__instalment__drawdown")
        .get(pk=posted.repayment.pk)
    )
    return {**repayment_out(repayment), "duplicate": posted.duplicate}


# --- LPR -------------------------------------------------------------------------------------------------------------


def lpr_out(lpr: LprRate) -> dict[str, Any]:
    return {
        "id": lpr.pk,
        "tenor": lpr.tenor,
        "tenor_label": lpr.get_tenor_display(),
        "published_on": lpr.published_on,
        "rate_pct": rate_out(lpr.rate_pct),
        "entered_by": lpr.created_by.username if lpr.created_by else None,
    }


class LprQuery(Schema):
    tenor: str | None = Field(None, json_schema_extra={"enum": ["1y", "5y"]})


@router.get(
    "/lpr",
    response={200: LprList, **ERRORS},
    summary="The published LPR table, newest first",
    description="Loan Prime Rates 贷款市场报价利率 (1-year and over-5-year), published on the 20th of each month.",
)
def list_lpr(request: HttpRequest, query: Query[LprQuery]) -> Any:
    if query.tenor is not None and query.tenor not in ("1y", "5y"):
        raise ValidationError({"tenor": [_("Select a valid choice.")]})
    return {"items": [lpr_out(lpr) for lpr in published_lpr(query.tenor)]}


@router.post(
    "/lpr",
    response={201: LprOut, **ERRORS, **FORBIDDEN},
    summary="Add a published LPR (head office)",
    description=(
        "Head office only: a user whose home unit is the head office (or one of its departments) with a role that "
        "changes customer files, or an administrator; others get 403. Floating loans take it on their next "
        "repricing date."
    ),
)
def create_lpr(request: HttpRequest, payload: LprIn) -> Any:
    lpr = services.publish_lpr(
        actor=_actor(request), tenor=payload.tenor, published_on=payload.published_on, rate_pct=payload.rate_pct
    )
    return Status(201, lpr_out(LprRate.objects.select_related("created_by").get(pk=lpr.pk)))
