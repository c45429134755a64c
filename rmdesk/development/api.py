"""/api/v1/development: customer development 客户开发. Thin: scope through restrict() (development_files), reads
through funnel/market, writes (later sections of this file) through the services.

Sections: the pipeline (read) · the funnel · the market · writes: registering · the pool and claims · the pipeline ·
the target score · suggestions · the scorecard · merging.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from rmdesk.access.policy import Action, may
from rmdesk.core.api import ERRORS, ErrorOut, amount_out
from rmdesk.core.errors import NotFoundError
from rmdesk.core.pagination import keyset_page
from rmdesk.customers.api import payload_data, resolve_people
from rmdesk.customers.models import Customer, Relationship
from rmdesk.development import pool
from rmdesk.development.board import contact_overdue
from rmdesk.development.choices import ClaimStatus
from rmdesk.development.filters import MarketFilter, PeriodFilter, PipelineFilter
from rmdesk.development.funnel import Conversion, Funnel, development_files, funnel_for
from rmdesk.development.market import Market, MarketRow, market_for
from rmdesk.development.models import Claim, Prospect, Scorecard, ScorecardItem
from rmdesk.development.pipeline import days_in_stage, move_stage
from rmdesk.development.pool import DECIDER_ROLES
from rmdesk.development.prospects import SimilarProspects, merge_prospects, register_prospect
from rmdesk.development.schemas import (
    AcceptIn,
    AssignIn,
    ClaimOut,
    ClaimPage,
    DismissalOut,
    FirmIn,
    FunnelOut,
    MarketOut,
    MergeIn,
    NoteIn,
    PoolPage,
    ProspectDetailOut,
    ProspectIn,
    ProspectOut,
    ProspectPage,
    RatingIn,
    ReasonIn,
    ScorecardIn,
    ScorecardOut,
    ScoreOut,
    SimilarErrorOut,
    StageIn,
    SuggestionPage,
    VersionedIn,
)
from rmdesk.development.scorecard import DATA_ITEMS
from rmdesk.development.scoring import (
    ProspectScore,
    apply_suggested_status,
    may_edit_scorecard,
    rate_item,
    score_of,
    update_scorecard,
)
from rmdesk.development.suggestions import MAX_LIMIT as SUGGESTIONS_MAX
from rmdesk.development.suggestions import (
    Suggestion,
    accept_suggestion,
    dismiss_suggestion,
    restore_suggestion,
    suggestions_for,
)
from rmdesk.org.choices import Role
from rmdesk.org.models import User

router = Router(tags=["development"])


def _actor(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _checked(form: Any) -> Any:
    """A valid filter form, or a 422 naming the fields."""
    if not form.is_valid():
        raise ValidationError(form.error_fields())
    return form


def _dates(query: Schema) -> dict[str, str]:
    return {
        name: value.isoformat() for name in ("found_from", "found_to") if (value := getattr(query, name)) is not None
    }


# --- the pipeline (read) ------------------------------------------------------------------------------------------


def prospect_out(prospect: Prospect, today: date) -> dict[str, Any]:
    customer = prospect.customer
    return {
        "customer_id": customer.pk,
        "name": customer.name,
        "credit_code": customer.credit_code,
        "stage": prospect.stage,
        "stage_label": prospect.get_stage_display(),
        "stage_changed_at": prospect.stage_changed_at,
        "days_in_stage": days_in_stage(prospect, today),
        "source": prospect.source,
        "source_label": prospect.get_source_display(),
        "source_detail": prospect.source_detail,
        "found_on": prospect.found_on,
        "found_by": prospect.found_by.username,
        "primary_rm": customer.primary_rm.username if customer.primary_rm else None,
        "owning_unit": customer.owning_unit.code,
        "contact_due": prospect.contact_due,
        "contact_overdue": contact_overdue(prospect, today),
        "score": _text(prospect.score),
        "drop_reason": prospect.drop_reason,
        "won_evidence": prospect.won_evidence,
        "version": prospect.version,
    }


def _with_people(prospects: Any) -> Any:
    return prospects.select_related("customer", "customer__primary_rm", "customer__owning_unit", "found_by")


class ProspectQuery(Schema):
    limit: int = 50
    cursor: str | None = None
    stage: str | None = None
    source: int | None = None
    rm: str | None = None


@router.get(
    "/development/prospects",
    response={200: ProspectPage, **ERRORS},
    summary="Prospects in your scope (the pipeline)",
    description=(
        "The prospects you may see — your own book (an RM), your team or branch (a lead or head) — in the order they "
        "were filed, `limit` per page; pass `next_cursor` back as `cursor` for the next page. "
        "`stage`: one stage, `all`, or (default) the open stages. `source`: 1–12. `rm` (a lead or head): an RM's "
        "user id, or `pool` for the prospects waiting in a pool (公海)."
    ),
)
def list_prospects(request: HttpRequest, query: Query[ProspectQuery]) -> Any:
    actor = _actor(request)
    params = query.model_dump(exclude_none=True, exclude={"limit", "cursor"})
    pipeline_filter = _checked(PipelineFilter(params, user=actor))
    prospects = pipeline_filter.apply(development_files(actor).filter(customer__archived_at__isnull=True))
    page = keyset_page(_with_people(prospects), limit=query.limit, cursor=query.cursor)
    today = timezone.localdate()
    return {"items": [prospect_out(p, today) for p in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/development/prospects/{customer_id}",
    response={200: ProspectDetailOut, **ERRORS},
    summary="One prospect's development file, with its stage history",
)
def get_prospect(request: HttpRequest, customer_id: int) -> Any:
    prospect = _with_people(development_files(_actor(request))).filter(customer_id=customer_id).first()
    if prospect is None:
        raise NotFoundError()
    changes = prospect.stage_changes.select_related("changed_by").order_by("changed_at", "pk")
    return {
        **prospect_out(prospect, timezone.localdate()),
        "stage_changes": [
            {
                "from_stage": change.from_stage,
                "to_stage": change.to_stage,
                "changed_at": change.changed_at,
                "changed_by": change.changed_by.username,
                "note": change.note,
            }
            for change in changes
        ],
    }


# --- the funnel ----------------------------------------------------------------------------------------------------


class FunnelQuery(Schema):
    found_from: date | None = None
    found_to: date | None = None
    rm: str | None = None


def _period_out(funnel: Funnel | Market) -> dict[str, date]:
    return {"start": funnel.period.start, "end": funnel.period.end}


def _conversion_out(row: Conversion) -> dict[str, Any]:
    return {"found": row.found, "won": row.won, "rate": _text(row.rate)}


@router.get(
    "/development/funnel",
    response={200: FunnelOut, **ERRORS},
    summary="The development funnel of your scope",
    description=(
        "Prospects found from `found_from` to `found_to` (default: the last twelve months) that reached each stage "
        "(a prospect counts at every stage up to the furthest it reached), the rate on to the next stage and overall "
        "to 开户/签约, those dropped per stage with the top reasons, per source, per RM (a lead, head or read-only "
        "role) and the days to convert. `rm` (a lead or head): an RM's user id, or `pool`."
    ),
)
def get_funnel(request: HttpRequest, query: Query[FunnelQuery]) -> Any:
    actor = _actor(request)
    development_files(actor)  # a role without access: 404 before the filters are read
    params = {**_dates(query), **({"rm": query.rm} if query.rm else {})}
    period_filter = _checked(PeriodFilter(params, user=actor))
    funnel = funnel_for(actor, period=period_filter.period, rm=period_filter.chosen_rm)
    return {
        "period": _period_out(funnel),
        "found": funnel.found,
        "stages": [
            {
                "stage": step.stage.value,
                "label": str(step.stage.label),
                "reached": step.reached,
                "to_next": _text(step.to_next),
                "dropped": step.dropped,
                "drop_reasons": [{"reason": reason, "count": count} for reason, count in step.drop_reasons],
            }
            for step in funnel.stages
        ],
        "overall_rate": _text(funnel.overall_rate),
        "dropped": funnel.dropped,
        "by_source": [{"source": row.key, "label": row.label, **_conversion_out(row)} for row in funnel.by_source],
        "by_rm": None
        if funnel.by_rm is None
        else [
            {"rm_id": row.key, "name": row.label, "reached": dict(row.reached), **_conversion_out(row)}
            for row in funnel.by_rm
        ],
        "time_to_convert": {
            "won": funnel.time_to_convert.won,
            "median_days": _text(funnel.time_to_convert.median_days),
            "p90_days": funnel.time_to_convert.p90_days,
        },
    }


# --- the market ----------------------------------------------------------------------------------------------------


class MarketQuery(Schema):
    found_from: date | None = None
    found_to: date | None = None
    province: str | None = None


def _market_row(row: MarketRow) -> dict[str, Any]:
    return {"code": row.code, "label": row.label, **row.by_status, "total": row.total}


@router.get(
    "/development/market",
    response={200: MarketOut, **ERRORS},
    summary="Prospects and customers of your scope by industry section and region",
    description=(
        "Customers in your scope (not archived) by lifecycle status — prospect 潜在, target 目标, customer 现实 — per "
        "GB/T 4754 section and per province (GB/T 2260), and per city of `province` (2 digits; default: the 20 "
        "busiest cities). Per section also the prospects found from `found_from` to `found_to` (default: the last "
        "twelve months), those won and the conversion rate."
    ),
)
def get_market(request: HttpRequest, query: Query[MarketQuery]) -> Any:
    actor = _actor(request)
    development_files(actor)
    params = {**_dates(query), **({"province": query.province} if query.province else {})}
    market_filter = _checked(MarketFilter(params, user=actor))
    market = market_for(actor, period=market_filter.period, province=market_filter.cleaned_data.get("province") or "")
    return {
        "period": _period_out(market),
        "totals": market.totals,
        "by_section": [
            {**_market_row(row), "found": row.found, "won": row.won, "rate": _text(row.rate)}
            for row in market.by_section
        ],
        "by_province": [_market_row(row) for row in market.by_province],
        "by_city": [_market_row(row) for row in market.by_city],
        "province": market.province,
    }


# === writes =========================================================================================================
# Thin as the reads: each endpoint resolves what the client names (customer ids, usernames, unit codes) and calls one
# service, which checks the scope (out of scope: 404), the rules (422 naming the field) and versions (409), and
# writes the audit event. Paths name prospects by their customer's id, as the read endpoints do.


def _prospect_id(customer_id: int) -> int:
    """The development file of a customer; whether the actor may act on it is the service's to say (404 alike)."""
    pk = Prospect.objects.filter(customer_id=customer_id).values_list("pk", flat=True).first()
    if pk is None:
        raise NotFoundError()
    return pk


