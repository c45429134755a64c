"""Collection pages (issue 6): an RM's collection calendar and a branch head's portfolio quality.

(a) `collection_calendar(rm)` for --rms RMs: the RM with the most loans, then a seeded sample of the RMs with loans;
    each asked once untimed (warm-up: their pages in the cache, as for someone who opened the page before), then --runs
    times; p50 and p99 over all runs, and the slowest RM's median. Then the page itself, /loans/calendar/, rendered
    in-process (RequestFactory → the view, templates included; no HTTP, no middleware) the same way.
(b) `portfolio_quality(head)` for --heads branch heads: the bank's real branch heads, then stand-ins (unsaved Users
    with the branch-head role placed at a seeded sample of the other branches: `scope_for` reads only the role and
    the unit, so it is the scope a real head of that branch would get, and nothing is written); the same warm-up and
    runs; then the page /loans/portfolio/ in-process.

The targets (issue 6): the collection calendar for one RM ≤ 100 ms p99; a branch's portfolio quality ≤ 300 ms p99.
The figures of both are read as the end-of-day batch left them, for the bank's own date (--on, default today).

Usage, on a migrated bank with loans (this script never migrates and writes nothing):
    RMDESK_DATA_DIR=/tmp/demo1m-loans .venv/bin/python bench/bench_collection.py [--rms 20 --heads 10 --runs 100]
Add RMDESK_DATABASE_URL=postgres://… to measure on PostgreSQL.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from bench_suggestions import percentile, timed

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")

CALENDAR_TARGET_MS = 100
FREEZE = True  # --no-freeze: leave the collector as a process that never froze anything
QUALITY_TARGET_MS = 300


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def rms(count: int, seed: int) -> list[Any]:
    """The RM with the most loans, then a seeded sample of the other RMs with loans."""
    from django.db.models import Count

    from rmdesk.loans.models import LoanContract
    from rmdesk.org.choices import Role
    from rmdesk.org.models import User

    books = (
        LoanContract.objects.filter(primary_rm__role=Role.RM)
        .order_by()
        .values("primary_rm")
        .annotate(n=Count("pk"))
        .order_by("-n", "primary_rm")
    )
    ids = [row["primary_rm"] for row in books]
    if not ids:
        sys.exit("No RM has a loan: build a bank with loans first.")
    chosen = [ids[0], *random.Random(seed).sample(ids[1:], min(len(ids) - 1, count - 1))]
    people = {user.pk: user for user in User.objects.filter(pk__in=chosen).select_related("unit")}
    return [people[pk] for pk in chosen]


def branch_heads(count: int, seed: int) -> list[Any]:
    """The bank's branch heads, then stand-ins (unsaved) at a seeded sample of the other branches, `count` in all."""
    from rmdesk.org.choices import Role, UnitLevel
    from rmdesk.org.models import OrgUnit, User

    branches = list(OrgUnit.objects.filter(level=UnitLevel.BRANCH).order_by("path"))
    real = list(
        User.objects.filter(role=Role.BRANCH_HEAD, is_active=True, unit__in=branches)
        .select_related("unit")
        .order_by("username")
    )[:count]
    taken = {user.unit_id for user in real}
    others = [unit for unit in branches if unit.pk not in taken]
    sampled = random.Random(seed).sample(others, max(0, min(len(others), count - len(real))))
    stand_ins = [
        User(username=f"head@{unit.code}", role=Role.BRANCH_HEAD, unit=unit, is_active=True) for unit in sampled
    ]
    return real + stand_ins


def measure(
    people: list[Any], runs: int, call: Callable[[Any], Any]
) -> tuple[list[float], dict[str, float], list[float]]:
    """Each person once untimed, then `runs` times: all times, each person's median, and the CPU time this process
    spent on each run (SQLite runs inside it: on a machine shared with other work, the part that is ours)."""
    times: list[float] = []
    cpu: list[float] = []
    medians: dict[str, float] = {}
    for person in people:
        call(person)
    if FREEZE:
        # As `rmdesk serve`'s workers do once warm (core/management/commands/serve.py): what the process loaded is
        # moved out of the collector's reach, so a full collection does not walk it in the middle of a run.
        gc.collect()
        gc.freeze()
    for person in people:
        mine = []
        for _ in range(runs):
            started = time.process_time()
            mine.append(timed(lambda person=person: call(person))[0])
            cpu.append((time.process_time() - started) * 1000)
        times += mine
        medians[person.username] = statistics.median(mine)
    return times, medians, cpu


def page(view: Callable[..., Any], path: str) -> Callable[[Any], Any]:
    """The view called in-process as `person` would get it (templates rendered), status checked."""
    from django.test import RequestFactory

    factory = RequestFactory()

    def call(person: Any) -> Any:
        request = factory.get(path)
        request.user = person
        response = view(request)
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code} for {person.username}")
        return response

    return call


