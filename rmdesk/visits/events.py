"""Occasions to visit 把握时机 (§4.2): logged by a user or detected from the archive, each proposing a visit to the
customer's primary RM as a VISIT_OCCASION task that gives the reason.

Detection (`detect_events`, part of the end-of-day batch) reads the audit trail after its cursor:
- the legal representative changed (`customer.update`), or the actual controller changed (`key_person.update` of
  an actual controller's name, or someone made actual controller), or another actual controller was added next to
  one already on file (`key_person.create`) → major structural change, new leadership;
- the registered capital or the ownership type changed (`customer.update`) → major structural change,
  restructuring.
A first value filled in (no legal representative, capital or ownership before; the first actual controller of a
file) completes the file and is no occasion. Changes older than RECENT_CHANGE_DAYS are history, not occasions: the
first run on an old archive would otherwise propose visits for changes made years ago.

It also sweeps the founding anniversaries (`established_on`) that are whole multiples of
RMDESK_VISIT_ANNIVERSARY_YEARS and fall within the next RMDESK_VISIT_ANNIVERSARY_LEAD_DAYS → happy event. A
company founded on 29 February has its anniversary on 28 February in other years.

Every detected event has a detection key unique per customer ("legal_representative:<audit seq>",
"anniversary:<year>"), so a second run, or a run after the cursor was reset, creates nothing twice. Customers with
no primary RM (waiting in a pool) and archived files are skipped: there is nobody to propose the visit to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action
from rmdesk.audit.models import AuditEvent
from rmdesk.audit.services import record
from rmdesk.core.errors import NotFoundError
from rmdesk.core.money import format_wan
from rmdesk.customers.choices import KeyPersonRole, Ownership
from rmdesk.customers.models import Customer, KeyPerson
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind
from rmdesk.tasks.models import Task
from rmdesk.visits.cadence import add_months, start_of_day
from rmdesk.visits.choices import EventKind, EventOrigin
from rmdesk.visits.models import CustomerEvent, DetectionCursor
from rmdesk.visits.services import EVENT_SOURCE

CURSOR = "events"
TITLE_MAX = 200
RECENT_CHANGE_DAYS = 30
# An occasion that already happened is best seized within a week; one still ahead, on its day.
SEIZE_WITHIN_DAYS = 7
# Audit events read per query, and rows written per INSERT (SQLite: at most 32,766 parameters a statement).
READ_BATCH = 5000
WRITE_BATCH = 2000
# No company in the archive was founded before this year; anniversary ranges stop there.
EARLIEST_FOUNDING_YEAR = 1800
WATCHED_ACTIONS = ("customer.update", "key_person.create", "key_person.update")


# --- logging an occasion ---------------------------------------------------------------------------------------------


def _title_error(title: Any) -> str | None:
    text = title.strip() if isinstance(title, str) else ""
    if not text:
        return _("Say what happened.")
    if len(text) > TITLE_MAX:
        return _("Keep it to %(max)s characters.") % {"max": TITLE_MAX}
    if "\x00" in text:
        return _("Null characters are not allowed.")
    return None


def _date_error(occurred_on: Any, today: date) -> str | None:
    if not isinstance(occurred_on, date):
        return _("Enter a date.")
    if occurred_on > add_months(today, 12):
        return _("An occasion can be logged at most a year ahead.")
    if occurred_on < add_months(today, -12):
        return _("More than a year ago is history, not an occasion: note it in the customer's file.")
    return None


@transaction.atomic
def log_event(
    *, actor: User, customer_id: int, kind: str, title: str, occurred_on: date, today: date | None = None
) -> CustomerEvent:
    """Log an occasion on a customer the actor may change; it proposes a visit to the customer's primary RM."""
    today = today or timezone.localdate()
    customer = (
        Customer.objects.restrict(actor, Action.CHANGE)
        .filter(pk=customer_id, archived_at__isnull=True)
        .select_related("primary_rm")
        .first()
    )
    if customer is None:
        raise NotFoundError()
    rm = customer.primary_rm
    errors = {
        "kind": None if kind in EventKind.values else _("Choose one of the occasions."),
        "title": _title_error(title),
        "occurred_on": _date_error(occurred_on, today),
        "customer": None if rm is not None else _("This customer waits in the pool with no RM: assign an RM first."),
    }
    if any(errors.values()) or rm is None:
        raise ValidationError({name: message for name, message in errors.items() if message})
    event = CustomerEvent.objects.create(
        customer=customer,
        kind=kind,
        title=title.strip(),
        occurred_on=occurred_on,
        origin=EventOrigin.LOGGED,
        logged_by=actor,
    )
    reason = _("%(headline)s — %(detail)s") % {"headline": EventKind(kind).label, "detail": event.title}
    (task,) = _propose_visits([(event, rm.pk, reason)], today)
    record(
        actor=actor,
        action="customer_event.log",
        obj=event,
        customer_id=customer.pk,
        changes={
            "kind": kind,
            "title": event.title,
            "occurred_on": occurred_on,
            "task": task.pk,
            "rm": rm.username,
        },
    )
    return event


