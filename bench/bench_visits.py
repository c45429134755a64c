"""Visits (issue 5): the daily cadence job on the whole bank, and a team lead's coverage view.

(a) `open_lapsed_visit_tasks(on=…)` for the whole bank, timed, then again for the same date: the second run must
    open no task (checked). Both run inside one transaction that is rolled back, so the bank stays as it was and the
    benchmark can be run again.
(b) `team_coverage(lead, today=…)` for --leads team leads (the demo's lead_chen and a seeded sample of other teams),
    each asked once untimed (warm-up: their pages in the cache, as for someone who opened the page before), then
    --runs times; p50 and p99 over all runs, and the slowest lead's median. The demo bank has one real team lead, so
    every other team is measured as an unsaved User with the team-lead role placed at that team: `scope_for` reads
    only the role and the unit, so it is the scope a real lead of that team would get, and nothing is written.
    With --http, the same page and its API for lead_chen through the production server (`rmdesk serve`, logged in
    through the login form), one request at a time after HTTP_WARM_UP untimed ones.
(c) The naive reference for (a), on --naive-sample tracked customers (seeded): per customer one query for its last
    visit done, the due date worked out in Python, one query for an open task and one INSERT when it lapsed (what a
    first version written with the ORM's conveniences does), in its own rolled-back transaction. It must open tasks
    for exactly the sampled customers (a) found lapsed (checked). Its time per customer, times the tracked customers
    of the bank, against (a)'s time gives the ratio.

The targets (issue 5): the cadence job ≤ 60 s for the whole million-customer bank, no duplicate task when run
twice; the team lead's coverage view ≤ 300 ms p99.

Usage, on a migrated demo bank (this script never migrates, and leaves the bank as it found it):
    RMDESK_DATA_DIR=/tmp/demo1m-visits .venv/bin/python bench/bench_visits.py [--http]
Add RMDESK_DATABASE_URL=postgres://… to measure on PostgreSQL.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import statistics
import sys
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from bench_suggestions import percentile, timed

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")

CADENCE_TARGET_S = 60
COVERAGE_TARGET_MS = 300
HTTP_WARM_UP = 20  # requests before the timing: gunicorn's sync workers take turns, each warms up on its own


def load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


class Rollback(Exception):
    """Raised to leave a transaction whose writes were only measured."""


def cadence(on: date) -> tuple[float, Any, Any, set[int]]:
    """(a): the job twice for `on`, rolled back; its seconds, both runs, and the customers with an open task after."""
    from django.db import transaction

    from rmdesk.tasks.choices import TaskKind, TaskStatus
    from rmdesk.tasks.models import Task
    from rmdesk.visits.cadence import CADENCE_SOURCE, open_lapsed_visit_tasks

    try:
        with transaction.atomic():
            ms, first = timed(lambda: open_lapsed_visit_tasks(on=on))
            second = open_lapsed_visit_tasks(on=on)
            opened = {
                int(source_id)
                for source_id in Task.objects.filter(
                    kind=TaskKind.VISIT_DUE, source_type=CADENCE_SOURCE, status=TaskStatus.OPEN
                ).values_list("source_id", flat=True)
            }
            raise Rollback
    except Rollback:
        pass
    return ms / 1000, first, second, opened


def naive_cadence(customer_ids: list[int], on: date) -> tuple[float, set[int]]:
    """(c): per customer, its last visit, its due date, an open task looked for and opened; rolled back.

    Returns the milliseconds the loop took and the customers it opened a task for."""
    from django.db import transaction
    from django.utils import timezone

    from rmdesk.customers.models import Customer
    from rmdesk.tasks.choices import TaskKind, TaskStatus
    from rmdesk.tasks.models import Task
    from rmdesk.visits.cadence import CADENCE_SOURCE, cadence_intervals, next_visit_due
    from rmdesk.visits.choices import VisitStatus
    from rmdesk.visits.models import Visit

    intervals = cadence_intervals()
    customers = [
        customer
        for start in range(0, len(customer_ids), 5000)
        for customer in Customer.objects.filter(pk__in=customer_ids[start : start + 5000]).order_by("pk")
    ]
    opened: set[int] = set()

    def loop() -> None:
        for customer in customers:
            last = (
                Visit.objects.filter(customer=customer, status=VisitStatus.DONE)
                .order_by("-visited_on")
                .values_list("visited_on", flat=True)
                .first()
            )
            due = next_visit_due(last, intervals[customer.tier], timezone.localdate(customer.created_at))
            if due >= on:
                continue
            source = {"kind": TaskKind.VISIT_DUE, "source_type": CADENCE_SOURCE, "source_id": str(customer.pk)}
            if Task.objects.filter(status=TaskStatus.OPEN, **source).exists():
                continue
            Task.objects.create(
                title=f"拜访{customer.name}", customer=customer, owner_id=customer.primary_rm_id, due_date=due, **source
            )
            opened.add(customer.pk)

    try:
        with transaction.atomic():
            ms, _ = timed(loop)
            raise Rollback
    except Rollback:
        pass
    return ms, opened


def team_leads(count: int, seed: int) -> list[Any]:
    """The demo's team leads, then stand-ins (unsaved) at a seeded sample of the other teams, `count` in all."""
    from rmdesk.org.choices import Role, UnitLevel
    from rmdesk.org.models import OrgUnit, User

    teams = list(OrgUnit.objects.filter(level=UnitLevel.TEAM).order_by("path"))
    real = list(User.objects.filter(role=Role.TEAM_LEAD, is_active=True, unit__in=teams).order_by("username"))
    taken = {user.unit_id for user in real}
    others = [unit for unit in teams if unit.pk not in taken]
    sampled = random.Random(seed).sample(others, max(0, min(len(others), count - len(real))))
    stand_ins = [User(username=f"lead@{unit.code}", role=Role.TEAM_LEAD, unit=unit, is_active=True) for unit in sampled]
    return real + stand_ins


