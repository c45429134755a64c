"""Visit cadence: the due-date arithmetic, one customer's and many customers' standing, the daily job that opens and
closes VISIT_DUE tasks, and head office changing the intervals."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rmdesk.audit.models import AuditEvent
from rmdesk.customers.models import Customer
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from rmdesk.visits import cadence
from rmdesk.visits.cadence import (
    CadenceHeadOfficeOnly,
    add_months,
    cadence_intervals,
    cadences,
    customer_cadence,
    lapse_threshold,
    next_visit_due,
    open_lapsed_visit_tasks,
    update_cadence,
)
from rmdesk.visits.choices import VisitStatus
from rmdesk.visits.models import CadenceRule
from tests.personas import Bank, make_customer, make_user
from tests.visits.factories import aware, make_visit

ON = date(2026, 3, 11)


@pytest.fixture(autouse=True)
def bank_language_english(settings: Any) -> None:
    # Batch jobs write task titles in the bank's language; English keeps the assertions independent of the catalogue.
    settings.LANGUAGE_CODE = "en"


def created_on(customer: Customer, day: date) -> Customer:
    """Back-date the customer's file: a customer never visited is due `interval` months after it."""
    Customer.objects.filter(pk=customer.pk).update(created_at=aware(day.year, day.month, day.day))
    customer.refresh_from_db()
    return customer


def visited(customer: Customer, day: date, status: str = VisitStatus.DONE) -> None:
    rm = customer.primary_rm
    assert rm is not None
    make_visit(rm, customer, status=status, planned_start=aware(day.year, day.month, day.day))


def open_due_tasks() -> list[tuple[int, str, date, str]]:
    return sorted(
        Task.objects.filter(kind=TaskKind.VISIT_DUE, status=TaskStatus.OPEN).values_list(
            "customer_id", "owner__username", "due_date", "source_id"
        )
    )


