"""Writers of visits: plan, reschedule, postpone, cancel, check in, record, and follow up (domain.md §4).

Every function checks scope through `restrict()`, validates everything before writing anything, and writes its audit
event in the same transaction, so a refused request leaves nothing behind.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action
from rmdesk.audit.services import diff, jsonable, record
from rmdesk.core.errors import ConflictError, NotFoundError
from rmdesk.customers.models import Customer, KeyPerson
from rmdesk.customers.services import update_key_person
from rmdesk.development.models import Prospect
from rmdesk.development.pipeline import move_stage
from rmdesk.org.choices import Role
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.services import close_source_tasks, create_task, move_source_tasks
from rmdesk.visits.choices import (
    CheckinStatus,
    FollowUpKind,
    Interest,
    NeedTag,
    PrepItem,
    ProposalResponse,
    Satisfaction,
    SelfCheck,
    VisitMode,
    VisitStatus,
)
from rmdesk.visits.models import (
    CustomerEvent,
    FollowUp,
    OtherBankCredit,
    ProductPresented,
    Proposal,
    Visit,
    VisitBankAttendee,
    VisitContact,
)
from rmdesk.visits.queries import sees_customer, visit_for, visits_for

# Source types of the tasks visits raise (tasks.Task.source_type); a task is closed when its work is done.
VISIT_SOURCE = "visit"
CADENCE_SOURCE = "visit_cadence"
EVENT_SOURCE = "customer_event"
FOLLOW_UP_SOURCE = "visit_follow_up"

MAX_VISIT_LENGTH = timedelta(hours=12)
PLAN_AHEAD = timedelta(days=366)
# A plan made a few minutes late (the form was open while the meeting began) is still a plan, not a past visit.
PAST_GRACE = timedelta(minutes=15)


@dataclass(frozen=True)
class PlannedVisit:
    """A visit as planned, with the RM's other planned visits at the same time (a warning: overlaps are allowed)."""

    visit: Visit
    overlaps: list[Visit]


@dataclass(frozen=True)
class OtherBankInput:
    bank_name: str
    facility: str = ""
    # A Decimal, or the amount as typed ("1,200,000.00"): checked either way, never a float.
    amount: Decimal | str | None = None
    satisfaction: str = ""


@dataclass(frozen=True)
class ProposalInput:
    content: str
    response: str = ProposalResponse.PENDING
    counter_offer: str = ""


@dataclass(frozen=True)
class ProductInput:
    product: str
    interest: str
    note: str = ""


class _Errors:
    """Collects every field error of a request, so one answer names them all."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self.fields:
            raise ValidationError(self.fields)

    def check_texts(self, model: type[models.Model], texts: Mapping[str, str | None], **columns: str) -> None:
        """Texts bound for `model`'s columns (named as the caller's fields, or mapped by `columns`), checked with
        the other errors rather than by full_clean() after them: NUL, which PostgreSQL cannot store (a 500 there,
        kept silently by SQLite), and a length over the column's, refused rather than cut short."""
        for field, value in texts.items():
            if not value:
                continue
            if "\x00" in value:
                self.add(field, _("Null characters are not allowed."))
            max_length = getattr(model._meta.get_field(columns.get(field, field)), "max_length", None)
            if max_length is not None:
                try:
                    MaxLengthValidator(max_length)(value.strip())  # Django's own message, in the user's language
                except ValidationError as error:
                    self.fields.setdefault(field, []).extend(error.messages)


def _moment(value: datetime) -> str:
    """A time as the audit trail shows it: in the bank's time zone, whichever offset it was read or sent with (the
    database returns UTC), so that an unchanged time never shows as changed."""
    return str(jsonable(timezone.localtime(value)))


# --- checks --------------------------------------------------------------------------------------------------------


def _customer_to_visit(actor: User, customer_id: int) -> Customer:
    customer = (
        Customer.objects.restrict(actor, Action.CHANGE)
        .select_related("primary_rm")
        .filter(pk=customer_id, archived_at__isnull=True)
        .first()
    )
    if customer is None:
        raise NotFoundError()
    return customer


def _may_work(user: User, customer: Customer) -> bool:
    return Customer.objects.restrict(user, Action.CHANGE).filter(pk=customer.pk).exists()


def _visiting_rm(actor: User, customer: Customer, rm_id: int | None, errors: _Errors) -> User | None:
    """The RM who leads the visit: the one named, else the actor when an RM, else the customer's primary RM."""
    if rm_id is None:
        rm = actor if actor.role == Role.RM else customer.primary_rm
        if rm is None:
            errors.add("rm_id", _("Choose the RM who makes the visit."))
        return rm
    rm = User.objects.filter(pk=rm_id, is_active=True).first()
    if rm is None or not _may_work(rm, customer):
        errors.add("rm_id", _("The visiting RM must be one who looks after this customer."))
        return None
    return rm


