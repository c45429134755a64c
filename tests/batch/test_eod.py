"""`rmdesk eod`: which dates it runs and refuses, the job ledger and its audit events, a date run twice, a run that
died halfway resuming without counting anything twice, and the jobs split among workers by customer-id ranges."""

from __future__ import annotations

import io
import itertools
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from rmdesk.audit.models import AuditEvent
from rmdesk.audit.services import verify
from rmdesk.batch import runner
from rmdesk.batch.models import JobRun, RunStatus
from rmdesk.loans.models import AccrualSegment, Instalment, LoanContract
from rmdesk.postloan.jobs import accrual, standing
from rmdesk.postloan.jobs.common import CustomerRange
from rmdesk.postloan.models import ClassificationSnapshot
from rmdesk.tasks.models import Task
from tests.batch.factories import make_loan, rows
from tests.personas import Bank, build_bank

D = Decimal
FEB_10 = date(2026, 2, 10)
SCHEDULE = [
    (FEB_10, "100000.00", "435.00"),
    (date(2026, 3, 10), "100000.00", "362.50"),
    (date(2026, 4, 10), "100000.00", "290.00"),
]
JOBS = ["calendar", "reprice", "due", "accrual", "standing", "classification", "reminders", "snapshots"]


@pytest.fixture(autouse=True)
def bank_language_english(settings: Any) -> None:
    # Batch jobs write task titles in the bank's language; English keeps the assertions independent of the catalogue.
    settings.LANGUAGE_CODE = "en"


def eod(*args: str) -> str:
    out = io.StringIO()
    call_command("eod", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> str:
    """The message `rmdesk eod` refuses these arguments with, in English."""
    with translation.override("en"), pytest.raises(CommandError) as refusal:
        eod(*args)
    return str(refusal.value)


def everything() -> dict[str, list[tuple[Any, ...]]]:
    """Every row the end-of-day writes, but its own ledger and audit events."""
    return {
        "instalments": list(
            Instalment.objects.order_by("pk").values_list(
                "pk", "status", "overdue_since", "paid_on", "penalty_accrued", "compound_accrued", "accrued_through"
            )
        ),
        "segments": list(AccrualSegment.objects.order_by("pk").values_list()),
        "contracts": list(
            LoanContract.objects.order_by("pk").values_list(
                "pk", *standing.STATE_COLUMNS, "current_rate_pct", "proposed_classification", "classification"
            )
        ),
        "tasks": list(Task.objects.order_by("pk").values_list("pk", "kind", "source_id", "status", "due_date")),
        "snapshots": list(ClassificationSnapshot.objects.order_by("pk").values_list()),
    }


def ledger() -> list[tuple[date, str, int, int, str]]:
    return list(
        JobRun.objects.order_by("business_date", "pk").values_list(
            "business_date", "job", "first_customer_id", "last_customer_id", "status"
        )
    )


def three_overdue_loans(bank: Bank) -> list[LoanContract]:
    return [make_loan(rm, SCHEDULE) for rm in (bank.alice, bank.bob, bank.carol)]


# --- which dates -----------------------------------------------------------------------------------------------------


def test_a_date_in_the_future_is_refused_and_nothing_is_written(bank: Bank) -> None:
    # given
    three_overdue_loans(bank)
    tomorrow = timezone.localdate() + timedelta(days=1)
    # when
    message = refused("--date", tomorrow.isoformat())
    # then
    assert message == (
        f"{tomorrow} is in the future: the end-of-day runs for today ({timezone.localdate()}) or an earlier date."
    )
    assert ledger() == []
    assert not AuditEvent.objects.filter(action="batch.job_run").exists()


def test_a_date_that_skips_a_day_names_the_next_date_and_suggests_catching_up(bank: Bank) -> None:
    # given
    three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    before = (ledger(), everything())
    # when
    message = refused("--date", "2026-02-13")
    # then
    assert message == (
        "2026-02-13 would skip a day: the next business date to run is 2026-02-11. Run it first, or catch up through "
        "2026-02-13 with --until 2026-02-13."
    )
    assert (ledger(), everything()) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2026-02-30"], "--date must be a date as YYYY-MM-DD, not '2026-02-30'."),
        (["--date", "yesterday"], "--date must be a date as YYYY-MM-DD, not 'yesterday'."),
        (["--until", "2026/03/01"], "--until must be a date as YYYY-MM-DD, not '2026/03/01'."),
        (["--date", "2026-02-10", "--workers", "0"], "--workers must be a whole number of at least 1, not '0'."),
        (["--date", "2026-02-10", "--workers", "-2"], "--workers must be a whole number of at least 1, not '-2'."),
        (["--date", "2026-02-10", "--workers", "two"], "--workers must be a whole number of at least 1, not 'two'."),
        (["--date", "2026-02-10", "--until", "2026-02-12"], "Give either --date or --until, not both."),
        (["--until", "2026-02-12"], "No business date has been run yet: run the first one with --date."),
        (["--until", "2026-02-12", "--rerun"], "--rerun runs one date again: give it with --date, not --until."),
        (["--date", "2026-02-10", "--job", "due"], "A worker needs --date, --job and --range together."),
        (
            ["--date", "2026-02-10", "--job", "lunch", "--range", "1-5"],
            "Unknown job 'lunch': the jobs are " + ", ".join(JOBS) + ".",
        ),
        (
            ["--date", "2026-02-10", "--job", "due", "--range", "9-5"],
            "--range must be two customer ids as LO-HI with 1 ≤ LO ≤ HI, not '9-5'.",
        ),
    ],
)
def test_bad_input_is_refused_with_a_clear_message_and_nothing_written(
    bank: Bank, args: list[str], message: str
) -> None:
    # given
    three_overdue_loans(bank)
    # when / then
    assert refused(*args) == message
    assert ledger() == []


