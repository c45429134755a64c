"""`rmdesk release-claims [--date YYYY-MM-DD]`: send back to the pool every claim with no first contact by its
deadline (part of the end-of-day batch; running a date twice releases nothing the second time)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from rmdesk.development.pool import release_lapsed_claims


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be a date as YYYY-MM-DD, not {value!r}") from None


class Command(BaseCommand):
    help = "Return claimed prospects not contacted by their first-contact deadline to their unit's pool."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="the business date (default: today, Asia/Shanghai)")

    def handle(self, *args: Any, **options: Any) -> None:
        today = _date(options["date"]) if options["date"] else timezone.localdate()
        released = release_lapsed_claims(today)
        self.stdout.write(f"release-claims {today.isoformat()}: {released} lapsed claim(s) returned to the pool")
