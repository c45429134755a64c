"""Keep each contract's collection state as of the business date: outstanding, overdue principal and interest,
penalty unpaid, days past due, overdue since, next due date, and closing a loan paid off.

The definitions are loans/state.py's (one contract at a time, for services); this is the same arithmetic over sets.
Only contracts whose state can have moved since the last end-of-day are read — those with an instalment unpaid and
due by the date (the unpaid-instalment index), with overdue amounts, penalty or days past due on record, whose next due
date has come, or whose state was never computed — their instalments are summed by one GROUP BY per chunk, and only
the contracts whose figures differ are written. A second run reads the same contracts and writes none.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Max, Min, Q, QuerySet, Sum, Value, When

from rmdesk.loans.choices import LoanStatus
from rmdesk.loans.models import Instalment, LoanContract
from rmdesk.postloan.jobs import _sql
from rmdesk.postloan.jobs.common import (
    DATES_PER_QUERY,
    UNPAID,
    Counts,
    CustomerRange,
    chunks,
    fen,
    from_fen,
    unpaid_due_dates,
)

ONE_DAY = timedelta(days=1)
STATE_COLUMNS = (
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


# Candidates beyond this share of the range's active contracts (a bank's first end-of-day, when no state was ever
# computed) are summed by one GROUP BY over the range's unpaid instalments instead of id lists: one pass over the
# table beats tens of id lists that each make PostgreSQL scan it (and SQLite probe the index row by row).
WHOLE_RANGE_SHARE = 0.25
# Contract ids per GROUP BY: PostgreSQL scans the table for a long IN list whatever its length, so fewer and longer
# (within its 65,535 parameters); SQLite probes the (contract, due date) index for each id.
IDS_PER_QUERY = {"postgresql": 20_000}
IDS_PER_QUERY_DEFAULT = 5000


def candidates(on: date, customers: CustomerRange) -> list[int]:
    """The active contracts whose state may differ from what is recorded as of `on`."""
    recorded = (
        LoanContract.objects.filter(customers.q(), status=LoanStatus.ACTIVE)
        .filter(
            Q(days_past_due__gt=0)
            | Q(overdue_principal__gt=0)
            | Q(overdue_interest__gt=0)
            | Q(penalty_unpaid__gt=0)
            | Q(next_due_date__isnull=True)
            | Q(next_due_date__lte=on)
            | Q(outstanding_principal=0)
        )
        .values_list("pk", flat=True)
        .order_by()
    )
    ids = set(recorded)
    # Contracts with an instalment unpaid and due by `on`, date by date over the unpaid index (not DISTINCT: SQLite
    # would then walk the whole (contract, due date) index instead).
    with_dues = Instalment.objects.filter(UNPAID, customers.q()).order_by()
    due_ids: set[int] = set()
    for dates in chunks(unpaid_due_dates(through=on), DATES_PER_QUERY):
        due_ids.update(with_dues.filter(due_date__in=dates).values_list("contract_id", flat=True))
    for chunk in chunks(sorted(due_ids - ids)):
        ids.update(LoanContract.objects.filter(pk__in=chunk, status=LoanStatus.ACTIVE).values_list("pk", flat=True))
    return sorted(ids)


def run(*, on: date, customers: CustomerRange) -> Counts:
    """Recompute the range's contracts that may have moved; counts those read, changed and closed."""
    ids = candidates(on, customers)
    counts = {"contracts": len(ids), "changed": 0, "closed": 0}
    active = LoanContract.objects.filter(customers.q(), status=LoanStatus.ACTIVE).count()
    whole: dict[int, tuple[Any, ...]] | None = None
    if len(ids) > WHOLE_RANGE_SHARE * active:
        whole = _sums(Instalment.objects.filter(UNPAID, customers.q()), on)
    size = IDS_PER_QUERY.get(connection.vendor, IDS_PER_QUERY_DEFAULT)
    for chunk in chunks(ids, size):
        sums = whole if whole is not None else _sums(Instalment.objects.filter(UNPAID, contract_id__in=chunk), on)
        changed, closed = _refresh_chunk(list(chunk), on, sums)
        counts["changed"] += changed
        counts["closed"] += closed
    return counts


