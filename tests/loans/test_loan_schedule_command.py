"""`rmdesk loan-schedule`: the schedule as a table or JSON, due dates by the bank's calendar, and bad input as a
message naming the option."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

ANNUITY = ["--principal", "1000000.00", "--rate", "3.5", "--months", "360", "--method", "annuity"]


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("loan-schedule", *args, "--language", "en", stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_the_issues_annuity_as_a_table_with_totals() -> None:
    # when
    out, err = run(*ANNUITY, "--start", "2025-01-15")

    # then
    lines = out.splitlines()
    assert lines[0] == (
        "Equal instalments (annuity): 1,000,000.00 at 3.5% a year for 360 months, drawn 2025-01-15, maturing 2055-01-15"
    )
    header = ["Period", "Scheduled", "date", "Due", "date", "Principal", "Interest", "Total", "Balance"]
    assert lines[2].split() == header
    assert lines[4].split() == ["1", "2025-02-15", "2025-02-17", "1,573.78", "2,916.67", "4,490.45", "998,426.22"]
    assert lines[-3].split() == ["360", "2055-01-15", "2055-01-15*", "4,475.47", "13.05", "4,488.52", "0.00"]
    assert lines[-1].split() == ["Total", "1,000,000.00", "616,560.07", "1,616,560.07"]
    assert len(lines) == 4 + 360 + 2
    assert "ends with 2026" in err  # its due dates from 2027 on roll over weekends only


def test_it_prints_json_with_amounts_as_strings() -> None:
    # when
    out, err = run(
        "--principal", "5000000", "--rate", "3.5", "--months", "12", "--method", "interest-monthly",
        "--start", "2025-03-15", "--json",
    )  # fmt: skip

    # then
    schedule = json.loads(out)
    assert err == ""
    assert schedule["terms"] == {
        "principal": "5000000.00",
        "annual_rate_pct": "3.5",
        "months": 12,
        "method": "interest-monthly",
        "start": "2025-03-15",
        "maturity": "2026-03-15",
        "interest_day": 20,
        "rate_changes": [],
        "due_date_roll": "next_working_day",
        "holiday_data_until": 2026,
    }
    assert len(schedule["periods"]) == 13
    assert schedule["periods"][1] == {
        "period": 2,
        "scheduled_date": "2025-04-20",
        "due_date": "2025-04-21",
        "due_date_provisional": False,
        "principal": "0.00",
        "interest": "15069.44",
        "total": "15069.44",
        "balance": "5000000.00",
    }
    assert schedule["periods"][0]["interest"] == "2430.56"
    assert schedule["totals"] == {"principal": "5000000.00", "interest": "177430.52", "total": "5177430.52"}


def test_rate_changes_and_the_interest_day_are_options() -> None:
    out, _err = run(
        "--principal", "1000000", "--rate", "3.65", "--months", "2", "--method", "interest-monthly",
        "--start", "2025-03-20", "--interest-day", "20", "--rate-change", "2025-04-10=4", "--json",
    )  # fmt: skip

    schedule = json.loads(out)
    assert [p["interest"] for p in schedule["periods"]] == ["3240.28", "3333.33"]
    assert schedule["terms"]["rate_changes"] == [{"effective_from": "2025-04-10", "annual_rate_pct": "4"}]


@override_settings(DUE_DATE_ROLL="none")
def test_due_dates_do_not_roll_when_the_bank_says_so() -> None:
    out, err = run(*ANNUITY[:5], "2", *ANNUITY[6:], "--start", "2025-09-01", "--json")

    schedule = json.loads(out)
    assert [(p["scheduled_date"], p["due_date"]) for p in schedule["periods"]] == [
        ("2025-10-01", "2025-10-01"),
        ("2025-11-01", "2025-11-01"),
    ]
    assert schedule["terms"]["due_date_roll"] == "none"
    assert err == ""


def test_a_schedule_beyond_the_holiday_data_warns_naming_the_last_covered_year() -> None:
    # when
    out, err = run(*ANNUITY[:5], "3", *ANNUITY[6:], "--start", "2026-11-30", "--json")

    # then
    assert err.strip() == (
        "Warning: the holiday data (chinese-calendar) ends with 2026; due dates after it roll over weekends only "
        "(marked *) and are recomputed when new holiday data arrives."
    )
    assert [p["due_date_provisional"] for p in json.loads(out)["periods"]] == [False, True, True]


@pytest.mark.parametrize(
    ("changed", "message"),
    [
        (("--rate", "40"), "--rate: The annual rate must be from 0 to 36 percent, not 40."),
        (("--rate", "-0.5"), "--rate: The annual rate must be from 0 to 36 percent, not -0.5."),
        (("--rate", "3.1234567"), "--rate: The rate must not have more than 6 decimal places."),
        (("--rate", "abc"), "--rate: abc is not a number."),
        (("--months", "0"), "--months: The term must be a whole number of months from 1 to 600, not 0."),
        (("--months", "1.5"), "--months: 1.5 is not a whole number."),
        (("--principal", "0"), "--principal: The amount must be more than zero."),
        (("--principal", "100.001"), "--principal: The amount must not have more than two decimal places."),
        (("--principal", "lots"), "--principal: lots is not a number."),
        (("--start", "2025-02-30"), "--start: 2025-02-30 is not a date as YYYY-MM-DD."),
        (
            ("--method", "weekly"),
            "--method must be one of annuity, equal-principal, interest-monthly, interest-quarterly, bullet, "
            "not weekly.",
        ),
        (("--interest-day", "31"), "--interest-day: The interest day must be a day of the month from 1 to 28, not 31."),
        (
            ("--rate-change", "2026-01-01"),
            "--rate-change: 2026-01-01 is not a date and a rate as YYYY-MM-DD=RATE, e.g. 2026-01-01=3.1.",
        ),
    ],
)
def test_bad_input_names_the_option(changed: tuple[str, str], message: str) -> None:
    # given the annuity with one option changed
    options = dict(zip(ANNUITY[::2], ANNUITY[1::2], strict=True)) | {"--start": "2025-01-15"}
    options[changed[0]] = changed[1]
    args = [part for pair in options.items() for part in pair]

    # when / then
    with pytest.raises(CommandError) as raised:
        run(*args)
    assert str(raised.value) == message


def test_the_console_script_reports_bad_input_without_a_traceback(tmp_path: Path) -> None:
    # when
    result = subprocess.run(
        [sys.executable, "-m", "rmdesk", "loan-schedule", "--principal", "1000.00", "--rate", "36.5",
         "--months", "12", "--method", "bullet", "--start", "2025-01-01", "--language", "en"],
        capture_output=True, text=True, env={**os.environ, "RMDESK_DATA_DIR": str(tmp_path)}, check=False,
    )  # fmt: skip

    # then
    assert result.returncode == 1
    assert result.stderr.strip() == "CommandError: --rate: The annual rate must be from 0 to 36 percent, not 36.5."
    assert "Traceback" not in result.stderr


def test_a_bad_due_date_roll_setting_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    # when
    result = subprocess.run(
        [sys.executable, "-m", "rmdesk", "loan-schedule", "--principal", "1000.00", "--rate", "3", "--months", "12",
         "--method", "bullet", "--start", "2025-01-01"],
        capture_output=True, text=True, check=False,
        env={**os.environ, "RMDESK_DATA_DIR": str(tmp_path), "RMDESK_DUE_DATE_ROLL": "sometimes"},
    )  # fmt: skip

    # then
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "rmdesk: configuration error: RMDESK_DUE_DATE_ROLL='sometimes' must be one of next_working_day, none."
    )