def _propose_visits(proposals: Sequence[tuple[CustomerEvent, int, str]], today: date) -> list[Task]:
    """One VISIT_OCCASION task per (event, primary RM, reason), written in the bank's language: the RM reads it,
    not whoever logged the event or the batch that found it."""
    tasks = []
    with translation.override(settings.LANGUAGE_CODE):
        for event, rm_id, reason in proposals:
            ahead = event.occurred_on > today
            tasks.append(
                Task(
                    kind=TaskKind.VISIT_OCCASION,
                    title=(_("Visit occasion: %(reason)s") % {"reason": reason})[:TITLE_MAX],
                    customer_id=event.customer_id,
                    owner_id=rm_id,
                    due_date=event.occurred_on if ahead else today + timedelta(days=SEIZE_WITHIN_DAYS),
                    source_type=EVENT_SOURCE,
                    source_id=str(event.pk),
                )
            )
    created: list[Task] = []
    for start in range(0, len(tasks), WRITE_BATCH):
        created.extend(Task.objects.bulk_create(tasks[start : start + WRITE_BATCH]))
    return created


# --- detection -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DetectionRun:
    """What one run of detection found."""

    on: date
    from_seq: int  # audit events after this one were read …
    to_seq: int  # … up to this one (the cursor now)
    structural: int  # structural changes found (new leadership, restructuring)
    anniversaries: int
    tasks: int
    skipped_without_rm: int  # occasions on customers with no primary RM (or archived), not recorded
    first_event_id: int | None
    last_event_id: int | None


@dataclass(frozen=True)
class _Found:
    customer_id: int
    kind: str
    headline: str
    detail: str
    occurred_on: date
    detection_key: str
    rm_id: int | None = None  # the primary RM to propose the visit to, once known

    @property
    def title(self) -> str:
        return (_("%(headline)s — %(detail)s") % {"headline": self.headline, "detail": self.detail})[:TITLE_MAX]


