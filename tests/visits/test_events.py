"""Occasions to visit: logging one, and detecting them from the audit trail and the founding anniversaries, each
proposing a visit to the primary RM."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import NotFoundError
from rmdesk.customers import services as customer_services
from rmdesk.customers.models import Customer, KeyPerson
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from rmdesk.visits.choices import EventKind, EventOrigin
from rmdesk.visits.events import anniversary, detect_events, log_event
from rmdesk.visits.models import CustomerEvent, DetectionCursor
from tests.personas import Bank, make_customer
from tests.visits.factories import aware

TODAY = timezone.localdate()
HISTORY = "More than a year ago is history, not an occasion: note it in the customer's file."


@pytest.fixture(autouse=True)
def bank_language_english(settings: Any) -> None:
    # Proposed visits are written in the bank's language; English keeps the assertions independent of the catalogue.
    settings.LANGUAGE_CODE = "en"
    settings.VISIT_ANNIVERSARY_YEARS = 5
    settings.VISIT_ANNIVERSARY_LEAD_DAYS = 14


def occasion_tasks() -> list[tuple[int, str, str, date]]:
    return sorted(
        Task.objects.filter(kind=TaskKind.VISIT_OCCASION).values_list(
            "customer_id", "owner__username", "title", "due_date"
        )
    )


def detected() -> list[tuple[int, str, str, date, str]]:
    return sorted(
        CustomerEvent.objects.filter(origin=EventOrigin.DETECTED).values_list(
            "customer_id", "kind", "title", "occurred_on", "detection_key"
        )
    )


def change(customer: Customer, actor: Any, **data: Any) -> int:
    """Change master data through the service; returns the audit sequence number of the change."""
    customer.refresh_from_db()
    customer_services.update_customer(actor=actor, customer_id=customer.pk, version=customer.version, data=data)
    return AuditEvent.objects.filter(action="customer.update", customer_id=customer.pk).latest("seq").seq


# --- logging an occasion ---------------------------------------------------------------------------------------------


def test_a_logged_occasion_proposes_a_visit_to_the_primary_rm(bank: Bank) -> None:
    # given alice's customer, and her team lead logging a happy event
    customer = make_customer(bank.alice, name="西湖电子有限公司")
    # when
    event = log_event(
        actor=bank.lead,
        customer_id=customer.pk,
        kind=EventKind.HAPPY_EVENT,
        title="  新厂房奠基  ",
        occurred_on=TODAY + timedelta(days=20),
    )
    # then
    assert (event.kind, event.title, event.origin, event.logged_by, event.detection_key) == (
        "happy_event",
        "新厂房奠基",
        "logged",
        bank.lead,
        "",
    )
    task = Task.objects.get(kind=TaskKind.VISIT_OCCASION)
    assert (task.owner, task.customer, task.title, task.due_date, task.source_type, task.source_id) == (
        bank.alice,
        customer,
        "Visit occasion: Happy event — 新厂房奠基",
        TODAY + timedelta(days=20),
        "customer_event",
        str(event.pk),
    )
    audit = AuditEvent.objects.get(action="customer_event.log")
    assert (audit.actor_id, audit.customer_id, audit.object_id) == (bank.lead.pk, customer.pk, str(event.pk))
    assert audit.changes == {
        "kind": "happy_event",
        "title": "新厂房奠基",
        "occurred_on": str(TODAY + timedelta(days=20)),
        "task": task.pk,
        "rm": "alice",
    }


def test_an_occasion_already_past_is_to_be_seized_within_a_week(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    log_event(
        actor=bank.alice,
        customer_id=customer.pk,
        kind=EventKind.DISSATISFIED,
        title="对他行结算服务不满",
        occurred_on=TODAY - timedelta(days=3),
    )
    assert Task.objects.get().due_date == TODAY + timedelta(days=7)


@pytest.mark.parametrize("persona", ["bob", "carol", "risk", "auditor", "officer", "admin"])
def test_logging_out_of_scope_is_not_found_and_writes_nothing(bank: Bank, persona: str) -> None:
    # given alice's customer; bob and carol work elsewhere, the others may not change customers
    customer = make_customer(bank.alice)
    audit_before = AuditEvent.objects.count()
    # when
    with pytest.raises(NotFoundError):
        log_event(
            actor=getattr(bank, persona),
            customer_id=customer.pk,
            kind=EventKind.NEW_NEED,
            title="新开户",
            occurred_on=TODAY,
        )
    # then
    assert not CustomerEvent.objects.exists()
    assert not Task.objects.exists()
    assert AuditEvent.objects.count() == audit_before


def test_logging_on_an_archived_customer_is_not_found(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    Customer.objects.filter(pk=customer.pk).update(archived_at=aware(2026, 1, 5))
    with pytest.raises(NotFoundError):
        log_event(actor=bank.alice, customer_id=customer.pk, kind=EventKind.NEW_NEED, title="x", occurred_on=TODAY)


def test_bad_input_is_refused_field_by_field(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    # when
    with pytest.raises(ValidationError) as error:
        log_event(
            actor=bank.alice,
            customer_id=customer.pk,
            kind="birthday",
            title="   ",
            occurred_on=TODAY + timedelta(days=400),
        )
    # then
    assert error.value.message_dict == {
        "kind": ["Choose one of the occasions."],
        "title": ["Say what happened."],
        "occurred_on": ["An occasion can be logged at most a year ahead."],
    }
    assert not CustomerEvent.objects.exists()
    assert not Task.objects.exists()


@pytest.mark.parametrize(
    ("title", "occurred_on", "errors"),
    [
        ("x" * 201, TODAY, {"title": ["Keep it to 200 characters."]}),
        ("a\x00b", TODAY, {"title": ["Null characters are not allowed."]}),
        ("旧事", TODAY - timedelta(days=400), {"occurred_on": [HISTORY]}),
        ("无日期", "2026-03-01", {"occurred_on": ["Enter a date."]}),
    ],
)  # fmt: skip
def test_titles_and_dates_are_checked(bank: Bank, title: str, occurred_on: Any, errors: dict[str, list[str]]) -> None:
    customer = make_customer(bank.alice)
    with pytest.raises(ValidationError) as error:
        log_event(actor=bank.alice, customer_id=customer.pk, kind="new_need", title=title, occurred_on=occurred_on)
    assert error.value.message_dict == errors


def test_a_customer_without_an_rm_cannot_get_a_proposed_visit(bank: Bank) -> None:
    # given a prospect waiting in team 1's pool, which its lead may change
    prospect = make_customer(bank.alice)
    Customer.objects.filter(pk=prospect.pk).update(status="prospect", primary_rm=None)
    # when
    with pytest.raises(ValidationError) as error:
        log_event(actor=bank.lead, customer_id=prospect.pk, kind="new_need", title="新需求", occurred_on=TODAY)
    # then
    assert error.value.message_dict == {"customer": ["This customer waits in the pool with no RM: assign an RM first."]}
    assert not CustomerEvent.objects.exists()


# --- detection from the audit trail ----------------------------------------------------------------------------------


def test_a_new_legal_representative_is_new_leadership(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, legal_representative="张三")
    seq = change(customer, bank.alice, legal_representative="李四")
    # when
    run = detect_events(on=TODAY)
    # then
    assert detected() == [
        (
            customer.pk,
            "structural_change",
            "New leadership — legal representative changed from 张三 to 李四",
            TODAY,
            f"legal_representative:{seq}",
        )
    ]
    assert occasion_tasks() == [
        (
            customer.pk,
            "alice",
            "Visit occasion: New leadership — legal representative changed from 张三 to 李四",
            TODAY + timedelta(days=7),
        )
    ]
    assert (run.structural, run.anniversaries, run.tasks, run.skipped_without_rm) == (1, 0, 1, 0)


def test_each_detected_change_and_each_run_is_audited(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, legal_representative="张三")
    change(customer, bank.alice, legal_representative="李四")
    top = AuditEvent.objects.latest("seq").seq
    # when
    run = detect_events(on=TODAY)
    # then
    event = CustomerEvent.objects.get()
    task = Task.objects.get()
    detect = AuditEvent.objects.get(action="customer_event.detect")
    assert (detect.actor_id, detect.customer_id, detect.object_id) == (None, customer.pk, str(event.pk))
    assert detect.changes == {
        "kind": "structural_change",
        "title": event.title,
        "detection_key": event.detection_key,
        "task": task.pk,
    }
    summary = AuditEvent.objects.get(action="customer_event.detection_run")
    assert summary.changes == {
        "on": str(TODAY),
        "from_seq": 0,
        "to_seq": top,
        "structural": 1,
        "anniversaries": 0,
        "tasks": 1,
        "skipped_without_rm": 0,
        "first_event_id": event.pk,
        "last_event_id": event.pk,
    }
    assert (run.from_seq, run.to_seq) == (0, top)


def test_a_first_legal_representative_completes_the_file_and_is_no_occasion(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    change(customer, bank.alice, legal_representative="李四")
    detect_events(on=TODAY)
    assert detected() == []


def test_new_capital_or_ownership_is_a_restructuring(bank: Bank) -> None:
    # given one change of both, and one of the ownership alone
    both = make_customer(bank.alice, registered_capital=Decimal("50000000.00"), ownership="private")
    seq = change(both, bank.alice, registered_capital=Decimal("80000000.00"), ownership="mixed")
    ownership = make_customer(bank.dave, ownership="state")
    seq2 = change(ownership, bank.dave, ownership="mixed")
    # when
    detect_events(on=TODAY)
    # then
    assert detected() == sorted(
        [
            (
                both.pk,
                "structural_change",
                "Restructuring — registered capital changed from 5,000 × 10,000 yuan to 8,000 × 10,000 yuan; "
                "ownership changed from Private to Mixed ownership",
                TODAY,
                f"restructuring:{seq}",
            ),
            (
                ownership.pk,
                "structural_change",
                "Restructuring — ownership changed from State-owned to Mixed ownership",
                TODAY,
                f"restructuring:{seq2}",
            ),
        ]
    )
    assert [owner for _c, owner, _t, _d in occasion_tasks()] == ["alice", "dave"]


def test_other_changes_are_no_occasion(bank: Bank) -> None:
    customer = make_customer(bank.alice, registered_capital=Decimal("1000000.00"))
    change(customer, bank.alice, name="西湖新名有限公司", tier="core", industry="39")
    detect_events(on=TODAY)
    assert detected() == []


def test_actual_controllers_added_changed_or_named(bank: Bank) -> None:
    # given a customer whose first actual controller is filed (no occasion), then a second one added,
    customer = make_customer(bank.alice)
    first = customer_services.add_key_person(
        actor=bank.alice, customer_id=customer.pk, data={"role": "actual_controller", "name": "王一"}
    )
    customer_services.add_key_person(
        actor=bank.alice, customer_id=customer.pk, data={"role": "actual_controller", "name": "王二"}
    )
    added = AuditEvent.objects.filter(action="key_person.create").latest("seq").seq
    # the first one renamed (a new person in the role),
    customer_services.update_key_person(
        actor=bank.alice, key_person_id=first.pk, version=first.version, data={"name": "王三"}
    )
    renamed = AuditEvent.objects.filter(action="key_person.update").latest("seq").seq
    # and the finance head made actual controller; a finance head's rename is no occasion
    cfo = customer_services.add_key_person(
        actor=bank.alice, customer_id=customer.pk, data={"role": "finance_head", "name": "赵财"}
    )
    customer_services.update_key_person(actor=bank.alice, key_person_id=cfo.pk, version=1, data={"name": "赵会计"})
    customer_services.update_key_person(
        actor=bank.alice, key_person_id=cfo.pk, version=2, data={"role": "actual_controller"}
    )
    promoted = AuditEvent.objects.filter(action="key_person.update").latest("seq").seq
    # when
    run = detect_events(on=TODAY)
    # then
    assert detected() == sorted(
        [
            (customer.pk, "structural_change", "New leadership — new actual controller 王二", TODAY,
             f"actual_controller:{added}"),
            (customer.pk, "structural_change", "New leadership — actual controller changed from 王一 to 王三", TODAY,
             f"actual_controller:{renamed}"),
            (customer.pk, "structural_change", "New leadership — 赵会计 is now the actual controller", TODAY,
             f"actual_controller:{promoted}"),
        ]
    )  # fmt: skip
    assert run.tasks == 3


def test_a_second_run_finds_nothing_new(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, legal_representative="张三")
    change(customer, bank.alice, legal_representative="李四")
    first = detect_events(on=TODAY)
    # when
    second = detect_events(on=TODAY)
    # then
    assert (second.structural, second.anniversaries, second.tasks) == (0, 0, 0)
    assert second.from_seq == first.to_seq
    assert CustomerEvent.objects.count() == 1
    assert Task.objects.count() == 1


def test_the_cursor_moves_on_and_a_reset_cursor_duplicates_nothing(bank: Bank) -> None:
    # given a first run, then a new change
    customer = make_customer(bank.alice, legal_representative="张三")
    change(customer, bank.alice, legal_representative="李四")
    first = detect_events(on=TODAY)
    seq = change(customer, bank.alice, legal_representative="王五")
    # when
    second = detect_events(on=TODAY)
    # then only the new change is read and found
    assert DetectionCursor.objects.get(name="events").last_seq == second.to_seq
    assert second.from_seq == first.to_seq < seq <= second.to_seq
    assert second.structural == 1
    assert CustomerEvent.objects.latest("pk").detection_key == f"legal_representative:{seq}"
    # and when the cursor is reset, the whole trail is read again without recording anything twice
    DetectionCursor.objects.filter(name="events").update(last_seq=0)
    third = detect_events(on=TODAY)
    assert (third.from_seq, third.structural, third.tasks) == (0, 0, 0)
    assert CustomerEvent.objects.count() == 2


def test_customers_without_an_rm_or_archived_are_skipped(bank: Bank) -> None:
    # given a change on a customer later put in the pool, and one on a customer later archived
    pooled = make_customer(bank.alice, legal_representative="张三")
    change(pooled, bank.alice, legal_representative="李四")
    Customer.objects.filter(pk=pooled.pk).update(status="prospect", primary_rm=None)
    archived = make_customer(bank.dave, ownership="state")
    change(archived, bank.dave, ownership="private")
    Customer.objects.filter(pk=archived.pk).update(archived_at=aware(2026, 1, 5))
    # when
    run = detect_events(on=TODAY)
    # then
    assert (run.structural, run.tasks, run.skipped_without_rm) == (0, 0, 2)
    assert not CustomerEvent.objects.exists()


def test_the_task_goes_to_the_primary_rm_of_today(bank: Bank) -> None:
    # given a change made while dave was the primary RM, then the customer handed to alice
    customer = make_customer(bank.dave, legal_representative="张三")
    change(customer, bank.dave, legal_representative="李四")
    Customer.objects.filter(pk=customer.pk).update(primary_rm=bank.alice)
    # when
    detect_events(on=TODAY)
    # then
    assert Task.objects.get().owner == bank.alice


def test_changes_older_than_a_month_are_history(bank: Bank) -> None:
    customer = make_customer(bank.alice, legal_representative="张三")
    change(customer, bank.alice, legal_representative="李四")
    run = detect_events(on=TODAY + timedelta(days=31))
    assert (run.structural, run.tasks) == (0, 0)
    assert DetectionCursor.objects.get(name="events").last_seq == run.to_seq


# --- anniversaries ---------------------------------------------------------------------------------------------------


def founded(bank: Bank, day: date, rm: Any = None, **fields: Any) -> Customer:
    return make_customer(rm or bank.alice, established_on=day, **fields)


def test_a_round_anniversary_in_the_next_two_weeks_is_a_happy_event(bank: Bank) -> None:
    # given on 25 February 2026: a tenth anniversary on 5 March, a ninth, a fifth after the two weeks, one founded
    # this year, one founded on the last day of the window, and a prospect of dave's
    on = date(2026, 2, 25)
    tenth = founded(bank, date(2016, 3, 5), name="西湖电子有限公司")
    founded(bank, date(2017, 3, 5))
    founded(bank, date(2021, 3, 12))
    founded(bank, date(2026, 3, 1))
    last_day = founded(bank, date(1996, 3, 11))
    prospect = founded(bank, date(2021, 2, 25), rm=bank.dave)
    Customer.objects.filter(pk=prospect.pk).update(status="prospect")
    # when
    run = detect_events(on=on)
    # then
    assert detected() == sorted(
        [
            (tenth.pk, "happy_event", "Founding anniversary — 10 years since it was founded on 2016-03-05",
             date(2026, 3, 5), "anniversary:2026"),
            (last_day.pk, "happy_event", "Founding anniversary — 30 years since it was founded on 1996-03-11",
             date(2026, 3, 11), "anniversary:2026"),
            (prospect.pk, "happy_event", "Founding anniversary — 5 years since it was founded on 2021-02-25",
             date(2026, 2, 25), "anniversary:2026"),
        ]
    )  # fmt: skip
    assert occasion_tasks() == sorted(
        [
            (tenth.pk, "alice", "Visit occasion: Founding anniversary — 10 years since it was founded on 2016-03-05",
             date(2026, 3, 5)),
            (last_day.pk, "alice", "Visit occasion: Founding anniversary — 30 years since it was founded on "
             "1996-03-11", date(2026, 3, 11)),
            (prospect.pk, "dave", "Visit occasion: Founding anniversary — 5 years since it was founded on 2021-02-25",
             date(2026, 3, 4)),
        ]
    )  # fmt: skip
    assert (run.anniversaries, run.tasks) == (3, 3)
    # the sweep is recorded by the run's summary alone
    assert not AuditEvent.objects.filter(action="customer_event.detect").exists()
    assert AuditEvent.objects.get(action="customer_event.detection_run").changes["anniversaries"] == 3


def test_the_next_days_run_finds_the_same_anniversary_only_once(bank: Bank) -> None:
    founded(bank, date(2016, 3, 5))
    detect_events(on=date(2026, 2, 25))
    run = detect_events(on=date(2026, 2, 26))
    assert (run.anniversaries, run.tasks) == (0, 0)
    assert CustomerEvent.objects.count() == 1


def test_a_company_founded_on_29_february_celebrates_on_28_february(bank: Bank) -> None:
    # given
    leap = founded(bank, date(2016, 2, 29))
    # when
    detect_events(on=date(2026, 2, 20))
    # then
    assert [(e.occurred_on, e.detection_key) for e in CustomerEvent.objects.filter(customer=leap)] == [
        (date(2026, 2, 28), "anniversary:2026")
    ]
    assert anniversary(date(2016, 2, 29), 2026) == date(2026, 2, 28)
    assert anniversary(date(2016, 2, 29), 2036) == date(2036, 2, 29)


def test_a_29_february_anniversary_is_found_when_the_window_ends_on_28_february(bank: Bank, settings: Any) -> None:
    # given a window of 14 days ending on 28 February of a common year
    leap = founded(bank, date(2020, 2, 29))
    # when
    detect_events(on=date(2025, 2, 14))
    # then
    assert list(CustomerEvent.objects.filter(customer=leap).values_list("occurred_on", flat=True)) == [
        date(2025, 2, 28)
    ]


def test_an_anniversary_across_the_new_year_counts_in_its_own_year(bank: Bank) -> None:
    customer = founded(bank, date(2016, 1, 2))
    detect_events(on=date(2025, 12, 25))
    assert list(CustomerEvent.objects.filter(customer=customer).values_list("occurred_on", "detection_key")) == [
        (date(2026, 1, 2), "anniversary:2026")
    ]


def test_anniversaries_follow_the_settings(bank: Bank, settings: Any) -> None:
    # given every 10 years, 30 days ahead
    settings.VISIT_ANNIVERSARY_YEARS = 10
    settings.VISIT_ANNIVERSARY_LEAD_DAYS = 30
    fifth = founded(bank, date(2021, 3, 1))
    twentieth = founded(bank, date(2006, 3, 20))
    # when
    detect_events(on=date(2026, 2, 25))
    # then
    assert list(CustomerEvent.objects.values_list("customer_id", flat=True)) == [twentieth.pk]
    assert fifth.pk not in CustomerEvent.objects.values_list("customer_id", flat=True)


def test_anniversaries_skip_customers_without_rm_and_archived_ones(bank: Bank) -> None:
    pooled = founded(bank, date(2016, 3, 5))
    Customer.objects.filter(pk=pooled.pk).update(status="prospect", primary_rm=None)
    archived = founded(bank, date(2016, 3, 5))
    Customer.objects.filter(pk=archived.pk).update(archived_at=aware(2026, 1, 5))
    run = detect_events(on=date(2026, 2, 25))
    assert (run.anniversaries, run.tasks) == (0, 0)


def test_the_command_prints_what_it_found(bank: Bank, capsys: Any) -> None:
    # given
    founded(bank, date(2016, 3, 5))
    # when
    call_command("detect-events", "--date", "2026-02-25")
    call_command("detect-events", "--date", "2026-02-25")
    # then: the first run's summary event is what the second reads
    assert capsys.readouterr().out.splitlines() == [
        "detect-events 2026-02-25: no new audit events; 0 structural change(s), 1 anniversary(ies), "
        "1 visit(s) proposed, 0 skipped without a primary RM",
        "detect-events 2026-02-25: audit events 1–1 read; 0 structural change(s), 0 anniversary(ies), "
        "0 visit(s) proposed, 0 skipped without a primary RM",
    ]


def test_key_person_events_of_other_roles_are_ignored(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    customer_services.add_key_person(
        actor=bank.alice, customer_id=customer.pk, data={"role": "finance_head", "name": "钱财"}
    )
    customer_services.add_key_person(
        actor=bank.alice, customer_id=customer.pk, data={"role": "finance_head", "name": "孙财"}
    )
    detect_events(on=TODAY)
    assert KeyPerson.objects.count() == 2
    assert detected() == []
    assert not Task.objects.filter(status=TaskStatus.OPEN).exists()
