"""The collection calendar 收息收贷日历: what falls due this week and this month on the loans in scope, and what is
overdue, per loan and day, with a month grid."""

from __future__ import annotations

import calendar as month_calendar
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    F,
    Q,
)
from django.utils import timezone

from rmdesk.loans.choices import Currency, InstalmentStatus, LoanStatus
from rmdesk.loans.models import Instalment
from rmdesk.org.models import OrgUnit, User
from rmdesk.postloan.queries.scope import ZERO, amount_of, fen_sum, scoped_loans

# Above this many loans the calendar hands the database a subquery instead of a list of ids.
LOAN_ID_LIST_MAX = 5_000

# --- the collection calendar ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DueLine:
    """One loan's instalments due on one day, with what is still unpaid on them."""

    contract_id: int
    contract_no: str
    currency: str
    customer_id: int
    customer_name: str
    rm_id: int
    rm_name: str
    due_date: date
    principal: Decimal
    interest: Decimal
    fee: Decimal
    penalty: Decimal  # penalty + compound interest accrued through the last end of day, unpaid
    days_overdue: int  # 0 unless the due date has passed

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee + self.penalty

    @property
    def interest_and_fees(self) -> Decimal:
        return self.interest + self.fee

    @property
    def overdue(self) -> bool:
        return self.days_overdue > 0


@dataclass(frozen=True)
class DueTotals:
    """Lines and their sums (CNY lines only: other currencies cannot be added to them)."""

    lines: int = 0
    principal: Decimal = ZERO
    interest: Decimal = ZERO
    fee: Decimal = ZERO
    penalty: Decimal = ZERO
    other_currency_lines: int = 0

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fee + self.penalty

    @property
    def interest_and_fees(self) -> Decimal:
        return self.interest + self.fee

    @classmethod
    def of(cls, lines: list[DueLine]) -> DueTotals:
        cny = [line for line in lines if line.currency == Currency.CNY]
        return cls(
            lines=len(lines),
            principal=sum((line.principal for line in cny), ZERO),
            interest=sum((line.interest for line in cny), ZERO),
            fee=sum((line.fee for line in cny), ZERO),
            penalty=sum((line.penalty for line in cny), ZERO),
            other_currency_lines=len(lines) - len(cny),
        )


@dataclass(frozen=True)
class CalendarDay:
    day: date
    in_month: bool
    is_today: bool
    lines: int
    total: Decimal  # CNY
    overdue: bool  # something due that day is still unpaid after it


@dataclass(frozen=True)
class CollectionCalendar:
    today: date
    month: date  # the first day of the month shown
    week_start: date  # Monday of this week
    week_end: date  # Sunday
    overdue: list[DueLine]  # unpaid after their due date, oldest first
    this_week: list[DueLine]  # due from today to Sunday
    this_month: list[DueLine]  # due in the month shown, today or later
    weeks: list[list[CalendarDay]]  # the month grid, Monday first
    overdue_totals: DueTotals
    week_totals: DueTotals
    month_totals: DueTotals

    @property
    def later_this_month(self) -> list[DueLine]:
        """The month's lines after this week (the page lists this week's once)."""
        return [line for line in self.this_month if line.due_date > self.week_end]

    @property
    def later_totals(self) -> DueTotals:
        return DueTotals.of(self.later_this_month)

    @property
    def previous_month(self) -> date:
        return (self.month - timedelta(days=1)).replace(day=1)

    @property
    def next_month(self) -> date:
        return (self.month + timedelta(days=32)).replace(day=1)


def month_end(month: date) -> date:
    return month.replace(day=month_calendar.monthrange(month.year, month.month)[1])


