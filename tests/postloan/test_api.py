"""/api/v1 of the collection work: the calendar, the overdue list, a loan's collection log and classification, the
classification queue and portfolio quality — anonymous (401), out of scope (404, nothing changed), allowed (the
figures of postloan.queries, amounts as strings), and bad input (422 naming the field)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from rmdesk.audit.models import AuditEvent
from rmdesk.loans.choices import Classification
from rmdesk.loans.models import LoanContract
from rmdesk.org.models import User
from rmdesk.postloan.models import ClassificationDecision, CollectionLog
from rmdesk.postloan.queries import collection_calendar, portfolio_quality
from tests.personas import Bank, make_customer
from tests.postloan.conftest import LiveBook
from tests.postloan.factories import collection_log, overdue_loan

API = "/api/v1"
JSON = "application/json"


def as_user(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def get(user: User | None, path: str, **params: Any) -> Any:
    return as_user(user).get(API + path, params)


def post(user: User | None, path: str, body: Any) -> Any:
    return as_user(user).post(API + path, json.dumps(body), content_type=JSON)


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "fields"} and body["code"] == code and body["message"]
    return body


def endpoints(live: LiveBook) -> list[tuple[str, str]]:
    loan = live.overdue.pk
    return [
        ("get", "/collection/calendar"),
        ("get", "/loans/overdue"),
        ("get", f"/loans/{loan}/collection-log"),
        ("post", f"/loans/{loan}/collection-log"),
        ("get", f"/loans/{loan}/classification"),
        ("post", f"/loans/{loan}/classification"),
        ("get", "/loans/proposals"),
        ("get", "/portfolio/quality"),
    ]


def test_every_endpoint_needs_authentication(live: LiveBook) -> None:
    for method, path in endpoints(live):
        response = get(None, path) if method == "get" else post(None, path, {})
        error(response, 401, "unauthenticated")


def test_every_endpoint_is_404_for_a_role_without_access(bank: Bank, live: LiveBook) -> None:
    for method, path in endpoints(live):
        response = get(bank.admin, path) if method == "get" else post(bank.admin, path, {})
        assert response.status_code in (404, 422), (path, response.content)
        if response.status_code == 422:  # a write's body is read before the service finds nothing in scope
            assert method == "post"
    assert CollectionLog.objects.count() == 0 and ClassificationDecision.objects.count() == 0


# --- the calendar ----------------------------------------------------------------------------------------------------


def test_the_calendar_answers_with_the_figures_of_the_page(bank: Bank, live: LiveBook) -> None:
    # when
    body = get(bank.alice, "/collection/calendar").json()
    # then
    calendar = collection_calendar(bank.alice)
    assert body["today"] == live.today.isoformat()
    assert [line["contract_no"] for line in body["this_week"]] == ["HT-LIVE-DUE"]
    [first, *_rest] = body["overdue"]
    line = calendar.overdue[0]
    assert first == {
        "contract_id": live.overdue.pk,
        "contract_no": "HT-LIVE-OVERDUE",
        "currency": "CNY",
        "customer_id": live.xihu.pk,
        "customer_name": "西湖电子有限公司",
        "rm_id": bank.alice.pk,
        "rm_name": "Alice",
        "due_date": line.due_date.isoformat(),
        "principal": f"{line.principal:.2f}",
        "interest": f"{line.interest:.2f}",
        "fee": "0.00",
        "penalty": f"{line.penalty:.2f}",
        "total": f"{line.total:.2f}",
        "days_overdue": line.days_overdue,
    }
    assert body["overdue_totals"]["total"] == f"{calendar.overdue_totals.total:.2f}"
    assert body["week_totals"]["total"] == f"{calendar.week_totals.total:.2f}"
    assert len(body["days"]) % 7 == 0


def test_a_bank_wide_role_names_a_unit(bank: Bank, live: LiveBook) -> None:
    body = error(get(bank.risk, "/collection/calendar"), 422, "invalid")
    assert set(body["fields"]) == {"unit"}
    chosen = get(bank.risk, "/collection/calendar", unit=bank.branch2.pk).json()
    assert {line["contract_no"] for line in chosen["overdue"]} == {"HT-LIVE-CAROL"}


@pytest.mark.parametrize(("params", "field"), [({"month": "2026-13"}, "month"), ({"unit": 999999}, "unit")])
def test_bad_calendar_parameters_are_named(bank: Bank, live: LiveBook, params: dict, field: str) -> None:
    body = error(get(bank.lead, "/collection/calendar", **params), 422, "invalid")
    assert set(body["fields"]) == {field}


def test_a_unit_outside_the_scope_is_refused_not_widened(bank: Bank, live: LiveBook) -> None:
    body = error(get(bank.lead, "/collection/calendar", unit=bank.branch2.pk), 422, "invalid")
    assert set(body["fields"]) == {"unit"}


# --- the overdue list ------------------------------------------------------------------------------------------------


def test_the_overdue_list_pages_through_the_scope_with_totals(bank: Bank, live: LiveBook) -> None:
    # given: a second overdue loan of alice's, fewer days past due
    other = make_customer(bank.alice, name="龙井茶叶有限公司")
    later = overdue_loan(other, as_of=live.today, days=live.overdue.days_past_due - 30, contract_no="HT-LIVE-LATER")
    collection_log(later, bank.alice, contacted_on=live.today, promise_date=live.today, promise_amount="999.00")
    # when
    first = get(bank.alice, "/loans/overdue", limit=1).json()
    second = get(bank.alice, "/loans/overdue", limit=1, cursor=first["next_cursor"]).json()
    # then
    assert [item["contract_no"] for item in first["items"] + second["items"]] == ["HT-LIVE-OVERDUE", "HT-LIVE-LATER"]
    assert second["next_cursor"] is None
    item = second["items"][0]
    assert (item["days_past_due"], item["penalty"], item["promise_amount"], item["classification"]) == (
        later.days_past_due,
        f"{later.penalty_unpaid:.2f}",
        "999.00",
        1,
    )
    assert first["totals"]["loans"] == 2
    assert first["totals"]["overdue_principal"] == f"{live.overdue.overdue_principal + later.overdue_principal:.2f}"
    ascending = get(bank.alice, "/loans/overdue", sort="dpd").json()
    assert [item["contract_no"] for item in ascending["items"]] == ["HT-LIVE-LATER", "HT-LIVE-OVERDUE"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sort": "last_contact"}, "sort"),
        ({"band": "forever"}, "band"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"classification": 9}, "classification"),
    ],
)
def test_bad_overdue_parameters_are_named(bank: Bank, live: LiveBook, params: dict, field: str) -> None:
    body = error(get(bank.alice, "/loans/overdue", **params), 422, "invalid")
    assert set(body["fields"]) == {field}


def test_a_cursor_of_another_order_is_refused(bank: Bank, live: LiveBook) -> None:
    # given
    other = make_customer(bank.alice)
    overdue_loan(other, as_of=live.today, days=live.overdue.days_past_due - 30)
    cursor = get(bank.alice, "/loans/overdue", limit=1).json()["next_cursor"]
    # when
    body = error(get(bank.alice, "/loans/overdue", limit=1, sort="dpd", cursor=cursor), 422, "invalid")
    # then
    assert set(body["fields"]) == {"cursor"}


def test_an_rm_never_lists_another_rms_overdue_loans(bank: Bank, live: LiveBook) -> None:
    body = get(bank.carol, "/loans/overdue").json()
    assert [item["contract_no"] for item in body["items"]] == ["HT-LIVE-CAROL"]


# --- the collection log ----------------------------------------------------------------------------------------------


def contact(live: LiveBook, **fields: Any) -> dict[str, Any]:
    return {
        "contacted_on": live.today.isoformat(),
        "channel": "phone",
        "contact_person": "王芳",
        "result": "承诺周五前还款",
        **fields,
    }


def test_the_rm_posts_a_contact_with_a_promise_and_reads_it_back(bank: Bank, live: LiveBook) -> None:
    # when
    promise = (live.today + timedelta(days=5)).isoformat()
    created = post(
        bank.alice,
        f"/loans/{live.overdue.pk}/collection-log",
        contact(live, promise_date=promise, promise_amount="5000.50"),
    )
    listed = get(bank.lead, f"/loans/{live.overdue.pk}/collection-log")
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert {
        k: body[k] for k in ("contract_id", "channel", "promise_date", "promise_amount", "promise_status", "created_by")
    } == {
        "contract_id": live.overdue.pk,
        "channel": "phone",
        "promise_date": promise,
        "promise_amount": "5000.50",
        "promise_status": "open",
        "created_by": "alice",
    }
    assert listed.json() == [body]
    assert AuditEvent.objects.filter(action="loan.collection_log").count() == 1


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        ({"promise_amount": "1.001", "promise_date": None}, {"promise_amount"}),
        ({"promise_amount": "100.00"}, {"promise_date"}),
        ({"channel": "pigeon"}, {"channel"}),
        ({"contact_person": ""}, {"contact_person"}),
        ({"contacted_on": "yesterday"}, {"contacted_on"}),
    ],
)
def test_a_bad_contact_is_a_422_naming_the_field(bank: Bank, live: LiveBook, fields: dict, names: set) -> None:
    body = error(post(bank.alice, f"/loans/{live.overdue.pk}/collection-log", contact(live, **fields)), 422, "invalid")
    assert set(body["fields"]) == names
    assert CollectionLog.objects.count() == 0


@pytest.mark.parametrize("persona", ["carol", "risk", "auditor"])
def test_a_contact_out_of_reach_is_404_and_nothing_changed(bank: Bank, live: LiveBook, persona: str) -> None:
    error(post(getattr(bank, persona), f"/loans/{live.overdue.pk}/collection-log", contact(live)), 404, "not_found")
    assert CollectionLog.objects.count() == 0


def test_another_rms_loan_log_is_404(bank: Bank, live: LiveBook) -> None:
    error(get(bank.carol, f"/loans/{live.overdue.pk}/collection-log"), 404, "not_found")


# --- classification --------------------------------------------------------------------------------------------------


@pytest.fixture
def proposed(live: LiveBook) -> LiveBook:
    LoanContract.objects.filter(pk__in=[live.overdue.pk, live.carols.pk]).update(
        proposed_classification=Classification.SPECIAL_MENTION
    )
    return live


def test_the_risk_officer_reads_the_queue_and_confirms_a_proposal(bank: Bank, proposed: LiveBook) -> None:
    # given
    queue = get(bank.risk, "/loans/proposals").json()
    assert [item["contract_no"] for item in queue["items"]] == ["HT-LIVE-OVERDUE", "HT-LIVE-CAROL"]
    # when
    created = post(bank.risk, f"/loans/{proposed.overdue.pk}/classification", {"decided": 2, "reason": "逾期未超90天"})
    # then
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["previous"], body["proposed"], body["decided"], body["decided_by"]) == (1, 2, 2, "risk")
    state = get(bank.alice, f"/loans/{proposed.overdue.pk}/classification").json()
    assert (state["classification"], state["proposed_classification"], state["required_by_days_past_due"]) == (
        2,
        None,
        2,
    )
    assert [d["id"] for d in state["decisions"]] == [body["id"]]
    remaining = get(bank.risk, "/loans/proposals").json()
    assert [item["contract_no"] for item in remaining["items"]] == ["HT-LIVE-CAROL"]


@pytest.mark.parametrize("persona", ["alice", "lead", "head", "auditor"])
def test_only_the_risk_officer_decides_through_the_api(bank: Bank, proposed: LiveBook, persona: str) -> None:
    error(
        post(getattr(bank, persona), f"/loans/{proposed.overdue.pk}/classification", {"decided": 1, "reason": "r"}),
        404,
        "not_found",
    )
    error(get(getattr(bank, persona), "/loans/proposals"), 404, "not_found")
    assert LoanContract.objects.get(pk=proposed.overdue.pk).proposed_classification == 2


def test_a_decision_without_a_reason_is_a_422(bank: Bank, proposed: LiveBook) -> None:
    body = error(
        post(bank.risk, f"/loans/{proposed.overdue.pk}/classification", {"decided": 2, "reason": " "}), 422, "invalid"
    )
    assert set(body["fields"]) == {"reason"}


def test_the_queue_pages_with_a_cursor(bank: Bank, proposed: LiveBook) -> None:
    first = get(bank.risk, "/loans/proposals", limit=1).json()
    second = get(bank.risk, "/loans/proposals", limit=1, cursor=first["next_cursor"]).json()
    assert [i["contract_no"] for i in first["items"] + second["items"]] == ["HT-LIVE-OVERDUE", "HT-LIVE-CAROL"]


# --- portfolio quality -----------------------------------------------------------------------------------------------


def test_a_leads_portfolio_quality_matches_the_page(bank: Bank, live: LiveBook) -> None:
    # given
    LoanContract.objects.filter(pk=live.overdue.pk).update(classification=Classification.SUBSTANDARD)
    # when
    body = get(bank.lead, "/portfolio/quality").json()
    # then
    quality = portfolio_quality(bank.lead)
    assert body["total"] == {
        "id": None,
        "name": "",
        "loans": 2,
        "outstanding": f"{quality.total.outstanding:.2f}",
        "overdue_loans": 1,
        "overdue_balance": f"{quality.total.overdue_balance:.2f}",
        "overdue_principal": f"{quality.total.overdue_principal:.2f}",
        "overdue_ratio": str(quality.total.overdue_ratio),
        "overdue_principal_ratio": str(quality.total.overdue_principal_ratio),
        "npl_balance": f"{quality.total.npl_balance:.2f}",
        "npl_ratio": str(quality.total.npl_ratio),
    }
    assert [c["loans"] for c in body["classes"]] == [1, 0, 1, 0, 0]
    assert [row["name"] for row in body["rms"]] == ["Alice"]
    assert body["migration"] is None and body["trend"] == []


def test_portfolio_quality_for_a_bank_wide_role_needs_a_unit(bank: Bank, live: LiveBook) -> None:
    assert set(error(get(bank.auditor, "/portfolio/quality"), 422, "invalid")["fields"]) == {"unit"}
    assert get(bank.auditor, "/portfolio/quality", unit=bank.branch2.pk).json()["total"]["loans"] == 1


def test_the_openapi_schema_lists_the_collection_endpoints(bank: Bank) -> None:
    paths = as_user(bank.alice).get(API + "/openapi.json").json()["paths"]
    for path in (
        "/api/v1/collection/calendar",
        "/api/v1/loans/overdue",
        "/api/v1/loans/{loan_id}/collection-log",
        "/api/v1/loans/{loan_id}/classification",
        "/api/v1/loans/proposals",
        "/api/v1/portfolio/quality",
    ):
        assert path in paths, path
