"""The development funnel and market view (issue 4, item 6): what a branch head, team lead and RM wait for.

Times `funnel_for(user)` (the default period, the last twelve months) for every branch of the bank as its branch
head, a sample of teams as their team lead and a sample of RMs with prospects, and `market_for(user)` for every
branch head. Each user is asked once untimed (warm-up: their pages in the cache, as for someone who opened the page
before), then --runs times; the table gives p50 and p99 over all runs of a role, and the slowest user's median.

The demo bank has one branch head (head_liu) and two team leads, so every other branch and the sampled teams are
measured as an unsaved User of that role placed at that unit: `scope_for` reads only the role and the unit, so it is
the same scope a real head or lead of that unit would get, and nothing is written to the bank.

The naive reference, for the first --naive-branches branches: the prospects `restrict()` gives the branch head
found in the period, and all their stage changes, read into Python and counted per prospect in a loop (what a first
version written with the ORM's conveniences does). It must count the same stages (checked).

The target (issue 4): funnel for a branch ≤ 300 ms p99 on the million-customer demo bank.

Usage, on a migrated demo bank (this script never migrates or writes: it stops if migrations are pending):
    RMDESK_DATA_DIR=/tmp/demo1m-dev .venv/bin/python bench/bench_development.py
Add RMDESK_DATABASE_URL=postgres://… to measure on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench_suggestions import percentile, timed

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")

TARGET_MS = 300  # the funnel for a branch, p99


@dataclass
class Measured:
    """All timed runs of one measure for one role, and each user's median (to name the slowest user)."""

    label: str
    runs: list[float] = field(default_factory=list)
    medians: dict[str, float] = field(default_factory=dict)
    found: list[int] = field(default_factory=list)  # prospects found in the period, per user

    def add(self, name: str, times: list[float], found: int) -> None:
        self.runs.extend(times)
        self.medians[name] = statistics.median(times)
        self.found.append(found)


Call = Callable[[Any], Any]


def measure(row: Measured, users: list[Any], call: Call, found: Callable[[Any], int], runs: int) -> None:
    """Each user: one warm-up call (their pages in the cache, as for someone who opened the page before), then runs."""
    for user in users:
        result = call(user)
        row.add(user.username, [timed(lambda user=user: call(user))[0] for _ in range(runs)], found(result))


def personas(args: argparse.Namespace) -> dict[str, list[Any]]:
    """Branch heads of every branch, team leads of a sample of teams, a sample of RMs with prospects (seeded)."""
    from rmdesk.development.models import Prospect
    from rmdesk.org.choices import Role, UnitLevel
    from rmdesk.org.models import OrgUnit, User

    rng = random.Random(args.seed)

    def at_units(role: str, units: list[Any]) -> list[Any]:
        # The real user of that role at the unit when the demo has one, otherwise a stand-in (never saved).
        real = {user.unit_id: user for user in User.objects.filter(role=role, is_active=True, unit__in=units)}
        return [
            real.get(unit.pk) or User(username=f"{role}@{unit.code}", role=role, unit=unit, is_active=True)
            for unit in units
        ]

    branches = list(OrgUnit.objects.filter(level=UnitLevel.BRANCH).order_by("path"))
    teams = list(OrgUnit.objects.filter(level=UnitLevel.TEAM).order_by("path"))
    # The demo's own leads first, then a sample of the other teams.
    lead_units = {user.unit_id for user in User.objects.filter(role=Role.TEAM_LEAD, is_active=True, unit__in=teams)}
    others = [unit for unit in teams if unit.pk not in lead_units]
    sampled = {unit.pk for unit in rng.sample(others, max(0, min(len(others), args.leads - len(lead_units))))}
    chosen_teams = [unit for unit in teams if unit.pk in lead_units or unit.pk in sampled]
    with_prospects = Prospect.objects.filter(customer__primary_rm__role=Role.RM)
    rm_ids = sorted(set(with_prospects.values_list("customer__primary_rm", flat=True)))
    rms = list(User.objects.filter(pk__in=rng.sample(rm_ids, min(args.rms, len(rm_ids)))).order_by("pk"))
    return {
        Role.BRANCH_HEAD: at_units(Role.BRANCH_HEAD, branches),
        Role.TEAM_LEAD: at_units(Role.TEAM_LEAD, chosen_teams),
        Role.RM: rms,
    }


