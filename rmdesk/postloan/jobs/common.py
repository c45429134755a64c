"""What the post-loan jobs share: the customer-id range a job runs over, amounts read as integer fen, chunks."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from django.db.models import BigIntegerField, Expression, F, Min, Q
from django.db.models.functions import Cast, Round

from rmdesk.loans.choices import InstalmentStatus
from rmdesk.loans.models import Instalment

T = TypeVar("T")
# Ids per IN list: well below SQLite's 32,766 parameters a statement.
CHUNK = 5000
# Due dates per query when reading unpaid instalments date by date (see unpaid_due_dates).
DATES_PER_QUERY = 20
Counts = dict[str, int]
# The condition of the unpaid-instalment index (`instalment_unpaid_due`: due date, customer), written as the index
# writes it, so that both databases' planners see the index applies.
UNPAID = ~Q(status=InstalmentStatus.PAID)


@dataclass(frozen=True)
class CustomerRange:
    """Customers with ids in [first, last]; 0..0 is the whole bank (a job run by one process)."""

    first: int = 0
    last: int = 0

    @property
    def whole_bank(self) -> bool:
        return self.first == 0 and self.last == 0

    def q(self, field: str = "customer_id") -> Q:
        """The filter on a customer id column (nothing for the whole bank)."""
        if self.whole_bank:
            return Q()
        return Q(**{f"{field}__gte": self.first, f"{field}__lte": self.last})

    def __str__(self) -> str:
        return "all customers" if self.whole_bank else f"customers {self.first}-{self.last}"


WHOLE_BANK = CustomerRange()


def fen(expression: Expression | F | str) -> Cast:
    """A decimal amount column or expression read as integer fen: exact on both databases (SQLite keeps decimals as
    binary floats; rounding ×100 to an integer gives the fen back exactly)."""
    if isinstance(expression, str):
        expression = F(expression)
    return Cast(Round(expression * 100), output_field=BigIntegerField())


def rate_micro(expression: Expression | F | str) -> Cast:
    """A rate column (percent, 6 decimals) read as integer millionths of a percent."""
    if isinstance(expression, str):
        expression = F(expression)
    return Cast(Round(expression * 1_000_000), output_field=BigIntegerField())


def from_fen(value: int) -> Decimal:
    """Integer fen as an amount with 2 decimals."""
    return Decimal(int(value)).scaleb(-2)


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def as_date(value: Any) -> date | None:
    """A date read from the database (a string only from raw SQL on SQLite)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def unpaid_due_dates(*, through: date) -> list[date]:
    """The due dates on or before `through` that have an unpaid instalment, earliest first: one probe of the unpaid
    index per date (the first entry after the last date found).

    The jobs then read the unpaid rows date by date. A range such as "unpaid and due before D" would do in one
    statement, but PostgreSQL's planner takes status and due date as independent and estimates it as half the table
    (half the rows are unpaid, half are due before D), so it scans the table; in truth it is the few rows overdue.
    Equalities on a handful of dates it estimates right, and SQLite reads the same index either way."""
    dates: list[date] = []
    unpaid = Instalment.objects.filter(UNPAID, due_date__lte=through)
    while True:
        after = unpaid.filter(due_date__gt=dates[-1]) if dates else unpaid
        first = after.aggregate(first=Min("due_date"))["first"]
        if first is None:
            return dates
        dates.append(first)
