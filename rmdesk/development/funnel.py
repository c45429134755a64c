"""The development funnel 开发漏斗: how many prospects reached each stage, where they dropped, per source and RM.

Everything is counted in one GROUP BY query over the prospects in the user's scope that were found in the period
(reach, drops and days to convert at once: reading the scope is most of the cost, so it is read once); nothing loops
over prospects in Python. A prospect counts at every stage up to the furthest it reached (its stage history, and
its current stage for files loaded without history), so a prospect now at 拜访 counts at 识别, 接触 and 拜访 even if
it skipped a step.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action, Scope, may, scope_for
from rmdesk.core.errors import NotFoundError
from rmdesk.core.money import ratio
from rmdesk.customers.models import Customer, CustomerCoRM
from rmdesk.development.choices import Source, Stage
from rmdesk.development.models import Prospect, StageChange
from rmdesk.org.models import User

# The path to a real customer, in order; 放弃 leaves it at any stage.
PATH = (Stage.IDENTIFIED, Stage.CONTACTED, Stage.VISITED, Stage.PROPOSAL, Stage.WON)
PATH_VALUES = tuple(stage.value for stage in PATH)
TOP_DROP_REASONS = 3
# A value of the RM filter: the prospects that wait in a pool (公海), with no RM.
POOL = "pool"


@dataclass(frozen=True)
class Period:
    """Prospects found from `start` to `end`, both days included."""

    start: date
    end: date


def last_twelve_months(today: date | None = None) -> Period:
    """The default period: the twelve months up to and including today."""
    end = today or timezone.localdate()
    try:
        year_ago = end.replace(year=end.year - 1)
    except ValueError:  # 29 February
        year_ago = end.replace(year=end.year - 1, day=28)
    return Period(start=year_ago + timedelta(days=1), end=end)


def rate(part: int, whole: int) -> Decimal | None:
    """`part` of `whole` in per cent, half-up to 0.1; undefined when nothing was there to convert."""
    return ratio(Decimal(part) * 100, Decimal(whole), places=1)


@dataclass(frozen=True)
class StageStep:
    """One stage of the funnel: how many reached it, how many of those went on, how many were dropped there."""

    stage: Stage
    reached: int
    to_next: Decimal | None  # per cent of those who reached this stage that reached the next; None at 开户/签约
    dropped: int
    drop_reasons: list[tuple[str, int]]  # the most frequent reasons, most frequent first


@dataclass(frozen=True)
class Conversion:
    """Found and won, and the rate between them, for one source or one RM."""

    key: Any  # the source number, or the RM's user id (None: in a pool)
    label: str
    found: int
    won: int
    rate: Decimal | None
    reached: Mapping[str, int]  # prospects that reached each stage of the path, by stage value


@dataclass(frozen=True)
class TimeToConvert:
    """Days from finding a prospect to winning it, over the prospects won."""

    won: int
    median_days: Decimal | None
    p90_days: int | None


@dataclass(frozen=True)
class Funnel:
    period: Period
    found: int
    stages: list[StageStep]
    overall_rate: Decimal | None  # from 识别 to 开户/签约
    dropped: int
    by_source: list[Conversion]
    by_rm: list[Conversion] | None  # for a lead, head or read-only role; None for an RM's own book
    time_to_convert: TimeToConvert

    @property
    def won(self) -> int:
        return self.stages[-1].reached


# --- scope -----------------------------------------------------------------------------------------------------


def development_files(user: User) -> QuerySet[Prospect]:
    """The prospects the user may see (merged-away duplicates left out); a role without access gets a 404."""
    if not may(user, Action.VIEW):
        raise NotFoundError()
    prospects = Prospect.objects.restrict(user, Action.VIEW)
    # `merged_into_id + 0`: almost every prospect has no merge, so the merged_into index finds them all; written as
    # an expression it is checked on each row instead, and the database enters by the scope's indexes below.
    unmerged = prospects.alias(merged_plus=F("merged_into") + 0).filter(merged_plus__isnull=True)
    return unmerged.filter(_scope_by_index(prospects.scope))


# A scope of at most this many customers (owned and co-RM) is read into a list of ids, whose prospects the database
# then finds on the prospects' customer index; a list stays far below SQLite's 32,766 parameters a statement.
SMALL_SCOPE = 5_000


def scope_customers(scope: Scope | None) -> tuple[Q, list[int] | QuerySet[CustomerCoRM, Any]] | None:
    """The scope's customers as the database finds them by index: a condition on the customer for those it owns
    (primary RM, or owning unit in the subtree: customer_rm_status, customer_unit_status) and its co-RM customers
    (co_rm_user), as a list of ids when there are at most SMALL_SCOPE, else as a subquery. None for a scope that
    restrict() alone reads well (the whole bank; the pools).

    restrict() reaches a unit's customers by the unit path through a join, and either scope's co-RM customers by an
    "… OR id IN (subquery)": PostgreSQL cannot estimate that OR and scans every customer or prospect, and neither
    database can start from the scope. A list of ids is an index lookup on both.
    """
    if scope is None or scope.everything:
        return None
    if scope.rm_id is not None:
        owned = Q(primary_rm_id=scope.rm_id)
        co_rm = CustomerCoRM.objects.filter(user_id=scope.rm_id)
    elif scope.unit_path is not None:
        units = list(scope.units)
        owned = Q(owning_unit_id__in=units)
        co_rm = CustomerCoRM.objects.filter(user__unit_id__in=units)
    else:
        return None
    co_rm_ids = list(co_rm.values_list("customer_id", flat=True)[: SMALL_SCOPE + 1])
    return owned, (co_rm_ids if len(co_rm_ids) <= SMALL_SCOPE else co_rm.values("customer_id"))


def _scope_by_index(scope: Scope | None) -> Q:
    """The scope restated as the ids of its customers (scope_customers), ANDed to restrict()'s own condition, which
    still decides: a small scope as one list of ids, a larger one as its owned customers' ids or the co-RM list."""
    parts = scope_customers(scope)
    if parts is None:
        return Q()
    owned, co_rm = parts
    owned_ids = list(Customer.objects.filter(owned).values_list("pk", flat=True)[: SMALL_SCOPE + 1])
    if isinstance(co_rm, list) and len(owned_ids) + len(co_rm) <= SMALL_SCOPE:
        return Q(customer_id__in=sorted({*owned_ids, *co_rm}))
    return Q(customer_id__in=Customer.objects.filter(owned).values("pk")) | Q(customer_id__in=co_rm)


