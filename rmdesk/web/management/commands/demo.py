"""`rmdesk demo`: migrate, load the demo bank once, print the logins and serve it."""

from __future__ import annotations

import argparse
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from rmdesk.batch.runner import EodError
from rmdesk.customers.models import Customer
from rmdesk.demo.builder import DEFAULT_SEED, DEMO_PASSWORD, DEMO_USERS, DemoBankError, build_demo_bank
from rmdesk.demo.loans import run_end_of_day
from rmdesk.demo.progress import ProgressBar
from rmdesk.development.scoring import rescore_all

COUNT_LABELS = {
    "org_units": "org units",
    "co_rms": "co-RM links",
    "key_persons": "key persons",
    "financial_statements": "financial statements",
    "stage_changes": "stage changes",
    "item_ratings": "scorecard ratings",
    "customer_events": "occasions",
    "visit_contacts": "customer attendees",
    "visit_bank_attendees": "bank attendees",
    "products_presented": "products presented",
    "other_bank_credits": "other banks' credits",
    "follow_ups": "follow-ups",
    "loan_guarantors": "guarantors",
    "accrual_segments": "penalty accrual segments",
    "repayment_allocations": "repayment allocations",
    "collection_logs": "collection calls",
    "classification_decisions": "classification decisions",
    "classification_snapshots": "month-end classifications",
}


def customer_count(raw: str) -> int:
    """argparse type for --customers: a whole number of at least 1."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def port_number(raw: str) -> int:
    """argparse type for --port: 1–65535."""
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 1 and 65535, got {value}")
    return value


class Command(BaseCommand):
    help = "Load the demo bank (once) into the database and serve it. Only runs in demo mode."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=customer_count, default=2000, help="number of customers to generate (default 2000)"
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"random seed; the same seed gives the same bank (default {DEFAULT_SEED})",
        )
        parser.add_argument("--no-serve", action="store_true", help="load and print the logins, then exit")
        parser.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
        parser.add_argument("--port", type=port_number, default=8000, help="port to serve on (default 8000)")

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo users share a published password: never let them into a real bank's database.
        if not settings.DEMO_MODE:
            raise CommandError(
                "the demo bank loads users with a published password, so it only runs in demo mode. "
                "Start it as `rmdesk demo` (which sets RMDESK_DEMO=1) against a database of its own."
            )
        call_command("migrate", interactive=False, verbosity=0)
        if Customer.objects.exists():
            self.stdout.write("The demo bank is already loaded; using it as it is.")
        else:
            self._load(customers=options["customers"], seed=options["seed"])
        self._print_logins(options["host"], options["port"], serving=not options["no_serve"])
        if not options["no_serve"]:
            call_command("serve", host=options["host"], port=options["port"])

    def _load(self, *, customers: int, seed: int) -> None:
        started = time.monotonic()

        def write(text: str) -> None:
            # style_func=str: progress is not an error, so it must not come out in the error colour.
            self.stderr.write(text, style_func=str, ending="")
            self.stderr.flush()

        progress = ProgressBar(write, interactive=self.stderr.isatty())
        try:
            summary = build_demo_bank(customers=customers, seed=seed, progress=progress)
            # The prospects' target scores, so the pipeline and pool show them from the first page.
            rescore_all(everything=True, progress=lambda stage, done, total: progress("scores", done, total, 0))
            # Today's end-of-day batch over the loans loaded as of yesterday's: today's dues, penalties, days past
            # due, proposals and tasks are the batch's own.
            run_end_of_day(today=timezone.localdate(), report=lambda done, total: progress("eod", done, total, 0))
        except (DemoBankError, EodError) as exc:
            raise CommandError(f"cannot load the demo bank: {exc}") from None
        finally:
            progress.close()
        counts = ", ".join(f"{count:,} {COUNT_LABELS.get(name, name)}" for name, count in summary.as_dict().items())
        self.stdout.write(f"Demo bank loaded in {time.monotonic() - started:.1f} s (seed {seed}): {counts}.")

    def _print_logins(self, host: str, port: int, *, serving: bool) -> None:
        where = f" at http://{host}:{port}/" if serving else ""
        self.stdout.write(f"\nLog in{where} as any of these users with the password {DEMO_PASSWORD}:")
        width = max(len(login.username) for login in DEMO_USERS)
        role_width = max(len(str(login.role)) for login in DEMO_USERS)
        for login in DEMO_USERS:
            # The Chinese columns go last: full-width characters would break the padding of what follows.
            self.stdout.write(
                f"  {login.username:<{width}}  {login.role!s:<{role_width}}  {login.unit}  ({login.full_name})"
            )
        self.stdout.write("  (and rm_0001 … with the same password: the other RMs of the demo bank)")