def _prospect_response(prospect_id: int) -> dict[str, Any]:
    """The prospect as it is after a write (re-read: the services change the customer row too)."""
    return prospect_out(_with_people(Prospect.objects.filter(pk=prospect_id)).get(), timezone.localdate())


def _similar_out(exc: SimilarProspects) -> dict[str, Any]:
    return {
        "code": exc.code,
        "message": str(exc.message),
        "fields": exc.fields,
        "similar": [
            {
                "customer_id": customer.pk,
                "name": customer.name,
                "credit_code": customer.credit_code,
                "region": customer.region,
                "status": customer.status,
                "owning_unit": customer.owning_unit.code,
                "primary_rm": customer.primary_rm.username if customer.primary_rm else None,
            }
            for customer in exc.similar
        ],
        "hidden": exc.hidden,
    }


SIMILAR = {409: SimilarErrorOut}
FORBIDDEN = {403: ErrorOut}


# --- registering -----------------------------------------------------------------------------------------------------

# The fields of ProspectIn that are about the prospect, not its customer file.
_PROSPECT_FIELDS = {
    "source",
    "source_detail",
    "referring_customer",
    "referring_relationship",
    "to_pool",
    "allow_similar",
    "co_rms",
}


def _referrer(actor: User, payload: ProspectIn) -> tuple[Customer | None, Relationship | None]:
    """The existing customer (and its relationship) that led to the prospect, if the actor may see them."""
    customer = relationship = None
    if payload.referring_customer is not None:
        customer = (
            Customer.objects.restrict(actor, Action.VIEW)
            .filter(pk=payload.referring_customer, archived_at__isnull=True)
            .first()
        )
        if customer is None:
            raise ValidationError({"referring_customer": _("No customer you can see has this id.")})
    if payload.referring_relationship is not None:
        relationship = (
            Relationship.objects.restrict(actor, Action.VIEW)
            .filter(pk=payload.referring_relationship, archived_at__isnull=True)
            .first()
        )
        if relationship is None:
            raise ValidationError({"referring_relationship": _("No relationship you can see has this id.")})
    return customer, relationship


