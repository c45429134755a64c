"""Portfolio quality of a team, branch or any unit: ratios, categories, per RM and team, migration and trend."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    F,
)
from django.utils import timezone

from rmdesk.core.money import from_fen, ratio
from rmdesk.loans.choices import NON_PERFORMING, Classification, Currency, LoanStatus
from rmdesk.org.models import OrgUnit, User
from rmdesk.postloan.models import ClassificationSnapshot
from rmdesk.postloan.queries.scope import ZERO, amount_of, fen, home_unit, scoped_loans

TREND_MONTHS = 12

# --- portfolio quality ------------------------------------------------------------------------------------------------


@dataclass
class QualityRow:
    """A book's quality: all of it (key None), one RM's (key: the user id) or one team's (key: the unit id)."""

    key: int | None
    name: str
    unit_name: str = ""
    loans: int = 0
    outstanding: Decimal = ZERO
    overdue_loans: int = 0
    overdue_balance: Decimal = ZERO  # the whole outstanding of loans with days past due
    overdue_principal: Decimal = ZERO  # the principal actually past due
    npl_balance: Decimal = ZERO
    by_class: dict[int, tuple[int, Decimal]] = field(default_factory=dict)  # category → (loans, outstanding)

    @property
    def overdue_ratio(self) -> Decimal | None:
        return percent(self.overdue_balance, self.outstanding)

    @property
    def overdue_principal_ratio(self) -> Decimal | None:
        return percent(self.overdue_principal, self.outstanding)

    @property
    def npl_ratio(self) -> Decimal | None:
        return percent(self.npl_balance, self.outstanding)

    def add(self, classification: int, loans: int, outstanding: Decimal, overdue: tuple[int, Decimal, Decimal]) -> None:
        overdue_loans, overdue_balance, overdue_principal = overdue
        self.loans += loans
        self.outstanding += outstanding
        self.overdue_loans += overdue_loans
        self.overdue_balance += overdue_balance
        self.overdue_principal += overdue_principal
        if classification in NON_PERFORMING:
            self.npl_balance += outstanding
        count, amount = self.by_class.get(classification, (0, ZERO))
        self.by_class[classification] = (count + loans, amount + outstanding)


def percent(part: Decimal, whole: Decimal) -> Decimal | None:
    """part / whole in per cent, half-up to 0.01; None for an empty book."""
    return ratio(part * 100, whole, places=2)


@dataclass(frozen=True)
class MigrationCell:
    loans: int
    amount: Decimal


@dataclass(frozen=True)
class Migration:
    """Loans moving between categories from one month end to the next (see the module docstring)."""

    from_month: date
    to_month: date
    cells: dict[tuple[int | None, int | None], MigrationCell]  # (from, to); None: new (from) or left the book (to)

    def cell(self, source: int | None, target: int | None) -> MigrationCell:
        return self.cells.get((source, target), MigrationCell(0, ZERO))

    def downgraded(self) -> MigrationCell:
        """Loans that moved to a worse category."""
        moved = [c for (s, t), c in self.cells.items() if s is not None and t is not None and t > s]
        return MigrationCell(sum(c.loans for c in moved), sum((c.amount for c in moved), ZERO))


@dataclass(frozen=True)
class TrendPoint:
    """One month end from the snapshots."""

    month: date
    loans: int
    outstanding: Decimal
    overdue_principal: Decimal
    npl_balance: Decimal
    by_class: dict[int, Decimal]

    @property
    def npl_ratio(self) -> Decimal | None:
        return percent(self.npl_balance, self.outstanding)

    @property
    def overdue_principal_ratio(self) -> Decimal | None:
        return percent(self.overdue_principal, self.outstanding)


@dataclass(frozen=True)
class PortfolioQuality:
    today: date
    unit: OrgUnit | None
    total: QualityRow
    rms: list[QualityRow]  # largest outstanding first
    teams: list[QualityRow]  # the RMs' units
    proposals: int  # proposals waiting for confirmation
    other_currency_loans: int
    migration: Migration | None
    trend: list[TrendPoint]  # oldest first, at most TREND_MONTHS

    @property
    def classes(self) -> list[tuple[Classification, int, Decimal, Decimal | None]]:
        """Each category: loans, outstanding, share of the outstanding (per cent)."""
        return [
            (category, *self.total.by_class.get(category.value, (0, ZERO)),
             percent(self.total.by_class.get(category.value, (0, ZERO))[1], self.total.outstanding))
            for category in Classification
        ]  # fmt: skip


