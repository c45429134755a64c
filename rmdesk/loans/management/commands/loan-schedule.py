"""`rmdesk loan-schedule --principal P --rate R --months N --method M --start YYYY-MM-DD [--json]`: print a loan's
repayment schedule from the schedule engine, with due dates rolled by the bank's calendar (RMDESK_DUE_DATE_ROLL)."""

from __future__ import annotations

import json
import unicodedata
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from rmdesk.core.workdays import WorkingDays
from rmdesk.loans.choices import RepaymentMethod
from rmdesk.loans.due_dates import bank_calendar
from rmdesk.loans.schedule import (
    LoanTerms,
    Method,
    Period,
    RateChange,
    ScheduleError,
    build_schedule,
    maturity_date,
)

# The option that carries each field of LoanTerms, so that an error names what the user typed.
OPTIONS = {
    "principal": "--principal",
    "annual_rate_pct": "--rate",
    "months": "--months",
    "method": "--method",
    "start": "--start",
    "interest_day": "--interest-day",
    "rate_changes": "--rate-change",
}
LANGUAGES = [code for code, _name in settings.LANGUAGES]


class Command(BaseCommand):
    help = "Print a loan's repayment schedule: period, scheduled and due date, principal, interest, total, balance."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--principal", required=True, help="the amount in yuan, e.g. 1000000.00")
        parser.add_argument("--rate", required=True, help="the annual rate in percent, up to 6 places, e.g. 3.5")
        parser.add_argument("--months", required=True, help="the term in months")
        parser.add_argument("--method", required=True, help=f"the repayment method: {', '.join(Method)}")
        parser.add_argument("--start", required=True, help="the drawdown date as YYYY-MM-DD")
        parser.add_argument(
            "--interest-day", default="20", help="the 结息日 of the interest-only methods, 1 to 28 (default 20)"
        )
        parser.add_argument(
            "--rate-change",
            action="append",
            default=[],
            metavar="YYYY-MM-DD=RATE",
            help="a new annual rate from a date on (LPR repricing); repeat for several",
        )
        parser.add_argument("--json", action="store_true", help="print JSON (amounts as strings)")
        parser.add_argument("--language", choices=LANGUAGES, help="the language of messages (default: the active one)")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"] or translation.get_language()):
            terms = _terms(options)
            calendar = bank_calendar()
            try:
                periods = build_schedule(terms, calendar=calendar)
            except ScheduleError as error:
                raise CommandError(_option_error(error)) from None
            if any(period.due_date_provisional for period in periods) and calendar is not None:
                self.stderr.write(_provisional_warning(calendar))
            if options["json"]:
                self.stdout.write(json.dumps(_as_json(terms, periods, calendar), ensure_ascii=False, indent=2))
            else:
                self.stdout.write(_as_table(terms, periods))


def _terms(options: dict[str, Any]) -> LoanTerms:
    method = options["method"].strip()
    if method not in set(Method):
        raise CommandError(
            _("--method must be one of %(choices)s, not %(value)s.") % {"choices": ", ".join(Method), "value": method}
        )
    changes = tuple(_rate_change(value) for value in options["rate_change"])
    return LoanTerms(
        principal=_decimal("--principal", options["principal"].replace(",", "")),
        annual_rate_pct=_decimal("--rate", options["rate"].removesuffix("%")),
        months=_whole("--months", options["months"]),
        method=Method(method),
        start=_date("--start", options["start"]),
        interest_day=_whole("--interest-day", options["interest_day"]),
        rate_changes=tuple(sorted(changes, key=lambda change: change.effective_from)),
    )


def _rate_change(value: str) -> RateChange:
    day, separator, rate = value.partition("=")
    if not separator:
        raise CommandError(
            _("--rate-change: %(value)s is not a date and a rate as YYYY-MM-DD=RATE, e.g. 2026-01-01=3.1.")
            % {"value": value}
        )
    return RateChange(_date("--rate-change", day), _decimal("--rate-change", rate.removesuffix("%")))


def _decimal(option: str, value: str) -> Decimal:
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise CommandError(_("%(option)s: %(value)s is not a number.") % {"option": option, "value": value})
    return number