def collection_calendar(
    user: Any,
    *,
    today: date | None = None,
    month: date | None = None,
    unit: OrgUnit | None = None,
    rm: User | None = None,
) -> CollectionCalendar:
    """What falls due this week and in `month` (default this month) on the loans in scope, and what is overdue.

    Two statements: the scope's active loans with something due by the end of the window (by their batch state: days
    past due, next due date), then those loans' unpaid instalments up to the window's end (index contract, due date)."""
    today = today or timezone.localdate()
    month = (month or today).replace(day=1)
    week_start = today - timedelta(days=today.weekday())
    week_end = week_start + timedelta(days=6)
    last = month_end(month)
    window_end = max(week_end, last)
    loans = scoped_loans(user, unit=unit, rm=rm).filter(status=LoanStatus.ACTIVE)
    # A loan the batch has not marked yet (an instalment due since its last run) still has its next due date set to
    # that day, so this finds it; a matured loan with everything overdue has none.
    loans = loans.filter(
        Q(days_past_due__gt=0) | Q(next_due_date__lte=window_end) | Q(next_due_date__isnull=True)
    ).order_by()
    heads = {
        row["pk"]: row
        for row in loans.values(
            "pk",
            "contract_no",
            "currency",
            "customer_id",
            "customer__name",
            "primary_rm_id",
            "primary_rm__full_name",
            "primary_rm__username",
        )
    }
    lines = _due_lines(heads, list(heads) if len(heads) <= LOAN_ID_LIST_MAX else loans.values("pk"), window_end, today)
    overdue = sorted((line for line in lines if line.overdue), key=_line_order)
    upcoming = [line for line in lines if not line.overdue]
    this_week = sorted((line for line in upcoming if line.due_date <= week_end), key=_line_order)
    this_month = sorted((line for line in upcoming if month <= line.due_date <= last), key=_line_order)
    return CollectionCalendar(
        today=today,
        month=month,
        week_start=week_start,
        week_end=week_end,
        overdue=overdue,
        this_week=this_week,
        this_month=this_month,
        weeks=_month_grid(month, today, [line for line in lines if month <= line.due_date <= last]),
        overdue_totals=DueTotals.of(overdue),
        week_totals=DueTotals.of(this_week),
        month_totals=DueTotals.of(this_month),
    )


def _line_order(line: DueLine) -> tuple[Any, ...]:
    return (line.due_date, line.customer_name, line.contract_no)


def _due_lines(heads: dict[int, Any], loan_ids: Any, window_end: date, today: date) -> list[DueLine]:
    if not heads:
        return []
    rows = (
        Instalment.objects.filter(contract_id__in=loan_ids, due_date__lte=window_end)
        .exclude(status=InstalmentStatus.PAID)
        .order_by()
        .values("contract_id", "due_date")
        .annotate(
            principal=fen_sum(F("principal_due") - F("principal_paid")),
            interest=fen_sum(F("interest_due") - F("interest_paid")),
            fee=fen_sum(F("fee_due") - F("fee_paid")),
            penalty=fen_sum(F("penalty_accrued") - F("penalty_paid") + F("compound_accrued") - F("compound_paid")),
        )
    )
    lines = []
    for row in rows:
        head = heads.get(row["contract_id"])
        if head is None:  # a subquery's loan read after the heads (a new loan in between): next time
            continue
        due: date = row["due_date"]
        lines.append(
            DueLine(
                contract_id=head["pk"],
                contract_no=head["contract_no"],
                currency=head["currency"],
                customer_id=head["customer_id"],
                customer_name=head["customer__name"],
                rm_id=head["primary_rm_id"],
                rm_name=head["primary_rm__full_name"] or head["primary_rm__username"],
                due_date=due,
                principal=amount_of(row["principal"]),
                interest=amount_of(row["interest"]),
                fee=amount_of(row["fee"]),
                penalty=amount_of(row["penalty"]),
                days_overdue=max(0, (today - due).days),
            )
        )
    return lines


def _month_grid(month: date, today: date, lines: list[DueLine]) -> list[list[CalendarDay]]:
    by_day: dict[date, list[DueLine]] = defaultdict(list)
    for line in lines:
        by_day[line.due_date].append(line)
    first = month - timedelta(days=month.weekday())
    last = month_end(month)
    weeks = []
    day = first
    while day <= last:
        week = []
        for _ in range(7):
            due = by_day.get(day, [])
            week.append(
                CalendarDay(
                    day=day,
                    in_month=day.month == month.month,
                    is_today=day == today,
                    lines=len(due),
                    total=DueTotals.of(due).total,
                    overdue=any(line.overdue for line in due),
                )
            )
            day += timedelta(days=1)
        weeks.append(week)
    return weeks
