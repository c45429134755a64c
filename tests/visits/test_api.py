"""/api/v1/visits, the reads: the list with its filters and pages, one visit with its confidential notes, a
customer's occasions and visit status, the cadence, authentication and the OpenAPI schema."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rmdesk.audit.models import AuditEvent
from rmdesk.customers.models import Customer
from rmdesk.org.models import User
from rmdesk.visits import services
from rmdesk.visits.cadence import add_months, start_of_day
from rmdesk.visits.choices import EventKind, VisitStatus
from rmdesk.visits.models import CustomerEvent, Visit
from tests.personas import Bank, make_customer, make_user
from tests.visits.factories import make_key_person, make_visit

API = "/api/v1"
JSON = "application/json"


# --- helpers shared with test_api_write --------------------------------------------------------------------------


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The body of an error response, after checking it has the one error shape."""
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def send(client: Client, method: str, path: str, body: Any = None) -> Any:
    call = getattr(client, method)
    if method == "get":
        return call(API + path)
    return call(API + path, "" if body is None else json.dumps(body), content_type=JSON)


def as_user(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def hours_ahead(hours: int) -> datetime:
    """A whole hour `hours` from now, in the bank's time zone."""
    return timezone.localtime().replace(minute=0, second=0, microsecond=0) + timedelta(hours=hours)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def planned(
    rm: User, customer: Customer, *, start: datetime | None = None, end: datetime | None = None, **fields: Any
) -> Visit:
    """A visit planned through the service, by default the day after tomorrow for an hour."""
    start = start or hours_ahead(48)
    result = services.plan_visit(
        actor=rm,
        customer_id=customer.pk,
        purpose=fields.pop("purpose", "relationship"),
        planned_start=start,
        planned_end=end or start + timedelta(hours=1),
        **fields,
    )
    return result.visit


def recorded(rm: User, customer: Customer, *, days_ago: int = 3, **fields: Any) -> Visit:
    """A visit that took place `days_ago` (0: earlier today, ended a moment ago), filed and recorded through the
    services."""
    start = hours_ahead(-24 * days_ago)
    end = start + timedelta(hours=1)
    if days_ago == 0:
        end = timezone.localtime() - timedelta(seconds=1)
        start = max(end - timedelta(hours=1), start_of_day(timezone.localdate()))
    visit = planned(rm, customer, start=start, end=end, took_place=True)
    return services.record_visit(
        actor=rm, visit_id=visit.pk, version=visit.version, actual_start=start, actual_end=end, **fields
    )


# --- authentication and the schema -----------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/visits"),
    ("post", "/visits"),
    ("get", "/visits/{id}"),
    ("patch", "/visits/{id}"),
    ("post", "/visits/{id}/postpone"),
    ("post", "/visits/{id}/cancel"),
    ("post", "/visits/{id}/check-in"),
    ("post", "/visits/{id}/record"),
    ("post", "/visits/{id}/follow-ups"),
    ("get", "/customers/{customer}/events"),
    ("post", "/customers/{customer}/events"),
    ("get", "/visits/cadence"),
    ("put", "/visits/cadence"),
    ("get", "/customers/{customer}/visit-status"),
    ("get", "/visits/coverage"),
    ("get", "/visits/{id}/visit.ics"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_requests_answer_401(bank: Bank, client: Client, method: str, path: str) -> None:
    # given no login
    customer = make_customer(bank.alice)
    visit = planned(bank.alice, customer)
    audit_before = AuditEvent.objects.count()
    # when
    response = send(client, method, path.format(id=visit.pk, customer=customer.pk), None if method == "get" else {})
    # then
    assert error(response, 401, "unauthenticated")["fields"] == {}
    assert AuditEvent.objects.count() == audit_before
    assert Visit.objects.get(pk=visit.pk).version == visit.version


def test_the_openapi_schema_lists_every_endpoint_under_visits(client: Client, db: Any) -> None:
    # when
    spec = client.get(API + "/openapi.json").json()
    # then
    for method, path in ENDPOINTS:
        template = path.replace("{id}", "{visit_id}").replace("{customer}", "{customer_id}")
        operation = spec["paths"][API + template][method]
        assert operation["tags"] == ["visits"], template
        assert operation["summary"], (method, template)
        assert "401" in operation["responses"]
        assert "422" in operation["responses"]
    assert "403" in spec["paths"][API + "/visits/cadence"]["put"]["responses"]
    plan = spec["paths"][API + "/visits"]["post"]["responses"]["201"]["content"][JSON]["schema"]
    assert plan == {"$ref": "#/components/schemas/PlannedVisitOut"}
    assert "overlaps" in spec["components"]["schemas"]["PlannedVisitOut"]["properties"]
    amount = spec["components"]["schemas"]["OtherBankIn"]["properties"]["amount"]
    assert {"type": "string", "pattern": r"^-?\d{1,16}(\.\d{1,2})?$"} in [
        {k: v for k, v in option.items() if k in {"type", "pattern"}} for option in amount["anyOf"]
    ]
    ics = spec["paths"][API + "/visits/{visit_id}/visit.ics"]["get"]["responses"]["200"]["content"]
    assert list(ics) == ["text/calendar"]
    names = [p["name"] for p in spec["paths"][API + "/visits"]["get"]["parameters"]]
    assert names == ["limit", "cursor", "status", "customer_id", "rm_id", "from", "to"]


# --- the list --------------------------------------------------------------------------------------------------------


def test_the_list_shows_visits_in_scope_latest_planned_first(bank: Bank) -> None:
    # given alice's visits, and one of carol's in another branch
    mine = make_customer(bank.alice, name="华兴科技有限公司")
    early = planned(bank.alice, mine, start=hours_ahead(30))
    late = planned(bank.alice, mine, start=hours_ahead(80))
    planned(bank.carol, make_customer(bank.carol))
    # when
    response = send(as_user(bank.alice), "get", "/visits")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert [item["id"] for item in body["items"]] == [late.pk, early.pk]
    assert body["next_cursor"] is None
    first = body["items"][0]
    assert first["customer_name"] == "华兴科技有限公司"
    assert (first["rm"], first["rm_id"], first["status"], first["version"]) == ("alice", bank.alice.pk, "planned", 1)
    assert datetime.fromisoformat(first["planned_start"]) == hours_ahead(80)
    assert first["planned_start"].endswith("+08:00") or first["planned_start"].endswith("Z")


def test_the_list_pages_by_cursor_without_repeats_when_visits_share_a_start(bank: Bank) -> None:
    # given five visits, three of them at the same moment
    customer = make_customer(bank.alice)
    same = hours_ahead(50) + timedelta(microseconds=123457)
    visits = [make_visit(bank.alice, customer, planned_start=same) for _ in range(3)]
    visits += [make_visit(bank.alice, customer, planned_start=hours_ahead(h)) for h in (20, 90)]
    client = as_user(bank.alice)
    # when
    seen: list[int] = []
    cursor = ""
    for _page in range(3):
        body = send(client, "get", f"/visits?limit=2{'&cursor=' + cursor if cursor else ''}").json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # then
    tied = sorted((v.pk for v in visits[:3]), reverse=True)
    assert seen == [visits[4].pk, *tied, visits[3].pk]
    assert cursor is None


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=bm9wZQ", "cursor"),
        (f"cursor={base64.urlsafe_b64encode(b'v:99999999999999999999:1').decode()}", "cursor"),
        ("from=2026-13-01", "from"),
        ("rm_id=abc", "rm_id"),
    ],
)
def test_bad_list_parameters_answer_422_naming_them(bank: Bank, query: str, field: str) -> None:
    # when
    response = send(as_user(bank.alice), "get", f"/visits?{query}")
    # then
    assert field in error(response, 422, "invalid")["fields"]


