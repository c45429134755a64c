"""The end-of-day runner 日终: the day's jobs in a fixed order, each recorded in the job ledger.

    calendar → reprice → due → accrual → standing → classification → reminders → snapshots

A date runs only when the one before it is complete (`--until` walks the missing dates in order), never in the future.
A job already done on the date is skipped; `rerun` runs it again, which changes nothing because every job is
state-based. A run that died — killed, or a job that raised — resumes where it stopped: the jobs done are skipped,
the one that did not finish runs again from the state it left (chunks it committed are not counted twice).

With several workers each per-customer job is split by customer-id ranges (about the same number of loans each), one
process and one ledger row per range; the next job starts when every range of this one is done. Workers are forked from
the runner (each with its own database connection), or started as `rmdesk eod --date D --job J --range LO-HI`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing.process import BaseProcess
from pathlib import Path
from types import ModuleType
from typing import Protocol

from django.conf import settings
from django.db import connection, connections
from django.utils.translation import gettext as _

from rmdesk.batch import ledger
from rmdesk.loans.models import LoanContract
from rmdesk.postloan.jobs import accrual, calendar, classification, due, reminders, reprice, snapshots, standing
from rmdesk.postloan.jobs.common import WHOLE_BANK, Counts, CustomerRange

ONE_DAY = timedelta(days=1)
LAST_CUSTOMER_ID = 2**63 - 1  # the last range runs to the end, so customers added later are never left out
_ADVISORY_LOCK_KEY = 0x726D_6465_736B  # "rmdesk": one end-of-day at a time on a PostgreSQL database

Report = Callable[[str], None]


@dataclass(frozen=True)
class Job:
    name: str
    module: ModuleType  # its run(*, on, customers) -> counts
    per_customer: bool  # split among workers by customer-id ranges

    def run(self, *, on: date, customers: CustomerRange) -> Counts:
        counts: Counts = self.module.run(on=on, customers=customers)
        return counts


JOBS: tuple[Job, ...] = (
    Job("calendar", calendar, per_customer=True),
    Job("reprice", reprice, per_customer=False),
    Job("due", due, per_customer=True),
    Job("accrual", accrual, per_customer=True),
    Job("standing", standing, per_customer=True),
    Job("classification", classification, per_customer=True),
    Job("reminders", reminders, per_customer=True),
    Job("snapshots", snapshots, per_customer=True),
)
JOB_NAMES = tuple(job.name for job in JOBS)
JOBS_BY_NAME = {job.name: job for job in JOBS}


class EodError(Exception):
    """A request the runner refuses, with a message for the user (in their language)."""


class JobFailed(EodError):
    """A job raised; what it committed stays, and running the same date again resumes it."""


# --- which dates ----------------------------------------------------------------------------------------------------


def next_date() -> date | None:
    """The business date to run next: the unfinished one, else the day after the last complete one."""
    unfinished = ledger.unfinished_date(JOB_NAMES)
    if unfinished is not None:
        return unfinished
    last = ledger.last_completed_date(JOB_NAMES)
    return last + ONE_DAY if last is not None else None


def plan(*, on: date | None, until: date | None, rerun: bool, today: date) -> list[date]:
    """The dates to run, in order, for `--date` or `--until`; EodError for a date in the future, one that would skip
    a day, or a rerun of a date before the last complete one."""
    wanted = until if until is not None else on
    assert wanted is not None
    if wanted > today:
        raise EodError(
            _("%(date)s is in the future: the end-of-day runs for today (%(today)s) or an earlier date.")
            % {"date": wanted.isoformat(), "today": today.isoformat()}
        )
    last = ledger.last_completed_date(JOB_NAMES)
    following = next_date()
    if until is not None:
        if rerun:
            raise EodError(_("--rerun runs one date again: give it with --date, not --until."))
        if following is None:
            raise EodError(_("No business date has been run yet: run the first one with --date."))
        if until < following:
            return []
        return [following + ONE_DAY * n for n in range((until - following).days + 1)]
    if following is None or wanted == following:
        return [wanted]
    if last is not None and wanted <= last:
        if wanted < last and rerun:
            raise EodError(
                _("%(date)s is before the last completed date %(last)s: only that one can be run again.")
                % {"date": wanted.isoformat(), "last": last.isoformat()}
            )
        if not ledger.is_done(wanted, JOB_NAMES[0]) and wanted < last:
            raise EodError(
                _("%(date)s was never run and lies before the last completed date %(last)s.")
                % {"date": wanted.isoformat(), "last": last.isoformat()}
            )
        return [wanted]
    if wanted > following:
        raise EodError(
            _(
                "%(date)s would skip a day: the next business date to run is %(next)s. Run it first, or catch up "
                "through %(date)s with --until %(date)s."
            )
            % {"date": wanted.isoformat(), "next": following.isoformat()}
        )
    raise EodError(
        _("%(date)s cannot be run now: the next business date to run is %(next)s.")
        % {"date": wanted.isoformat(), "next": following.isoformat()}
    )


# --- splitting the bank ---------------------------------------------------------------------------------------------


def split_customers(workers: int) -> list[CustomerRange]:
    """Customer-id ranges with about the same number of loans each, covering every id from 1 up."""
    if workers <= 1:
        return []
    ids = list(LoanContract.objects.order_by("customer_id").values_list("customer_id", flat=True))
    if not ids:
        return []
    starts = sorted({ids[len(ids) * n // workers] for n in range(workers)})
    starts[0] = 1
    ends = [start - 1 for start in starts[1:]] + [LAST_CUSTOMER_ID]
    return [CustomerRange(first, last) for first, last in zip(starts, ends, strict=True)]


# --- running ranges -------------------------------------------------------------------------------------------------


def run_range(on: date, job_name: str, customers: CustomerRange) -> Counts:
    """Run one job of a date over one customer range under its ledger row (a worker's whole work)."""
    job = JOBS_BY_NAME[job_name]
    row = ledger.begin(on, job.name, customers)
    try:
        counts = job.run(on=on, customers=customers)
    except Exception as exc:
        ledger.fail(row, f"{type(exc).__name__}: {exc}")
        raise
    ledger.finish(row, counts, audit=customers.whole_bank)
    return counts


class Launcher(Protocol):
    def __call__(self, on: date, job: str, ranges: Sequence[CustomerRange], workers: int) -> None:
        """Run the job over every range, at most `workers` at a time, and return when all are done (JobFailed if
        any failed)."""


def in_process(on: date, job: str, ranges: Sequence[CustomerRange], workers: int) -> None:
    """Run the ranges one after another in this process (tests; a single worker resuming a split job)."""
    for customers in ranges:
        try:
            run_range(on, job, customers)
        except Exception as exc:
            raise JobFailed(_failure(job, on, f"{type(exc).__name__}: {exc}")) from exc


def in_subprocesses(on: date, job: str, ranges: Sequence[CustomerRange], workers: int) -> None:
    """Run each range in its own `rmdesk eod --job --range` process with its own database connection (where the
    system cannot fork; also how ranges could be run on other machines)."""
    waiting = list(ranges)
    running: list[tuple[CustomerRange, subprocess.Popen[bytes]]] = []
    errors: list[str] = []
    # The children open their own connections and must see what this one wrote (kept open: on PostgreSQL it holds
    # the end-of-day lock).
    assert not connection.in_atomic_block, "workers cannot see an uncommitted transaction"
    while waiting or running:
        while waiting and len(running) < workers:
            customers = waiting.pop(0)
            command = [
                sys.executable,
                "-m",
                "rmdesk",
                "eod",
                "--date",
                on.isoformat(),
                "--job",
                job,
                "--range",
                f"{customers.first}-{customers.last}",
            ]
            process = subprocess.Popen(  # noqa: S603 — this interpreter running rmdesk, no shell
                command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy()
            )
            running.append((customers, process))
        customers, process = running.pop(0)
        _, stderr = process.communicate()
        if process.returncode != 0:
            tail = stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {process.returncode}"]
            errors.append(f"{customers}: {tail[0]}")
    if errors:
        raise JobFailed(_failure(job, on, "; ".join(errors)))


def in_forked_processes(on: date, job: str, ranges: Sequence[CustomerRange], workers: int) -> None:
    """Run each range in a child forked from this process (the default): no start-up to pay, the code already
    loaded. The database connections are closed before the fork, so each child opens its own; the end-of-day lock
    is not on them (see `exclusive`). Where the system cannot fork, worker processes are started instead."""
    if "fork" not in multiprocessing.get_all_start_methods():
        in_subprocesses(on, job, ranges, workers)
        return
    assert not connection.in_atomic_block, "workers cannot see an uncommitted transaction"
    context = multiprocessing.get_context("fork")
    waiting = list(ranges)
    running: list[tuple[CustomerRange, BaseProcess]] = []
    errors: list[str] = []
    while waiting or running:
        while waiting and len(running) < workers:
            customers = waiting.pop(0)
            connections.close_all()  # a connection must not be shared across a fork
            child = context.Process(target=_forked_range, args=(on, job, customers), name=f"eod-{job}-{customers}")
            child.start()
            running.append((customers, child))
        customers, finished = running.pop(0)
        finished.join()
        if finished.exitcode != 0:
            row = ledger.row_of(on, job, customers)
            errors.append(f"{customers}: {row.error if row is not None and row.error else f'exit {finished.exitcode}'}")
    if errors:
        raise JobFailed(_failure(job, on, "; ".join(errors)))


def _forked_range(on: date, job: str, customers: CustomerRange) -> None:
    """A forked worker's whole work: one range, on its own connection, closed before it exits."""
    try:
        run_range(on, job, customers)
    finally:
        connections.close_all()


def _failure(job: str, on: date, error: str) -> str:
    return _(
        "The %(job)s job of %(date)s failed: %(error)s. What it finished is kept; run the same command again to resume."
    ) % {"job": job, "date": on.isoformat(), "error": error}


# --- one date -------------------------------------------------------------------------------------------------------


def run_date(
    on: date,
    *,
    workers: int = 1,
    rerun: bool = False,
    launcher: Launcher | None = None,
    report: Report = lambda line: None,
) -> dict[str, Counts]:
    """Run the date's jobs in order, skipping those done unless `rerun`; the counts of each job run. Split jobs run
    through `launcher` (default: forked worker processes)."""
    launch = launcher or in_forked_processes
    results: dict[str, Counts] = {}
    split: list[CustomerRange] | None = None
    for job in JOBS:
        if not rerun and ledger.is_done(on, job.name):
            report(_("%(date)s %(job)s: done already, skipped") % {"date": on.isoformat(), "job": job.name})
            continue
        started = time.monotonic()
        ranges = ledger.ranges_of(on, job.name) if job.per_customer else []
        if job.per_customer and not ranges and workers > 1:
            if split is None:
                split = split_customers(workers)  # once a date: the loans' customers do not move during a run
            ranges = split
        if not ranges:
            try:
                counts = run_range(on, job.name, WHOLE_BANK)
            except Exception as exc:
                raise JobFailed(_failure(job.name, on, f"{type(exc).__name__}: {exc}")) from exc
        else:
            row = ledger.begin(on, job.name)
            todo = (
                ranges if rerun else [customers for customers in ranges if not ledger.is_done(on, job.name, customers)]
            )
            try:
                launch(on, job.name, todo, workers)
            except JobFailed as exc:
                ledger.fail(row, str(exc))
                raise
            counts = ledger.counts_of(on, job.name, ranges)
            ledger.finish(row, counts, audit=True, ranges=len(ranges))
        results[job.name] = counts
        described = ", ".join(f"{name} {value}" for name, value in counts.items()) or "-"
        report(
            _("%(date)s %(job)s: %(counts)s (%(seconds).2f s)")
            % {"date": on.isoformat(), "job": job.name, "counts": described, "seconds": time.monotonic() - started}
        )
    return results


# --- one run at a time ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def exclusive() -> Iterator[None]:
    """Hold the end-of-day lock for the run: a PostgreSQL advisory lock, or a lock file beside the SQLite database
    (none for an in-memory test database)."""
    if connection.vendor == "postgresql":
        # On a connection of its own: the runner closes its connections before forking workers, and a session's
        # advisory lock goes with its connection.
        holder = connection.get_new_connection(connection.get_connection_params())
        try:
            holder.autocommit = True
            with holder.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [_ADVISORY_LOCK_KEY])
                row = cursor.fetchone()
                if not (row and row[0]):
                    raise EodError(_("Another end-of-day run is in progress on this database."))
            yield
        finally:
            holder.close()  # ends the session, and its lock with it
        return
    name = str(settings.DATABASES["default"]["NAME"])
    if name.startswith("file:") or name == ":memory:" or "mode=memory" in name:
        yield
        return
    import fcntl

    with open(Path(name).with_name(Path(name).name + ".eod-lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise EodError(_("Another end-of-day run is in progress on this database.")) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def eod(
    *,
    on: date | None,
    until: date | None = None,
    today: date,
    workers: int = 1,
    rerun: bool = False,
    launcher: Launcher | None = None,
    report: Report = lambda line: None,
) -> dict[date, dict[str, Counts]]:
    """`rmdesk eod`: check the dates asked for, then run them in order under the end-of-day lock."""
    if workers < 1:
        raise EodError(_("--workers must be at least 1."))
    results: dict[date, dict[str, Counts]] = {}
    with exclusive():
        dates = plan(on=on, until=until, rerun=rerun, today=today)
        if not dates:
            last = ledger.last_completed_date(JOB_NAMES)
            report(_("Nothing to run: the end-of-day is complete through %(last)s.") % {"last": last})
        for day in dates:
            results[day] = run_date(day, workers=workers, rerun=rerun, launcher=launcher, report=report)
    return results