def detect_events(*, on: date) -> DetectionRun:
    """The daily detection job: occasions from the audit trail after the cursor and the coming anniversaries, each
    recorded as a detected CustomerEvent with a VISIT_OCCASION task for the primary RM. Running it twice finds
    nothing new."""
    with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
        # The cursor's row lock serialises runs (PostgreSQL; SQLite's write transactions are serial already).
        DetectionCursor.objects.get_or_create(name=CURSOR)
        cursor = DetectionCursor.objects.select_for_update().get(name=CURSOR)
        from_seq = cursor.last_seq
        to_seq = AuditEvent.objects.aggregate(top=Max("seq"))["top"] or 0
        changes = _changes_in_trail(from_seq, to_seq, on)
        rm_of = _customers_with_rm({found.customer_id for found in changes})
        structural = [replace(found, rm_id=rm_of[found.customer_id]) for found in changes if found.customer_id in rm_of]
        skipped = len(changes) - len(structural)
        structural = _not_yet_recorded(structural)
        anniversaries = _not_yet_recorded(_coming_anniversaries(on))
        found = [*structural, *anniversaries]
        events = _write_events(found)
        tasks = _propose_visits(
            [(event, item.rm_id, item.title) for event, item in zip(events, found, strict=True) if item.rm_id], on
        )
        task_of = {task.source_id: task.pk for task in tasks}
        # The structural changes follow a person's edit, one at a time: each is recorded on its customer, so the 360
        # timeline shows what raised the visit. Anniversaries come by the thousand from one sweep of a million
        # customers, with no person behind them: the run's summary below records them (how many, which event ids),
        # and the CustomerEvent rows themselves carry origin, key and time.
        for event in events[: len(structural)]:
            record(
                actor=None,
                action="customer_event.detect",
                obj=event,
                customer_id=event.customer_id,
                changes={
                    "kind": event.kind,
                    "title": event.title,
                    "detection_key": event.detection_key,
                    "task": task_of.get(str(event.pk)),
                },
            )
        cursor.last_seq = to_seq
        cursor.save(update_fields=["last_seq", "updated_at"])
        event_ids = [event.pk for event in events]
        run = DetectionRun(
            on=on,
            from_seq=from_seq,
            to_seq=to_seq,
            structural=len(structural),
            anniversaries=len(anniversaries),
            tasks=len(tasks),
            skipped_without_rm=skipped,
            first_event_id=min(event_ids, default=None),
            last_event_id=max(event_ids, default=None),
        )
        record(
            actor=None,
            action="customer_event.detection_run",
            changes={
                "on": on,
                "from_seq": run.from_seq,
                "to_seq": run.to_seq,
                "structural": run.structural,
                "anniversaries": run.anniversaries,
                "tasks": run.tasks,
                "skipped_without_rm": run.skipped_without_rm,
                "first_event_id": run.first_event_id,
                "last_event_id": run.last_event_id,
            },
        )
    return run


def _customers_with_rm(customer_ids: Iterable[int]) -> dict[int, int]:
    """{customer id: primary RM id} of the given customers that have an RM and are not archived."""
    found: dict[int, int] = {}
    ids = sorted(customer_ids)
    for start in range(0, len(ids), READ_BATCH):
        found.update(
            Customer.objects.filter(
                pk__in=ids[start : start + READ_BATCH], archived_at__isnull=True, primary_rm__isnull=False
            ).values_list("pk", "primary_rm_id")
        )
    return found


def _not_yet_recorded(found: list[_Found]) -> list[_Found]:
    """Leave out what an earlier run recorded (the same customer and key), and repeats within this run."""
    existing: set[tuple[int, str]] = set()
    for start in range(0, len(found), READ_BATCH):
        batch = found[start : start + READ_BATCH]
        existing.update(
            CustomerEvent.objects.filter(
                customer_id__in={f.customer_id for f in batch}, detection_key__in={f.detection_key for f in batch}
            ).values_list("customer_id", "detection_key")
        )
    fresh = []
    for item in found:
        key = (item.customer_id, item.detection_key)
        if key not in existing:
            existing.add(key)
            fresh.append(item)
    return fresh


def _write_events(found: list[_Found]) -> list[CustomerEvent]:
    events = [
        CustomerEvent(
            customer_id=item.customer_id,
            kind=item.kind,
            title=item.title,
            occurred_on=item.occurred_on,
            origin=EventOrigin.DETECTED,
            detection_key=item.detection_key,
        )
        for item in found
    ]
    written: list[CustomerEvent] = []
    for start in range(0, len(events), WRITE_BATCH):
        written.extend(CustomerEvent.objects.bulk_create(events[start : start + WRITE_BATCH]))
    return written


# --- what the audit trail says ---------------------------------------------------------------------------------------


def _changes_in_trail(from_seq: int, to_seq: int, on: date) -> list[_Found]:
    """The structural changes recorded after `from_seq` up to `to_seq`, in order, leaving out those older than
    RECENT_CHANGE_DAYS before `on`."""
    since = start_of_day(on - timedelta(days=RECENT_CHANGE_DAYS))
    rows: list[Mapping[str, Any]] = []
    last = from_seq
    while last < to_seq:
        batch = list(
            AuditEvent.objects.filter(seq__gt=last, seq__lte=to_seq, at__gte=since, action__in=WATCHED_ACTIONS)
            .order_by("seq")
            .values("seq", "at", "action", "object_id", "customer_id", "changes")[:READ_BATCH]
        )
        if not batch:
            break
        rows.extend(batch)
        last = batch[-1]["seq"]
    return _read_rows(rows)


