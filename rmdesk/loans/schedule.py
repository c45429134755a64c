"""The loan schedule engine: the exact per-loan reference (Decimal amounts, exact rationals where Decimal would round).

Pure (no Django); `schedule_fen` is the vectorised kernel that must agree with it to the fen. Conventions (issue 6,
domain.md §5):

- Amounts are yuan with two places; every rounding is ROUND_HALF_UP to the fen, once per amount, on the exact value.
  Rates are annual percentages with up to six places.
- 等额本息 annuity and 等额本金 equal principal: period k is scheduled on `add_months(start, k)` — the drawdown's day of
  month, clamped to the month's end, always counted from the drawdown (31 Jan → 28/29 Feb → 31 Mar). Period interest
  is balance × rate / 100 / 12 computed exactly and rounded once; the monthly rate itself is never rounded. The annuity
  instalment A = P·r·(1+r)^n / ((1+r)^n − 1) is computed in exact rationals and rounded to the fen (r = 0: P / n);
  equal principal repays P / n rounded. A period's principal is the instalment less its interest (annuity) or the
  equal part, but never more than the balance left: for tiny amounts over long terms the rounded part can exceed
  P / n, and the balance must not go below zero. The last period repays the whole remaining balance, so principal
  sums exactly to the amount.
- 按月付息/按季付息,到期还本: interest falls on the 结息日 `interest_day` (default the 20th) of every month, or of
  March/June/September/December, strictly after the drawdown and strictly before maturity, for the actual days since
  the previous interest date (or the drawdown) × rate / 100 / 360; the last period runs to maturity and carries the
  principal. There is no zero-day period: an interest date on the drawdown or on maturity is no period of its own.
- 一次性还本付息: one period at maturity, principal + principal × rate / 100 / 360 × actual days.
- Maturity is the drawdown plus the term in months (same day, clamped).
- The due date is the scheduled date rolled to the next working day by the calendar (None: no roll); amounts are
  computed on scheduled dates and never change with the roll. A due date the holiday data does not reach rolled over
  weekends only and is marked provisional, to be recomputed when new holiday data arrives.
- Rate changes (LPR repricing; each rate applies from its date on): the monthly methods use, for a whole period, the
  rate in effect on the period's first day (the previous scheduled date, or the drawdown); the annuity instalment is
  recomputed over the remaining periods on the remaining balance whenever that rate differs from the one the current
  instalment was computed at. The actual-day methods split a period's days by the rate in effect on each day:
  interest = balance × Σ(rate_i × days_i) / 100 / 360, rounded once.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from calendar import isleap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal
from enum import StrEnum
from fractions import Fraction

from rmdesk.core.workdays import WorkingDays

MAX_RATE_PCT = Decimal(36)
RATE_PLACES = 6
MAX_MONTHS = 600
MAX_PRINCIPAL = Decimal("10000000000000.00")  # 10 trillion yuan: far above any loan, and keeps every product exact
_FEN = Decimal("0.01")
# Products have at most 16 + 8 + 5 digits (principal in fen, rate, days): exact in 60 digits, and quotients are far
# closer to their exact value than any value that is not a half-fen tie is to one.
_EXACT = Context(prec=60)
_MONTHS_PER_YEAR = 12
_DAYS_PER_YEAR = 360
_MONTH_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def gettext_noop(message: str) -> str:
    """Marks a message for translation without translating it here (no Django in a kernel); Django's makemessages
    collects calls of this name, and the edge translates `ScheduleError.message` with gettext."""
    return message


class Method(StrEnum):
    ANNUITY = "annuity"  # 等额本息
    EQUAL_PRINCIPAL = "equal-principal"  # 等额本金
    INTEREST_MONTHLY = "interest-monthly"  # 按月付息,到期还本
    INTEREST_QUARTERLY = "interest-quarterly"  # 按季付息,到期还本
    BULLET = "bullet"  # 一次性还本付息


MONTHLY_RATE_METHODS = frozenset({Method.ANNUITY, Method.EQUAL_PRINCIPAL})


@dataclass(frozen=True)
class RateChange:
    """An annual rate in effect from a date on (LPR repricing)."""

    effective_from: date
    annual_rate_pct: Decimal


@dataclass(frozen=True)
class LoanTerms:
    """What a schedule is computed from."""

    principal: Decimal
    annual_rate_pct: Decimal
    months: int
    method: Method
    start: date
    interest_day: int = 20  # 结息日 of the interest-only methods
    rate_changes: tuple[RateChange, ...] = ()  # sorted by effective_from


@dataclass(frozen=True)
class Period:
    """One instalment: what falls due when, and the balance left after it."""

    number: int
    scheduled_date: date
    due_date: date
    principal: Decimal
    interest: Decimal
    balance: Decimal
    due_date_provisional: bool  # the due date lies beyond the holiday data and rolled over weekends only

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest


class ScheduleError(ValueError):
    """Terms no schedule can be computed from; `field` names the bad input, `message` % `params` says why in English
    and `gettext(message) % params` in the user's language."""

    def __init__(self, field: str, message: str, **params: object) -> None:
        self.field = field
        self.message = message
        self.params: Mapping[str, object] = params
        super().__init__(f"{field}: {message % params}")


