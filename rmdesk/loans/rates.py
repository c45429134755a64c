"""Loan rates: the published LPR on a day, a floating contract's rate on a day, and its repricing dates.

A floating loan's rate is the LPR of its tenor plus the spread (basis points), never below zero. It is set on the
first drawdown from the LPR published on or before that day, and reset on each repricing date from the LPR published on
or before that date: every anniversary of the first drawdown (31 January → 28/29 February, as the schedule's months
clamp), or every 1 January — the two rules of the PBoC's 2019 LPR reform that contracts name. A repricing date on or
after maturity is none: the loan is repaid by then.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Protocol

from rmdesk.loans.choices import LprTenor, RateKind, RepricingRule
from rmdesk.loans.models import LprRate
from rmdesk.loans.schedule import RateChange, add_months

BASIS_POINTS_PER_PERCENT = 100
_ONE_DAY = timedelta(days=1)
TENOR_OF_RATE_KIND: dict[str, str] = {RateKind.LPR_1Y: LprTenor.ONE_YEAR, RateKind.LPR_5Y: LprTenor.FIVE_YEAR}


class NoLprPublished(LookupError):
    """No LPR of the tenor was published on or before the day (before the 2019 reform, or a gap in the table)."""

    def __init__(self, tenor: str, day: date) -> None:
        super().__init__(f"no {tenor} LPR published on or before {day}")
        self.tenor = tenor
        self.day = day


class RateTerms(Protocol):
    """What a contract's rate depends on: a LoanContract, or the terms of one not yet saved."""

    @property
    def rate_kind(self) -> str: ...
    @property
    def fixed_rate_pct(self) -> Decimal | None: ...
    @property
    def lpr_spread_bp(self) -> int | None: ...
    @property
    def repricing_rule(self) -> str: ...
    @property
    def start_date(self) -> date: ...
    @property
    def maturity_date(self) -> date: ...


def lpr_on(tenor: str, day: date) -> Decimal:
    """The LPR of `tenor` in force on `day`: the latest published on or before it (NoLprPublished if none)."""
    rate = (
        LprRate.objects.filter(tenor=tenor, published_on__lte=day)
        .order_by("-published_on")
        .values_list("rate_pct", flat=True)
        .first()
    )
    if rate is None:
        raise NoLprPublished(tenor, day)
    return rate


def floating_rate(lpr_pct: Decimal, spread_bp: int) -> Decimal:
    """LPR + spread, never below zero (a large negative spread on a falling LPR must not make interest negative)."""
    return max(Decimal(0), lpr_pct + Decimal(spread_bp) / BASIS_POINTS_PER_PERCENT)


def tenor_of(terms: RateTerms) -> str:
    return TENOR_OF_RATE_KIND[terms.rate_kind]


def is_floating(terms: RateTerms) -> bool:
    return terms.rate_kind != RateKind.FIXED


def repricing_dates(terms: RateTerms, *, after: date, through: date) -> list[date]:
    """The contract's repricing dates in (after, through], before maturity; none for a fixed rate."""
    if not is_floating(terms):
        return []
    last = min(through, terms.maturity_date - _ONE_DAY)
    dates: list[date] = []
    if terms.repricing_rule == RepricingRule.JANUARY_FIRST:
        year = max(after.year + 1, terms.start_date.year + 1)
        while date(year, 1, 1) <= last:
            dates.append(date(year, 1, 1))
            year += 1
        return dates
    years = 1
    while (day := add_months(terms.start_date, 12 * years)) <= last:
        if day > after:
            dates.append(day)
        years += 1
    return dates


def last_repricing_on_or_before(terms: RateTerms, day: date) -> date:
    """The day the rate in force on `day` was set: the first drawdown, or the latest repricing date since."""
    if day <= terms.start_date:
        return terms.start_date
    dates = repricing_dates(terms, after=terms.start_date, through=day)
    return dates[-1] if dates else terms.start_date


def next_repricing_date(terms: RateTerms, after: date) -> date | None:
    """The first repricing date strictly after `after` (None for a fixed rate, or when the loan matures first)."""
    if not is_floating(terms):
        return None
    if terms.repricing_rule == RepricingRule.JANUARY_FIRST:
        candidate = date(max(after.year, terms.start_date.year) + 1, 1, 1)
    else:
        years = max(1, after.year - terms.start_date.year)
        candidate = add_months(terms.start_date, 12 * years)
        while candidate <= after:
            years += 1
            candidate = add_months(terms.start_date, 12 * years)
    return candidate if candidate < terms.maturity_date else None


def contract_rate_on(contract: RateTerms, day: date) -> Decimal:
    """The annual rate in force on `day`: the fixed rate, or the LPR on the last repricing date (or the first
    drawdown) plus the spread. NoLprPublished when the table has no LPR that early."""
    if not is_floating(contract):
        assert contract.fixed_rate_pct is not None  # the loan_rate_terms constraint
        return contract.fixed_rate_pct
    assert contract.lpr_spread_bp is not None
    set_on = last_repricing_on_or_before(contract, day)
    return floating_rate(lpr_on(tenor_of(contract), set_on), contract.lpr_spread_bp)


def rate_history(terms: RateTerms, *, since: date, through: date) -> tuple[Decimal, tuple[RateChange, ...]]:
    """The rate in force on `since` and each change of it on the repricing dates in (since, through]: what the
    schedule engine takes as `annual_rate_pct` and `rate_changes` for a drawdown made on `since`."""
    initial = contract_rate_on(terms, since)
    changes: list[RateChange] = []
    current = initial
    for day in repricing_dates(terms, after=since, through=through):
        rate = contract_rate_on(terms, day)
        if rate != current:
            changes.append(RateChange(effective_from=day, annual_rate_pct=rate))
            current = rate
    return initial, tuple(changes)


def published_lpr(tenor: str | None = None) -> list[LprRate]:
    """The LPR table, newest first (of one tenor, or both)."""
    rates = LprRate.objects.select_related("created_by").order_by("-published_on", "tenor")
    if tenor:
        rates = rates.filter(tenor=tenor)
    return list(rates)