def _read_rows(rows: Sequence[Mapping[str, Any]]) -> list[_Found]:
    person_ids = sorted(
        {int(row["object_id"]) for row in rows if row["action"].startswith("key_person.") and row["object_id"]}
    )
    people: dict[int, tuple[int, str, str]] = {}
    for start in range(0, len(person_ids), READ_BATCH):
        people.update(
            (pk, (customer_id, role, name))
            for pk, customer_id, role, name in KeyPerson.objects.filter(
                pk__in=person_ids[start : start + READ_BATCH]
            ).values_list("pk", "customer_id", "role", "name")
        )
    replaced = _with_earlier_controller(people)
    during = _key_persons_during(rows, people)
    found: list[_Found] = []
    for row in rows:
        if row["customer_id"] is None:
            continue
        changes = row["changes"] or {}
        occurred_on = timezone.localdate(row["at"])
        if row["action"] == "customer.update":
            found.extend(_customer_changes(row["customer_id"], row["seq"], changes, occurred_on))
        else:
            item = _controller_change(row, changes, during.get(row["seq"]), replaced, occurred_on)
            if item is not None:
                found.append(item)
    return found


def _key_persons_during(
    rows: Sequence[Mapping[str, Any]], people: Mapping[int, tuple[int, str, str]]
) -> dict[int, tuple[str, str]]:
    """{audit seq: (role, name)} of the key person an event changed, as they stood right after it: the trail is
    walked back from today's values, undoing each change (a finance head renamed, then made actual controller, was
    no controller when renamed)."""
    state = {pk: (role, name) for pk, (_customer_id, role, name) in people.items()}
    during: dict[int, tuple[str, str]] = {}
    for row in reversed(rows):
        pk = int(row["object_id"] or 0) if row["action"].startswith("key_person.") else 0
        if pk not in state:
            continue
        during[row["seq"]] = state[pk]
        changes = row["changes"] or {}
        role, name = state[pk]
        if "role" in changes:
            role = _pair(changes["role"])[0] or ""
        if "name" in changes:
            name = _pair(changes["name"])[0] or ""
        state[pk] = (role, name)
    return during


def _with_earlier_controller(people: Mapping[int, tuple[int, str, str]]) -> set[int]:
    """The key persons whose customer had another actual controller on file (current or archived) before they were
    added (a smaller id): a new controller then replaces or joins one, rather than completing the file."""
    customer_ids = sorted({customer_id for customer_id, _role, _name in people.values()})
    first_controller: dict[int, int] = {}
    for start in range(0, len(customer_ids), READ_BATCH):
        first_controller.update(
            KeyPerson.objects.filter(
                customer_id__in=customer_ids[start : start + READ_BATCH], role=KeyPersonRole.ACTUAL_CONTROLLER
            )
            .order_by()
            .values("customer_id")
            .annotate(first=Min("pk"))
            .values_list("customer_id", "first")
        )
    return {pk for pk, (customer_id, _role, _name) in people.items() if first_controller.get(customer_id, pk) < pk}


def _customer_changes(customer_id: int, seq: int, changes: dict[str, Any], occurred_on: date) -> list[_Found]:
    found = []
    old, new = _pair(changes.get("legal_representative"))
    if old and new:
        found.append(
            _Found(
                customer_id,
                EventKind.STRUCTURAL_CHANGE,
                _("New leadership"),
                _("legal representative changed from %(old)s to %(new)s") % {"old": old, "new": new},
                occurred_on,
                f"legal_representative:{seq}",
            )
        )
    details = []
    old, new = _pair(changes.get("registered_capital"))
    if old not in (None, "") and new not in (None, ""):
        details.append(_("registered capital changed from %(old)s to %(new)s") % {"old": _wan(old), "new": _wan(new)})
    old, new = _pair(changes.get("ownership"))
    if old and new:
        labels = dict(Ownership.choices)
        details.append(
            _("ownership changed from %(old)s to %(new)s") % {"old": labels.get(old, old), "new": labels.get(new, new)}
        )
    if details:
        found.append(
            _Found(
                customer_id,
                EventKind.STRUCTURAL_CHANGE,
                _("Restructuring"),
                _("; ").join(details),
                occurred_on,
                f"restructuring:{seq}",
            )
        )
    return found