@router.post(
    "/development/prospects",
    response={**ERRORS, 201: ProspectOut, **SIMILAR},
    summary="Register a newly found firm as a prospect",
    description=(
        "Files the firm (its customer fields as `POST /customers` takes them) as a prospect at 识别, in your book or "
        "a pool (`to_pool`). An RM registers into their own book or own unit's pool; a team lead or head names the RM "
        "(`primary_rm`, a username) or, with `to_pool`, the unit (`owning_unit`, a code). Sources 10–12 name the "
        "`referring_customer`. A credit code already on file is a 422 on `credit_code`; firms with a very similar "
        "name in the same region answer 409 `similar` listing those you may see and how many more there are: check "
        "them, then send again with `allow_similar` to register anyway."
    ),
)
def register(request: HttpRequest, payload: ProspectIn) -> Any:
    actor = _actor(request)
    if payload.co_rms:
        raise ValidationError({"co_rms": _("A new prospect has no co-RMs yet: add them once it is worked.")})
    referring_customer, referring_relationship = _referrer(actor, payload)
    data = resolve_people(payload_data(payload, drop=_PROSPECT_FIELDS))
    try:
        prospect = register_prospect(
            actor=actor,
            customer_data=data,
            source=payload.source,
            source_detail=payload.source_detail,
            referring_customer=referring_customer,
            referring_relationship=referring_relationship,
            to_pool=payload.to_pool,
            allow_similar=payload.allow_similar,
        )
    except SimilarProspects as exc:
        return Status(409, _similar_out(exc))
    return Status(201, _prospect_response(prospect.pk))


