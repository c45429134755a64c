"""/api/v1/visits: customer visits 拜访客户. Thin: reads through `visits.queries` (restrict() on the customer), writes
through `visits.services`; confidential notes only for whom `visits.confidential` allows.

Sections: reading visits · planning · on the day and after · follow-ups · occasions (customer events) · cadence and
coverage · the calendar file.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import Field, Query, Router, Schema, Status

from rmdesk.access.policy import Action
from rmdesk.core.api import ERRORS, ErrorOut, amount_in, amount_out
from rmdesk.core.errors import DomainError, NotFoundError
from rmdesk.core.pagination import Page, check_limit
from rmdesk.customers.choices import Tier
from rmdesk.customers.models import Customer
from rmdesk.development.scoring import may_edit_scorecard
from rmdesk.org.models import User
from rmdesk.visits import services
from rmdesk.visits.cadence import cadence_intervals, customer_cadence, update_cadence
from rmdesk.visits.choices import FollowUpKind, VisitStatus
from rmdesk.visits.confidential import may_read_confidential
from rmdesk.visits.coverage import RMCoverage, team_coverage
from rmdesk.visits.events import log_event
from rmdesk.visits.feeds import calendar_of
from rmdesk.visits.filters import VisitFilter
from rmdesk.visits.models import CadenceRule, CustomerEvent, FollowUp, Visit, VisitBankAttendee, VisitContact
from rmdesk.visits.queries import visit_for, visits_for
from rmdesk.visits.schemas import (
    CadenceIn,
    CadenceOut,
    CancelIn,
    CheckInIn,
    CoverageOut,
    CustomerEventIn,
    CustomerEventOut,
    FollowUpIn,
    FollowUpOut,
    PlannedVisitOut,
    PostponeIn,
    RecordIn,
    VisitDetailOut,
    VisitIn,
    VisitPage,
    VisitPatch,
    VisitStatusOut,
)
from rmdesk.visits.views.common import ics_response

router = Router(tags=["visits"])
FORBIDDEN = {403: ErrorOut}


def _actor(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined]


def _aware(payload: Schema, *names: str) -> None:
    """A time without its UTC offset is ambiguous (whose 9 o'clock?): a 422 naming each such field."""
    naive = [name for name in names if (value := getattr(payload, name, None)) is not None and timezone.is_naive(value)]
    if naive:
        message = _("Give the time with its UTC offset, e.g. 2026-03-02T09:30:00+08:00.")
        raise ValidationError({name: message for name in naive})


# --- reading visits ---------------------------------------------------------------------------------------------------


def visit_out(visit: Visit) -> dict[str, Any]:
    """A visit as lists show it (no confidential text, only whether there is any)."""
    return {
        "id": visit.pk,
        "customer_id": visit.customer_id,
        "customer_name": visit.customer.name,
        "rm_id": visit.rm_id,
        "rm": visit.rm.username,
        "rm_name": visit.rm.display_name,
        "purpose": visit.purpose,
        "purpose_label": visit.get_purpose_display(),
        "purpose_detail": visit.purpose_detail,
        "mode": visit.mode,
        "mode_label": visit.get_mode_display(),
        "planned_start": visit.planned_start,
        "planned_end": visit.planned_end,
        "place": visit.place,
        "status": visit.status,
        "status_label": visit.get_status_display(),
        "status_reason": visit.status_reason,
        "postponed_count": visit.postponed_count,
        "actual_start": visit.actual_start,
        "actual_end": visit.actual_end,
        "visited_on": visit.visited_on,
        "event_id": visit.event_id,
        "confidential": bool(visit.confidential_notes),
        "version": visit.version,
        "created_at": visit.created_at,
        "updated_at": visit.updated_at,
    }


def _follow_up_out(follow_up: FollowUp) -> dict[str, Any]:
    task, change = follow_up.task, follow_up.stage_change
    return {
        "id": follow_up.pk,
        "kind": follow_up.kind,
        "description": follow_up.description,
        "task_id": follow_up.task_id,
        "task_owner": task.owner.username if task else None,
        "task_due_date": task.due_date if task else None,
        "task_status": task.status if task else None,
        "from_stage": change.from_stage if change else None,
        "to_stage": change.to_stage if change else None,
        "created_by": follow_up.created_by.username,
        "created_at": follow_up.created_at,
    }


def _coordinate_out(value: Any) -> str | None:
    return None if value is None else str(value)


def visit_detail_out(actor: User, visit: Visit) -> dict[str, Any]:
    """The whole visit; its confidential notes only for whom may read them."""
    bank_links = VisitBankAttendee.objects.filter(visit=visit).select_related("user").order_by("user__username")
    contact_links = VisitContact.objects.filter(visit=visit).select_related("key_person").order_by("key_person_id")
    event = visit.event
    return {
        **visit_out(visit),
        "bank_attendees": [
            {"id": link.user_id, "username": link.user.username, "name": link.user.display_name} for link in bank_links
        ],
        "customer_attendees": [
            {
                "id": person.pk,
                "name": person.name,
                "role": person.role,
                "title": person.title,
                "decision_role": person.decision_role,
                "preferences": person.preferences,
            }
            for person in (link.key_person for link in contact_links)
        ],
        "other_attendees": visit.other_attendees,
        "preparation": list(visit.preparation),
        "strategy": visit.strategy,
        "materials": visit.materials,
        "event": None
        if event is None
        else {
            "id": event.pk,
            "kind": event.kind,
            "kind_label": event.get_kind_display(),
            "title": event.title,
            "occurred_on": event.occurred_on,
        },
        "checkin": {
            "status": visit.checkin_status,
            "status_label": visit.get_checkin_status_display(),
            "at": visit.checkin_at,
            "latitude": _coordinate_out(visit.checkin_latitude),
            "longitude": _coordinate_out(visit.checkin_longitude),
            "accuracy_m": visit.checkin_accuracy_m,
        },
        "goals_short": visit.goals_short,
        "goals_long": visit.goals_long,
        "need_tags": list(visit.need_tags),
        "needs_detail": visit.needs_detail,
        "operations": visit.operations,
        "product_reaction": visit.product_reaction,
        "notes": visit.notes,
        "confidential_notes": visit.confidential_notes if may_read_confidential(actor, visit) else None,
        "self_check": list(visit.self_check),
        "self_check_note": visit.self_check_note,
        "recorded_at": visit.recorded_at,
        "other_banks": [
            {
                "bank_name": bank.bank_name,
                "facility": bank.facility,
                "amount": amount_out(bank.amount),
                "satisfaction": bank.satisfaction,
            }
            for bank in visit.other_banks.order_by("pk")
        ],
        "proposals": [
            {
                "position": proposal.position,
                "content": proposal.content,
                "response": proposal.response,
                "response_label": proposal.get_response_display(),
                "counter_offer": proposal.counter_offer,
            }
            for proposal in visit.proposals.order_by("position")
        ],
        "products": [
            {
                "position": product.position,
                "product": product.product,
                "interest": product.interest,
                "interest_label": product.get_interest_display(),
                "note": product.note,
            }
            for product in visit.products_presented.order_by("position")
        ],
        "follow_ups": [
            _follow_up_out(f)
            for f in visit.follow_ups.select_related("task__owner", "stage_change", "created_by").order_by("pk")
        ],
    }


def _detail_response(actor: User, visit_id: int) -> dict[str, Any]:
    # Read back through the actor's view scope: what a write answers is what a read would show them.
    return visit_detail_out(actor, visit_for(actor, visit_id))


def _planned_response(actor: User, planned: services.PlannedVisit) -> dict[str, Any]:
    return {
        **_detail_response(actor, planned.visit.pk),
        "overlaps": [
            {
                "id": other.pk,
                "customer_id": other.customer_id,
                "customer_name": other.customer.name,
                "planned_start": other.planned_start,
                "planned_end": other.planned_end,
            }
            for other in planned.overlaps
        ],
    }


# Keyset pagination on (planned_start, id), newest first: core.pagination pages by ascending id only. The cursor holds
# the start as whole microseconds since the epoch (integer arithmetic: a float timestamp can be a microsecond off).
_CURSOR_PREFIX = "v"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
# The filter form's field names → the API's query parameters, for its error messages.
_QUERY_NAMES = {"customer": "customer_id", "rm": "rm_id", "date_from": "from", "date_to": "to"}


def _encode_cursor(visit: Visit) -> str:
    micros = (visit.planned_start - _EPOCH) // _MICROSECOND
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}:{micros}:{visit.pk}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        prefix, micros, pk = text.split(":")
        if prefix != _CURSOR_PREFIX:
            raise ValueError(text)
        return _EPOCH + int(micros) * _MICROSECOND, int(pk)
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        message = gettext_lazy("The cursor is not valid.")
        raise DomainError(message, fields={"cursor": [str(message)]}) from None


