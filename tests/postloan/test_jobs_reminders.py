"""The batch's collection tasks: instalments due in 7, 3 and 1 days, a loan newly overdue, promises to pay kept or
broken — each to the loan's primary RM, keyed so that no run opens one twice."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command

from rmdesk.loans.models import LoanContract, Repayment
from rmdesk.postloan.choices import PromiseStatus
from rmdesk.postloan.jobs import reminders
from rmdesk.postloan.jobs.common import WHOLE_BANK, CustomerRange
from rmdesk.postloan.models import CollectionLog
from rmdesk.tasks.choices import Priority, TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from tests.batch.factories import make_loan, pay, rows
from tests.personas import Bank

D = Decimal
DUE = date(2026, 3, 10)


@pytest.fixture(autouse=True)
def bank_language_english(settings: Any) -> None:
    # Batch jobs write task titles in the bank's language; English keeps the assertions independent of the catalogue.
    settings.LANGUAGE_CODE = "en"


def tasks(kind: str) -> list[tuple[str, str, date, int, str]]:
    return sorted(
        Task.objects.filter(kind=kind).values_list("owner__username", "source_id", "due_date", "priority", "status")
    )


def test_an_instalment_is_announced_seven_three_and_one_days_ahead(bank: Bank) -> None:
    # given: bob's loan with 100,435.00 due on 2026-03-10
    loan = make_loan(bank.bob, [(DUE, "100000.00", "435.00")])
    instalment = rows(loan)[0]
    # when: every day of the week before
    for day in range(10, 0, -1):
        reminders.run(on=DUE - timedelta(days=day), customers=WHOLE_BANK)
    # then
    assert tasks(TaskKind.INSTALMENT_DUE) == [
        ("bob", f"{instalment.pk}:1", DUE, Priority.HIGH, TaskStatus.OPEN),
        ("bob", f"{instalment.pk}:3", DUE, Priority.NORMAL, TaskStatus.OPEN),
        ("bob", f"{instalment.pk}:7", DUE, Priority.NORMAL, TaskStatus.OPEN),
    ]
    title = Task.objects.get(source_id=f"{instalment.pk}:3").title
    assert (
        title == f"Instalment due in 3 day(s): {loan.customer.name}, loan {loan.contract_no}, 100,435.00 on 2026-03-10"
    )
    assert Task.objects.get(source_id=f"{instalment.pk}:3").customer_id == loan.customer_id


def test_a_rerun_opens_no_task_twice_even_after_the_first_was_done(bank: Bank) -> None:
    # given: the 7-day reminder opened, and the RM already marked it done
    loan = make_loan(bank.alice, [(DUE, "100000.00", "435.00")])
    reminders.run(on=DUE - timedelta(days=7), customers=WHOLE_BANK)
    Task.objects.filter(kind=TaskKind.INSTALMENT_DUE).update(status=TaskStatus.DONE)
    # when
    again = reminders.run(on=DUE - timedelta(days=7), customers=WHOLE_BANK)
    # then
    assert again["instalment_due"] == 0
    assert tasks(TaskKind.INSTALMENT_DUE) == [("alice", f"{rows(loan)[0].pk}:7", DUE, Priority.NORMAL, "done")]


def test_nothing_is_announced_for_an_instalment_already_paid(bank: Bank) -> None:
    # given
    loan = make_loan(bank.alice, [(DUE, "100000.00", "435.00")])
    pay(rows(loan)[0], principal="100000.00", interest="435.00", on=DUE - timedelta(days=5))
    # when
    counts = reminders.run(on=DUE - timedelta(days=3), customers=WHOLE_BANK)
    # then
    assert counts["instalment_due"] == 0


def test_a_range_announces_only_its_own_customers(bank: Bank) -> None:
    # given
    first = make_loan(bank.alice, [(DUE, "100000.00", "435.00")])
    make_loan(bank.bob, [(DUE, "100000.00", "435.00")])
    # when
    counts = reminders.run(on=DUE - timedelta(days=1), customers=CustomerRange(first.customer_id, first.customer_id))
    # then
    assert counts["instalment_due"] == 1
    assert [owner for owner, *_ in tasks(TaskKind.INSTALMENT_DUE)] == ["alice"]


def test_a_loan_newly_overdue_gets_one_urgent_task(bank: Bank) -> None:
    # given
    loan = make_loan(bank.carol, [(DUE, "100000.00", "435.00"), (date(2026, 4, 10), "100000.00", "362.50")])
    call_command("eod", "--date", DUE.isoformat(), stdout=io.StringIO())
    # when: the day it becomes overdue, again, and the days after
    call_command("eod", "--until", "2026-03-11", stdout=io.StringIO())
    call_command("eod", "--date", "2026-03-11", "--rerun", stdout=io.StringIO())
    call_command("eod", "--until", "2026-03-14", stdout=io.StringIO())
    # then
    assert tasks(TaskKind.LOAN_OVERDUE) == [
        ("carol", f"{loan.pk}:2026-03-11", date(2026, 3, 11), Priority.URGENT, TaskStatus.OPEN)
    ]
    assert Task.objects.get(kind=TaskKind.LOAN_OVERDUE).title == (
        f"Loan {loan.contract_no} of {loan.customer.name} is overdue since 2026-03-11: 100,435.00 unpaid"
    )


def promise(loan: LoanContract, *, on: date, by: date, amount: str) -> CollectionLog:
    return CollectionLog.objects.create(
        contract=loan,
        customer=loan.customer,
        contacted_on=on,
        channel="phone",
        contact_person="王财务",
        result="答应还款",
        promise_date=by,
        promise_amount=D(amount),
        promise_status=PromiseStatus.OPEN,
        created_by=loan.primary_rm,
    )


def repaid(loan: LoanContract, *, on: date, amount: str, ref: str) -> None:
    Repayment.objects.create(
        contract=loan, customer=loan.customer, paid_on=on, amount=D(amount), source="core_feed", external_ref=ref
    )


def test_a_promise_short_of_its_amount_when_its_date_passed_is_broken_and_tasked(bank: Bank) -> None:
    # given: 50,000.00 promised by 03-20 on 03-12; 30,000.00 repaid on 03-15, 20,000.00 only on 03-21
    loan = make_loan(bank.alice, [(DUE, "100000.00", "435.00")])
    log = promise(loan, on=date(2026, 3, 12), by=date(2026, 3, 20), amount="50000.00")
    repaid(loan, on=date(2026, 3, 15), amount="30000.00", ref="R1")
    repaid(loan, on=date(2026, 3, 21), amount="20000.00", ref="R2")
    # when: on its date (still open), the day after, and again
    on_the_day = reminders.run(on=date(2026, 3, 20), customers=WHOLE_BANK)
    after = reminders.run(on=date(2026, 3, 21), customers=WHOLE_BANK)
    again = reminders.run(on=date(2026, 3, 21), customers=WHOLE_BANK)
    # then
    log.refresh_from_db()
    assert (on_the_day["promises_broken"], after["promises_broken"], again["promises_broken"]) == (0, 1, 0)
    assert log.promise_status == PromiseStatus.BROKEN
    assert tasks(TaskKind.PROMISE_BROKEN) == [
        ("alice", str(log.pk), date(2026, 3, 21), Priority.URGENT, TaskStatus.OPEN)
    ]
    assert Task.objects.get(kind=TaskKind.PROMISE_BROKEN).title == (
        f"Promise to pay broken: {loan.customer.name} promised 50,000.00 on loan {loan.contract_no} by 2026-03-20, "
        "repaid 30,000.00"
    )


def test_a_promise_reached_is_kept_without_a_task(bank: Bank) -> None:
    # given: 50,000.00 promised, paid in two parts before the date
    loan = make_loan(bank.alice, [(DUE, "100000.00", "435.00")])
    log = promise(loan, on=date(2026, 3, 12), by=date(2026, 3, 20), amount="50000.00")
    repaid(loan, on=date(2026, 3, 13), amount="10000.00", ref="R1")
    repaid(loan, on=date(2026, 3, 18), amount="40000.00", ref="R2")
    # when
    counts = reminders.run(on=date(2026, 3, 18), customers=WHOLE_BANK)
    # then
    log.refresh_from_db()
    assert (counts["promises_kept"], log.promise_status) == (1, PromiseStatus.KEPT)
    assert tasks(TaskKind.PROMISE_BROKEN) == []


def test_the_days_ahead_are_a_setting(bank: Bank, settings: Any) -> None:
    # given: a bank that reminds 5 days ahead only
    settings.DUE_REMINDER_DAYS = [5]
    loan = make_loan(bank.alice, [(DUE, "100000.00", "435.00")])
    # when
    for day in (7, 5, 3, 1):
        reminders.run(on=DUE - timedelta(days=day), customers=WHOLE_BANK)
    # then
    assert [source for _, source, *_ in tasks(TaskKind.INSTALMENT_DUE)] == [f"{rows(loan)[0].pk}:5"]
