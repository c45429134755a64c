"""The core banking feed (`rmdesk loans-feed`): CSV, XLSX and JSON; the core's schedule kept; repayments in date
order; a file re-sent or repeated inside itself counted once; all or nothing, partial, dry run; the report."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation
from openpyxl import Workbook

from rmdesk.audit.models import AuditEvent
from rmdesk.customers.imports.readers import FileRejected
from rmdesk.customers.models import Customer
from rmdesk.loans.feed import run_feed
from rmdesk.loans.feed.runner import FeedResult
from rmdesk.loans.models import Drawdown, Instalment, LoanContract, Repayment, RepaymentAllocation
from tests.loans.factories import instalments, make_loan
from tests.personas import Bank, credit_code, make_customer

D = date(2025, 9, 30)  # the business date of the files below
COLUMNS = [
    "record",
    "contract_no",
    "customer_credit_code",
    "product",
    "amount",
    "term_months",
    "repayment_method",
    "fixed_rate_pct",
    "guarantee_method",
    "start_date",
    "guarantors",
    "drawn_amount",
    "status",
    "outstanding_principal",
    "drawdown",
    "period",
    "due_date",
    "principal",
    "interest",
    "reference",
    "paid_on",
]


def loan_row(customer: Customer, contract_no: str = "HT-9", **cells: Any) -> dict[str, Any]:
    """A 300,000.00 three-month equal-principal loan at 4.35% drawn 2025-01-15."""
    return {
        "record": "loan",
        "contract_no": contract_no,
        "customer_credit_code": customer.credit_code,
        "product": "working_capital",
        "amount": "300000.00",
        "term_months": "3",
        "repayment_method": "equal-principal",
        "fixed_rate_pct": "4.35",
        "guarantee_method": "credit",
        "start_date": "2025-01-15",
        **cells,
    }


def schedule_rows(contract_no: str = "HT-9") -> list[dict[str, Any]]:
    """The core's schedule of that loan (its own rounding of the third period's interest: 362.51)."""
    periods = [("2025-02-17", "1087.50"), ("2025-03-17", "725.00"), ("2025-04-15", "362.51")]
    return [
        {
            "record": "schedule",
            "contract_no": contract_no,
            "drawdown": "1",
            "period": str(n),
            "due_date": due,
            "principal": "100000.00",
            "interest": interest,
        }
        for n, (due, interest) in enumerate(periods, start=1)
    ]


def repayment_row(reference: str, paid_on: str, amount: str, contract_no: str = "HT-9") -> dict[str, Any]:
    return {
        "record": "repayment",
        "contract_no": contract_no,
        "reference": reference,
        "paid_on": paid_on,
        "amount": amount,
    }


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def feed(path: Path, **options: Any) -> FeedResult:
    options.setdefault("business_date", D)
    with translation.override("en"):
        return run_feed(path, **options)


# --- a first file ----------------------------------------------------------------------------------------------------


def test_a_feed_creates_a_loan_with_the_cores_schedule_and_posts_its_repayments_in_date_order(
    bank: Bank, tmp_path: Path
) -> None:
    # given a file listing two repayments before their loan, the later one first
    customer = make_customer(bank.alice)
    rows = [
        repayment_row("TX-2", "2025-03-17", "100725.00"),
        repayment_row("TX-1", "2025-02-17", "101087.50"),
        loan_row(customer),
        *schedule_rows(),
    ]
    # when it is applied
    result = feed(write_csv(tmp_path / "core.csv", rows))
    # then the loan is created with the core's schedule, kept as sent
    assert result.saved and result.errors == []
    loan = LoanContract.objects.get(contract_no="HT-9")
    assert (loan.schedule_source, loan.primary_rm, loan.customer) == ("core", bank.alice, customer)
    assert [(r.due_date, r.interest_due) for r in instalments(loan)] == [
        (date(2025, 2, 17), Decimal("1087.50")),
        (date(2025, 3, 17), Decimal("725.00")),
        (date(2025, 4, 15), Decimal("362.51")),
    ]
    # and each repayment paid its own period, in the order they were paid
    paid = {
        r.external_ref: [(a.instalment.number, a.component) for a in r.allocations.order_by("pk")]
        for r in Repayment.objects.prefetch_related("allocations__instalment")
    }
    assert paid == {"TX-1": [(1, "interest"), (1, "principal")], "TX-2": [(2, "interest"), (2, "principal")]}
    loan.refresh_from_db()
    assert (loan.outstanding_principal, loan.days_past_due, loan.overpayment) == (
        Decimal("100000.00"),
        (D - date(2025, 4, 15)).days,
        Decimal("0.00"),
    )
    assert {name: result.counts[name] for name in ("loans_created", "instalments_created", "repayments_posted")} == {
        "loans_created": 1,
        "instalments_created": 3,
        "repayments_posted": 2,
    }
    # one audit event for the file, besides the loan's and the repayments' own
    assert AuditEvent.objects.get(action="loans.feed").changes["repayments_posted"] == 2
    assert AuditEvent.objects.filter(action="loan.repayment", actor_id=None).count() == 2


def test_a_loan_sent_without_its_schedule_gets_the_engines(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    feed(write_csv(tmp_path / "core.csv", [loan_row(customer)]))
    loan = LoanContract.objects.get(contract_no="HT-9")
    assert loan.schedule_source == "rmdesk"
    assert [r.interest_due for r in instalments(loan)] == [Decimal("1087.50"), Decimal("725.00"), Decimal("362.50")]


def test_re_sending_a_file_changes_nothing(bank: Bank, tmp_path: Path) -> None:
    # given a file applied once
    customer = make_customer(bank.alice)
    path = write_csv(
        tmp_path / "core.csv", [loan_row(customer), *schedule_rows(), repayment_row("TX-1", "2025-02-17", "101087.50")]
    )
    feed(path)
    before = (
        list(LoanContract.objects.values()),
        list(Instalment.objects.order_by("pk").values()),
        list(RepaymentAllocation.objects.order_by("pk").values()),
    )
    events = AuditEvent.objects.count()
    # when the same file is sent again
    again = feed(path)
    # then nothing changed: the loan and its periods are unchanged, the repayment already posted
    assert again.saved and again.errors == []
    assert (again.counts["loans_unchanged"], again.counts["instalments_unchanged"]) == (1, 3)
    assert (again.counts["repayments_posted"], again.counts["repayments_already_posted"]) == (0, 1)
    after = (
        list(LoanContract.objects.values()),
        list(Instalment.objects.order_by("pk").values()),
        list(RepaymentAllocation.objects.order_by("pk").values()),
    )
    assert after == before
    # only the file's own summary was recorded
    assert AuditEvent.objects.count() == events + 1


def test_a_record_repeated_in_the_file_is_applied_once_and_reported(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    payment = repayment_row("TX-1", "2025-02-17", "101087.50")
    result = feed(write_csv(tmp_path / "core.csv", [loan_row(customer), *schedule_rows(), payment, payment]))
    assert result.saved
    assert result.counts["duplicates"] == 1
    assert [(d.row, d.first_row) for d in result.duplicates] == [(7, 6)]
    assert Repayment.objects.count() == 1
    assert Instalment.objects.get(number=1).principal_paid == Decimal("100000.00")


def test_two_records_with_one_key_and_different_values_are_refused(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    rows = [
        loan_row(customer),
        repayment_row("TX-1", "2025-02-17", "101087.50"),
        repayment_row("TX-1", "2025-02-17", "999.00"),
    ]
    result = feed(write_csv(tmp_path / "core.csv", rows))
    assert not result.saved
    assert [(e.row, e.message) for e in result.errors] == [(4, "Row 3 has the same repayment with other values.")]
    assert not LoanContract.objects.exists()


# --- refused records -------------------------------------------------------------------------------------------------


def test_a_repayment_for_an_unknown_or_closed_loan_is_refused_and_the_file_saves_nothing(
    bank: Bank, tmp_path: Path
) -> None:
    # given a closed loan, and a file with a new loan and repayments for the closed one and an unknown one
    closed = make_loan(bank.alice, make_customer(bank.alice), contract_no="HT-OLD")
    LoanContract.objects.filter(pk=closed.pk).update(status="closed", closed_on=date(2025, 6, 1))
    rows = [
        loan_row(make_customer(bank.alice)),
        repayment_row("TX-1", "2025-07-01", "10.00", contract_no="HT-OLD"),
        repayment_row("TX-2", "2025-07-01", "10.00", contract_no="HT-NONE"),
    ]
    # when the file is applied (all or nothing)
    result = feed(write_csv(tmp_path / "core.csv", rows))
    # then both repayments are refused, naming the loan, and nothing was saved — not even the good loan
    assert not result.saved
    assert [(e.row, e.field, e.message) for e in result.errors] == [
        (3, "contract", "Loan HT-OLD is closed (on 2025-06-01): no repayment can be posted to it."),
        (4, "contract_no", "No loan has the contract number HT-NONE."),
    ]
    assert result.rejected == 2
    assert not LoanContract.objects.filter(contract_no="HT-9").exists()
    assert not Repayment.objects.exists()
    assert not AuditEvent.objects.filter(action="loans.feed").exists()


def test_partial_keeps_the_good_records(bank: Bank, tmp_path: Path) -> None:
    rows = [loan_row(make_customer(bank.alice)), repayment_row("TX-2", "2025-07-01", "10.00", contract_no="HT-NONE")]
    result = feed(write_csv(tmp_path / "core.csv", rows), partial=True)
    assert result.saved
    assert result.rejected == 1
    assert LoanContract.objects.filter(contract_no="HT-9").exists()


def test_a_dry_run_reports_everything_and_saves_nothing(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    result = feed(
        write_csv(tmp_path / "core.csv", [loan_row(customer), repayment_row("TX-1", "2025-02-17", "101087.50")]),
        dry_run=True,
    )
    assert not result.saved
    assert (result.counts["loans_created"], result.counts["repayments_posted"]) == (1, 1)
    assert not LoanContract.objects.exists()
    assert not AuditEvent.objects.exists()


def test_bad_cells_are_errors_naming_row_and_column(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    rows = [
        loan_row(customer, amount="abc", term_months="0", start_date="2025-02-30"),
        loan_row(customer, contract_no="HT-10", fixed_rate_pct="-1", customer_credit_code="91330100MA27U0XC8"),
        {"record": "refund", "contract_no": "HT-11"},
        repayment_row("", "2025-07-01", "0"),
    ]
    result = feed(write_csv(tmp_path / "core.csv", rows))
    assert [(e.row, e.field, e.message) for e in result.errors] == [
        (2, "amount", "Enter an amount, e.g. 1250000.00."),
        (2, "term_months", "Enter a whole number from 1 to 600."),
        (2, "start_date", "This date does not exist."),
        (3, "customer_credit_code", "Enter an 18-character unified social credit code."),
        (3, "fixed_rate_pct", "The annual rate must be from 0 to 36 percent, not -1."),
        (4, "record", "“refund” is not a record type: loan, drawdown, schedule or repayment."),
        (5, "amount", "The amount must be more than zero."),
        (5, "reference", "This field is required."),
    ]
    assert not result.saved


def test_an_unknown_customer_is_refused(bank: Bank, tmp_path: Path) -> None:
    other = make_customer(bank.alice)
    code = other.credit_code
    other.delete()
    result = feed(write_csv(tmp_path / "core.csv", [loan_row(Customer(credit_code=code))]))
    assert [(e.field, e.message) for e in result.errors] == [
        ("customer_credit_code", "No customer has this unified social credit code.")
    ]


def test_an_unknown_column_refuses_the_whole_file(tmp_path: Path, db: None) -> None:
    path = tmp_path / "core.csv"
    path.write_text("record,contract_no,amout\nloan,HT-9,1\n", encoding="utf-8")
    with translation.override("en"), pytest.raises(FileRejected, match="unknown columns amout"):
        run_feed(path)


# --- the core's state and its schedule changing ---------------------------------------------------------------------


def test_the_cores_closing_comes_after_the_files_repayments_and_differences_are_reported(
    bank: Bank, tmp_path: Path
) -> None:
    # given a file that repays the whole loan and says the core closed it, and another loan whose outstanding
    # principal the core reports other than rmdesk computes
    customer = make_customer(bank.alice)
    rows = [
        loan_row(customer, status="closed"),
        *schedule_rows(),
        repayment_row("TX-1", "2025-04-15", "302175.01"),
        loan_row(customer, contract_no="HT-10", outstanding_principal="200000.00"),
    ]
    result = feed(write_csv(tmp_path / "core.csv", rows))
    # then the repayment was posted (the loan was still active) and the loan closed, on the business date
    assert result.saved and result.errors == []
    loan = LoanContract.objects.get(contract_no="HT-9")
    assert (loan.status, loan.overpayment) == ("closed", Decimal("0.00"))
    assert loan.closed_on == date(2025, 4, 15)  # closed by its own last payment before the core's word
    # and the other loan's difference is reported, not refused
    assert [(d.contract_no, d.field, d.core, d.rmdesk) for d in result.differences] == [
        ("HT-10", "outstanding_principal", "200000.00", "300000.00")
    ]


def test_an_overpayment_is_held_and_reported(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    rows = [loan_row(customer), *schedule_rows(), repayment_row("TX-1", "2025-02-17", "101100.00")]
    result = feed(write_csv(tmp_path / "core.csv", rows))
    assert [(o.contract_no, o.reference, o.amount) for o in result.overpayments] == [("HT-9", "TX-1", Decimal("12.50"))]
    assert LoanContract.objects.get(contract_no="HT-9").overpayment == Decimal("12.50")


def test_a_changed_core_schedule_updates_the_unpaid_periods_and_keeps_what_was_paid(bank: Bank, tmp_path: Path) -> None:
    # given the core's schedule, with period 1 repaid
    customer = make_customer(bank.alice)
    feed(
        write_csv(
            tmp_path / "day1.csv",
            [loan_row(customer), *schedule_rows(), repayment_row("TX-1", "2025-02-17", "101087.50")],
        )
    )
    # when the core sends periods 2 and 3 with other interest (a rate change on its side)
    changed = schedule_rows()
    changed[1]["interest"], changed[2]["interest"] = "700.00", "350.00"
    result = feed(write_csv(tmp_path / "day2.csv", [loan_row(customer), *changed]))
    # then those two are updated, period 1 keeps what was paid on it
    assert result.saved and result.counts["instalments_updated"] == 2
    rows = instalments(LoanContract.objects.get(contract_no="HT-9"))
    assert [(r.interest_due, r.interest_paid, r.status) for r in rows] == [
        (Decimal("1087.50"), Decimal("1087.50"), "paid"),
        (Decimal("700.00"), Decimal("0.00"), "overdue"),
        (Decimal("350.00"), Decimal("0.00"), "overdue"),
    ]


def test_a_core_schedule_that_does_not_repay_the_drawdown_is_refused_whole(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    short = schedule_rows()
    short[2]["principal"] = "99999.99"
    result = feed(write_csv(tmp_path / "core.csv", [loan_row(customer), *short]))
    assert [(e.row, e.field, e.message) for e in result.errors] == [
        (3, "principal", "The schedule repays 299,999.99 of principal; drawdown 1 is 300,000.00."),
        (4, "", "Not applied: row 3 of the same schedule was refused."),
        (5, "", "Not applied: row 3 of the same schedule was refused."),
    ]


def test_new_terms_for_a_loan_whose_schedule_rmdesk_computes_need_the_cores_schedule(
    bank: Bank, tmp_path: Path
) -> None:
    customer = make_customer(bank.alice)
    feed(write_csv(tmp_path / "day1.csv", [loan_row(customer)]))
    result = feed(write_csv(tmp_path / "day2.csv", [loan_row(customer, amount="400000.00")]))
    assert [(e.field, e.message) for e in result.errors] == [
        (
            "amount",
            "The core reports other terms for loan HT-9 (amount) than rmdesk's schedule was computed from: send "
            "the loan's schedule with them, so that the core's schedule is kept.",
        )
    ]


def test_a_further_drawdown_from_the_core(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    feed(write_csv(tmp_path / "day1.csv", [loan_row(customer, amount="500000.00", drawn_amount="300000.00")]))
    path = tmp_path / "day2.json"
    path.write_text(
        json.dumps({"drawdowns": [{"contract_no": "HT-9", "drawdown": 2, "drawn_on": "2025-02-01", "amount": 150000}]})
    )
    result = feed(path)
    assert result.saved and result.counts["drawdowns_created"] == 1
    drawdown = Drawdown.objects.get(contract__contract_no="HT-9", number=2)
    assert (drawdown.amount, drawdown.months) == (Decimal("150000.00"), 2)
    assert feed(path).counts["drawdowns_unchanged"] == 1


def test_guarantors_come_with_the_loan_and_a_changed_list_replaces_them(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    code = credit_code()
    guaranteed = loan_row(customer, guarantee_method="guarantee", guarantors=f"杭州担保有限公司|{code}; 王五")
    feed(write_csv(tmp_path / "day1.csv", [guaranteed]))
    loan = LoanContract.objects.get(contract_no="HT-9")
    assert list(loan.guarantors.order_by("pk").values_list("name", "credit_code")) == [
        ("杭州担保有限公司", code),
        ("王五", ""),
    ]
    assert feed(write_csv(tmp_path / "day1.csv", [guaranteed])).counts["loans_unchanged"] == 1
    result = feed(write_csv(tmp_path / "day2.csv", [{**guaranteed, "guarantors": "王五"}]))
    assert result.counts["loans_updated"] == 1
    assert list(loan.guarantors.values_list("name", flat=True)) == ["王五"]
    blank = feed(write_csv(tmp_path / "day3.csv", [{**guaranteed, "guarantors": ""}]))
    assert blank.counts["loans_unchanged"] == 1  # a blank cell says nothing: the guarantors stay


# --- other formats and the command --------------------------------------------------------------------------------


def test_an_xlsx_feed_with_a_sheet_per_record_type(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    book = Workbook()
    loans = book.active
    loans.title = "loans"
    fields = [k for k in loan_row(customer) if k != "record"]
    loans.append(fields)
    loans.append([loan_row(customer)[k] for k in fields])
    loans["D2"] = 300000  # an amount typed as a number
    schedules = book.create_sheet("schedules")
    schedules.append(["contract_no", "period", "due_date", "principal", "interest"])
    for row in schedule_rows():
        schedules.append(
            [
                row["contract_no"],
                int(row["period"]),
                date.fromisoformat(row["due_date"]),
                100000,
                float(row["interest"]),
            ]
        )
    path = tmp_path / "core.xlsx"
    book.save(path)
    result = feed(path)
    assert result.saved and result.errors == []
    assert [r.interest_due for r in instalments(LoanContract.objects.get(contract_no="HT-9"))] == [
        Decimal("1087.50"),
        Decimal("725.00"),
        Decimal("362.51"),
    ]


def test_a_json_feed_reads_numbers_exactly(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    loan = {k: v for k, v in loan_row(customer).items() if k != "record"}
    path = tmp_path / "core.json"
    path.write_text(
        '{"loans": [' + json.dumps(loan)[:-1] + ', "fixed_rate_pct": 4.35}], "repayments": [{"contract_no": "HT-9", '
        '"reference": "TX-1", "paid_on": "2025-02-17", "amount": 101087.50}]}'
    )
    result = feed(path)
    assert result.saved and result.errors == []
    loan_saved = LoanContract.objects.get(contract_no="HT-9")
    assert loan_saved.fixed_rate_pct == Decimal("4.35")
    assert Repayment.objects.get().amount == Decimal("101087.50")


def test_the_command_prints_the_report_and_fails_when_nothing_was_saved(bank: Bank, tmp_path: Path) -> None:
    customer = make_customer(bank.alice)
    good = write_csv(tmp_path / "good.csv", [loan_row(customer), repayment_row("TX-1", "2025-02-17", "101100.00")])
    out = StringIO()
    call_command("loans-feed", str(good), "--date", "2025-09-30", "--language", "en", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "good.csv: 2 records for 2025-09-30 (saved)"
    assert "  repayments: 1 posted, 0 already posted; 1 overpayments held (12.50)" in lines
    assert "  overpayment held: HT-9 TX-1 12.50" in lines
    bad = write_csv(tmp_path / "bad.csv", [repayment_row("TX-9", "2025-02-17", "1.00", contract_no="HT-X")])
    err = StringIO()
    with pytest.raises(CommandError, match="1 records refused: nothing was saved"):
        call_command("loans-feed", str(bad), "--language", "en", stdout=StringIO(), stderr=err)
    assert err.getvalue().splitlines() == ["row 2: contract_no: No loan has the contract number HT-X."]
