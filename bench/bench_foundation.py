"""Foundation benchmarks on a demo bank: scoped customer lists, keyset vs OFFSET paging, audit verify.

Usage (builds the bank into its own data directory the first time):
    RMDESK_DATA_DIR=var/bench .venv/bin/python bench/bench_foundation.py --customers 100000
Add RMDESK_DATABASE_URL=postgres://… to measure on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")
os.environ.setdefault("RMDESK_DEMO", "1")


def timed(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of `repeat` runs, in milliseconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--events", type=int, default=50_000, help="audit events to verify")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import Q
    from django.test import Client

    from rmdesk.access.policy import Action
    from rmdesk.audit.models import AuditEvent
    from rmdesk.audit.services import record, verify
    from rmdesk.customers.models import Customer
    from rmdesk.demo.builder import build_demo_bank
    from rmdesk.org.models import User

    call_command("migrate", interactive=False, verbosity=0)
    if not Customer.objects.exists():
        start = time.perf_counter()
        build_demo_bank(customers=args.customers)
        print(f"build_demo_bank(customers={args.customers}): {time.perf_counter() - start:.1f} s")
    total = Customer.objects.count()
    print(f"database: {connection.vendor}; customers: {total}")

    rm = User.objects.get(username="rm_zhang")
    head = User.objects.get(username="head_liu")
    client = Client(HTTP_HOST="127.0.0.1")

    def api_first_page(user: User) -> Callable[[], Any]:
        def run() -> None:
            client.force_login(user)
            response = client.get("/api/v1/customers", {"limit": 50})
            assert response.status_code == 200, response.content

        return run

    for label, user in (("RM rm_zhang", rm), ("branch head head_liu", head)):
        visible = Customer.objects.restrict(user, Action.VIEW).count()
        print(
            f"GET /api/v1/customers?limit=50 as {label} ({visible} visible): "
            f"{timed(api_first_page(user), args.repeat):.1f} ms median"
        )

    # Deep paging: keyset (WHERE id > last ORDER BY id LIMIT 50) vs OFFSET, as the head of a big branch.
    scoped = Customer.objects.restrict(head, Action.VIEW).filter(archived_at__isnull=True).order_by("pk")
    depth = max(0, min(scoped.count() - 50, 20_000))
    last_id = scoped.values_list("pk", flat=True)[depth - 1] if depth else 0
    keyset = timed(lambda: list(scoped.filter(pk__gt=last_id)[:50]), args.repeat)
    offset = timed(lambda: list(scoped[depth : depth + 50]), args.repeat)
    print(f"page at row {depth}: keyset {keyset:.2f} ms, OFFSET {offset:.2f} ms, ratio {offset / keyset:.1f}×")

    # Scope as a co-RM subquery (ours) vs a join on co-RMs with DISTINCT (the naive way).
    subquery = timed(lambda: Customer.objects.restrict(rm, Action.VIEW).count(), args.repeat)
    naive = timed(lambda: Customer.objects.filter(Q(primary_rm=rm) | Q(co_rms=rm)).distinct().count(), args.repeat)
    print(f"RM scope count: subquery {subquery:.2f} ms, join+DISTINCT {naive:.2f} ms, ratio {naive / subquery:.1f}×")

    missing = args.events - AuditEvent.objects.count()
    if missing > 0:
        start = time.perf_counter()
        with transaction.atomic():
            for i in range(missing):
                record(actor=rm, action="bench.event", changes={"i": i, "note": "benchmark filler"})
        elapsed = time.perf_counter() - start
        print(f"audit record: {missing} events in {elapsed:.1f} s ({missing / elapsed:.0f} events/s, one transaction)")
    start = time.perf_counter()
    report = verify()
    elapsed = time.perf_counter() - start
    print(f"audit verify: {report.checked} events in {elapsed * 1000:.1f} ms, intact={report.intact}")


if __name__ == "__main__":
    sys.exit(main())
