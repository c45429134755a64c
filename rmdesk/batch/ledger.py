"""The job ledger as the end-of-day runner uses it: which dates are complete, which job of which range is done, and
each row's start, finish, counts and error.

A job's row over the whole bank (customer range 0..0) is the job's record for the date; when the job was split among
workers, each range has its own row too and the whole-bank row is done when every range is. A date is complete when
every job's whole-bank row is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from rmdesk.audit.services import record
from rmdesk.batch.models import JobRun, RunStatus
from rmdesk.postloan.jobs.common import WHOLE_BANK, Counts, CustomerRange


def _key(on: date, job: str, customers: CustomerRange) -> dict[str, Any]:
    return {
        "business_date": on,
        "job": job,
        "first_customer_id": customers.first,
        "last_customer_id": customers.last,
    }


def row_of(on: date, job: str, customers: CustomerRange = WHOLE_BANK) -> JobRun | None:
    return JobRun.objects.filter(**_key(on, job, customers)).first()


def is_done(on: date, job: str, customers: CustomerRange = WHOLE_BANK) -> bool:
    return JobRun.objects.filter(**_key(on, job, customers), status=RunStatus.DONE).exists()


def last_completed_date(jobs: Sequence[str]) -> date | None:
    """The latest business date on which every job is done over the whole bank."""
    complete = (
        JobRun.objects.filter(first_customer_id=0, last_customer_id=0, status=RunStatus.DONE, job__in=jobs)
        .values("business_date")
        .annotate(done=Count("job", distinct=True))
        .filter(done=len(set(jobs)))
        .order_by("-business_date")
        .values_list("business_date", flat=True)
    )
    return complete.first()


def unfinished_date(jobs: Sequence[str]) -> date | None:
    """The date a run began and did not finish (after the last complete one), if any."""
    last = last_completed_date(jobs)
    later = JobRun.objects.filter(job__in=jobs)
    if last is not None:
        later = later.filter(business_date__gt=last)
    return later.order_by("business_date").values_list("business_date", flat=True).first()


def ranges_of(on: date, job: str) -> list[CustomerRange]:
    """The customer ranges a job of the date was split into (none when it ran whole)."""
    rows = (
        JobRun.objects.filter(business_date=on, job=job)
        .exclude(first_customer_id=0, last_customer_id=0)
        .order_by("first_customer_id")
        .values_list("first_customer_id", "last_customer_id")
    )
    return [CustomerRange(first, last) for first, last in rows]


def counts_of(on: date, job: str, ranges: Sequence[CustomerRange]) -> Counts:
    """The counts of the ranges' rows added up."""
    total: Counts = {}
    wanted = Q()
    for customers in ranges:
        wanted |= Q(first_customer_id=customers.first, last_customer_id=customers.last)
    for counts in JobRun.objects.filter(wanted, business_date=on, job=job).values_list("counts", flat=True):
        for name, value in (counts or {}).items():
            total[name] = total.get(name, 0) + int(value)
    return total


@transaction.atomic
def begin(on: date, job: str, customers: CustomerRange = WHOLE_BANK) -> JobRun:
    """Record that a job starts (again) on a date and range."""
    row, _ = JobRun.objects.select_for_update().get_or_create(
        **_key(on, job, customers), defaults={"started_at": timezone.now()}
    )
    row.status, row.started_at, row.finished_at, row.error = RunStatus.RUNNING, timezone.now(), None, ""
    row.save(update_fields=["status", "started_at", "finished_at", "error"])
    return row


@transaction.atomic
def finish(row: JobRun, counts: Counts, *, audit: bool, ranges: int = 0) -> JobRun:
    """Record a job done with its counts; the whole-bank row writes the job run's one audit event (actor: system)."""
    row.status, row.finished_at, row.counts, row.error = RunStatus.DONE, timezone.now(), counts, ""
    row.save(update_fields=["status", "finished_at", "counts", "error"])
    if audit:
        record(
            actor=None,
            action="batch.job_run",
            obj=row,
            changes={
                "business_date": row.business_date,
                "job": row.job,
                "ranges": ranges,
                "counts": counts,
                "seconds": round((row.finished_at - row.started_at).total_seconds(), 3),
            },
        )
    return row


def fail(row: JobRun, error: str) -> None:
    """Record a job failed (after its own transaction rolled back: what it committed before stays, and is kept)."""
    JobRun.objects.filter(pk=row.pk).update(status=RunStatus.FAILED, finished_at=timezone.now(), error=error[:4000])