def test_a_period_that_ends_before_it_starts_is_a_field_error(bank: Bank) -> None:
    # when
    response = send(as_user(bank.alice), "get", "/visits?from=2026-03-05&to=2026-03-01")
    # then
    assert list(error(response, 422, "invalid")["fields"]) == ["to"]


def test_an_unknown_status_filter_is_a_field_error(bank: Bank) -> None:
    # when
    response = send(as_user(bank.alice), "get", "/visits?status=picnic")
    # then
    assert list(error(response, 422, "invalid")["fields"]) == ["status"]


def test_the_list_filters_by_status_customer_rm_and_planned_days(bank: Bank) -> None:
    # given visits of alice and dave (same team) on two customers, over a few days
    one = make_customer(bank.alice)
    two = make_customer(bank.dave)
    a = make_visit(bank.alice, one, planned_start=timezone.make_aware(datetime(2026, 3, 2, 9)))
    b = make_visit(bank.alice, one, planned_start=timezone.make_aware(datetime(2026, 3, 3, 23, 30)))
    c = make_visit(bank.dave, two, planned_start=timezone.make_aware(datetime(2026, 3, 4, 0, 0)), status="cancelled")
    d = make_visit(bank.dave, two, planned_start=timezone.make_aware(datetime(2026, 3, 6, 10)), status="done")
    lead = as_user(bank.lead)

    def ids(query: str) -> list[int]:
        response = send(lead, "get", f"/visits?{query}")
        assert response.status_code == 200, response.content
        return [item["id"] for item in response.json()["items"]]

    # then
    assert ids("") == [d.pk, c.pk, b.pk, a.pk]
    assert ids("status=cancelled") == [c.pk]
    assert ids(f"customer_id={one.pk}") == [b.pk, a.pk]
    assert ids(f"rm_id={bank.dave.pk}") == [d.pk, c.pk]
    # the days are the bank's (UTC+8): 23:30 on 3 March is still 3 March, midnight on the 4th is the 4th
    assert ids("from=2026-03-03&to=2026-03-03") == [b.pk]
    assert ids("from=2026-03-04") == [d.pk, c.pk]
    assert ids("to=2026-03-02") == [a.pk]