def newest_first_page(visits: QuerySet[Visit], *, limit: int, cursor: str | None) -> Page[Visit]:
    """The next `limit` visits, latest planned start first (ties: higher id first), after `cursor`."""
    check_limit(limit)
    if cursor:
        start, pk = _decode_cursor(cursor)
        visits = visits.filter(Q(planned_start__lt=start) | Q(planned_start=start, pk__lt=pk))
    rows = list(visits.order_by("-planned_start", "-pk")[: limit + 1])
    items = rows[:limit]
    more = len(rows) > limit
    return Page(items=items, next_cursor=_encode_cursor(items[-1]) if more and items else None)


class VisitQuery(Schema):
    limit: int = 50
    cursor: str | None = None
    status: str | None = Field(None, json_schema_extra={"enum": list(VisitStatus.values)})
    customer_id: int | None = None
    rm_id: int | None = Field(None, description="The visiting RM's user id")
    date_from: date | None = Field(None, alias="from", description="First day (YYYY-MM-DD), planned start")
    date_to: date | None = Field(None, alias="to", description="Last day (YYYY-MM-DD), inclusive")


@router.get(
    "/visits",
    response={200: VisitPage, **ERRORS},
    summary="Visits in your scope",
    description=(
        "The visits of the customers you may see, latest planned start first, `limit` per page; pass `next_cursor` "
        "back as `cursor` for the next page. Filters: `status`, `customer_id`, `rm_id` (the visiting RM), and "
        "`from`/`to`: the days (bank time, inclusive) the visit was planned to start."
    ),
)
def list_visits(request: HttpRequest, query: Query[VisitQuery]) -> Any:
    params = {
        "status": query.status,
        "customer": query.customer_id,
        "rm": query.rm_id,
        "date_from": query.date_from,
        "date_to": query.date_to,
    }
    visit_filter = VisitFilter({name: value for name, value in params.items() if value is not None})
    if not visit_filter.is_valid():
        raise ValidationError(
            {_QUERY_NAMES.get(name, name): messages for name, messages in visit_filter.error_fields().items()}
        )
    visits = visit_filter.apply(visits_for(_actor(request)).filter(customer__archived_at__isnull=True))
    page = newest_first_page(visits.select_related("customer", "rm"), limit=query.limit, cursor=query.cursor)
    return {"items": [visit_out(v) for v in page.items], "next_cursor": page.next_cursor}


