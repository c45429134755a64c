"""`rmdesk serve`: collect static files and run gunicorn (never runserver) on the WSGI app."""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import connections

# A worker's first requests load what Django and rmdesk load lazily (templates, translation catalogues, reference
# data): a few hundred thousand objects that live as long as the worker. Left to the collector, every full collection
# walks all of them — 80–100 ms of CPU in the middle of a request (measured on the list page; a request itself costs
# 12–14 ms). After this many requests they are moved out of the collector's reach (gc.freeze); what requests allocate
# later is still collected as usual.
WARM_UP_REQUESTS = 25
MAX_WORKERS = 8


def default_workers(cores: int | None) -> int:
    """One sync worker per core, at least two, at most MAX_WORKERS.

    A request here is CPU from start to end: SQLite runs inside the worker, PostgreSQL on the same machine or a near
    one answers in a millisecond or two. gunicorn's usual 2 × cores + 1 assumes workers that wait on the network; with
    more busy workers than cores, the kernel time-slices them and every request in flight takes as long as all of them
    together. One per core serves them one after another at full speed: on the 2-core benchmark machine, four clients'
    searches on 1M customers went from 58–63 ms p99 with five workers to 40–47 ms with two, and the throughput rose
    (docs/benchmarks.md, session 14). Two at least, so that one slow request never holds up everyone else.
    """
    return max(2, min(MAX_WORKERS, cores or 1))


def _freeze_long_lived() -> None:
    gc.collect()
    gc.freeze()


def _post_request(worker: Any, _request: Any) -> None:
    """gunicorn's post_request hook: once the worker is warm, freeze what it has loaded (see WARM_UP_REQUESTS)."""
    if worker.nr == WARM_UP_REQUESTS:
        _freeze_long_lived()


def _port(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not between 1 and 65535")
    return port


def _workers(value: str) -> int:
    try:
        workers = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= workers <= 64:
        raise argparse.ArgumentTypeError("workers must be between 1 and 64")
    return workers


class Command(BaseCommand):
    help = "Serve rmdesk with gunicorn and WhiteNoise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("RMDESK_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=_port, default=_port(os.environ.get("RMDESK_PORT", "8000")))
        parser.add_argument(
            "--workers",
            type=_workers,
            default=None,
            help=f"gunicorn worker processes (default: one per core, at least 2, at most {MAX_WORKERS})",
        )
        # One machine on SQLite runs everything from this one command, background jobs (imports) included; a
        # PostgreSQL deployment runs `rmdesk db_worker` as its own service instead.
        parser.add_argument(
            "--worker",
            action=argparse.BooleanOptionalAction,
            default=str(settings.DATABASES["default"]["ENGINE"]).endswith("sqlite3"),
            help="also run one background-job worker (rmdesk db_worker); default: on with SQLite",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.core.wsgi import get_wsgi_application
        from gunicorn.app.base import BaseApplication

        call_command("collectstatic", interactive=False, verbosity=0)
        application = get_wsgi_application()
        # Workers keep their database connections between requests (CONN_MAX_AGE): none may be one the master opened
        # and the fork copied, shared by every worker.
        connections.close_all()
        # What the master loaded is shared with the forked workers: frozen, the collector never touches (and so never
        # copies) those pages, nor spends a worker's time walking them.
        _freeze_long_lived()
        # The cores this process may run on (a container's CPU set), not all the machine has.
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
        workers = options["workers"] or default_workers(cores)
        bind = f"{options['host']}:{options['port']}"

        class Server(BaseApplication):
            def load_config(self) -> None:
                self.cfg.set("bind", bind)
                self.cfg.set("workers", workers)
                self.cfg.set("accesslog", "-")
                self.cfg.set("timeout", 60)
                # Workers are forked after the app is loaded: one import, shared pages.
                self.cfg.set("preload_app", True)
                self.cfg.set("post_request", _post_request)

            def load(self) -> Any:
                return application

        self.stdout.write(f"rmdesk serving on http://{bind} with {workers} workers (Ctrl-C stops)")
        job_worker = None
        if options["worker"]:
            command = [sys.executable, "-m", "rmdesk", "db_worker", "--no-startup-delay", "--verbosity", "0"]
            job_worker = subprocess.Popen(command)  # noqa: S603 (our own interpreter and command)
            self.stdout.write("background jobs: one rmdesk db_worker")
        master = os.getpid()
        try:
            Server().run()
        finally:
            # gunicorn's forked workers leave through this frame too: only the master stops the job worker.
            if job_worker is not None and os.getpid() == master:
                _stop(job_worker)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Let a running job finish for a while; a job cut off after that rolls back, leaving nothing half-written."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