def test_an_rm_does_not_see_visits_of_customers_outside_their_book(bank: Bank) -> None:
    # given a visit of bob's customer (same branch, another team)
    planned(bank.bob, make_customer(bank.bob))
    # when
    body = send(as_user(bank.alice), "get", f"/visits?rm_id={bank.bob.pk}").json()
    # then
    assert body == {"items": [], "next_cursor": None}


# --- one visit -------------------------------------------------------------------------------------------------------


@pytest.fixture
def full_visit(bank: Bank) -> Visit:
    """A visit of alice's with her team lead along, recorded with everything, confidential notes included, and a
    follow-up task."""
    customer = make_customer(bank.alice, name="宁海精工有限公司")
    person = make_key_person(customer, name="王财务", title="财务总监", preferences="喜欢看数据")
    start = hours_ahead(-72)
    visit = services.plan_visit(
        actor=bank.alice,
        customer_id=customer.pk,
        purpose="needs",
        purpose_detail="了解扩产资金需求",
        planned_start=start,
        planned_end=start + timedelta(hours=2),
        place="宁海工业园",
        bank_attendee_ids=[bank.lead.pk],
        key_person_ids=[person.pk],
        preparation=["research", "appointment"],
        strategy="先谈结算",
        took_place=True,
    ).visit
    services.record_visit(
        actor=bank.alice,
        visit_id=visit.pk,
        version=visit.version,
        actual_start=start,
        actual_end=start + timedelta(hours=1, minutes=30),
        goals_short="扩产",
        need_tags=["working_capital", "settlement"],
        notes="气氛良好",
        confidential_notes="老板考虑换行",
        self_check=["attentive", "punctual"],
        other_banks=[
            services.OtherBankInput(bank_name="工商银行", amount=Decimal("5000000.00"), satisfaction="neutral")
        ],
        proposals=[services.ProposalInput(content="三年期流贷", response="countered", counter_offer="利率再降")],
        products=[
            services.ProductInput(product="流动资金贷款", interest="high"),
            services.ProductInput(product="现金管理", interest="medium", note="下次细谈"),
        ],
        key_person_preferences={person.pk: "喜欢看数据，重视效率"},
    )
    services.add_follow_up_task(
        actor=bank.alice,
        visit_id=visit.pk,
        description="发送授信方案",
        owner_id=bank.alice.pk,
        due_date=timezone.localdate() + timedelta(days=5),
    )
    return Visit.objects.get(pk=visit.pk)


