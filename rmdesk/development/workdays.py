"""Working days of the mainland calendar, for deadlines such as a claim's first contact. Pure: no Django."""

from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar


def is_working_day(day: date) -> bool:
    """Whether `day` is a working day: the State Council's holiday schedule (with its make-up working weekends)
    where chinese-calendar knows the year, Monday to Friday beyond it."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` (start itself not counted)."""
    if days < 0:
        raise ValueError("days must not be negative")
    day = start
    left = days
    while left:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
