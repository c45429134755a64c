"""API shapes of customer visits 拜访客户. Times are ISO 8601 with their UTC offset; amounts are strings."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic.config import JsonDict

from rmdesk.core.api import Amount, Out
from rmdesk.customers.choices import Tier
from rmdesk.development.choices import Stage
from rmdesk.visits.choices import (
    CheckinStatus,
    EventKind,
    FollowUpKind,
    Interest,
    NeedTag,
    PrepItem,
    ProposalResponse,
    Satisfaction,
    SelfCheck,
    VisitMode,
    VisitPurpose,
    VisitStatus,
)

AWARE = "ISO 8601 with its UTC offset, e.g. 2026-03-02T09:30:00+08:00 (a time without one is refused)"


def _enum(choices: Any, *, exclude: tuple[str, ...] = ()) -> JsonDict:
    return {"enum": [str(v) for v in choices.values if v not in exclude]}


def _enum_items(choices: Any) -> JsonDict:
    return {"items": {"type": "string", "enum": [str(v) for v in choices.values]}}


# --- reads -----------------------------------------------------------------------------------------------------------


class VisitOut(Out):
    id: int
    customer_id: int
    customer_name: str
    rm_id: int = Field(description="The visiting RM's user id")
    rm: str = Field(description="The visiting RM's username")
    rm_name: str
    purpose: str = Field(json_schema_extra=_enum(VisitPurpose))
    purpose_label: str
    purpose_detail: str
    mode: str = Field(json_schema_extra=_enum(VisitMode))
    mode_label: str
    planned_start: datetime
    planned_end: datetime
    place: str
    status: str = Field(json_schema_extra=_enum(VisitStatus))
    status_label: str
    status_reason: str = Field(description="Why it was postponed or cancelled")
    postponed_count: int
    actual_start: datetime | None
    actual_end: datetime | None
    visited_on: date | None = Field(description="The day it took place (bank time): what visit cadence counts")
    event_id: int | None = Field(description="The occasion (customer event) the visit was planned for")
    confidential: bool = Field(description="Whether the record has confidential notes (whoever may read them or not)")
    version: int
    created_at: datetime
    updated_at: datetime


class VisitPage(Out):
    items: list[VisitOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class BankAttendeeOut(Out):
    id: int
    username: str
    name: str


class CustomerAttendeeOut(Out):
    """A key person of the customer who takes part, with what the RM should know before going."""

    id: int
    name: str
    role: str
    title: str
    decision_role: str
    preferences: str = Field(description="Decision and behaviour preferences, from the customer's archive")


class EventRefOut(Out):
    id: int
    kind: str = Field(json_schema_extra=_enum(EventKind))
    kind_label: str
    title: str
    occurred_on: date


class CheckinOut(Out):
    status: str = Field(json_schema_extra=_enum(CheckinStatus))
    status_label: str
    at: datetime | None
    latitude: str | None = Field(description="Degrees (WGS 84) as a string; only with status `located`")
    longitude: str | None
    accuracy_m: int | None = Field(description="Metres, as the browser reported them")


class OtherBankOut(Out):
    bank_name: str
    facility: str
    amount: str | None = Field(description="Yuan, as a string")
    satisfaction: str


class ProposalOut(Out):
    position: int
    content: str
    response: str = Field(json_schema_extra=_enum(ProposalResponse))
    response_label: str
    counter_offer: str


class ProductOut(Out):
    position: int = Field(description="1 for the product presented first")
    product: str
    interest: str = Field(json_schema_extra=_enum(Interest))
    interest_label: str
    note: str


class FollowUpOut(Out):
    id: int
    kind: str = Field(json_schema_extra=_enum(FollowUpKind))
    description: str
    task_id: int | None
    task_owner: str | None = Field(description="Username of whom the task is for")
    task_due_date: date | None
    task_status: str | None
    from_stage: str | None = Field(description="A stage change: the prospect's stage before")
    to_stage: str | None
    created_by: str = Field(description="Username")
    created_at: datetime


class VisitDetailOut(VisitOut):
    """A visit with its plan, preparation, record and follow-ups."""

    bank_attendees: list[BankAttendeeOut] = Field(description="Colleagues going with the RM")
    customer_attendees: list[CustomerAttendeeOut]
    other_attendees: str
    preparation: list[str] = Field(description="The §4.1 checklist items done, in checklist order")
    strategy: str
    materials: str
    event: EventRefOut | None
    checkin: CheckinOut
    goals_short: str
    goals_long: str
    need_tags: list[str] = Field(description="The main financial needs heard", json_schema_extra=_enum_items(NeedTag))
    needs_detail: str
    operations: str
    product_reaction: str
    notes: str
    confidential_notes: str | None = Field(
        description="Only for the visiting RM, the customer's RMs and their team leads; null for anyone else "
        "(`confidential` says whether there are any)"
    )
    self_check: list[str] = Field(json_schema_extra=_enum_items(SelfCheck))
    self_check_note: str
    recorded_at: datetime | None
    other_banks: list[OtherBankOut]
    proposals: list[ProposalOut]
    products: list[ProductOut] = Field(description="In the order presented")
    follow_ups: list[FollowUpOut]


class OverlapOut(Out):
    id: int
    customer_id: int
    customer_name: str
    planned_start: datetime
    planned_end: datetime


class PlannedVisitOut(VisitDetailOut):
    overlaps: list[OverlapOut] = Field(
        description="The RM's other planned visits at the same time, as far as you may see them: a warning only"
    )


# --- writes ----------------------------------------------------------------------------------------------------------
# Bodies refuse fields they do not know (extra="forbid"), so a typo is a 422 naming it rather than ignored.


class VisitPlanFields(Schema):
    purpose_detail: str | None = Field(None, max_length=200)
    mode: str | None = Field(None, json_schema_extra=_enum(VisitMode))
    place: str | None = Field(None, max_length=200)
    rm_id: int | None = Field(None, description="The visiting RM's user id; default: you (an RM) or the primary RM")
    bank_attendee_ids: list[int] | None = Field(None, description="User ids of colleagues going with the RM")
    key_person_ids: list[int] | None = Field(None, description="Ids of this customer's key persons who take part")
    other_attendees: str | None = Field(None, max_length=200)
    preparation: list[str] | None = Field(
        None, description="The §4.1 checklist items done", json_schema_extra=_enum_items(PrepItem)
    )
    strategy: str | None = None
    materials: str | None = None

    model_config = {"extra": "forbid"}


class VisitIn(VisitPlanFields):
    customer_id: int
    purpose: str = Field(json_schema_extra=_enum(VisitPurpose))
    planned_start: datetime = Field(description=AWARE)
    planned_end: datetime = Field(description=AWARE)
    event_id: int | None = Field(None, description="The occasion (customer event) the visit answers")
    took_place: bool = Field(
        False, description="File a visit that already took place (its times in the past), to record it next"
    )


class VisitPatch(VisitPlanFields):
    """Only the fields sent change; a postponed visit given a time is planned again."""

    version: int = Field(ge=1, description="The version you read; a newer one answers 409")
    purpose: str | None = Field(None, json_schema_extra=_enum(VisitPurpose))
    planned_start: datetime | None = Field(None, description=AWARE)
    planned_end: datetime | None = Field(None, description=AWARE)


class PostponeIn(Schema):
    reason: str = Field(max_length=200)
    new_start: datetime | None = Field(None, description=f"With `new_end`, the new time; without, it waits. {AWARE}")
    new_end: datetime | None = Field(None, description=AWARE)

    model_config = {"extra": "forbid"}


class CancelIn(Schema):
    reason: str = Field(max_length=200)

    model_config = {"extra": "forbid"}


class CheckInIn(Schema):
    checkin_status: str = Field(
        description="`located` with the browser's position; `denied` when location permission was refused; "
        "`unavailable` when the browser could not tell",
        json_schema_extra=_enum(CheckinStatus, exclude=(CheckinStatus.NONE,)),
    )
    latitude: Decimal | None = Field(None, description="Degrees (WGS 84), with `located`")
    longitude: Decimal | None = Field(None, description="Degrees (WGS 84), with `located`")
    accuracy_m: Decimal | None = Field(None, description="Metres")

    model_config = {"extra": "forbid"}


class OtherBankIn(Schema):
    bank_name: str = Field(max_length=100)
    facility: str = Field("", max_length=100)
    amount: Amount | None = Field(None, description="Yuan, as a string")
    satisfaction: str = Field("", json_schema_extra={"enum": ["", *Satisfaction.values]})

    model_config = {"extra": "forbid"}


class ProposalIn(Schema):
    content: str = Field(max_length=300)
    response: str = Field(ProposalResponse.PENDING.value, json_schema_extra=_enum(ProposalResponse))
    counter_offer: str = Field("", max_length=300, description="Needed when the response is `countered`")

    model_config = {"extra": "forbid"}


class ProductIn(Schema):
    product: str = Field(max_length=100)
    interest: str = Field(json_schema_extra=_enum(Interest))
    note: str = Field("", max_length=200)

    model_config = {"extra": "forbid"}


class RecordIn(Schema):
    """What happened on the visit (§4.3–§4.6); sending it again corrects the record."""

    version: int = Field(ge=1, description="The version you read; a newer one answers 409")
    actual_start: datetime = Field(description=AWARE)
    actual_end: datetime = Field(description=AWARE)
    goals_short: str = ""
    goals_long: str = ""
    need_tags: list[str] = Field(default_factory=list, json_schema_extra=_enum_items(NeedTag))
    needs_detail: str = ""
    operations: str = ""
    product_reaction: str = ""
    notes: str = ""
    confidential_notes: str = Field("", description="Seen by the visit's RMs and their team leads only")
    self_check: list[str] = Field(
        default_factory=list,
        description="The taboos avoided and the etiquette kept",
        json_schema_extra=_enum_items(SelfCheck),
    )
    self_check_note: str = Field("", max_length=300)
    other_banks: list[OtherBankIn] = Field(default_factory=list)
    proposals: list[ProposalIn] = Field(default_factory=list)
    products: list[ProductIn] = Field(default_factory=list, description="In the order presented")
    key_person_preferences: dict[int, str] | None = Field(
        None, description="Key person id → their decision and behaviour preferences, saved to the archive"
    )

    model_config = {"extra": "forbid"}


class FollowUpIn(Schema):
    kind: str = Field(json_schema_extra=_enum(FollowUpKind))
    description: str = Field("", max_length=200, description="The next step (a stage change: optional note)")
    owner_id: int | None = Field(None, description="`task`: the user id of whom the task is for")
    due_date: date | None = Field(None, description="`task`: when it is due")
    to_stage: str | None = Field(None, description="`stage`: the prospect's new stage", json_schema_extra=_enum(Stage))
    won_evidence: str = Field("", max_length=100, description="`stage` to `won`: the account or contract")
    drop_reason: str = Field("", max_length=200, description="`stage` to `dropped`: why")

    model_config = {"extra": "forbid"}


# --- occasions ------------------------------------------------------------------------------------------------------


class CustomerEventOut(Out):
    id: int
    customer_id: int
    kind: str = Field(json_schema_extra=_enum(EventKind))
    kind_label: str
    title: str
    occurred_on: date
    origin: str = Field(description="`logged` by a user or `detected` from the archive")
    origin_label: str
    logged_by: str | None = Field(description="Username; null when detected")
    visit_ids: list[int] = Field(description="Visits planned for this occasion")
    created_at: datetime


class CustomerEventIn(Schema):
    kind: str = Field(json_schema_extra=_enum(EventKind))
    title: str = Field(max_length=200)
    occurred_on: date

    model_config = {"extra": "forbid"}


# --- cadence and coverage ---------------------------------------------------------------------------------------------


class CadenceRuleOut(Out):
    tier: str = Field(json_schema_extra=_enum(Tier))
    tier_label: str
    interval_months: int = Field(description="Visit a customer of this tier at least every so many months")


class CadenceOut(Out):
    rules: list[CadenceRuleOut]
    updated_at: datetime | None
    updated_by: str | None
    may_edit: bool = Field(description="Whether you may change it (head office)")


class CadenceIn(Schema):
    intervals: dict[str, int] = Field(description="Tier → months (1–24) for the tiers that change")

    model_config = {"extra": "forbid"}


class VisitStatusOut(Out):
    customer_id: int
    tier: str = Field(description="Empty when not set: the 一般 (general) interval applies")
    tracked: bool = Field(description="A real customer (现实), not archived, with a primary RM")
    interval_months: int
    last_visited_on: date | None
    next_due: date | None = Field(description="The day the next visit is due; null when not tracked")
    lapsed: bool = Field(description="The next visit was due before today")
    next_planned_visit_id: int | None = Field(description="The earliest visit planned and still to happen")
    next_planned_start: datetime | None


class CoverageRowOut(Out):
    rm_id: int | None = Field(description="The primary RM's user id; null on the total")
    rm_name: str
    customers: int = Field(description="Tracked customers in the RM's book (within your scope)")
    visited: int = Field(description="Of those, visited within their cadence")
    coverage: str | None = Field(description="visited / customers in per cent, half-up to 0.1, as a string")
    lapsed: int = Field(description="Customers whose next visit was due before today")
    overdue_plans: int = Field(description="Planned visits whose end has passed without a record")
    visits_per_week: list[int] = Field(description="Visits done per week, in the order of `weeks`")
    visits: int = Field(description="Visits done over all the weeks shown")


class CoverageOut(Out):
    today: date
    weeks: list[str] = Field(description="The ISO weeks shown, oldest first, e.g. 2026-W05")
    week_starts: list[date] = Field(description="The Monday of each week")
    rows: list[CoverageRowOut] = Field(description="One per RM, most customers first")
    total: CoverageRowOut