def report(label: str, measured: tuple[list[float], dict[str, float], list[float]], target_ms: float | None) -> None:
    times, medians, cpu = measured
    slowest = max(medians, key=medians.__getitem__)
    p99 = percentile(times, 0.99)
    print(
        f"  {label:<28} p50 {statistics.median(times):7.1f} ms  p99 {p99:7.1f} ms  max {max(times):7.1f} ms; "
        f"slowest {slowest} median {medians[slowest]:.1f} ms"
    )
    print(f"  {'':<28} CPU of this process: p50 {statistics.median(cpu):7.1f} ms  p99 {percentile(cpu, 0.99):7.1f} ms")
    if target_ms is not None:
        print(f"  {'':<28} target ≤ {target_ms} ms p99: {'met' if p99 <= target_ms else 'MISSED'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--on", type=date.fromisoformat, help="the business date (default today)")
    parser.add_argument("--rms", type=int, default=20, help="RMs timed (default 20)")
    parser.add_argument("--heads", type=int, default=10, help="branch heads timed (default 10)")
    parser.add_argument("--runs", type=int, default=100, help="timed runs per person after a warm-up (default 100)")
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--no-freeze", action="store_true", help="do not gc.freeze() after the warm-up")
    parser.add_argument(
        "--pending-ok",
        action="store_true",
        help="measure a bank whose migrations are behind the code (e.g. a shared bank without a newer index)",
    )
    args = parser.parse_args()
    global FREEZE
    FREEZE = not args.no_freeze

    import django

    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    from rmdesk.customers.models import Customer
    from rmdesk.loans.models import Instalment, LoanContract
    from rmdesk.postloan.models import ClassificationSnapshot
    from rmdesk.postloan.queries import collection_calendar, portfolio_quality
    from rmdesk.postloan.views.calendar import calendar_page
    from rmdesk.postloan.views.portfolio import portfolio_page

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending and not args.pending_ok:
        sys.exit("Migrations are pending: migrate the bank first (or measure it as it is: --pending-ok).")
    if pending:
        print(f"pending migrations, measured without them: {', '.join(str(m) for m, _back in pending)}")
    on = args.on or timezone.localdate()
    print(
        f"database: {connection.vendor}; customers: {Customer.objects.count():,}; loans: "
        f"{LoanContract.objects.count():,} ({LoanContract.objects.filter(days_past_due__gt=0).count():,} overdue); "
        f"instalments: {Instalment.objects.count():,}; month-end snapshots: "
        f"{ClassificationSnapshot.objects.count():,}; date: {on}"
    )
    print(f"load average at start: {load()}", flush=True)

    people = rms(args.rms, args.seed)
    sizes = [collection_calendar(rm, today=on) for rm in people]
    lines = [len(c.overdue) + len(c.this_month) + len(c.this_week) for c in sizes]
    books = [LoanContract.objects.filter(primary_rm=rm).count() for rm in people]
    print(f"\n(a) collection calendar, {len(people)} RMs, {args.runs} runs each after a warm-up")
    print(f"  loans per RM: median {statistics.median(books):,.0f}, max {max(books):,}; lines shown: median "
          f"{statistics.median(lines):,.0f}, max {max(lines):,}")  # fmt: skip
    report("query collection_calendar", measure(people, args.runs, lambda rm: collection_calendar(rm, today=on)),
           CALENDAR_TARGET_MS)  # fmt: skip
    report("page /loans/calendar/", measure(people, args.runs, page(calendar_page, "/loans/calendar/")),
           CALENDAR_TARGET_MS)  # fmt: skip
    print(f"  load average now {load()}", flush=True)

    heads = branch_heads(args.heads, args.seed)
    qualities = [portfolio_quality(head, today=on) for head in heads]
    print(f"\n(b) portfolio quality, {len(heads)} branch heads, {args.runs} runs each after a warm-up")
    loans = [quality.total.loans for quality in qualities]
    months = max(len(quality.trend) for quality in qualities)
    print(f"  active loans per branch: median {statistics.median(loans):,.0f}, max {max(loans):,}; month ends in "
          f"trend: {months}")  # fmt: skip
    report("query portfolio_quality", measure(heads, args.runs, lambda head: portfolio_quality(head, today=on)),
           QUALITY_TARGET_MS)  # fmt: skip
    report("page /loans/portfolio/", measure(heads, args.runs, page(portfolio_page, "/loans/portfolio/")),
           QUALITY_TARGET_MS)  # fmt: skip
    print(f"\nload average at end: {load()}")


if __name__ == "__main__":
    main()