@router.get(
    "/visits/{int:visit_id}",
    response={200: VisitDetailOut, **ERRORS},
    summary="One visit: plan, preparation, attendees, record and follow-ups",
    description=(
        "`confidential_notes` is there for the visiting RM, the customer's primary RM and co-RMs and the team leads "
        "of those people; for anyone else it is null, and `confidential` says whether there are any."
    ),
)
def get_visit(request: HttpRequest, visit_id: int) -> Any:
    return _detail_response(_actor(request), visit_id)


# --- planning ---------------------------------------------------------------------------------------------------------


@router.post(
    "/visits",
    response={201: PlannedVisitOut, **ERRORS},
    summary="Plan a visit",
    description=(
        "Customer, purpose, time and place, attendees on both sides (the customer's: its key persons) and the "
        "§4.1 preparation done. The visiting RM gets a task for the day. `overlaps` lists the RM's other visits at "
        "that time: a warning, the visit is planned all the same. With `took_place` the times are in the past and "
        "the visit is filed to be recorded next (no task)."
    ),
)
def plan(request: HttpRequest, payload: VisitIn) -> Any:
    _aware(payload, "planned_start", "planned_end")
    actor = _actor(request)
    planned = services.plan_visit(actor=actor, **payload.model_dump(exclude_none=True))
    return Status(201, _planned_response(actor, planned))


@router.patch(
    "/visits/{int:visit_id}",
    response={200: PlannedVisitOut, **ERRORS},
    summary="Change a visit's plan",
    description=(
        "Only the fields sent change (a list sent replaces the list). A visit still to happen only; a postponed "
        "visit given a time is planned again. `version`: the one you read (409 if someone changed it since)."
    ),
)
def update(request: HttpRequest, visit_id: int, payload: VisitPatch) -> Any:
    _aware(payload, "planned_start", "planned_end")
    actor = _actor(request)
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    planned = services.update_plan(actor=actor, visit_id=visit_id, **changes)
    return _planned_response(actor, planned)


