"""`rmdesk audit verify`: exit 0 when the chain is intact, 1 naming the first broken event."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rmdesk.audit.services import verify


class Command(BaseCommand):
    help = "Audit trail tools. `verify` checks the hash chain end to end."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("subcommand", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify()
        if not report.intact:
            raise CommandError(
                f"audit chain broken at event #{report.broken_seq}: {report.reason} "
                f"({report.checked} events before it are intact)",
                returncode=1,
            )
        self.stdout.write(f"audit chain intact: {report.checked} events")
