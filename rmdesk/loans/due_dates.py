"""The bank's calendar for due dates, as the DUE_DATE_ROLL setting chooses it (the Django side of core.workdays)."""

from __future__ import annotations

from django.conf import settings

from rmdesk.core.workdays import WorkingDays


def bank_calendar() -> WorkingDays | None:
    """The calendar due dates roll by: chinese-calendar's working days, or None when due dates do not roll."""
    if settings.DUE_DATE_ROLL == "none":
        return None
    return WorkingDays.from_chinese_calendar()