@router.post(
    "/visits/{int:visit_id}/postpone",
    response={200: VisitDetailOut, **ERRORS},
    summary="Postpone a planned visit, saying why",
    description="With `new_start` and `new_end` it moves there (still planned); without, it waits for a new date.",
)
def postpone(request: HttpRequest, visit_id: int, payload: PostponeIn) -> Any:
    _aware(payload, "new_start", "new_end")
    actor = _actor(request)
    services.postpone_visit(
        actor=actor, visit_id=visit_id, reason=payload.reason, new_start=payload.new_start, new_end=payload.new_end
    )
    return _detail_response(actor, visit_id)


@router.post(
    "/visits/{int:visit_id}/cancel",
    response={200: VisitDetailOut, **ERRORS},
    summary="Cancel a visit still to happen, saying why",
)
def cancel(request: HttpRequest, visit_id: int, payload: CancelIn) -> Any:
    actor = _actor(request)
    services.cancel_visit(actor=actor, visit_id=visit_id, reason=payload.reason)
    return _detail_response(actor, visit_id)


# --- on the day and after ---------------------------------------------------------------------------------------------


@router.post(
    "/visits/{int:visit_id}/check-in",
    response={200: VisitDetailOut, **ERRORS},
    summary="Check in at a planned visit (the visiting RM or a bank attendee)",
    description=(
        "`located` with `latitude`, `longitude` (and `accuracy_m`) from the browser; `denied` or `unavailable` "
        "checks in without a position when the browser was not allowed to tell or could not."
    ),
)
def check_in(request: HttpRequest, visit_id: int, payload: CheckInIn) -> Any:
    actor = _actor(request)
    services.check_in(
        actor=actor,
        visit_id=visit_id,
        status=payload.checkin_status,
        latitude=payload.latitude,
        longitude=payload.longitude,
        accuracy_m=payload.accuracy_m,
    )
    return _detail_response(actor, visit_id)


@router.post(
    "/visits/{int:visit_id}/record",
    response={200: VisitDetailOut, **ERRORS},
    summary="Record what happened on the visit (or correct the record)",
    description=(
        "The actual time, the six needs of §4.3 (goals, need tags, operations, reaction to our products, other "
        "banks' credit and satisfaction, key people's preferences — saved to the archive), proposals with the "
        "customer's response, products presented in order with the interest in each, the self-check, notes and "
        "confidential notes. The visit is then done: its task, the customer's lapsed-cadence task and its "
        "occasion's task close. A cancelled visit cannot be recorded. `version`: the one you read."
    ),
)
def record(request: HttpRequest, visit_id: int, payload: RecordIn) -> Any:
    _aware(payload, "actual_start", "actual_end")
    actor = _actor(request)
    services.record_visit(
        actor=actor,
        visit_id=visit_id,
        version=payload.version,
        actual_start=payload.actual_start,
        actual_end=payload.actual_end,
        goals_short=payload.goals_short,
        goals_long=payload.goals_long,
        need_tags=payload.need_tags,
        needs_detail=payload.needs_detail,
        operations=payload.operations,
        product_reaction=payload.product_reaction,
        notes=payload.notes,
        confidential_notes=payload.confidential_notes,
        self_check=payload.self_check,
        self_check_note=payload.self_check_note,
        other_banks=[
            services.OtherBankInput(
                bank_name=bank.bank_name,
                facility=bank.facility,
                amount=amount_in(bank.amount),
                satisfaction=bank.satisfaction,
            )
            for bank in payload.other_banks
        ],
        proposals=[
            services.ProposalInput(content=p.content, response=p.response, counter_offer=p.counter_offer)
            for p in payload.proposals
        ],
        products=[services.ProductInput(product=p.product, interest=p.interest, note=p.note) for p in payload.products],
        key_person_preferences=payload.key_person_preferences,
    )
    return _detail_response(actor, visit_id)


# --- follow-ups -------------------------------------------------------------------------------------------------------


