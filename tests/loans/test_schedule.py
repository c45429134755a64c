"""The exact schedule engine (issue 6 item 2): every method, to the fen, with the issue's own checks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from rmdesk.core.workdays import WorkingDays
from rmdesk.loans.schedule import (
    LoanTerms,
    Method,
    Period,
    RateChange,
    ScheduleError,
    add_months,
    annuity_instalment,
    build_schedule,
    interest_dates,
    maturity_date,
    validate_terms,
)

CALENDAR = WorkingDays.from_chinese_calendar()


def terms(
    principal: str,
    rate: str,
    months: int,
    method: Method,
    start: date,
    *,
    interest_day: int = 20,
    rate_changes: tuple[RateChange, ...] = (),
) -> LoanTerms:
    return LoanTerms(Decimal(principal), Decimal(rate), months, method, start, interest_day, rate_changes)


def rows(periods: list[Period]) -> list[tuple[int, str, str, str, str, str]]:
    """(number, scheduled date, principal, interest, total, balance) of each period, as text for exact comparison."""
    return [
        (p.number, p.scheduled_date.isoformat(), str(p.principal), str(p.interest), str(p.total), str(p.balance))
        for p in periods
    ]


# --- the issue's checks ------------------------------------------------------------------------------------------


def test_the_issues_annuity_check_holds_to_the_fen() -> None:
    # given 1,000,000.00 at 3.5% over 360 months, equal instalments
    loan = terms("1000000.00", "3.5", 360, Method.ANNUITY, date(2025, 1, 15))

    # when
    periods = build_schedule(loan)

    # then
    assert len(periods) == 360
    assert periods[0].total == Decimal("4490.45")
    assert (periods[0].principal, periods[0].interest) == (Decimal("1573.78"), Decimal("2916.67"))
    assert periods[-1].total == Decimal("4488.52")
    assert sum(p.interest for p in periods) == Decimal("616560.07")
    assert sum(p.principal for p in periods) == Decimal("1000000.00")
    assert periods[-1].balance == Decimal("0.00")
    assert {p.total for p in periods[:-1]} == {Decimal("4490.45")}


def test_the_issues_interest_monthly_check_holds_to_the_fen() -> None:
    # given 5,000,000.00 at 3.5%, interest monthly on the 20th, 12 months from 15 March 2025
    loan = terms("5000000.00", "3.5", 12, Method.INTEREST_MONTHLY, date(2025, 3, 15))

    # when
    periods = build_schedule(loan)

    # then 12 interest dates and maturity
    assert len(periods) == 13
    assert periods[0].interest == Decimal("2430.56")  # 5 days: 5,000,000 × 3.5% / 360 × 5 = 2,430.555…
    assert sum(p.interest for p in periods) == Decimal("177430.52")
    assert [p.scheduled_date for p in periods] == [
        *(add_months(date(2025, 3, 20), k) for k in range(12)),
        date(2026, 3, 15),
    ]
    assert [p.principal for p in periods] == [Decimal("0.00")] * 12 + [Decimal("5000000.00")]
    assert [p.balance for p in periods] == [Decimal("5000000.00")] * 12 + [Decimal("0.00")]


# --- every method ---------------------------------------------------------------------------------------------------


def test_equal_principal_repays_equal_parts_with_the_remainder_last() -> None:
    # given 100,000.00 at 4.35% over three months from 31 January
    loan = terms("100000.00", "4.35", 3, Method.EQUAL_PRINCIPAL, date(2025, 1, 31))

    # when
    periods = build_schedule(loan)

    # then interest on the balance: 100,000 × 4.35% / 12 = 362.50; 66,666.67 → 241.666…; 33,333.34 → 120.833…
    assert rows(periods) == [
        (1, "2025-02-28", "33333.33", "362.50", "33695.83", "66666.67"),
        (2, "2025-03-31", "33333.33", "241.67", "33575.00", "33333.34"),
        (3, "2025-04-30", "33333.34", "120.83", "33454.17", "0.00"),
    ]


def test_interest_quarterly_falls_on_the_20th_of_the_quarter_end_months() -> None:
    # given 1,000,000.00 at 3.6% (100.00 a day) over 12 months from 31 January 2025
    loan = terms("1000000.00", "3.6", 12, Method.INTEREST_QUARTERLY, date(2025, 1, 31))

    # when
    periods = build_schedule(loan)

    # then actual days: 48, 92, 92, 91, then 42 to maturity
    assert rows(periods) == [
        (1, "2025-03-20", "0.00", "4800.00", "4800.00", "1000000.00"),
        (2, "2025-06-20", "0.00", "9200.00", "9200.00", "1000000.00"),
        (3, "2025-09-20", "0.00", "9200.00", "9200.00", "1000000.00"),
        (4, "2025-12-20", "0.00", "9100.00", "9100.00", "1000000.00"),
        (5, "2026-01-31", "1000000.00", "4200.00", "1004200.00", "0.00"),
    ]


def test_bullet_pays_principal_and_actual_day_interest_at_maturity() -> None:
    # given 1,000,000.00 at 3.6% for six months from 15 January 2025: 181 days
    loan = terms("1000000.00", "3.6", 6, Method.BULLET, date(2025, 1, 15))

    # when
    periods = build_schedule(loan)

    # then
    assert rows(periods) == [(1, "2025-07-15", "1000000.00", "18100.00", "1018100.00", "0.00")]


def test_an_interest_day_on_the_drawdown_or_at_maturity_makes_no_zero_day_period() -> None:
    # given a drawdown on the 20th, maturing on the 20th two months later
    loan = terms("360000.00", "3.6", 2, Method.INTEREST_MONTHLY, date(2025, 3, 20))

    # when
    periods = build_schedule(loan)

    # then one interest date between them, and maturity: 31 and 30 days at 36.00 a day
    assert rows(periods) == [
        (1, "2025-04-20", "0.00", "1116.00", "1116.00", "360000.00"),
        (2, "2025-05-20", "360000.00", "1080.00", "361080.00", "0.00"),
    ]


def test_the_interest_day_is_a_term_of_the_loan() -> None:
    # given interest on the 21st
    loan = terms("360000.00", "3.6", 1, Method.INTEREST_MONTHLY, date(2025, 3, 10), interest_day=21)

    # when
    periods = build_schedule(loan)

    # then
    assert [p.scheduled_date for p in periods] == [date(2025, 3, 21), date(2025, 4, 10)]


@pytest.mark.parametrize("method", list(Method))
@pytest.mark.parametrize(("principal", "rate", "months"), [("1000000.01", "4.123456", 7), ("0.07", "36", 13)])
def test_principal_sums_exactly_to_the_amount(method: Method, principal: str, rate: str, months: int) -> None:
    # given awkward amounts that do not divide evenly
    loan = terms(principal, rate, months, method, date(2024, 1, 31))

    # when
    periods = build_schedule(loan)

    # then
    assert sum(p.principal for p in periods) == Decimal(principal)
    assert periods[-1].balance == Decimal("0.00")
    assert all(p.balance >= 0 and p.principal >= 0 and p.interest >= 0 for p in periods)
    assert [p.number for p in periods] == list(range(1, len(periods) + 1))


def test_a_tiny_amount_over_a_long_term_never_repays_more_than_is_left() -> None:
    # given 1.00 over 150 months: the rounded part 0.01 exceeds 1.00 / 150
    loan = terms("1.00", "0", 150, Method.EQUAL_PRINCIPAL, date(2025, 1, 31))

    # when
    periods = build_schedule(loan)

    # then 100 periods repay 0.01 each and the rest repay nothing
    assert [p.principal for p in periods] == [Decimal("0.01")] * 100 + [Decimal("0.00")] * 50
    assert periods[99].balance == Decimal("0.00")


def test_a_zero_rate_annuity_repays_the_amount_in_equal_parts() -> None:
    periods = build_schedule(terms("100.00", "0", 3, Method.ANNUITY, date(2025, 1, 1)))

    assert [(p.principal, p.interest) for p in periods] == [
        (Decimal("33.33"), Decimal("0.00")),
        (Decimal("33.33"), Decimal("0.00")),
        (Decimal("33.34"), Decimal("0.00")),
    ]


# --- dates ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 1, 31), 2, date(2025, 3, 31)),
        (date(2025, 12, 15), 1, date(2026, 1, 15)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
    ],
)
def test_adding_months_keeps_the_day_clamped_to_the_month_end(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_periods_count_from_the_drawdown_so_a_clamped_month_does_not_shift_the_next() -> None:
    # given a drawdown on 31 January
    periods = build_schedule(terms("3000.00", "3", 3, Method.ANNUITY, date(2025, 1, 31)))

    # then 28 February, then back to the 31st
    assert [p.scheduled_date for p in periods] == [date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30)]
    assert maturity_date(date(2025, 1, 31), 3) == date(2025, 4, 30)


def test_interest_dates_lie_strictly_between_drawdown_and_maturity() -> None:
    assert interest_dates(date(2025, 3, 20), date(2025, 9, 20), 20, quarterly=True) == [date(2025, 6, 20)]
    assert interest_dates(date(2025, 3, 19), date(2025, 3, 25), 20, quarterly=True) == [date(2025, 3, 20)]
    assert interest_dates(date(2025, 11, 21), date(2026, 4, 1), 20, quarterly=True) == [
        date(2025, 12, 20),
        date(2026, 3, 20),
    ]


def test_due_dates_roll_to_the_next_working_day_and_amounts_do_not_change() -> None:
    # given a loan drawn on 1 September 2025: its first instalment is scheduled on National Day
    loan = terms("120000.00", "3.5", 2, Method.EQUAL_PRINCIPAL, date(2025, 9, 1))

    # when
    rolled = build_schedule(loan, calendar=CALENDAR)
    unrolled = build_schedule(loan)

    # then
    assert [(p.scheduled_date, p.due_date) for p in rolled] == [
        (date(2025, 10, 1), date(2025, 10, 9)),
        (date(2025, 11, 1), date(2025, 11, 3)),
    ]
    assert [p.due_date for p in unrolled] == [date(2025, 10, 1), date(2025, 11, 1)]
    assert rows(rolled) == rows(unrolled)
    assert not any(p.due_date_provisional for p in rolled + unrolled)


def test_due_dates_beyond_the_holiday_data_roll_over_weekends_only_and_are_provisional() -> None:
    # given a loan whose instalments run from December 2026 into 2027 (chinese-calendar 1.11.0 ends with 2026)
    loan = terms("120000.00", "3.5", 3, Method.EQUAL_PRINCIPAL, date(2026, 10, 31))

    # when
    periods = build_schedule(loan, calendar=CALENDAR)

    # then 31 January 2027 is a Sunday and rolls to Monday; 1 January would be a holiday but no data says so
    assert [(p.due_date, p.due_date_provisional) for p in periods] == [
        (date(2026, 11, 30), False),
        (date(2026, 12, 31), False),
        (date(2027, 2, 1), True),
    ]


def test_a_due_date_that_rolls_out_of_the_holiday_data_is_provisional() -> None:
    # given holiday data for 2030 only, with 30 and 31 December off, and an instalment on Saturday 28 December 2030
    calendar = WorkingDays(holidays=[date(2030, 12, 30), date(2030, 12, 31)], covered_years=(2030, 2030))
    loan = terms("1000.00", "3", 1, Method.BULLET, date(2030, 11, 28))

    # when
    (period,) = build_schedule(loan, calendar=calendar)

    # then it rolls into 2031, which the data does not reach
    assert (period.scheduled_date, period.due_date, period.due_date_provisional) == (
        date(2030, 12, 28),
        date(2031, 1, 1),
        True,
    )


# --- rounding -------------------------------------------------------------------------------------------------------


def test_a_half_fen_of_interest_rounds_up() -> None:
    # given 1.00 at 6% for one month: 0.005 of interest, which banker's rounding would make 0.00
    (period,) = build_schedule(terms("1.00", "6", 1, Method.EQUAL_PRINCIPAL, date(2025, 1, 1)))

    assert period.interest == Decimal("0.01")


def test_the_monthly_rate_is_never_rounded_before_use() -> None:
    # given 3.5% a year: 0.291666…% a month; rounded to 0.2917% it would give 2,917.00 on 1,000,000.00
    (first, *_rest) = build_schedule(terms("1000000.00", "3.5", 2, Method.EQUAL_PRINCIPAL, date(2025, 1, 1)))

    assert first.interest == Decimal("2916.67")


def test_an_annuity_instalment_on_an_exact_half_fen_tie_rounds_up() -> None:
    # given an amount and rate whose exact instalment is 3,200,008,000.005 (found by search): P·q²/(1+q) for
    # q = 1 + 0.0015% / 12, with a first interest of 8,000.005
    loan = terms("6400004000.00", "0.0015", 2, Method.ANNUITY, date(2025, 1, 10))

    # when
    periods = build_schedule(loan)

    # then both round up
    assert annuity_instalment(Decimal("6400004000.00"), Decimal("0.0015"), 2) == Decimal("3200008000.01")
    assert rows(periods) == [
        (1, "2025-02-10", "3200000000.00", "8000.01", "3200008000.01", "3200004000.00"),
        (2, "2025-03-10", "3200004000.00", "4000.01", "3200008000.01", "0.00"),
    ]


# --- rate changes (LPR repricing) -----------------------------------------------------------------------------------


def test_an_annuity_is_recomputed_over_the_remaining_periods_when_the_rate_changes() -> None:
    # given 120,000.00 at 6% over 12 months, repriced to 3% from 10 July (the start of period 7)
    loan = terms(
        "120000.00",
        "6",
        12,
        Method.ANNUITY,
        date(2025, 1, 10),
        rate_changes=(RateChange(date(2025, 7, 10), Decimal("3")),),
    )

    # when
    periods = build_schedule(loan)

    # then periods 1–6 pay the 6% instalment, 7–11 the new one on the balance left over six periods
    balance_after_6 = periods[5].balance
    assert balance_after_6 == Decimal("60897.71")
    assert {p.total for p in periods[:6]} == {annuity_instalment(Decimal("120000.00"), Decimal("6"), 12)}
    assert {p.total for p in periods[6:11]} == {annuity_instalment(balance_after_6, Decimal("3"), 6)}
    assert periods[6].interest == Decimal("152.24")  # 60,897.71 × 3% / 12 = 152.244…
    assert periods[5].interest == Decimal("354.36")  # still 6%: 70,871.32 × 6% / 12 = 354.356…
    assert sum(p.principal for p in periods) == Decimal("120000.00")


def test_a_monthly_rate_applies_from_the_first_period_that_starts_on_or_after_the_change() -> None:
    # given a change on 15 July, within period 7 (10 July – 10 August)
    loan = terms(
        "120000.00",
        "6",
        12,
        Method.EQUAL_PRINCIPAL,
        date(2025, 1, 10),
        rate_changes=(RateChange(date(2025, 7, 15), Decimal("3")),),
    )

    # when
    periods = build_schedule(loan)

    # then period 7 keeps 6% on 60,000.00, period 8 has 3% on 50,000.00; principal is unaffected
    assert periods[6].interest == Decimal("300.00")
    assert periods[7].interest == Decimal("125.00")
    assert {p.principal for p in periods} == {Decimal("10000.00")}


def test_an_actual_day_period_splits_its_days_by_rate() -> None:
    # given 1,000,000.00 at 3.65%, 4% from 10 April; the period 20 March – 20 April has 21 days at 3.65%, 10 at 4%
    loan = terms(
        "1000000.00",
        "3.65",
        2,
        Method.INTEREST_MONTHLY,
        date(2025, 3, 20),
        rate_changes=(RateChange(date(2025, 4, 10), Decimal("4")),),
    )

    # when
    periods = build_schedule(loan)

    # then 1,000,000 × (3.65 × 21 + 4 × 10) / 100 / 360 = 3,240.277…, rounded once
    assert periods[0].interest == Decimal("3240.28")
    assert periods[1].interest == Decimal("3333.33")  # 30 days at 4%


def test_a_rate_change_before_the_drawdown_applies_from_the_first_period() -> None:
    loan = terms(
        "1000000.00",
        "3",
        1,
        Method.BULLET,
        date(2025, 3, 20),
        rate_changes=(RateChange(date(2025, 1, 1), Decimal("3.6")),),
    )

    (period,) = build_schedule(loan)

    assert period.interest == Decimal("3100.00")  # 31 days at 100.00


# --- bad input ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"principal": Decimal("0")}, "principal"),
        ({"principal": Decimal("-100.00")}, "principal"),
        ({"principal": Decimal("100.001")}, "principal"),
        ({"principal": Decimal("NaN")}, "principal"),
        ({"principal": Decimal("10000000000000.01")}, "principal"),
        ({"annual_rate_pct": Decimal("-0.01")}, "annual_rate_pct"),
        ({"annual_rate_pct": Decimal("36.000001")}, "annual_rate_pct"),
        ({"annual_rate_pct": Decimal("3.1234567")}, "annual_rate_pct"),
        ({"months": 0}, "months"),
        ({"months": 601}, "months"),
        ({"interest_day": 29}, "interest_day"),
        ({"interest_day": 0}, "interest_day"),
        ({"method": "weekly"}, "method"),
        ({"rate_changes": (RateChange(date(2025, 6, 1), Decimal("37")),)}, "rate_changes"),
        (
            {
                "rate_changes": (
                    RateChange(date(2025, 6, 1), Decimal("3")),
                    RateChange(date(2025, 5, 1), Decimal("3.1")),
                )
            },
            "rate_changes",
        ),
    ],
)
def test_bad_terms_are_refused_naming_the_field(changes: dict[str, object], field: str) -> None:
    # given
    fields: dict[str, object] = {
        "principal": Decimal("1000.00"),
        "annual_rate_pct": Decimal("3.5"),
        "months": 12,
        "method": Method.ANNUITY,
        "start": date(2025, 1, 1),
        **changes,
    }
    loan = LoanTerms(**fields)  # type: ignore[arg-type]

    # when
    with pytest.raises(ScheduleError) as raised:
        build_schedule(loan)

    # then
    assert raised.value.field == field


def test_a_rate_above_36_percent_says_so() -> None:
    with pytest.raises(ScheduleError) as raised:
        validate_terms(terms("1000.00", "40", 12, Method.ANNUITY, date(2025, 1, 1)))

    assert str(raised.value) == "annual_rate_pct: The annual rate must be from 0 to 36 percent, not 40."
    assert raised.value.message % raised.value.params == "The annual rate must be from 0 to 36 percent, not 40."


def test_a_zero_term_says_so() -> None:
    with pytest.raises(ScheduleError) as raised:
        validate_terms(terms("1000.00", "4", 0, Method.BULLET, date(2025, 1, 1)))

    assert str(raised.value) == "months: The term must be a whole number of months from 1 to 600, not 0."


def test_the_extremes_of_the_ranges_are_accepted() -> None:
    for loan in (
        terms("0.01", "0", 1, Method.BULLET, date(2025, 1, 1)),
        terms("10000000000000.00", "36", 600, Method.ANNUITY, date(2025, 1, 1), interest_day=28),
        terms("1.00", "0.000001", 600, Method.INTEREST_QUARTERLY, date(2025, 1, 1), interest_day=1),
    ):
        validate_terms(loan)
        assert sum(p.principal for p in build_schedule(loan)) == loan.principal
