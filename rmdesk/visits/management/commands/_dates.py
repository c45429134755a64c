"""The --date option of the visit batch commands (a module starting with "_" is no command of its own)."""

from __future__ import annotations

from datetime import date

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone


def add_date_option(parser: CommandParser) -> None:
    parser.add_argument("--date", help="the business date as YYYY-MM-DD (default: today, Asia/Shanghai)")


def business_date(value: str | None) -> date:
    """--date as a date (today in the bank's time zone when not given); a bad value is a command error."""
    if not value:
        return timezone.localdate()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--date must be a date as YYYY-MM-DD, not {value!r}") from None
