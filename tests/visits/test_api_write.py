"""/api/v1/visits, the writes: plan, change, postpone, cancel, check in, record, follow up, log an occasion and set
the cadence — each allowed, out of scope (404, nothing changed) and refused with the field named."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rmdesk.audit.models import AuditEvent
from rmdesk.customers.models import Customer, KeyPerson
from rmdesk.development.models import Prospect
from rmdesk.org.models import User
from rmdesk.org.services import issue_token
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from rmdesk.visits import services
from rmdesk.visits.models import CadenceRule, CustomerEvent, FollowUp, OtherBankCredit, Visit
from tests.development.test_prospects import new_prospect
from tests.personas import Bank, make_customer, make_user
from tests.visits.factories import make_key_person
from tests.visits.test_api import API, JSON, as_user, error, hours_ahead, iso, planned, recorded, send


def _plan_body(customer: Customer, **fields: Any) -> dict[str, Any]:
    start = fields.pop("start", hours_ahead(48))
    return {
        "customer_id": customer.pk,
        "purpose": "relationship",
        "planned_start": iso(start),
        "planned_end": iso(start + timedelta(hours=1)),
        **fields,
    }


def _record_body(visit: Visit, **fields: Any) -> dict[str, Any]:
    start = hours_ahead(-2)
    return {
        "version": visit.version,
        "actual_start": iso(start),
        "actual_end": iso(start + timedelta(hours=1)),
        **fields,
    }


class Snapshot:
    """What a refused write must leave as it was: visits, their versions, tasks, events and the audit trail."""

    def __init__(self) -> None:
        self.state = self._read()

    @staticmethod
    def _read() -> tuple[Any, ...]:
        return (
            sorted(Visit.objects.values_list("pk", "version", "status")),
            sorted(Task.objects.values_list("pk", "status", "due_date", "owner_id")),
            CustomerEvent.objects.count(),
            FollowUp.objects.count(),
            OtherBankCredit.objects.count(),
            sorted(CadenceRule.objects.values_list("tier", "interval_months")),
            AuditEvent.objects.count(),
        )

    def unchanged(self) -> bool:
        return self._read() == self.state


@pytest.fixture
def customer(bank: Bank) -> Customer:
    return make_customer(bank.alice, name="华兴精密仪器有限公司")


@pytest.fixture
def visit(bank: Bank, customer: Customer) -> Visit:
    """A visit alice planned for the day after tomorrow."""
    return planned(bank.alice, customer)


# --- planning --------------------------------------------------------------------------------------------------------


def test_an_rm_plans_a_visit_with_attendees_and_preparation_and_gets_a_task(bank: Bank, customer: Customer) -> None:
    # given the customer's key person, and dave, who goes along as the customer's co-RM
    person = make_key_person(customer, name="李总", preferences="重视长期合作")
    customer.co_rms.add(bank.dave)
    body = _plan_body(
        customer,
        purpose="products",
        place="公司会议室",
        key_person_ids=[person.pk],
        bank_attendee_ids=[bank.dave.pk],
        preparation=["research", "materials"],
        materials="现金管理手册",
    )
    # when
    response = send(as_user(bank.alice), "post", "/visits", body)
    # then
    assert response.status_code == 201, response.content
    out = response.json()
    visit = Visit.objects.get(pk=out["id"])
    assert (visit.rm, visit.status, visit.place, visit.preparation) == (
        bank.alice,
        "planned",
        "公司会议室",
        ["research", "materials"],
    )
    assert [(p["name"], p["preferences"]) for p in out["customer_attendees"]] == [("李总", "重视长期合作")]
    assert [a["username"] for a in out["bank_attendees"]] == ["dave"]
    assert out["overlaps"] == []
    task = Task.objects.get(kind=TaskKind.VISIT, source_id=str(visit.pk))
    assert (task.owner, task.status, task.due_date) == (bank.alice, "open", hours_ahead(48).date())
    assert AuditEvent.objects.filter(action="visit.plan", customer_id=customer.pk).count() == 1


def test_a_colleague_who_cannot_see_the_customer_is_refused_naming_bank_attendee_ids(
    bank: Bank, customer: Customer
) -> None:
    # given the team lead, who sees the customer, and dave, alice's teammate with a book of his own, who does not
    snapshot = Snapshot()
    body = _plan_body(customer, bank_attendee_ids=[bank.lead.pk, bank.dave.pk])
    # when
    response = as_user(bank.alice).post(API + "/visits", json.dumps(body), content_type=JSON, HTTP_ACCEPT_LANGUAGE="en")
    # then
    fields = error(response, 422, "invalid")["fields"]
    assert fields == {"bank_attendee_ids": ["Dave cannot see this customer: name them under other attendees instead."]}
    assert snapshot.unchanged()


def test_a_bearer_token_plans_a_visit(bank: Bank, client: Client, customer: Customer) -> None:
    # given
    token = issue_token(actor=None, user=bank.alice)
    # when
    response = client.post(
        API + "/visits", json.dumps(_plan_body(customer)), content_type=JSON, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    # then
    assert response.status_code == 201, response.content


def test_an_overlapping_visit_is_planned_with_a_warning(bank: Bank, customer: Customer, visit: Visit) -> None:
    # given another customer of alice's, at a time overlapping the planned visit
    other = make_customer(bank.alice, name="东方纺织有限公司")
    body = _plan_body(other, start=visit.planned_start + timedelta(minutes=30))
    # when
    response = send(as_user(bank.alice), "post", "/visits", body)
    # then
    assert response.status_code == 201, response.content
    assert [(o["id"], o["customer_name"]) for o in response.json()["overlaps"]] == [(visit.pk, "华兴精密仪器有限公司")]
    assert Visit.objects.filter(rm=bank.alice, status="planned").count() == 2


def test_a_past_time_planned_as_future_is_refused_naming_planned_start(bank: Bank, customer: Customer) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "post", "/visits", _plan_body(customer, start=hours_ahead(-5)))
    # then
    fields = error(response, 422, "invalid")["fields"]
    assert list(fields) == ["planned_start"]
    assert snapshot.unchanged()


def test_a_visit_that_took_place_is_filed_without_a_task(bank: Bank, customer: Customer) -> None:
    # when
    response = send(
        as_user(bank.alice), "post", "/visits", _plan_body(customer, start=hours_ahead(-5), took_place=True)
    )
    # then
    assert response.status_code == 201, response.content
    assert not Task.objects.filter(kind=TaskKind.VISIT, source_id=str(response.json()["id"])).exists()


def test_an_attendee_of_another_customer_is_refused_naming_key_person_ids(bank: Bank, customer: Customer) -> None:
    # given a key person of another of alice's customers
    stranger = make_key_person(make_customer(bank.alice))
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "post", "/visits", _plan_body(customer, key_person_ids=[stranger.pk]))
    # then
    fields = error(response, 422, "invalid")["fields"]
    assert list(fields) == ["key_person_ids"]
    assert snapshot.unchanged()


@pytest.mark.parametrize("field", ["planned_start", "planned_end"])
def test_a_time_without_its_utc_offset_is_refused_naming_the_field(bank: Bank, customer: Customer, field: str) -> None:
    # given
    body = _plan_body(customer)
    body[field] = body[field][:19]  # 2026-03-02T10:00:00, no offset
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "post", "/visits", body)
    # then
    assert list(error(response, 422, "invalid")["fields"]) == [field]
    assert snapshot.unchanged()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"purpose": "picnic"}, "purpose"),
        ({"mode": "telepathy"}, "mode"),
        ({"preparation": ["research", "luck"]}, "preparation"),
        ({"rm_id": 999999}, "rm_id"),
        ({"customer_id": "abc"}, "customer_id"),
        ({"place": "x" * 201}, "place"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_plans_are_refused_naming_the_field(
    bank: Bank, customer: Customer, change: dict[str, Any], field: str
) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "post", "/visits", {**_plan_body(customer), **change})
    # then
    assert list(error(response, 422, "invalid")["fields"]) == [field]
    assert snapshot.unchanged()


@pytest.mark.parametrize("who", ["carol", "risk", "auditor"])
def test_planning_a_visit_to_a_customer_out_of_scope_answers_404(bank: Bank, customer: Customer, who: str) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(getattr(bank, who)), "post", "/visits", _plan_body(customer))
    # then
    error(response, 404, "not_found")
    assert snapshot.unchanged()


def test_a_plan_is_changed_with_its_version(bank: Bank, visit: Visit) -> None:
    # given
    new_start = hours_ahead(72)
    # when
    response = send(
        as_user(bank.alice),
        "patch",
        f"/visits/{visit.pk}",
        {"version": 1, "planned_start": iso(new_start), "planned_end": iso(new_start + timedelta(hours=2))},
    )
    # then
    assert response.status_code == 200, response.content
    assert (response.json()["version"], response.json()["place"]) == (2, "")
    visit.refresh_from_db()
    assert (visit.planned_start, visit.version) == (new_start, 2)
    assert Task.objects.get(kind=TaskKind.VISIT, source_id=str(visit.pk)).due_date == new_start.date()


def test_a_stale_version_answers_409_and_changes_nothing(bank: Bank, visit: Visit) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "patch", f"/visits/{visit.pk}", {"version": 7, "place": "茶楼"})
    # then
    error(response, 409, "conflict")
    assert snapshot.unchanged()


def test_changing_a_plan_without_a_version_is_refused(bank: Bank, visit: Visit) -> None:
    # when
    response = send(as_user(bank.alice), "patch", f"/visits/{visit.pk}", {"place": "茶楼"})
    # then
    assert list(error(response, 422, "invalid")["fields"]) == ["version"]


@pytest.mark.parametrize("who", ["carol", "bob", "risk", "auditor"])
def test_changing_a_plan_out_of_scope_answers_404(bank: Bank, visit: Visit, who: str) -> None:
    # given (risk and audit see the visit, read-only)
    snapshot = Snapshot()
    # when
    response = send(as_user(getattr(bank, who)), "patch", f"/visits/{visit.pk}", {"version": 1, "place": "茶楼"})
    # then
    error(response, 404, "not_found")
    assert snapshot.unchanged()


# --- postpone and cancel ----------------------------------------------------------------------------------------------


def test_a_visit_postponed_to_a_new_time_stays_planned(bank: Bank, visit: Visit) -> None:
    # given
    new_start = hours_ahead(96)
    body = {"reason": "客户临时出差", "new_start": iso(new_start), "new_end": iso(new_start + timedelta(hours=1))}
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/postpone", body)
    # then
    assert response.status_code == 200, response.content
    out = response.json()
    assert (out["status"], out["status_reason"], out["postponed_count"]) == ("planned", "客户临时出差", 1)
    assert Task.objects.get(kind=TaskKind.VISIT, source_id=str(visit.pk)).due_date == new_start.date()


def test_a_visit_postponed_without_a_time_waits_and_its_task_goes(bank: Bank, visit: Visit) -> None:
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/postpone", {"reason": "等客户回复"})
    # then
    assert response.json()["status"] == "postponed"
    assert Task.objects.get(kind=TaskKind.VISIT, source_id=str(visit.pk)).status == TaskStatus.CANCELLED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"reason": "x", "new_start": "2030-01-01T10:00:00"}, "new_start"),
        ({"reason": "x", "new_start": "2030-01-01T10:00:00+08:00"}, "new_end"),
    ],
)
def test_bad_postponements_are_refused_naming_the_field(
    bank: Bank, visit: Visit, body: dict[str, Any], field: str
) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/postpone", body)
    # then
    assert field in error(response, 422, "invalid")["fields"]
    assert snapshot.unchanged()


def test_a_visit_is_cancelled_with_a_reason(bank: Bank, visit: Visit) -> None:
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/cancel", {"reason": "客户取消"})
    # then
    assert (response.json()["status"], response.json()["status_reason"]) == ("cancelled", "客户取消")
    assert Task.objects.get(kind=TaskKind.VISIT, source_id=str(visit.pk)).status == TaskStatus.CANCELLED
    assert AuditEvent.objects.filter(action="visit.cancel", object_id=str(visit.pk)).count() == 1


@pytest.mark.parametrize("action", ["postpone", "cancel"])
def test_postponing_or_cancelling_out_of_scope_answers_404(bank: Bank, visit: Visit, action: str) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.carol), "post", f"/visits/{visit.pk}/{action}", {"reason": "x"})
    # then
    error(response, 404, "not_found")
    assert snapshot.unchanged()


# --- check-in ---------------------------------------------------------------------------------------------------------


def test_the_rm_checks_in_with_the_browsers_position(bank: Bank, visit: Visit) -> None:
    # when
    response = send(
        as_user(bank.alice),
        "post",
        f"/visits/{visit.pk}/check-in",
        {"checkin_status": "located", "latitude": 30.274085, "longitude": "120.155070", "accuracy_m": 35.4},
    )
    # then
    assert response.status_code == 200, response.content
    checkin = response.json()["checkin"]
    assert (checkin["status"], checkin["latitude"], checkin["longitude"], checkin["accuracy_m"]) == (
        "located",
        "30.274085",
        "120.155070",
        35,
    )


def test_a_check_in_when_location_permission_was_refused_records_no_position(bank: Bank, visit: Visit) -> None:
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/check-in", {"checkin_status": "denied"})
    # then
    assert response.status_code == 200, response.content
    checkin = response.json()["checkin"]
    assert (checkin["status"], checkin["latitude"], checkin["longitude"]) == ("denied", None, None)
    assert checkin["at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"checkin_status": "located"}, "latitude"),
        ({"checkin_status": "located", "latitude": 95, "longitude": 120}, "latitude"),
        ({"checkin_status": "located", "latitude": "north", "longitude": 120}, "latitude"),
        ({"checkin_status": "none"}, "checkin_status"),
        ({"checkin_status": "teleported"}, "checkin_status"),
    ],
)
def test_a_check_in_without_a_usable_location_is_refused_naming_the_field(
    bank: Bank, visit: Visit, body: dict[str, Any], field: str
) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/check-in", body)
    # then
    assert field in error(response, 422, "invalid")["fields"]
    assert snapshot.unchanged()
    assert Visit.objects.get(pk=visit.pk).checkin_status == "none"


def test_a_bank_attendee_checks_in(bank: Bank, customer: Customer) -> None:
    # given a visit of alice's that her team lead goes along to
    visit = planned(bank.alice, customer, bank_attendee_ids=[bank.lead.pk])
    # when
    response = send(as_user(bank.lead), "post", f"/visits/{visit.pk}/check-in", {"checkin_status": "unavailable"})
    # then
    assert response.status_code == 200, response.content
    assert response.json()["checkin"]["status"] == "unavailable"
    assert AuditEvent.objects.get(action="visit.check_in").actor == bank.lead


def test_checking_in_out_of_scope_answers_404(bank: Bank, visit: Visit) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.carol), "post", f"/visits/{visit.pk}/check-in", {"checkin_status": "denied"})
    # then
    error(response, 404, "not_found")
    assert snapshot.unchanged()


# --- record -----------------------------------------------------------------------------------------------------------


def test_a_visit_is_recorded_with_needs_proposals_products_and_preferences(
    bank: Bank, customer: Customer, visit: Visit
) -> None:
    # given a key person whose preferences the visit taught us, and a lapsed-cadence task
    person = make_key_person(customer, name="赵会计", preferences="")
    due = Task.objects.create(
        kind=TaskKind.VISIT_DUE,
        title="due",
        customer=customer,
        owner=bank.alice,
        due_date=timezone.localdate(),
        source_type="visit_cadence",
        source_id=str(customer.pk),
    )
    body = _record_body(
        visit,
        goals_short="扩大产能",
        need_tags=["working_capital", "payroll"],
        operations="订单饱满",
        confidential_notes="实控人考虑出售股权",
        self_check=["attentive", "honorifics"],
        other_banks=[
            {"bank_name": "建设银行", "facility": "流贷", "amount": "3000000.50", "satisfaction": "dissatisfied"}
        ],
        proposals=[{"content": "代发工资", "response": "accepted"}],
        products=[{"product": "代发工资", "interest": "high"}, {"product": "票据池", "interest": "low"}],
        key_person_preferences={str(person.pk): "注重细节"},
    )
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/record", body)
    # then
    assert response.status_code == 200, response.content
    out = response.json()
    assert (out["status"], out["need_tags"], out["confidential_notes"]) == (
        "done",
        ["working_capital", "payroll"],
        "实控人考虑出售股权",
    )
    assert out["other_banks"][0]["amount"] == "3000000.50"
    assert OtherBankCredit.objects.get(visit=visit).amount == Decimal("3000000.50")
    assert [p["product"] for p in out["products"]] == ["代发工资", "票据池"]
    assert KeyPerson.objects.get(pk=person.pk).preferences == "注重细节"
    assert Task.objects.get(pk=due.pk).status == TaskStatus.DONE
    assert Task.objects.get(kind=TaskKind.VISIT, source_id=str(visit.pk)).status == TaskStatus.DONE
    trail = AuditEvent.objects.get(action="visit.record", object_id=str(visit.pk))
    assert trail.changes["confidential_notes"] == ["***", "***"]


def test_a_cancelled_visit_cannot_be_recorded(bank: Bank, visit: Visit) -> None:
    # given
    cancelled = services.cancel_visit(actor=bank.alice, visit_id=visit.pk, reason="客户取消")
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/record", _record_body(cancelled))
    # then
    fields = error(response, 422, "invalid")["fields"]
    assert list(fields) == ["status"]
    assert snapshot.unchanged()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"other_banks": [{"bank_name": "工行", "amount": 3000000.5}]}, "other_banks.0.amount"),
        ({"other_banks": [{"bank_name": "工行", "amount": "三百万"}]}, "other_banks.0.amount"),
        ({"other_banks": [{"bank_name": "工行", "amount": "1.234"}]}, "other_banks.0.amount"),
        ({"other_banks": [{"bank_name": "工行", "satisfaction": "ecstatic"}]}, "other_banks"),
        ({"need_tags": ["lottery"]}, "need_tags"),
        ({"self_check": ["rude"]}, "self_check"),
        ({"proposals": [{"content": "降息", "response": "countered"}]}, "proposals"),
        ({"products": [{"product": "理财", "interest": "wild"}]}, "products"),
        ({"actual_start": "2026-03-02T10:00:00"}, "actual_start"),
        ({"actual_start": "yesterday"}, "actual_start"),
        ({"key_person_preferences": {"999999": "x"}}, "key_person_preferences"),
    ],
)
def test_bad_records_are_refused_naming_the_field(bank: Bank, visit: Visit, change: dict[str, Any], field: str) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/record", {**_record_body(visit), **change})
    # then
    assert list(error(response, 422, "invalid")["fields"]) == [field]
    assert snapshot.unchanged()


def test_a_visit_cannot_be_recorded_before_it_happened(bank: Bank, visit: Visit) -> None:
    # given
    start = hours_ahead(24)
    body = _record_body(visit, actual_start=iso(start), actual_end=iso(start + timedelta(hours=1)))
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/record", body)
    # then
    assert list(error(response, 422, "invalid")["fields"]) == ["actual_start"]


@pytest.mark.parametrize("who", ["carol", "risk"])
def test_recording_out_of_scope_answers_404(bank: Bank, visit: Visit, who: str) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(getattr(bank, who)), "post", f"/visits/{visit.pk}/record", _record_body(visit))
    # then
    error(response, 404, "not_found")
    assert snapshot.unchanged()


# --- follow-ups -------------------------------------------------------------------------------------------------------


def test_a_next_step_becomes_a_task_for_its_owner(bank: Bank, customer: Customer) -> None:
    # given
    visit = recorded(bank.alice, customer)
    due = timezone.localdate() + timedelta(days=7)
    body = {"kind": "task", "description": "寄送方案", "owner_id": bank.dave.pk, "due_date": due.isoformat()}
    # dave may own it only if he can see the customer: make him co-RM
    customer.co_rms.add(bank.dave)
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/follow-ups", body)
    # then
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["kind"], out["task_owner"], out["task_due_date"], out["task_status"]) == (
        "task",
        "dave",
        due.isoformat(),
        "open",
    )
    task = Task.objects.get(pk=out["task_id"])
    assert (task.owner, task.title, task.customer_id) == (bank.dave, "寄送方案", customer.pk)


def test_a_stated_need_moves_the_prospect_along_the_pipeline(bank: Bank) -> None:
    # given a prospect of alice's, visited
    prospect = new_prospect(bank.alice)
    visit = recorded(bank.alice, prospect.customer)
    # when
    response = send(
        as_user(bank.alice),
        "post",
        f"/visits/{visit.pk}/follow-ups",
        {"kind": "stage", "to_stage": "proposal", "description": "客户需要现金管理方案"},
    )
    # then
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["kind"], out["from_stage"], out["to_stage"]) == ("stage", "identified", "proposal")
    assert Prospect.objects.get(pk=prospect.pk).stage == "proposal"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "task", "description": "", "owner_id": 0, "due_date": None}, "description"),
        ({"kind": "task", "description": "x", "due_date": "2000-01-01"}, "due_date"),
        ({"kind": "stage"}, "to_stage"),
        ({"kind": "gift"}, "kind"),
    ],
)
def test_bad_follow_ups_are_refused_naming_the_field(
    bank: Bank, customer: Customer, body: dict[str, Any], field: str
) -> None:
    # given
    visit = recorded(bank.alice, customer)
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "post", f"/visits/{visit.pk}/follow-ups", body)
    # then
    assert field in error(response, 422, "invalid")["fields"]
    assert snapshot.unchanged()


def test_a_follow_up_to_a_visit_not_recorded_is_refused(bank: Bank, visit: Visit) -> None:
    # when
    response = send(
        as_user(bank.alice),
        "post",
        f"/visits/{visit.pk}/follow-ups",
        {"kind": "task", "description": "x", "owner_id": bank.alice.pk, "due_date": date.today().isoformat()},
    )
    # then
    assert list(error(response, 422, "invalid")["fields"]) == ["visit"]


@pytest.mark.parametrize("kind", ["task", "stage", "gift"])
def test_a_follow_up_out_of_scope_answers_404(bank: Bank, customer: Customer, kind: str) -> None:
    # given
    visit = recorded(bank.alice, customer)
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.carol), "post", f"/visits/{visit.pk}/follow-ups", {"kind": kind})
    # then
    error(response, 404, "not_found")
    assert snapshot.unchanged()


# --- occasions --------------------------------------------------------------------------------------------------------


def test_an_occasion_logged_proposes_a_visit_to_the_primary_rm(bank: Bank, customer: Customer) -> None:
    # given
    happened = timezone.localdate() - timedelta(days=1)
    body = {"kind": "dissatisfied", "title": "对他行服务不满", "occurred_on": happened.isoformat()}
    # when the team lead logs it
    response = send(as_user(bank.lead), "post", f"/customers/{customer.pk}/events", body)
    # then
    assert response.status_code == 201, response.content
    out = response.json()
    assert (out["kind"], out["title"], out["origin"], out["logged_by"], out["visit_ids"]) == (
        "dissatisfied",
        "对他行服务不满",
        "logged",
        "lead",
        [],
    )
    task = Task.objects.get(kind=TaskKind.VISIT_OCCASION, source_id=str(out["id"]))
    assert (task.owner, task.customer_id, task.status) == (bank.alice, customer.pk, "open")


@pytest.mark.parametrize(
    ("change", "field"),
    [({"kind": "birthday"}, "kind"), ({"title": "  "}, "title"), ({"occurred_on": "2001-01-01"}, "occurred_on")],
)
def test_bad_occasions_are_refused_naming_the_field(
    bank: Bank, customer: Customer, change: dict[str, Any], field: str
) -> None:
    # given
    body = {"kind": "new_need", "title": "新开户", "occurred_on": timezone.localdate().isoformat(), **change}
    snapshot = Snapshot()
    # when
    response = send(as_user(bank.alice), "post", f"/customers/{customer.pk}/events", body)
    # then
    assert list(error(response, 422, "invalid")["fields"]) == [field]
    assert snapshot.unchanged()


@pytest.mark.parametrize("who", ["carol", "auditor"])
def test_logging_an_occasion_out_of_scope_answers_404(bank: Bank, customer: Customer, who: str) -> None:
    # given
    snapshot = Snapshot()
    body = {"kind": "new_need", "title": "新开户", "occurred_on": timezone.localdate().isoformat()}
    # when
    response = send(as_user(getattr(bank, who)), "post", f"/customers/{customer.pk}/events", body)
    # then
    error(response, 404, "not_found")
    assert snapshot.unchanged()


# --- cadence ----------------------------------------------------------------------------------------------------------


@pytest.fixture
def editor(bank: Bank) -> User:
    """A branch head at head office: head office sets the cadence."""
    return make_user("ho_head", "branch_head", bank.head_office)


def test_head_office_changes_the_cadence(bank: Bank, editor: User) -> None:
    # when
    response = send(as_user(editor), "put", "/visits/cadence", {"intervals": {"core": 3, "general": 12}})
    # then
    assert response.status_code == 200, response.content
    out = response.json()
    assert [(r["tier"], r["interval_months"]) for r in out["rules"]] == [
        ("strategic", 1),
        ("core", 3),
        ("key", 3),
        ("general", 12),
    ]
    assert out["updated_by"] == "ho_head"
    assert AuditEvent.objects.get(action="visit.cadence_update").changes == {"core": [2, 3], "general": [6, 12]}


@pytest.mark.parametrize("who", ["alice", "lead", "head", "risk"])
def test_only_head_office_changes_the_cadence(bank: Bank, who: str) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(getattr(bank, who)), "put", "/visits/cadence", {"intervals": {"core": 3}})
    # then
    error(response, 403, "forbidden")
    assert snapshot.unchanged()


@pytest.mark.parametrize(
    ("intervals", "field"),
    [
        ({"core": 0}, "intervals.core"),
        ({"core": 25}, "intervals.core"),
        ({"core": 1.5}, "intervals.core"),
        ({"platinum": 2}, "intervals.platinum"),
        ({}, "intervals"),
    ],
)
def test_bad_cadences_are_refused_naming_the_field(
    bank: Bank, editor: User, intervals: dict[str, Any], field: str
) -> None:
    # given
    snapshot = Snapshot()
    # when
    response = send(as_user(editor), "put", "/visits/cadence", {"intervals": intervals})
    # then
    assert list(error(response, 422, "invalid")["fields"]) == [field]
    assert snapshot.unchanged()
