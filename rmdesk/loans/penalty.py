"""Penalty 罚息 and compound 复利 interest on overdue instalments, in segments: a pure kernel (no Django).

A segment accrues on a constant base (the overdue principal for penalty, the overdue interest for compound) at a
constant annual rate over a run of days, inclusive at both ends:

    amount = base × annual_rate_pct / 100 / 360 × days, rounded half-up to the fen once per segment.

A new segment starts when the base or the rate changes (a repayment, a repricing); otherwise each end-of-day moves the
open segment's end to the business date and recomputes its amount from its start, so re-running a day changes nothing
and a day is never added twice. Amounts are integer fen and rates integer millionths of a percent (the 6 decimals of
the rate columns), so every result is exact; the reference functions work on Decimal and agree to the fen.

`accrue_batch` is the end-of-day's form: one call for every (instalment, kind) row of a chunk, on numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import numpy.typing as npt

FEN = Decimal("0.01")
RATE_PLACES = Decimal("0.000001")  # the rate columns' 6 decimals
MICRO_PER_PERCENT = 1_000_000
DAYS_PER_YEAR = 360
# amount_fen = base_fen × rate_micro × days / DENOMINATOR (percent → fraction, micro → percent, per day)
DENOMINATOR = 100 * MICRO_PER_PERCENT * DAYS_PER_YEAR
# numpy's int64 holds the doubled numerator of half-up rounding below this; larger products go through Python ints.
_INT64_SAFE = (2**63 - 1 - DENOMINATOR) // 2

IntArray = npt.NDArray[np.int64]

# What accrue_batch decided for a row.
NOTHING = 0  # already accrued through the date, or nothing to accrue on (base zero)
EXTEND = 1  # the open segment runs on with the same base and rate: its end moves, its amount is recomputed
START = 2  # a new segment starts (the first, or the base or rate changed, or days without a base came between)


def penalty_rate(contract_rate_pct: Decimal, uplift_pct: Decimal | int) -> Decimal:
    """The penalty rate: the contract rate raised by `uplift_pct` percent (50 → × 1.5), to the rate columns' 6
    decimals, half-up (3.123457 % × 1.3 = 4.0604941 → 4.060494)."""
    raised = Decimal(contract_rate_pct) * (100 + Decimal(uplift_pct)) / 100
    return raised.quantize(RATE_PLACES, rounding=ROUND_HALF_UP)


def segment_amount(base: Decimal, annual_rate_pct: Decimal, days: int) -> Decimal:
    """Reference: base × rate / 100 / 360 × days, rounded half-up to the fen (exact: integers, no binary floats)."""
    if days < 0:
        raise ValueError("a segment cannot have negative days")
    return Decimal(segment_amount_fen(to_fen(base), to_rate_micro(annual_rate_pct), days)) / 100


def segment_amount_fen(base_fen: int, rate_micro: int, days: int) -> int:
    """The same in integers: fen, millionths of a percent, days → fen."""
    if base_fen < 0 or rate_micro < 0 or days < 0:
        raise ValueError("base, rate and days of a segment are never negative")
    return (2 * base_fen * rate_micro * days + DENOMINATOR) // (2 * DENOMINATOR)


def to_fen(amount: Decimal) -> int:
    """An amount in yuan as integer fen; refuses fractions of a fen (the database holds 2 decimals)."""
    fen = Decimal(amount) * 100
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} is not a whole number of fen")
    return int(fen)


def to_rate_micro(rate_pct: Decimal) -> int:
    """An annual rate in percent as integer millionths of a percent (3.45 → 3,450,000)."""
    micro = Decimal(rate_pct) * MICRO_PER_PERCENT
    if micro != micro.to_integral_value():
        raise ValueError(f"{rate_pct} has more than 6 decimals")
    return int(micro)


# --- one segment at a time (the reference) --------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """An accrual segment as stored: [start, end] inclusive, on `base` at `annual_rate_pct`."""

    start: date
    end: date
    base: Decimal
    annual_rate_pct: Decimal
    amount: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class Step:
    """What one end-of-day does to an instalment's accrual of one kind."""

    action: int  # NOTHING, EXTEND or START
    segment: Segment | None  # the extended or new segment (None when nothing changes)
    delta: Decimal  # how much the instalment's accrued total moves


