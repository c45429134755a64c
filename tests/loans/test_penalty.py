"""The penalty kernel (loans/penalty.py): the rate, one segment's amount to the fen against hand-computed examples,
when a segment is extended and when a new one starts, and the vectorised end-of-day form against the reference."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import numpy as np
import pytest

from rmdesk.loans import penalty
from rmdesk.loans.penalty import EXTEND, NOTHING, START, Segment, accrue, penalty_rate, segment_amount

D = Decimal


# --- the rate and one segment ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contract", "uplift", "expected"),
    [
        ("4.35", 50, "6.525000"),
        ("3.45", 30, "4.485000"),
        ("3.10", 100, "6.200000"),
        ("3.123457", 30, "4.060494"),  # 4.0604941: rounded to the rate columns' 6 decimals
        ("3.123459", 30, "4.060497"),  # 4.0604967 rounds up
        ("0", 50, "0.000000"),
    ],
)
def test_the_penalty_rate_raises_the_contract_rate_by_the_uplift(contract: str, uplift: int, expected: str) -> None:
    # given / when / then
    assert penalty_rate(D(contract), uplift) == D(expected)


@pytest.mark.parametrize(
    ("base", "rate", "days", "expected"),
    [
        # 100,000.00 × 4.35 % × 1.5 / 360 × 31 = 561.875 → 561.88 (the example)
        ("100000.00", "6.525", 31, "561.88"),
        # 435.00 × 6.525 % / 360 × 18 = 1.4191875 → 1.42
        ("435.00", "6.525", 18, "1.42"),
        # 60,000.00 × 6.525 % / 360 × 8 = 87.00 exactly
        ("60000.00", "6.525", 8, "87.00"),
        # 100,000.00 × 5.175 % / 360 × 10 = 143.75
        ("100000.00", "5.175", 10, "143.75"),
        # 1,000.00 × 3.6 % / 360 × 1 = 0.10; 0.01 × 6.525 % / 360 = 0.0000018… → 0.00
        ("1000.00", "3.6", 1, "0.10"),
        ("0.01", "6.525", 1, "0.00"),
        # a half fen exactly rounds up: 2,000.00 × 0.009 % / 360 × 1 = 0.0005 → 0.00; × 10 days = 0.005 → 0.01
        ("2000.00", "0.009", 10, "0.01"),
        ("12345678.91", "5.4375", 365, "680619.85"),
        ("0.00", "6.525", 31, "0.00"),
    ],
)
def test_a_segment_is_base_times_rate_over_360_per_day_rounded_half_up_once(
    base: str, rate: str, days: int, expected: str
) -> None:
    # given / when
    amount = segment_amount(D(base), D(rate), days)
    # then
    assert amount == D(expected)
    exact = Fraction(D(base)) * Fraction(D(rate)) / 100 / 360 * days
    assert amount == (D(exact.numerator) / D(exact.denominator)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


def test_a_segment_refuses_fractions_of_a_fen_and_of_the_rate_columns() -> None:
    # given / when / then
    with pytest.raises(ValueError, match="fen"):
        segment_amount(D("1.001"), D("4.35"), 1)
    with pytest.raises(ValueError, match="6 decimals"):
        segment_amount(D("1.00"), D("4.3500001"), 1)
    with pytest.raises(ValueError, match="negative"):
        segment_amount(D("1.00"), D("4.35"), -1)


# --- extending and starting segments ---------------------------------------------------------------------------------

SINCE = date(2026, 2, 11)  # an instalment due 2026-02-10, overdue since the day after


def test_the_first_day_starts_a_segment_from_the_day_after_the_due_date() -> None:
    # given / when
    step = accrue(
        None, overdue_since=SINCE, accrued_through=None, through=date(2026, 3, 13), base=D("100000.00"),
        annual_rate_pct=D("6.525"),
    )  # fmt: skip
    # then
    assert step.action == START
    assert step.segment == Segment(SINCE, date(2026, 3, 13), D("100000.00"), D("6.525"), D("561.88"))
    assert step.delta == D("561.88")


def test_a_day_on_the_same_base_and_rate_extends_the_segment_and_recomputes_it_from_its_start() -> None:
    # given: 30 days accrued (100,000.00 × 6.525 % / 360 × 30 = 543.75)
    last = Segment(SINCE, date(2026, 3, 12), D("100000.00"), D("6.525"), D("543.75"))
    # when
    step = accrue(
        last, overdue_since=SINCE, accrued_through=date(2026, 3, 12), through=date(2026, 3, 13), base=D("100000.00"),
        annual_rate_pct=D("6.525"),
    )  # fmt: skip
    # then: the 31 days are rounded once, from the segment's start
    assert step.action == EXTEND
    assert step.segment == Segment(SINCE, date(2026, 3, 13), D("100000.00"), D("6.525"), D("561.88"))
    assert step.delta == D("18.13")


def test_rounding_once_per_segment_differs_from_adding_rounded_days() -> None:
    # given: 0.01 × 6.525 % / 360 = 0.0000018125 a day: no day alone reaches half a fen
    last = None
    total = D("0.00")
    accrued: date | None = None
    # when: a thousand days one at a time
    for day in range(1000):
        through = SINCE + timedelta(days=day)
        step = accrue(
            last, overdue_since=SINCE, accrued_through=accrued, through=through, base=D("100.00"),
            annual_rate_pct=D("6.525"),
        )  # fmt: skip
        last, accrued, total = step.segment, through, total + step.delta
    # then: one segment of 1,000 days, 100.00 × 6.525 % / 360 × 1000 = 18.125 → 18.13
    assert last == Segment(SINCE, SINCE + timedelta(days=999), D("100.00"), D("6.525"), D("18.13"))
    assert total == D("18.13")


def test_a_repayment_that_lowers_the_base_starts_a_new_segment() -> None:
    # given: 10 days on 100,000.00 (181.25), then 40,000.00 repaid
    last = Segment(SINCE, date(2026, 2, 20), D("100000.00"), D("6.525"), D("181.25"))
    # when: eight more days on 60,000.00
    step = accrue(
        last, overdue_since=SINCE, accrued_through=date(2026, 2, 20), through=date(2026, 2, 28), base=D("60000.00"),
        annual_rate_pct=D("6.525"),
    )  # fmt: skip
    # then
    assert step.action == START
    assert step.segment == Segment(date(2026, 2, 21), date(2026, 2, 28), D("60000.00"), D("6.525"), D("87.00"))
    assert step.delta == D("87.00")


def test_a_new_rate_starts_a_new_segment() -> None:
    # given: 10 days at 3.45 % × 1.5 = 5.175 % (143.75), repriced to 3.00 % (penalty 4.5 %)
    last = Segment(SINCE, date(2026, 2, 20), D("100000.00"), D("5.175"), D("143.75"))
    # when
    step = accrue(
        last, overdue_since=SINCE, accrued_through=date(2026, 2, 20), through=date(2026, 2, 28), base=D("100000.00"),
        annual_rate_pct=D("4.5"),
    )  # fmt: skip
    # then: 100,000.00 × 4.5 % / 360 × 8 = 100.00
    assert step.segment == Segment(date(2026, 2, 21), date(2026, 2, 28), D("100000.00"), D("4.5"), D("100.00"))


def test_nothing_accrues_on_days_already_accrued_or_on_nothing_owed() -> None:
    # given
    last = Segment(SINCE, date(2026, 2, 20), D("100000.00"), D("6.525"), D("181.25"))
    # when: the same day again, an earlier day, and a base paid off
    again = accrue(
        last, overdue_since=SINCE, accrued_through=date(2026, 2, 20), through=date(2026, 2, 20), base=D("100000.00"),
        annual_rate_pct=D("6.525"),
    )  # fmt: skip
    earlier = accrue(
        last, overdue_since=SINCE, accrued_through=date(2026, 2, 20), through=date(2026, 2, 15), base=D("100000.00"),
        annual_rate_pct=D("6.525"),
    )  # fmt: skip
    paid_off = accrue(
        last, overdue_since=SINCE, accrued_through=date(2026, 2, 20), through=date(2026, 2, 28), base=D("0.00"),
        annual_rate_pct=D("6.525"),
    )  # fmt: skip
    # then
    assert again.action == earlier.action == paid_off.action == NOTHING
    assert again.delta == earlier.delta == paid_off.delta == D("0.00")


def test_days_without_a_base_leave_a_gap_and_a_new_segment_follows() -> None:
    # given: a segment that stopped on 02-20 though the instalment was accrued (on nothing) through 02-25
    last = Segment(SINCE, date(2026, 2, 20), D("100.00"), D("6.525"), D("0.02"))
    # when
    step = accrue(
        last, overdue_since=SINCE, accrued_through=date(2026, 2, 25), through=date(2026, 2, 26), base=D("100.00"),
        annual_rate_pct=D("6.525"),
    )  # fmt: skip
    # then: the same base and rate, but not contiguous: a new segment for 02-26 alone
    assert step.action == START
    assert step.segment is not None and step.segment.start == date(2026, 2, 26)


# --- the vectorised form ---------------------------------------------------------------------------------------------


def test_the_batch_form_agrees_with_the_reference_to_the_fen_on_random_rows() -> None:
    # given: 20,000 random (instalment, kind) rows, with and without a latest segment, some already accrued
    rng = random.Random(20260311)
    through = date(2026, 3, 13)
    cases = []
    for _ in range(20_000):
        base = D(rng.choice([0, 1, rng.randint(1, 10**6), rng.randint(1, 10**11)])) / 100
        rate = D(rng.randint(0, 60_000_000)) / 1_000_000
        since = through - timedelta(days=rng.randint(0, 800))
        last = None
        accrued = None
        if rng.random() < 0.6:
            start = since + timedelta(days=rng.randint(0, max(0, (through - since).days)))
            end = min(through, start + timedelta(days=rng.randint(0, 40)))
            same = rng.random() < 0.7
            last_base = base if same else D(rng.randint(0, 10**9)) / 100
            last_rate = rate if same or rng.random() < 0.5 else D(rng.randint(0, 60_000_000)) / 1_000_000
            last = Segment(
                start, end, last_base, last_rate, segment_amount(last_base, last_rate, (end - start).days + 1)
            )
            accrued = end if rng.random() < 0.9 else end - timedelta(days=1)
        cases.append((last, since, accrued, base, rate))
    rows = penalty.AccrualInput(
        base_fen=np.array([penalty.to_fen(c[3]) for c in cases], dtype=np.int64),
        rate_micro=np.array([penalty.to_rate_micro(c[4]) for c in cases], dtype=np.int64),
        first_day=np.array([max(c[1].toordinal(), c[2].toordinal() + 1 if c[2] else 0) for c in cases], dtype=np.int64),
        has_last=np.array([c[0] is not None for c in cases], dtype=np.bool_),
        last_start=np.array([c[0].start.toordinal() if c[0] else 0 for c in cases], dtype=np.int64),
        last_end=np.array([c[0].end.toordinal() if c[0] else 0 for c in cases], dtype=np.int64),
        last_base_fen=np.array([penalty.to_fen(c[0].base) if c[0] else 0 for c in cases], dtype=np.int64),
        last_rate_micro=np.array([penalty.to_rate_micro(c[0].annual_rate_pct) if c[0] else 0 for c in cases]),
        last_amount_fen=np.array([penalty.to_fen(c[0].amount) if c[0] else 0 for c in cases], dtype=np.int64),
    )
    # when
    result = penalty.accrue_batch(rows, through.toordinal())
    # then
    for i, (last, since, accrued, base, rate) in enumerate(cases):
        step = accrue(
            last, overdue_since=since, accrued_through=accrued, through=through, base=base, annual_rate_pct=rate
        )
        assert result.action[i] == step.action, i
        assert D(int(result.delta_fen[i])) / 100 == step.delta, i
        if step.segment is not None:
            assert date.fromordinal(int(result.start[i])) == step.segment.start, i
            assert D(int(result.amount_fen[i])) / 100 == step.segment.amount, i


def test_products_beyond_64_bits_are_still_exact() -> None:
    # given: ten billion yuan at 54 % for ten years, next to an ordinary row
    base = np.array([10**12, 10**7], dtype=np.int64)
    rate = np.array([54_000_000, 6_525_000], dtype=np.int64)
    days = np.array([3650, 31], dtype=np.int64)
    # when
    amounts = penalty.amounts_fen(base, rate, days)
    # then: 10,000,000,000.00 × 54 % / 360 × 3650 = 54,750,000,000.00; 100,000.00 → 561.88
    assert [int(a) for a in amounts] == [5_475_000_000_000, 56_188]
    assert int(amounts[0]) == penalty.segment_amount_fen(10**12, 54_000_000, 3650)
