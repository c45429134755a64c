"""Visit cadence 拜访频次: how often each tier must be visited, when each customer is next due, and the daily job
that puts a VISIT_DUE task on the primary RM's list when a customer lapses.

A customer is tracked when it is a real customer (现实), not archived, with a primary RM. Its next visit is due
`interval` months after its last visit done (the day clamped to the month's end: 31 January + 1 month is 28 or 29
February); a customer never visited is due `interval` months after its file was created.

Since adding months never goes backwards, "next due before `on`" is the same as "last visit (or creation) before
one threshold date per interval" (`lapse_threshold`): the database compares every customer with four dates instead
of doing month arithmetic, identically on SQLite and PostgreSQL.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, DateField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rmdesk.audit.services import record
from rmdesk.core.errors import DomainError
from rmdesk.customers.choices import LifecycleStatus, Tier
from rmdesk.customers.models import Customer
from rmdesk.development.scoring import may_edit_scorecard
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from rmdesk.visits.choices import VisitStatus
from rmdesk.visits.models import CadenceRule, Visit
from rmdesk.visits.services import CADENCE_SOURCE

# What migration 0002 seeds; used for a tier whose row is missing.
DEFAULT_INTERVALS: dict[str, int] = {Tier.STRATEGIC: 1, Tier.CORE: 2, Tier.KEY: 3, Tier.GENERAL: 6}
INTERVAL_MIN, INTERVAL_MAX = 1, 24  # CadenceRule.interval_months' validators
# Rows written per INSERT / UPDATE: well below SQLite's 32,766 parameters a statement (a task has 13 columns).
WRITE_BATCH = 2000


class CadenceHeadOfficeOnly(DomainError):
    """The cadence is the bank's policy: only head office changes it (like the target scorecard; no secret, no 404)."""

    code = "forbidden"
    status = 403

    def __init__(self) -> None:
        super().__init__(gettext_lazy("Only head office can change the visit cadence."))


# --- dates (pure) ----------------------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """`day` moved by whole months, clamped to the end of a shorter month (31 Jan + 1 → 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_visit_due(last_visited_on: date | None, interval_months: int, tracked_since: date) -> date:
    """When the next visit is due: `interval_months` after the last visit, or after `tracked_since` (the day the
    customer's file was created) when it was never visited."""
    return add_months(last_visited_on or tracked_since, interval_months)


def lapse_threshold(on: date, interval_months: int) -> date:
    """The first reference day (last visit, or creation) whose next visit is due on `on` or later: a customer whose
    reference day is before it has lapsed on `on`.

    add_months is non-decreasing, so the days that lapse are exactly those before one day: `on` moved back by the
    interval, or the day after when that clamped to a shorter month (on 31 March, a visit on 28 February was due on
    28 March)."""
    back = add_months(on, -interval_months)
    return back if add_months(back, interval_months) >= on else back + timedelta(days=1)


def start_of_day(day: date) -> datetime:
    """Midnight at the start of `day` in the bank's time zone."""
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


# --- the rules -------------------------------------------------------------------------------------------------------


def cadence_intervals() -> dict[str, int]:
    """Months between visits per tier, as head office set them (the defaults for a tier without a row)."""
    intervals = dict(DEFAULT_INTERVALS)
    intervals.update(CadenceRule.objects.values_list("tier", "interval_months"))
    return intervals


def _validated_intervals(intervals: Mapping[str, Any]) -> dict[str, int]:
    errors: dict[str, str] = {}
    clean: dict[str, int] = {}
    for tier, months in intervals.items():
        if tier not in Tier.values:
            errors[str(tier)] = _("Unknown tier.")
        elif isinstance(months, bool) or not isinstance(months, int) or not INTERVAL_MIN <= months <= INTERVAL_MAX:
            errors[tier] = _("Enter a whole number of months from %(min)s to %(max)s.") % {
                "min": INTERVAL_MIN,
                "max": INTERVAL_MAX,
            }
        else:
            clean[tier] = months
    if not intervals:
        errors["intervals"] = _("Give the interval of at least one tier.")
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def update_cadence(*, actor: User, intervals: Mapping[str, int]) -> dict[str, int]:
    """Head office sets how many months may pass between visits, per tier; returns every tier's interval."""
    if not may_edit_scorecard(actor):
        raise CadenceHeadOfficeOnly()
    wanted = _validated_intervals(intervals)
    # Locked: the cadence job reads the rules under the same lock, so a run never mixes old and new intervals.
    rules = {rule.tier: rule for rule in CadenceRule.objects.select_for_update().filter(tier__in=wanted)}
    changes: dict[str, list[int]] = {}
    for tier, months in wanted.items():
        rule = rules.get(tier)
        old = rule.interval_months if rule is not None else DEFAULT_INTERVALS[tier]
        if rule is not None and old == months:
            continue
        if rule is None:
            rule = CadenceRule(tier=tier)
        rule.interval_months, rule.updated_by = months, actor
        rule.save()
        if old != months:
            changes[tier] = [old, months]
    if changes:
        record(actor=actor, action="visit.cadence_update", changes=changes)
    return cadence_intervals()


