"""The end-of-day's calendar job: provisional due dates (beyond the holiday data, rolled over weekends only) are rolled
again from their scheduled dates once a chinese-calendar release covers them, and only those still to fall due."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from rmdesk.batch.models import JobRun
from rmdesk.core.workdays import WorkingDays
from rmdesk.loans.models import Instalment, LoanContract
from rmdesk.postloan.jobs import calendar
from rmdesk.postloan.jobs.common import WHOLE_BANK
from tests.batch.factories import make_loan
from tests.personas import Bank

NOV_10 = date(2026, 11, 10)
# Scheduled dates of the loan's periods, and their due dates as the schedule engine rolls them beyond the holiday
# data (weekends only): Sunday 10 January → Monday 11th; Wednesday 10 February stays; Saturday 10 April → 12th.
SCHEDULED = [NOV_10, date(2027, 1, 10), date(2027, 2, 10), date(2027, 4, 10)]
WEEKENDS_ONLY_DUE = [NOV_10, date(2027, 1, 11), date(2027, 2, 10), date(2027, 4, 12)]
# The new release: 2027 covered, the Spring Festival off from 8 to 12 February, Saturday 10 April a working day.
RELEASE_2027 = WorkingDays(
    holidays=[date(2027, 2, day) for day in range(8, 13)],
    adjusted_working_days=[date(2027, 4, 10)],
    covered_years=(2026, 2027),
)
RELEASE_2026 = WorkingDays(covered_years=(2026, 2026))


@pytest.fixture(autouse=True)
def bank_language_english(settings: Any) -> None:
    settings.LANGUAGE_CODE = "en"


def provisional_loan(bank: Bank) -> LoanContract:
    """A loan whose last three due dates lie beyond the holiday data, as the services leave it."""
    loan = make_loan(bank.alice, [(day, "25000.00", "300.00") for day in SCHEDULED], start=date(2026, 10, 10))
    for row, due in zip(Instalment.objects.filter(contract=loan).order_by("number"), WEEKENDS_ONLY_DUE, strict=True):
        row.due_date, row.due_date_provisional = due, due.year > 2026
        row.save(update_fields=["due_date", "due_date_provisional"])
    return loan


def due_dates(loan: LoanContract) -> list[tuple[date, date, bool]]:
    return list(
        Instalment.objects.filter(contract=loan)
        .order_by("number")
        .values_list("scheduled_date", "due_date", "due_date_provisional")
    )


def installed(monkeypatch: pytest.MonkeyPatch, release: WorkingDays) -> None:
    monkeypatch.setattr(calendar, "bank_calendar", lambda: release)


def test_new_holiday_data_rolls_the_provisional_due_dates_again(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a loan with provisional 2027 due dates, and the release covering 2027 installed
    loan = provisional_loan(bank)
    installed(monkeypatch, RELEASE_2027)
    # when
    counts = calendar.run(on=date(2026, 12, 1), customers=WHOLE_BANK)
    # then the festival moves February's to Monday the 15th, the working Saturday brings April's back to the 10th,
    # January's stays on Monday the 11th; none is provisional any more, and no amount changed
    assert due_dates(loan) == [
        (NOV_10, NOV_10, False),
        (date(2027, 1, 10), date(2027, 1, 11), False),
        (date(2027, 2, 10), date(2027, 2, 15), False),
        (date(2027, 4, 10), date(2027, 4, 10), False),
    ]
    assert counts == {"provisional": 3, "moved": 2, "confirmed": 3, "settled": 0, "contracts": 1}
    assert set(Instalment.objects.filter(contract=loan).values_list("principal_due", "interest_due")) == {
        (Decimal("25000.00"), Decimal("300.00"))
    }


def test_a_second_run_changes_nothing(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    loan = provisional_loan(bank)
    installed(monkeypatch, RELEASE_2027)
    calendar.run(on=date(2026, 12, 1), customers=WHOLE_BANK)
    before = due_dates(loan)
    # when
    counts = calendar.run(on=date(2026, 12, 2), customers=WHOLE_BANK)
    # then
    assert counts == {"provisional": 0, "moved": 0, "confirmed": 0, "settled": 0, "contracts": 0}
    assert due_dates(loan) == before


def test_without_new_data_provisional_dates_stay(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the release that ends with 2026
    loan = provisional_loan(bank)
    installed(monkeypatch, RELEASE_2026)
    # when
    counts = calendar.run(on=date(2026, 12, 1), customers=WHOLE_BANK)
    # then
    assert counts["provisional"] == counts["moved"] == 0
    assert [row[1:] for row in due_dates(loan)] == [
        (NOV_10, False),
        (date(2027, 1, 11), True),
        (date(2027, 2, 10), True),
        (date(2027, 4, 12), True),
    ]


def test_a_date_already_due_stays_and_a_late_release_never_makes_one_overdue(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the release installed only on 13 April 2027: January's and February's have fallen due, and April's
    # would roll back to Saturday the 10th, before the business date
    loan = provisional_loan(bank)
    installed(monkeypatch, RELEASE_2027)
    # when
    counts = calendar.run(on=date(2027, 4, 11), customers=WHOLE_BANK)
    again = calendar.run(on=date(2027, 4, 12), customers=WHOLE_BANK)
    # then the dates already due are left as the batch marked them, settled; April's falls due on the business date,
    # not before it; and the next day there is nothing left to read
    assert [row[1:] for row in due_dates(loan)][1:] == [
        (date(2027, 1, 11), False),
        (date(2027, 2, 10), False),
        (date(2027, 4, 11), False),
    ]
    assert (counts["settled"], counts["moved"], counts["contracts"]) == (2, 1, 1)
    assert again["provisional"] == 0


def test_the_contracts_next_due_date_follows(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    # given the loan with November's instalment paid: February's next after January's... January is next
    loan = provisional_loan(bank)
    Instalment.objects.filter(contract=loan, number__in=[1, 2]).update(
        principal_paid=Decimal("25000.00"), interest_paid=Decimal("300.00"), status="paid"
    )
    LoanContract.objects.filter(pk=loan.pk).update(next_due_date=date(2027, 2, 10))
    installed(monkeypatch, RELEASE_2027)
    # when
    calendar.run(on=date(2026, 12, 1), customers=WHOLE_BANK)
    # then
    loan.refresh_from_db()
    assert loan.next_due_date == date(2027, 2, 15)


def test_the_end_of_day_runs_it_first_and_records_it(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    loan = provisional_loan(bank)
    installed(monkeypatch, RELEASE_2027)
    # when
    out = io.StringIO()
    call_command("eod", "--date", "2026-11-20", stdout=out)
    # then
    first_line = out.getvalue().splitlines()[0]
    assert first_line.startswith("2026-11-20 calendar: provisional 3, moved 2, confirmed 3, settled 0")
    assert JobRun.objects.get(business_date=date(2026, 11, 20), job="calendar", first_customer_id=0).counts == {
        "provisional": 3,
        "moved": 2,
        "confirmed": 3,
        "settled": 0,
        "contracts": 1,
    }
    assert due_dates(loan)[2][1] == date(2027, 2, 15)