def coverage(leads: list[Any], runs: int, today: date) -> tuple[list[float], dict[str, float], list[int]]:
    """(b): each lead once untimed, then `runs` times; all times, each lead's median, each lead's customers."""
    from rmdesk.visits.coverage import team_coverage

    times: list[float] = []
    medians: dict[str, float] = {}
    customers: list[int] = []
    for lead in leads:
        result = team_coverage(lead, today=today)
        customers.append(result.total.customers)
        mine = [timed(lambda lead=lead: team_coverage(lead, today=today))[0] for _ in range(runs)]
        times += mine
        medians[lead.username] = statistics.median(mine)
    return times, medians, customers


def over_http(runs: int) -> list[tuple[str, list[float]]]:
    """(b) over HTTP: lead_chen's coverage page and API through `rmdesk serve`, one request at a time."""
    from bench_http import HOST, fetch, free_port, log_in, start_server, stop_server

    from rmdesk.demo.builder import DEMO_PASSWORD

    port = free_port()
    log = Path(tempfile.gettempdir()) / f"bench_visits_serve_{port}.log"
    server = start_server(port, None, log)
    try:
        cookie = log_in(port, "lead_chen", DEMO_PASSWORD)
        measured = []
        for label, path in (("page /visits/coverage/", "/visits/coverage/"),
                            ("API /api/v1/visits/coverage", "/api/v1/visits/coverage")):  # fmt: skip
            connection = http.client.HTTPConnection(HOST, port, timeout=120)
            for _ in range(HTTP_WARM_UP):  # each server worker's first requests (imports, templates, connection)
                status, _headers, _body = fetch(connection, path, Cookie=cookie)
                if status != 200:
                    sys.exit(f"{path} answered {status}")
            times = []
            for _ in range(runs):
                ms, (status, _headers, _body) = timed(lambda c=connection, p=path: fetch(c, p, Cookie=cookie))
                if status != 200:
                    sys.exit(f"{path} answered {status}")
                times.append(ms)
            connection.close()
            measured.append((label, times))
        return measured
    finally:
        stop_server(server)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--on", type=date.fromisoformat, help="the cadence job's date (default today)")
    parser.add_argument("--leads", type=int, default=20, help="team leads timed (default 20)")
    parser.add_argument("--runs", type=int, default=50, help="timed runs per lead after a warm-up (default 50)")
    parser.add_argument("--naive-sample", type=int, default=5000, help="customers for the naive reference")
    parser.add_argument("--http", action="store_true", help="also time lead_chen's coverage page and API over HTTP")
    parser.add_argument("--skip-cadence", action="store_true", help="coverage only")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor
    from django.utils import timezone

    from rmdesk.customers.models import Customer
    from rmdesk.visits.cadence import tracked_customers
    from rmdesk.visits.models import Visit

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        sys.exit("Migrations are pending: migrate the bank first.")
    on = args.on or timezone.localdate()
    tracked = tracked_customers().count()
    print(
        f"database: {connection.vendor}; customers: {Customer.objects.count():,}; tracked (现实, with an RM): "
        f"{tracked:,}; visits: {Visit.objects.count():,}; date: {on}"
    )
    print(f"load average at start: {load()}", flush=True)

    ours_s = 0.0
    if not args.skip_cadence:
        print("\n(a) cadence job on the whole bank, rolled back afterwards")
        ours_s, first, second, opened = cadence(on)
        print(f"  first run:  {ours_s:8.2f} s  lapsed {first.lapsed:,}, tasks opened {first.created:,}, "
              f"cancelled {first.cancelled:,}")  # fmt: skip
        print(f"  second run, same date: tasks opened {second.created}, cancelled {second.cancelled}")
        if second.created or second.cancelled:
            sys.exit("the second run for the same date changed tasks")
        verdict = "met" if ours_s <= CADENCE_TARGET_S else "MISSED"
        print(f"  target ≤ {CADENCE_TARGET_S} s for the whole bank: {verdict}; load average now {load()}", flush=True)

        if args.naive_sample:
            ids = sorted(tracked_customers().values_list("pk", flat=True))
            sample = sorted(random.Random(args.seed).sample(ids, min(args.naive_sample, len(ids))))
            ms, naive_opened = naive_cadence(sample, on)
            expected = opened & set(sample)
            if naive_opened != expected:
                sys.exit(
                    f"the naive reference opened {len(naive_opened)} tasks, the job {len(expected)}, on the sample"
                )
            per_customer = ms / len(sample)
            extrapolated = per_customer * tracked / 1000
            print(f"\n(c) naive reference on {len(sample):,} customers: {ms / 1000:.1f} s, {per_customer:.2f} ms a "
                  f"customer, {len(naive_opened)} tasks (the same customers as the job)")  # fmt: skip
            print(f"  extrapolated to {tracked:,} tracked customers: {extrapolated:,.0f} s; "
                  f"ratio naive / job {extrapolated / ours_s:.1f}; load average now {load()}")  # fmt: skip

    print(f"\n(b) team_coverage, {args.runs} runs per lead after a warm-up")
    leads = team_leads(args.leads, args.seed)
    times, medians, customers = coverage(leads, args.runs, on)
    slowest = max(medians, key=medians.__getitem__)
    p99 = percentile(times, 0.99)
    print(
        f"  {len(leads)} leads (customers in scope: median {statistics.median(customers):,.0f}, max {max(customers):,})"
    )
    print(f"  p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms, max {max(times):.1f} ms; slowest lead "
          f"{slowest} median {medians[slowest]:.1f} ms")  # fmt: skip
    if "lead_chen" in medians:
        print(f"  lead_chen median {medians['lead_chen']:.1f} ms")
    print(f"  target ≤ {COVERAGE_TARGET_MS} ms p99: {'met' if p99 <= COVERAGE_TARGET_MS else 'MISSED'}")
    print(f"  load average now {load()}", flush=True)

    if args.http:
        print(f"\n(b) over HTTP, lead_chen, {args.runs} requests each after a warm-up, one at a time")
        for label, http_times in over_http(args.runs):
            print(
                f"  {label:<30} p50 {statistics.median(http_times):7.1f} ms  p99 {percentile(http_times, 0.99):7.1f} ms"
            )
    print(f"\nload average at end: {load()}")


if __name__ == "__main__":
    main()
