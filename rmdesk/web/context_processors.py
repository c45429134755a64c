"""Template context every page may use."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date

from django.http import HttpRequest

from rmdesk.batch import ledger, runner


def end_of_day(request: HttpRequest) -> dict[str, Callable[[], date | None]]:
    """`last_end_of_day`: the business date of the last complete end-of-day run (None before the first). Days past
    due, penalty and classification proposals are as of that date, not of the wall clock, and the collection pages
    say so. Read once, and only by a page that shows it."""

    @functools.cache
    def last_end_of_day() -> date | None:
        return ledger.last_completed_date(runner.JOB_NAMES)

    return {"last_end_of_day": last_end_of_day}
