"""/api/v1/loans and /api/v1/lpr: anonymous, out of scope (404, nothing changed) and allowed, for every endpoint."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.test import Client

from rmdesk.loans.models import LoanContract, LprRate, Repayment
from rmdesk.org.models import User
from tests.loans.factories import make_loan
from tests.personas import Bank, make_customer

API = "/api/v1"


def as_user(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def get(user: User | None, path: str) -> Any:
    return as_user(user).get(API + path, HTTP_ACCEPT_LANGUAGE="en")


def post(user: User | None, path: str, body: dict[str, Any]) -> Any:
    return as_user(user).post(API + path, json.dumps(body), content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "fields"} and body["code"] == code
    return body


@pytest.fixture
def loan(bank: Bank) -> LoanContract:
    return make_loan(bank.alice, make_customer(bank.alice), contract_no="HT-API-1")


# --- the list ------------------------------------------------------------------------------------------------------


def test_the_loan_list_needs_a_login(db: None) -> None:
    error(get(None, "/loans"), 401, "unauthenticated")


def test_the_loan_list_shows_the_loans_in_scope_with_amounts_as_strings(bank: Bank, loan: LoanContract) -> None:
    # given alice's loan and carol's
    carols = make_loan(bank.carol, make_customer(bank.carol))
    # when alice and carol list their loans
    mine = get(bank.alice, "/loans").json()
    # then each sees their own; amounts and rates are strings
    assert [item["contract_no"] for item in mine["items"]] == ["HT-API-1"]
    item = mine["items"][0]
    assert (item["amount"], item["current_rate_pct"], item["outstanding_principal"]) == (
        "1200000.00",
        "4.35",
        "1200000.00",
    )
    assert (item["days_past_due"], item["overdue_since"], item["primary_rm"]) == (225, "2025-02-18", "alice")
    assert item["repayment_method_label"] == "Equal principal"
    assert [i["contract_no"] for i in get(bank.carol, "/loans").json()["items"]] == [carols.contract_no]
    # the branch head and the risk officer see both
    assert len(get(bank.head, "/loans").json()["items"]) == 1
    assert len(get(bank.risk, "/loans").json()["items"]) == 2


def test_the_loan_list_filters_and_pages(bank: Bank, loan: LoanContract) -> None:
    customer = make_customer(bank.alice)
    current = make_loan(bank.alice, customer, start_date=date(2025, 9, 1))
    assert [i["id"] for i in get(bank.alice, "/loans?overdue=false").json()["items"]] == [current.pk]
    assert [i["id"] for i in get(bank.alice, "/loans?overdue=true").json()["items"]] == [loan.pk]
    assert [i["id"] for i in get(bank.alice, f"/loans?customer_id={customer.pk}").json()["items"]] == [current.pk]
    assert get(bank.alice, f"/loans?rm_id={bank.bob.pk}").json()["items"] == []
    first = get(bank.alice, "/loans?limit=1").json()
    second = get(bank.alice, f"/loans?limit=1&cursor={first['next_cursor']}").json()
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [loan.pk, current.pk]
    assert second["next_cursor"] is None
    body = error(get(bank.alice, "/loans?status=open"), 422, "invalid")
    assert list(body["fields"]) == ["status"]


# --- one loan, its schedule and repayments ------------------------------------------------------------------------


def test_a_loan_with_its_guarantors_and_drawdowns(bank: Bank, loan: LoanContract) -> None:
    body = get(bank.alice, f"/loans/{loan.pk}").json()
    assert body["drawdowns"] == [
        {"number": 1, "drawn_on": "2025-01-15", "amount": "1200000.00", "months": 12, "external_ref": ""}
    ]
    assert body["guarantors"] == []


@pytest.mark.parametrize("path", ["", "/schedule", "/repayments"])
def test_a_loan_out_of_scope_is_not_found(bank: Bank, loan: LoanContract, path: str) -> None:
    error(get(bank.carol, f"/loans/{loan.pk}{path}"), 404, "not_found")
    error(get(bank.alice, f"/loans/999999{path}"), 404, "not_found")


def test_a_loans_schedule(bank: Bank, loan: LoanContract) -> None:
    body = get(bank.lead, f"/loans/{loan.pk}/schedule").json()
    assert body["schedule_source"] == "rmdesk"
    first = body["items"][0]
    assert (first["number"], first["scheduled_date"], first["due_date"]) == (1, "2025-02-15", "2025-02-17")
    assert (first["principal_due"], first["interest_due"], first["owed"], first["status"]) == (
        "100000.00",
        "4350.00",
        "104350.00",
        "overdue",
    )
    assert len(body["items"]) == 12


def test_operations_posts_a_repayment_and_a_repeat_posts_nothing(bank: Bank, ops: User, loan: LoanContract) -> None:
    # when operations posts 104,360.00 received on 2025-03-01
    payload = {"paid_on": "2025-03-01", "amount": "104360.00", "external_ref": "TX-API-1"}
    response = post(ops, f"/loans/{loan.pk}/repayments", payload)
    # then it paid period 1 and holds 10.00
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["allocated"], body["unallocated"], body["duplicate"], body["entered_by"]) == (
        "104350.00",
        "10.00",
        False,
        "ops",
    )
    assert [(a["period"], a["component"], a["amount"]) for a in body["allocations"]] == [
        (1, "interest", "4350.00"),
        (1, "principal", "100000.00"),
    ]
    # and sent again, the same repayment answers 200, allocated once
    again = post(ops, f"/loans/{loan.pk}/repayments", payload)
    assert again.status_code == 200 and again.json()["id"] == body["id"] and again.json()["duplicate"]
    assert Repayment.objects.count() == 1
    # the RM sees it in the loan's repayments
    listed = get(bank.alice, f"/loans/{loan.pk}/repayments").json()["items"]
    assert [(r["id"], r["amount"], r["source"]) for r in listed] == [(body["id"], "104360.00", "manual")]


@pytest.mark.parametrize("who", ["alice", "head", "risk", "carol"])
def test_only_operations_posts_repayments(bank: Bank, loan: LoanContract, who: str) -> None:
    response = post(getattr(bank, who), f"/loans/{loan.pk}/repayments", {"paid_on": "2025-03-01", "amount": "1.00"})
    error(response, 404, "not_found")
    assert not Repayment.objects.exists()


def test_a_bad_repayment_is_a_field_error(bank: Bank, ops: User, loan: LoanContract) -> None:
    body = error(
        post(ops, f"/loans/{loan.pk}/repayments", {"paid_on": "2025-03-01", "amount": "1.001"}), 422, "invalid"
    )
    assert list(body["fields"]) == ["amount"]
    body = error(post(ops, f"/loans/{loan.pk}/repayments", {"paid_on": "2024-03-01", "amount": "1.00"}), 422, "invalid")
    assert body["fields"] == {
        "paid_on": ["Loan HT-API-1 was first drawn on 2025-01-15: a repayment cannot be earlier."]
    }


# --- opening loans -------------------------------------------------------------------------------------------------


def test_an_rm_opens_a_loan_through_the_api(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    payload = {
        "customer_id": customer.pk,
        "contract_no": "HT-API-2",
        "product": "working_capital",
        "amount": "500000.00",
        "term_months": 12,
        "repayment_method": "annuity",
        "rate_kind": "lpr_1y",
        "lpr_spread_bp": 50,
        "repricing_rule": "anniversary",
        "guarantee_method": "credit",
        "start_date": "2025-06-01",
    }
    response = post(bank.alice, "/loans", payload)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["current_rate_pct"], body["lpr_spread_bp"], body["next_repricing_on"]) == ("3.5", 50, None)
    assert body["maturity_date"] == "2026-06-01"
    # out of scope: 404 and nothing written
    error(post(bank.carol, "/loans", {**payload, "contract_no": "HT-API-3"}), 404, "not_found")
    assert not LoanContract.objects.filter(contract_no="HT-API-3").exists()


def test_a_second_drawdown_through_the_api(bank: Bank) -> None:
    loan = make_loan(bank.alice, make_customer(bank.alice), amount="2000000.00", drawdown_amount="1200000.00")
    response = post(bank.alice, f"/loans/{loan.pk}/drawdowns", {"drawn_on": "2025-03-10", "amount": "100000.00"})
    assert response.status_code == 201, response.content
    assert [d["number"] for d in response.json()["drawdowns"]] == [1, 2]
    error(
        post(bank.carol, f"/loans/{loan.pk}/drawdowns", {"drawn_on": "2025-03-10", "amount": "1.00"}), 404, "not_found"
    )


# --- LPR -----------------------------------------------------------------------------------------------------------


def test_everyone_logged_in_reads_the_lpr_table(bank: Bank) -> None:
    body = get(bank.auditor, "/lpr?tenor=5y").json()
    assert body["items"][0] == {
        "id": body["items"][0]["id"],
        "tenor": "5y",
        "tenor_label": "Over-5-year LPR",
        "published_on": "2025-05-20",
        "rate_pct": "3.5",
        "entered_by": None,
    }
    assert len(body["items"]) == 15
    error(get(None, "/lpr"), 401, "unauthenticated")


def test_head_office_adds_an_lpr_and_others_are_forbidden(bank: Bank, ho_lead: User) -> None:
    payload = {"tenor": "1y", "published_on": "2025-06-20", "rate_pct": "3.00"}
    error(post(bank.head, "/lpr", payload), 403, "forbidden")
    assert not LprRate.objects.filter(published_on=date(2025, 6, 20)).exists()
    response = post(ho_lead, "/lpr", payload)
    assert response.status_code == 201, response.content
    assert (response.json()["rate_pct"], response.json()["entered_by"]) == ("3", "holead")
    body = error(post(ho_lead, "/lpr", payload), 422, "invalid")
    assert body["fields"] == {"published_on": ["The 1-year LPR of 2025-06-20 is already in the table."]}
