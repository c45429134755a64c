"""Planning a visit and changing the plan: who visits, who attends, when, the visiting RM's task, the occasion's
task, the audit trail — and the requests that are refused without leaving anything behind."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import ConflictError, NotFoundError
from rmdesk.customers.models import Customer
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from rmdesk.visits.choices import EventKind, PrepItem, VisitMode, VisitPurpose, VisitStatus
from rmdesk.visits.models import CustomerEvent, Visit, VisitBankAttendee, VisitContact
from rmdesk.visits.services import (
    PlannedVisit,
    cancel_visit,
    plan_visit,
    postpone_visit,
    record_visit,
    update_plan,
)
from tests.development.factories import make_prospect
from tests.personas import Bank, make_customer
from tests.visits.factories import aware, make_key_person, make_visit

NOW = aware(2026, 3, 1, 9)
START = aware(2026, 3, 2, 10)
END = aware(2026, 3, 2, 11, 30)


def plan(actor: User, customer: Customer, **fields: Any) -> PlannedVisit:
    """plan_visit at NOW, to explore needs on 2 March 2026 10:00–11:30 unless told otherwise."""
    fields.setdefault("purpose", VisitPurpose.NEEDS)
    fields.setdefault("planned_start", START)
    fields.setdefault("planned_end", END)
    fields.setdefault("now", NOW)
    return plan_visit(actor=actor, customer_id=customer.pk, **fields)


def rows() -> dict[str, int]:
    """How many rows every table a visit service writes holds."""
    return {
        "visits": Visit.objects.count(),
        "bank_attendees": VisitBankAttendee.objects.count(),
        "contacts": VisitContact.objects.count(),
        "tasks": Task.objects.count(),
        "open_tasks": Task.objects.filter(status=TaskStatus.OPEN).count(),
        "audit": AuditEvent.objects.count(),
    }


def refused(call: Any, **kwargs: Any) -> dict[str, list[str]]:
    """The field errors of a refused call, in English."""
    with translation.override("en"), pytest.raises(ValidationError) as error:
        call(**kwargs)
    return error.value.message_dict


def in_chinese(text: str) -> bool:
    return re.search(r"[\u4e00-\u9fff]", text) is not None


def _catalogue_has(msgid: str) -> bool:
    with translation.override("zh-hans"):
        return gettext(msgid) != msgid


# The zh-Hans catalogue is filled in one pass at the end of the issue; until then these tests are expected to fail
# (and fail loudly, strict, once the catalogue has the strings but the code stops using them).
awaits_catalogue = pytest.mark.xfail(
    not _catalogue_has("Choose from the list."),
    reason="the zh-Hans catalogue awaits its translation pass",
    raises=AssertionError,
    strict=True,
)


def task_of(visit: Visit, **filters: Any) -> Task:
    return Task.objects.get(kind=TaskKind.VISIT, source_type="visit", source_id=str(visit.pk), **filters)


# --- plan: the visiting RM and the task -------------------------------------------------------------------------------


def test_an_rm_plans_a_visit_and_gets_a_task_for_the_day(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, name="杭州华兴科技有限公司")
    # when
    with translation.override("en"):
        planned = plan(bank.alice, customer, place="  客户总部三楼  ")
    # then
    visit = Visit.objects.get(pk=planned.visit.pk)
    assert (visit.customer, visit.rm, visit.created_by) == (customer, bank.alice, bank.alice)
    assert (visit.status, visit.mode, visit.purpose, visit.place) == ("planned", "on_site", "needs", "客户总部三楼")
    assert (visit.planned_start, visit.planned_end, visit.version) == (START, END, 1)
    assert (visit.preparation, visit.event, visit.postponed_count) == ([], None, 0)
    assert planned.overlaps == []
    task = task_of(visit)
    assert (task.owner, task.customer, task.due_date, task.status) == (bank.alice, customer, date(2026, 3, 2), "open")
    assert task.title == "Visit 杭州华兴科技有限公司: Explore needs"
    events = list(AuditEvent.objects.filter(customer_id=customer.pk).order_by("seq"))
    assert [e.action for e in events] == ["visit.plan", "task.create"]
    assert (events[0].actor, events[0].object_type, events[0].object_id) == (bank.alice, "visits.visit", str(visit.pk))
    assert events[0].changes == {
        "purpose": [None, "needs"],
        "planned_start": [None, "2026-03-02 10:00:00+08:00"],
        "rm": [None, "alice"],
        "place": [None, "客户总部三楼"],
    }


def test_the_task_is_due_on_the_visits_day_in_the_banks_time_zone(bank: Bank) -> None:
    # given a visit at 00:30 in Shanghai, still 1 March in UTC
    customer = make_customer(bank.alice)
    start = aware(2026, 3, 2, 0, 30)
    # when
    visit = plan(bank.alice, customer, planned_start=start, planned_end=start + timedelta(hours=1)).visit
    # then
    assert task_of(visit).due_date == date(2026, 3, 2)


def test_plan_text_is_trimmed_and_the_checklist_kept_in_order_without_repeats(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    # when
    visit = plan(
        bank.alice,
        customer,
        mode=VisitMode.AT_BANK,
        purpose_detail=" 了解扩产资金需求 ",
        other_attendees=" 客户财务顾问 ",
        strategy=" 先听后讲 ",
        materials=" 流贷产品手册 ",
        preparation=[PrepItem.PLAN, PrepItem.RESEARCH, PrepItem.PLAN],
    ).visit
    # then
    visit.refresh_from_db()
    assert (visit.mode, visit.purpose_detail, visit.other_attendees) == ("at_bank", "了解扩产资金需求", "客户财务顾问")
    assert (visit.strategy, visit.materials, visit.preparation) == ("先听后讲", "流贷产品手册", ["plan", "research"])


def test_a_co_rm_who_plans_is_the_visiting_rm(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, co_rms=(bank.dave,))
    # when
    visit = plan(bank.dave, customer).visit
    # then
    assert (visit.rm, task_of(visit).owner) == (bank.dave, bank.dave)


def test_a_lead_plans_for_the_customers_rm_or_names_one_of_his_rms(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, co_rms=(bank.dave,))
    # when
    by_default = plan(bank.lead, customer).visit
    named = plan(
        bank.lead, customer, rm_id=bank.dave.pk, planned_start=aware(2026, 3, 3), planned_end=aware(2026, 3, 3, 11)
    ).visit
    # then
    assert (by_default.rm, by_default.created_by, task_of(by_default).owner) == (bank.alice, bank.lead, bank.alice)
    assert (named.rm, task_of(named).owner, task_of(named).due_date) == (bank.dave, bank.dave, date(2026, 3, 3))


def test_a_lead_must_name_the_rm_of_a_prospect_in_the_pool(bank: Bank) -> None:
    # given a prospect in team 1's pool: no primary RM
    prospect = make_prospect(bank.alice, found_on=date(2026, 2, 1), in_pool=True)
    before = rows()
    # when
    errors = refused(plan, actor=bank.lead, customer=prospect.customer)
    # then
    assert errors == {"rm_id": ["Choose the RM who makes the visit."]}
    assert rows() == before


def test_an_rm_who_does_not_look_after_the_customer_cannot_be_the_visiting_rm(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    before = rows()
    # when / then: another team's RM, a teammate not on the customer, a read-only role, nobody
    for rm_id in (bank.bob.pk, bank.dave.pk, bank.carol.pk, bank.risk.pk, 987654):
        errors = refused(plan, actor=bank.lead, customer=customer, rm_id=rm_id)
        assert errors == {"rm_id": ["The visiting RM must be one who looks after this customer."]}
    assert rows() == before


def test_an_rm_who_left_the_bank_cannot_be_the_visiting_rm(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, co_rms=(bank.dave,))
    User.objects.filter(pk=bank.dave.pk).update(is_active=False)
    # when
    errors = refused(plan, actor=bank.lead, customer=customer, rm_id=bank.dave.pk)
    # then
    assert errors == {"rm_id": ["The visiting RM must be one who looks after this customer."]}


# --- attendees --------------------------------------------------------------------------------------------------------


def test_bank_attendees_are_colleagues_who_see_the_customer_without_the_visiting_rm(bank: Bank) -> None:
    # given alice's customer with bob, from another team, as co-RM
    customer = make_customer(bank.alice, co_rms=(bank.bob,))
    # when: the co-RM, alice's team lead and the risk officer join; alice and bob are named twice
    visit = plan(
        bank.alice,
        customer,
        bank_attendee_ids=[bank.bob.pk, bank.lead.pk, bank.risk.pk, bank.alice.pk, bank.bob.pk, bank.alice.pk],
    ).visit
    # then
    assert set(visit.bank_attendees.all()) == {bank.bob, bank.lead, bank.risk}
    event = AuditEvent.objects.get(action="visit.plan")
    assert event.changes["bank_attendees"] == [None, ["bob", "lead", "risk"]]


def test_a_colleague_who_cannot_see_the_customer_is_refused_naming_them_and_nothing_is_written(bank: Bank) -> None:
    # given: dave, a teammate with a book of his own; bob, another team; carol, another branch; the department
    # officer, who sees no customers. The team lead sees the customer and may go.
    customer = make_customer(bank.alice)
    before = rows()
    # when
    errors = refused(
        plan,
        actor=bank.alice,
        customer=customer,
        bank_attendee_ids=[bank.lead.pk, bank.dave.pk, bank.bob.pk, bank.carol.pk, bank.officer.pk],
    )
    # then: one message naming each of them (and not the lead)
    (message,) = errors.pop("bank_attendee_ids")
    assert errors == {}
    names, rest = message.split(" cannot see this customer", 1)
    assert sorted(names.split("、")) == ["Bob", "Carol", "Dave", "Officer"]
    assert rest == ": name them under other attendees instead."
    assert rows() == before
    assert not Visit.objects.exists()


def test_a_colleague_who_cannot_see_the_customer_is_refused_when_the_plan_changes(bank: Bank) -> None:
    # given a visit the lead goes along to
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer, bank_attendee_ids=[bank.lead.pk]).visit
    before = rows()
    # when dave is added
    errors = refused(
        update_plan, actor=bank.alice, visit_id=visit.pk, version=1, bank_attendee_ids=[bank.lead.pk, bank.dave.pk]
    )
    # then
    assert errors == {"bank_attendee_ids": ["Dave cannot see this customer: name them under other attendees instead."]}
    assert rows() == before
    visit.refresh_from_db()
    assert (visit.version, list(visit.bank_attendees.all())) == (1, [bank.lead])


def test_a_bank_attendee_must_be_an_active_colleague(bank: Bank) -> None:
    # given dave, the customer's co-RM, who has left the bank
    customer = make_customer(bank.alice, co_rms=(bank.dave,))
    User.objects.filter(pk=bank.dave.pk).update(is_active=False)
    before = rows()
    # when / then: someone who left, the administrator (no customer work), nobody
    for user_id in (bank.dave.pk, bank.admin.pk, 987654):
        errors = refused(plan, actor=bank.alice, customer=customer, bank_attendee_ids=[bank.lead.pk, user_id])
        assert errors == {"bank_attendee_ids": ["Some of the bank attendees are not active colleagues."]}
    assert rows() == before


def test_customer_attendees_are_the_customers_key_persons(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    finance, legal = make_key_person(customer, name="王财务"), make_key_person(customer, name="李法人")
    # when
    visit = plan(bank.alice, customer, key_person_ids=[legal.pk, finance.pk]).visit
    # then
    assert set(visit.customer_attendees.all()) == {finance, legal}
    event = AuditEvent.objects.get(action="visit.plan")
    assert event.changes["customer_attendees"] == [None, ["李法人", "王财务"]]


def test_a_key_person_of_another_customer_is_refused_without_naming_them(bank: Bank) -> None:
    # given bob's customer's key person, whom alice must not learn about
    customer = make_customer(bank.alice)
    own = make_key_person(customer, name="王财务")
    other = make_key_person(make_customer(bank.bob), name="赵秘密", title="董事长")
    before = rows()
    # when
    errors = refused(plan, actor=bank.alice, customer=customer, key_person_ids=[own.pk, other.pk])
    # then
    assert errors == {"key_person_ids": ["Customer attendees must be key persons of this customer."]}
    assert "赵秘密" not in str(errors) and str(other.pk) not in str(errors)
    assert rows() == before


def test_an_archived_key_person_no_longer_attends(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    gone = make_key_person(customer, archived_at=NOW)
    # when
    errors = refused(plan, actor=bank.alice, customer=customer, key_person_ids=[gone.pk])
    # then
    assert errors == {"key_person_ids": ["Customer attendees must be key persons of this customer."]}


# --- what is checked --------------------------------------------------------------------------------------------------


def test_the_preparation_checklist_takes_only_its_own_items(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    before = rows()
    # when
    errors = refused(plan, actor=bank.alice, customer=customer, preparation=[PrepItem.RESEARCH, "bribe"])
    # then
    assert errors == {"preparation": ["Choose from the list."]}
    assert rows() == before


def test_the_purpose_and_the_mode_are_from_their_lists(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    before = rows()
    # when
    errors = refused(plan, actor=bank.alice, customer=customer, purpose="party", mode="carrier_pigeon")
    # then
    assert set(errors) == {"purpose", "mode"}
    assert rows() == before


def test_a_time_that_has_passed_is_not_a_plan(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    before = rows()
    # when
    errors = refused(plan, actor=bank.alice, customer=customer, planned_start=NOW - timedelta(hours=1), planned_end=NOW)
    # then
    assert errors == {
        "planned_start": [
            "This time has passed. Choose a future time, or say the visit already took place to record it."
        ]
    }
    assert rows() == before


def test_a_plan_made_a_few_minutes_late_is_still_a_plan(bank: Bank) -> None:
    # given the meeting began ten minutes ago while the form was open
    customer = make_customer(bank.alice)
    # when
    visit = plan(bank.alice, customer, planned_start=NOW - timedelta(minutes=10), planned_end=NOW + timedelta(hours=1))
    # then
    assert visit.visit.status == "planned"


def test_a_visit_that_took_place_is_filed_without_a_task(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    # when
    visit = plan(
        bank.alice,
        customer,
        planned_start=NOW - timedelta(days=2),
        planned_end=NOW - timedelta(days=2) + timedelta(hours=1),
        took_place=True,
    ).visit
    # then
    assert visit.status == "planned"
    assert not Task.objects.filter(source_type="visit").exists()
    assert [e.action for e in AuditEvent.objects.all()] == ["visit.plan"]


def test_a_visit_that_took_place_cannot_be_in_the_future(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    errors = refused(plan, actor=bank.alice, customer=customer, took_place=True)
    assert errors == {"planned_start": ["A visit that already took place cannot start in the future."]}


def test_a_visit_ends_after_it_starts_and_lasts_at_most_twelve_hours(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    before = rows()
    # when
    backwards = refused(plan, actor=bank.alice, customer=customer, planned_end=START)
    too_long = refused(plan, actor=bank.alice, customer=customer, planned_end=START + timedelta(hours=12, minutes=1))
    twelve = plan(bank.alice, customer, planned_end=START + timedelta(hours=12)).visit
    # then
    assert backwards == {"planned_end": ["The visit must end after it starts."]}
    assert too_long == {"planned_end": ["A visit lasts at most 12 hours."]}
    assert rows()["visits"] == before["visits"] + 1
    assert twelve.planned_end - twelve.planned_start == timedelta(hours=12)


def test_a_visit_is_planned_at_most_a_year_ahead(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    far = NOW + timedelta(days=367)
    # when
    errors = refused(plan, actor=bank.alice, customer=customer, planned_start=far, planned_end=far + timedelta(hours=1))
    # then
    assert errors == {"planned_start": ["Plan a visit at most a year ahead."]}
    assert plan(
        bank.alice, customer, planned_start=NOW + timedelta(days=300), planned_end=NOW + timedelta(days=300, hours=1)
    )


def test_every_error_of_a_request_is_named_at_once(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    other = make_key_person(make_customer(bank.bob))
    # when
    errors = refused(
        plan,
        actor=bank.alice,
        customer=customer,
        rm_id=bank.bob.pk,
        key_person_ids=[other.pk],
        preparation=["x"],
        planned_end=START - timedelta(hours=1),
    )
    # then
    assert set(errors) == {"rm_id", "key_person_ids", "preparation", "planned_end"}


def test_naive_times_are_a_programming_error(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    with pytest.raises(ValueError):
        plan(bank.alice, customer, planned_start=START.replace(tzinfo=None))


# --- overlaps -----------------------------------------------------------------------------------------------------


def test_an_overlapping_visit_is_a_warning_and_the_visit_is_planned_all_the_same(bank: Bank) -> None:
    # given alice's other visits that day
    first, second = make_customer(bank.alice), make_customer(bank.alice)
    clash = make_visit(bank.alice, first, planned_start=aware(2026, 3, 2, 9, 30), planned_end=aware(2026, 3, 2, 10, 30))
    make_visit(bank.alice, first, planned_start=aware(2026, 3, 2, 11, 30))  # starts as ours ends
    make_visit(bank.alice, first, planned_start=aware(2026, 3, 2, 10), status=VisitStatus.CANCELLED)
    make_visit(bank.bob, make_customer(bank.bob), planned_start=aware(2026, 3, 2, 10))  # someone else's
    # when
    planned = plan(bank.alice, second)
    # then
    assert planned.overlaps == [clash]
    assert Visit.objects.filter(pk=planned.visit.pk, status="planned").exists()
    assert task_of(planned.visit).status == "open"


# --- occasions ----------------------------------------------------------------------------------------------------


def test_a_visit_for_an_occasion_closes_the_occasions_task(bank: Bank) -> None:
    # given an occasion that proposed a visit to alice
    customer = make_customer(bank.alice)
    event = CustomerEvent.objects.create(
        customer=customer, kind=EventKind.HAPPY_EVENT, title="新厂房落成", occurred_on=date(2026, 2, 20)
    )
    occasion = Task.objects.create(
        kind=TaskKind.VISIT_OCCASION,
        title="新厂房落成",
        customer=customer,
        owner=bank.alice,
        due_date=date(2026, 3, 5),
        source_type="customer_event",
        source_id=str(event.pk),
    )
    # when
    visit = plan(bank.alice, customer, purpose=VisitPurpose.TIMING, event_id=event.pk).visit
    # then
    assert visit.event == event
    occasion.refresh_from_db()
    assert occasion.status == "done"
    assert AuditEvent.objects.filter(action="task.complete", object_id=str(occasion.pk)).count() == 1


def test_the_occasion_must_be_the_customers_own(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    elsewhere = CustomerEvent.objects.create(
        customer=make_customer(bank.alice), kind=EventKind.NEW_NEED, title="新开户", occurred_on=date(2026, 2, 20)
    )
    # when
    errors = refused(plan, actor=bank.alice, customer=customer, event_id=elsewhere.pk)
    # then
    assert errors == {"event_id": ["The occasion must be one of this customer's."]}


# --- scope and atomicity --------------------------------------------------------------------------------------------


def test_a_customer_out_of_scope_is_not_found_and_nothing_is_written(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    archived = make_customer(bank.alice, archived_at=NOW)
    before = rows()
    # when / then: other RMs, read-only roles, roles without customers; an archived customer for its own RM
    for actor in (bank.bob, bank.carol, bank.dave, bank.risk, bank.auditor, bank.officer, bank.admin):
        with pytest.raises(NotFoundError):
            plan(actor, customer)
    with pytest.raises(NotFoundError):
        plan(bank.alice, archived)
    with pytest.raises(NotFoundError):
        plan_visit(actor=bank.alice, customer_id=987654, purpose="needs", planned_start=START, planned_end=END, now=NOW)
    assert rows() == before


def test_the_branch_head_may_plan_a_visit_in_the_branch(bank: Bank) -> None:
    customer = make_customer(bank.bob)
    visit = plan(bank.head, customer).visit
    assert (visit.rm, visit.created_by, task_of(visit).owner) == (bank.bob, bank.head, bank.bob)


def test_the_visit_its_task_and_their_audit_events_are_written_together_or_not_at_all(bank: Bank) -> None:
    # given an open visit task already waiting under the id the next visit will get, so that the task fails last
    customer = make_customer(bank.alice)
    last = make_visit(bank.alice, customer)
    next_pk = last.pk + 1
    last.delete()
    Task.objects.create(
        kind=TaskKind.VISIT,
        title="x",
        owner=bank.alice,
        due_date=date(2026, 3, 2),
        source_type="visit",
        source_id=str(next_pk),
    )
    before = rows()
    # when
    with pytest.raises(Exception):  # noqa: B017 - the database's unique violation, whatever its class
        plan(bank.alice, customer)
    # then: no visit, no attendee, no audit event survived the failure at the very end
    assert rows() == before
    assert not Visit.objects.filter(pk=next_pk).exists()


# --- changing the plan ------------------------------------------------------------------------------------------------


def test_a_new_time_moves_the_task_and_is_audited(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    new_start, new_end = aware(2026, 3, 4, 14), aware(2026, 3, 4, 15)
    # when
    updated = update_plan(
        actor=bank.alice, visit_id=visit.pk, version=1, planned_start=new_start, planned_end=new_end, now=NOW
    )
    # then
    visit.refresh_from_db()
    assert (visit.planned_start, visit.planned_end, visit.version) == (new_start, new_end, 2)
    assert updated.overlaps == []
    task = task_of(visit)
    assert (task.due_date, task.status, task.owner) == (date(2026, 3, 4), "open", bank.alice)
    event = AuditEvent.objects.get(action="visit.update")
    assert event.changes == {
        "planned_start": ["2026-03-02 10:00:00+08:00", "2026-03-04 14:00:00+08:00"],
        "planned_end": ["2026-03-02 11:30:00+08:00", "2026-03-04 15:00:00+08:00"],
    }
    reschedule = AuditEvent.objects.get(action="task.reschedule")
    assert reschedule.changes == {"due_date": ["2026-03-02", "2026-03-04"]}


def test_changing_the_plan_leaves_what_is_not_given(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    person = make_key_person(customer)
    visit = plan(bank.alice, customer, place="总部", key_person_ids=[person.pk], bank_attendee_ids=[bank.lead.pk]).visit
    # when
    update_plan(actor=bank.alice, visit_id=visit.pk, version=1, strategy=" 重点谈结算 ", now=NOW)
    # then
    visit.refresh_from_db()
    assert (visit.place, visit.strategy, visit.planned_start) == ("总部", "重点谈结算", START)
    assert list(visit.customer_attendees.all()) == [person]
    assert list(visit.bank_attendees.all()) == [bank.lead]
    assert task_of(visit).due_date == date(2026, 3, 2)
    assert AuditEvent.objects.get(action="visit.update").changes == {"strategy": ["", "重点谈结算"]}


def test_attendees_given_replace_the_old_ones(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    first, second = make_key_person(customer, name="甲"), make_key_person(customer, name="乙")
    visit = plan(bank.alice, customer, key_person_ids=[first.pk], bank_attendee_ids=[bank.lead.pk]).visit
    # when
    update_plan(actor=bank.alice, visit_id=visit.pk, version=1, key_person_ids=[second.pk], bank_attendee_ids=[])
    # then
    assert list(visit.customer_attendees.all()) == [second]
    assert list(visit.bank_attendees.all()) == []
    changes = AuditEvent.objects.get(action="visit.update").changes
    assert changes == {"bank_attendees": [["lead"], []], "customer_attendees": [["甲"], ["乙"]]}


def test_a_stale_version_is_a_conflict_and_changes_nothing(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    update_plan(actor=bank.alice, visit_id=visit.pk, version=1, place="总部", now=NOW)
    before = rows()
    # when
    with pytest.raises(ConflictError):
        update_plan(actor=bank.alice, visit_id=visit.pk, version=1, place="分部", now=NOW)
    # then
    visit.refresh_from_db()
    assert (visit.place, visit.version) == ("总部", 2)
    assert rows() == before


def test_a_new_visiting_rm_takes_the_task_over(bank: Bank) -> None:
    # given alice's visit; dave is the customer's co-RM
    customer = make_customer(bank.alice, co_rms=(bank.dave,))
    visit = plan(bank.alice, customer).visit
    # when
    update_plan(actor=bank.lead, visit_id=visit.pk, version=1, rm_id=bank.dave.pk, now=NOW)
    # then
    visit.refresh_from_db()
    assert visit.rm == bank.dave
    assert task_of(visit, owner=bank.alice).status == "cancelled"
    moved = task_of(visit, owner=bank.dave)
    assert (moved.status, moved.due_date) == ("open", date(2026, 3, 2))
    assert AuditEvent.objects.get(action="visit.update").changes == {"rm_id": ["alice", "dave"]}


def test_the_new_visiting_rm_is_no_longer_also_a_bank_attendee(bank: Bank) -> None:
    # given dave, the customer's co-RM, attends alice's visit with their team lead
    customer = make_customer(bank.alice, co_rms=(bank.dave,))
    visit = plan(bank.alice, customer, bank_attendee_ids=[bank.dave.pk, bank.lead.pk]).visit
    # when dave leads it instead
    update_plan(actor=bank.alice, visit_id=visit.pk, version=1, rm_id=bank.dave.pk, now=NOW)
    # then
    assert list(visit.bank_attendees.all()) == [bank.lead]


def test_a_new_visiting_rm_must_look_after_the_customer(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    before = rows()
    # when
    errors = refused(update_plan, actor=bank.lead, visit_id=visit.pk, version=1, rm_id=bank.bob.pk, now=NOW)
    # then
    assert errors == {"rm_id": ["The visiting RM must be one who looks after this customer."]}
    assert rows() == before


def test_a_postponed_visit_given_a_new_time_is_planned_again_with_a_new_task(bank: Bank) -> None:
    # given a visit postponed until a time is agreed: its task was cancelled
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    postpone_visit(actor=bank.alice, visit_id=visit.pk, reason="客户出差", now=NOW)
    # when
    update_plan(
        actor=bank.alice,
        visit_id=visit.pk,
        version=2,
        planned_start=aware(2026, 3, 9, 10),
        planned_end=aware(2026, 3, 9, 11),
        now=NOW,
    )
    # then
    visit.refresh_from_db()
    assert (visit.status, visit.version, visit.postponed_count) == ("planned", 3, 1)
    tasks = list(Task.objects.filter(source_type="visit", source_id=str(visit.pk)).values_list("status", "due_date"))
    assert sorted(tasks) == [("cancelled", date(2026, 3, 2)), ("open", date(2026, 3, 9))]
    assert AuditEvent.objects.get(action="visit.update").changes["status"] == ["postponed", "planned"]


def test_a_postponed_visit_needs_a_future_time_to_be_planned_again(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    postpone_visit(actor=bank.alice, visit_id=visit.pk, reason="客户出差", now=NOW)
    # when: a week after the old time, nothing but the place is changed
    errors = refused(
        update_plan, actor=bank.alice, visit_id=visit.pk, version=2, place="x", now=NOW + timedelta(days=7)
    )
    # then
    assert set(errors) == {"planned_start"}
    assert Visit.objects.get(pk=visit.pk).status == "postponed"


def test_only_a_visit_still_to_happen_can_be_changed(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    done = make_visit(bank.alice, customer, status=VisitStatus.DONE)
    cancelled = make_visit(bank.alice, customer, status=VisitStatus.CANCELLED)
    # when / then
    for visit in (done, cancelled):
        errors = refused(update_plan, actor=bank.alice, visit_id=visit.pk, version=1, place="x", now=NOW)
        assert errors == {"status": ["Only a visit still to happen can be changed."]}


def test_a_plan_out_of_scope_is_not_found(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    before = rows()
    for actor in (bank.bob, bank.carol, bank.risk, bank.auditor):
        with pytest.raises(NotFoundError):
            update_plan(actor=actor, visit_id=visit.pk, version=1, place="x", now=NOW)
    assert rows() == before


# --- postponing -------------------------------------------------------------------------------------------------------


def test_a_visit_postponed_to_a_new_time_stays_planned_and_its_task_moves(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    # when
    postponed = postpone_visit(
        actor=bank.alice,
        visit_id=visit.pk,
        reason=" 客户临时开会 ",
        new_start=aware(2026, 3, 3, 15),
        new_end=aware(2026, 3, 3, 16),
        now=NOW,
    )
    # then
    visit.refresh_from_db()
    assert (visit.status, visit.status_reason, visit.postponed_count, visit.version) == (
        "planned",
        "客户临时开会",
        1,
        2,
    )
    assert (visit.planned_start, visit.planned_end) == (aware(2026, 3, 3, 15), aware(2026, 3, 3, 16))
    assert postponed.pk == visit.pk
    assert (task_of(visit).due_date, task_of(visit).status) == (date(2026, 3, 3), "open")
    assert AuditEvent.objects.get(action="visit.postpone").changes == {
        "reason": "客户临时开会",
        "planned_start": ["2026-03-02 10:00:00+08:00", "2026-03-03 15:00:00+08:00"],
    }


def test_a_visit_postponed_without_a_time_waits_and_its_task_is_cancelled(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    # when
    postpone_visit(actor=bank.alice, visit_id=visit.pk, reason="客户出差", now=NOW)
    # then
    visit.refresh_from_db()
    assert (visit.status, visit.status_reason, visit.postponed_count, visit.planned_start) == (
        "postponed",
        "客户出差",
        1,
        START,
    )
    assert task_of(visit).status == "cancelled"
    assert AuditEvent.objects.get(action="visit.postpone").changes == {
        "reason": "客户出差",
        "status": ["planned", "postponed"],
    }


def test_a_visit_can_be_postponed_twice_but_not_while_it_waits(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    # when
    postpone_visit(
        actor=bank.alice,
        visit_id=visit.pk,
        reason="一",
        new_start=aware(2026, 3, 3),
        new_end=aware(2026, 3, 3, 11),
        now=NOW,
    )
    postpone_visit(actor=bank.alice, visit_id=visit.pk, reason="二", now=NOW)
    errors = refused(postpone_visit, actor=bank.alice, visit_id=visit.pk, reason="三", now=NOW)
    # then
    visit.refresh_from_db()
    assert (visit.status, visit.status_reason, visit.postponed_count) == ("postponed", "二", 2)
    assert errors == {"status": ["Only a planned visit can be postponed."]}


def test_postponing_needs_a_reason(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    before = rows()
    # when / then
    for reason in ("", "   "):
        errors = refused(postpone_visit, actor=bank.alice, visit_id=visit.pk, reason=reason, now=NOW)
        assert errors == {"reason": ["Say why the visit is postponed."]}
    assert rows() == before
    assert Visit.objects.get(pk=visit.pk).postponed_count == 0


def test_a_new_time_is_checked_on_the_postponements_own_fields(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    past = NOW - timedelta(days=1)
    # when
    half = refused(postpone_visit, actor=bank.alice, visit_id=visit.pk, reason="r", new_start=START, now=NOW)
    gone = refused(
        postpone_visit,
        actor=bank.alice,
        visit_id=visit.pk,
        reason="r",
        new_start=past,
        new_end=past + timedelta(hours=1),
        now=NOW,
    )
    backwards = refused(
        postpone_visit, actor=bank.alice, visit_id=visit.pk, reason="r", new_start=END, new_end=START, now=NOW
    )
    same = refused(
        postpone_visit, actor=bank.alice, visit_id=visit.pk, reason="r", new_start=START, new_end=END, now=NOW
    )
    # then
    assert half == {"new_end": ["Give both the new start and the new end."]}
    assert set(gone) == {"new_start"}
    assert backwards == {"new_end": ["The visit must end after it starts."]}
    assert same == {"new_start": ["The new time is the same as the planned one."]}


def test_a_long_reason_is_refused_on_the_reason(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    postpone = refused(postpone_visit, actor=bank.alice, visit_id=visit.pk, reason="因" * 201, now=NOW)
    cancel = refused(cancel_visit, actor=bank.alice, visit_id=visit.pk, reason="因" * 201)
    assert set(postpone) == {"reason"} and set(cancel) == {"reason"}


# --- cancelling -------------------------------------------------------------------------------------------------------


def test_cancelling_needs_a_reason_and_cancels_the_task(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    before = rows()
    # when
    errors = refused(cancel_visit, actor=bank.alice, visit_id=visit.pk, reason="  ")
    assert rows() == before
    cancel_visit(actor=bank.alice, visit_id=visit.pk, reason=" 客户已转他行 ")
    # then
    assert errors == {"reason": ["Say why the visit is cancelled."]}
    visit.refresh_from_db()
    assert (visit.status, visit.status_reason, visit.version) == ("cancelled", "客户已转他行", 2)
    assert task_of(visit).status == "cancelled"
    assert AuditEvent.objects.get(action="visit.cancel").changes == {
        "status": ["planned", "cancelled"],
        "reason": "客户已转他行",
    }


def test_a_postponed_visit_can_be_cancelled(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    postpone_visit(actor=bank.alice, visit_id=visit.pk, reason="客户出差", now=NOW)
    cancel_visit(actor=bank.alice, visit_id=visit.pk, reason="不再需要")
    assert AuditEvent.objects.get(action="visit.cancel").changes["status"] == ["postponed", "cancelled"]


def test_a_visit_done_or_cancelled_cannot_be_cancelled(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    done = make_visit(bank.alice, customer, status=VisitStatus.DONE)
    cancelled = make_visit(bank.alice, customer, status=VisitStatus.CANCELLED, status_reason="旧")
    before = rows()
    # when / then
    for visit in (done, cancelled):
        errors = refused(cancel_visit, actor=bank.alice, visit_id=visit.pk, reason="r")
        assert errors == {"status": ["Only a visit still to happen can be cancelled."]}
    assert rows() == before
    assert Visit.objects.get(pk=done.pk).status == "done"


def test_postponing_and_cancelling_out_of_scope_is_not_found(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    visit = plan(bank.alice, customer).visit
    before = rows()
    for actor in (bank.bob, bank.risk, bank.auditor):
        with pytest.raises(NotFoundError):
            postpone_visit(actor=actor, visit_id=visit.pk, reason="r", now=NOW)
        with pytest.raises(NotFoundError):
            cancel_visit(actor=actor, visit_id=visit.pk, reason="r")
    assert rows() == before


# --- the user's language ----------------------------------------------------------------------------------------------


def test_the_cancelled_visit_message_is_in_english_when_english_is_chosen(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    visit = make_visit(bank.alice, customer, status=VisitStatus.CANCELLED)
    errors = refused(record_visit, actor=bank.alice, visit_id=visit.pk, version=1, actual_start=START, actual_end=END)
    assert errors == {"status": ["This visit was cancelled, so there is nothing to record. Plan a new visit instead."]}


@awaits_catalogue
def test_plan_errors_are_in_chinese_by_default(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    other = make_key_person(make_customer(bank.bob))
    # when (no language chosen: the default, zh-Hans)
    with pytest.raises(ValidationError) as error:
        plan(bank.lead, customer, rm_id=bank.bob.pk, key_person_ids=[other.pk], preparation=["x"], planned_end=START)
    with pytest.raises(ValidationError) as postpone:
        postpone_visit(actor=bank.alice, visit_id=plan(bank.alice, customer).visit.pk, reason="", now=NOW)
    # then
    messages = {**error.value.message_dict, **postpone.value.message_dict}
    assert set(messages) == {"rm_id", "key_person_ids", "preparation", "planned_end", "reason"}
    assert all(in_chinese(message) for field in messages.values() for message in field), messages