def accrue(
    last: Segment | None,
    *,
    overdue_since: date,
    accrued_through: date | None,
    through: date,
    base: Decimal,
    annual_rate_pct: Decimal,
) -> Step:
    """Reference for one instalment and kind: accrue the days after `accrued_through` (from `overdue_since`) through
    `through` on `base` at `annual_rate_pct`, extending `last` when it ends the day before with the same base and
    rate, else starting a new segment. Days already accrued are never accrued again."""
    start = overdue_since
    if accrued_through is not None:
        start = max(start, accrued_through + timedelta(days=1))
    if last is not None:
        start = max(start, last.end + timedelta(days=1))
    if start > through or base <= 0:
        return Step(NOTHING, None, Decimal("0.00"))
    if (
        last is not None
        and last.end == start - timedelta(days=1)
        and last.base == base
        and last.annual_rate_pct == annual_rate_pct
    ):
        days = (through - last.start).days + 1
        amount = segment_amount(base, annual_rate_pct, days)
        return Step(EXTEND, Segment(last.start, through, base, annual_rate_pct, amount), amount - last.amount)
    amount = segment_amount(base, annual_rate_pct, (through - start).days + 1)
    return Step(START, Segment(start, through, base, annual_rate_pct, amount), amount)


# --- many at once (the end-of-day) ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccrualInput:
    """One row per (instalment, kind); dates as proleptic ordinals (date.toordinal()).

    `last_*` describe the row's latest segment; `has_last` is False where it has none (then the other `last_*` are
    ignored)."""

    base_fen: IntArray
    rate_micro: IntArray
    first_day: IntArray  # the first day not yet accrued: max(overdue_since, accrued_through + 1)
    has_last: npt.NDArray[np.bool_]
    last_start: IntArray
    last_end: IntArray
    last_base_fen: IntArray
    last_rate_micro: IntArray
    last_amount_fen: IntArray


@dataclass(frozen=True)
class AccrualResult:
    action: IntArray  # NOTHING, EXTEND or START per row
    start: IntArray  # the extended or new segment's start (ordinal); meaningless where NOTHING
    amount_fen: IntArray  # its amount
    delta_fen: IntArray  # the change of the instalment's accrued total


def amounts_fen(base_fen: IntArray, rate_micro: IntArray, days: IntArray) -> IntArray:
    """segment_amount_fen over arrays, exact: int64 where the product fits, Python integers for the rare rows where
    it would not (a very large base over a very long time)."""
    base_fen = np.asarray(base_fen, dtype=np.int64)
    rate_days = np.asarray(rate_micro, dtype=np.int64) * np.asarray(days, dtype=np.int64)
    if np.any(base_fen < 0) or np.any(rate_days < 0):
        raise ValueError("base, rate and days of a segment are never negative")
    safe = base_fen <= _INT64_SAFE // np.maximum(rate_days, 1)
    out = np.zeros(base_fen.shape, dtype=np.int64)
    out[safe] = (2 * base_fen[safe] * rate_days[safe] + DENOMINATOR) // (2 * DENOMINATOR)
    for i in np.flatnonzero(~safe):
        out[i] = (2 * int(base_fen[i]) * int(rate_days[i]) + DENOMINATOR) // (2 * DENOMINATOR)
    return out


def accrue_batch(rows: AccrualInput, through: int) -> AccrualResult:
    """`accrue` for every row at once, through the ordinal day `through`."""
    first = rows.first_day
    if rows.has_last.any():
        first = np.where(rows.has_last, np.maximum(first, rows.last_end + 1), first)
    active = (first <= through) & (rows.base_fen > 0)
    extend = (
        active
        & rows.has_last
        & (rows.last_end == first - 1)
        & (rows.last_base_fen == rows.base_fen)
        & (rows.last_rate_micro == rows.rate_micro)
    )
    start = np.where(extend, rows.last_start, first)
    days = np.where(active, through - start + 1, 0)
    amount = amounts_fen(np.where(active, rows.base_fen, 0), rows.rate_micro, days)
    action = np.where(extend, EXTEND, np.where(active, START, NOTHING)).astype(np.int64)
    delta = np.where(extend, amount - rows.last_amount_fen, np.where(active, amount, 0)).astype(np.int64)
    return AccrualResult(action=action, start=start.astype(np.int64), amount_fen=amount, delta_fen=delta)