def _bank_attendees(ids: Iterable[int], rm: User | None, customer: Customer, errors: _Errors) -> list[User]:
    """Colleagues who go along; each must be able to see the customer, since a visit is seen only by those who
    see its customer (a specialist from another department is named under other attendees instead)."""
    wanted = {int(pk) for pk in ids} - ({rm.pk} if rm is not None else set())
    users = list(User.objects.filter(pk__in=wanted, is_active=True).exclude(role=Role.ADMINISTRATOR))
    if len(users) != len(wanted):
        errors.add("bank_attendee_ids", _("Some of the bank attendees are not active colleagues."))
    blind = sorted(
        (user for user in users if not sees_customer(user, customer)), key=lambda user: (user.display_name, user.pk)
    )
    if blind:
        errors.add(
            "bank_attendee_ids",
            _("%(names)s cannot see this customer: name them under other attendees instead.")
            % {"names": "、".join(user.display_name for user in blind)},
        )
    return users


def _key_people(customer: Customer, ids: Iterable[int], errors: _Errors, field: str) -> list[KeyPerson]:
    wanted = {int(pk) for pk in ids}
    people = list(KeyPerson.objects.filter(pk__in=wanted, customer=customer, archived_at__isnull=True))
    if len(people) != len(wanted):
        # Named generically: the id may be another customer's key person, whom the user must not learn about.
        errors.add(field, _("Customer attendees must be key persons of this customer."))
    return people


def _check_plan_times(
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    took_place: bool,
    errors: _Errors,
    fields: tuple[str, str] = ("planned_start", "planned_end"),
) -> None:
    """The times of a plan; `fields` names them as the caller's form does (a postponement's are new_start/new_end)."""
    start_field, end_field = fields
    if timezone.is_naive(start) or timezone.is_naive(end):
        raise ValueError("planned times must be timezone-aware")
    if end <= start:
        errors.add(end_field, _("The visit must end after it starts."))
    elif end - start > MAX_VISIT_LENGTH:
        errors.add(end_field, _("A visit lasts at most 12 hours."))
    if took_place:
        if start > now:
            errors.add(start_field, _("A visit that already took place cannot start in the future."))
    elif start < now - PAST_GRACE:
        errors.add(
            start_field,
            _("This time has passed. Choose a future time, or say the visit already took place to record it."),
        )
    if start > now + PLAN_AHEAD:
        errors.add(start_field, _("Plan a visit at most a year ahead."))


def _check_choices(values: Iterable[str], allowed: Iterable[str], field: str, errors: _Errors) -> list[str]:
    """The values in the order given, without repeats; unknown ones are an error on `field`."""
    allowed_set = set(allowed)
    chosen = list(dict.fromkeys(str(value) for value in values))
    if any(value not in allowed_set for value in chosen):
        errors.add(field, _("Choose from the list."))
    return chosen


def _event_of(actor: User, customer: Customer, event_id: int | None, errors: _Errors) -> CustomerEvent | None:
    if event_id is None:
        return None
    event = CustomerEvent.objects.restrict(actor, Action.VIEW).filter(pk=event_id, customer=customer).first()
    if event is None:
        errors.add("event_id", _("The occasion must be one of this customer's."))
    return event


def overlapping_visits(
    actor: User, rm: User, start: datetime, end: datetime, exclude: int | None = None
) -> list[Visit]:
    """The RM's other planned visits that overlap [start, end), as far as the actor may see them."""
    visits = visits_for(actor).filter(rm=rm, status=VisitStatus.PLANNED, planned_start__lt=end, planned_end__gt=start)
    if exclude is not None:
        visits = visits.exclude(pk=exclude)
    return list(visits.select_related("customer").order_by("planned_start", "pk"))


def _clean_and_save(visit: Visit) -> None:
    # The model's own checks (choices, lengths, constraints) after ours: a message per field either way.
    visit.full_clean(exclude=["customer", "rm", "created_by", "event"])
    visit.save()


def _set_attendees(visit: Visit, users: Sequence[User], people: Sequence[KeyPerson]) -> None:
    VisitBankAttendee.objects.filter(visit=visit).delete()
    VisitContact.objects.filter(visit=visit).delete()
    VisitBankAttendee.objects.bulk_create(VisitBankAttendee(visit=visit, user=user) for user in users)
    VisitContact.objects.bulk_create(VisitContact(visit=visit, key_person=person) for person in people)


def _visit_task_title(visit: Visit) -> str:
    title = _("Visit %(name)s: %(purpose)s") % {"name": visit.customer.name, "purpose": visit.get_purpose_display()}
    # A customer's name may take up to 200 characters itself: the task's title must still fit its column.
    return title[:200]


def _attendee_names(users: Sequence[User], people: Sequence[KeyPerson]) -> dict[str, list[str]]:
    return {
        "bank_attendees": sorted(user.username for user in users),
        "customer_attendees": sorted(person.name for person in people),
    }


# --- plan ----------------------------------------------------------------------------------------------------------


