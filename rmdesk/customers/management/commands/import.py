"""`rmdesk import customers FILE --user U [--partial] [--rejects FILE]` and `rmdesk import template FILE`."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TextIO, cast

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from rmdesk.access.policy import Action, may
from rmdesk.core.progress import ProgressBar
from rmdesk.core.xlsx import workbook_bytes
from rmdesk.customers.imports.readers import FileRejected
from rmdesk.customers.imports.runner import ImportResult, rejects_sheets, run_import
from rmdesk.customers.imports.templates import template_workbook
from rmdesk.org.models import User

LANGUAGES = [code for code, _name in settings.LANGUAGES]
ERRORS_PRINTED = 20
STAGE_LABELS = {"reading": "reading", "checking": "checking", "saving": "saving"}


class Command(BaseCommand):
    help = (
        "Import customers, key persons, financial statements and relationships from .xlsx or .csv as a user "
        "(whose scope applies), or write the import template."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        customers = subcommands.add_parser("customers", help="import a file")
        customers.add_argument("file", type=Path)
        customers.add_argument("--user", required=True, help="the username the import is done as")
        customers.add_argument(
            "--partial",
            action="store_true",
            help="keep the good rows when others are rejected (default: all or nothing)",
        )
        customers.add_argument("--rejects", type=Path, help="where to write the rejected rows (.xlsx or .csv)")
        customers.add_argument("--language", choices=LANGUAGES, default=settings.LANGUAGE_CODE)
        template = subcommands.add_parser("template", help="write the empty import template")
        template.add_argument("file", type=Path)
        template.add_argument("--language", choices=LANGUAGES, default=settings.LANGUAGE_CODE)

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            if options["subcommand"] == "template":
                options["file"].write_bytes(template_workbook(options["language"]))
                self.stdout.write(f"template written to {options['file']}")
                return
            self._import(options)

    def _import(self, options: dict[str, Any]) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"--user: no active user has the username {options['user']!r}")
        if not may(user, Action.CREATE):
            raise CommandError(f"--user: {user.username} ({user.get_role_display()}) may not open customer files")
        # The bar redraws its line with "\r": it writes to the raw stream, not Django's line-ending wrapper.
        bar = ProgressBar(cast(TextIO, self.stderr._out), STAGE_LABELS)
        try:
            result = run_import(actor=user, path=path, partial=options["partial"], progress=bar)
        except FileRejected as error:
            raise CommandError(f"{path}: {error.message}") from None
        finally:
            bar.close()
        self.stdout.write(_summary(result))
        if result.rejected:
            self._report_rejects(result, options)
            if not result.saved:
                raise CommandError(
                    f"{result.rejected:,} rows rejected: nothing was saved (use --partial to keep the good rows)",
                    returncode=1,
                )

    def _report_rejects(self, result: ImportResult, options: dict[str, Any]) -> None:
        for n, error in enumerate(result.errors()):
            if n == ERRORS_PRINTED:
                self.stderr.write(f"… and {result.rejected - ERRORS_PRINTED:,} more rejected rows")
                break
            column = f" {error.column}:" if error.column else ""
            self.stderr.write(f"{error.sheet} row {error.row}:{column} {error.message}")
        rejects: Path | None = options["rejects"]
        if rejects is None and result.partial:
            rejects = options["file"].with_name(f"{options['file'].stem}-rejects.xlsx")
        if rejects is None:
            return
        try:
            _write_rejects(result, rejects)
        except OSError as error:
            raise CommandError(f"--rejects: cannot write {rejects}: {error.strerror}") from None
        self.stdout.write(f"rejected rows written to {rejects}")


def _summary(result: ImportResult) -> str:
    counts = ", ".join(f"{result.total(o):,} {o}" for o in ("created", "updated", "unchanged", "rejected"))
    saved = "saved" if result.saved else "nothing saved"
    return f"{result.file_name}: {result.total():,} rows — {counts} ({saved})"


def _write_rejects(result: ImportResult, path: Path) -> None:
    sheets = rejects_sheets(result)
    if path.suffix.lower() != ".csv":
        path.write_bytes(workbook_bytes(sheets))
        return
    if len(sheets) > 1:
        raise CommandError("--rejects: rows of several sheets were rejected; give an .xlsx file to hold them all")
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(sheets[0].header)
        writer.writerows(sheets[0].rows)
