"""Quick search (issue 3): the API's `q=` against `name__icontains` (what Django admin's changelist search runs).

Five kinds of query, ~50 of each, drawn from the bank's own names and codes (seeded, so every run asks the same):
two and three Chinese characters from anywhere in a name, pinyin initials (four letters from a character of the
name on), a full-pinyin prefix (the first 6 to 12 letters of a name's pinyin) and a credit-code prefix (6 to 10
characters). Each query is timed per persona after one warm-up pass, three ways:
- end to end: `GET /api/v1/customers?q=…&limit=20` (a new SQLite connection per request, as deployed; the line
  below each user gives the same request without q, the floor of the API);
- the search alone: `search_customers(restricted, q)` in this process;
- the admin's way on the same scope, in this process: `COUNT(*)` plus the first page (100) of `name LIKE '%q%'`
  ordered by `-id`, which is what Django admin's changelist runs for `search_fields = ["name"]`.
A query's time is the best of --repeat runs (default 3): the machine is shared, and other processes only add time.

Usage (on a copy of a demo bank: the first run migrates it and builds the search keys):
    cp -r var/bench /tmp/rmd-bench
    RMDESK_DATA_DIR=/tmp/rmd-bench .venv/bin/python bench/bench_search.py
Add RMDESK_DATABASE_URL=postgres://… to measure on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")
os.environ.setdefault("RMDESK_DEMO", "1")

KINDS = ("2 characters", "3 characters", "initials", "pinyin prefix", "code prefix")
ROLES = ("rm", "team_lead", "branch_head", "risk_officer")


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def draw_queries(rng: random.Random, rows: list[tuple[str, str]], count: int) -> dict[str, list[str]]:
    """`count` queries of each kind, from (name, credit code) pairs."""
    from rmdesk.customers.search import search_keys

    def windows(name: str, size: int) -> list[str]:
        return [name[i : i + size] for i in range(len(name) - size + 1)]

    queries: dict[str, list[str]] = {kind: [] for kind in KINDS}
    while any(len(found) < count for found in queries.values()):
        name, code = rng.choice(rows)
        keys = search_keys(name)
        initials = [key[1:] for key, _position in keys.keys if key.startswith("i") and len(key) > 4]
        candidates = {
            "2 characters": windows(name, 2),
            "3 characters": windows(name, 3),
            "initials": [key[:4] for key in initials],
            "pinyin prefix": [keys.pinyin[: rng.randint(6, 12)]],
            "code prefix": [code[: rng.randint(6, 10)]],
        }
        for kind, options in candidates.items():
            if options and len(queries[kind]) < count:
                queries[kind].append(rng.choice(options))
    return queries


def timed(run: Callable[[], Any], repeat: int) -> float:
    """The best of `repeat` runs, in milliseconds."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=50, help="queries of each kind")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each query; its time is the best")
    parser.add_argument("--users", nargs="*", help="usernames to search as (default: one of each role)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from rmdesk.access.policy import Action
    from rmdesk.customers.models import Customer, CustomerNameGram, CustomerSearchKey
    from rmdesk.customers.queries import search_customers
    from rmdesk.customers.search_index import reindex_search
    from rmdesk.org.models import User

    call_command("migrate", interactive=False, verbosity=0)
    total = Customer.objects.count()
    if total and not CustomerNameGram.objects.exists():
        start = time.perf_counter()
        reindex_search()
        print(f"reindex_search(): {time.perf_counter() - start:.1f} s")
    grams, keys = CustomerNameGram.objects.count(), CustomerSearchKey.objects.count()
    print(f"database: {connection.vendor}; customers: {total:,}; name grams: {grams:,}; search keys: {keys:,}")

    rng = random.Random(args.seed)
    ids = list(Customer.objects.values_list("pk", flat=True))
    sample = rng.sample(ids, min(len(ids), 5 * args.queries))
    rows = list(Customer.objects.filter(pk__in=sample).order_by("pk").values_list("name", "credit_code"))
    queries = draw_queries(rng, rows, args.queries)

    if args.users:
        users = [User.objects.get(username=name) for name in args.users]
    else:
        users = [u for role in ROLES if (u := User.objects.filter(role=role, is_active=True).order_by("pk").first())]

    client = Client(HTTP_HOST="127.0.0.1")
    print(f"{args.queries} queries of each kind, each the best of {args.repeat} runs; ms")
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"{'user (visible)':<20} {'kind':<14} {'API q= median':>13} {'p99':>6} {'search median':>13} {'p99':>6} "
        f"{'icontains median':>16} {'p99':>6}  e.g."
    )
    for user in users:
        client.force_login(user)
        visible = Customer.objects.restrict(user, Action.VIEW)
        unarchived = visible.filter(archived_at__isnull=True)

        def api(q: str) -> None:
            response = client.get("/api/v1/customers", {"q": q, "limit": 20})
            assert response.status_code == 200, response.content

        def search(q: str, unarchived: Any = unarchived) -> None:
            search_customers(unarchived, q, limit=20)

        def admin_way(q: str, visible: Any = visible) -> None:
            matches = visible.filter(name__icontains=q)
            matches.count()
            list(matches.order_by("-pk")[:100])

        floor = statistics.median(
            timed(lambda: client.get("/api/v1/customers", {"limit": 20}), args.repeat) for _ in range(10)
        )
        for kind in KINDS:
            for q in queries[kind]:  # warm-up: the page cache, pypinyin's dictionaries, Django's URL resolver
                api(q)
                search(q)
                admin_way(q)
            through_api = [timed(lambda q=q: api(q), args.repeat) for q in queries[kind]]
            searched = [timed(lambda q=q: search(q), args.repeat) for q in queries[kind]]
            baseline = [timed(lambda q=q: admin_way(q), args.repeat) for q in queries[kind]]
            label = f"{user.username} ({visible.count():,})" if kind == KINDS[0] else ""
            print(
                f"{label:<20} {kind:<14} {statistics.median(through_api):13.1f} {percentile(through_api, 0.99):6.1f} "
                f"{statistics.median(searched):13.1f} {percentile(searched, 0.99):6.1f} "
                f"{statistics.median(baseline):16.1f} {percentile(baseline, 0.99):6.1f}  {', '.join(queries[kind][:3])}"
            )
        print(f"{'':<20} (GET /api/v1/customers?limit=20 without q: {floor:.1f} ms median)")


if __name__ == "__main__":
    main()
