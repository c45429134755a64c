"""`rmdesk loans-feed FILE [--date D] [--dry-run] [--partial] [--language L]`: apply the core banking system's daily
file (CSV, XLSX or JSON; docs/core-feed.md) and print what it changed, each refused record (row, field, message),
the duplicates, the overpayments held and the reconciliation differences."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation

from rmdesk.customers.imports.readers import FileRejected
from rmdesk.loans.feed.runner import FeedResult, run_feed

LANGUAGES = [code for code, _name in settings.LANGUAGES]
LISTED = 50  # errors, duplicates, overpayments and differences printed of each


class Command(BaseCommand):
    help = "Apply the core banking system's daily file of loans, drawdowns, schedules and repayments."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--date", help="the business date the file is for, as YYYY-MM-DD (default: today)")
        parser.add_argument("--dry-run", action="store_true", help="check and report everything, save nothing")
        parser.add_argument(
            "--partial",
            action="store_true",
            help="keep the good records when others are refused (default: all or nothing)",
        )
        parser.add_argument("--language", choices=LANGUAGES, default=settings.LANGUAGE_CODE)

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        business_date = None
        if options["date"]:
            try:
                business_date = date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError(f"--date must be a date as YYYY-MM-DD, not {options['date']!r}") from None
        with translation.override(options["language"]):
            try:
                result = run_feed(
                    path, business_date=business_date, dry_run=options["dry_run"], partial=options["partial"]
                )
            except FileRejected as error:
                raise CommandError(f"{path}: {error.message}") from None
            self._report(result)
        if result.rejected and not result.saved and not result.dry_run:
            raise CommandError(
                f"{result.rejected:,} records refused: nothing was saved (use --partial to keep the good records)",
                returncode=1,
            )

    def _report(self, result: FeedResult) -> None:
        counts = result.counts
        saved = "dry run, nothing saved" if result.dry_run else ("saved" if result.saved else "nothing saved")
        self.stdout.write(f"{result.file_name}: {result.records:,} records for {result.business_date} ({saved})")
        self.stdout.write(
            f"  loans: {counts['loans_created']:,} created, {counts['loans_updated']:,} updated, "
            f"{counts['loans_unchanged']:,} unchanged, {counts['loans_closed']:,} closed, "
            f"{counts['loans_reopened']:,} reopened"
        )
        self.stdout.write(
            f"  drawdowns: {counts['drawdowns_created']:,} created, {counts['drawdowns_unchanged']:,} unchanged"
        )
        self.stdout.write(
            f"  instalments: {counts['instalments_created']:,} created, {counts['instalments_updated']:,} updated, "
            f"{counts['instalments_deleted']:,} deleted, {counts['instalments_unchanged']:,} unchanged"
        )
        total = sum((o.amount for o in result.overpayments), start=0)
        self.stdout.write(
            f"  repayments: {counts['repayments_posted']:,} posted, {counts['repayments_already_posted']:,} already "
            f"posted; {counts['overpayments']:,} overpayments held ({total:,.2f})"
        )
        self.stdout.write(f"  duplicates in the file: {counts['duplicates']:,}; refused: {counts['rejected']:,}")
        for n, over in enumerate(result.overpayments):
            if n == LISTED:
                self.stdout.write(f"  … and {len(result.overpayments) - LISTED:,} more overpayments")
                break
            self.stdout.write(f"  overpayment held: {over.contract_no} {over.reference} {over.amount:,.2f}")
        for n, diff in enumerate(result.differences):
            if n == LISTED:
                self.stdout.write(f"  … and {len(result.differences) - LISTED:,} more differences")
                break
            self.stdout.write(f"  difference: {diff.contract_no} {diff.field}: core {diff.core}, rmdesk {diff.rmdesk}")
        for n, dup in enumerate(result.duplicates):
            if n == LISTED:
                self.stdout.write(f"  … and {len(result.duplicates) - LISTED:,} more duplicates")
                break
            where = f"{dup.sheet} row {dup.row}" if dup.sheet else f"row {dup.row}"
            self.stdout.write(f"  duplicate: {where} repeats row {dup.first_row}")
        for n, error in enumerate(result.errors):
            if n == LISTED:
                self.stderr.write(f"… and {len(result.errors) - LISTED:,} more errors")
                break
            where = f"{error.sheet} row {error.row}" if error.sheet else f"row {error.row}"
            column = f" {error.field}:" if error.field else ""
            self.stderr.write(f"{where}:{column} {error.message}")