# --- the pool and claims ---------------------------------------------------------------------------------------------


class PoolQuery(Schema):
    limit: int = 50
    cursor: str | None = None


@router.get(
    "/development/pool",
    response={200: PoolPage, **ERRORS},
    summary="Prospects waiting in the pools you may claim from (公海)",
    description=(
        "An RM: the pools of their unit and every unit above it; a team lead or head: the pools of their units. In "
        "the order they were filed, `limit` per page; pass `next_cursor` back as `cursor`. `pending_claim_by` names "
        "the RM whose claim awaits the team lead."
    ),
)
def list_pool(request: HttpRequest, query: Query[PoolQuery]) -> Any:
    actor = _actor(request)
    if not may(actor, Action.CLAIM):
        raise NotFoundError()
    page = keyset_page(_with_people(pool.pool_for(actor)), limit=query.limit, cursor=query.cursor)
    pending = dict(
        Claim.objects.filter(prospect__in=page.items, status=ClaimStatus.PENDING).values_list(
            "prospect_id", "rm__username"
        )
    )
    today = timezone.localdate()
    return {
        "items": [{**prospect_out(p, today), "pending_claim_by": pending.get(p.pk)} for p in page.items],
        "next_cursor": page.next_cursor,
    }


def claim_out(request: Claim) -> dict[str, Any]:
    customer = request.prospect.customer
    return {
        "id": request.pk,
        "customer_id": customer.pk,
        "name": customer.name,
        "rm": request.rm.username,
        "rm_name": request.rm.display_name,
        "status": request.status,
        "status_label": request.get_status_display(),
        "created_at": request.created_at,
        "decided_by": request.decided_by.username if request.decided_by else None,
        "decided_at": request.decided_at,
        "note": request.note,
    }


