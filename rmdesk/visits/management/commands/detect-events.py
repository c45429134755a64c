"""`rmdesk detect-events [--date YYYY-MM-DD]`: find occasions to visit in the audit trail since the last run and in the
coming founding anniversaries, each proposing a visit to the primary RM (part of the end-of-day batch; running it
twice finds nothing new)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rmdesk.visits.events import detect_events
from rmdesk.visits.management.commands._dates import add_date_option, business_date


class Command(BaseCommand):
    help = "Detect occasions to visit (new leadership, restructuring, founding anniversaries) and propose visits."

    def add_arguments(self, parser: CommandParser) -> None:
        add_date_option(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run = detect_events(on=business_date(options["date"]))
        read = (
            f"audit events {run.from_seq + 1}–{run.to_seq} read" if run.to_seq > run.from_seq else "no new audit events"
        )
        self.stdout.write(
            f"detect-events {run.on.isoformat()}: {read}; "
            f"{run.structural} structural change(s), {run.anniversaries} anniversary(ies), "
            f"{run.tasks} visit(s) proposed, {run.skipped_without_rm} skipped without a primary RM"
        )
