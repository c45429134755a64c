"""Recompute the provisional due dates once the holiday data covers them.

A due date beyond the years chinese-calendar covers rolls over weekends only and is marked provisional
(loans/schedule.py). The State Council publishes a year's holidays late in the year before; when a chinese-calendar
release with them is installed, this job — the first of each end-of-day — rolls every unpaid, not yet due, provisional
instalment again from its scheduled date with the bank's calendar, clears the mark where the new data covers it, and
recomputes the contract's next due date. Amounts never change: interest runs to the scheduled date, not the due date.

Only rows still to fall due move (due date after the business date): a date the batch has already marked due or
overdue stays as it was, no longer provisional. A new date falling on or before the business date — holiday data
installed too late to matter — is set to the business date itself, so nothing becomes overdue retroactively. A second
run finds no provisional row the data covers and changes nothing. Core-fed schedules are never provisional: the core's
dates stand.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from django.db import transaction
from django.db.models import Min

from rmdesk.loans.due_dates import bank_calendar
from rmdesk.loans.models import Instalment
from rmdesk.loans.state import refresh_contract_state
from rmdesk.postloan.jobs.common import UNPAID, Counts, CustomerRange, chunks


def run(*, on: date, customers: CustomerRange) -> Counts:
    """Re-roll the range's provisional due dates the calendar now covers; counts the rows read, moved, confirmed (no
    longer provisional), settled (fallen due already: date kept, no longer provisional) and the contracts touched."""
    counts = {"provisional": 0, "moved": 0, "confirmed": 0, "settled": 0, "contracts": 0}
    calendar = bank_calendar()
    if calendar is None or calendar.covered_ordinals is None:
        return counts  # due dates do not roll, or roll over weekends only: nothing is ever covered
    last_covered = date.fromordinal(calendar.covered_ordinals[1])
    unpaid_provisional = Instalment.objects.filter(UNPAID, customers.q(), due_date_provisional=True).order_by()
    # Provisional rows are many (late in a year, most instalments still to come); those a new release has just
    # covered are the first of the partial index `instalment_provisional` (scheduled date, customer), and on most days
    # there are none. Its first entry says so; then nothing more is read. (A range "scheduled on or before the last
    # covered day" alone, PostgreSQL estimates as a third of the provisional rows and scans the table for it.)
    earliest = unpaid_provisional.aggregate(earliest=Min("scheduled_date"))["earliest"]
    if earliest is None or earliest > last_covered:
        return counts
    # No ORDER BY: SQLite would rather walk the whole table in id order than the index.
    rows = sorted(
        unpaid_provisional.filter(scheduled_date__lte=last_covered).values_list(
            "pk", "contract_id", "scheduled_date", "due_date"
        )
    )
    counts["provisional"] = len(rows)
    # (new due date, still provisional) → instalment ids: one UPDATE per date, as the due job writes.
    changes: dict[tuple[date, bool], list[int]] = defaultdict(list)
    contracts: set[int] = set()
    for pk, contract_id, scheduled, due in rows:
        if due <= on:
            # Fallen due already (a release installed late): the date the batch marked it by stands, and is no
            # longer provisional — so it is not read again each day.
            changes[(due, False)].append(pk)
            counts["settled"] += 1
            continue
        rolled = max(calendar.roll_forward(scheduled), on)
        provisional = not calendar.covers(rolled)
        if provisional and rolled == due:
            continue  # rolls out of the data again (scheduled on 31 December): unchanged until the next release
        changes[(rolled, provisional)].append(pk)
        contracts.add(contract_id)
        counts["moved"] += rolled != due
        counts["confirmed"] += not provisional
    with transaction.atomic():
        for (rolled, provisional), pks in changes.items():
            for chunk in chunks(pks):
                Instalment.objects.filter(pk__in=chunk).update(due_date=rolled, due_date_provisional=provisional)
        refresh_contract_state(contracts, on)
    counts["contracts"] = len(contracts)
    return counts
