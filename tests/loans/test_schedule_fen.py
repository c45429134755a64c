"""The vectorised fen kernel on the cases random loans rarely hit: the issue's checks, half-fen ties of the annuity
instalment, amounts beyond int64's safe range, the layout of its rows, threads, and bad input."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from rmdesk.core.workdays import WorkingDays
from rmdesk.loans import schedule_fen
from rmdesk.loans.schedule import build_schedule
from rmdesk.loans.schedule_fen import (
    ANNUITY,
    BULLET,
    EQUAL_PRINCIPAL,
    INTEREST_MONTHLY,
    INTEREST_QUARTERLY,
    ScheduleArrays,
    build_schedules,
    terms_of,
)

CALENDAR = WorkingDays.from_chinese_calendar()


def reference_of(loans: list[tuple[int, int, int, int, date]], calendar: WorkingDays | None = CALENDAR) -> list:
    return [build_schedule(terms_of(p, r, m, code, s.toordinal(), 20), calendar=calendar) for p, r, m, code, s in loans]


def kernel_of(
    loans: list[tuple[int, int, int, int, date]], calendar: WorkingDays | None = CALENDAR, threads: int = 1
) -> ScheduleArrays:
    principal, rate, months, method, start = zip(*loans, strict=True)
    return build_schedules(
        principal, rate, months, method, [s.toordinal() for s in start], calendar=calendar, threads=threads
    )


def test_the_kernel_meets_the_issues_checks() -> None:
    # given the issue's two loans
    loans = [
        (100_000_000, 3_500_000, 360, ANNUITY, date(2025, 1, 15)),
        (500_000_000, 3_500_000, 12, INTEREST_MONTHLY, date(2025, 3, 15)),
    ]

    # when
    arrays = kernel_of(loans)

    # then
    annuity, interest_only = arrays.rows(0), arrays.rows(1)
    assert arrays.principal[annuity][0] + arrays.interest[annuity][0] == 449_045
    assert arrays.principal[annuity][-1] + arrays.interest[annuity][-1] == 448_852
    assert arrays.interest[annuity].sum() == 61_656_007
    assert arrays.period_count.tolist() == [360, 13]
    assert arrays.interest[interest_only][0] == 243_056
    assert arrays.interest[interest_only].sum() == 17_743_052
    assert [arrays.periods(i) for i in range(2)] == reference_of(loans)


def test_an_instalment_on_a_half_fen_tie_is_decided_in_exact_rationals() -> None:
    # given an instalment of exactly 3,200,008,000.005 (tests/loans/test_schedule.py)
    loans = [(640_000_400_000, 1_500, 2, ANNUITY, date(2025, 1, 10))]

    # when
    arrays = kernel_of(loans)

    # then
    assert arrays.exact_instalments == 1
    assert arrays.principal.tolist() == [320_000_000_000, 320_000_400_000]
    assert arrays.interest.tolist() == [800_001, 400_001]
    assert arrays.periods(0) == reference_of(loans)[0]


@pytest.mark.parametrize("method", [ANNUITY, EQUAL_PRINCIPAL, INTEREST_MONTHLY, INTEREST_QUARTERLY, BULLET])
def test_amounts_beyond_int64s_safe_range_take_the_exact_path(method: int) -> None:
    # given 10 trillion yuan at 36% (principal × rate would overflow int64) beside an ordinary loan
    loans = [
        (1_000_000_000_000_000, 36_000_000, 600, method, date(2025, 1, 31)),
        (100_000_000, 4_350_000, 36, method, date(2025, 1, 31)),
    ]

    # when
    arrays = kernel_of(loans)

    # then
    assert arrays.exact_loans.tolist() == [0]
    assert [arrays.periods(i) for i in range(2)] == reference_of(loans)


def test_the_largest_safe_product_stays_on_the_vectorised_path_and_is_exact() -> None:
    # given principal × rate exactly at the guard's limit
    rate = 36_000_000
    principal = schedule_fen.SAFE_PRODUCT // rate
    loans = [(principal, rate, 600, method, date(2024, 2, 29)) for method in range(5)]

    # when
    arrays = kernel_of(loans)

    # then
    assert arrays.exact_loans.size == 0
    assert [arrays.periods(i) for i in range(5)] == reference_of(loans)


def test_without_a_calendar_due_dates_are_the_scheduled_dates() -> None:
    loans = [(100_000_00, 3_000_000, 12, ANNUITY, date(2025, 9, 1))]

    arrays = kernel_of(loans, calendar=None)

    assert np.array_equal(arrays.due, arrays.scheduled)
    assert not arrays.due_provisional.any()
    assert arrays.periods(0) == reference_of(loans, calendar=None)[0]


def test_with_a_weekends_only_calendar_every_due_date_is_provisional() -> None:
    loans = [(100_000_00, 3_000_000, 12, INTEREST_QUARTERLY, date(2025, 9, 1))]
    weekends = WorkingDays.weekends_only()

    arrays = kernel_of(loans, calendar=weekends)

    assert arrays.due_provisional.all()
    assert arrays.periods(0) == reference_of(loans, calendar=weekends)[0]


def test_each_loans_rows_are_consecutive_and_located_by_first_row() -> None:
    # given loans of different methods and lengths, in no particular order
    loans = [
        (100_000, 1_000_000, 3, BULLET, date(2025, 1, 1)),
        (100_000, 1_000_000, 3, ANNUITY, date(2025, 1, 1)),
        (100_000, 1_000_000, 5, ANNUITY, date(2025, 1, 1)),
        (100_000, 1_000_000, 6, INTEREST_QUARTERLY, date(2025, 1, 1)),
    ]

    # when
    arrays = kernel_of(loans)

    # then
    assert arrays.period_count.tolist() == [1, 3, 5, 3]
    assert len(arrays) == 12
    for loan in range(4):
        rows = arrays.rows(loan)
        assert arrays.loan[rows].tolist() == [loan] * int(arrays.period_count[loan])
        assert arrays.period[rows].tolist() == list(range(1, int(arrays.period_count[loan]) + 1))


def test_small_chunks_and_two_threads_give_the_same_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    # given chunks of a few loans, some of one length (the block path) and some mixed (the masked path)
    monkeypatch.setattr(schedule_fen, "CHUNK_CELLS", 40)
    monkeypatch.setattr(schedule_fen, "MIN_CHUNK_LOANS", 3)
    rng = np.random.default_rng(7)
    loans = [
        (
            int(rng.integers(100, 10**10)),
            int(rng.integers(0, 36_000_001)),
            int(rng.choice([12, 12, 12, rng.integers(1, 40)])),
            int(rng.integers(0, 5)),
            date.fromordinal(int(rng.integers(date(2020, 1, 1).toordinal(), date(2028, 1, 1).toordinal()))),
        )
        for _ in range(300)
    ]

    # when
    one = kernel_of(loans)
    two = kernel_of(loans, threads=2)

    # then
    expected = reference_of(loans)
    assert [one.periods(i) for i in range(len(loans))] == expected
    assert [two.periods(i) for i in range(len(loans))] == expected


def test_interest_days_may_differ_per_loan() -> None:
    arrays = build_schedules(
        [36_000_000, 36_000_000],
        [3_600_000, 3_600_000],
        [1, 1],
        [INTEREST_MONTHLY, INTEREST_MONTHLY],
        [date(2025, 3, 10).toordinal()] * 2,
        interest_day=[15, 21],
        calendar=None,
    )

    dates = [date.fromordinal(int(ordinal)) for ordinal in arrays.scheduled]
    assert dates[arrays.rows(0)] == [date(2025, 3, 15), date(2025, 4, 10)]
    assert dates[arrays.rows(1)] == [date(2025, 3, 21), date(2025, 4, 10)]


@pytest.mark.parametrize(
    ("column", "value", "message"),
    [
        ("principal_fen", 0, "principal_fen[1] = 0 must be from 1 to 1000000000000000"),
        ("rate_ppm", 36_000_001, "rate_ppm[1] = 36000001 must be from 0 to 36000000"),
        ("rate_ppm", -1, "rate_ppm[1] = -1 must be from 0 to 36000000"),
        ("months", 0, "months[1] = 0 must be from 1 to 600"),
        ("method", 5, "method[1] = 5 must be from 0 to 4"),
    ],
)
def test_bad_input_is_refused_naming_the_column_and_the_loan(column: str, value: int, message: str) -> None:
    # given two loans, the second bad
    columns = {
        "principal_fen": [100_00, 100_00],
        "rate_ppm": [3_000_000, 3_000_000],
        "months": [12, 12],
        "method": [ANNUITY, ANNUITY],
        "start": [date(2025, 1, 1).toordinal()] * 2,
    }
    columns[column][1] = value

    # when / then
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        build_schedules(**columns)


def test_an_interest_day_outside_1_to_28_and_floats_are_refused() -> None:
    good = ([100_00], [3_000_000], [12], [INTEREST_MONTHLY], [date(2025, 1, 1).toordinal()])

    with pytest.raises(ValueError, match="interest_day"):
        build_schedules(*good, interest_day=29)
    with pytest.raises(ValueError, match="principal_fen must hold integers"):
        build_schedules([100.0], *good[1:])
    with pytest.raises(ValueError, match="months has shape"):
        build_schedules(good[0], good[1], [12, 12], good[3], good[4])
