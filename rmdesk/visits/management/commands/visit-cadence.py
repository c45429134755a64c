"""`rmdesk visit-cadence [--date YYYY-MM-DD]`: open a visit task for every customer past its visit cadence and
cancel those no longer needed (part of the end-of-day batch; running a date twice opens nothing the second time)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from rmdesk.visits.cadence import open_lapsed_visit_tasks
from rmdesk.visits.management.commands._dates import add_date_option, business_date


class Command(BaseCommand):
    help = "Open a visit-due task for every customer past its visit cadence; cancel those no longer needed."

    def add_arguments(self, parser: CommandParser) -> None:
        add_date_option(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        run = open_lapsed_visit_tasks(on=business_date(options["date"]))
        self.stdout.write(
            f"visit-cadence {run.on.isoformat()}: {run.lapsed} customer(s) past their cadence, "
            f"{run.created} task(s) opened, {run.cancelled} cancelled"
        )
