"""HTTP benchmark (issue 3): the customer list, quick search and the 360° page, served by the production server, against
Django's admin changelist on the same data.

It serves a demo bank with `rmdesk serve` (gunicorn, its default workers, no job worker) on a free loopback port,
logs in through the real login form as each persona (an RM and a branch head by default) and measures, with
--concurrency client threads (4) for --seconds each (10), one row per:
- the customer list page /customers/ (50 a page, ordered by name, with the count of the scope);
- each search form through the list page's ?q=: 2 and 3 Chinese characters, pinyin initials, a full-pinyin prefix
  and a credit-code prefix, drawn (seeded, bench_search.draw_queries) from customers the persona sees;
- the same searches through the API, GET /api/v1/customers?q=…&limit=20;
- the 360° page /customers/<id>/ of customers in the persona's book;
- the reference: the admin changelist /bench-admin/customers/customer/ (bench/admin_reference.py, same scope,
  columns, order and page size), listed and searched with the same queries.
Each row first asks every one of its URLs once (not timed: the page cache, each worker's first request), then
times every request for --seconds; p50 and p99 are of those, req/s is the number done over the time taken. The
machine is shared, so the time is split into --rounds passes over all rows: a burst of someone else's work then
spreads over every row instead of spoiling one.

The admin needs staff users, so the personas are made `is_staff` in the database served, which is also migrated to
the code's latest schema: run it on a throwaway copy, which --scratch confirms.

Usage:
    cp -r /tmp/demo1m /tmp/demo1m-bench
    RMDESK_DATA_DIR=/tmp/demo1m-bench .venv/bin/python bench/bench_http.py --scratch
    psql -h 127.0.0.1 -U postgres demo1m -c "VACUUM ANALYZE"   # after a bulk load: statistics, visibility map
    createdb -h 127.0.0.1 -U postgres -T demo1m demo1m_bench
    RMDESK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/demo1m_bench RMDESK_DATA_DIR=/tmp/demo1m-pg \\
        .venv/bin/python bench/bench_http.py --scratch
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from bench_search import KINDS, draw_queries, percentile

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
ADMIN_LIST = "/bench-admin/customers/customer/"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")


@dataclass
class Row:
    """One measured line: a label and the URLs its requests cycle through."""

    persona: str
    label: str
    paths: list[str]
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0  # timed, over all rounds
    cursor: int = 0  # where the next round goes on in `paths`, so that short rounds still ask every one

    @property
    def rate(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0

    def summary(self) -> dict[str, float]:
        if not self.latencies_ms:
            return {"p50": float("nan"), "p99": float("nan"), "rate": 0.0, "n": 0}
        return {
            "p50": statistics.median(self.latencies_ms),
            "p99": percentile(self.latencies_ms, 0.99),
            "rate": self.rate,
            "n": len(self.latencies_ms),
        }


# --- preparing the data (in this process, through the ORM) ------------------------------------------------------


def prepare(usernames: list[str], queries: int, seed: int) -> dict[str, dict[str, list[str]]]:
    """Per persona: the queries of each kind and the 360° pages to ask for, all from customers it sees."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from rmdesk.access.policy import Action
    from rmdesk.customers.models import Customer
    from rmdesk.org.models import User

    # The bank may predate the code's latest migrations; the copy is brought up to date before it is served.
    start = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    print(f"migrate: {time.perf_counter() - start:.1f} s")
    plan: dict[str, dict[str, list[str]]] = {}
    for username in usernames:
        user = User.objects.get(username=username)
        # The reference admin lets in staff only; this is why the benchmark wants a throwaway copy of the bank.
        User.objects.filter(pk=user.pk).update(is_staff=True)
        visible = Customer.objects.restrict(user, Action.VIEW).filter(archived_at__isnull=True)
        rng = random.Random(f"{seed}-{username}")
        ids = sorted(visible.values_list("pk", flat=True))
        sample = rng.sample(ids, min(len(ids), 5 * queries))
        rows = list(Customer.objects.filter(pk__in=sample).order_by("pk").values_list("name", "credit_code"))
        drawn = draw_queries(rng, rows, queries)
        drawn["360"] = [str(pk) for pk in rng.sample(ids, min(len(ids), queries))]
        plan[username] = drawn
        print(f"{username} ({user.get_role_display()}): {len(ids):,} customers visible, {queries} queries of each kind")
    connection.close()
    return plan


