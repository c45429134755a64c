"""`rmdesk rescore-prospects [--all] [--batch N]`: recompute the target scores that a scorecard change made stale
(`--all`: every open prospect's, e.g. after a bulk load of the archive). Derived data only: nothing is audited."""

from __future__ import annotations

import time
from typing import Any, TextIO, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rmdesk.core.progress import ProgressBar
from rmdesk.development.scoring import RESCORE_BATCH, RESCORE_BATCH_MAX, rescore_all

STAGE_LABELS = {"rescoring": "rescoring"}


class Command(BaseCommand):
    help = "Recompute the target score of every prospect whose score is older than the scorecard."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--all", action="store_true", help="re-score every open prospect, stale or not")
        parser.add_argument(
            "--batch",
            type=int,
            default=RESCORE_BATCH,
            help=f"prospects per transaction (default {RESCORE_BATCH}, at most {RESCORE_BATCH_MAX})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch: int = options["batch"]
        if not 1 <= batch <= RESCORE_BATCH_MAX:
            raise CommandError(f"--batch must be from 1 to {RESCORE_BATCH_MAX:,}")
        start = time.monotonic()
        # The bar redraws its line with "\r": it writes to the raw stream, not Django's line-ending wrapper.
        bar = ProgressBar(cast(TextIO, self.stderr._out), STAGE_LABELS)
        try:
            count = rescore_all(progress=bar, batch=batch, everything=options["all"])
        finally:
            bar.close()
        elapsed = time.monotonic() - start
        rate = f", {count / elapsed:,.0f}/s" if count and elapsed else ""
        self.stdout.write(f"rescore-prospects: {count:,} prospects scored in {elapsed:.1f} s{rate}")
