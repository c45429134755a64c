"""The vectorised schedule kernel: many fixed-rate schedules at once, in integer fen, identical to the fen with the
exact reference `rmdesk.loans.schedule.build_schedule` (whose module docstring states the conventions).

Pure (numpy, no Django). Amounts are int64 fen, rates int64 parts per million of a percent (3.5% → 3_500_000, the six
places rates carry), dates int32 ordinals (`date.toordinal()`). Every rounding is exact half-up in integers:
round(a / d) = (a + d / 2) // d with d even. The monthly interest balance × rate_ppm / 1_200_000_000 and the
actual-day interest balance × rate_ppm × days / 36_000_000_000 are computed that way; the second splits
balance × rate_ppm = q·d + r first so that × days cannot overflow.

Two things leave the vectorised path so that the results stay exact:
- a loan whose principal × rate could overflow int64 in the products above (beyond 4.6e18, e.g. 1.28 billion yuan at
  36%) is computed by the reference and converted to fen;
- an annuity instalment is estimated in float64 (relative error below 1e-15; 4.3e-16 was the worst of 40,000 random
  loans against exact rationals), and where the estimate is within 1e-13 × itself + 1e-9 fen of a half-fen tie, it is
  recomputed in exact rationals by the reference's `annuity_instalment`, which decides the rounding. Every other
  estimate rounds the same way as the exact value.

Rows come grouped by loan, each loan's periods consecutive and in order; loans are ordered by method code, then by
descending period count, then by input order, and `first_row[i]`/`period_count[i]` locate input loan i's rows. That
order lets the kernel walk the periods of a chunk of loans as one shrinking prefix of vectors. With `threads` > 1
chunks run in a thread pool: numpy releases the GIL inside its loops, and chunks write disjoint rows.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from rmdesk.core.workdays import WorkingDays
from rmdesk.loans.schedule import (
    MAX_MONTHS,
    MAX_PRINCIPAL,
    LoanTerms,
    Method,
    Period,
    annuity_instalment,
    build_schedule,
)

ANNUITY, EQUAL_PRINCIPAL, INTEREST_MONTHLY, INTEREST_QUARTERLY, BULLET = range(5)
METHOD_CODES: dict[Method, int] = {
    Method.ANNUITY: ANNUITY,
    Method.EQUAL_PRINCIPAL: EQUAL_PRINCIPAL,
    Method.INTEREST_MONTHLY: INTEREST_MONTHLY,
    Method.INTEREST_QUARTERLY: INTEREST_QUARTERLY,
    Method.BULLET: BULLET,
}
METHODS_BY_CODE = {code: method for method, code in METHOD_CODES.items()}

PPM = 1_000_000
MAX_RATE_PPM = 36 * PPM
MONTHLY_DIVISOR = 100 * 12 * PPM  # fen × rate_ppm / this = monthly interest in fen
DAILY_DIVISOR = 100 * 360 * PPM  # fen × rate_ppm × days / this = actual-day interest in fen
SAFE_PRODUCT = 2**62  # principal_fen × rate_ppm up to here leaves room for the half added before dividing
_ORDINAL_OF_EPOCH = date(1970, 1, 1).toordinal()
_LAST_START = date(9900, 1, 1).toordinal()
_TIE_RELATIVE = 1e-13
_TIE_ABSOLUTE = 1e-9
# A chunk holds about this many periods (16,384 loans of 36 months): its vectors and blocks stay in the CPU's caches
# while its periods are walked, and the Python overhead per numpy call stays small beside the work.
CHUNK_CELLS = 16_384 * 36
MIN_CHUNK_LOANS = 256

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ScheduleArrays:
    """Flat rows, one per period of every loan (see the module docstring for their order)."""

    loan: npt.NDArray[np.int32]  # the input index of the row's loan
    period: npt.NDArray[np.int16]  # 1-based
    scheduled: npt.NDArray[np.int32]  # date ordinals
    due: npt.NDArray[np.int32]
    due_provisional: npt.NDArray[np.bool_]
    principal: IntArray  # fen
    interest: IntArray
    balance: IntArray
    first_row: IntArray  # per input loan
    period_count: npt.NDArray[np.int32]  # per input loan
    exact_loans: IntArray  # input indices computed by the reference (int64 overflow guard)
    exact_instalments: int  # annuity instalments decided in exact rationals (near a half-fen tie)

    def __len__(self) -> int:
        return int(self.loan.size)

    def rows(self, loan: int) -> slice:
        """The rows of input loan `loan`."""
        first = int(self.first_row[loan])
        return slice(first, first + int(self.period_count[loan]))

    def periods(self, loan: int) -> list[Period]:
        """Input loan `loan`'s rows as the reference's Periods (Decimal yuan)."""
        rows = self.rows(loan)
        return [
            Period(
                number=int(number),
                scheduled_date=date.fromordinal(int(scheduled)),
                due_date=date.fromordinal(int(due)),
                principal=_yuan(int(principal)),
                interest=_yuan(int(interest)),
                balance=_yuan(int(balance)),
                due_date_provisional=bool(provisional),
            )
            for number, scheduled, due, principal, interest, balance, provisional in zip(
                self.period[rows],
                self.scheduled[rows],
                self.due[rows],
                self.principal[rows],
                self.interest[rows],
                self.balance[rows],
                self.due_provisional[rows],
                strict=True,
            )
        ]


def build_schedules(
    principal_fen: npt.ArrayLike,
    rate_ppm: npt.ArrayLike,
    months: npt.ArrayLike,
    method: npt.ArrayLike,
    start: npt.ArrayLike,
    *,
    interest_day: npt.ArrayLike = 20,
    calendar: WorkingDays | None = None,
    threads: int = 1,
) -> ScheduleArrays:
    """The schedules of many fixed-rate loans: `method` holds METHOD_CODES, `start` drawdown date ordinals,
    `interest_day` the 结息日 of the interest-only methods (one for all, or one per loan)."""
    loans = _Loans.checked(principal_fen, rate_ppm, months, method, start, interest_day)
    dates = _Dates(loans)
    count = dates.period_count(loans)
    # Stable radix sort on a 16-bit key: method, then descending period count (≤ 601), then input order.
    order = np.argsort((loans.method * 1024 + (1023 - count)).astype(np.int16), kind="stable")
    count_sorted = count[order]
    row_start = np.zeros(order.size + 1, dtype=np.int64)
    np.cumsum(count_sorted, out=row_start[1:])
    total = int(row_start[-1])
    out = _Output.empty(total)

    exact = loans.overflowing()
    safe = _SafeLoans(loans, exact)
    instalment, exact_instalments = _instalments(safe)
    roll = _Roll(calendar, int(loans.start.min()), int(dates.maturity.max()))

    method_sorted = loans.method[order]
    bounds = np.searchsorted(method_sorted, np.arange(6), side="left")
    spans = _chunk_spans(bounds, count_sorted)
    workspaces = threading.local()

    def run(span: tuple[int, int, int]) -> None:
        code, first, last = span
        if not hasattr(workspaces, "blocks"):
            workspaces.blocks = _Blocks()
        rows = slice(int(row_start[first]), int(row_start[last]))
        loans_of_chunk, count_of_chunk = order[first:last], count_sorted[first:last]
        _Chunk(code, loans_of_chunk, count_of_chunk, safe, instalment, dates, out, rows, workspaces.blocks).write(roll)

    if threads > 1 and len(spans) > 1:
        # numpy releases the GIL inside its loops, and chunks write disjoint rows.
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, spans))
    else:
        for span in spans:
            run(span)

    first_row = np.empty(order.size, dtype=np.int64)
    first_row[order] = row_start[:-1]
    arrays = ScheduleArrays(
        loan=out.loan,
        period=out.period,
        scheduled=out.scheduled,
        due=out.due,
        due_provisional=out.provisional,
        principal=out.principal,
        interest=out.interest,
        balance=out.balance,
        first_row=first_row,
        period_count=count.astype(np.int32),
        exact_loans=np.flatnonzero(exact).astype(np.int64),
        exact_instalments=exact_instalments,
    )
    for index in arrays.exact_loans:
        _write_reference(arrays, loans, int(index), calendar)
    return arrays


def terms_of(principal_fen: int, rate_ppm: int, months: int, method: int, start: int, interest_day: int) -> LoanTerms:
    """The reference's terms for one loan of the kernel's inputs."""
    return LoanTerms(
        principal=_yuan(principal_fen),
        annual_rate_pct=Decimal(rate_ppm).scaleb(-6),
        months=months,
        method=METHODS_BY_CODE[method],
        start=date.fromordinal(start),
        interest_day=interest_day,
    )


@dataclass(frozen=True)
class _Loans:
    principal: IntArray
    rate: IntArray
    months: IntArray
    method: IntArray
    start: IntArray
    interest_day: IntArray

    @classmethod
    def checked(
        cls,
        principal_fen: npt.ArrayLike,
        rate_ppm: npt.ArrayLike,
        months: npt.ArrayLike,
        method: npt.ArrayLike,
        start: npt.ArrayLike,
        interest_day: npt.ArrayLike,
    ) -> _Loans:
        principal = _int_column("principal_fen", principal_fen)
        size = principal.size
        loans = cls(
            principal=principal,
            rate=_int_column("rate_ppm", rate_ppm, size),
            months=_int_column("months", months, size),
            method=_int_column("method", method, size),
            start=_int_column("start", start, size),
            interest_day=np.broadcast_to(_int_column("interest_day", interest_day), (size,)),
        )
        _check_range("principal_fen", loans.principal, 1, int(MAX_PRINCIPAL * 100))
        _check_range("rate_ppm", loans.rate, 0, MAX_RATE_PPM)
        _check_range("months", loans.months, 1, MAX_MONTHS)
        _check_range("method", loans.method, 0, 4)
        _check_range("start", loans.start, 1, _LAST_START)
        _check_range("interest_day", loans.interest_day, 1, 28)
        if size == 0:
            raise ValueError("build_schedules needs at least one loan")
        return loans

    def overflowing(self) -> npt.NDArray[np.bool_]:
        """Loans whose principal × rate could overflow int64 on the vectorised path."""
        return self.principal > SAFE_PRODUCT // np.maximum(self.rate, 1)


class _SafeLoans:
    """The loans with the overflowing ones neutralised (zero rate); the reference overwrites their rows."""

    def __init__(self, loans: _Loans, exact: npt.NDArray[np.bool_]) -> None:
        self.principal = loans.principal
        self.rate: IntArray = np.where(exact, 0, loans.rate)
        self.months = loans.months
        self.method = loans.method


class _Dates:
    """Month arithmetic on month indices (months since 1970-01) through small tables of month starts."""

    def __init__(self, loans: _Loans) -> None:
        days = (loans.start - _ORDINAL_OF_EPOCH).astype("datetime64[D]")
        month_of_start = days.astype("datetime64[M]")
        self.start = loans.start
        self.start_month = month_of_start.astype(np.int64)
        self.start_day0 = (days - month_of_start.astype("datetime64[D]")).astype(np.int64)  # 0-based day of month
        self.base = int(self.start_month.min())
        span = int(self.start_month.max()) + MAX_MONTHS + 3 - self.base
        firsts = np.arange(self.base, self.base + span + 1).astype("datetime64[M]").astype("datetime64[D]")
        month_first = firsts.astype(np.int64) + _ORDINAL_OF_EPOCH
        self.month_first = month_first[:-1]  # ordinal of the 1st of month base + i
        self.month_last_day0 = np.diff(month_first) - 1  # 0-based last day of that month
        self.maturity = self.on(self.start_month + loans.months, self.start_day0)
        self.interest_day0 = loans.interest_day - 1
        quarterly = loans.method == INTEREST_QUARTERLY
        self.step = np.where(quarterly, 3, 1)
        # The first 结息日: this month's (or this quarter-end month's) when it falls after the drawdown, else the next.
        first = self.start_month + np.where(quarterly, 2 - self.start_month % 12 % 3, 0)
        past = (first == self.start_month) & (self.start_day0 >= self.interest_day0)
        self.first_interest_month = first + np.where(past, self.step, 0)

    def on(self, month: IntArray, day0: IntArray) -> IntArray:
        """The ordinal of 0-based day `day0` of `month`, clamped to the month's end."""
        index = month - self.base
        return self.month_first[index] + np.minimum(day0, self.month_last_day0[index])

    def period_count(self, loans: _Loans) -> IntArray:
        maturity_month = self.start_month + loans.months
        maturity_day0 = self.maturity - self.month_first[maturity_month - self.base]
        # Months from the first 结息日's month through the last month whose 结息日 is before maturity.
        span = maturity_month - self.first_interest_month + (self.interest_day0 < maturity_day0)
        interest_dates = np.maximum(0, (span + self.step - 1) // self.step)
        return np.select(
            [loans.method <= EQUAL_PRINCIPAL, loans.method == BULLET], [loans.months, 1], default=interest_dates + 1
        ).astype(np.int64)


class _Roll:
    """Due dates: the scheduled ordinal rolled by the calendar, and whether the holiday data reached it."""

    def __init__(self, calendar: WorkingDays | None, first: int, last: int) -> None:
        self.calendar = calendar
        if calendar is not None:
            self.table_first, self.table = calendar.roll_table(first, last)
            self.covered = calendar.covered_ordinals

    def write(self, out: _Output, rows: slice) -> None:
        scheduled = out.scheduled[rows]
        if self.calendar is None:
            out.due[rows] = scheduled
            out.provisional[rows] = False
            return
        due = out.due[rows]
        np.take(self.table, scheduled - self.table_first, out=due)
        if self.covered is None:
            out.provisional[rows] = True
        else:
            np.greater(due, self.covered[1], out=out.provisional[rows])
            out.provisional[rows] |= scheduled < self.covered[0]


@dataclass(frozen=True)
class _Output:
    loan: npt.NDArray[np.int32]
    period: npt.NDArray[np.int16]
    scheduled: npt.NDArray[np.int32]
    due: npt.NDArray[np.int32]
    provisional: npt.NDArray[np.bool_]
    principal: IntArray
    interest: IntArray
    balance: IntArray

    @classmethod
    def empty(cls, rows: int) -> _Output:
        return cls(
            loan=np.empty(rows, dtype=np.int32),
            period=np.empty(rows, dtype=np.int16),
            scheduled=np.empty(rows, dtype=np.int32),
            due=np.empty(rows, dtype=np.int32),
            provisional=np.empty(rows, dtype=np.bool_),
            principal=np.empty(rows, dtype=np.int64),
            interest=np.empty(rows, dtype=np.int64),
            balance=np.empty(rows, dtype=np.int64),
        )


def _chunk_spans(bounds: IntArray, count_sorted: IntArray) -> list[tuple[int, int, int]]:
    """(method code, first, end) of each chunk in sorted order: about CHUNK_CELLS periods each, one method each."""
    spans = []
    for code in range(5):
        first, end = int(bounds[code]), int(bounds[code + 1])
        while first < end:
            size = max(MIN_CHUNK_LOANS, CHUNK_CELLS // int(count_sorted[first]))  # the first has the most periods
            spans.append((code, first, min(first + size, end)))
            first += size
    return spans


class _Blocks:
    """A thread's reusable period-major blocks: fresh ones per chunk would cost a page fault per 4 KiB each time."""

    def __init__(self) -> None:
        self.cells = 0
        self.scheduled = np.empty(0, dtype=np.int32)
        self.principal = np.empty(0, dtype=np.int64)
        self.interest = np.empty(0, dtype=np.int64)
        self.balance = np.empty(0, dtype=np.int64)

    def shaped(self, periods: int, loans: int) -> tuple[npt.NDArray[np.int32], IntArray, IntArray, IntArray]:
        cells = periods * loans
        if cells > self.cells:
            self.cells = cells
            self.scheduled = np.empty(cells, dtype=np.int32)
            self.principal = np.empty(cells, dtype=np.int64)
            self.interest = np.empty(cells, dtype=np.int64)
            self.balance = np.empty(cells, dtype=np.int64)
        shape = (periods, loans)
        return (
            self.scheduled[:cells].reshape(shape),
            self.principal[:cells].reshape(shape),
            self.interest[:cells].reshape(shape),
            self.balance[:cells].reshape(shape),
        )


class _Chunk:
    """About CHUNK_CELLS periods of loans of one method, by descending period count: period k is computed for the
    prefix of loans that have a k-th period, in contiguous vectors, and stored into period-major blocks. When every
    loan of the chunk has as many periods, the blocks are transposed views of the output itself (each loan's rows
    consecutive), so nothing is copied afterwards; otherwise they are scratch blocks written out loan by loan."""

    def __init__(
        self,
        code: int,
        loans: IntArray,
        count: IntArray,
        safe: _SafeLoans,
        instalment: IntArray,
        dates: _Dates,
        out: _Output,
        rows: slice,
        blocks: _Blocks,
    ) -> None:
        self.code = code
        self.loans = loans
        self.count = count
        self.size = loans.size
        self.periods = int(count[0])
        # active[k - 1]: how many loans have a k-th period (a prefix, as counts descend); active[periods] = 0.
        self.active = np.zeros(self.periods + 1, dtype=np.int64)
        self.active[: self.periods] = np.searchsorted(-count, -np.arange(1, self.periods + 1), side="right")
        self.principal = safe.principal[loans]
        self.rate = safe.rate[loans]
        self.instalment = instalment[loans]
        self.dates = dates
        self.out = out
        self.rows = rows
        self.uniform = int(count[-1]) == self.periods
        if self.uniform:
            shape = (self.size, self.periods)
            self.block_scheduled = out.scheduled[rows].reshape(shape).T
            self.block_principal = out.principal[rows].reshape(shape).T
            self.block_interest = out.interest[rows].reshape(shape).T
            self.block_balance = out.balance[rows].reshape(shape).T
        else:
            # Cells past a loan's last period are left as they were: they are never written out.
            self.block_scheduled, self.block_principal, self.block_interest, self.block_balance = blocks.shaped(
                self.periods, self.size
            )

    def write(self, roll: _Roll) -> None:
        if self.code in (ANNUITY, EQUAL_PRINCIPAL):
            self._monthly_rate()
        else:
            self._actual_day()
        out, rows = self.out, self.rows
        if self.uniform:
            shape = (self.size, self.periods)
            out.loan[rows].reshape(shape)[...] = self.loans[:, None]
            out.period[rows].reshape(shape)[...] = np.arange(1, self.periods + 1, dtype=np.int16)
        else:
            present = (np.arange(self.periods)[:, None] < self.count[None, :]).T
            out.loan[rows] = np.repeat(self.loans, self.count)
            local_start = np.repeat(np.cumsum(self.count) - self.count, self.count)
            out.period[rows] = np.arange(rows.stop - rows.start) - local_start + 1
            out.scheduled[rows] = self.block_scheduled.T[present]
            out.principal[rows] = self.block_principal.T[present]
            out.interest[rows] = self.block_interest.T[present]
            out.balance[rows] = self.block_balance.T[present]
        roll.write(out, rows)

    def _monthly_rate(self) -> None:
        dates = self.dates
        start_month = dates.start_month[self.loans]
        start_day0 = dates.start_day0[self.loans]
        balance = self.principal.copy()
        scratch_scheduled, scratch_interest, scratch_principal = (np.empty(self.size, dtype=np.int64) for _ in "sip")
        for k in range(1, self.periods + 1):
            m, last_from = int(self.active[k - 1]), int(self.active[k])
            index = start_month[:m] + (k - dates.base)
            scheduled = scratch_scheduled[:m]
            np.minimum(start_day0[:m], dates.month_last_day0[index], out=scheduled)
            scheduled += dates.month_first[index]
            self.block_scheduled[k - 1, :m] = scheduled
            left = balance[:m]
            interest = scratch_interest[:m]
            np.multiply(left, self.rate[:m], out=interest)
            interest += MONTHLY_DIVISOR // 2
            interest //= MONTHLY_DIVISOR
            self.block_interest[k - 1, :m] = interest
            principal = scratch_principal[:m]
            if self.code == ANNUITY:
                np.subtract(self.instalment[:m], interest, out=principal)
                np.minimum(principal, left, out=principal)
            else:
                np.minimum(self.instalment[:m], left, out=principal)  # the equal part
            principal[last_from:] = left[last_from:]  # the last period repays what is left
            self.block_principal[k - 1, :m] = principal
            left -= principal
            self.block_balance[k - 1, :m] = left

    def _actual_day(self) -> None:
        dates = self.dates
        loans = self.loans
        principal = self.principal
        quotient, remainder = np.divmod(principal * self.rate, DAILY_DIVISOR)
        maturity = dates.maturity[loans]
        first_month = dates.first_interest_month[loans] - dates.base
        step = dates.step[loans]
        interest_day0 = dates.interest_day0[loans]
        previous = dates.start[loans].copy()
        scratch_end, scratch_days, scratch_interest = (np.empty(self.size, dtype=np.int64) for _ in "edi")
        for k in range(1, self.periods + 1):
            m, last_from = int(self.active[k - 1]), int(self.active[k])
            end = scratch_end[:m]
            if last_from:
                index = first_month[:last_from] + step[:last_from] * (k - 1)
                np.add(dates.month_first[index], interest_day0[:last_from], out=end[:last_from])
            end[last_from:] = maturity[last_from:m]
            self.block_scheduled[k - 1, :m] = end
            days = np.subtract(end, previous[:m], out=scratch_days[:m])
            interest = np.multiply(remainder[:m], days, out=scratch_interest[:m])
            interest += DAILY_DIVISOR // 2
            interest //= DAILY_DIVISOR
            days *= quotient[:m]
            interest += days
            self.block_interest[k - 1, :m] = interest
            self.block_principal[k - 1, :last_from] = 0
            self.block_principal[k - 1, last_from:m] = principal[last_from:m]
            self.block_balance[k - 1, :last_from] = principal[:last_from]
            self.block_balance[k - 1, last_from:m] = 0
            previous[:m] = end


def _instalments(safe: _SafeLoans) -> tuple[IntArray, int]:
    """Per loan: the annuity instalment (annuity loans) or the equal principal part P / n (the others, unused by
    the actual-day methods), in fen; and how many instalments needed the exact computation."""
    n = safe.months
    part = (2 * safe.principal + n) // (2 * n)
    annuity = (safe.method == ANNUITY) & (safe.rate > 0) & (n > 1)  # one period: the last repays all, no instalment
    if not annuity.any():
        return part, 0
    indices = np.flatnonzero(annuity)
    periods = n[indices]
    principal = safe.principal[indices].astype(np.float64)
    rate = safe.rate[indices] / MONTHLY_DIVISOR  # the exact monthly rate, within an ulp
    # r / (1 − (1+r)^−n) through log1p/expm1: no cancellation even for the smallest rates.
    estimate = principal * rate / -np.expm1(-periods * np.log1p(rate))
    near_tie = np.abs(estimate - np.floor(estimate) - 0.5) <= estimate * _TIE_RELATIVE + _TIE_ABSOLUTE
    rounded = np.floor(estimate + 0.5).astype(np.int64)
    for position in np.flatnonzero(near_tie):
        index = int(indices[position])
        rate_pct = Decimal(int(safe.rate[index])).scaleb(-6)
        exact = annuity_instalment(_yuan(int(safe.principal[index])), rate_pct, int(n[index]))
        rounded[position] = int(exact.scaleb(2))
    instalment = part.copy()
    instalment[annuity] = rounded
    return instalment, int(near_tie.sum())


def _write_reference(arrays: ScheduleArrays, loans: _Loans, index: int, calendar: WorkingDays | None) -> None:
    terms = terms_of(
        int(loans.principal[index]),
        int(loans.rate[index]),
        int(loans.months[index]),
        int(loans.method[index]),
        int(loans.start[index]),
        int(loans.interest_day[index]),
    )
    rows = arrays.rows(index)
    periods = build_schedule(terms, calendar=calendar)
    assert len(periods) == rows.stop - rows.start  # the period count depends on dates only
    for row, period in zip(range(rows.start, rows.stop), periods, strict=True):
        arrays.principal[row] = int(period.principal.scaleb(2))
        arrays.interest[row] = int(period.interest.scaleb(2))
        arrays.balance[row] = int(period.balance.scaleb(2))


def _int_column(name: str, values: npt.ArrayLike, size: int | None = None) -> IntArray:
    array = np.asarray(values)
    if array.dtype.kind not in "iub":
        raise ValueError(f"{name} must hold integers, not {array.dtype}")
    array = array.astype(np.int64, copy=False)
    if size is None:
        if array.ndim > 1:
            raise ValueError(f"{name} must be one-dimensional")
        return array
    if array.shape != (size,):
        raise ValueError(f"{name} has shape {array.shape}; principal_fen has ({size},)")
    return array


def _check_range(name: str, values: IntArray, low: int, high: int | None) -> None:
    bad = values < low if high is None else (values < low) | (values > high)
    if bad.any():
        index = int(np.flatnonzero(bad)[0]) if values.ndim else 0
        value = int(values[index]) if values.ndim else int(values)
        limit = f"at least {low}" if high is None else f"from {low} to {high}"
        raise ValueError(f"{name}[{index}] = {value} must be {limit}")


def _yuan(fen: int) -> Decimal:
    return Decimal(fen).scaleb(-2)