def add_months(day: date, months: int, *, day_of_month: int | None = None) -> date:
    """The same day of month (or `day_of_month`) `months` months on, clamped to the month's end."""
    year, month0 = divmod(day.month - 1 + months, _MONTHS_PER_YEAR)
    year += day.year
    wanted = day.day if day_of_month is None else day_of_month
    return date(year, month0 + 1, min(wanted, _days_in_month(year, month0 + 1)))


def maturity_date(start: date, months: int) -> date:
    """Drawdown plus the term: the same day `months` months on, clamped to the month's end."""
    return add_months(start, months)


def validate_terms(terms: LoanTerms) -> None:
    """Raise ScheduleError naming the first input no schedule can be computed from."""
    principal = terms.principal
    if not _is_finite_decimal(principal):
        raise ScheduleError("principal", gettext_noop("The amount must be a number."))
    if principal <= 0:
        raise ScheduleError("principal", gettext_noop("The amount must be more than zero."))
    if _places(principal) > 2:
        raise ScheduleError("principal", gettext_noop("The amount must not have more than two decimal places."))
    if principal > MAX_PRINCIPAL:
        raise ScheduleError(
            "principal", gettext_noop("The amount must not exceed %(maximum)s."), maximum=f"{MAX_PRINCIPAL:,}"
        )
    _validate_rate("annual_rate_pct", terms.annual_rate_pct)
    if not isinstance(terms.months, int) or isinstance(terms.months, bool) or not 1 <= terms.months <= MAX_MONTHS:
        raise ScheduleError(
            "months",
            gettext_noop("The term must be a whole number of months from 1 to %(maximum)s, not %(value)s."),
            maximum=MAX_MONTHS,
            value=terms.months,
        )
    try:
        Method(terms.method)
    except ValueError:
        raise ScheduleError(
            "method",
            gettext_noop("The repayment method must be one of %(choices)s, not %(value)s."),
            choices=", ".join(Method),
            value=terms.method,
        ) from None
    if not isinstance(terms.start, date):
        raise ScheduleError("start", gettext_noop("The drawdown date must be a date."))
    if terms.start.year + (terms.months + 11) // _MONTHS_PER_YEAR > date.max.year - 1:
        raise ScheduleError("start", gettext_noop("The loan would mature beyond the year 9998."))
    if not isinstance(terms.interest_day, int) or not 1 <= terms.interest_day <= 28:
        raise ScheduleError(
            "interest_day",
            gettext_noop("The interest day must be a day of the month from 1 to 28, not %(value)s."),
            value=terms.interest_day,
        )
    previous: date | None = None
    for change in terms.rate_changes:
        _validate_rate("rate_changes", change.annual_rate_pct)
        if previous is not None and change.effective_from <= previous:
            raise ScheduleError("rate_changes", gettext_noop("Rate changes must be in date order, one per date."))
        previous = change.effective_from


def build_schedule(terms: LoanTerms, *, calendar: WorkingDays | None = None) -> list[Period]:
    """The loan's periods from the first to maturity; due dates rolled by `calendar` (None: due on the scheduled
    date)."""
    validate_terms(terms)
    method = Method(terms.method)
    rates = _RateTimeline(terms.annual_rate_pct, terms.rate_changes)
    if method in MONTHLY_RATE_METHODS:
        rows = _monthly_rate_rows(terms, method, rates)
    else:
        rows = _actual_day_rows(terms, method, rates)
    periods = []
    for number, (scheduled, principal, interest, balance) in enumerate(rows, start=1):
        due = scheduled if calendar is None else calendar.roll_forward(scheduled)
        provisional = calendar is not None and not (calendar.covers(scheduled) and calendar.covers(due))
        periods.append(Period(number, scheduled, due, principal, interest, balance, provisional))
    return periods


def annuity_instalment(principal: Decimal, annual_rate_pct: Decimal, periods: int) -> Decimal:
    """A = P·r·(1+r)^n / ((1+r)^n − 1) with r the exact monthly rate, rounded half-up to the fen (r = 0: P / n)."""
    amount = Fraction(principal)
    if annual_rate_pct == 0:
        return _round_fraction(amount / periods)
    rate = Fraction(annual_rate_pct) / (100 * _MONTHS_PER_YEAR)
    growth = (1 + rate) ** periods
    return _round_fraction(amount * rate * growth / (growth - 1))


def monthly_interest(balance: Decimal, annual_rate_pct: Decimal) -> Decimal:
    """balance × rate / 100 / 12, rounded once."""
    return _to_fen(_EXACT.divide(_EXACT.multiply(balance, annual_rate_pct), Decimal(100 * _MONTHS_PER_YEAR)))