# --- the arithmetic --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 12, 15), 2, date(2027, 2, 15)),
        (date(2026, 5, 20), -12, date(2025, 5, 20)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_a_shorter_month(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_next_visit_due_counts_from_the_last_visit() -> None:
    assert next_visit_due(date(2026, 1, 31), 1, date(2020, 5, 5)) == date(2026, 2, 28)
    assert next_visit_due(date(2025, 11, 30), 3, date(2020, 5, 5)) == date(2026, 2, 28)


def test_next_visit_due_counts_from_the_file_when_never_visited() -> None:
    assert next_visit_due(None, 6, date(2025, 8, 31)) == date(2026, 2, 28)


def test_lapse_threshold_is_the_first_day_whose_next_visit_is_not_yet_late() -> None:
    # given every day of two years (leap day and month ends included) and every interval allowed
    days = [date(2023, 12, 1) + timedelta(days=n) for n in range(800)]
    for months in range(1, 25):
        for on in days:
            # when
            threshold = lapse_threshold(on, months)
            # then: the threshold's visit is due on `on` or later, the day before's was due before `on`
            assert add_months(threshold, months) >= on
            assert add_months(threshold - timedelta(days=1), months) < on


# --- one customer and many -------------------------------------------------------------------------------------------


def test_cadence_intervals_fall_back_to_the_defaults_for_a_missing_tier(db: Any) -> None:
    # given
    CadenceRule.objects.filter(tier="key").delete()
    CadenceRule.objects.filter(tier="core").update(interval_months=4)
    # when
    intervals = cadence_intervals()
    # then
    assert intervals == {"strategic": 1, "core": 4, "key": 3, "general": 6}


def test_customer_cadence_gives_the_last_visit_and_the_next_due_date(bank: Bank) -> None:
    # given a core customer (every 2 months) visited on 10 January, a cancelled visit after it
    customer = make_customer(bank.alice, tier="core")
    visited(customer, date(2026, 1, 10))
    visited(customer, date(2026, 2, 20), status=VisitStatus.CANCELLED)
    # when
    standing = customer_cadence(customer, today=ON)
    # then
    assert standing == cadence.CustomerCadence(
        customer_id=customer.pk,
        tracked=True,
        interval_months=2,
        last_visited_on=date(2026, 1, 10),
        next_due=date(2026, 3, 10),
        lapsed=True,
    )


def test_a_customer_due_today_has_not_lapsed(bank: Bank) -> None:
    customer = make_customer(bank.alice, tier="core")
    visited(customer, date(2026, 1, 11))
    assert customer_cadence(customer, today=ON).lapsed is False


def test_a_prospect_has_no_cadence(bank: Bank) -> None:
    # given
    prospect = make_customer(bank.alice, tier="strategic")
    Customer.objects.filter(pk=prospect.pk).update(status="prospect")
    prospect.refresh_from_db()
    # when
    standing = customer_cadence(prospect, today=ON)
    # then
    assert (standing.tracked, standing.next_due, standing.lapsed, standing.interval_months) == (False, None, False, 1)


def test_cadences_of_many_customers_take_one_query_for_them_all(bank: Bank) -> None:
    # given
    general = created_on(make_customer(bank.alice, tier="general"), date(2025, 12, 1))
    strategic = make_customer(bank.dave, tier="strategic")
    visited(strategic, date(2026, 2, 15))
    key = make_customer(bank.alice, tier="key")
    visited(key, date(2025, 10, 1))
    visited(key, date(2025, 12, 1))
    # when
    with CaptureQueriesContext(connection) as queries:
        standings = cadences(Customer.objects.filter(pk__in=[general.pk, strategic.pk, key.pk]), today=ON)
    # then: the rules, then the customers with their last visits
    assert len(queries) == 2
    assert {pk: (s.last_visited_on, s.next_due, s.lapsed) for pk, s in standings.items()} == {
        general.pk: (None, date(2026, 6, 1), False),
        strategic.pk: (date(2026, 2, 15), date(2026, 3, 15), False),
        key.pk: (date(2025, 12, 1), date(2026, 3, 1), True),
    }


# --- the daily job ---------------------------------------------------------------------------------------------------


@pytest.fixture
def book(bank: Bank) -> dict[str, Customer]:
    """Customers around the cadence on 11 March 2026 (the files were opened on 1 June 2025 unless said)."""
    opened = date(2025, 6, 1)
    customers = {
        "core_lapsed": make_customer(bank.alice, name="钱江核心有限公司", tier="core"),  # visited 10 Jan: due 10 Mar
        "core_due_today": make_customer(bank.alice, tier="core"),  # visited 11 Jan: due today
        "general_fresh": make_customer(bank.alice, tier="general"),  # visited 1 Dec: due 1 Jun
        "strategic_never": make_customer(bank.dave, name="之江战略有限公司", tier="strategic"),  # never: due 1 Jul 2025
        "key_new": make_customer(bank.dave, tier="key"),  # opened 1 Feb 2026, never visited: due 1 May
        "planned_only": make_customer(bank.dave, name="灵隐计划有限公司", tier="general"),  # a plan is no visit
        "prospect": make_customer(bank.alice, tier="strategic"),
        "archived": make_customer(bank.alice, tier="strategic"),
        "carols": make_customer(bank.carol, name="宁波港务有限公司", tier="key"),  # visited 10 Dec: due 10 Mar
    }
    for customer in customers.values():
        created_on(customer, opened)
    created_on(customers["key_new"], date(2026, 2, 1))
    visited(customers["core_lapsed"], date(2025, 11, 2))
    visited(customers["core_lapsed"], date(2026, 1, 10))
    visited(customers["core_due_today"], date(2026, 1, 11))
    visited(customers["general_fresh"], date(2025, 12, 1))
    visited(customers["planned_only"], date(2026, 3, 20), status=VisitStatus.PLANNED)
    visited(customers["carols"], date(2025, 12, 10))
    Customer.objects.filter(pk=customers["prospect"].pk).update(status="prospect")
    Customer.objects.filter(pk=customers["archived"].pk).update(archived_at=aware(2026, 1, 5))
    return customers


def test_the_job_opens_a_task_for_exactly_the_lapsed_customers(bank: Bank, book: dict[str, Customer]) -> None:
    # when
    run = open_lapsed_visit_tasks(on=ON)
    # then
    expected = [
        (book["core_lapsed"].pk, "alice", date(2026, 3, 10), str(book["core_lapsed"].pk)),
        (book["strategic_never"].pk, "dave", date(2025, 7, 1), str(book["strategic_never"].pk)),
        (book["planned_only"].pk, "dave", date(2025, 12, 1), str(book["planned_only"].pk)),
        (book["carols"].pk, "carol", date(2026, 3, 10), str(book["carols"].pk)),
    ]
    assert open_due_tasks() == sorted(expected)
    assert (run.lapsed, run.created, run.cancelled) == (4, 4, 0)
    task = Task.objects.get(customer=book["core_lapsed"])
    assert (task.source_type, task.title) == (
        "visit_cadence",
        "Visit 钱江核心有限公司: due by 2026-03-10 (Core customers every 2 months)",
    )
    ids = sorted(Task.objects.filter(kind=TaskKind.VISIT_DUE).values_list("pk", flat=True))
    assert (run.first_task_id, run.last_task_id) == (ids[0], ids[-1])


def test_the_job_records_one_audit_event_with_its_counts(bank: Bank, book: dict[str, Customer]) -> None:
    # given
    before = AuditEvent.objects.count()
    # when
    run = open_lapsed_visit_tasks(on=ON)
    # then
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(action="visit.cadence_run")
    assert event.changes == {
        "on": "2026-03-11",
        "lapsed": 4,
        "created": 4,
        "cancelled": 0,
        "first_task_id": run.first_task_id,
        "last_task_id": run.last_task_id,
    }
    assert event.actor_id is None


def test_running_the_same_date_twice_opens_nothing_new(bank: Bank, book: dict[str, Customer]) -> None:
    # given
    open_lapsed_visit_tasks(on=ON)
    tasks = open_due_tasks()
    # when
    run = open_lapsed_visit_tasks(on=ON)
    # then
    assert (run.lapsed, run.created, run.cancelled, run.first_task_id) == (4, 0, 0, None)
    assert open_due_tasks() == tasks
    assert Task.objects.count() == 4


def test_the_job_cancels_the_tasks_no_longer_needed(bank: Bank, book: dict[str, Customer]) -> None:
    # given a first run, then one customer visited, one archived, one lost, and one handed to another RM
    open_lapsed_visit_tasks(on=ON)
    visited(book["core_lapsed"], date(2026, 3, 11))
    Customer.objects.filter(pk=book["carols"].pk).update(archived_at=aware(2026, 3, 11))
    Customer.objects.filter(pk=book["planned_only"].pk).update(status="lost")
    Customer.objects.filter(pk=book["strategic_never"].pk).update(primary_rm=bank.alice)
    # when
    run = open_lapsed_visit_tasks(on=ON)
    # then: the new RM gets the task of the customer handed over, the rest are cancelled
    assert (run.lapsed, run.created, run.cancelled) == (1, 1, 4)
    assert open_due_tasks() == [
        (book["strategic_never"].pk, "alice", date(2025, 7, 1), str(book["strategic_never"].pk))
    ]
    cancelled = Task.objects.filter(status=TaskStatus.CANCELLED)
    assert sorted(cancelled.values_list("customer_id", "owner__username")) == sorted(
        [
            (book["core_lapsed"].pk, "alice"),
            (book["carols"].pk, "carol"),
            (book["planned_only"].pk, "dave"),
            (book["strategic_never"].pk, "dave"),
        ]
    )


def test_a_later_date_opens_tasks_for_customers_lapsed_since(bank: Bank, book: dict[str, Customer]) -> None:
    # given
    open_lapsed_visit_tasks(on=ON)
    # when: on 12 March the core customer last visited on 11 January has lapsed too
    run = open_lapsed_visit_tasks(on=ON + timedelta(days=1))
    # then
    assert (run.lapsed, run.created, run.cancelled) == (5, 1, 0)
    assert Task.objects.get(customer=book["core_due_today"]).due_date == date(2026, 3, 11)


def test_the_job_follows_a_new_interval(bank: Bank, book: dict[str, Customer]) -> None:
    # given general customers visited every 3 months instead of 6
    CadenceRule.objects.filter(tier="general").update(interval_months=3)
    # when
    open_lapsed_visit_tasks(on=ON)
    # then the one visited on 1 December was due on 1 March
    assert Task.objects.get(customer=book["general_fresh"]).due_date == date(2026, 3, 1)


def test_the_command_prints_the_counts(bank: Bank, book: dict[str, Customer], capsys: Any) -> None:
    # when
    call_command("visit-cadence", "--date", "2026-03-11")
    call_command("visit-cadence", "--date", "2026-03-11")
    # then
    assert capsys.readouterr().out.splitlines() == [
        "visit-cadence 2026-03-11: 4 customer(s) past their cadence, 4 task(s) opened, 0 cancelled",
        "visit-cadence 2026-03-11: 4 customer(s) past their cadence, 0 task(s) opened, 0 cancelled",
    ]


def test_the_command_refuses_a_bad_date(db: Any) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("visit-cadence", "--date", "11/03/2026")


# --- head office changes the intervals -------------------------------------------------------------------------------


@pytest.fixture
def head_office_lead(bank: Bank) -> User:
    return make_user("ho_lead", "team_lead", bank.department)


def test_head_office_changes_the_intervals(bank: Bank, head_office_lead: User) -> None:
    # when
    intervals = update_cadence(actor=head_office_lead, intervals={"core": 3, "general": 6, "key": 2})
    # then
    assert intervals == {"strategic": 1, "core": 3, "key": 2, "general": 6}
    assert cadence_intervals() == intervals
    assert CadenceRule.objects.get(tier="core").updated_by == head_office_lead
    event = AuditEvent.objects.get(action="visit.cadence_update")
    assert (event.actor_id, event.changes) == (head_office_lead.pk, {"core": [2, 3], "key": [3, 2]})


def test_a_missing_rule_is_created_from_its_default(bank: Bank, head_office_lead: User) -> None:
    # given
    CadenceRule.objects.filter(tier="strategic").delete()
    # when
    update_cadence(actor=head_office_lead, intervals={"strategic": 2})
    # then
    assert CadenceRule.objects.get(tier="strategic").interval_months == 2
    assert AuditEvent.objects.get(action="visit.cadence_update").changes == {"strategic": [1, 2]}


def test_saving_the_same_intervals_records_nothing(bank: Bank, head_office_lead: User) -> None:
    update_cadence(actor=head_office_lead, intervals={"core": 2})
    assert not AuditEvent.objects.filter(action="visit.cadence_update").exists()


@pytest.mark.parametrize("persona", ["alice", "lead", "head", "risk", "auditor", "admin"])
def test_only_head_office_changes_the_intervals(bank: Bank, persona: str) -> None:
    # when
    with pytest.raises(CadenceHeadOfficeOnly):
        update_cadence(actor=getattr(bank, persona), intervals={"core": 5})
    # then
    assert cadence_intervals()["core"] == 2
    assert not AuditEvent.objects.filter(action="visit.cadence_update").exists()


def test_bad_intervals_are_refused_per_tier(bank: Bank, head_office_lead: User) -> None:
    # when
    with pytest.raises(ValidationError) as error:
        update_cadence(
            actor=head_office_lead, intervals={"strategic": 0, "core": 25, "key": "3", "general": 4, "vip": 1}
        )
    # then nothing is saved, the good value included
    assert error.value.message_dict == {
        "strategic": ["Enter a whole number of months from 1 to 24."],
        "core": ["Enter a whole number of months from 1 to 24."],
        "key": ["Enter a whole number of months from 1 to 24."],
        "vip": ["Unknown tier."],
    }
    assert cadence_intervals() == {"strategic": 1, "core": 2, "key": 3, "general": 6}


def test_an_empty_change_is_refused(bank: Bank, head_office_lead: User) -> None:
    with pytest.raises(ValidationError) as error:
        update_cadence(actor=head_office_lead, intervals={})
    assert error.value.message_dict == {"intervals": ["Give the interval of at least one tier."]}


def test_a_customer_without_a_tier_is_visited_as_a_general_one(bank: Bank) -> None:
    # given a file with no tier, opened on 1 June 2025: due on 1 December like a general customer
    customer = created_on(make_customer(bank.alice), date(2025, 6, 1))
    Customer.objects.filter(pk=customer.pk).update(tier="")
    customer.refresh_from_db()
    # when
    run = open_lapsed_visit_tasks(on=ON)
    # then
    assert run.created == 1
    assert Task.objects.get().due_date == date(2025, 12, 1) == customer_cadence(customer, today=ON).next_due