def portfolio_quality(
    user: Any, *, unit: OrgUnit | None = None, today: date | None = None, month: date | None = None
) -> PortfolioQuality:
    """The quality of the active loans in scope (of `unit`'s customers): totals, per RM and per team, the migration
    between the last two month ends up to `month` (default: the latest snapshot), and twelve month ends of trend.

    A lead's or head's portfolio is their unit's, by default: the loans of the customers their subtree owns (经营机构)
    — as a bank reports a unit's overdue and NPL ratios — not those of another unit's customers that one of their RMs
    serves as co-RM, which are in that unit's portfolio. An RM's is the loans of the customers they serve.

    Three statements whatever the size of the scope: the scope's loans (a branch's few thousand rows, amounts in
    whole fen) added up here, the RMs' names, and the trend and migration from those loans' snapshots. The scope is
    worked out once: finding a branch's loans among its customers is most of the cost."""
    today = today or timezone.localdate()
    unit = unit or home_unit(user)
    rows = (
        scoped_loans(user, unit=unit)
        .order_by()
        .annotate(outstanding_fen=fen(F("outstanding_principal")), overdue_fen=fen(F("overdue_principal")))
        .values_list(
            "pk",
            "primary_rm_id",
            "currency",
            "status",
            "classification",
            "proposed_classification",
            "days_past_due",
            "outstanding_fen",
            "overdue_fen",
        )
    )
    # (RM, category) → loans, outstanding, overdue loans, their outstanding, overdue principal (fen).
    books: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0])
    cny_ids: list[int] = []
    other = proposals = 0
    for pk, rm_id, currency, status, category, proposed, days, outstanding, overdue_principal in rows:
        if currency == Currency.CNY:
            cny_ids.append(pk)  # closed loans too: they were in the book at earlier month ends
        if status != LoanStatus.ACTIVE:
            continue
        proposals += proposed is not None
        if currency != Currency.CNY:
            other += 1
            continue
        book = books[(rm_id, category)]
        book[0] += 1
        book[1] += outstanding
        book[4] += overdue_principal
        if days > 0:
            book[2] += 1
            book[3] += outstanding
    total = QualityRow(key=None, name="")
    per_rm: dict[int, QualityRow] = {}
    for (rm_id, category), (n, outstanding, overdue_n, overdue_balance, overdue_principal) in sorted(books.items()):
        figures = (
            category,
            n,
            from_fen(outstanding),
            (overdue_n, from_fen(overdue_balance), from_fen(overdue_principal)),
        )
        total.add(*figures)
        per_rm.setdefault(rm_id, QualityRow(key=rm_id, name="")).add(*figures)
    migration, trend = _snapshots(cny_ids, month)
    return PortfolioQuality(
        today=today,
        unit=unit,
        total=total,
        rms=sorted(per_rm.values(), key=lambda row: (-row.outstanding, row.name, row.key or 0)),
        teams=_name_rows(per_rm),
        proposals=proposals,
        other_currency_loans=other,
        migration=migration,
        trend=trend,
    )


def _name_rows(per_rm: dict[int, QualityRow]) -> list[QualityRow]:
    """Name the RMs' rows and add them up per team (the RM's unit)."""
    people = (
        User.objects.filter(pk__in=list(per_rm))
        .select_related("unit")
        .only("username", "full_name", "unit__name", "unit__path")
    )
    teams: dict[int | None, QualityRow] = {}
    for person in people:
        row = per_rm[person.pk]
        row.name = person.display_name
        row.unit_name = person.unit.name if person.unit else ""
        team = teams.setdefault(person.unit_id, QualityRow(key=person.unit_id, name=row.unit_name))
        for category, (count, amount) in row.by_class.items():
            team.add(category, count, amount, (0, ZERO, ZERO))
        team.overdue_loans += row.overdue_loans
        team.overdue_balance += row.overdue_balance
        team.overdue_principal += row.overdue_principal
    return sorted(teams.values(), key=lambda row: (-row.outstanding, row.name))