def test_one_visit_shows_plan_attendees_record_and_follow_ups(bank: Bank, full_visit: Visit) -> None:
    # when
    response = send(as_user(bank.alice), "get", f"/visits/{full_visit.pk}")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["purpose"], body["purpose_detail"]) == ("done", "needs", "了解扩产资金需求")
    assert [a["username"] for a in body["bank_attendees"]] == ["lead"]
    (attendee,) = body["customer_attendees"]
    assert (attendee["name"], attendee["title"], attendee["preferences"]) == (
        "王财务",
        "财务总监",
        "喜欢看数据，重视效率",
    )
    assert body["preparation"] == ["research", "appointment"]
    assert body["need_tags"] == ["working_capital", "settlement"]
    assert body["self_check"] == ["attentive", "punctual"]
    assert body["other_banks"] == [
        {"bank_name": "工商银行", "facility": "", "amount": "5000000.00", "satisfaction": "neutral"}
    ]
    assert [(p["position"], p["response"], p["counter_offer"]) for p in body["proposals"]] == [
        (1, "countered", "利率再降")
    ]
    assert [(p["position"], p["product"], p["interest"]) for p in body["products"]] == [
        (1, "流动资金贷款", "high"),
        (2, "现金管理", "medium"),
    ]
    (follow_up,) = body["follow_ups"]
    assert (follow_up["kind"], follow_up["description"], follow_up["task_owner"]) == ("task", "发送授信方案", "alice")
    assert follow_up["task_status"] == "open"
    assert body["visited_on"] == (timezone.localdate() - timedelta(days=3)).isoformat()
    assert body["checkin"]["status"] == "none"
    assert (body["confidential"], body["confidential_notes"]) == (True, "老板考虑换行")


@pytest.mark.parametrize("who", ["alice", "lead"])
def test_the_visiting_rm_and_their_team_lead_read_the_confidential_notes(
    bank: Bank, full_visit: Visit, who: str
) -> None:
    # when
    body = send(as_user(getattr(bank, who)), "get", f"/visits/{full_visit.pk}").json()
    # then
    assert (body["confidential"], body["confidential_notes"]) == (True, "老板考虑换行")


@pytest.mark.parametrize("who", ["head", "risk", "auditor"])
def test_the_branch_head_risk_and_audit_see_only_that_confidential_notes_exist(
    bank: Bank, full_visit: Visit, who: str
) -> None:
    # when
    response = send(as_user(getattr(bank, who)), "get", f"/visits/{full_visit.pk}")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["confidential"], body["confidential_notes"]) == (True, None)
    assert body["notes"] == "气氛良好"


def test_a_co_rm_and_the_co_rms_team_lead_read_the_confidential_notes(bank: Bank) -> None:
    # given alice's customer with bob (team 2) as co-RM, and team 2's lead
    customer = make_customer(bank.alice, co_rms=(bank.bob,))
    visit = recorded(bank.alice, customer, confidential_notes="股东有分歧")
    lead2 = make_user("lead2", "team_lead", bank.team2)
    # when
    bodies = [send(as_user(user), "get", f"/visits/{visit.pk}").json() for user in (bank.bob, lead2)]
    # then
    assert [body["confidential_notes"] for body in bodies] == ["股东有分歧", "股东有分歧"]


def test_a_visit_without_confidential_notes_says_so(bank: Bank) -> None:
    # given
    visit = recorded(bank.alice, make_customer(bank.alice), notes="例行拜访")
    # when
    bodies = [send(as_user(user), "get", f"/visits/{visit.pk}").json() for user in (bank.alice, bank.head)]
    # then
    assert [(b["confidential"], b["confidential_notes"]) for b in bodies] == [(False, ""), (False, None)]


def test_the_list_flags_confidential_notes_without_their_text(bank: Bank, full_visit: Visit) -> None:
    # when
    (item,) = send(as_user(bank.alice), "get", "/visits").json()["items"]
    # then
    assert item["confidential"] is True
    assert "confidential_notes" not in item


@pytest.mark.parametrize("who", ["carol", "bob", "dave", "officer", "admin"])
def test_a_visit_out_of_scope_answers_404(bank: Bank, full_visit: Visit, who: str) -> None:
    # when
    response = send(as_user(getattr(bank, who)), "get", f"/visits/{full_visit.pk}")
    # then
    assert error(response, 404, "not_found")["fields"] == {}