def _claim_response(claim_id: int) -> dict[str, Any]:
    return claim_out(Claim.objects.select_related("prospect__customer", "rm", "decided_by").get(pk=claim_id))


class ClaimQuery(Schema):
    limit: int = 50
    cursor: str | None = None
    status: str = "pending"


@router.get(
    "/development/claims",
    response={200: ClaimPage, **ERRORS},
    summary="Claims on pool prospects: yours (an RM), or those you decide (a team lead or head)",
    description="`status`: pending (default), approved, rejected, withdrawn or `all`. Oldest first, keyset-paged.",
)
def list_claims(request: HttpRequest, query: Query[ClaimQuery]) -> Any:
    actor = _actor(request)
    if query.status != "all" and query.status not in ClaimStatus.values:
        raise ValidationError({"status": _("Select a valid choice.")})
    if actor.role == Role.RM:
        claims = Claim.objects.filter(rm=actor)
    elif actor.role in DECIDER_ROLES:
        claims = Claim.objects.restrict(actor, Action.CLAIM)
    else:
        raise NotFoundError()
    if query.status != "all":
        claims = claims.filter(status=query.status)
    claims = claims.select_related("prospect__customer", "rm", "decided_by")
    page = keyset_page(claims, limit=query.limit, cursor=query.cursor)
    return {"items": [claim_out(c) for c in page.items], "next_cursor": page.next_cursor}


@router.post(
    "/development/prospects/{customer_id}/claim",
    response={201: ClaimOut, **ERRORS},
    summary="Claim a prospect from the pool (an RM)",
    description=(
        "At once (`status` approved: the prospect is yours, first contact due within the pool's working days) or, "
        "where the unit's rule asks for it, as a pending claim the team lead decides. Someone faster answers 409 "
        "naming them. The body is optional: `version`, the prospect's version you read."
    ),
)
def claim_prospect(request: HttpRequest, customer_id: int, payload: VersionedIn | None = None) -> Any:
    version = payload.version if payload else None
    granted = pool.claim(actor=_actor(request), prospect_id=_prospect_id(customer_id), version=version)
    return Status(201, _claim_response(granted.pk))


@router.post(
    "/development/claims/{claim_id}/approve",
    response={200: ClaimOut, **ERRORS},
    summary="Approve a pending claim (team lead or head)",
)
def approve(request: HttpRequest, claim_id: int, payload: NoteIn | None = None) -> Any:
    decided = pool.approve_claim(actor=_actor(request), claim_id=claim_id, note=payload.note if payload else "")
    return _claim_response(decided.pk)


@router.post(
    "/development/claims/{claim_id}/reject",
    response={200: ClaimOut, **ERRORS},
    summary="Reject a pending claim, saying why (team lead or head)",
)
def reject(request: HttpRequest, claim_id: int, payload: NoteIn | None = None) -> Any:
    decided = pool.reject_claim(actor=_actor(request), claim_id=claim_id, note=payload.note if payload else "")
    return _claim_response(decided.pk)


@router.post(
    "/development/claims/{claim_id}/withdraw",
    response={200: ClaimOut, **ERRORS},
    summary="Withdraw your own pending claim (an RM)",
)
def withdraw(request: HttpRequest, claim_id: int) -> Any:
    withdrawn = pool.withdraw_claim(actor=_actor(request), claim_id=claim_id)
    return _claim_response(withdrawn.pk)


@router.post(
    "/development/prospects/{customer_id}/release",
    response={200: ProspectOut, **ERRORS},
    summary="Give a prospect back to its pool, saying why (its RM or their lead)",
)
def release_prospect(request: HttpRequest, customer_id: int, payload: ReasonIn) -> Any:
    prospect = pool.release(actor=_actor(request), prospect_id=_prospect_id(customer_id), reason=payload.reason)
    return _prospect_response(prospect.pk)


