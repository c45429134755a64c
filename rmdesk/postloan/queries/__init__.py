"""Reads of the collection work 收息收贷: the collection calendar (dues), the overdue list and the classification
queue (overdue), and the portfolio quality of a team or branch (portfolio), all from the user's scope (scope). The
pages, the API and the `rmdesk collection` command all read through this package, so every figure is computed once
and the same everywhere.

Every read starts from `LoanContract.objects.restrict(user, action)` (a loan inherits its customer's visibility).
The collection state on the contract (outstanding, overdue, days past due, penalty, next due date, classification
and proposal) is the end-of-day batch's; the calendar reads the unpaid instalments of the loans that have something
due in its window, found by that state, so one RM's calendar reads a few hundred rows whatever the size of the bank.

Definitions (docs in the module's functions):
- Amounts on the calendar are what is still unpaid on each instalment: principal, interest, fees, and penalty plus
  compound interest accrued through the last end of day. A line is one loan's instalments due on one day (its
  drawdowns added up).
- Portfolio figures add CNY loans only (amounts in other currencies cannot be added to them); how many loans were
  left out is reported. The overdue balance is the whole outstanding principal of loans with days past due
  (逾期贷款余额); the overdue ratio is it over the outstanding principal; the overdue principal ratio is the principal
  actually past due over the outstanding. The NPL ratio is the outstanding of loans classified 次级, 可疑 or 损失 (the
  confirmed classification, not a proposal) over the outstanding principal. Ratios are per cent, half-up to 0.01.
- The migration matrix compares two month-end snapshots: each loan's category at the earlier month end (rows)
  against the later one (columns), counted and with its outstanding principal at the earlier month end; loans
  absent from the later snapshot left the book (repaid, written off or closed); loans absent from the earlier one
  are new (their amount: at the later month end).
"""

from rmdesk.postloan.queries.dues import (
    CalendarDay,
    CollectionCalendar,
    DueLine,
    DueTotals,
    collection_calendar,
    month_end,
)
from rmdesk.postloan.queries.overdue import (
    DPD_BANDS,
    OVERDUE_ORDERS,
    OverdueTotals,
    classification_queue,
    overdue_loans,
    overdue_totals,
)
from rmdesk.postloan.queries.portfolio import (
    Migration,
    MigrationCell,
    PortfolioQuality,
    QualityRow,
    TrendPoint,
    percent,
    portfolio_quality,
)
from rmdesk.postloan.queries.scope import fen, fen_sum, scoped_loans, view_units

__all__ = [
    "DPD_BANDS",
    "OVERDUE_ORDERS",
    "CalendarDay",
    "CollectionCalendar",
    "DueLine",
    "DueTotals",
    "Migration",
    "MigrationCell",
    "OverdueTotals",
    "PortfolioQuality",
    "QualityRow",
    "TrendPoint",
    "classification_queue",
    "collection_calendar",
    "fen",
    "fen_sum",
    "month_end",
    "overdue_loans",
    "overdue_totals",
    "percent",
    "portfolio_quality",
    "scoped_loans",
    "view_units",
]