@transaction.atomic
def plan_visit(
    *,
    actor: User,
    customer_id: int,
    purpose: str,
    planned_start: datetime,
    planned_end: datetime,
    purpose_detail: str = "",
    mode: str = VisitMode.ON_SITE,
    place: str = "",
    rm_id: int | None = None,
    bank_attendee_ids: Iterable[int] = (),
    key_person_ids: Iterable[int] = (),
    other_attendees: str = "",
    preparation: Iterable[str] = (),
    strategy: str = "",
    materials: str = "",
    event_id: int | None = None,
    took_place: bool = False,
    now: datetime | None = None,
) -> PlannedVisit:
    """Plan a visit (or file one that already took place, to record it next); a planned visit puts a task on the
    visiting RM's list."""
    now = now or timezone.now()
    customer = _customer_to_visit(actor, customer_id)
    errors = _Errors()
    rm = _visiting_rm(actor, customer, rm_id, errors)
    users = _bank_attendees(bank_attendee_ids, rm, customer, errors)
    people = _key_people(customer, key_person_ids, errors, "key_person_ids")
    prep = _check_choices(preparation, PrepItem.values, "preparation", errors)
    event = _event_of(actor, customer, event_id, errors)
    _check_plan_times(planned_start, planned_end, now=now, took_place=took_place, errors=errors)
    errors.check_texts(
        Visit,
        {
            "purpose_detail": purpose_detail,
            "place": place,
            "other_attendees": other_attendees,
            "strategy": strategy,
            "materials": materials,
        },
    )
    errors.raise_any()
    assert rm is not None
    visit = Visit(
        customer=customer,
        rm=rm,
        purpose=purpose,
        purpose_detail=purpose_detail.strip(),
        mode=mode,
        planned_start=planned_start,
        planned_end=planned_end,
        place=place.strip(),
        other_attendees=other_attendees.strip(),
        preparation=prep,
        strategy=strategy.strip(),
        materials=materials.strip(),
        event=event,
        created_by=actor,
    )
    _clean_and_save(visit)
    _set_attendees(visit, users, people)
    record(
        actor=actor,
        action="visit.plan",
        obj=visit,
        customer_id=customer.pk,
        changes={
            "purpose": [None, visit.purpose],
            "planned_start": [None, _moment(planned_start)],
            "rm": [None, rm.username],
            "place": [None, visit.place],
            **{name: [None, names] for name, names in _attendee_names(users, people).items() if names},
        },
    )
    if not took_place:
        create_task(
            actor=actor,
            owner=rm,
            title=_visit_task_title(visit),
            due_date=timezone.localdate(planned_start),
            kind=TaskKind.VISIT,
            customer=customer,
            source_type=VISIT_SOURCE,
            source_id=str(visit.pk),
        )
    if event is not None:
        # The occasion asked for a visit; now there is one.
        close_source_tasks(
            actor=actor,
            kind=TaskKind.VISIT_OCCASION,
            source_type=EVENT_SOURCE,
            source_id=str(event.pk),
            status=TaskStatus.DONE,
        )
    return PlannedVisit(visit, overlapping_visits(actor, rm, planned_start, planned_end, exclude=visit.pk))


_PLAN_TEXT_FIELDS = ("purpose", "purpose_detail", "mode", "place", "other_attendees", "strategy", "materials")