def sees_rms(user: User) -> bool:
    """Whether the user looks over other RMs' books (a lead, head, risk officer or auditor), not only their own."""
    scope = scope_for(user, Action.VIEW)
    return scope.rm_id is None and not scope.nothing


def for_rm(prospects: QuerySet[Prospect], rm: int | str | None) -> QuerySet[Prospect]:
    """Narrow to one RM's prospects (primary RM), or to those waiting in a pool; None keeps all."""
    if rm is None or rm == "":
        return prospects
    if rm == POOL:
        return prospects.filter(customer__primary_rm__isnull=True)
    return prospects.filter(customer__primary_rm_id=int(rm))


# --- the funnel ------------------------------------------------------------------------------------------------


def funnel_for(user: User, *, period: Period | None = None, rm: int | str | None = None) -> Funnel:
    """The funnel over the prospects in the user's scope found in `period` (default: the last twelve months)."""
    period = period or last_twelve_months()
    prospects = for_rm(development_files(user), rm).filter(found_on__gte=period.start, found_on__lte=period.end)
    counts = _count(prospects)
    total = _sum_reach(counts.reach.values())
    found = total[Stage.IDENTIFIED]
    drops = counts.drops
    stages = [
        StageStep(
            stage=stage,
            reached=total[stage],
            to_next=rate(total[PATH[i + 1]], total[stage]) if i + 1 < len(PATH) else None,
            dropped=sum(drops.get(stage, {}).values()),
            drop_reasons=_top(drops.get(stage, {})),
        )
        for i, stage in enumerate(PATH)
    ]
    by_source_rows: dict[int, list[dict[str, int]]] = defaultdict(list)
    by_rm_rows: dict[int | None, list[dict[str, int]]] = defaultdict(list)
    for (source, rm_id), reached in counts.reach.items():
        by_source_rows[source].append(reached)
        by_rm_rows[rm_id].append(reached)
    by_source = [_conversion(s.value, str(s.label), _sum_reach(by_source_rows.get(s.value, []))) for s in Source]
    by_rm = _by_rm({rm_id: _sum_reach(rows) for rm_id, rows in by_rm_rows.items()}) if sees_rms(user) else None
    median, p90 = day_percentiles(counts.days_to_win)
    return Funnel(
        period=period,
        found=found,
        stages=stages,
        overall_rate=rate(total[Stage.WON], found),
        dropped=sum(sum(reasons.values()) for reasons in drops.values()),
        by_source=by_source,
        by_rm=by_rm,
        time_to_convert=TimeToConvert(won=sum(counts.days_to_win.values()), median_days=median, p90_days=p90),
    )


def _rank(field: str) -> Case:
    """A stage's place on the path (识别 0 … 开户/签约 4); 放弃 is on no place (0)."""
    whens = [When(**{field: stage.value}, then=Value(n)) for n, stage in enumerate(PATH)]
    return Case(*whens, default=Value(0), output_field=IntegerField())


WON_RANK = PATH.index(Stage.WON)


def with_furthest_stage(prospects: QuerySet[Prospect]) -> QuerySet[Prospect]:
    """Annotate `furthest`: the place on the path of the furthest stage the prospect reached — the highest in its
    history (read on the history's prospect index), or where it stands now for a file loaded without history."""
    history = (
        StageChange.objects.filter(prospect=OuterRef("pk"))
        .order_by()
        .values("prospect")
        .annotate(top=Max(_rank("to_stage")))
        .values("top")
    )
    return prospects.annotate(furthest=Coalesce(Subquery(history), _rank("stage")))


