"""Engine schedules of drawdowns: the schedule kernel (`loans.schedule`) at the contract's rates, with due dates rolled
by the bank's calendar, as unsaved Instalment rows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from rmdesk.loans import rates
from rmdesk.loans.due_dates import bank_calendar
from rmdesk.loans.models import Drawdown, Instalment, LoanContract
from rmdesk.loans.schedule import LoanTerms, Method, Period, RateChange, build_schedule


def drawdown_periods(contract: LoanContract, drawdown: Drawdown, changes: tuple[RateChange, ...]) -> list[Period]:
    """The engine's schedule of one drawdown, at the rate in force when drawn and the rate changes given."""
    initial = rates.contract_rate_on(contract, drawdown.drawn_on)
    terms = LoanTerms(
        principal=drawdown.amount,
        annual_rate_pct=initial,
        months=drawdown.months,
        method=Method(contract.repayment_method),
        start=drawdown.drawn_on,
        interest_day=contract.interest_day,
        rate_changes=changes,
    )
    return build_schedule(terms, calendar=bank_calendar())


def period_rates(
    drawn_on: date, initial: Decimal, changes: tuple[RateChange, ...], periods: list[Period]
) -> list[Decimal]:
    """The rate in force on each period's first day (the drawdown, or the previous scheduled date)."""
    result = []
    first_day = drawn_on
    for period in periods:
        rate = initial
        for change in changes:
            if change.effective_from <= first_day:
                rate = change.annual_rate_pct
        result.append(rate)
        first_day = period.scheduled_date
    return result


def instalments_of(contract: LoanContract, drawdown: Drawdown, *, through: date) -> list[Instalment]:
    """Unsaved instalments of a drawdown computed by the engine, with the repricings up to `through`."""
    initial, changes = rates.rate_history(contract, since=drawdown.drawn_on, through=through)
    periods = drawdown_periods(contract, drawdown, changes)
    return [
        Instalment(
            contract=contract,
            drawdown=drawdown,
            customer_id=contract.customer_id,
            number=period.number,
            scheduled_date=period.scheduled_date,
            due_date=period.due_date,
            due_date_provisional=period.due_date_provisional,
            rate_pct=rate,
            principal_due=period.principal,
            interest_due=period.interest,
        )
        for period, rate in zip(periods, period_rates(drawdown.drawn_on, initial, changes, periods), strict=True)
    ]