# --- the server ----------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def start_server(port: int, workers: int | None, log: Path) -> subprocess.Popen[bytes]:
    """`rmdesk serve` as deployed, with the settings that add the reference admin's URLs."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings_admin",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")])),
        RMDESK_DEMO="1",  # the demo bank's published password, over plain HTTP on loopback
        RMDESK_HTTPS="0",
    )
    command = [sys.executable, "-m", "rmdesk", "serve", "--host", HOST, "--port", str(port), "--no-worker"]
    if workers:
        command += ["--workers", str(workers)]
    with log.open("wb") as out:  # gunicorn's access log: one line a request, kept out of the terminal
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"rmdesk serve exited with {server.returncode}; see {log}")
        try:
            status, _headers, _body = fetch(http.client.HTTPConnection(HOST, port, timeout=5), "/login/")
            if status == 200:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    server.terminate()
    raise SystemExit(f"rmdesk serve did not answer within 120 s; see {log}")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    server.terminate()  # gunicorn's master stops its workers on SIGTERM
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


# --- the client ----------------------------------------------------------------------------------------------------


def fetch(
    connection: http.client.HTTPConnection, path: str, *, method: str = "GET", body: str | None = None, **headers: str
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """One request on a kept connection. gunicorn's sync workers close after each response; http.client then opens a
    new connection for the next request by itself (on loopback that costs ~0.1 ms)."""
    connection.request(method, path, body=body, headers={"Host": HOST, **headers})
    response = connection.getresponse()
    return response.status, response.headers, response.read()


def cookies_of(headers: http.client.HTTPMessage) -> dict[str, str]:
    found = {}
    for header in headers.get_all("Set-Cookie") or []:
        name, _, value = header.split(";", 1)[0].partition("=")
        found[name.strip()] = value.strip()
    return found


def log_in(port: int, username: str, password: str) -> str:
    """The Cookie header of a session opened through the real login form (CSRF token and cookie included)."""
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    status, headers, page = fetch(connection, "/login/")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert status == 200 and token, f"no login form at /login/ ({status})"
    jar = cookies_of(headers)
    form = urllib.parse.urlencode(
        {"username": username, "password": password, "csrfmiddlewaretoken": token.group(1).decode()}
    )
    status, headers, _page = fetch(
        connection,
        "/login/",
        method="POST",
        body=form,
        **{
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
            "Referer": f"http://{HOST}:{port}/login/",
        },
    )
    jar.update(cookies_of(headers))
    if status != 302 or "sessionid" not in jar:
        raise SystemExit(f"login as {username} failed (HTTP {status})")
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def run(port: int, cookie: str, paths: list[str], *, concurrency: int, seconds: float, row: Row | None) -> None:
    """`concurrency` threads, each on its own connection, ask for `paths` in turn until all are asked once (a
    warm-up, `row` None) or for `seconds` (timed into `row`)."""
    lock = threading.Lock()
    # Warm-up: each path once. Timed: the paths over and over, so a slow query is asked as often as a fast one.
    source = iter(paths) if row is None else itertools.cycle(paths[row.cursor :] + paths[: row.cursor])
    done_before = 0 if row is None else len(row.latencies_ms)
    deadline = time.monotonic() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=120)
        while time.monotonic() < deadline:
            with lock:
                path = next(source, None)
            if path is None:
                return
            start = time.perf_counter()
            status, _headers, _body = fetch(connection, path, Cookie=cookie)
            elapsed = (time.perf_counter() - start) * 1000
            if row is not None:
                with lock:
                    row.latencies_ms.append(elapsed)
                    if status != 200:
                        row.errors.append(f"{status} {path}")
        connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if row is not None:
        row.seconds += time.perf_counter() - started
        row.cursor = (row.cursor + len(row.latencies_ms) - done_before) % len(paths)


def rows_for(persona: str, plan: dict[str, list[str]], *, api: bool) -> list[Row]:
    def q(prefix: str, query: str, extra: str = "") -> str:
        return f"{prefix}?{urllib.parse.urlencode({'q': query})}{extra}"

    rows = [Row(persona, "list", ["/customers/"])]
    rows += [Row(persona, f"search: {kind}", [q("/customers/", x) for x in plan[kind]]) for kind in KINDS]
    rows.append(Row(persona, "360 page", [f"/customers/{pk}/" for pk in plan["360"]]))
    if api:
        rows += [
            Row(persona, f"API q=: {kind}", [q("/api/v1/customers", x, "&limit=20") for x in plan[kind]])
            for kind in KINDS
        ]
    rows.append(Row(persona, "admin: list", [ADMIN_LIST]))
    rows += [Row(persona, f"admin search: {kind}", [q(ADMIN_LIST, x) for x in plan[kind]]) for kind in KINDS]
    return rows


def report(rows: list[Row]) -> None:
    """A Markdown table per persona: ours, then the admin, with our/admin ratios of p50 and p99 (below 1: faster)."""
    by_label = {(row.persona, row.label): row.summary() for row in rows}
    for persona in dict.fromkeys(row.persona for row in rows):
        print(f"\n{persona}\n")
        print("| page | p50 ms | p99 ms | req/s | n | admin p50 | admin p99 | admin req/s | ours/admin p50 | p99 |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        for row in rows:
            if row.persona != persona or row.label.startswith("admin"):
                continue
            ours = by_label[(persona, row.label)]
            kind = row.label.split(": ", 1)[-1]
            twin = "admin: list" if row.label == "list" else f"admin search: {kind}"
            admin = by_label.get((persona, twin)) if not row.label.startswith(("API", "360")) else None
            cells = [row.label, f"{ours['p50']:.1f}", f"{ours['p99']:.1f}", f"{ours['rate']:.1f}", f"{ours['n']}"]
            if admin:
                cells += [f"{admin['p50']:.1f}", f"{admin['p99']:.1f}", f"{admin['rate']:.1f}"]
                cells += [f"{ours['p50'] / admin['p50']:.2f}", f"{ours['p99'] / admin['p99']:.2f}"]
            else:
                cells += ["", "", "", "", ""]
            print("| " + " | ".join(cells) + " |")
        for row in rows:
            if row.persona == persona and row.errors:
                print(f"  {row.label}: {len(row.errors)} non-200 answers, e.g. {row.errors[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scratch", action="store_true", help="confirm the bank is a throwaway copy (see above)")
    parser.add_argument("--users", nargs="*", default=["rm_zhang", "head_liu"], help="personas (demo logins)")
    parser.add_argument("--password", default="rmdesk-demo")
    parser.add_argument("--queries", type=int, default=50, help="queries of each kind, and 360° pages, per persona")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="timed seconds per row (after its warm-up)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over all rows, each --seconds/--rounds long")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: rmdesk serve's)")
    parser.add_argument("--no-api", dest="api", action="store_false", help="skip the API q= rows")
    parser.add_argument("--only", help="measure only rows whose label contains this")
    parser.add_argument("--json", type=Path, help="also write every row's figures here")
    args = parser.parse_args()
    if not args.scratch:
        parser.error("the personas are made is_staff in the database served: run on a copy and pass --scratch")

    plan = prepare(args.users, args.queries, args.seed)
    port = free_port()
    log = Path(os.environ.get("RMDESK_DATA_DIR", ".")) / "bench_http.log"
    server = start_server(port, args.workers, log)
    print(f"rmdesk serve on {HOST}:{port}; access log {log}")
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    rows: list[tuple[str, Row]] = []
    try:
        for persona in args.users:
            cookie = log_in(port, persona, args.password)
            rows += [(cookie, row) for row in rows_for(persona, plan[persona], api=args.api)]
        rows = [(cookie, row) for cookie, row in rows if not args.only or args.only in row.label]
        for cookie, row in rows:
            run(port, cookie, row.paths, concurrency=args.concurrency, seconds=args.seconds, row=None)
        for round_number in range(1, args.rounds + 1):
            for cookie, row in rows:
                run(port, cookie, row.paths, concurrency=args.concurrency, seconds=args.seconds / args.rounds, row=row)
            print(f"round {round_number}/{args.rounds} done; load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        stop_server(server)
    for _cookie, row in rows:
        summary = row.summary()
        print(
            f"{row.persona:<10} {row.label:<28} p50 {summary['p50']:7.1f} ms  p99 {summary['p99']:7.1f} ms  "
            f"{summary['rate']:6.1f} req/s  ({summary['n']} requests, {len(row.errors)} errors)"
        )
    print(f"load average at end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    report([row for _cookie, row in rows])
    if args.json:
        figures = [{"persona": r.persona, "label": r.label, **r.summary(), "errors": len(r.errors)} for _c, r in rows]
        args.json.write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