@dataclass
class _Counts:
    reach: dict[tuple[int, int | None], dict[str, int]]  # (source, primary RM) → prospects that reached each stage
    drops: dict[str, dict[str, int]]  # stage dropped at → reason → prospects now dropped
    days_to_win: dict[int, int]  # days from found_on to won → prospects won


def _count(prospects: QuerySet[Prospect]) -> _Counts:
    """One GROUP BY (source, primary RM, furthest stage, stage dropped at, drop reason, days to win).

    The last three are empty except on a dropped or won prospect, so they add a group only per distinct drop
    (stage, reason) or day count, not per prospect. A dropped prospect entered 放弃 at its stage_changed_at, by the
    stage change of that moment (move_stage writes both at once): that change, read on the history's prospect
    index, gives the stage it was dropped at, so a prospect reopened and dropped again counts once, at its last
    drop; one without that change is not counted as a drop. 开户/签约 ends the pipeline (move_stage moves nothing out
    of it), so a won prospect's stage_changed_at is the moment it was won: days to win need no history.
    """
    dropped_at = (
        StageChange.objects.filter(prospect=OuterRef("pk"), changed_at=OuterRef("stage_changed_at"))
        .order_by("-pk")
        .values("from_stage")[:1]
    )
    days = ExpressionWrapper(TruncDate("stage_changed_at") - F("found_on"), output_field=DurationField())
    rows = (
        with_furthest_stage(prospects)
        .annotate(
            dropped_at=Case(When(stage=Stage.DROPPED, then=Subquery(dropped_at)), default=Value(None)),
            reason=Case(When(stage=Stage.DROPPED, then=F("drop_reason")), default=Value("")),
            days=Case(When(stage=Stage.WON, then=days), default=Value(None), output_field=DurationField()),
        )
        .values("source", "customer__primary_rm", "furthest", "dropped_at", "reason", "days")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts = _Counts(reach={}, drops=defaultdict(lambda: defaultdict(int)), days_to_win=defaultdict(int))
    for row in rows:
        n = row["n"]
        reached = counts.reach.setdefault((row["source"], row["customer__primary_rm"]), dict.fromkeys(PATH_VALUES, 0))
        for stage in PATH[: row["furthest"] + 1]:  # reaching a stage means reaching every one before it
            reached[stage.value] += n
        if row["dropped_at"] is not None:  # the entry at 识别 has no from_stage: dropped right there
            counts.drops[row["dropped_at"] or Stage.IDENTIFIED.value][(row["reason"] or "").strip()] += n
        if row["days"] is not None:
            counts.days_to_win[_whole_days(row["days"])] += n
    return counts


def _sum_reach(rows: Any) -> dict[str, int]:
    total = dict.fromkeys(PATH_VALUES, 0)
    for row in rows:
        for stage, count in row.items():
            total[stage] += count
    return total


def _conversion(key: Any, label: str, reached: Mapping[str, int]) -> Conversion:
    found, won = reached[Stage.IDENTIFIED], reached[Stage.WON]
    return Conversion(key=key, label=label, found=found, won=won, rate=rate(won, found), reached=reached)


def _by_rm(reached_by_rm: dict[int | None, dict[str, int]]) -> list[Conversion]:
    """Per RM (and the pool), most prospects found first."""
    names = {
        user.pk: user.display_name
        for user in User.objects.filter(pk__in=[pk for pk in reached_by_rm if pk is not None]).only(
            "username", "full_name"
        )
    }
    rows = [
        _conversion(rm_id, names.get(rm_id, "") if rm_id is not None else _("In the pool"), reached)
        for rm_id, reached in reached_by_rm.items()
    ]
    return sorted(rows, key=lambda row: (-row.found, row.key is None, row.label))


def _top(reasons: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(reasons.items(), key=lambda item: (-item[1], item[0]))[:TOP_DROP_REASONS]


def _whole_days(value: Any) -> int:
    if isinstance(value, timedelta):
        return value.days
    return int(value)  # PostgreSQL may answer date − date as a whole number of days


def day_percentiles(histogram: Mapping[int, int]) -> tuple[Decimal | None, int | None]:
    """The median (the middle value, or the mean of the two middle values, to 0.1) and the 90th percentile
    (nearest rank: the smallest value at least 90% of the values do not exceed) of day counts given as
    {days: how many}."""
    n = sum(histogram.values())
    if n == 0:
        return None, None
    ordered = sorted(histogram.items())

    def nth(rank: int) -> int:  # the rank-th smallest value, 1-based
        seen = 0
        for days, count in ordered:
            seen += count
            if seen >= rank:
                return days
        raise ValueError(rank)

    middle = (Decimal(nth((n + 1) // 2)) + Decimal(nth(n // 2 + 1))) / 2
    median = middle.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return median, nth(math.ceil(n * 9 / 10))
