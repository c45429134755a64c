"""Working days: chinese-calendar's holidays and adjusted working days where it has data, weekends only beyond."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from rmdesk.core.workdays import WorkingDays


def test_national_day_rolls_to_the_first_working_day_after_the_golden_week() -> None:
    # given
    calendar = WorkingDays.from_chinese_calendar()

    # when
    rolled = calendar.roll_forward(date(2025, 10, 1))

    # then
    assert calendar.is_working_day(date(2025, 10, 1)) is False
    assert rolled == date(2025, 10, 9)


def test_an_adjusted_working_weekend_day_is_a_working_day() -> None:
    # given 调休: Sunday 28 September and Saturday 11 October 2025 were worked for the National Day holiday
    calendar = WorkingDays.from_chinese_calendar()

    # when / then
    assert calendar.is_working_day(date(2025, 9, 28)) is True
    assert calendar.roll_forward(date(2025, 9, 28)) == date(2025, 9, 28)
    assert calendar.is_working_day(date(2025, 10, 11)) is True


def test_an_ordinary_weekend_rolls_to_monday_and_a_working_day_stays() -> None:
    calendar = WorkingDays.from_chinese_calendar()

    assert calendar.roll_forward(date(2025, 3, 15)) == date(2025, 3, 17)  # Saturday
    assert calendar.roll_forward(date(2025, 3, 18)) == date(2025, 3, 18)  # Tuesday


def test_spring_festival_2026_rolls_past_the_whole_holiday() -> None:
    calendar = WorkingDays.from_chinese_calendar()

    assert calendar.roll_forward(date(2026, 2, 15)) == date(2026, 2, 24)


def test_beyond_the_covered_years_only_weekends_are_days_off() -> None:
    # given chinese-calendar 1.11.0 covers 2004 to 2026
    calendar = WorkingDays.from_chinese_calendar()

    # when / then: 1 January 2027 will be a holiday, but no data says so yet
    assert calendar.covered_years == (2004, 2026)
    assert calendar.last_covered_year == 2026
    assert calendar.covers(date(2026, 12, 31)) is True
    assert calendar.covers(date(2027, 1, 1)) is False
    assert calendar.covers(date(2003, 12, 31)) is False
    assert calendar.is_working_day(date(2027, 1, 1)) is True
    assert calendar.roll_forward(date(2027, 1, 2)) == date(2027, 1, 4)


def test_a_weekends_only_calendar_covers_nothing() -> None:
    calendar = WorkingDays.weekends_only()

    assert calendar.covers(date(2025, 10, 1)) is False
    assert calendar.is_working_day(date(2025, 10, 1)) is True
    assert calendar.roll_forward(date(2025, 9, 28)) == date(2025, 9, 29)
    assert calendar.last_covered_year is None


def test_the_calendar_is_built_once_per_process() -> None:
    assert WorkingDays.from_chinese_calendar() is WorkingDays.from_chinese_calendar()


def test_rolling_ordinals_in_bulk_agrees_with_rolling_each_date() -> None:
    # given every day from 2003 to 2028, across both edges of the holiday data
    calendar = WorkingDays.from_chinese_calendar()
    first, last = date(2003, 1, 1), date(2028, 12, 31)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]

    # when
    rolled = calendar.roll_ordinals(np.array([day.toordinal() for day in days], dtype=np.int32))

    # then
    assert [date.fromordinal(int(ordinal)) for ordinal in rolled] == [calendar.roll_forward(day) for day in days]


def test_the_roll_table_grows_to_cover_a_wider_range() -> None:
    # given a fresh calendar whose table covers one week
    calendar = WorkingDays(holidays=[date(2030, 1, 1)], covered_years=(2030, 2030))
    calendar.roll_table(date(2030, 1, 1).toordinal(), date(2030, 1, 7).toordinal())

    # when a later range is asked for
    first, table = calendar.roll_table(date(2029, 12, 31).toordinal(), date(2030, 3, 1).toordinal())

    # then the table spans both, and the holiday still rolls
    assert first <= date(2029, 12, 31).toordinal()
    assert first + table.size - 1 >= date(2030, 3, 1).toordinal()
    assert date.fromordinal(int(table[date(2030, 1, 1).toordinal() - first])) == date(2030, 1, 2)
