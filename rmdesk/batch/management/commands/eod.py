"""`rmdesk eod [--date D | --until D] [--workers N] [--rerun]`: the end-of-day batch 日终 (rmdesk.batch.runner).

    rmdesk eod --date 2026-03-11           run one business date (the one after the last complete date)
    rmdesk eod --until 2026-03-20          catch up: every date from the next one through 2026-03-20, in order
    rmdesk eod --date 2026-03-11 --rerun   run the last complete date again (changes nothing: every job is state-based)
    rmdesk eod --date … --workers 4        split the per-customer jobs among 4 processes by customer-id ranges

`--job J --range LO-HI` is what a worker process runs: one job of one date over one customer range.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.batch import runner
from rmdesk.postloan.jobs.common import CustomerRange


def _date(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("%(option)s must be a date as YYYY-MM-DD, not %(value)r.") % {"option": option, "value": value}
        ) from None


def _workers(value: str) -> int:
    try:
        workers = int(value)
    except ValueError:
        workers = 0
    if workers < 1:
        raise CommandError(_("--workers must be a whole number of at least 1, not %(value)r.") % {"value": value})
    return workers


def _range(value: str) -> CustomerRange:
    first, _sep, last = value.partition("-")
    try:
        customers = CustomerRange(int(first), int(last))
    except ValueError:
        customers = CustomerRange(-1, -1)
    if customers.first < 1 or customers.last < customers.first:
        raise CommandError(
            _("--range must be two customer ids as LO-HI with 1 ≤ LO ≤ HI, not %(value)r.") % {"value": value}
        )
    return customers


class Command(BaseCommand):
    help = "Run the end-of-day batch for a business date, or catch up through one."
    # The system checks load every URL conf, template and admin (over a second): `serve` and `migrate` run them; the
    # nightly batch, and each of its worker processes, need not.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the business date to run, YYYY-MM-DD (default: today, Asia/Shanghai)")
        parser.add_argument("--until", help="run every date after the last complete one through this one, in order")
        parser.add_argument("--workers", default="1", help="processes to split the per-customer jobs among (default 1)")
        parser.add_argument("--rerun", action="store_true", help="run the jobs of the date again even if done")
        parser.add_argument("--job", help="(worker) run only this job, with --range")
        parser.add_argument("--range", dest="customer_range", help="(worker) the customer ids LO-HI to run --job over")

    def handle(self, *args: Any, **options: Any) -> None:
        today = timezone.localdate()
        if options["date"] and options["until"]:
            raise CommandError(_("Give either --date or --until, not both."))
        until = _date("--until", options["until"]) if options["until"] else None
        on = _date("--date", options["date"]) if options["date"] else (None if until else today)
        workers = _workers(str(options["workers"]))
        if options["job"] or options["customer_range"]:
            self._worker(on, until, options["job"], options["customer_range"], today)
            return
        try:
            runner.eod(
                on=on,
                until=until,
                today=today,
                workers=workers,
                rerun=options["rerun"],
                report=lambda line: self.stdout.write(line),
            )
        except runner.EodError as exc:
            raise CommandError(str(exc)) from exc

    def _worker(self, on: date | None, until: date | None, job: str | None, value: str | None, today: date) -> None:
        """One job of one date over one customer range, as the runner's worker processes call it."""
        if not (job and value) or until is not None or on is None:
            raise CommandError(_("A worker needs --date, --job and --range together."))
        if job not in runner.JOBS_BY_NAME:
            raise CommandError(
                _("Unknown job %(job)r: the jobs are %(jobs)s.") % {"job": job, "jobs": ", ".join(runner.JOB_NAMES)}
            )
        customers = _range(value)
        if on > today:
            raise CommandError(_("%(date)s is in the future.") % {"date": on.isoformat()})
        counts = runner.run_range(on, job, customers)
        described = ", ".join(f"{name} {count}" for name, count in counts.items())
        self.stdout.write(f"{on.isoformat()} {job} [{customers.first}, {customers.last}]: {described}")
