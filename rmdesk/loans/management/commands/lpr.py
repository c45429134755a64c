"""`rmdesk lpr list [--tenor 1y|5y]` prints the LPR table; `rmdesk lpr add --tenor 1y --date D --rate R [--user U]`
adds a published LPR (as the system, or as head-office user U)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rmdesk.core.errors import DomainError
from rmdesk.loans.choices import LprTenor
from rmdesk.loans.rates import published_lpr
from rmdesk.loans.services import publish_lpr
from rmdesk.org.models import User


class Command(BaseCommand):
    help = "List the published LPR rates, or add one (head office)."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        listing = subcommands.add_parser("list", help="print the LPR table, newest first")
        listing.add_argument("--tenor", choices=LprTenor.values)
        add = subcommands.add_parser("add", help="add a published LPR")
        add.add_argument("--tenor", choices=LprTenor.values, required=True)
        add.add_argument("--date", required=True, help="the day it was published, YYYY-MM-DD")
        add.add_argument("--rate", required=True, help="the rate in percent, e.g. 3.00")
        add.add_argument("--user", help="enter it as this head-office user (default: the system)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "list":
            for lpr in published_lpr(options["tenor"]):
                by = lpr.created_by.username if lpr.created_by else "-"
                self.stdout.write(f"{lpr.published_on}  {lpr.tenor}  {lpr.rate_pct:.2f}%  {by}")
            return
        try:
            published_on = date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError(f"--date must be a date as YYYY-MM-DD, not {options['date']!r}") from None
        actor = None
        if options["user"]:
            actor = User.objects.filter(username=options["user"], is_active=True).select_related("unit").first()
            if actor is None:
                raise CommandError(f"--user: no active user has the username {options['user']!r}")
        try:
            lpr = publish_lpr(actor=actor, tenor=options["tenor"], published_on=published_on, rate_pct=options["rate"])
        except ValidationError as error:
            options_of = {"tenor": "--tenor", "published_on": "--date", "rate_pct": "--rate"}
            raise CommandError(
                "; ".join(f"{options_of.get(k, k)}: {' '.join(v)}" for k, v in error.message_dict.items())
            ) from None
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(f"LPR {lpr.tenor} of {lpr.published_on}: {lpr.rate_pct:.2f}% added")