def _whole(option: str, value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise CommandError(
            _("%(option)s: %(value)s is not a whole number.") % {"option": option, "value": value}
        ) from None


def _date(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise CommandError(
            _("%(option)s: %(value)s is not a date as YYYY-MM-DD.") % {"option": option, "value": value}
        ) from None


def _option_error(error: ScheduleError) -> str:
    return _("%(option)s: %(message)s") % {
        "option": OPTIONS.get(error.field, error.field),
        "message": _(error.message) % error.params,
    }


def _provisional_warning(calendar: WorkingDays) -> str:
    return _(
        "Warning: the holiday data (chinese-calendar) ends with %(year)s; due dates after it roll over weekends only "
        "(marked *) and are recomputed when new holiday data arrives."
    ) % {"year": calendar.last_covered_year}


def _as_json(terms: LoanTerms, periods: list[Period], calendar: WorkingDays | None) -> dict[str, object]:
    return {
        "terms": {
            "principal": str(_totals(periods)["principal"]),
            "annual_rate_pct": str(terms.annual_rate_pct),
            "months": terms.months,
            "method": str(terms.method),
            "start": terms.start.isoformat(),
            "maturity": maturity_date(terms.start, terms.months).isoformat(),
            "interest_day": terms.interest_day,
            "rate_changes": [
                {"effective_from": change.effective_from.isoformat(), "annual_rate_pct": str(change.annual_rate_pct)}
                for change in terms.rate_changes
            ],
            "due_date_roll": settings.DUE_DATE_ROLL,
            "holiday_data_until": None if calendar is None else calendar.last_covered_year,
        },
        "periods": [
            {
                "period": period.number,
                "scheduled_date": period.scheduled_date.isoformat(),
                "due_date": period.due_date.isoformat(),
                "due_date_provisional": period.due_date_provisional,
                "principal": str(period.principal),
                "interest": str(period.interest),
                "total": str(period.total),
                "balance": str(period.balance),
            }
            for period in periods
        ],
        "totals": {key: str(value) for key, value in _totals(periods).items()},
    }


def _totals(periods: list[Period]) -> dict[str, Decimal]:
    principal = sum((period.principal for period in periods), Decimal("0.00"))
    interest = sum((period.interest for period in periods), Decimal("0.00"))
    return {"principal": principal, "interest": interest, "total": principal + interest}


def _as_table(terms: LoanTerms, periods: list[Period]) -> str:
    totals = _totals(periods)
    heading = _(
        "%(method)s: %(principal)s at %(rate)s%% a year for %(months)s months, drawn %(start)s, maturing %(maturity)s"
    ) % {
        "method": RepaymentMethod(str(terms.method)).label,
        "principal": f"{totals['principal']:,}",
        "rate": terms.annual_rate_pct,
        "months": terms.months,
        "start": terms.start.isoformat(),
        "maturity": maturity_date(terms.start, terms.months).isoformat(),
    }
    # A context of their own: the catalogue already has "Interest" as a customer's interest (客户兴趣).
    header = [
        pgettext("loan schedule", "Period"),
        pgettext("loan schedule", "Scheduled date"),
        pgettext("loan schedule", "Due date"),
        pgettext("loan schedule", "Principal"),
        pgettext("loan schedule", "Interest"),
        pgettext("loan schedule", "Total"),
        pgettext("loan schedule", "Balance"),
    ]
    rows = [
        [
            str(period.number),
            period.scheduled_date.isoformat(),
            period.due_date.isoformat() + ("*" if period.due_date_provisional else " "),
            f"{period.principal:,}",
            f"{period.interest:,}",
            f"{period.total:,}",
            f"{period.balance:,}",
        ]
        for period in periods
    ]
    total_row = [
        pgettext("loan schedule", "Total"),
        "",
        "",
        f"{totals['principal']:,}",
        f"{totals['interest']:,}",
        f"{totals['total']:,}",
        "",
    ]
    widths = [max(_width(row[column]) for row in [header, *rows, total_row]) for column in range(len(header))]
    rule = "  ".join("-" * width for width in widths)
    lines = [heading, "", _line(header, widths), rule, *(_line(row, widths) for row in rows), rule]
    lines.append(_line(total_row, widths))
    return "\n".join(lines)


def _line(cells: list[str], widths: list[int]) -> str:
    # Dates and the label column read left to right; amounts line up on the right.
    parts = []
    for column, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        pad = " " * (width - _width(cell))
        parts.append(cell + pad if column in (1, 2) else pad + cell)
    return "  ".join(parts).rstrip()


def _width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
