"""Working days of the bank's calendar: chinese-calendar's public holidays and adjusted working days (调休) for the
years the package covers, weekends only beyond them.

Pure (no Django): the schedule engine and the end-of-day kernels use it on single dates and, through `roll_ordinals`,
on numpy arrays of date ordinals (`date.toordinal()`, 0001-01-01 = 1). Due dates that roll over weekends only, beyond
the covered years, are provisional: they are recomputed when a new chinese-calendar release brings the holidays.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache

import numpy as np
import numpy.typing as npt

# A roll never crosses more than the longest holiday (Spring Festival, 9 days) plus a weekend; a month of margin is
# safe, and the table grows further should it ever not be.
_ROLL_MARGIN_DAYS = 31


class WorkingDays:
    """Which days are working days: chinese-calendar's holidays and adjusted working days for the years it covers,
    weekends only beyond them."""

    def __init__(
        self,
        *,
        holidays: Iterable[date] = (),
        adjusted_working_days: Iterable[date] = (),
        covered_years: tuple[int, int] | None = None,
    ) -> None:
        self._holidays = frozenset(holidays)
        self._adjusted_working_days = frozenset(adjusted_working_days)
        self.covered_years = covered_years
        if covered_years is None:
            self._covered_ordinals: tuple[int, int] | None = None
        else:
            first, last = covered_years
            self._covered_ordinals = (date(first, 1, 1).toordinal(), date(last, 12, 31).toordinal())
        self._table_lock = threading.Lock()
        # (first ordinal, rolled ordinals): one attribute, so a reader never sees the first of one table with another.
        self._table: tuple[int, npt.NDArray[np.int32]] = (0, np.zeros(0, dtype=np.int32))

    @classmethod
    def from_chinese_calendar(cls) -> WorkingDays:
        """The calendar of the installed chinese-calendar release (one instance per process)."""
        return _chinese_calendar()

    @classmethod
    def weekends_only(cls) -> WorkingDays:
        """Monday to Friday, without holiday data."""
        return cls()

    @property
    def last_covered_year(self) -> int | None:
        """The last year with holiday data, or None for a weekends-only calendar."""
        return None if self.covered_years is None else self.covered_years[1]

    @property
    def covered_ordinals(self) -> tuple[int, int] | None:
        """First and last covered day as ordinals, for vectorised checks."""
        return self._covered_ordinals

    def covers(self, day: date) -> bool:
        """Whether the holiday data reaches `day` (False beyond chinese-calendar's years)."""
        covered = self._covered_ordinals
        return covered is not None and covered[0] <= day.toordinal() <= covered[1]

    def is_working_day(self, day: date) -> bool:
        if day in self._adjusted_working_days:
            return True
        return day.weekday() < 5 and day not in self._holidays

    def roll_forward(self, day: date) -> date:
        """`day` if it is a working day, else the next working day."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def add_working_days(self, start: date, days: int) -> date:
        """The date `days` working days after `start` (start itself not counted): deadlines such as a claim's first
        contact."""
        if days < 0:
            raise ValueError("days must not be negative")
        day = start
        while days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                days -= 1
        return day

    def roll_ordinals(self, ordinals: npt.NDArray[np.integer]) -> npt.NDArray[np.int32]:
        """`roll_forward` on an array of date ordinals, through a lookup table over their range."""
        if ordinals.size == 0:
            return np.zeros(0, dtype=np.int32)
        table_first, table = self.roll_table(int(ordinals.min()), int(ordinals.max()))
        return table[ordinals - table_first]

    def roll_table(self, first: int, last: int) -> tuple[int, npt.NDArray[np.int32]]:
        """(t0, table) with table[o - t0] the rolled ordinal of every ordinal o from `first` to `last`. The table is
        kept and only grows, so kernels that call this per chunk pay for it once."""
        table_first, table = self._table
        if table.size and table_first <= first and last < table_first + table.size:
            return table_first, table
        with self._table_lock:
            table_first, table = self._table
            if table.size:
                first, last = min(first, table_first), max(last, table_first + table.size - 1)
            self._table = (first, self._build_table(first, last))
            return self._table

    def _build_table(self, first: int, last: int) -> npt.NDArray[np.int32]:
        margin = _ROLL_MARGIN_DAYS
        while True:
            ordinals = np.arange(first, last + margin + 1, dtype=np.int64)
            working = (ordinals - 1) % 7 < 5  # 0001-01-01 (ordinal 1) was a Monday
            for day in self._holidays:
                if first <= day.toordinal() <= last + margin:
                    working[day.toordinal() - first] = False
            for day in self._adjusted_working_days:
                if first <= day.toordinal() <= last + margin:
                    working[day.toordinal() - first] = True
            # The next working day at or after each position: its own ordinal where it works, then a running minimum
            # from the end.
            big = np.iinfo(np.int64).max
            rolled = np.minimum.accumulate(np.where(working, ordinals, big)[::-1])[::-1]
            table = rolled[: last - first + 1]
            if table.size == 0 or table[-1] != big:
                return table.astype(np.int32)
            margin *= 2


@cache
def _chinese_calendar() -> WorkingDays:
    # The package's own tables: `is_workday` raises NotImplementedError outside the years they cover, and those years
    # are the years of its holiday table, exactly as the package checks them.
    from chinese_calendar import constants

    years = [day.year for day in constants.holidays]
    return WorkingDays(
        holidays=constants.holidays.keys(),
        adjusted_working_days=constants.workdays.keys(),
        covered_years=(min(years), max(years)),
    )


def is_working_day(day: date) -> bool:
    """Whether `day` is a working day of the mainland calendar (weekdays only beyond chinese-calendar's years)."""
    return _chinese_calendar().is_working_day(day)


def add_working_days(start: date, days: int) -> date:
    """The date `days` working days after `start` on the mainland calendar (start itself not counted)."""
    return _chinese_calendar().add_working_days(start, days)
