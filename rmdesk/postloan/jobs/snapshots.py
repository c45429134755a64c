"""On the last calendar day of a month, record each active loan's classification, outstanding and overdue principal
(ClassificationSnapshot, month = the first day of that month): the rows the portfolio's migration matrix reads.

One INSERT … SELECT over the contracts, leaving out those that already have the month's row, so a second run or a
resumed one adds nothing. The rows already there are left out with NOT IN over the month's rows, which both databases
read once (PostgreSQL hashes it): a correlated NOT EXISTS over the table being filled is planned by PostgreSQL on the
statistics of a table still empty, and then every row inserted scans the rows inserted before it. Runs on every
date; writes only on a month's last day.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection, transaction

from rmdesk.loans.choices import LoanStatus
from rmdesk.loans.models import LoanContract
from rmdesk.postloan.jobs.common import Counts, CustomerRange
from rmdesk.postloan.models import ClassificationSnapshot


def is_month_end(day: date) -> bool:
    return (day + timedelta(days=1)).month != day.month


def run(*, on: date, customers: CustomerRange) -> Counts:
    """Write the month's missing snapshots of the range's active loans when `on` ends a month; counts those written."""
    if not is_month_end(on):
        return {"snapshots": 0}
    month = on.replace(day=1)
    quote = connection.ops.quote_name
    snapshot, loan = quote(ClassificationSnapshot._meta.db_table), quote(LoanContract._meta.db_table)
    in_range, range_params = "", []
    if not customers.whole_bank:
        in_range, range_params = "AND l.customer_id BETWEEN %s AND %s", [customers.first, customers.last]
    # Table names from the models; every value is a parameter.
    sql = f"""
        INSERT INTO {snapshot} (month, contract_id, customer_id, classification, outstanding_principal,
                                overdue_principal)
        SELECT %s, l.id, l.customer_id, l.classification, l.outstanding_principal, l.overdue_principal
        FROM {loan} l
        WHERE l.status = %s {in_range}
          AND l.id NOT IN (SELECT s.contract_id FROM {snapshot} s WHERE s.month = %s)
    """  # noqa: S608
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [month, LoanStatus.ACTIVE, *range_params, month])
        written = cursor.rowcount
    return {"snapshots": written}
