"""Re-scoring every prospect after a change of the target scorecard (issue 4: ≤ 60 s on the million-customer bank).

The demo bank gives every customer in lifecycle 潜在/目标 a `Prospect` row (with stage history, pool and claims) and
scores them at the end of the load; for a bank loaded before that, this first gives each such customer without one a
`Prospect` row (source 8, the bank's own archive; found by its primary RM). Then it times, with the progress bar:
1. the first scoring of every open prospect (`rescore_all(everything=True)`): every data-decided rating is written;
2. a weight change (item 2's weight +1, version up) and `rescore_all()`: every score is stale, ratings unchanged;
3. a change of the encouraged industries and promising regions (version up): items 1 and 11 are rewritten too;
4. `rescore_all()` again: nothing is stale, nothing is read.

Usage (on a copy of a demo bank):
    RMDESK_DATA_DIR=/tmp/score-bank .venv/bin/rmdesk demo --customers 100000 --no-serve
    RMDESK_DATA_DIR=/tmp/score-bank .venv/bin/python bench/bench_rescore.py [--batch N]
Add RMDESK_DATABASE_URL=postgres://… to measure on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rmdesk.config.settings")
os.environ.setdefault("RMDESK_DEMO", "1")

CREATE_BATCH = 5_000


def create_prospects() -> int:
    """A Prospect row for every customer in lifecycle prospect/target that has none; returns how many were made."""
    from django.db import transaction
    from django.utils import timezone

    from rmdesk.customers.models import POOL_STATUSES, Customer
    from rmdesk.development.choices import Source, Stage
    from rmdesk.development.models import Prospect

    now = timezone.now()
    missing = (
        Customer.objects.filter(status__in=POOL_STATUSES, prospect__isnull=True, primary_rm__isnull=False)
        .order_by("pk")
        .values_list("pk", "primary_rm_id", "created_at")
    )
    rows = list(missing)
    with transaction.atomic():
        for start in range(0, len(rows), CREATE_BATCH):
            Prospect.objects.bulk_create(
                Prospect(
                    customer_id=pk,
                    source=Source.BANK_ARCHIVES,
                    found_by_id=rm_id,
                    found_on=created.date(),
                    stage=Stage.IDENTIFIED,
                    stage_changed_at=now,
                )
                for pk, rm_id, created in rows[start : start + CREATE_BATCH]
            )
    return len(rows)


def timed(label: str, run: Callable[[], int]) -> None:
    # CPU time of this process too: the machine is shared, and the wall clock counts the others' work.
    start, cpu = time.monotonic(), time.process_time()
    count = run()
    elapsed, cpu = time.monotonic() - start, time.process_time() - cpu
    rate = f"{count / elapsed:,.0f} prospects/s" if count and elapsed else "-"
    print(f"{label:<48} {count:>9,} prospects  {elapsed:6.1f} s ({cpu:5.1f} s CPU)  {rate}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=None, help="prospects per transaction (default: the command's)")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import F

    from rmdesk.core.progress import ProgressBar
    from rmdesk.development import scoring
    from rmdesk.development.models import ItemRating, Prospect, Scorecard, ScorecardItem

    call_command("migrate", verbosity=0)
    batch = args.batch or scoring.RESCORE_BATCH
    print(f"{connection.vendor}, batch {batch:,}", flush=True)
    start = time.monotonic()
    made = create_prospects()
    print(f"prospect rows created: {made:,} in {time.monotonic() - start:.1f} s ({Prospect.objects.count():,} in all)")
    bar = ProgressBar(sys.stderr, {"rescoring": "rescoring"})

    def rescore(everything: bool = False) -> int:
        try:
            return scoring.rescore_all(progress=bar, batch=batch, everything=everything)
        finally:
            bar.close()

    def bump(**changes: object) -> None:
        # What update_scorecard does, without its head-office user and audit event (measured separately in tests).
        with transaction.atomic():
            Scorecard.objects.update(version=F("version") + 1, **changes)

    timed("1. first scoring (--all: every rating written)", lambda: rescore(everything=True))
    ScorecardItem.objects.filter(characteristic=2).update(weight=F("weight") + 1)
    bump()
    timed("2. after a weight change (scores only)", rescore)
    bump(encouraged_industries=["39", "35", "65"], promising_regions=["33", "3201", "440300"])
    timed("3. after new industry and region lists", rescore)
    timed("4. again: nothing stale", rescore)
    print(f"item ratings: {ItemRating.objects.count():,}")


if __name__ == "__main__":
    main()