@transaction.atomic
def update_plan(
    *,
    actor: User,
    visit_id: int,
    version: int,
    purpose: str | None = None,
    planned_start: datetime | None = None,
    planned_end: datetime | None = None,
    purpose_detail: str | None = None,
    mode: str | None = None,
    place: str | None = None,
    rm_id: int | None = None,
    bank_attendee_ids: Iterable[int] | None = None,
    key_person_ids: Iterable[int] | None = None,
    other_attendees: str | None = None,
    preparation: Iterable[str] | None = None,
    strategy: str | None = None,
    materials: str | None = None,
    now: datetime | None = None,
) -> PlannedVisit:
    """Change a visit still to happen (None leaves a field as it is); a postponed visit given a new time is planned
    again."""
    now = now or timezone.now()
    visit = visit_for(actor, visit_id, Action.CHANGE, lock=True)
    if visit.version != version:
        raise ConflictError()
    if not visit.is_open:
        raise ValidationError({"status": _("Only a visit still to happen can be changed.")})
    errors = _Errors()
    before = {name: getattr(visit, name) for name in (*_PLAN_TEXT_FIELDS, "planned_start", "planned_end", "rm_id")}
    before["preparation"] = list(visit.preparation)
    rm = _visiting_rm(actor, visit.customer, rm_id, errors) if rm_id is not None else visit.rm
    users = _bank_attendees(bank_attendee_ids, rm, visit.customer, errors) if bank_attendee_ids is not None else None
    people = None
    if key_person_ids is not None:
        people = _key_people(visit.customer, key_person_ids, errors, "key_person_ids")
    if preparation is not None:
        visit.preparation = _check_choices(preparation, PrepItem.values, "preparation", errors)
    start = planned_start or visit.planned_start
    end = planned_end or visit.planned_end
    times_changed = start != visit.planned_start or end != visit.planned_end
    if times_changed or visit.status == VisitStatus.POSTPONED:
        _check_plan_times(start, end, now=now, took_place=False, errors=errors)
    values = {
        "purpose": purpose,
        "purpose_detail": purpose_detail,
        "mode": mode,
        "place": place,
        "other_attendees": other_attendees,
        "strategy": strategy,
        "materials": materials,
    }
    errors.check_texts(Visit, {name: value for name, value in values.items() if name not in ("purpose", "mode")})
    errors.raise_any()
    assert rm is not None
    attendees_before = _attendee_names(list(visit.bank_attendees.all()), list(visit.customer_attendees.all()))
    if users is None and rm.pk != visit.rm_id and visit.bank_attendee_links.filter(user=rm).exists():
        # The new visiting RM was going as an attendee; now they lead the visit and attend it once.
        users = list(visit.bank_attendees.exclude(pk=rm.pk))
    for name, value in values.items():
        if value is not None:
            setattr(visit, name, value.strip())
    visit.planned_start, visit.planned_end, visit.rm = start, end, rm
    was_postponed = visit.status == VisitStatus.POSTPONED
    visit.status = VisitStatus.PLANNED
    visit.version += 1
    _clean_and_save(visit)
    if users is not None or people is not None:
        _set_attendees(
            visit,
            users if users is not None else list(visit.bank_attendees.all()),
            people if people is not None else list(visit.customer_attendees.all()),
        )
    after = {name: getattr(visit, name) for name in before}
    for times in (before, after):
        times["planned_start"], times["planned_end"] = _moment(times["planned_start"]), _moment(times["planned_end"])
    changes: dict[str, Any] = diff(before, after)
    if users is not None or people is not None:
        attendees_after = _attendee_names(list(visit.bank_attendees.all()), list(visit.customer_attendees.all()))
        changes.update(diff(attendees_before, attendees_after))
    if "rm_id" in changes:
        changes["rm_id"] = [User.objects.get(pk=before["rm_id"]).username, rm.username]
    if was_postponed:
        changes["status"] = [VisitStatus.POSTPONED, VisitStatus.PLANNED]
    record(actor=actor, action="visit.update", obj=visit, customer_id=visit.customer_id, changes=changes)
    _sync_visit_task(actor, visit, reopen=was_postponed, owner_changed="rm_id" in changes)
    return PlannedVisit(visit, overlapping_visits(actor, rm, start, end, exclude=visit.pk))


def _sync_visit_task(actor: User, visit: Visit, *, reopen: bool, owner_changed: bool) -> None:
    """Keep the visiting RM's task in step with the plan: its date follows the visit, a new RM gets it."""
    source = {"kind": TaskKind.VISIT, "source_type": VISIT_SOURCE, "source_id": str(visit.pk)}
    if owner_changed:
        close_source_tasks(actor=actor, status=TaskStatus.CANCELLED, **source)
    if reopen or owner_changed:
        create_task(
            actor=actor,
            owner=visit.rm,
            title=_visit_task_title(visit),
            due_date=timezone.localdate(visit.planned_start),
            customer=visit.customer,
            kind=TaskKind.VISIT,
            source_type=VISIT_SOURCE,
            source_id=str(visit.pk),
        )
    else:
        move_source_tasks(actor=actor, due_date=timezone.localdate(visit.planned_start), **source)


def _reason(reason: str | None, missing: str, errors: _Errors) -> str:
    """The reason for a postponement or cancellation, required, checked on the caller's field `reason`."""
    reason = (reason or "").strip()
    if not reason:
        errors.add("reason", missing)
    errors.check_texts(Visit, {"reason": reason}, reason="status_reason")
    return reason


@transaction.atomic
def postpone_visit(
    *,
    actor: User,
    visit_id: int,
    reason: str,
    new_start: datetime | None = None,
    new_end: datetime | None = None,
    now: datetime | None = None,
) -> Visit:
    """Postpone a planned visit: to a new time (it stays planned), or until a time is agreed (it waits postponed)."""
    now = now or timezone.now()
    visit = visit_for(actor, visit_id, Action.CHANGE, lock=True)
    errors = _Errors()
    if visit.status != VisitStatus.PLANNED:
        errors.add("status", _("Only a planned visit can be postponed."))
    reason = _reason(reason, _("Say why the visit is postponed."), errors)
    if (new_start is None) != (new_end is None):
        errors.add("new_end" if new_end is None else "new_start", _("Give both the new start and the new end."))
    elif new_start is not None and new_end is not None:
        _check_plan_times(new_start, new_end, now=now, took_place=False, errors=errors, fields=("new_start", "new_end"))
        if new_start == visit.planned_start and new_end == visit.planned_end:
            errors.add("new_start", _("The new time is the same as the planned one."))
    errors.raise_any()
    changes: dict[str, Any] = {"reason": reason}
    visit.status_reason = reason
    visit.postponed_count += 1
    visit.version += 1
    if new_start is not None and new_end is not None:
        changes["planned_start"] = [_moment(visit.planned_start), _moment(new_start)]
        visit.planned_start, visit.planned_end = new_start, new_end
    else:
        changes["status"] = [visit.status, VisitStatus.POSTPONED]
        visit.status = VisitStatus.POSTPONED
    _clean_and_save(visit)
    record(actor=actor, action="visit.postpone", obj=visit, customer_id=visit.customer_id, changes=changes)
    source = {"kind": TaskKind.VISIT, "source_type": VISIT_SOURCE, "source_id": str(visit.pk)}
    if visit.status == VisitStatus.POSTPONED:
        close_source_tasks(actor=actor, status=TaskStatus.CANCELLED, **source)
    else:
        move_source_tasks(actor=actor, due_date=timezone.localdate(visit.planned_start), **source)
    return visit


