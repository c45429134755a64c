"""A loan's collection state as of a business date, recomputed from its instalments (ORM, for a list of contracts).

The definitions are those of the loans work (issue 6) and must stay identical to the end-of-day batch's set-based
version; tests/loans/test_services_state.py checks them one by one. As of business date D:

- an instalment is PAID when its fees, interest, principal, penalty and compound interest are all paid (a period with
  nothing due at all, from its due date on); else OVERDUE when its due date is before D; else DUE when it falls due
  on D; else SCHEDULED. An overdue instalment is overdue since the day after its due date. (A paid instalment keeps
  the `overdue_since` it had: it says it was paid late.)
- outstanding principal = Σ principal unpaid of all instalments; overdue principal and interest = Σ principal and
  interest unpaid of the instalments due before D; penalty unpaid = Σ penalty and compound accrued but unpaid;
- days past due = D − the due date of the oldest instalment due before D with principal or interest unpaid (0 if
  none), and the contract is overdue since the day after that due date;
- next due date = the earliest due date on or after D of an instalment not paid;
- the contract closes (on the day its last instalment was paid) when it has instalments, nothing at all is owed and
  every one is paid. Nothing here reopens a closed loan: only the core banking feed, the book of record, does that.

The classification proposal is the batch's (postloan): it depends on these days past due but also on settings and on
the confirmed classification.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from rmdesk.loans.choices import InstalmentStatus, LoanStatus
from rmdesk.loans.models import ZERO, Instalment, LoanContract

ONE_DAY = timedelta(days=1)
# Rows read per query: the ids go into an IN list, far below SQLite's 32,766 parameters.
CHUNK = 2000
STATE_FIELDS = (
    "outstanding_principal",
    "overdue_principal",
    "overdue_interest",
    "penalty_unpaid",
    "days_past_due",
    "overdue_since",
    "next_due_date",
    "status",
    "closed_on",
)


@dataclass(frozen=True)
class ContractState:
    """The summary fields of one contract as of a date."""

    outstanding_principal: Decimal
    overdue_principal: Decimal
    overdue_interest: Decimal
    penalty_unpaid: Decimal
    days_past_due: int
    overdue_since: date | None
    next_due_date: date | None
    paid_off_on: date | None  # the day the last instalment was paid, when nothing at all is owed any more


def is_paid(instalment: Instalment) -> bool:
    """Fees, interest, principal, penalty and compound interest all paid."""
    return (
        instalment.fee_due == instalment.fee_paid
        and instalment.interest_due == instalment.interest_paid
        and instalment.principal_due == instalment.principal_paid
        and instalment.penalty_accrued == instalment.penalty_paid
        and instalment.compound_accrued == instalment.compound_paid
    )


def instalment_status(instalment: Instalment, as_of: date) -> str:
    """The status an instalment has on business date `as_of`."""
    # A period not yet due counts as paid only once paid; one with nothing due at all (interest at a zero rate)
    # becomes PAID on its due date, as the batch's due job marks it.
    if is_paid(instalment) and (instalment.due_date <= as_of or instalment.status == InstalmentStatus.PAID):
        return InstalmentStatus.PAID
    if instalment.due_date < as_of:
        return InstalmentStatus.OVERDUE
    if instalment.due_date == as_of:
        return InstalmentStatus.DUE
    return InstalmentStatus.SCHEDULED


def apply_instalment_status(instalment: Instalment, as_of: date) -> bool:
    """Set the instalment's status and `overdue_since` as of `as_of`; whether anything changed."""
    status = instalment_status(instalment, as_of)
    if status == InstalmentStatus.OVERDUE:
        overdue_since: date | None = instalment.due_date + ONE_DAY
    elif status == InstalmentStatus.PAID:
        overdue_since = instalment.overdue_since
    else:
        overdue_since = None
    if status == instalment.status and overdue_since == instalment.overdue_since:
        return False
    instalment.status, instalment.overdue_since = status, overdue_since
    return True