@router.post(
    "/visits/{int:visit_id}/follow-ups",
    response={201: FollowUpOut, **ERRORS},
    summary="Add a next step to a recorded visit: a task, or a prospect stage change",
    description=(
        "`kind` `task`: `description`, `owner_id` (a colleague who can see the customer) and `due_date` make a task "
        "for them. `kind` `stage`: `to_stage` moves the visited prospect along its pipeline (as POST "
        "/development/prospects/{customer_id}/stage: `won_evidence`, `drop_reason`), `description` is its note."
    ),
)
def add_follow_up(request: HttpRequest, visit_id: int, payload: FollowUpIn) -> Any:
    actor = _actor(request)
    if payload.kind == FollowUpKind.TASK:
        follow_up = services.add_follow_up_task(
            actor=actor,
            visit_id=visit_id,
            description=payload.description,
            owner_id=payload.owner_id,
            due_date=payload.due_date,
        )
    elif payload.kind == FollowUpKind.STAGE:
        if not payload.to_stage:
            visit_for(actor, visit_id, Action.CHANGE)  # out of scope stays a 404, before any field error
            raise ValidationError({"to_stage": _("Choose the stage the prospect moves to.")})
        follow_up = services.add_follow_up_stage(
            actor=actor,
            visit_id=visit_id,
            to_stage=payload.to_stage,
            description=payload.description,
            won_evidence=payload.won_evidence,
            drop_reason=payload.drop_reason,
        )
    else:
        visit_for(actor, visit_id, Action.CHANGE)
        raise ValidationError({"kind": _("Choose from the list.")})
    row = FollowUp.objects.select_related("task__owner", "stage_change", "created_by").get(pk=follow_up.pk)
    return Status(201, _follow_up_out(row))


# --- occasions (customer events) --------------------------------------------------------------------------------------


def _visible_customer(actor: User, customer_id: int) -> Customer:
    customer = Customer.objects.restrict(actor, Action.VIEW).filter(pk=customer_id).first()
    if customer is None:
        raise NotFoundError()
    return customer


def event_out(event: CustomerEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "customer_id": event.customer_id,
        "kind": event.kind,
        "kind_label": event.get_kind_display(),
        "title": event.title,
        "occurred_on": event.occurred_on,
        "origin": event.origin,
        "origin_label": event.get_origin_display(),
        "logged_by": event.logged_by.username if event.logged_by else None,
        "visit_ids": sorted(visit.pk for visit in event.visits.all()),
        "created_at": event.created_at,
    }


def _events(actor: User) -> QuerySet[CustomerEvent]:
    return (
        CustomerEvent.objects.restrict(actor, Action.VIEW)
        .select_related("logged_by")
        .prefetch_related(Prefetch("visits", queryset=Visit.objects.only("pk", "event_id")))
    )


@router.get(
    "/customers/{customer_id}/events",
    response={200: list[CustomerEventOut], **ERRORS},
    summary="A customer's occasions to visit (§4.2), latest first",
    description="Logged by users or detected from the archive; `visit_ids` are the visits planned for each.",
)
def list_events(request: HttpRequest, customer_id: int) -> Any:
    actor = _actor(request)
    customer = _visible_customer(actor, customer_id)
    return [event_out(e) for e in _events(actor).filter(customer=customer).order_by("-occurred_on", "-pk")]


@router.post(
    "/customers/{customer_id}/events",
    response={201: CustomerEventOut, **ERRORS},
    summary="Log an occasion to visit a customer (§4.2)",
    description=(
        "One of the five kinds, what happened and when (at most a year back or ahead). It proposes a visit to the "
        "customer's primary RM: a task with the reason."
    ),
)
def log_occasion(request: HttpRequest, customer_id: int, payload: CustomerEventIn) -> Any:
    actor = _actor(request)
    event = log_event(
        actor=actor, customer_id=customer_id, kind=payload.kind, title=payload.title, occurred_on=payload.occurred_on
    )
    return Status(201, event_out(_events(actor).get(pk=event.pk)))


# --- cadence and coverage ---------------------------------------------------------------------------------------------


def cadence_out(actor: User) -> dict[str, Any]:
    intervals = cadence_intervals()
    latest = CadenceRule.objects.select_related("updated_by").order_by("-updated_at", "-pk").first()
    return {
        "rules": [
            {"tier": tier.value, "tier_label": str(tier.label), "interval_months": intervals[tier.value]}
            for tier in Tier
            if tier.value in intervals
        ],
        "updated_at": latest.updated_at if latest else None,
        "updated_by": latest.updated_by.username if latest and latest.updated_by else None,
        "may_edit": may_edit_scorecard(actor),
    }


@router.get(
    "/visits/cadence",
    response={200: CadenceOut, **ERRORS},
    summary="How often each tier of customer must be visited",
    description="Defaults: 战略 (strategic) monthly, 核心 (core) every 2 months, 重点 (key) quarterly, 一般 (general) "
    "half-yearly.",
)
def get_cadence(request: HttpRequest) -> Any:
    return cadence_out(_actor(request))