@transaction.atomic
def cancel_visit(*, actor: User, visit_id: int, reason: str) -> Visit:
    """Cancel a visit still to happen; its task goes with it."""
    visit = visit_for(actor, visit_id, Action.CHANGE, lock=True)
    errors = _Errors()
    if not visit.is_open:
        errors.add("status", _("Only a visit still to happen can be cancelled."))
    reason = _reason(reason, _("Say why the visit is cancelled."), errors)
    errors.raise_any()
    before = visit.status
    visit.status, visit.status_reason = VisitStatus.CANCELLED, reason
    visit.version += 1
    _clean_and_save(visit)
    record(
        actor=actor,
        action="visit.cancel",
        obj=visit,
        customer_id=visit.customer_id,
        changes={"status": [before, VisitStatus.CANCELLED], "reason": reason},
    )
    close_source_tasks(
        actor=actor,
        kind=TaskKind.VISIT,
        source_type=VISIT_SOURCE,
        source_id=str(visit.pk),
        status=TaskStatus.CANCELLED,
    )
    return visit


# --- on the day ------------------------------------------------------------------------------------------------------


def _coordinate(value: Any, limit: int, field: str, errors: _Errors) -> Decimal | None:
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError, TypeError):
        errors.add(field, _("Enter a number."))
        return None
    if not number.is_finite() or abs(number) > limit:
        errors.add(field, _("This is not a position on Earth."))
        return None
    return number


@transaction.atomic
def check_in(
    *,
    actor: User,
    visit_id: int,
    status: str,
    latitude: Any = None,
    longitude: Any = None,
    accuracy_m: Any = None,
) -> Visit:
    """Check in at the visit, with the browser's location when the RM allowed it (without it when not)."""
    visit = visit_for(actor, visit_id, Action.VIEW, lock=True)
    attending = actor.pk == visit.rm_id or visit.bank_attendee_links.filter(user=actor).exists()
    # An attendee checks in on what they may only read (a risk officer who goes along); anyone else needs the
    # right to change the visit, or it is not found, as for every write.
    if not attending and not visits_for(actor, Action.CHANGE).filter(pk=visit.pk).exists():
        raise NotFoundError()
    errors = _Errors()
    if visit.status != VisitStatus.PLANNED:
        errors.add("status", _("Check in only at a planned visit."))
    elif not attending:
        errors.add("status", _("Only the visiting RM or a bank attendee can check in."))
    if status not in CheckinStatus.values or status == CheckinStatus.NONE:
        errors.add("checkin_status", _("Choose from the list."))
    lat = lng = None
    accuracy: int | None = None
    if status == CheckinStatus.LOCATED:
        lat = _coordinate(latitude, 90, "latitude", errors)
        lng = _coordinate(longitude, 180, "longitude", errors)
        if accuracy_m is not None and accuracy_m != "":
            try:
                accuracy = max(0, round(float(accuracy_m)))  # metres, as the browser reports them
            except (TypeError, ValueError, OverflowError):  # OverflowError: "inf" is no number of metres
                errors.add("accuracy_m", _("Enter a number."))
            else:
                # Within the column's range: the browser's figure is not the RM's to fix, and one that coarse
                # already says the position means nothing.
                accuracy = min(accuracy, 2_147_483_647)
    errors.raise_any()
    visit.checkin_status = status
    visit.checkin_at = timezone.now()
    visit.checkin_latitude, visit.checkin_longitude, visit.checkin_accuracy_m = lat, lng, accuracy
    # No version bump: a check-in changes nothing the plan or record forms edit, so a form opened before it
    # must still save.
    _clean_and_save(visit)
    # The position itself stays on the visit: the trail records that, and how well, the RM was located.
    record(
        actor=actor,
        action="visit.check_in",
        obj=visit,
        customer_id=visit.customer_id,
        changes={"checkin_status": [None, status], "checkin_accuracy_m": [None, accuracy]},
    )
    return visit


# --- record ----------------------------------------------------------------------------------------------------------