def contract_state(instalments: Iterable[Instalment], as_of: date) -> ContractState:
    """The summary of a contract's instalments (their statuses already applied as of `as_of`)."""
    outstanding = overdue_principal = overdue_interest = penalty = owed = ZERO
    oldest_unpaid_due: date | None = None
    next_due: date | None = None
    last_paid_on: date | None = None
    all_paid = True
    rows = 0
    for row in instalments:
        rows += 1
        principal_unpaid, interest_unpaid = row.principal_unpaid, row.interest_unpaid
        outstanding += principal_unpaid
        penalty += row.penalty_unpaid
        owed += row.owed
        if row.due_date < as_of:
            overdue_principal += principal_unpaid
            overdue_interest += interest_unpaid
            if (principal_unpaid or interest_unpaid) and (
                oldest_unpaid_due is None or row.due_date < oldest_unpaid_due
            ):
                oldest_unpaid_due = row.due_date
        if row.status == InstalmentStatus.PAID:
            if row.paid_on is not None and (last_paid_on is None or row.paid_on > last_paid_on):
                last_paid_on = row.paid_on
        else:
            all_paid = False
            if row.due_date >= as_of and (next_due is None or row.due_date < next_due):
                next_due = row.due_date
    return ContractState(
        outstanding_principal=outstanding,
        overdue_principal=overdue_principal,
        overdue_interest=overdue_interest,
        penalty_unpaid=penalty,
        days_past_due=(as_of - oldest_unpaid_due).days if oldest_unpaid_due is not None else 0,
        overdue_since=oldest_unpaid_due + ONE_DAY if oldest_unpaid_due is not None else None,
        next_due_date=next_due,
        paid_off_on=(last_paid_on or as_of) if rows and all_paid and owed == 0 else None,
    )


def apply_contract_state(contract: LoanContract, state: ContractState) -> bool:
    """Copy `state` onto the contract (closing it when paid off); whether anything changed."""
    before = tuple(getattr(contract, name) for name in STATE_FIELDS)
    contract.outstanding_principal = state.outstanding_principal
    contract.overdue_principal = state.overdue_principal
    contract.overdue_interest = state.overdue_interest
    contract.penalty_unpaid = state.penalty_unpaid
    contract.days_past_due = state.days_past_due
    contract.overdue_since = state.overdue_since
    contract.next_due_date = state.next_due_date
    if state.paid_off_on is not None and contract.status == LoanStatus.ACTIVE:
        contract.status, contract.closed_on = LoanStatus.CLOSED, state.paid_off_on
    return tuple(getattr(contract, name) for name in STATE_FIELDS) != before


def refresh_contract_state(contract_ids: Iterable[int], as_of: date) -> int:
    """Recompute the instalment statuses and the summary fields of these contracts as of business date `as_of`;
    returns how many contracts changed. The caller holds the transaction (and the contracts' locks, if it races)."""
    ids = sorted(set(contract_ids))
    changed = 0
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        contracts = list(LoanContract.objects.filter(pk__in=chunk).order_by("pk"))
        by_contract: dict[int, list[Instalment]] = defaultdict(list)
        for instalment in Instalment.objects.filter(contract_id__in=chunk).order_by():
            by_contract[instalment.contract_id].append(instalment)
        # One UPDATE per (status, overdue since) rather than bulk_update's CASE per row: a day's changes share a few
        # such pairs, and Django's CASE statements cost far more to build than they save here.
        groups: dict[tuple[str, date | None], list[int]] = defaultdict(list)
        for rows in by_contract.values():
            for row in rows:
                if apply_instalment_status(row, as_of):
                    groups[(row.status, row.overdue_since)].append(row.pk)
        for (status, overdue_since), pks in groups.items():
            for first in range(0, len(pks), CHUNK):
                Instalment.objects.filter(pk__in=pks[first : first + CHUNK]).update(
                    status=status, overdue_since=overdue_since
                )
        for contract in contracts:
            if apply_contract_state(contract, contract_state(by_contract.get(contract.pk, []), as_of)):
                LoanContract.objects.filter(pk=contract.pk).update(
                    **{name: getattr(contract, name) for name in STATE_FIELDS}
                )
                changed += 1
    return changed
