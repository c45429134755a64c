"""Repricing a floating loan on its repricing date (called by the end-of-day batch)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db import transaction

from rmdesk.audit.services import record
from rmdesk.loans import rates
from rmdesk.loans.choices import LoanStatus, ScheduleSource
from rmdesk.loans.models import Drawdown, Instalment, LoanContract
from rmdesk.loans.schedule import RateChange
from rmdesk.loans.services.checks import ONE_DAY
from rmdesk.loans.services.schedules import drawdown_periods, period_rates
from rmdesk.org.models import User


@dataclass(frozen=True)
class RepriceResult:
    """What repricing one contract changed, for the batch's counts."""

    contract_id: int
    old_rate_pct: Decimal
    new_rate_pct: Decimal
    next_repricing_on: date | None
    instalments_changed: int

    @property
    def rate_changed(self) -> bool:
        return self.old_rate_pct != self.new_rate_pct


@transaction.atomic
def reprice(contract: LoanContract | int, on: date, actor: User | None = None) -> RepriceResult:
    """Reset a floating loan's rate on its repricing date `on` to the LPR in force then plus the spread, and move
    `next_repricing_on` to the next one. The engine's schedule is rebuilt from `on`: unpaid instalments not yet begun
    take the new rate, those paid or begun before `on` keep theirs. A schedule from the core banking system is its
    book of record and is left alone (only the rate is noted). The end-of-day batch calls this with no actor and
    records one audit event per run; a person's call records its own."""
    contract_id = contract.pk if isinstance(contract, LoanContract) else contract
    loan = LoanContract.objects.select_for_update().get(pk=contract_id)
    old_rate = loan.current_rate_pct
    if not loan.is_floating or loan.status == LoanStatus.CLOSED:
        return RepriceResult(loan.pk, old_rate, old_rate, loan.next_repricing_on, 0)
    assert loan.lpr_spread_bp is not None
    new_rate = rates.floating_rate(rates.lpr_on(rates.tenor_of(loan), on), loan.lpr_spread_bp)
    next_on = rates.next_repricing_date(loan, on)
    changed = 0
    if new_rate != old_rate and loan.schedule_source == ScheduleSource.RMDESK:
        changed = _rebuild_schedule(loan, on, new_rate)
    loan.current_rate_pct, loan.next_repricing_on = new_rate, next_on
    loan.save(update_fields=["current_rate_pct", "next_repricing_on", "updated_at"])
    if actor is not None:
        record(
            actor=actor,
            action="loan.reprice",
            obj=loan,
            customer_id=loan.customer_id,
            changes={"on": on, "current_rate_pct": [old_rate, new_rate], "instalments_changed": changed},
        )
    return RepriceResult(loan.pk, old_rate, new_rate, next_on, changed)


def _rebuild_schedule(loan: LoanContract, on: date, new_rate: Decimal) -> int:
    """Recompute each drawdown's instalments scheduled after `on` that nothing has been paid on; how many changed."""
    updated: list[Instalment] = []
    for drawdown in Drawdown.objects.filter(contract=loan).order_by("number"):
        if drawdown.drawn_on >= on:
            # Drawn on or after the repricing date: already at a rate from on or after it (add_drawdown's history).
            continue
        initial, changes = rates.rate_history(loan, since=drawdown.drawn_on, through=on - ONE_DAY)
        current = changes[-1].annual_rate_pct if changes else initial
        if new_rate != current:
            changes = (*changes, RateChange(effective_from=on, annual_rate_pct=new_rate))
        periods = drawdown_periods(loan, drawdown, changes)
        rates_by_number = dict(
            zip(
                (p.number for p in periods),
                period_rates(drawdown.drawn_on, initial, changes, periods),
                strict=True,
            )
        )
        by_number = {p.number: p for p in periods}
        rows = Instalment.objects.filter(drawdown=drawdown, scheduled_date__gt=on).order_by("number")
        for row in rows:
            period = by_number.get(row.number)
            if period is None or _anything_paid(row):
                continue
            fresh = (period.principal, period.interest, rates_by_number[row.number], period.due_date)
            if fresh == (row.principal_due, row.interest_due, row.rate_pct, row.due_date):
                continue
            row.principal_due, row.interest_due, row.rate_pct, row.due_date = fresh
            row.due_date_provisional = period.due_date_provisional
            updated.append(row)
    Instalment.objects.bulk_update(
        updated, ["principal_due", "interest_due", "rate_pct", "due_date", "due_date_provisional"], batch_size=500
    )
    return len(updated)


def _anything_paid(row: Instalment) -> bool:
    return bool(row.principal_paid or row.interest_paid or row.fee_paid or row.penalty_paid or row.compound_paid)
