"""Suggestions from sources 10–12 (issue 4, item 3): "who should we call next" for one RM's book.

Picks --rms RMs with customers (seeded), and for each times `suggestions_for(rm, limit=50)` --runs times after one
warm-up run; prints the median and p99 over all runs. Then the naive reference on the same RMs: a loop over the
RM's customers, one query for each customer's relationships and one per counterparty to ask whether it is on file
(what a first version written with the ORM's conveniences does), ranked by the same score; and the ratio. The two
must rank the same firms (checked). Last, a few runs for each team lead and branch head (their whole unit), and the
plan of the candidate query for one RM.

The target (issue 4): ≤ 200 ms p99 for one RM's book on the million-customer demo bank.

Usage, on a migrated copy of a demo bank (this script never migrates: it stops if migrations are pending):
    cp -r /tmp/demo1m /tmp/demo1m-sugg && RMDESK_DATA_DIR=/tmp/demo1m-sugg .venv/bin/rmdesk migrate
    RMDESK_DATA_DIR=/tmp/demo1m-sugg .venv/bin/python bench/bench_suggestions.py
Add RMDESK_DATABASE_URL=postgres://… to measure on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def timed(run: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    result = run()
    return (time.perf_counter() - start) * 1000, result


def naive_suggestions(user: Any) -> list[tuple[int, str]]:
    """The reference: per customer its relationships, per counterparty one query; the same rules and score.

    Every firm as (score, key), best first; ties are ordered by key rather than by name.
    """
    from rmdesk.access.policy import Action
    from rmdesk.customers.models import Customer
    from rmdesk.customers.search import normalize
    from rmdesk.development.models import DismissedSuggestion
    from rmdesk.development.suggestions import firm_key, link_points, source_of

    dismissed = set(DismissedSuggestion.objects.filter(user=user).values_list("firm", flat=True))
    firms: dict[str, list[tuple[int, int, str]]] = defaultdict(list)  # key → (customer, points, name)
    for customer in Customer.objects.restrict(user, Action.VIEW).filter(archived_at__isnull=True):
        for rel in customer.relationships.filter(archived_at__isnull=True):
            if rel.counterparty_id is not None or source_of(rel.kind, rel.direction) is None:
                continue
            code = rel.counterparty_credit_code.strip().upper()
            if code:
                on_file = Customer.objects.filter(credit_code=code).exists()
            else:
                on_file = Customer.objects.filter(search_name=normalize(rel.counterparty_name)).exists()
            if not on_file:
                points = link_points(rel.kind, rel.amount, rel.share_pct, customer.tier)
                firms[firm_key(code, rel.counterparty_name)].append((customer.pk, points, rel.counterparty_name))
    ranked = []
    for key, links in firms.items():
        if key in dismissed:
            continue
        best: dict[int, int] = {}
        for customer_id, points, _name in links:
            best[customer_id] = max(points, best.get(customer_id, 0))
        ranked.append((-sum(best.values()), -len(best), key))
    return [(-score, key) for score, _customers, key in sorted(ranked)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rms", type=int, default=50, help="RMs to time (default 50)")
    parser.add_argument("--runs", type=int, default=5, help="timed runs per RM after a warm-up (default 5)")
    parser.add_argument("--naive-runs", type=int, default=1, help="timed runs of the naive reference per RM")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from rmdesk.customers.models import Customer, Relationship
    from rmdesk.development.suggestions import (
        MAX_LIMIT,
        candidate_links,
        customers_in_view,
        open_links,
        suggestions_for,
    )
    from rmdesk.org.models import User

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        sys.exit("Migrations are pending: migrate a copy of the bank first (see the usage above).")

    customers, links = Customer.objects.count(), Relationship.objects.count()
    outside = Relationship.objects.filter(counterparty__isnull=True).count()
    print(
        f"database: {connection.vendor}; customers: {customers:,}; relationships: {links:,} ({outside:,} to firms "
        f"that are no customer file)"
    )
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")

    rm_ids = sorted(set(Customer.objects.filter(primary_rm__role="rm").values_list("primary_rm_id", flat=True)))
    rng = random.Random(args.seed)
    rms = list(User.objects.filter(pk__in=rng.sample(rm_ids, min(args.rms, len(rm_ids)))).order_by("pk"))

    fast: list[float] = []
    naive: list[float] = []
    found = []
    for rm in rms:
        suggestions_for(rm)  # warm-up: the book's pages in the cache, as for an RM working through the day
        for _ in range(args.runs):
            ms, result = timed(lambda rm=rm: suggestions_for(rm, limit=50))
            fast.append(ms)
        found.append(len(result))
        ms, reference = timed(lambda rm=rm: naive_suggestions(rm))
        naive.append(ms)
        for _ in range(args.naive_runs - 1):
            naive.append(timed(lambda rm=rm: naive_suggestions(rm))[0])
        everything = suggestions_for(rm, limit=MAX_LIMIT)
        if len(reference) <= MAX_LIMIT and {(s.score, s.key) for s in everything} != set(reference):
            sys.exit(f"the naive reference finds other firms or scores for {rm.username}")
    p50, p99 = statistics.median(fast), percentile(fast, 0.99)
    n50, n99 = statistics.median(naive), percentile(naive, 0.99)
    print(
        f"{len(rms)} RMs, {args.runs} runs each; suggestions per RM (limit 50): median {statistics.median(found):.0f}"
    )
    print(f"{'':<28} {'median ms':>10} {'p99 ms':>8}")
    print(f"{'suggestions_for':<28} {p50:10.1f} {p99:8.1f}")
    print(f"{'naive per-customer loop':<28} {n50:10.1f} {n99:8.1f}")
    print(f"{'ratio (naive / ours)':<28} {n50 / p50:10.1f} {n99 / p99:8.1f}")
    print(f"target ≤ 200 ms p99: {'met' if p99 <= 200 else 'MISSED'}")

    for role in ("team_lead", "branch_head"):
        for user in User.objects.filter(role=role, is_active=True).order_by("pk")[:3]:
            suggestions_for(user)
            times = [timed(lambda user=user: suggestions_for(user, limit=50))[0] for _ in range(3)]
            print(
                f"{user.username} ({role}, {len(candidate_links(user)):,} candidate links): "
                f"median {statistics.median(times):.0f} ms, worst {max(times):.0f} ms"
            )

    sql, params = open_links(sorted(customers_in_view(rms[0]))).query.sql_with_params()
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    print(f"plan of the candidate links of {rms[0].username}:")
    with connection.cursor() as cursor:
        cursor.execute(explain + sql, params)
        for row in cursor.fetchall():
            print("  ", row[-1])


if __name__ == "__main__":
    main()