def naive_funnel(user: Any) -> tuple[dict[str, int], int]:
    """The reference: prospects and their stage history read into Python, the furthest stage found per prospect.

    Returns the prospects that reached each stage of the path, and how many are now dropped.
    """
    from rmdesk.access.policy import Action
    from rmdesk.development.funnel import PATH, PATH_VALUES, last_twelve_months
    from rmdesk.development.models import Prospect, StageChange

    period = last_twelve_months()
    prospects = Prospect.objects.restrict(user, Action.VIEW).filter(
        merged_into__isnull=True, found_on__gte=period.start, found_on__lte=period.end
    )
    history: dict[int, list[str]] = defaultdict(list)
    for prospect_id, to_stage in StageChange.objects.filter(prospect__in=prospects.values("pk")).values_list(
        "prospect_id", "to_stage"
    ):
        history[prospect_id].append(to_stage)
    reached = dict.fromkeys(PATH_VALUES, 0)
    dropped = 0
    for pk, stage in prospects.values_list("pk", "stage"):
        places = [PATH_VALUES.index(s) for s in history.get(pk, [stage]) if s in PATH_VALUES]
        for place in range(max(places, default=0) + 1):
            reached[PATH[place].value] += 1
        dropped += stage == "dropped"
    return reached, dropped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=20, help="teams measured as their team lead (default 20)")
    parser.add_argument("--rms", type=int, default=30, help="RMs to time (default 30)")
    parser.add_argument("--runs", type=int, default=10, help="timed runs per user after a warm-up (default 10)")
    parser.add_argument("--naive-branches", type=int, default=3, help="branches timed with the naive reference")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from rmdesk.customers.models import Customer
    from rmdesk.development.funnel import funnel_for
    from rmdesk.development.market import market_for
    from rmdesk.development.models import Prospect, StageChange
    from rmdesk.org.choices import Role

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        sys.exit("Migrations are pending: migrate a copy of the bank first.")

    print(
        f"database: {connection.vendor}; customers: {Customer.objects.count():,}; prospects: "
        f"{Prospect.objects.count():,}; stage changes: {StageChange.objects.count():,}"
    )
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    people = personas(args)

    rows = []
    for role, label in ((Role.BRANCH_HEAD, "branch head"), (Role.TEAM_LEAD, "team lead"), (Role.RM, "RM")):
        row = Measured(f"funnel_for, {label}")
        measure(row, people[role], funnel_for, lambda funnel: funnel.found, args.runs)
        rows.append(row)
    market = Measured("market_for, branch head")
    measure(market, people[Role.BRANCH_HEAD], market_for, lambda result: sum(result.totals.values()), args.runs)
    rows.append(market)

    print(f"\n{args.runs} runs per user after a warm-up; ms")
    header = f"{'measure':<26} {'users':>5} {'found: median':>13} {'max':>8} {'p50':>8} {'p99':>8}"
    print(f"{header} {'slowest user':>21} {'median':>8}")
    for row in rows:
        slowest = max(row.medians, key=row.medians.__getitem__)
        print(
            f"{row.label:<26} {len(row.medians):>5} {statistics.median(row.found):>13,.0f} {max(row.found):>8,} "
            f"{statistics.median(row.runs):>8.1f} {percentile(row.runs, 0.99):>8.1f} "
            f"{slowest:>21} {row.medians[slowest]:>8.1f}"
        )
    print("(found: prospects found in the period; for market_for, customers 潜在/目标/现实 in scope)")
    branch_p99 = percentile(rows[0].runs, 0.99)
    print(f"target: funnel for a branch ≤ {TARGET_MS} ms p99: {'met' if branch_p99 <= TARGET_MS else 'MISSED'}")

    if args.naive_branches:
        print("\nnaive reference (Python loop over the stage history), one run each, ms:")
        for head in people[Role.BRANCH_HEAD][: args.naive_branches]:
            ours = statistics.median(timed(lambda head=head: funnel_for(head))[0] for _ in range(3))
            ms, (reached, dropped) = timed(lambda head=head: naive_funnel(head))
            funnel = funnel_for(head)
            if reached != {step.stage.value: step.reached for step in funnel.stages} or dropped != funnel.dropped:
                sys.exit(f"the naive reference counts other stages for {head.username}")
            print(f"  {head.username:<28} naive {ms:8.1f}  ours {ours:7.1f}  ratio {ms / ours:5.1f}")
    print(f"load average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