def test_until_runs_every_missing_date_in_order(bank: Bank) -> None:
    # given
    three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    # when
    output = eod("--until", "2026-02-13")
    # then: each date's eight jobs, in the fixed order
    assert [(day, job) for day, job, *_ in ledger()] == [
        (FEB_10 + timedelta(days=n), job) for n in range(4) for job in JOBS
    ]
    assert {status for *_, status in ledger()} == {RunStatus.DONE}
    assert output.splitlines()[0].startswith("2026-02-11 calendar: ")
    assert output.splitlines()[-1].startswith("2026-02-13 snapshots: ")


def test_until_a_date_already_done_runs_nothing(bank: Bank) -> None:
    # given
    three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    eod("--until", "2026-02-12")
    before = ledger()
    # when
    with translation.override("en"):
        output = eod("--until", "2026-02-11")
    # then
    assert output == "Nothing to run: the end-of-day is complete through 2026-02-12.\n"
    assert ledger() == before


# --- the ledger and the audit trail ----------------------------------------------------------------------------------


def test_each_job_run_is_in_the_ledger_with_its_counts_and_one_audit_event(bank: Bank) -> None:
    # given
    three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    # when
    eod("--date", "2026-02-11")
    # then
    runs = JobRun.objects.filter(business_date=date(2026, 2, 11)).order_by("pk")
    assert [(run.job, run.status, run.first_customer_id, run.last_customer_id) for run in runs] == [
        (job, RunStatus.DONE, 0, 0) for job in JOBS
    ]
    assert all(run.started_at <= run.finished_at for run in runs if run.finished_at)
    assert runs.get(job="due").counts == {"paid": 0, "due": 0, "overdue": 3}
    assert runs.get(job="accrual").counts == {
        "instalments": 3,
        "started": 6,
        "extended": 0,
        "penalty_fen": 3 * 1813,  # 100,000.00 × 6.525 % / 360 = 18.125 → 18.13
        "compound_fen": 3 * 8,  # 435.00 × 6.525 % / 360 = 0.0788… → 0.08
    }
    events = AuditEvent.objects.filter(action="batch.job_run", changes__business_date="2026-02-11").order_by("seq")
    assert [(event.actor_id, event.actor_name, event.changes["job"]) for event in events] == [
        (None, "system", job) for job in JOBS
    ]
    assert events[JOBS.index("accrual")].changes["counts"] == runs.get(job="accrual").counts
    assert verify().intact


# --- twice, and resuming ---------------------------------------------------------------------------------------------