# --- one customer, many customers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CustomerCadence:
    """Where one customer stands with its visits on `today`."""

    customer_id: int
    tracked: bool  # a real customer, not archived, with a primary RM: only these have a cadence
    interval_months: int
    last_visited_on: date | None
    next_due: date | None  # None when not tracked
    lapsed: bool  # next_due before today


def tracked_customers(customers: QuerySet[Customer] | None = None) -> QuerySet[Customer]:
    """The customers that have a visit cadence: real customers (现实), not archived, with a primary RM."""
    queryset = customers if customers is not None else Customer.objects.all()
    return queryset.filter(status=LifecycleStatus.CUSTOMER, archived_at__isnull=True, primary_rm__isnull=False)


def is_tracked(customer: Customer) -> bool:
    return (
        customer.status == LifecycleStatus.CUSTOMER
        and customer.archived_at is None
        and customer.primary_rm_id is not None
    )


def last_visit_subquery(ref: str = "pk") -> Subquery:
    """The customer's last visit done, read backwards on visit_customer_done: one index seek per customer."""
    done = Visit.objects.filter(customer=OuterRef(ref), status=VisitStatus.DONE).order_by("-visited_on")
    return Subquery(done.values("visited_on")[:1], output_field=DateField())


def customer_cadence(customer: Customer, *, today: date | None = None) -> CustomerCadence:
    """One customer's last visit, interval, next due date and whether it lapsed (the 360 page's visits panel)."""
    today = today or timezone.localdate()
    last = (
        Visit.objects.filter(customer_id=customer.pk, status=VisitStatus.DONE)
        .order_by("-visited_on")
        .values_list("visited_on", flat=True)
        .first()
    )
    return _cadence(customer, last, cadence_intervals(), today)


def cadences(customers: QuerySet[Customer], *, today: date | None = None) -> dict[int, CustomerCadence]:
    """The same for many customers (a list page's rows) in one query, by customer id."""
    today = today or timezone.localdate()
    intervals = cadence_intervals()
    rows = customers.annotate(last_visited_on=last_visit_subquery()).only(
        "pk", "status", "archived_at", "primary_rm_id", "tier", "created_at"
    )
    return {row.pk: _cadence(row, row.last_visited_on, intervals, today) for row in rows}


def _cadence(customer: Customer, last: date | None, intervals: Mapping[str, int], today: date) -> CustomerCadence:
    interval = intervals.get(customer.tier, DEFAULT_INTERVALS[Tier.GENERAL])
    if not is_tracked(customer):
        return CustomerCadence(customer.pk, False, interval, last, None, False)
    due = next_visit_due(last, interval, timezone.localdate(customer.created_at))
    return CustomerCadence(customer.pk, True, interval, last, due, due < today)


def _by_tier(values: Mapping[str, Any], output_field: Any) -> Case:
    """A value per tier; a customer with no tier set counts as general (一般), as `_cadence` does."""
    return Case(
        *(When(tier=tier, then=Value(value)) for tier, value in values.items()),
        default=Value(values[Tier.GENERAL]),
        output_field=output_field,
    )


def reference_day() -> Coalesce:
    """The day a customer's cadence counts from: its last visit done, else the day its file was created."""
    return Coalesce(last_visit_subquery(), TruncDate("created_at"), output_field=DateField())


def thresholds(on: date, intervals: Mapping[str, int]) -> dict[str, date]:
    return {tier: lapse_threshold(on, months) for tier, months in intervals.items()}


def threshold_of_tier(on: date, intervals: Mapping[str, int]) -> Case:
    """A customer's lapse threshold on `on` by its tier (`lapse_threshold`): before it, the customer has lapsed;
    its last visit on or after it, the customer was visited within its cadence."""
    return _by_tier(thresholds(on, intervals), DateField())


def lapsed_on(on: date, intervals: Mapping[str, int]) -> Q:
    """Customers (annotated with `reference_day` as `reference`) whose next visit was due before `on`."""
    return Q(reference__lt=threshold_of_tier(on, intervals))


# --- the daily job ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CadenceRun:
    """What one run of the cadence job did."""

    on: date
    lapsed: int  # tracked customers past their due date
    created: int  # VISIT_DUE tasks opened
    cancelled: int  # open VISIT_DUE tasks no longer needed
    first_task_id: int | None
    last_task_id: int | None


@dataclass(frozen=True)
class _Lapsed:
    rm_id: int
    tier: str
    due: date