_RECORD_TEXT_FIELDS = (
    "goals_short",
    "goals_long",
    "needs_detail",
    "operations",
    "product_reaction",
    "notes",
    "self_check_note",
)


# Yuan as people write them: digits, optionally grouped by thousands with commas, and at most two decimals (ASCII
# digits only: Decimal() would also take "1e3", "1_000", "NaN" or full-width digits).
_AMOUNT = re.compile(r"(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]{1,2})?")
_FEN = Decimal("0.01")


def _amount(value: Any, field: str, errors: _Errors) -> Decimal | None:
    """An amount in yuan, exact to the fen; a float is refused (it cannot hold most amounts exactly)."""
    if value is None or value == "":
        return None
    amount: Decimal | None = None
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int) and not isinstance(value, bool):
        amount = Decimal(value)
    elif isinstance(value, str) and _AMOUNT.fullmatch(value.strip()):
        amount = Decimal(value.strip().replace(",", ""))
    try:
        exact = amount is not None and amount.is_finite() and amount >= 0 and amount == amount.quantize(_FEN)
    except InvalidOperation:  # more digits than Decimal's precision: no amount is that large
        exact = False
    if amount is None or not exact:
        errors.add(field, _("Enter an amount in yuan, e.g. 1200000.00."))
        return None
    return amount.quantize(_FEN)


def _check_row(row: OtherBankCredit | Proposal | ProductPresented, label: str, field: str, errors: _Errors) -> None:
    """The model's own checks of a record row (lengths, digits) and NUL, named by the row and the column."""
    found: dict[str, list[str]] = {}
    for column in row._meta.concrete_fields:
        value = getattr(row, column.attname)
        if isinstance(value, str) and "\x00" in value:
            found.setdefault(column.name, []).append(_("Null characters are not allowed."))
    if not found:
        try:
            row.full_clean(exclude=["visit"])
        except ValidationError as error:
            found = error.message_dict
    for name, messages in found.items():
        column_name = getattr(row._meta.get_field(name), "verbose_name", name) if name != NON_FIELD_ERRORS else ""
        for message in messages:
            errors.add(
                field, _("%(row)s, %(column)s: %(message)s") % {"row": label, "column": column_name, "message": message}
            )


def _record_rows(
    visit: Visit,
    other_banks: Sequence[OtherBankInput],
    proposals: Sequence[ProposalInput],
    products: Sequence[ProductInput],
    errors: _Errors,
) -> tuple[list[OtherBankCredit], list[Proposal], list[ProductPresented]]:
    """The record's rows, checked; a message names the row (1-based, as the user sees them)."""
    # A row's own checks come first; the model's (lengths, digits) only for a row they passed, so that one mistake
    # is not reported twice. Nothing is cut short: too long is an error the user can fix, not a silent loss.
    banks: list[OtherBankCredit] = []
    for n, bank in enumerate(other_banks, start=1):
        found = len(errors.fields.get("other_banks", []))
        name = (bank.bank_name or "").strip()
        if not name:
            errors.add("other_banks", _("Other bank %(n)s: name the bank.") % {"n": n})
        if bank.satisfaction and bank.satisfaction not in Satisfaction.values:
            errors.add("other_banks", _("Other bank %(n)s: choose a satisfaction from the list.") % {"n": n})
        amount = _amount(bank.amount, "other_banks", errors)
        row = OtherBankCredit(
            visit=visit,
            bank_name=name,
            facility=(bank.facility or "").strip(),
            amount=amount,
            satisfaction=bank.satisfaction or "",
        )
        if len(errors.fields.get("other_banks", [])) == found:
            _check_row(row, _("Other bank %(n)s") % {"n": n}, "other_banks", errors)
        banks.append(row)
    made: list[Proposal] = []
    for n, proposal in enumerate(proposals, start=1):
        found = len(errors.fields.get("proposals", []))
        content = (proposal.content or "").strip()
        if not content:
            errors.add("proposals", _("Proposal %(n)s: say what was proposed.") % {"n": n})
        if proposal.response not in ProposalResponse.values:
            errors.add("proposals", _("Proposal %(n)s: choose the customer's response from the list.") % {"n": n})
        counter = (proposal.counter_offer or "").strip()
        if proposal.response == ProposalResponse.COUNTERED and not counter:
            errors.add("proposals", _("Proposal %(n)s: write down the counter-offer.") % {"n": n})
        made_row = Proposal(visit=visit, position=n, content=content, response=proposal.response, counter_offer=counter)
        if len(errors.fields.get("proposals", [])) == found:
            _check_row(made_row, _("Proposal %(n)s") % {"n": n}, "proposals", errors)
        made.append(made_row)
    presented: list[ProductPresented] = []
    for n, product in enumerate(products, start=1):
        found = len(errors.fields.get("products", []))
        name = (product.product or "").strip()
        if not name:
            errors.add("products", _("Product %(n)s: name the product.") % {"n": n})
        if product.interest not in Interest.values:
            errors.add("products", _("Product %(n)s: choose the customer's interest from the list.") % {"n": n})
        presented_row = ProductPresented(
            visit=visit, position=n, product=name, interest=product.interest, note=(product.note or "").strip()
        )
        if len(errors.fields.get("products", [])) == found:
            _check_row(presented_row, _("Product %(n)s") % {"n": n}, "products", errors)
        presented.append(presented_row)
    return banks, made, presented