@router.post(
    "/development/prospects/{customer_id}/assign",
    response={200: ProspectOut, **ERRORS},
    summary="Assign a pool prospect to an RM (team lead or head)",
    description="`rm`: the RM's username. Someone faster answers 409 naming them.",
)
def assign_prospect(request: HttpRequest, customer_id: int, payload: AssignIn) -> Any:
    prospect_id = _prospect_id(customer_id)
    # An unknown username is no RM of the actor's units either: the service names the field (`rm`) for both.
    rm_id = User.objects.filter(username=payload.rm).values_list("pk", flat=True).first() or 0
    prospect = pool.assign(actor=_actor(request), prospect_id=prospect_id, rm_id=rm_id, version=payload.version)
    return _prospect_response(prospect.pk)


# --- the pipeline ----------------------------------------------------------------------------------------------------


@router.post(
    "/development/prospects/{customer_id}/stage",
    response={200: ProspectOut, **ERRORS},
    summary="Move a prospect along the pipeline",
    description=(
        "Forward only (stages may be skipped); `won` (开户/签约) needs `won_evidence` and makes the firm a real "
        "customer; `dropped` (放弃) needs `drop_reason`; a team lead or head may reopen a dropped prospect at "
        "`identified`. `version`: the prospect's version you read (a newer one answers 409)."
    ),
)
def move(request: HttpRequest, customer_id: int, payload: StageIn) -> Any:
    prospect = move_stage(
        actor=_actor(request),
        prospect_id=_prospect_id(customer_id),
        version=payload.version,
        to_stage=payload.to_stage,
        note=payload.note,
        won_evidence=payload.won_evidence,
        drop_reason=payload.drop_reason,
    )
    return _prospect_response(prospect.pk)


# --- the target score ------------------------------------------------------------------------------------------------


def _visible_prospect(actor: User, customer_id: int) -> Prospect:
    prospect = development_files(actor).select_related("customer").filter(customer_id=customer_id).first()
    if prospect is None:
        raise NotFoundError()
    return prospect


def score_out(prospect: Prospect, result: ProspectScore) -> dict[str, Any]:
    raters = {line.rated_by_id for line in result.lines if line.rated_by_id is not None}
    usernames = dict(User.objects.filter(pk__in=raters).values_list("pk", "username")) if raters else {}
    return {
        "customer_id": prospect.customer_id,
        "total": str(result.total),
        "threshold": str(result.threshold),
        "suggested_status": result.suggested_status,
        "status": prospect.customer.status,
        "scorecard_version": result.scorecard_version,
        "items": [
            {
                "characteristic": line.characteristic,
                "label": line.label,
                "weight": str(line.weight),
                "max_rating": line.max_rating,
                "rating": line.rating,
                "points": str(line.points),
                "origin": line.origin,
                "reason": line.reason,
                "rated_by": usernames.get(line.rated_by_id) if line.rated_by_id is not None else None,
                "rated_at": line.rated_at,
                "data_item": line.data_item,
            }
            for line in result.lines
        ],
    }


def _score_response(actor: User, customer_id: int) -> dict[str, Any]:
    prospect = _visible_prospect(actor, customer_id)
    return score_out(prospect, score_of(prospect))


@router.get(
    "/development/prospects/{customer_id}/score",
    response={200: ScoreOut, **ERRORS},
    summary="A prospect's target score, item by item",
    description=(
        "The 14 characteristics with their weight, rating, points and what decided each (the archive's data, or "
        "the RM's reason), the total (0–100), the threshold and the status the score suggests."
    ),
)
def get_score(request: HttpRequest, customer_id: int) -> Any:
    return _score_response(_actor(request), customer_id)


@router.put(
    "/development/prospects/{customer_id}/ratings/{characteristic}",
    response={200: ScoreOut, **ERRORS},
    summary="Rate one characteristic of a prospect, with a reason",
    description=(
        "`characteristic`: 1–14. Items the customer's file decides (industry, credit rating, financials, region, "
        "suppliers and buyers) are rated by hand only while the file has nothing on them. Answers the new score."
    ),
)
def rate(request: HttpRequest, customer_id: int, characteristic: int, payload: RatingIn) -> Any:
    actor = _actor(request)
    rate_item(
        actor=actor,
        prospect_id=_prospect_id(customer_id),
        characteristic=characteristic,
        rating=payload.rating,
        reason=payload.reason,
    )
    return _score_response(actor, customer_id)


