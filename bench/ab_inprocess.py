"""Interleaved A/B in one process: the same pages asked with a setting of rmdesk's code one way, then the other, request
by request, so that the machine's drift (±20 % between runs minutes apart here) falls on both alike.

The setting is a module attribute (a constant, a class attribute) given as `module:NAME=A/B`, each value a Python
literal. Pages are the list (`--list`) or the quick searches of bench_search's drawn queries, per kind, through the
list page or (`--api`) the API, as bench/bench_http.py asks them. Each query is asked `--repeat` times each way and its
fastest taken; the medians, means and maxima over the queries are printed, with the slowest queries.

Usage (a demo bank; nothing is written):
    RMDESK_DATA_DIR=/tmp/demo1m .venv/bin/python bench/ab_inprocess.py --user head_liu \\
        --set 'rmdesk.customers.queries:GramFacts.SECONDS=0.0/300.0' --kinds '2 characters' '3 characters'
"""

from __future__ import annotations

import argparse
import ast
import gc
import importlib
import os
import random
import statistics
import time
import urllib.parse
from typing import Any

from bench_search import KINDS, draw_queries

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--user", default="head_liu")
    parser.add_argument("--set", required=True, help="module:NAME=A/B, e.g. rmdesk.customers.queries:PEEK=2048/0")
    parser.add_argument("--kinds", nargs="*", default=list(KINDS))
    parser.add_argument("--list", action="store_true", help="the list page (300 requests each way), not searches")
    parser.add_argument("--api", action="store_true", help="the searches through the API (limit 20), not the page")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()

    import django

    django.setup()
    from django.test import Client

    from rmdesk.access.policy import Action
    from rmdesk.customers.models import Customer
    from rmdesk.org.models import User

    module_name, _, assignment = args.set.partition(":")
    name, _, values = assignment.partition("=")
    a, b = (ast.literal_eval(value) for value in values.split("/"))
    owner: Any = importlib.import_module(module_name)
    *path, attribute = name.split(".")
    for part in path:
        owner = getattr(owner, part)

    user = User.objects.get(username=args.user)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)

    def timed(url: str, value: object) -> float:
        setattr(owner, attribute, value)
        start = time.perf_counter()
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        return (time.perf_counter() - start) * 1000

    if args.list:
        pages = {"list": ["/customers/"] * 300}
    else:
        # The same draw as bench_http.py's (its seed and persona), from 250 of the persona's customers.
        visible = Customer.objects.restrict(user, Action.VIEW).filter(archived_at__isnull=True)
        rng = random.Random(f"{args.seed}-{args.user}")
        ids = sorted(visible.values_list("pk", flat=True))
        sample = rng.sample(ids, min(len(ids), 250))
        rows = list(Customer.objects.filter(pk__in=sample).order_by("pk").values_list("name", "credit_code"))
        drawn = draw_queries(rng, rows, 50)
        path, suffix = ("/api/v1/customers?", "&limit=20") if args.api else ("/customers/?", "")
        pages = {
            kind: [path + urllib.parse.urlencode({"q": query}) + suffix for query in drawn[kind]] for kind in args.kinds
        }
    for urls in pages.values():  # warm-up: every page once each way
        for url in dict.fromkeys(urls):
            timed(url, a)
            timed(url, b)
    gc.freeze()
    print(f"{args.set}, {args.user}, fastest of {args.repeat} per page, ms")
    for kind, urls in pages.items():
        times: dict[str, list[tuple[float, str]]] = {"A": [], "B": []}
        for url in urls:
            runs: dict[str, list[float]] = {"A": [], "B": []}
            for _ in range(1 if args.list else args.repeat):
                runs["A"].append(timed(url, a))
                runs["B"].append(timed(url, b))
            for side in ("A", "B"):
                times[side].append((min(runs[side]), urllib.parse.unquote(url.partition("q=")[2].partition("&")[0])))
        cells = []
        for side in ("A", "B"):
            values = [t for t, _ in times[side]]
            cells.append(
                f"{side} median {statistics.median(values):6.2f} mean {statistics.mean(values):6.2f} "
                f"max {max(values):6.1f}"
            )
        slowest = sorted(zip(times["A"], times["B"], strict=True), key=lambda pair: -max(pair[0][0], pair[1][0]))
        worst = ", ".join(f"{query or 'list'} {ta:.0f}/{tb:.0f}" for (ta, query), (tb, _q) in slowest[:4])
        print(f"{kind:<16} {' | '.join(cells)}  slowest (A/B): {worst}")
    setattr(owner, attribute, a)


if __name__ == "__main__":
    main()