@router.put(
    "/visits/cadence",
    response={200: CadenceOut, **ERRORS, **FORBIDDEN},
    summary="Change the visit cadence (head office)",
    description=(
        "`intervals`: tier → months (1–24), for the tiers that change. Only head office (a head or lead of the head "
        "office or one of its departments) changes it: others get 403. Customers' due dates follow at once; the "
        "daily cadence job opens or cancels the lapsed-visit tasks."
    ),
)
def put_cadence(request: HttpRequest, payload: CadenceIn) -> Any:
    actor = _actor(request)
    try:
        update_cadence(actor=actor, intervals=payload.intervals)
    except ValidationError as exc:
        # The service names a tier; the body names it inside `intervals`.
        raise ValidationError(
            {
                name if name == "intervals" else f"intervals.{name}": messages
                for name, messages in exc.message_dict.items()
            }
        ) from None
    return cadence_out(actor)


@router.get(
    "/customers/{customer_id}/visit-status",
    response={200: VisitStatusOut, **ERRORS},
    summary="Where a customer stands with its visits: last visit, cadence, next due, lapsed",
    description=(
        "Only real customers (现实) with a primary RM have a cadence (`tracked`); for others `next_due` is null. "
        "A customer never visited is due one interval after its file was created."
    ),
)
def get_visit_status(request: HttpRequest, customer_id: int) -> Any:
    actor = _actor(request)
    customer = _visible_customer(actor, customer_id)
    standing = customer_cadence(customer)
    next_planned = (
        visits_for(actor)
        .filter(customer=customer, status=VisitStatus.PLANNED)
        .order_by("planned_start", "pk")
        .values("pk", "planned_start")
        .first()
    )
    return {
        "customer_id": customer.pk,
        "tier": customer.tier,
        "tracked": standing.tracked,
        "interval_months": standing.interval_months,
        "last_visited_on": standing.last_visited_on,
        "next_due": standing.next_due,
        "lapsed": standing.lapsed,
        "next_planned_visit_id": next_planned["pk"] if next_planned else None,
        "next_planned_start": next_planned["planned_start"] if next_planned else None,
    }


def _coverage_row_out(row: RMCoverage) -> dict[str, Any]:
    return {
        "rm_id": row.rm_id,
        "rm_name": row.rm_name,
        "customers": row.customers,
        "visited": row.visited,
        "coverage": None if row.coverage is None else str(row.coverage),
        "lapsed": row.lapsed,
        "overdue_plans": row.overdue_plans,
        "visits_per_week": list(row.visits_per_week),
        "visits": row.visits,
    }


@router.get(
    "/visits/coverage",
    response={200: CoverageOut, **ERRORS},
    summary="Visit coverage per RM: customers visited within cadence, lapsed, overdue plans, visits per week",
    description=(
        "For each RM in your scope (a team lead: the team; an RM: their own book), the tracked customers whose "
        "primary RM they are: how many were visited within their cadence and the share (`coverage`), how many "
        "lapsed, the planned visits now overdue, and the visits done per ISO week over the last twelve weeks."
    ),
)
def get_coverage(request: HttpRequest) -> Any:
    coverage = team_coverage(_actor(request), today=timezone.localdate())
    return {
        "today": coverage.today,
        "weeks": coverage.week_labels,
        "week_starts": list(coverage.weeks),
        "rows": [_coverage_row_out(row) for row in coverage.rows],
        "total": _coverage_row_out(coverage.total),
    }


# --- the calendar file -----------------------------------------------------------------------------------------------


@router.get(
    "/visits/{int:visit_id}/visit.ics",
    response={200: None, **ERRORS},
    summary="A visit as an iCalendar (.ics) file",
    description="Time, place, purpose and attendees' names (never the record); a cancelled visit is marked cancelled.",
    openapi_extra={
        "responses": {
            "200": {
                "description": "RFC 5545 calendar with one event",
                "content": {"text/calendar": {"schema": {"type": "string"}}},
            }
        }
    },
)
def visit_ics(request: HttpRequest, visit_id: int) -> HttpResponse:
    visit = visit_for(_actor(request), visit_id)
    visit = (
        Visit.objects.filter(pk=visit.pk)
        .select_related("customer", "rm")
        .prefetch_related("bank_attendees", "customer_attendees")
        .get()
    )
    page = request.build_absolute_uri(reverse("visits:detail", args=[visit.pk]))
    return ics_response(calendar_of([visit], lambda _visit: page), f"visit-{visit.pk}.ics", attachment=True)
