"""CPU per request of the production server (issue 3): where a page's latency goes once four clients share two cores.

bench/bench_http.py gives latencies; this gives what the server spends on each request: the CPU time (user + system,
from /proc) of `rmdesk serve`'s master and workers over a timed run, divided by the requests done, and the client's own
CPU per request beside it. Same server, logins and client as bench_http.py (its functions), one row per path list.

Usage (a throwaway copy of a demo bank, as for bench_http.py; Linux only, for /proc):
    RMDESK_DATA_DIR=/tmp/demo1m .venv/bin/python bench/cpu_per_request.py --scratch /customers/ "/customers/?q=hxkj"
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench_http import Row, free_port, log_in, run, start_server, stop_server


def tree_cpu_seconds(pid: int) -> float:
    """User and system CPU of `pid` and its children (gunicorn's workers), in seconds."""
    ticks = 0
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for process in [pid, *map(int, children)]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # a worker that has just been replaced
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", help="paths to ask for, each measured on its own")
    parser.add_argument("--scratch", action="store_true", help="confirm the bank is a throwaway copy (bench_http.py)")
    parser.add_argument("--user", default="rm_zhang")
    parser.add_argument("--password", default="rmdesk-demo")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    if not args.scratch:
        parser.error("the server is started with the benchmark's admin settings: run on a copy and pass --scratch")
    port = free_port()
    server = start_server(port, None, Path(os.environ.get("RMDESK_DATA_DIR", ".")) / "cpu_per_request.log")
    try:
        cookie = log_in(port, args.user, args.password)
        for path in args.paths:
            run(port, cookie, [path] * 200, concurrency=args.concurrency, seconds=args.seconds, row=None)  # warm-up
            row = Row(args.user, path, [path])
            server_before, client_before = tree_cpu_seconds(server.pid), time.process_time()
            run(port, cookie, [path], concurrency=args.concurrency, seconds=args.seconds, row=row)
            server_cpu = tree_cpu_seconds(server.pid) - server_before
            client_cpu = time.process_time() - client_before
            done = len(row.latencies_ms)
            summary = row.summary()
            print(
                f"{path}: {done} requests, p50 {summary['p50']:.1f} ms, p99 {summary['p99']:.1f} ms, "
                f"{summary['rate']:.1f} req/s; CPU per request: server {server_cpu / done * 1000:.2f} ms, "
                f"client {client_cpu / done * 1000:.2f} ms"
            )
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
