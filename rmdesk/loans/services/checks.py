"""Checks of loan input shared by the services and the core feed: amounts, rates, choices and texts, each a field
error in the user's language."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.loans.models import MAX_RATE_PCT
from rmdesk.loans.schedule import MAX_PRINCIPAL, RATE_PLACES, ScheduleError, add_months

ONE_DAY = timedelta(days=1)
# The schedule engine's names for its inputs → the names callers gave them.
SCHEDULE_FIELDS = {
    "principal": "amount",
    "annual_rate_pct": "fixed_rate_pct",
    "rate_changes": "lpr_spread_bp",
    "months": "term_months",
    "method": "repayment_method",
    "start": "start_date",
    "interest_day": "interest_day",
}


class Errors:
    """Collects every field error of a request, so one answer names them all."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, []).append(message)

    def __contains__(self, field: str) -> bool:
        return field in self.fields

    def raise_any(self) -> None:
        if self.fields:
            raise ValidationError(self.fields)


def parse_amount(value: Decimal | str | int | None, field: str, errors: Errors, *, required: bool = True) -> Decimal:
    """An amount in yuan, more than zero, to the fen at most; a field error otherwise."""
    if value is None or value == "":
        if required:
            errors.add(field, _("Enter an amount."))
        return Decimal(0)
    if isinstance(value, float):
        errors.add(field, _("Give the amount as a decimal string, e.g. “1250000.00”."))
        return Decimal(0)
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        errors.add(field, _("Enter an amount, e.g. 1250000.00."))
        return Decimal(0)
    if not amount.is_finite():
        errors.add(field, _("Enter an amount, e.g. 1250000.00."))
    elif amount <= 0:
        errors.add(field, _("The amount must be more than zero."))
    elif amount != amount.quantize(Decimal("0.01")):
        errors.add(field, _("Enter an amount with at most 2 decimal places."))
    elif amount > MAX_PRINCIPAL:
        errors.add(field, _("The amount must not exceed %(maximum)s.") % {"maximum": f"{MAX_PRINCIPAL:,}"})
    else:
        return amount.quantize(Decimal("0.01"))
    return Decimal(0)


def parse_rate(value: Decimal | str | int | None, field: str, errors: Errors) -> Decimal | None:
    """An annual rate in percent, from 0 to 36, with at most six decimals."""
    if value is None or value == "":
        errors.add(field, _("Enter the annual rate in percent, e.g. 3.45."))
        return None
    if isinstance(value, float):
        errors.add(field, _("Give the rate as a decimal string, e.g. “3.45”."))
        return None
    try:
        rate = Decimal(str(value).strip().removesuffix("%"))
    except InvalidOperation:
        errors.add(field, _("Enter the annual rate in percent, e.g. 3.45."))
        return None
    if not rate.is_finite():
        errors.add(field, _("Enter the annual rate in percent, e.g. 3.45."))
    elif not 0 <= rate <= MAX_RATE_PCT:
        errors.add(
            field,
            _("The annual rate must be from 0 to %(maximum)s percent, not %(value)s.")
            % {"maximum": MAX_RATE_PCT, "value": rate},
        )
    elif rate != rate.quantize(Decimal(1).scaleb(-RATE_PLACES)):
        errors.add(field, _("The rate must not have more than %(places)s decimal places.") % {"places": RATE_PLACES})
    else:
        return rate
    return None


def check_choice(value: str, choices: Any, field: str, errors: Errors) -> str:
    if value not in choices.values:
        errors.add(
            field,
            _("“%(value)s” is not one of: %(choices)s.")
            % {"value": value, "choices": ", ".join(str(v) for v in choices.values)},
        )
    return value


def check_text(value: str | None, field: str, max_length: int, errors: Errors, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        errors.add(field, _("This field is required."))
    elif "\x00" in text:
        errors.add(field, _("Null characters are not allowed."))
    elif len(text) > max_length:
        errors.add(
            field,
            _("Ensure this value has at most %(limit)d characters (it has %(count)d).")
            % {"limit": max_length, "count": len(text)},
        )
    return text


def schedule_error_fields(error: ScheduleError, *, floating: bool = False) -> dict[str, list[str]]:
    """The engine's error as a field error under the caller's name for that input, in the user's language."""
    field = SCHEDULE_FIELDS.get(error.field, error.field)
    if field == "fixed_rate_pct" and floating:
        field = "lpr_spread_bp"
    return {field: [_(error.message) % dict(error.params)]}


def months_to(drawn_on: date, maturity: date) -> int:
    """The whole months from a drawdown to the contract's maturity: the most whose end is on or before maturity."""
    months = (maturity.year - drawn_on.year) * 12 + maturity.month - drawn_on.month
    while months > 0 and add_months(drawn_on, months) > maturity:
        months -= 1
    return months


def today() -> date:
    return timezone.localdate()