def _snapshots(loan_ids: list[int], month: date | None) -> tuple[Migration | None, list[TrendPoint]]:
    """The migration matrix and the trend, read from the month-end snapshots of these loans."""
    # The batch snapshots every active loan at each month end: the bank's latest month is the scope's.
    latest = month.replace(day=1) if month else _latest_snapshot_month()
    if latest is None or not loan_ids:
        return None, []
    source = _add_months(latest, -1)
    per_month: dict[date, dict[int, tuple[int, Decimal, Decimal]]] = defaultdict(dict)
    moves: dict[tuple[int | None, int | None], MigrationCell] = {}
    for kind, point, before, after, count, amount, overdue in _read_snapshots(loan_ids, latest, source):
        if kind == "trend":
            per_month[_as_date(point)][before] = (count, amount_of(amount), amount_of(overdue))
        else:
            moves[(before, after)] = MigrationCell(count, amount_of(amount))
    trend = [
        TrendPoint(
            month=point,
            loans=sum(n for n, _o, _d in classes.values()),
            outstanding=sum((o for _n, o, _d in classes.values()), ZERO),
            overdue_principal=sum((d for _n, _o, d in classes.values()), ZERO),
            npl_balance=sum((o for c, (_n, o, _d) in classes.items() if c in NON_PERFORMING), ZERO),
            by_class={c: o for c, (_n, o, _d) in classes.items()},
        )
        for point, classes in sorted(per_month.items())
    ]
    # The first month end on record: nothing moved from anywhere yet.
    has_source = any(before is not None for before, _after in moves)
    migration = Migration(from_month=source, to_month=latest, cells=moves) if has_source else None
    return migration, trend


def _id_rows(ids: list[int]) -> tuple[str, Any]:
    """A list of ids as rows of a statement, in one parameter whatever their number (a bank-wide view's are more
    than a statement takes parameters): a JSON array on SQLite, an array on PostgreSQL."""
    if connection.vendor == "postgresql":
        return "SELECT unnest(%s::bigint[])", ids
    return "SELECT value FROM json_each(%s)", json.dumps(ids)


def _read_snapshots(loan_ids: list[int], latest: date, source: date) -> list[tuple[Any, ...]]:
    """One statement, three answers from these loans' snapshots: (trend, month, category, –, loans, Σ outstanding,
    Σ overdue principal) per month of the trend and category; (move, –, from, to, loans, Σ outstanding at the
    earlier month end, –) per pair of categories, "to" null for loans that left the book; (move, –, null, to, loans,
    Σ outstanding at the later month end, –) for the loans new since. Amounts come back as whole fen (see `fen`).

    Each part reads the base table by its indexes — the trend by the contract index, a loan's other month end by
    the (month, contract) key — rather than a shared CTE: PostgreSQL cannot estimate a CTE's rows and would join it
    to itself row by row."""
    ids_sql, ids_param = _id_rows(loan_ids)
    ops = connection.ops
    first, source_day, latest_day = (
        ops.adapt_datefield_value(_add_months(latest, -(TREND_MONTHS - 1))),
        ops.adapt_datefield_value(source),
        ops.adapt_datefield_value(latest),
    )
    table = ClassificationSnapshot._meta.db_table

    def fen_of(column: str) -> str:
        return f"SUM(CAST(ROUND({column} * 100) AS BIGINT))"

    # COALESCE(month, month): on the month index SQLite would read the whole bank's snapshots of those months; by
    # the contract index it reads only the scope's loans' few rows each.
    sql = f"""
        SELECT 'trend', month, classification, NULL, COUNT(*), {fen_of("outstanding_principal")},
               {fen_of("overdue_principal")}
        FROM {table}
        WHERE contract_id IN ({ids_sql}) AND COALESCE(month, month) BETWEEN %s AND %s
        GROUP BY month, classification
        UNION ALL
        SELECT 'move', NULL, earlier.classification, later.classification, COUNT(*),
               {fen_of("earlier.outstanding_principal")}, NULL
        FROM {table} earlier
        LEFT JOIN {table} later ON later.month = %s AND later.contract_id = earlier.contract_id
        WHERE earlier.month = %s AND earlier.contract_id IN ({ids_sql})
        GROUP BY earlier.classification, later.classification
        UNION ALL
        SELECT 'move', NULL, NULL, later.classification, COUNT(*), {fen_of("later.outstanding_principal")}, NULL
        FROM {table} later
        WHERE later.month = %s AND later.contract_id IN ({ids_sql})
          AND NOT EXISTS (
              SELECT 1 FROM {table} earlier WHERE earlier.month = %s AND earlier.contract_id = later.contract_id
          )
        GROUP BY later.classification
    """  # noqa: S608 — the table name is the model's, every value a parameter
    params = [
        ids_param, first, latest_day,
        latest_day, source_day, ids_param,
        latest_day, ids_param, source_day,
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _as_date(value: Any) -> date:
    """A month as the database hands it back (a date, or ISO text from SQLite's raw cursor)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _latest_snapshot_month() -> date | None:
    return ClassificationSnapshot.objects.order_by("-month").values_list("month", flat=True).first()


def _add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