def test_a_missing_visit_answers_404_like_one_out_of_scope(bank: Bank) -> None:
    # when
    response = send(as_user(bank.alice), "get", "/visits/999999")
    # then
    error(response, 404, "not_found")


# --- occasions -------------------------------------------------------------------------------------------------------


def test_a_customers_occasions_list_latest_first_with_their_visits(bank: Bank) -> None:
    # given two occasions on alice's customer, one answered by a visit
    customer = make_customer(bank.alice)
    today = timezone.localdate()
    older = CustomerEvent.objects.create(
        customer=customer, kind=EventKind.HAPPY_EVENT, title="成立十周年", occurred_on=today - timedelta(days=20)
    )
    newer = CustomerEvent.objects.create(
        customer=customer,
        kind=EventKind.NEW_NEED,
        title="新建二期厂房",
        occurred_on=today - timedelta(days=2),
        logged_by=bank.alice,
    )
    visit = planned(bank.alice, customer, event_id=newer.pk)
    # when
    response = send(as_user(bank.lead), "get", f"/customers/{customer.pk}/events")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert [e["id"] for e in body] == [newer.pk, older.pk]
    assert (body[0]["kind"], body[0]["title"], body[0]["logged_by"], body[0]["visit_ids"]) == (
        "new_need",
        "新建二期厂房",
        "alice",
        [visit.pk],
    )
    assert (body[1]["origin"], body[1]["logged_by"], body[1]["visit_ids"]) == ("logged", None, [])


def test_the_occasions_of_a_customer_out_of_scope_answer_404(bank: Bank) -> None:
    # given
    customer = make_customer(bank.carol)
    CustomerEvent.objects.create(customer=customer, kind="new_need", title="x", occurred_on=timezone.localdate())
    # when
    response = send(as_user(bank.alice), "get", f"/customers/{customer.pk}/events")
    # then
    error(response, 404, "not_found")


# --- cadence and a customer's visit status ---------------------------------------------------------------------------


def test_everyone_reads_the_cadence_and_only_head_office_may_edit_it(bank: Bank) -> None:
    # given
    editor = make_user("ho_head", "branch_head", bank.head_office)
    # when
    bodies = {user.username: send(as_user(user), "get", "/visits/cadence").json() for user in (bank.alice, editor)}
    # then
    assert [(r["tier"], r["interval_months"]) for r in bodies["alice"]["rules"]] == [
        ("strategic", 1),
        ("core", 2),
        ("key", 3),
        ("general", 6),
    ]
    assert (bodies["alice"]["may_edit"], bodies["ho_head"]["may_edit"]) == (False, True)


def test_a_customers_visit_status_gives_the_last_visit_and_the_next_due(bank: Bank) -> None:
    # given a strategic customer visited three days ago, with a visit planned
    customer = make_customer(bank.alice, tier="strategic")
    done = recorded(bank.alice, customer, days_ago=3)
    coming = planned(bank.alice, customer)
    # when
    response = send(as_user(bank.lead), "get", f"/customers/{customer.pk}/visit-status")
    # then
    assert response.status_code == 200, response.content
    assert done.visited_on is not None
    assert response.json() == {
        "customer_id": customer.pk,
        "tier": "strategic",
        "tracked": True,
        "interval_months": 1,
        "last_visited_on": done.visited_on.isoformat(),
        "next_due": add_months(done.visited_on, 1).isoformat(),
        "lapsed": False,
        "next_planned_visit_id": coming.pk,
        "next_planned_start": response.json()["next_planned_start"],
    }
    assert datetime.fromisoformat(response.json()["next_planned_start"]) == coming.planned_start


def test_a_customer_never_visited_lapses_one_interval_after_it_was_filed(bank: Bank) -> None:
    # given a core customer filed three months ago, never visited
    customer = make_customer(bank.alice, tier="core")
    filed = timezone.now() - timedelta(days=92)
    Customer.objects.filter(pk=customer.pk).update(created_at=filed)
    # when
    body = send(as_user(bank.alice), "get", f"/customers/{customer.pk}/visit-status").json()
    # then
    assert (body["tracked"], body["last_visited_on"], body["lapsed"]) == (True, None, True)
    assert body["next_due"] == add_months(timezone.localdate(filed), 2).isoformat()
    assert body["next_planned_visit_id"] is None