def _lapsed_customers(on: date, intervals: Mapping[str, int]) -> dict[int, _Lapsed]:
    """Every tracked customer past its due date on `on`: one query over the customers, the last visit read by one
    index seek each, only the lapsed rows returned."""
    rows = (
        tracked_customers()
        .annotate(reference=reference_day())
        .filter(lapsed_on(on, intervals))
        .values_list("pk", "primary_rm_id", "tier", "reference")
        .order_by()
    )
    lapsed: dict[int, _Lapsed] = {}
    for pk, rm_id, tier, reference_on in rows.iterator(chunk_size=10_000):
        interval = intervals.get(tier, DEFAULT_INTERVALS[Tier.GENERAL])
        lapsed[pk] = _Lapsed(rm_id, tier, add_months(reference_on, interval))
    return lapsed


def _batches(items: list[Any], size: int = WRITE_BATCH) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def open_lapsed_visit_tasks(*, on: date) -> CadenceRun:
    """The daily cadence job: a VISIT_DUE task for every tracked customer past its due date on `on` that has none
    open, to its primary RM; open VISIT_DUE tasks of customers no longer tracked or no longer lapsed (or since
    handed to another RM: a new task goes to the new one) are cancelled. Running a date twice changes nothing.

    The customers are read before the write transaction: on SQLite a transaction holds the database's one write
    lock from its start, and other writers give up after 20 seconds. A visit recorded between the read and the
    write may leave one needless task open; recording the visit or the next run closes it. The open tasks are read
    again inside the transaction, under the cadence rules' lock, so two runs never open the same task twice.
    """
    intervals = cadence_intervals()
    lapsed = _lapsed_customers(on, intervals)
    with transaction.atomic():
        list(CadenceRule.objects.select_for_update().values_list("pk", flat=True))
        open_tasks = {
            int(source_id): (pk, owner_id)
            for pk, source_id, owner_id in Task.objects.filter(
                kind=TaskKind.VISIT_DUE, source_type=CADENCE_SOURCE, status=TaskStatus.OPEN
            )
            .order_by()
            .values_list("pk", "source_id", "owner_id")
        }
        to_cancel = sorted(
            pk
            for customer_id, (pk, owner_id) in open_tasks.items()
            if customer_id not in lapsed or lapsed[customer_id].rm_id != owner_id
        )
        to_open = sorted(
            customer_id
            for customer_id, customer in lapsed.items()
            if customer_id not in open_tasks or open_tasks[customer_id][1] != customer.rm_id
        )
        now = timezone.now()
        for batch in _batches(to_cancel):
            Task.objects.filter(pk__in=batch, status=TaskStatus.OPEN).update(
                status=TaskStatus.CANCELLED, completed_at=None, updated_at=now
            )
        created = _open_tasks(to_open, lapsed, intervals)
        run = CadenceRun(
            on=on,
            lapsed=len(lapsed),
            created=len(created),
            cancelled=len(to_cancel),
            first_task_id=min(created, default=None),
            last_task_id=max(created, default=None),
        )
        # One event for the run, not one per task: the first run on a large bank opens a task for every customer
        # already overdue (100,000 at a million customers), and an event each would hold the audit chain's head for
        # minutes and bury the trail. The tasks are found again by kind, source and the id range recorded here.
        record(
            actor=None,
            action="visit.cadence_run",
            changes={
                "on": on,
                "lapsed": run.lapsed,
                "created": run.created,
                "cancelled": run.cancelled,
                "first_task_id": run.first_task_id,
                "last_task_id": run.last_task_id,
            },
        )
    return run


def _open_tasks(customer_ids: list[int], lapsed: Mapping[int, _Lapsed], intervals: Mapping[str, int]) -> list[int]:
    """Create the VISIT_DUE tasks in batches; returns their ids."""
    created: list[int] = []
    tier_labels = dict(Tier.choices)
    # A batch job has no reader: titles are written in the bank's language.
    with translation.override(settings.LANGUAGE_CODE):
        for batch in _batches(customer_ids):
            names = dict(Customer.objects.filter(pk__in=batch).values_list("pk", "name"))
            tasks = []
            for customer_id in batch:
                customer = lapsed[customer_id]
                title = _("Visit %(name)s: due by %(due)s (%(tier)s customers every %(months)s months)") % {
                    "name": names.get(customer_id, ""),
                    "due": customer.due.isoformat(),
                    "tier": tier_labels.get(customer.tier, customer.tier),
                    "months": intervals.get(customer.tier, DEFAULT_INTERVALS[Tier.GENERAL]),
                }
                tasks.append(
                    Task(
                        kind=TaskKind.VISIT_DUE,
                        title=title[:200],
                        customer_id=customer_id,
                        owner_id=customer.rm_id,
                        due_date=customer.due,
                        source_type=CADENCE_SOURCE,
                        source_id=str(customer_id),
                    )
                )
            created.extend(task.pk for task in Task.objects.bulk_create(tasks))
    return created
