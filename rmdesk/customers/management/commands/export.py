"""`rmdesk export customers FILE --user U [filters…]`: the customer list as .xlsx, as that user sees it."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from rmdesk.access.policy import Action, may
from rmdesk.customers.exports import export_customers
from rmdesk.customers.filters import CustomerFilter
from rmdesk.org.models import User

LANGUAGES = [code for code, _name in settings.LANGUAGES]
# The list page's filters, as options: --status customer, --industry-section C, …
FILTER_OPTIONS = ("q", "status", "tier", "size", "credit_rating", "industry_section", "province")


class Command(BaseCommand):
    help = "Export the customer list to .xlsx as a user: their export scope and the filters apply; audited."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        customers = subcommands.add_parser("customers", help="export the customer list")
        customers.add_argument("file", type=Path)
        customers.add_argument("--user", required=True, help="the username the export is done as")
        for name in FILTER_OPTIONS:
            customers.add_argument(f"--{name.replace('_', '-')}", dest=name, default="")
        customers.add_argument("--primary-rm", help="username of the primary RM")
        customers.add_argument("--include-archived", action="store_true")
        customers.add_argument("--language", choices=LANGUAGES, default=settings.LANGUAGE_CODE)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if path.suffix.lower() != ".xlsx":
            raise CommandError(f"{path}: the export is an .xlsx workbook; name the file …xlsx")
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user has the username {options['user']!r}")
        if not may(user, Action.EXPORT):
            raise CommandError(f"--user: {user.username} ({user.get_role_display()}) may not export customers")
        data: dict[str, Any] = {name: options[name] for name in FILTER_OPTIONS if options[name]}
        if options["primary_rm"]:
            rm = User.objects.filter(username=options["primary_rm"]).first()
            if rm is None:
                raise CommandError(f"--primary-rm: no user has the username {options['primary_rm']!r}")
            data["primary_rm"] = rm.pk
        if options["include_archived"]:
            data["include_archived"] = "on"
        with translation.override(options["language"]):
            customer_filter = CustomerFilter(data)
            if not customer_filter.is_valid():
                problems = "; ".join(
                    f"--{name.replace('_', '-')}: {' '.join(messages)}"
                    for name, messages in customer_filter.error_fields().items()
                )
                raise CommandError(problems)
            chunks, count = export_customers(actor=user, customer_filter=customer_filter)
            _write(path, chunks)
        self.stdout.write(f"exported {count:,} customers to {path}")


def _write(path: Path, chunks: Any) -> None:
    """Write through a temporary file and a rename: a broken-off export leaves no half workbook behind."""
    directory = path.resolve().parent
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(handle, "wb") as stream:
            for chunk in chunks:
                stream.write(chunk)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