def _controller_change(
    row: Mapping[str, Any],
    changes: Mapping[str, Any],
    person: tuple[str, str] | None,
    replaced: set[int],
    occurred_on: date,
) -> _Found | None:
    """A new or changed actual controller, from a key person's creation or change (`person`: their role and name
    right after it)."""
    if person is None:
        return None
    controller = KeyPersonRole.ACTUAL_CONTROLLER.value
    role, name = person
    old_role, new_role = _pair(changes.get("role"))
    old_name, new_name = _pair(changes.get("name"))
    detail = None
    if row["action"] == "key_person.create":
        if new_role == controller and int(row["object_id"]) in replaced:
            detail = _("new actual controller %(new)s") % {"new": name}
    elif "role" in changes:
        if new_role == controller and old_role != controller:
            detail = _("%(new)s is now the actual controller") % {"new": name}
    elif old_name and new_name and role == controller:
        detail = _("actual controller changed from %(old)s to %(new)s") % {"old": old_name, "new": new_name}
    if detail is None:
        return None
    return _Found(
        row["customer_id"],
        EventKind.STRUCTURAL_CHANGE,
        _("New leadership"),
        detail,
        occurred_on,
        f"actual_controller:{row['seq']}",
    )


def _pair(change: Any) -> tuple[Any, Any]:
    """An audit change [old, new] (a creation records [None, value])."""
    if isinstance(change, list | tuple) and len(change) == 2:
        return change[0], change[1]
    return None, None


def _wan(amount: Any) -> str:
    try:
        return _("%(wan)s × 10,000 yuan") % {"wan": format_wan(Decimal(str(amount)))}
    except InvalidOperation:
        return str(amount)


# --- anniversaries ---------------------------------------------------------------------------------------------------


def anniversary(founded: date, year: int) -> date:
    """The day `founded` comes round in `year`: 29 February becomes 28 February in a common year."""
    return add_months(founded, (year - founded.year) * 12)


def _shift_years(day: date, years: int) -> date:
    return add_months(day, years * 12)


def _coming_anniversaries(on: date) -> list[_Found]:
    """Founding anniversaries of a whole multiple of the setting's years between `on` and the lead days after it,
    of non-archived customers with a primary RM: one scan of the customers with a date range per multiple (a day
    wider on each side for 29 February), then the exact day checked here on the few rows found."""
    every, end = settings.VISIT_ANNIVERSARY_YEARS, on + timedelta(days=settings.VISIT_ANNIVERSARY_LEAD_DAYS)
    ranges = Q()
    multiple = every
    while end.year - multiple >= EARLIEST_FOUNDING_YEAR:
        ranges |= Q(
            established_on__gte=_shift_years(on, -multiple) - timedelta(days=1),
            established_on__lte=_shift_years(end, -multiple) + timedelta(days=1),
        )
        multiple += every
    if not ranges:
        return []
    rows = (
        Customer.objects.filter(ranges, archived_at__isnull=True, primary_rm__isnull=False)
        .order_by()
        .values_list("pk", "established_on", "primary_rm_id")
    )
    found = []
    for customer_id, founded, rm_id in rows.iterator(chunk_size=READ_BATCH):
        assert founded is not None  # the ranges above hold no NULL
        for year in sorted({on.year, end.year}):
            age = year - founded.year
            day = anniversary(founded, year) if age > 0 else None
            if day is None or age % every or not on <= day <= end:
                continue
            found.append(
                _Found(
                    customer_id,
                    EventKind.HAPPY_EVENT,
                    _("Founding anniversary"),
                    _("%(years)s years since it was founded on %(founded)s") % {"years": age, "founded": founded},
                    day,
                    f"anniversary:{year}",
                    rm_id,
                )
            )
    return found