def interest_dates(start: date, maturity: date, interest_day: int, *, quarterly: bool) -> list[date]:
    """The 结息日 strictly after the drawdown and strictly before maturity."""
    step = 3 if quarterly else 1
    month = start.month + (-start.month) % 3 if quarterly else start.month  # the first quarter-end month not before
    day = date(start.year, month, interest_day)
    if day <= start:
        day = add_months(day, step)
    dates = []
    while day < maturity:
        dates.append(day)
        day = add_months(day, step)
    return dates


def _monthly_rate_rows(
    terms: LoanTerms, method: Method, rates: _RateTimeline
) -> list[tuple[date, Decimal, Decimal, Decimal]]:
    balance = _to_fen(terms.principal)  # "1000000" prints as 1000000.00 in every row
    n = terms.months
    equal_part = _round_fraction(Fraction(terms.principal) / n)
    instalment = Decimal(0)
    instalment_rate: Decimal | None = None
    period_start = terms.start
    rows = []
    for k in range(1, n + 1):
        scheduled = add_months(terms.start, k)
        rate = rates.at(period_start)
        interest = monthly_interest(balance, rate)
        if k == n:
            principal = balance
        elif method is Method.ANNUITY:
            if rate != instalment_rate:
                instalment, instalment_rate = annuity_instalment(balance, rate, n - k + 1), rate
            principal = min(instalment - interest, balance)
        else:
            principal = min(equal_part, balance)
        balance -= principal
        rows.append((scheduled, principal, interest, balance))
        period_start = scheduled
    return rows


def _actual_day_rows(
    terms: LoanTerms, method: Method, rates: _RateTimeline
) -> list[tuple[date, Decimal, Decimal, Decimal]]:
    maturity = maturity_date(terms.start, terms.months)
    if method is Method.BULLET:
        ends = [maturity]
    else:
        quarterly = method is Method.INTEREST_QUARTERLY
        ends = [*interest_dates(terms.start, maturity, terms.interest_day, quarterly=quarterly), maturity]
    zero = Decimal("0.00")
    principal = _to_fen(terms.principal)
    rows = []
    period_start = terms.start
    for end in ends:
        rate_days = rates.rate_days(period_start, end)
        interest = _to_fen(_EXACT.divide(_EXACT.multiply(principal, rate_days), Decimal(100 * _DAYS_PER_YEAR)))
        last = end == maturity
        rows.append((end, principal if last else zero, interest, zero if last else principal))
        period_start = end
    return rows


class _RateTimeline:
    """The annual rate in effect on each day: the contract rate, then each change from its date on."""

    def __init__(self, initial: Decimal, changes: tuple[RateChange, ...]) -> None:
        self._initial = initial
        self._dates = [change.effective_from for change in changes]
        self._rates = [change.annual_rate_pct for change in changes]

    def at(self, day: date) -> Decimal:
        index = bisect_right(self._dates, day)
        return self._initial if index == 0 else self._rates[index - 1]

    def rate_days(self, first: date, end: date) -> Decimal:
        """Σ rate × days over the days from `first` up to, not including, `end`."""
        if not self._dates:
            return self._initial * (end - first).days
        total = Decimal(0)
        segment_start = first
        rate = self.at(first)
        for index in range(bisect_right(self._dates, first), len(self._dates)):
            change = self._dates[index]
            if change >= end:
                break
            total += rate * (change - segment_start).days
            segment_start, rate = change, self._rates[index]
        return total + rate * (end - segment_start).days


def _days_in_month(year: int, month: int) -> int:
    return 29 if month == 2 and isleap(year) else _MONTH_DAYS[month - 1]


def _validate_rate(field: str, rate: Decimal) -> None:
    if not _is_finite_decimal(rate):
        raise ScheduleError(field, gettext_noop("The rate must be a number."))
    if not 0 <= rate <= MAX_RATE_PCT:
        raise ScheduleError(
            field,
            gettext_noop("The annual rate must be from 0 to %(maximum)s percent, not %(value)s."),
            maximum=MAX_RATE_PCT,
            value=rate,
        )
    if _places(rate) > RATE_PLACES:
        raise ScheduleError(
            field,
            gettext_noop("The rate must not have more than %(places)s decimal places."),
            places=RATE_PLACES,
        )


def _is_finite_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite values have an integer exponent
    return max(0, -exponent)


def _to_fen(value: Decimal) -> Decimal:
    return value.quantize(_FEN, rounding=ROUND_HALF_UP, context=_EXACT)


def _round_fraction(value: Fraction) -> Decimal:
    """An exact non-negative amount in yuan, rounded half-up to the fen."""
    return Decimal(math.floor(value * 100 + Fraction(1, 2))).scaleb(-2, context=_EXACT)