def test_the_visit_status_of_a_customer_out_of_scope_answers_404(bank: Bank) -> None:
    # when
    response = send(as_user(bank.alice), "get", f"/customers/{make_customer(bank.bob).pk}/visit-status")
    # then
    error(response, 404, "not_found")


def test_a_visit_planned_then_cancelled_is_not_the_next_planned(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = planned(bank.alice, customer)
    services.cancel_visit(actor=bank.alice, visit_id=visit.pk, reason="客户出差")
    # when
    body = send(as_user(bank.alice), "get", f"/customers/{customer.pk}/visit-status").json()
    # then
    assert Visit.objects.get(pk=visit.pk).status == VisitStatus.CANCELLED
    assert body["next_planned_visit_id"] is None


# --- coverage --------------------------------------------------------------------------------------------------------


def test_the_team_lead_sees_each_rms_coverage(bank: Bank) -> None:
    # given alice with two strategic customers, one visited this week; dave with one never visited, filed long ago
    visited = make_customer(bank.alice, tier="strategic")
    make_customer(bank.alice, tier="strategic")
    lapsed = make_customer(bank.dave, tier="general")
    Customer.objects.filter(pk=lapsed.pk).update(created_at=timezone.now() - timedelta(days=400))
    done = recorded(bank.alice, visited, days_ago=0)
    # when
    response = send(as_user(bank.lead), "get", "/visits/coverage")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["today"] == timezone.localdate().isoformat()
    assert len(body["weeks"]) == len(body["week_starts"]) == 12
    rows = {row["rm_name"]: row for row in body["rows"]}
    assert set(rows) == {"Alice", "Dave"}
    alice, dave = rows["Alice"], rows["Dave"]
    assert (alice["rm_id"], alice["customers"], alice["visited"], alice["coverage"]) == (bank.alice.pk, 2, 1, "50.0")
    assert done.visited_on == timezone.localdate()
    assert (alice["visits"], alice["visits_per_week"][-1], alice["lapsed"]) == (1, 1, 0)
    assert (dave["customers"], dave["visited"], dave["coverage"], dave["lapsed"]) == (1, 0, "0.0", 1)
    total = body["total"]
    assert (total["rm_id"], total["customers"], total["visited"], total["coverage"]) == (None, 3, 1, "33.3")


def test_an_rm_sees_only_their_own_coverage(bank: Bank) -> None:
    # given
    make_customer(bank.alice)
    make_customer(bank.dave)
    # when
    body = send(as_user(bank.alice), "get", "/visits/coverage").json()
    # then
    assert [(row["rm_id"], row["customers"]) for row in body["rows"]] == [(bank.alice.pk, 1)]


@pytest.mark.parametrize("who", ["officer", "admin"])
def test_coverage_answers_404_to_a_role_without_customers(bank: Bank, who: str) -> None:
    # when
    response = send(as_user(getattr(bank, who)), "get", "/visits/coverage")
    # then
    error(response, 404, "not_found")


# --- the calendar file -----------------------------------------------------------------------------------------------


def test_a_visit_downloads_as_an_ics_file_without_its_record(bank: Bank) -> None:
    # given
    visit = recorded(bank.alice, make_customer(bank.alice, name="华兴科技有限公司"), confidential_notes="不可外传")
    # when
    response = as_user(bank.alice).get(f"{API}/visits/{visit.pk}/visit.ics")
    # then
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="visit-{visit.pk}.ics"'
    text = response.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert f"UID:visit-{visit.pk}@rmdesk\r\n" in text
    assert "华兴科技有限公司" in text.replace("\r\n ", "")
    assert "不可外传" not in text.replace("\r\n ", "")


def test_the_ics_of_a_visit_out_of_scope_answers_404(bank: Bank) -> None:
    # given
    visit = planned(bank.alice, make_customer(bank.alice))
    # when
    response = as_user(bank.carol).get(f"{API}/visits/{visit.pk}/visit.ics")
    # then
    error(response, 404, "not_found")
