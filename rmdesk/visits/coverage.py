"""Visit coverage 拜访覆盖: for a team lead (a branch head, risk officer or auditor: their scope), each RM's book of
tracked customers — how many were visited within their cadence, the coverage rate, how many lapsed, the planned
visits to them now overdue, and the visits done to them per ISO week over the last twelve weeks.

A row is an RM's book: the tracked customers in the user's view scope whose primary RM they are. Every figure is
about those customers, whoever visited them (a lead's visit covers an RM's customer too). An RM sees their own row.

Four grouped queries whatever the number of RMs: the customers (the last visit read by one index seek each), the
overdue plans, the visits per day (bucketed into weeks here), the RMs' names. The scope is restated by index
(`scope_customers`, as the development funnel does): restrict()'s unit-path join alone makes SQLite read every
customer of the bank.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from rmdesk.access.policy import Action, may, scope_for
from rmdesk.core.errors import NotFoundError
from rmdesk.customers.models import Customer
from rmdesk.development.funnel import rate, scope_customers
from rmdesk.org.choices import UnitLevel
from rmdesk.org.models import OrgUnit, User
from rmdesk.visits.cadence import cadence_intervals, last_visit_subquery, threshold_of_tier, tracked_customers
from rmdesk.visits.choices import VisitStatus
from rmdesk.visits.models import Visit

WEEKS = 12


@dataclass(frozen=True)
class RMCoverage:
    """One RM's book (or the total of all rows: rm_id None)."""

    rm_id: int | None
    rm_name: str
    customers: int
    visited: int  # visited within their cadence
    coverage: Decimal | None  # visited / customers in per cent, half-up to 0.1; None without customers
    lapsed: int  # next visit due before today
    overdue_plans: int  # planned visits whose planned end has passed without a record
    visits_per_week: tuple[int, ...]  # visits done per week, oldest week first

    @property
    def visits(self) -> int:
        """Visits done over all the weeks shown."""
        return sum(self.visits_per_week)


@dataclass(frozen=True)
class Coverage:
    today: date
    weeks: tuple[date, ...]  # the Monday of each ISO week shown, oldest first; the last is today's week
    rows: list[RMCoverage]  # most customers first
    total: RMCoverage

    @property
    def week_labels(self) -> list[str]:
        """ISO weeks as 2026-W05."""
        return [f"{monday.isocalendar()[0]}-W{monday.isocalendar()[1]:02d}" for monday in self.weeks]


def weeks_to(today: date, count: int = WEEKS) -> tuple[date, ...]:
    """The Mondays of the `count` ISO weeks up to and including today's."""
    this_monday = today - timedelta(days=today.weekday())
    return tuple(this_monday - timedelta(weeks=n) for n in range(count - 1, -1, -1))


def coverage_units(user: User) -> QuerySet[OrgUnit]:
    """The units whose customers the user may narrow the view to: those of their subtree (the whole bank for a
    read-only role), departments left out (they own no customers); none for an RM."""
    scope = scope_for(user, Action.VIEW)
    units = OrgUnit.objects.exclude(level=UnitLevel.DEPARTMENT).order_by("path")
    if scope.everything:
        return units
    if scope.unit_path is not None:
        return units.filter(path__startswith=scope.unit_path)
    return units.none()


def coverage_customers(user: User, unit: OrgUnit | None = None) -> QuerySet[Customer]:
    """The tracked customers a coverage view counts: in the user's view scope, restated by index; an RM's own book
    as primary RM only; with `unit`, those owned in that unit's subtree. A role without customer access gets a 404.

    restrict() still decides: a unit outside the user's scope narrows to nothing, never widens."""
    if not may(user, Action.VIEW):
        raise NotFoundError()
    customers = tracked_customers(Customer.objects.restrict(user, Action.VIEW))
    scope = scope_for(user, Action.VIEW)
    if scope.rm_id is not None:
        return customers.filter(primary_rm_id=scope.rm_id)
    if unit is not None:
        subtree = OrgUnit.objects.filter(path__startswith=unit.path).values_list("pk", flat=True)
        return customers.filter(owning_unit_id__in=list(subtree))
    parts = scope_customers(scope)
    if parts is None:
        return customers
    owned, co_rm = parts
    return customers.filter(owned | Q(pk__in=co_rm))


