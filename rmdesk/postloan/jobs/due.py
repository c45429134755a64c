"""Mark instalments DUE and OVERDUE as of the business date (and PAID where everything on them is paid).

Set-based over the unpaid-instalment index (`instalment_unpaid_due`: due date and customer, status not paid), one due
date at a time (common.unpaid_due_dates): only rows due on or before the date are read, never the millions still
scheduled. The statuses are those of
loans/state.py: PAID when fees, interest, principal, penalty and compound are all paid; else OVERDUE when due before
the date (overdue since the day after its due date); else DUE when due on the date.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.db.models import DateField, F, Q, Value
from django.db.models.functions import Coalesce

from rmdesk.loans.choices import InstalmentStatus
from rmdesk.loans.models import Instalment
from rmdesk.postloan.jobs.common import DATES_PER_QUERY, UNPAID, Counts, CustomerRange, chunks, unpaid_due_dates

ONE_DAY = timedelta(days=1)
ALL_PAID = Q(
    fee_paid=F("fee_due"),
    interest_paid=F("interest_due"),
    principal_paid=F("principal_due"),
    penalty_paid=F("penalty_accrued"),
    compound_paid=F("compound_accrued"),
)


def run(*, on: date, customers: CustomerRange) -> Counts:
    """Mark the range's instalments as of `on`; counts the rows whose status changed."""
    unpaid = Instalment.objects.filter(UNPAID, customers.q())
    dates = unpaid_due_dates(through=on)
    stale = ~Q(status=InstalmentStatus.OVERDUE) | Q(overdue_since__isnull=True)
    paid = overdue = 0
    with transaction.atomic():
        for batch in chunks(dates, DATES_PER_QUERY):
            # A repayment marks what it pays off; this catches a row it left (a feed that set the paid amounts itself).
            paid += unpaid.filter(ALL_PAID, due_date__in=batch).update(
                status=InstalmentStatus.PAID, paid_on=Coalesce(F("paid_on"), Value(on), output_field=DateField())
            )
            # Overdue since the day after the due date: one UPDATE per date that has rows to change (on an ordinary
            # day only yesterday's), so no date arithmetic in SQL, which SQLite and PostgreSQL spell differently.
            past = [day for day in batch if day < on]
            for day in sorted(
                set(unpaid.filter(stale, due_date__in=past).order_by().values_list("due_date", flat=True))
            ):
                overdue += unpaid.filter(stale, due_date=day).update(
                    status=InstalmentStatus.OVERDUE, overdue_since=day + ONE_DAY
                )
        due = (
            unpaid.filter(due_date=on)
            .filter(~Q(status=InstalmentStatus.DUE) | Q(overdue_since__isnull=False))
            .update(status=InstalmentStatus.DUE, overdue_since=None)
        )
    return {"paid": paid, "due": due, "overdue": overdue}