def test_running_a_date_twice_skips_every_job_and_changes_nothing(bank: Bank) -> None:
    # given
    three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    eod("--until", "2026-02-28")
    before = (ledger(), everything(), AuditEvent.objects.count())
    # when
    with translation.override("en"):
        output = eod("--date", "2026-02-28")
    # then
    assert output.splitlines() == [f"2026-02-28 {job}: done already, skipped" for job in JOBS]
    assert (ledger(), everything(), AuditEvent.objects.count()) == before


def test_a_rerun_of_the_last_date_runs_every_job_and_changes_nothing(bank: Bank) -> None:
    # given: a month-end with overdue loans, tasks and snapshots
    three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    eod("--until", "2026-02-28")
    before = everything()
    events = AuditEvent.objects.count()
    # when
    eod("--date", "2026-02-28", "--rerun")
    # then: nothing but the job runs' own audit events
    assert everything() == before
    assert AuditEvent.objects.count() == events + len(JOBS)
    counts = JobRun.objects.filter(business_date=date(2026, 2, 28)).values_list("job", "counts")
    assert {job: sum(n for name, n in c.items() if name != "contracts") for job, c in counts} == dict.fromkeys(JOBS, 0)


def test_a_rerun_of_an_earlier_date_is_refused(bank: Bank) -> None:
    # given
    three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    eod("--until", "2026-02-12")
    # when / then
    assert refused("--date", "2026-02-11", "--rerun") == (
        "2026-02-11 is before the last completed date 2026-02-12: only that one can be run again."
    )