def team_coverage(
    user: User, *, today: date | None = None, now: datetime | None = None, unit: OrgUnit | None = None
) -> Coverage:
    """Each RM's visit coverage over the tracked customers in the user's scope (or in `unit`'s subtree), on `today`;
    planned visits are overdue when they ended before `now`."""
    today = today or timezone.localdate()
    now = now or timezone.now()
    customers = coverage_customers(user, unit)
    intervals = cadence_intervals()
    weeks = weeks_to(today)
    books = _books(customers, today, now, intervals)
    per_week: dict[int, list[int]] = defaultdict(lambda: [0] * len(weeks))
    done = (
        Visit.objects.filter(
            customer__in=customers,
            status=VisitStatus.DONE,
            visited_on__gte=weeks[0],
            visited_on__lte=weeks[-1] + timedelta(days=6),
        )
        .order_by()
        .values("customer__primary_rm_id", "visited_on")
        .annotate(n=Count("*"))  # not COUNT(id): the index alone answers (on PostgreSQL too, index-only)
        .values_list("customer__primary_rm_id", "visited_on", "n")
    )
    for rm_id, visited_on, n in done:
        if visited_on is not None:  # always, for a visit done (visit_done_has_date)
            per_week[rm_id][(visited_on - weeks[0]).days // 7] += n
    rm_ids = set(books) | set(per_week)
    names = {rm.pk: rm.display_name for rm in User.objects.filter(pk__in=rm_ids).only("username", "full_name")}
    rows = [
        _row(
            rm_id,
            names.get(rm_id, ""),
            *books.get(rm_id, (0, 0, 0, 0)),
            per_week.get(rm_id, [0] * len(weeks)),
        )
        for rm_id in rm_ids
    ]
    rows.sort(key=lambda row: (-row.customers, row.rm_name, row.rm_id or 0))
    total = _row(
        None,
        "",
        sum(row.customers for row in rows),
        sum(row.visited for row in rows),
        sum(row.lapsed for row in rows),
        sum(row.overdue_plans for row in rows),
        [sum(week) for week in zip(*(row.visits_per_week for row in rows), strict=True)] or [0] * len(weeks),
    )
    return Coverage(today=today, weeks=weeks, rows=rows, total=total)


def _books(
    customers: QuerySet[Customer], today: date, now: datetime, intervals: dict[str, int]
) -> dict[int, tuple[int, int, int, int]]:
    """{primary RM: (customers, visited within cadence, lapsed, planned visits overdue)} in one statement.

    Each customer's last visit and overdue plans are read once (one seek each on visit_customer_done) into a
    materialised CTE, then counted per RM: grouped directly, the ORM repeats the last-visit subquery in every count
    that uses it, and a separate query for the plans reads the scope once more. MATERIALIZED (SQLite ≥ 3.35,
    PostgreSQL ≥ 12) keeps either database from inlining the CTE back into those repeats."""
    overdue = (
        Visit.objects.filter(customer=OuterRef("pk"), status=VisitStatus.PLANNED, planned_end__lt=now)
        .order_by()
        .values("customer")
        .annotate(n=Count("pk"))
        .values("n")
    )
    each = (
        customers.annotate(
            last_visited_on=last_visit_subquery(),
            created_on=TruncDate("created_at"),
            threshold=threshold_of_tier(today, intervals),
            overdue=Subquery(overdue, output_field=IntegerField()),
        )
        .order_by()
        .values("primary_rm_id", "last_visited_on", "created_on", "threshold", "overdue")
    )
    sql, params = each.query.sql_with_params()
    counted = f"""
        WITH book AS MATERIALIZED ({sql})
        SELECT primary_rm_id,
               COUNT(*),
               SUM(CASE WHEN last_visited_on >= threshold THEN 1 ELSE 0 END),
               SUM(CASE WHEN COALESCE(last_visited_on, created_on) < threshold THEN 1 ELSE 0 END),
               COALESCE(SUM(overdue), 0)
        FROM book
        GROUP BY primary_rm_id
    """  # noqa: S608 — the inner statement is the ORM's, its values are parameters
    with connection.cursor() as cursor:
        cursor.execute(counted, params)
        return {rm_id: (int(n), int(visited), int(lapsed), int(late)) for rm_id, n, visited, lapsed, late in cursor}


def _row(
    rm_id: int | None, name: str, customers: int, visited: int, lapsed: int, overdue: int, weeks: list[int]
) -> RMCoverage:
    return RMCoverage(
        rm_id=rm_id,
        rm_name=name,
        customers=customers,
        visited=visited,
        coverage=rate(visited, customers),
        lapsed=lapsed,
        overdue_plans=overdue,
        visits_per_week=tuple(weeks),
    )