def _check_record_times(start: datetime | None, end: datetime | None, errors: _Errors) -> None:
    if start is None:
        errors.add("actual_start", _("Enter when the visit started."))
    if end is None:
        errors.add("actual_end", _("Enter when the visit ended."))
    if start is None or end is None:
        return
    if end <= start:
        errors.add("actual_end", _("The visit must end after it starts."))
    elif end - start > MAX_VISIT_LENGTH:
        errors.add("actual_end", _("A visit lasts at most 12 hours."))
    latest = timezone.now() + PAST_GRACE
    if start > latest:
        errors.add("actual_start", _("A visit can be recorded only once it has taken place."))
    elif end > latest:
        errors.add("actual_end", _("A visit can be recorded only once it has taken place."))


@transaction.atomic
def record_visit(
    *,
    actor: User,
    visit_id: int,
    version: int,
    actual_start: datetime | None,
    actual_end: datetime | None,
    goals_short: str = "",
    goals_long: str = "",
    need_tags: Iterable[str] = (),
    needs_detail: str = "",
    operations: str = "",
    product_reaction: str = "",
    notes: str = "",
    confidential_notes: str = "",
    self_check: Iterable[str] = (),
    self_check_note: str = "",
    other_banks: Sequence[OtherBankInput] = (),
    proposals: Sequence[ProposalInput] = (),
    products: Sequence[ProductInput] = (),
    key_person_preferences: Mapping[int, str] | None = None,
) -> Visit:
    """Record what happened on a visit (§4.3–§4.6), or correct a record; the visit counts for cadence from its day."""
    visit = visit_for(actor, visit_id, Action.CHANGE, lock=True)
    if visit.status == VisitStatus.CANCELLED:
        raise ValidationError(
            {"status": _("This visit was cancelled, so there is nothing to record. Plan a new visit instead.")}
        )
    if visit.version != version:
        raise ConflictError()
    errors = _Errors()
    _check_record_times(actual_start, actual_end, errors)
    tags = _check_choices(need_tags, NeedTag.values, "need_tags", errors)
    checks = _check_choices(self_check, SelfCheck.values, "self_check", errors)
    banks, made, presented = _record_rows(visit, other_banks, proposals, products, errors)
    preferences = {int(pk): (text or "").strip() for pk, text in (key_person_preferences or {}).items()}
    people = _key_people(visit.customer, preferences, errors, "key_person_preferences")
    texts = {
        "goals_short": goals_short,
        "goals_long": goals_long,
        "needs_detail": needs_detail,
        "operations": operations,
        "product_reaction": product_reaction,
        "notes": notes,
        "self_check_note": self_check_note,
    }
    errors.check_texts(Visit, {**texts, "confidential_notes": confidential_notes})
    errors.check_texts(
        KeyPerson, {"key_person_preferences": "".join(preferences.values())}, key_person_preferences="preferences"
    )
    errors.raise_any()
    assert actual_start is not None and actual_end is not None
    newly_done = visit.status != VisitStatus.DONE
    before = {name: getattr(visit, name) for name in (*_RECORD_TEXT_FIELDS, "status", "visited_on")}
    before.update(need_tags=list(visit.need_tags), self_check=list(visit.self_check))
    confidential_before = visit.confidential_notes
    for name, value in texts.items():
        setattr(visit, name, (value or "").strip())
    visit.confidential_notes = (confidential_notes or "").strip()
    visit.need_tags, visit.self_check = tags, checks
    visit.actual_start, visit.actual_end = actual_start, actual_end
    visit.visited_on = timezone.localdate(actual_start)
    visit.status = VisitStatus.DONE
    visit.recorded_at = timezone.now()
    visit.version += 1
    _clean_and_save(visit)
    for model in (OtherBankCredit, Proposal, ProductPresented):
        model.objects.filter(visit=visit).delete()
    OtherBankCredit.objects.bulk_create(banks)
    Proposal.objects.bulk_create(made)
    ProductPresented.objects.bulk_create(presented)
    after = {name: getattr(visit, name) for name in before}
    changes: dict[str, Any] = diff(before, after)
    if visit.confidential_notes != confidential_before:
        # What the confidential notes say never enters the trail, which everyone who sees the customer can read.
        changes["confidential_notes"] = ["***", "***"]
    changes["rows"] = {"other_banks": len(banks), "proposals": len(made), "products": len(presented)}
    record(actor=actor, action="visit.record", obj=visit, customer_id=visit.customer_id, changes=changes)
    for person in people:
        if person.preferences != preferences[person.pk]:
            update_key_person(
                actor=actor,
                key_person_id=person.pk,
                version=person.version,
                data={"preferences": preferences[person.pk]},
            )
    if newly_done:
        # A correction of an old record answers nothing new: the customer's cadence task raised since then stays.
        _close_answered_tasks(actor, visit)
    return visit