@router.post(
    "/development/prospects/{customer_id}/apply-suggested-status",
    response={200: ScoreOut, **ERRORS},
    summary="Make the prospect a target (or back a prospect) as its score suggests",
)
def apply_status(request: HttpRequest, customer_id: int) -> Any:
    actor = _actor(request)
    apply_suggested_status(actor=actor, prospect_id=_prospect_id(customer_id))
    return _score_response(actor, customer_id)


# --- suggestions: who should we call next ----------------------------------------------------------------------------


class SuggestionQuery(Schema):
    limit: int = 50
    offset: int = 0


def suggestion_out(suggestion: Suggestion) -> dict[str, Any]:
    return {
        "name": suggestion.name,
        "credit_code": suggestion.credit_code,
        "score": suggestion.score,
        "source": suggestion.source.value,
        "source_label": str(suggestion.source.label),
        "relationship_id": suggestion.relationship_id,
        "customers_linked": suggestion.customers_linked,
        "explanation": suggestion.explanation,
        "links": [
            {
                "relationship_id": link.relationship_id,
                "customer_id": link.customer_id,
                "customer_name": link.customer_name,
                "kind": link.kind,
                "direction": link.direction,
                "source": link.source.value,
                "amount": amount_out(link.amount),
                "share_pct": amount_out(link.share_pct),
                "controller_name": link.controller_name,
                "points": link.points,
                "explanation": link.explanation,
            }
            for link in suggestion.links
        ],
    }


@router.get(
    "/development/suggestions",
    response={200: SuggestionPage, **ERRORS},
    summary="Who to call next: firms linked to your customers that are not customers yet",
    description=(
        "Suppliers and buyers (source 10), guarantors (11) and affiliates (12) named by your customers' "
        "relationships and not on file, best first, each with every link that leads to it explained; ranked in whole "
        "points. `limit` (1–500) per page from `offset`; pass `next_offset` back as `offset`."
    ),
)
def list_suggestions(request: HttpRequest, query: Query[SuggestionQuery]) -> Any:
    # One more than asked tells whether another page follows (at the largest page size, a full page says so).
    probe = query.limit + 1 if 1 <= query.limit < SUGGESTIONS_MAX else query.limit
    found = suggestions_for(_actor(request), limit=probe, offset=query.offset)
    more = len(found) > query.limit or (probe == query.limit and len(found) == query.limit)
    return {
        "items": [suggestion_out(s) for s in found[: query.limit]],
        "next_offset": query.offset + query.limit if more else None,
    }


@router.post(
    "/development/suggestions/accept",
    response={**ERRORS, 201: ProspectOut, **SIMILAR},
    summary="Register a suggested firm as a prospect",
    description=(
        "Through one of your customers' relationships (`relationship_id`): the firm becomes a prospect of source "
        "10–12 in the pool or, with `claim` (an RM), in your own book, and your links to it then name it. "
        "`credit_code` is needed when the link records none. Similar names answer 409 as registering does."
    ),
)
def accept(request: HttpRequest, payload: AcceptIn) -> Any:
    try:
        prospect = accept_suggestion(
            actor=_actor(request),
            credit_code=payload.credit_code,
            name=payload.name,
            relationship_id=payload.relationship_id,
            claim=payload.claim,
            allow_similar=payload.allow_similar,
        )
    except SimilarProspects as exc:
        return Status(409, _similar_out(exc))
    return Status(201, _prospect_response(prospect.pk))


@router.post(
    "/development/suggestions/dismiss",
    response={200: DismissalOut, **ERRORS},
    summary="Stop suggesting a firm to you (others still see it)",
    description="Name the firm as the suggestion does: its `credit_code`, or its `name` when it has none.",
)
def dismiss(request: HttpRequest, payload: FirmIn) -> Any:
    dismissal = dismiss_suggestion(actor=_actor(request), credit_code=payload.credit_code, name=payload.name)
    return {"firm": dismissal.firm, "name": dismissal.name, "dismissed_at": dismissal.dismissed_at}