def test_a_job_that_fails_halfway_resumes_without_counting_anything_twice(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: three overdue loans accrued through 03-12, then the accrual of 03-13 dies after its first chunk
    loans = three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    eod("--until", "2026-03-12")
    monkeypatch.setattr(accrual, "CHUNK", 2)
    chunks_done = []
    real_chunk = accrual._accrue_chunk

    def dies_on_the_second_chunk(*args: Any) -> None:
        if chunks_done:
            raise RuntimeError("the machine lost power")
        real_chunk(*args)
        chunks_done.append(True)

    monkeypatch.setattr(accrual, "_accrue_chunk", dies_on_the_second_chunk)
    with translation.override("en"), pytest.raises(CommandError) as failure:
        eod("--date", "2026-03-13")
    # then: the first chunk (two instalments) is kept, the job is failed, the later jobs never ran
    assert str(failure.value) == (
        "The accrual job of 2026-03-13 failed: RuntimeError: the machine lost power. What it finished is kept; run the "
        "same command again to resume."
    )
    assert [(job, status) for day, job, _, _, status in ledger() if day == date(2026, 3, 13)] == [
        ("calendar", RunStatus.DONE),
        ("reprice", RunStatus.DONE),
        ("due", RunStatus.DONE),
        ("accrual", RunStatus.FAILED),
    ]
    assert JobRun.objects.get(business_date=date(2026, 3, 13), job="accrual").error == (
        "RuntimeError: the machine lost power"
    )
    # (six overdue instalments: February's and March's of each loan; the first chunk held the first loan's two)
    accrued = Instalment.objects.exclude(accrued_through=None).values_list("accrued_through", flat=True)
    assert sorted(accrued) == [date(2026, 3, 12)] * 4 + [date(2026, 3, 13)] * 2
    # when: run again, as the message says
    monkeypatch.setattr(accrual, "_accrue_chunk", real_chunk)
    eod("--date", "2026-03-13")
    # then: every instalment to the fen of an uninterrupted run, one segment per kind, the date complete
    for loan in loans:
        first, second = rows(loan)[:2]
        assert (first.penalty_accrued, first.compound_accrued) == (D("561.88"), D("2.44"))
        assert (second.penalty_accrued, second.compound_accrued) == (D("54.38"), D("0.20"))
        assert AccrualSegment.objects.filter(instalment__contract=loan).count() == 4
        loan.refresh_from_db()
        assert loan.penalty_unpaid == D("561.88") + D("2.44") + D("54.38") + D("0.20")
    assert {status for day, *_, status in ledger() if day == date(2026, 3, 13)} == {RunStatus.DONE}
    assert runner.next_date() == date(2026, 3, 14)


def test_a_run_stopped_between_jobs_resumes_at_the_job_that_did_not_finish(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the standing job of 02-11 fails; a clean twin run's figures to compare with
    loans = three_overdue_loans(bank)
    eod("--date", "2026-02-10")

    def standing_dies(**_: Any) -> dict[str, int]:
        raise RuntimeError("killed")

    monkeypatch.setattr(standing, "run", standing_dies)
    with pytest.raises(CommandError):
        eod("--date", "2026-02-11")
    half = everything()
    # when: the next attempt
    monkeypatch.undo()
    with translation.override("en"):
        output = eod("--date", "2026-02-11")
    # then: the jobs done are skipped, the rest run, and the loans are in the state of one clean run
    assert output.splitlines()[:4] == [
        f"2026-02-11 {job}: done already, skipped" for job in ("calendar", "reprice", "due", "accrual")
    ]
    assert output.splitlines()[4].startswith("2026-02-11 standing: contracts 3, changed 3")
    assert everything()["instalments"] == half["instalments"]
    for loan in loans:
        loan.refresh_from_db()
        assert (loan.days_past_due, loan.overdue_principal, loan.penalty_unpaid) == (1, D("100000.00"), D("18.21"))


def test_a_job_left_running_by_a_killed_process_runs_again(bank: Bank) -> None:
    # given: a process killed inside the accrual of 02-11 left its row running (nothing of it committed)
    loans = three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    for job in ("calendar", "reprice", "due"):
        runner.run_range(date(2026, 2, 11), job, CustomerRange())
    JobRun.objects.create(business_date=date(2026, 2, 11), job="accrual", started_at=timezone.now())
    # when
    eod("--date", "2026-02-11")
    # then
    assert [rows(loan)[0].penalty_accrued for loan in loans] == [D("18.13")] * 3
    assert JobRun.objects.get(business_date=date(2026, 2, 11), job="accrual").status == RunStatus.DONE


# --- workers ---------------------------------------------------------------------------------------------------------


def test_workers_split_the_jobs_by_customer_ranges_one_ledger_row_each(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: three customers' loans; the worker processes run in this process (the test database is this one's)
    loans = three_overdue_loans(bank)
    monkeypatch.setattr(runner, "in_forked_processes", runner.in_process)
    eod("--date", "2026-02-10", "--workers", "2")
    # when
    eod("--until", "2026-03-13", "--workers", "2")
    # then: per per-customer job and date two ranges and the job's row; reprice runs whole
    customers = sorted(loan.customer_id for loan in loans)
    day = [(job, first, last) for on, job, first, last, _ in ledger() if on == date(2026, 3, 13)]
    split = [(1, customers[1] - 1), (customers[1], runner.LAST_CUSTOMER_ID)]
    assert day == [
        row
        for job in JOBS
        for row in ([(job, 0, 0)] if job == "reprice" else [(job, 0, 0), (job, *split[0]), (job, *split[1])])
    ]
    assert {status for *_, status in ledger()} == {RunStatus.DONE}
    # and the figures are a single process's
    for loan in loans:
        assert (rows(loan)[0].penalty_accrued, rows(loan)[0].compound_accrued) == (D("561.88"), D("2.44"))
    accrual_run = JobRun.objects.get(business_date=date(2026, 3, 13), job="accrual", first_customer_id=0)
    assert accrual_run.counts["instalments"] == 6
    assert AuditEvent.objects.filter(action="batch.job_run", changes__business_date="2026-03-13").count() == len(JOBS)


def test_the_ranges_cover_every_customer_id_from_one_up(bank: Bank) -> None:
    # given: loans of five customers, two of them with two loans
    loans = [make_loan(bank.alice, SCHEDULE) for _ in range(5)]
    for loan in loans[:2]:
        make_loan(bank.alice, SCHEDULE, customer=loan.customer)
    # when
    ranges = runner.split_customers(3)
    # then: contiguous, from 1 to the largest id, each holding loans
    assert ranges[0].first == 1 and ranges[-1].last == runner.LAST_CUSTOMER_ID
    assert all(a.last + 1 == b.first for a, b in itertools.pairwise(ranges))
    assert len(ranges) == 3
    assert runner.split_customers(1) == []


def test_a_worker_command_runs_one_job_over_one_range(bank: Bank) -> None:
    # given: two customers' loans falling due
    first, second = make_loan(bank.alice, SCHEDULE), make_loan(bank.bob, SCHEDULE)
    # when: the worker of the first customer's range
    output = eod("--date", "2026-02-10", "--job", "due", "--range", f"{first.customer_id}-{first.customer_id}")
    # then: its row in the ledger, no audit event (the job's whole-bank row writes it), the other customer untouched
    assert output == f"2026-02-10 due [{first.customer_id}, {first.customer_id}]: paid 0, due 1, overdue 0\n"
    assert ledger() == [(FEB_10, "due", first.customer_id, first.customer_id, RunStatus.DONE)]
    assert not AuditEvent.objects.filter(action="batch.job_run").exists()
    assert (rows(first)[0].status, rows(second)[0].status) == ("due", "scheduled")


ON_POSTGRESQL = pytest.mark.skipif(
    "postgresql" not in django_settings.DATABASES["default"]["ENGINE"],
    reason="worker processes need a database they can open: the SQLite test database lives in this process's memory",
)


@ON_POSTGRESQL
@pytest.mark.parametrize("launcher", ["in_forked_processes", "in_subprocesses"])
def test_worker_processes_run_the_ranges_on_postgresql(committed_db: None, launcher: str) -> None:
    # given: committed data; started processes are pointed at the test database (forked ones inherit it)
    bank = build_bank()
    loans = three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    database = connection.settings_dict
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
    # when
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RMDESK_DATABASE_URL", url)
        runner.eod(on=date(2026, 2, 11), today=timezone.localdate(), workers=2, launcher=getattr(runner, launcher))
    # then: two ranges of each per-customer job, done, with the figures of one process
    ranges = JobRun.objects.filter(business_date=date(2026, 2, 11), job="accrual").exclude(first_customer_id=0)
    assert [run.status for run in ranges] == [RunStatus.DONE, RunStatus.DONE]
    assert [rows(loan)[0].penalty_accrued for loan in loans] == [D("18.13")] * 3
    assert runner.next_date() == date(2026, 2, 12)


@ON_POSTGRESQL
def test_a_worker_that_fails_fails_the_job_with_its_error(committed_db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: the accrual of one range raises in the forked worker
    bank = build_bank()
    loans = three_overdue_loans(bank)
    eod("--date", "2026-02-10")
    last = max(loan.customer_id for loan in loans)
    real_run = accrual.run

    def fails_for_the_last_customer(*, on: date, customers: CustomerRange) -> dict[str, int]:
        if customers.first <= last <= customers.last:
            raise RuntimeError("disk full")
        return real_run(on=on, customers=customers)

    monkeypatch.setattr(accrual, "run", fails_for_the_last_customer)
    # when
    with translation.override("en"), pytest.raises(CommandError) as failure:
        eod("--date", "2026-02-11", "--workers", "2")
    # then: the other range is done and kept; the job and the failed range are failed
    assert "The accrual job of 2026-02-11 failed: " in str(failure.value)
    assert "RuntimeError: disk full" in str(failure.value)
    statuses = {
        (run.first_customer_id == 0, run.status)
        for run in JobRun.objects.filter(business_date=date(2026, 2, 11), job="accrual")
    }
    assert statuses == {(True, RunStatus.FAILED), (False, RunStatus.FAILED), (False, RunStatus.DONE)}


def test_the_console_script_refuses_a_future_date_before_touching_the_database(tmp_path: Path) -> None:
    # given: a data directory with nothing in it
    env = {**os.environ, "RMDESK_DATA_DIR": str(tmp_path)}
    env.pop("RMDESK_DATABASE_URL", None)
    # when
    done = subprocess.run(
        [sys.executable, "-m", "rmdesk", "eod", "--date", "2099-01-01"], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    # then: a message and a failing exit status, not a traceback
    assert done.returncode == 1
    assert "2099-01-01" in done.stderr and "Traceback" not in done.stderr