def _sums(unpaid: QuerySet[Instalment], on: date) -> dict[int, tuple[Any, ...]]:
    """Per contract with unpaid instalments, over those only (a paid one owes nothing and has no due date to come):
    outstanding, overdue principal and interest, penalty unpaid (fen), oldest due date with principal or interest
    unpaid before `on`, next due date."""
    overdue = Q(due_date__lt=on)
    unpaid_due = overdue & (Q(principal_due__gt=F("principal_paid")) | Q(interest_due__gt=F("interest_paid")))
    principal = fen(F("principal_due") - F("principal_paid"))
    interest = fen(F("interest_due") - F("interest_paid"))
    penalty = fen(F("penalty_accrued") - F("penalty_paid") + F("compound_accrued") - F("compound_paid"))
    rows = (
        unpaid.order_by()
        .values("contract_id")
        .annotate(
            outstanding=Sum(principal),
            overdue_principal=Sum(Case(When(overdue, then=principal), default=Value(0), output_field=IntegerField())),
            overdue_interest=Sum(Case(When(overdue, then=interest), default=Value(0), output_field=IntegerField())),
            penalty=Sum(penalty),
            oldest=Min(Case(When(unpaid_due, then=F("due_date")))),
            next_due=Min(Case(When(due_date__gte=on, then=F("due_date")))),
        )
        .values_list(
            "contract_id", "outstanding", "overdue_principal", "overdue_interest", "penalty", "oldest", "next_due"
        )
    )
    return {row[0]: row[1:] for row in rows}


def _last_paid(ids: list[int]) -> dict[int, date | None]:
    """Of contracts without an unpaid instalment, those that have instalments (all paid): the day the last was paid."""
    if not ids:
        return {}
    rows = Instalment.objects.filter(contract_id__in=ids).order_by().values("contract_id").annotate(last=Max("paid_on"))
    return {row["contract_id"]: row["last"] for row in rows}


def _refresh_chunk(ids: list[int], on: date, sums: dict[int, tuple[Any, ...]]) -> tuple[int, int]:
    paid_off = _last_paid([pk for pk in ids if pk not in sums])
    with transaction.atomic():
        recorded = LoanContract.objects.filter(pk__in=ids, status=LoanStatus.ACTIVE).values_list(
            "pk",
            fen("outstanding_principal"),
            fen("overdue_principal"),
            fen("overdue_interest"),
            fen("penalty_unpaid"),
            "days_past_due",
            "overdue_since",
            "next_due_date",
            "status",
            "closed_on",
        )
        writes = []
        closed = 0
        for pk, *before in recorded:
            if pk in sums:
                outstanding, overdue_p, overdue_i, penalty, oldest, next_due = sums[pk]
                status, closed_on = LoanStatus.ACTIVE, None
            elif pk in paid_off:
                # Every instalment paid, so nothing at all is owed: the loan closes on the day its last was paid.
                outstanding, overdue_p, overdue_i, penalty, oldest, next_due = 0, 0, 0, 0, None, None
                status, closed_on = LoanStatus.CLOSED, paid_off[pk] or on
                closed += 1
            else:
                continue  # no instalment yet (not drawn): nothing to say about it
            after = [
                outstanding,
                overdue_p,
                overdue_i,
                penalty,
                (on - oldest).days if oldest is not None else 0,
                oldest + ONE_DAY if oldest is not None else None,
                next_due,
                status,
                closed_on,
            ]
            if after != list(before):
                writes.append((pk, *(from_fen(value) for value in after[:4]), *after[4:]))
        _sql.update_rows(LoanContract, STATE_COLUMNS, writes)
    return len(writes), closed
