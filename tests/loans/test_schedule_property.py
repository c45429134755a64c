"""The vectorised fen kernel agrees with the exact Decimal reference, to the fen and the day, on 100,000 random loans:
every method, 1–360 months (mostly up to 60), 1.00 to 500,000,000.00, 0–36% with up to six places, drawdowns from
2004 to 2030 (month ends and 29 February included), due dates rolled by chinese-calendar."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from rmdesk.core.workdays import WorkingDays
from rmdesk.loans.schedule import build_schedule
from rmdesk.loans.schedule_fen import ScheduleArrays, build_schedules, terms_of

SEED = 20250615
LOANS = 100_000


def random_loans(rng: np.random.Generator, size: int) -> dict[str, npt.NDArray[np.int64]]:
    # Amounts log-uniform from 1.00 to 500,000,000.00, so small and large amounts are equally represented.
    principal = np.exp(rng.uniform(np.log(100), np.log(50_000_000_000), size)).astype(np.int64)
    round_amounts = rng.random(size) < 0.3
    principal[round_amounts] = np.maximum(principal[round_amounts] // 100_000 * 100_000, 100)
    # Rates: a few zero, many on 0.05% steps (as contracts and LPR + bp quote them), the rest any six-place rate.
    rate = rng.integers(0, 36_000_001, size)
    kind = rng.random(size)
    rate[kind < 0.5] = rng.integers(0, 721, size)[kind < 0.5] * 50_000
    rate[kind < 0.03] = 0
    rate[(kind >= 0.03) & (kind < 0.04)] = 36_000_000
    months = np.where(rng.random(size) < 0.9, rng.integers(1, 61, size), rng.integers(61, 361, size))
    method = rng.integers(0, 5, size)
    first, last = date(2004, 1, 1).toordinal(), date(2030, 12, 31).toordinal()
    start = rng.integers(first, last + 1, size)
    # A third drawn on a month's last day (31st, 30th, 28/29 February), where clamping matters.
    month_end = rng.random(size) < 0.33
    month_ends = _month_ends(first, last)
    start[month_end] = rng.choice(month_ends, month_end.sum())
    interest_day = np.where(rng.random(size) < 0.7, 20, rng.integers(1, 29, size))
    return {
        "principal_fen": principal,
        "rate_ppm": rate,
        "months": months,
        "method": method,
        "start": start,
        "interest_day": interest_day,
    }


def reference_rows(loans: dict[str, npt.NDArray[np.int64]], calendar: WorkingDays) -> dict[str, list[int]]:
    """The reference's rows for every loan, in loan order, as integers (ordinals and fen)."""
    columns: dict[str, list[int]] = {
        name: [] for name in ("loan", "period", "scheduled", "due", "provisional", "principal", "interest", "balance")
    }
    inputs = zip(*(loans[name].tolist() for name in loans), strict=True)
    for index, (principal, rate, months, method, start, interest_day) in enumerate(inputs):
        for period in build_schedule(terms_of(principal, rate, months, method, start, interest_day), calendar=calendar):
            columns["loan"].append(index)
            columns["period"].append(period.number)
            columns["scheduled"].append(period.scheduled_date.toordinal())
            columns["due"].append(period.due_date.toordinal())
            columns["provisional"].append(period.due_date_provisional)
            columns["principal"].append(int(period.principal.scaleb(2)))
            columns["interest"].append(int(period.interest.scaleb(2)))
            columns["balance"].append(int(period.balance.scaleb(2)))
    return columns


def kernel_rows(arrays: ScheduleArrays) -> dict[str, npt.NDArray[np.generic]]:
    """The kernel's rows in loan order (within a loan they are already in period order)."""
    by_loan = np.argsort(arrays.loan, kind="stable")
    return {
        "loan": arrays.loan[by_loan],
        "period": arrays.period[by_loan],
        "scheduled": arrays.scheduled[by_loan],
        "due": arrays.due[by_loan],
        "provisional": arrays.due_provisional[by_loan],
        "principal": arrays.principal[by_loan],
        "interest": arrays.interest[by_loan],
        "balance": arrays.balance[by_loan],
    }


def test_the_fen_kernel_matches_the_exact_reference_on_random_loans() -> None:
    # given
    rng = np.random.default_rng(SEED)
    loans = random_loans(rng, LOANS)
    calendar = WorkingDays.from_chinese_calendar()

    # when
    arrays = build_schedules(**loans, calendar=calendar)
    expected = reference_rows(loans, calendar)

    # then every column agrees row for row; a failure names the first loan that differs
    got = kernel_rows(arrays)
    assert len(arrays) == len(expected["loan"])
    for name, column in expected.items():
        differs = np.flatnonzero(got[name] != np.asarray(column))
        if differs.size:
            loan = int(got["loan"][differs[0]])
            terms = terms_of(*(int(loans[key][loan]) for key in loans))
            raise AssertionError(f"{name} differs first for loan {loan}: {terms}")
    assert np.array_equal(arrays.period_count, np.bincount(np.asarray(expected["loan"]), minlength=LOANS))


def _month_ends(first: int, last: int) -> npt.NDArray[np.int64]:
    """The ordinals of the last day of every month from `first` to `last`."""
    months = np.arange(np.datetime64(date.fromordinal(first), "M"), np.datetime64(date.fromordinal(last), "M") + 1)
    last_days = (months + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    return last_days.astype(np.int64) + date(1970, 1, 1).toordinal()
