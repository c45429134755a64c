"""`rmdesk reindex-search [--batch N]`: rebuild every customer's quick-search rows (after a bulk load by another
path, or a change to how keys are computed). Derived data only: nothing is audited."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rmdesk.customers.search_index import REINDEX_BATCH, reindex_search


class Command(BaseCommand):
    help = "Rebuild the quick-search keys (name grams, pinyin, initials, codes) of every customer."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=REINDEX_BATCH, help=f"customers per transaction (default {REINDEX_BATCH})"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        batch: int = options["batch"]
        if batch < 1:
            raise CommandError("--batch must be at least 1")
        start = time.monotonic()
        terminal = self.stdout.isatty()
        last_tenth = -1

        def progress(done: int, total: int) -> None:
            nonlocal last_tenth
            percent = done * 100 // total if total else 100
            line = f"reindex-search: {done:,}/{total:,} customers ({percent}%), {time.monotonic() - start:.0f} s"
            if terminal:
                self.stdout.write(f"\r{line}", ending="")
                self.stdout.flush()
            elif percent // 10 != last_tenth:
                last_tenth = percent // 10
                self.stdout.write(line)

        count = reindex_search(batch=batch, progress=progress)
        if terminal:
            self.stdout.write("")
        self.stdout.write(f"reindex-search: {count:,} customers indexed in {time.monotonic() - start:.1f} s")