@router.post(
    "/development/suggestions/restore",
    response={204: None, **ERRORS},
    summary="Suggest a dismissed firm again",
)
def restore(request: HttpRequest, payload: FirmIn) -> Any:
    restore_suggestion(actor=_actor(request), credit_code=payload.credit_code, name=payload.name)
    return Status(204, None)


# --- the scorecard (head office) -------------------------------------------------------------------------------------


def scorecard_out(actor: User) -> dict[str, Any]:
    row = Scorecard.objects.select_related("updated_by").order_by("pk").first()
    if row is None:  # the migration creates it; a database without it is broken, not a user error
        raise RuntimeError("the target scorecard is missing: run `rmdesk migrate`")
    return {
        "version": row.version,
        "threshold": str(row.threshold),
        "encouraged_industries": list(row.encouraged_industries),
        "promising_regions": list(row.promising_regions),
        "items": [
            {
                "characteristic": item.characteristic,
                "label": item.get_characteristic_display(),
                "weight": str(item.weight),
                "max_rating": item.max_rating,
                "data_item": item.characteristic in DATA_ITEMS,
            }
            for item in ScorecardItem.objects.order_by("characteristic")
        ],
        "updated_at": row.updated_at,
        "updated_by": row.updated_by.username if row.updated_by else None,
        "may_edit": may_edit_scorecard(actor),
    }


def _number(value: str, field: str) -> Decimal:
    """A number sent as a string; its range and decimals are the service's to check."""
    try:
        return Decimal(value.strip())
    except InvalidOperation:
        raise ValidationError({field: _('Enter a number as a string, e.g. "12.5".')}) from None


@router.get(
    "/development/scorecard",
    response={200: ScorecardOut, **ERRORS},
    summary="The bank's target scorecard: weights, scales, threshold, encouraged industries, promising regions",
)
def get_scorecard(request: HttpRequest) -> Any:
    return scorecard_out(_actor(request))


@router.put(
    "/development/scorecard",
    response={200: ScorecardOut, **ERRORS, **FORBIDDEN},
    summary="Change the target scorecard (head office)",
    description=(
        "Only head office (a head or lead of the head office) changes it: others get 403. `weights` and "
        "`max_ratings` name the items that change, by characteristic; the lists and `threshold` are the new settings. "
        "Every prospect's score goes stale and is recomputed when next read. `version`: the one you read (409 if "
        "someone changed it since)."
    ),
)
def put_scorecard(request: HttpRequest, payload: ScorecardIn) -> Any:
    actor = _actor(request)
    update_scorecard(
        actor=actor,
        weights={c: _number(w, "weights") for c, w in payload.weights.items()},
        max_ratings=payload.max_ratings or None,
        threshold=_number(payload.threshold, "threshold"),
        encouraged_industries=payload.encouraged_industries,
        promising_regions=payload.promising_regions,
        version=payload.version,
    )
    return scorecard_out(actor)


# --- merging ---------------------------------------------------------------------------------------------------------


@router.post(
    "/development/prospects/{keep_id}/merge",
    response={200: ProspectOut, **ERRORS},
    summary="Merge a duplicate prospect into this one",
    description=(
        "`merge_id`: the customer id of the second file of the same firm. Its history, claims, ratings, tasks, "
        "people, statements, relationships and documents move to the kept file (`keep_id`) and it is archived. "
        "An RM merges their own prospects; files of two RMs are merged by their team lead."
    ),
)
def merge(request: HttpRequest, keep_id: int, payload: MergeIn) -> Any:
    prospect = merge_prospects(
        actor=_actor(request),
        keep_id=_prospect_id(keep_id),
        merge_id=_prospect_id(payload.merge_id),
        reason=payload.reason,
    )
    return _prospect_response(prospect.pk)