def _close_answered_tasks(actor: User, visit: Visit) -> None:
    """A visit done answers its own task, the customer's lapsed cadence and the occasion it was planned for."""
    close_source_tasks(
        actor=actor, kind=TaskKind.VISIT, source_type=VISIT_SOURCE, source_id=str(visit.pk), status=TaskStatus.DONE
    )
    close_source_tasks(
        actor=actor,
        kind=TaskKind.VISIT_DUE,
        source_type=CADENCE_SOURCE,
        source_id=str(visit.customer_id),
        status=TaskStatus.DONE,
    )
    if visit.event_id is not None:
        close_source_tasks(
            actor=actor,
            kind=TaskKind.VISIT_OCCASION,
            source_type=EVENT_SOURCE,
            source_id=str(visit.event_id),
            status=TaskStatus.DONE,
        )


# --- follow-up -------------------------------------------------------------------------------------------------------


def _done_visit(actor: User, visit_id: int) -> Visit:
    visit = visit_for(actor, visit_id, Action.CHANGE, lock=True)
    if visit.status != VisitStatus.DONE:
        raise ValidationError({"visit": _("Record the visit before adding what comes next.")})
    return visit


@transaction.atomic
def add_follow_up_task(
    *, actor: User, visit_id: int, description: str, owner_id: int | None, due_date: date | None
) -> FollowUp:
    """Make a next step of a visit a task for its owner (who must be able to see the customer)."""
    visit = _done_visit(actor, visit_id)
    errors = _Errors()
    description = (description or "").strip()
    if not description:
        errors.add("description", _("Say what the next step is."))
    errors.check_texts(FollowUp, {"description": description})
    owner = User.objects.filter(pk=owner_id, is_active=True).first() if owner_id is not None else None
    if owner is None or not sees_customer(owner, visit.customer):
        errors.add("owner_id", _("The owner must be a colleague who can see this customer."))
    if due_date is None:
        errors.add("due_date", _("Enter the date it is due."))
    elif due_date < timezone.localdate():
        errors.add("due_date", _("The due date cannot be in the past."))
    errors.raise_any()
    assert owner is not None and due_date is not None
    follow_up = FollowUp(visit=visit, kind=FollowUpKind.TASK, description=description, created_by=actor)
    follow_up.full_clean(exclude=["visit", "task", "stage_change", "created_by"])
    follow_up.save()
    follow_up.task = create_task(
        actor=actor,
        owner=owner,
        title=description,
        due_date=due_date,
        kind=TaskKind.FOLLOW_UP,
        customer=visit.customer,
        source_type=FOLLOW_UP_SOURCE,
        source_id=str(follow_up.pk),
    )
    follow_up.save(update_fields=["task"])
    record(
        actor=actor,
        action="visit.follow_up",
        obj=visit,
        customer_id=visit.customer_id,
        changes={"kind": FollowUpKind.TASK, "description": description, "owner": owner.username, "due_date": due_date},
    )
    return follow_up


@transaction.atomic
def add_follow_up_stage(
    *,
    actor: User,
    visit_id: int,
    to_stage: str,
    description: str = "",
    won_evidence: str = "",
    drop_reason: str = "",
) -> FollowUp:
    """Move the visited prospect along its pipeline because of what the visit found (e.g. a need → 方案)."""
    visit = _done_visit(actor, visit_id)
    prospect = Prospect.objects.filter(customer_id=visit.customer_id, merged_into__isnull=True).first()
    if prospect is None:
        raise ValidationError({"to_stage": _("This customer is not being developed, so it has no pipeline to move.")})
    description = (description or "").strip()
    errors = _Errors()
    errors.check_texts(FollowUp, {"description": description})
    errors.raise_any()
    note = description or _("After the visit of %(date)s") % {"date": visit.visited_on}
    moved = move_stage(
        actor=actor,
        prospect_id=prospect.pk,
        version=prospect.version,
        to_stage=to_stage,
        note=note[:200],
        won_evidence=won_evidence,
        drop_reason=drop_reason,
    )
    stage_change = moved.stage_changes.order_by("-changed_at", "-pk").first()
    follow_up = FollowUp(
        visit=visit,
        kind=FollowUpKind.STAGE,
        description=(description or str(stage_change))[:200],
        stage_change=stage_change,
        created_by=actor,
    )
    follow_up.save()
    record(
        actor=actor,
        action="visit.follow_up",
        obj=visit,
        customer_id=visit.customer_id,
        changes={"kind": FollowUpKind.STAGE, "to_stage": to_stage, "description": follow_up.description},
    )
    return follow_up
