"""/api/v1 of the customer archive: auth, the one error shape, validation, pagination, filters, sub-resources,
the OpenAPI schema and the offline docs page."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from rmdesk.audit.models import AuditEvent
from rmdesk.core.validators import CREDIT_CODE_ALPHABET, id_number_check_char
from rmdesk.customers.models import Customer, FinancialStatement, KeyPerson
from rmdesk.org.models import ApiToken
from rmdesk.org.services import issue_token
from tests.personas import Bank, credit_code, make_customer

JSON = "application/json"

# The English source of the credit-code check message (rmdesk/core/validators.py).
CHECK_CHAR_EN = "The unified social credit code's check character is wrong; please check for a typo."


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The body of an error response, after checking it has the one error shape."""
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def _post(client: Client, url: str, body: Any, **extra: Any) -> Any:
    return client.post(url, json.dumps(body), content_type=JSON, **extra)


def _patch(client: Client, url: str, body: Any, **extra: Any) -> Any:
    return client.patch(url, json.dumps(body), content_type=JSON, **extra)


def _wrong_check_char(code: str) -> str:
    """`code` with a different, still legal, last character: only the GB 32100 check fails."""
    other = next(c for c in CREDIT_CODE_ALPHABET if c != code[-1])
    return code[:-1] + other


def _id_number(first17: str = "11010519491231002") -> str:
    return first17 + id_number_check_char(first17)


@pytest.fixture
def alice_client(bank: Bank, client: Client) -> Client:
    client.force_login(bank.alice)
    return client


# --- authentication -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/v1/customers"), ("get", "/api/v1/customers/{id}"), ("post", "/api/v1/customers"),
     ("patch", "/api/v1/customers/{id}"), ("get", "/api/v1/customers/{id}/key-persons"),
     ("post", "/api/v1/key-persons/{id}/reveal")],
)
def test_anonymous_requests_answer_401_with_the_error_shape(bank: Bank, client: Client, method: str,
                                                             path: str) -> None:
    # given
    customer = make_customer(bank.alice)
    person = KeyPerson.objects.create(customer=customer, role="finance_head", name="张三", phone="13800138000")
    url = path.format(id=person.pk if "key-persons/" in path else customer.pk)
    # when
    if method == "get":
        response = client.get(url)
    else:
        response = getattr(client, method)(url, json.dumps({"version": 1, "field": "phone"}), content_type=JSON)
    # then
    body = _error(response, 401, "unauthenticated")
    assert body["fields"] == {}
    assert not AuditEvent.objects.exists()


def test_a_bearer_token_authenticates_its_user(bank: Bank, client: Client) -> None:
    # given
    own = make_customer(bank.alice)
    make_customer(bank.bob)
    token = issue_token(actor=None, user=bank.alice)
    # when
    response = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [own.pk]


def test_a_wrong_bearer_token_answers_401(bank: Bank, client: Client) -> None:
    # given
    token = issue_token(actor=None, user=bank.alice)
    # when
    response = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {token}x")
    # then
    _error(response, 401, "unauthenticated")


def test_a_revoked_bearer_token_answers_401(bank: Bank, client: Client) -> None:
    # given
    token = issue_token(actor=None, user=bank.alice)
    ApiToken.objects.filter(user=bank.alice).update(revoked_at=timezone.now() - timedelta(minutes=1))
    # when
    response = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    _error(response, 401, "unauthenticated")


def test_a_bearer_token_of_a_deactivated_user_answers_401(bank: Bank, client: Client) -> None:
    # given
    token = issue_token(actor=None, user=bank.alice)
    bank.alice.is_active = False
    bank.alice.save(update_fields=["is_active"])
    # when
    response = client.get("/api/v1/customers", HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    _error(response, 401, "unauthenticated")


# --- creating a customer ----------------------------------------------------------------------------------------

def test_an_rm_creates_a_customer_with_amounts_as_strings(bank: Bank, alice_client: Client) -> None:
    # given
    code = credit_code()
    # when
    response = _post(alice_client, "/api/v1/customers", {
        "name": "华兴科技有限公司", "credit_code": code.lower(), "registered_capital": "12500000",
        "established_on": "2015-03-02", "tier": "key",
    })
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["registered_capital"] == "12500000.00"
    assert body["credit_code"] == code
    assert (body["primary_rm"], body["owning_unit"], body["co_rms"]) == ("alice", "T1", [])
    assert (body["tier"], body["version"], body["archived"]) == ("key", 1, False)
    stored = Customer.objects.get(pk=body["id"])
    assert (stored.name, stored.credit_code) == ("华兴科技有限公司", code)
    assert stored.registered_capital == Decimal("12500000.00")
    assert AuditEvent.objects.filter(action="customer.create", customer_id=stored.pk).count() == 1


def test_a_bad_credit_code_is_a_field_error_in_english_when_asked(alice_client: Client) -> None:
    # given
    code = _wrong_check_char(credit_code())
    # when
    response = _post(alice_client, "/api/v1/customers", {"name": "华兴科技有限公司", "credit_code": code},
                     HTTP_ACCEPT_LANGUAGE="en")
    # then
    body = _error(response, 422, "invalid")
    assert body["message"] == "Some fields are not valid."
    assert body["fields"] == {"credit_code": [CHECK_CHAR_EN]}
    assert not Customer.objects.exists()


@pytest.mark.parametrize("headers", [{}, {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}], ids=["default", "zh-hans"])
def test_a_bad_credit_code_is_a_field_error_in_chinese_by_default(alice_client: Client,
                                                                  headers: dict[str, str]) -> None:
    # given
    code = _wrong_check_char(credit_code())
    # when
    response = _post(alice_client, "/api/v1/customers", {"name": "华兴科技有限公司", "credit_code": code},
                     **headers)
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["credit_code"]
    [message] = body["fields"]["credit_code"]
    assert message != CHECK_CHAR_EN
    assert "统一社会信用代码" in message
    assert body["message"] != "Some fields are not valid."


def test_an_amount_sent_as_a_json_number_is_refused(alice_client: Client) -> None:
    # given
    payload = {"name": "华兴科技有限公司", "credit_code": credit_code(), "registered_capital": 12.5}
    # when
    response = _post(alice_client, "/api/v1/customers", payload)
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["registered_capital"]
    assert not Customer.objects.exists()


def test_malformed_json_answers_400_with_the_error_shape(alice_client: Client) -> None:
    # when
    response = alice_client.post("/api/v1/customers", '{"name": "华兴", ', content_type=JSON)
    # then
    body = _error(response, 400, "bad_request")
    assert body["fields"] == {}


def test_an_unknown_field_is_refused_by_name(alice_client: Client) -> None:
    # given
    payload = {"name": "华兴科技有限公司", "credit_code": credit_code(), "secret_rating": "AAA"}
    # when
    response = _post(alice_client, "/api/v1/customers", payload)
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["secret_rating"]
    assert not Customer.objects.exists()


def test_a_duplicate_credit_code_is_a_field_error(bank: Bank, alice_client: Client) -> None:
    # given
    existing = make_customer(bank.carol)
    # when
    response = _post(alice_client, "/api/v1/customers", {"name": "另一家公司", "credit_code": existing.credit_code})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["credit_code"]
    assert Customer.objects.count() == 1


def test_an_rm_cannot_make_another_rm_the_primary_rm(bank: Bank, alice_client: Client) -> None:
    # when
    response = _post(alice_client, "/api/v1/customers",
                     {"name": "华兴科技有限公司", "credit_code": credit_code(), "primary_rm": "dave"})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["primary_rm"]
    assert not Customer.objects.exists()


def test_a_risk_officer_cannot_create_a_customer(bank: Bank, client: Client) -> None:
    # given
    client.force_login(bank.risk)
    # when
    response = _post(client, "/api/v1/customers", {"name": "华兴科技有限公司", "credit_code": credit_code()})
    # then
    _error(response, 404, "not_found")
    assert not Customer.objects.exists()
    assert not AuditEvent.objects.exists()


# --- changing a customer ----------------------------------------------------------------------------------------

def test_a_stale_version_answers_409_and_changes_nothing(bank: Bank, alice_client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    first = _patch(alice_client, f"/api/v1/customers/{customer.pk}", {"version": 1, "tier": "key"})
    assert first.status_code == 200
    # when
    response = _patch(alice_client, f"/api/v1/customers/{customer.pk}", {"version": 1, "tier": "core"})
    # then
    _error(response, 409, "conflict")
    customer.refresh_from_db()
    assert (customer.tier, customer.version) == ("key", 2)
    assert list(AuditEvent.objects.filter(customer_id=customer.pk).values_list("action", "changes")) == [
        ("customer.update", {"tier": ["general", "key"]})
    ]


# --- listing: keyset pagination and filters ---------------------------------------------------------------------

def test_keyset_pagination_walks_every_customer_once(bank: Bank, alice_client: Client) -> None:
    # given
    expected = [make_customer(bank.alice).pk for _ in range(7)]
    make_customer(bank.bob)
    # when
    pages: list[list[int]] = []
    cursors: list[str | None] = []
    params: dict[str, Any] = {"limit": 3}
    while True:
        response = alice_client.get("/api/v1/customers", params)
        assert response.status_code == 200
        body = response.json()
        pages.append([item["id"] for item in body["items"]])
        cursors.append(body["next_cursor"])
        if body["next_cursor"] is None or len(pages) > 5:
            break
        params = {"limit": 3, "cursor": body["next_cursor"]}
    # then
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [pk for page in pages for pk in page] == sorted(expected)
    assert cursors[0] is not None and cursors[1] is not None and cursors[2] is None


@pytest.mark.parametrize("params", [{}, {"q": "协办"}], ids=["page", "search"])
def test_every_listed_customer_shows_its_own_co_rms_sorted_and_its_unit_and_rm(
    bank: Bank, alice_client: Client, params: dict[str, str]
) -> None:
    # given: co-RMs read for the whole page at once, each customer's own; "head" sorts first but was made after "lead"
    two = make_customer(bank.alice, name="协办两位有限公司", co_rms=(bank.lead, bank.head))
    none = make_customer(bank.alice, name="协办没有有限公司")
    one = make_customer(bank.alice, name="协办一位有限公司", co_rms=(bank.bob,))
    # when
    with CaptureQueriesContext(connection) as three:
        response = alice_client.get("/api/v1/customers", params)
    # then
    assert response.status_code == 200
    items = response.json()["items"]
    assert {item["id"]: item["co_rms"] for item in items} == {two.pk: ["head", "lead"], none.pk: [], one.pk: ["bob"]}
    assert {(item["owning_unit"], item["primary_rm"]) for item in items} == {("T1", "alice")}
    # and then: as many statements for forty customers as for three (none per customer)
    for _ in range(37):
        make_customer(bank.alice, name="协办更多有限公司", co_rms=(bank.dave,))
    with CaptureQueriesContext(connection) as forty:
        response = alice_client.get("/api/v1/customers", params)
    assert len(response.json()["items"]) == 40
    assert len(forty.captured_queries) == len(three.captured_queries)


@pytest.mark.parametrize("cursor", ["garbage!", "not-a-cursor", "aWQ6YWJj"])  # the last is "id:abc"
def test_a_garbage_cursor_is_a_field_error(alice_client: Client, cursor: str) -> None:
    # when
    response = alice_client.get("/api/v1/customers", {"cursor": cursor})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["cursor"]


@pytest.mark.parametrize("limit", [0, 1000, -1])
def test_a_limit_out_of_range_is_a_field_error(alice_client: Client, limit: int) -> None:
    # when
    response = alice_client.get("/api/v1/customers", {"limit": limit})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["limit"]


def test_q_finds_customers_by_a_name_substring(bank: Bank, alice_client: Client) -> None:
    # given
    first = make_customer(bank.alice, name="杭州华兴科技有限公司")
    make_customer(bank.alice, name="东方机械有限公司")
    second = make_customer(bank.alice, name="华兴物流有限公司")
    make_customer(bank.bob, name="华兴贸易有限公司")  # out of alice's scope
    # when
    response = alice_client.get("/api/v1/customers", {"q": "华兴"})
    # then: ranked, a name that starts with the query before one that holds it
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [second.pk, first.pk]


@pytest.mark.parametrize("case", ["upper", "lower"])
def test_q_finds_a_customer_by_a_credit_code_prefix(bank: Bank, alice_client: Client, case: str) -> None:
    # given
    target = make_customer(bank.alice)
    make_customer(bank.alice)
    prefix = target.credit_code[:16]
    # when
    response = alice_client.get("/api/v1/customers", {"q": prefix if case == "upper" else prefix.lower()})
    # then
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [target.pk]


@pytest.mark.parametrize(("name", "value"), [("status", "bogus"), ("tier", "platinum"), ("industry_section", "ZZ"),
                                             ("province", "99"), ("credit_rating", "AAAA")])
def test_an_invalid_filter_value_is_a_field_error(alice_client: Client, name: str, value: str) -> None:
    # when
    response = alice_client.get("/api/v1/customers", {name: value})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == [name]


def test_an_out_of_range_primary_rm_filter_is_a_field_error(alice_client: Client) -> None:
    # given
    alice_client.raise_request_exception = False
    # when
    response = alice_client.get("/api/v1/customers", {"primary_rm": 10**22})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["primary_rm"]


def test_the_status_filter_narrows_the_list(bank: Bank, alice_client: Client) -> None:
    # given
    make_customer(bank.alice)  # status "customer"
    dormant = make_customer(bank.alice)
    Customer.objects.filter(pk=dormant.pk).update(status="dormant")
    # when
    response = alice_client.get("/api/v1/customers", {"status": "dormant"})
    # then
    assert [item["id"] for item in response.json()["items"]] == [dormant.pk]


# --- archiving ----------------------------------------------------------------------------------------------------

def test_an_archived_customer_leaves_the_list_but_its_detail_remains(bank: Bank, alice_client: Client) -> None:
    # given
    kept = make_customer(bank.alice)
    archived = make_customer(bank.alice)
    # when
    response = _post(alice_client, f"/api/v1/customers/{archived.pk}/archive", {"version": 1})
    # then
    assert response.status_code == 200
    assert (response.json()["archived"], response.json()["version"]) == (True, 2)
    listed = alice_client.get("/api/v1/customers").json()["items"]
    assert [item["id"] for item in listed] == [kept.pk]
    with_archived = alice_client.get("/api/v1/customers", {"include_archived": "true"}).json()["items"]
    assert [item["id"] for item in with_archived] == [kept.pk, archived.pk]
    detail = alice_client.get(f"/api/v1/customers/{archived.pk}")
    assert detail.status_code == 200
    assert detail.json()["archived"] is True
    assert Customer.objects.filter(pk=archived.pk).exists()


# --- key persons --------------------------------------------------------------------------------------------------

def test_a_key_person_with_a_bad_id_number_is_a_field_error(bank: Bank, alice_client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    bad = _id_number()[:-1] + ("0" if _id_number()[-1] != "0" else "1")
    # when
    response = _post(alice_client, f"/api/v1/customers/{customer.pk}/key-persons",
                     {"role": "finance_head", "name": "张三", "id_number": bad})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["id_number"]
    assert not KeyPerson.objects.exists()


def test_key_persons_are_listed_with_phone_and_id_number_masked(bank: Bank, alice_client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    id_number = _id_number()
    created = _post(alice_client, f"/api/v1/customers/{customer.pk}/key-persons",
                    {"role": "finance_head", "name": "张三", "phone": "138 0013 8000", "id_number": id_number})
    assert created.status_code == 201, created.content
    # when
    response = alice_client.get(f"/api/v1/customers/{customer.pk}/key-persons")
    # then
    assert response.status_code == 200
    [person] = response.json()
    assert (person["phone"], person["id_number"]) == ("138****8000", "110105********" + id_number[-4:])
    assert "13800138000" not in response.content.decode()
    assert id_number not in response.content.decode()
    assert created.json()["phone"] == "138****8000"


def test_reveal_of_a_field_other_than_phone_or_id_number_is_refused(bank: Bank, alice_client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    person = KeyPerson.objects.create(customer=customer, role="finance_head", name="张三", phone="13800138000")
    # when
    response = _post(alice_client, f"/api/v1/key-persons/{person.pk}/reveal", {"field": "name"})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["field"]
    assert not AuditEvent.objects.filter(action="key_person.reveal").exists()


# --- financial statements -----------------------------------------------------------------------------------------

def test_financial_statements_list_debt_ratio_and_revenue_growth(bank: Bank, alice_client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    url = f"/api/v1/customers/{customer.pk}/financial-statements"
    older = _post(alice_client, url, {"year": 2023, "total_assets": "800.00", "total_liabilities": "500.00",
                                      "revenue": "1000.00", "net_profit": "50.00", "operating_cash_flow": "-20.00"})
    newer = _post(alice_client, url, {"year": 2024, "total_assets": "1000.00", "total_liabilities": "600.00",
                                      "revenue": "1100.00", "net_profit": "80.00", "operating_cash_flow": "30.5"})
    # when
    response = alice_client.get(url)
    # then
    assert (older.status_code, newer.status_code) == (201, 201)
    # 600/1000 = 0.6; (1100-1000)/1000 = 0.1; 500/800 = 0.625; no 2022 statement, so no growth for 2023.
    assert newer.json()["debt_ratio"] == "0.6000"
    assert newer.json()["revenue_growth"] == "0.1000"
    assert response.status_code == 200
    assert [(s["year"], s["debt_ratio"], s["revenue_growth"], s["operating_cash_flow"]) for s in response.json()] == [
        (2024, "0.6000", "0.1000", "30.50"),
        (2023, "0.6250", None, "-20.00"),
    ]
    assert FinancialStatement.objects.filter(customer=customer).count() == 2


def test_a_second_statement_for_the_same_year_is_a_field_error(bank: Bank, alice_client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    url = f"/api/v1/customers/{customer.pk}/financial-statements"
    figures = {"year": 2024, "total_assets": "1000.00", "total_liabilities": "600.00", "revenue": "1100.00",
               "net_profit": "80.00", "operating_cash_flow": "30.00"}
    assert _post(alice_client, url, figures).status_code == 201
    # when
    response = _post(alice_client, url, figures)
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["year"]


# --- relationships ------------------------------------------------------------------------------------------------

def test_a_relationship_to_a_customer_the_user_cannot_see_is_refused(bank: Bank, alice_client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    hidden = make_customer(bank.carol)
    # when
    response = _post(alice_client, f"/api/v1/customers/{customer.pk}/relationships",
                     {"kind": "supply_chain", "counterparty_id": hidden.pk})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["counterparty_id"]
    assert not customer.relationships.exists()


def test_a_guarantee_without_an_amount_is_refused(bank: Bank, alice_client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    # when
    response = _post(alice_client, f"/api/v1/customers/{customer.pk}/relationships",
                     {"kind": "guarantee", "counterparty_name": "宏达担保有限公司"})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["amount"]
    assert not customer.relationships.exists()


def test_a_relationship_to_a_visible_customer_shows_its_id_name_and_code(bank: Bank, alice_client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    other = make_customer(bank.alice, name="宏达担保有限公司")
    # when
    response = _post(alice_client, f"/api/v1/customers/{customer.pk}/relationships",
                     {"kind": "guarantee", "counterparty_id": other.pk, "amount": "5000000"})
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["counterparty_id"], body["counterparty_name"], body["counterparty_credit_code"], body["amount"]) == (
        other.pk, "宏达担保有限公司", other.credit_code, "5000000.00")


# --- OpenAPI and docs ---------------------------------------------------------------------------------------------

def test_openapi_lists_the_customer_list_with_its_parameters(client: Client, db: Any) -> None:
    # when
    response = client.get("/api/v1/openapi.json")
    # then
    assert response.status_code == 200
    spec = response.json()
    parameters = {p["name"] for p in spec["paths"]["/api/v1/customers"]["get"]["parameters"]}
    assert {"limit", "cursor", "q", "status"} <= parameters


def test_openapi_declares_the_error_responses_of_a_patch(client: Client, db: Any) -> None:
    # when
    spec = client.get("/api/v1/openapi.json").json()
    # then
    responses = spec["paths"]["/api/v1/customers/{customer_id}"]["patch"]["responses"]
    for status in ("401", "404", "409", "422"):
        assert responses[status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"
        }
    assert set(spec["components"]["schemas"]["ErrorOut"]["properties"]) == {"code", "message", "fields"}


def test_openapi_declares_the_credit_code_pattern(client: Client, db: Any) -> None:
    # when
    spec = client.get("/api/v1/openapi.json").json()
    # then
    credit_code_schema = spec["components"]["schemas"]["CustomerIn"]["properties"]["credit_code"]
    assert credit_code_schema["pattern"] == "^[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18}$"


def test_the_docs_page_loads_nothing_from_outside(client: Client, db: Any) -> None:
    # when
    response = client.get("/api/v1/docs")
    # then
    assert response.status_code == 200
    html = response.content.decode()
    references = re.findall(r"""<(?:script|link)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", html)
    assert references
    assert all(ref.startswith("/static/") for ref in references), references
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)


# --- never a 500 --------------------------------------------------------------------------------------------------

def test_hostile_bodies_never_cause_a_server_error(bank: Bank, client: Client) -> None:
    # given
    client.raise_request_exception = False
    client.force_login(bank.alice)
    customer = make_customer(bank.alice)
    person = KeyPerson.objects.create(customer=customer, role="finance_head", name="张三")
    attempts: list[tuple[str, str, Any]] = [
        ("post", "/api/v1/customers", [{"name": "x", "credit_code": credit_code()}]),
        ("post", "/api/v1/customers", {"name": {"a": [1, {"b": None}]}, "credit_code": [["x"]]}),
        ("post", "/api/v1/customers", {"name": "华" * 10_000, "credit_code": credit_code()}),
        ("post", "/api/v1/customers", {"name": "x", "credit_code": credit_code(), "registered_capital": "1e400"}),
        ("post", "/api/v1/customers", {"name": "x", "credit_code": credit_code(), "established_on": "2024-02-30"}),
        ("post", "/api/v1/customers", {"name": "x", "credit_code": credit_code(), "co_rms": ["nobody"]}),
        ("post", "/api/v1/customers", {"name": "x", "credit_code": credit_code(), "owning_unit": "NOPE"}),
        ("post", "/api/v1/customers", "just a string"),
        ("post", "/api/v1/customers", None),
        ("patch", f"/api/v1/customers/{customer.pk}", {"version": None, "tier": "core"}),
        ("patch", f"/api/v1/customers/{customer.pk}", {"version": 1, "primary_rm": None}),
        ("patch", f"/api/v1/customers/{customer.pk}", {"version": 1, "owning_unit": None}),
        ("patch", f"/api/v1/customers/{customer.pk}", {"version": 1, "name": None, "tier": None}),
        ("patch", f"/api/v1/customers/{customer.pk}", {"version": 10**30}),
        ("patch", f"/api/v1/customers/{customer.pk}", {"version": "1; DROP TABLE"}),
        ("patch", "/api/v1/customers/99999999999999999999999", {"version": 1}),
        ("post", f"/api/v1/customers/{customer.pk}/key-persons", {"role": "boss", "name": "张三"}),
        ("post", f"/api/v1/customers/{customer.pk}/key-persons", {"role": "finance_head", "name": "张三",
                                                                  "phone": ["13800138000"]}),
        ("post", f"/api/v1/customers/{customer.pk}/financial-statements", {"year": "MMXXIV"}),
        ("post", f"/api/v1/customers/{customer.pk}/relationships", {"kind": "affiliate",
                                                                    "counterparty_id": 10**25}),
        ("post", f"/api/v1/customers/{customer.pk}/relationships", {"kind": "affiliate", "share_pct": "101",
                                                                    "counterparty_name": "x"}),
        ("post", f"/api/v1/key-persons/{person.pk}/reveal", {"field": None}),
        ("post", f"/api/v1/key-persons/{person.pk}/reveal", [1, 2, 3]),
        ("post", f"/api/v1/customers/{customer.pk}/archive", {"version": -1}),
    ]
    # when
    statuses = []
    for method, url, body in attempts:
        response = getattr(client, method)(url, json.dumps(body), content_type=JSON)
        statuses.append((method, url, response.status_code))
    # then
    assert [s for s in statuses if s[2] not in {400, 401, 404, 409, 422}] == []
    customer.refresh_from_db()
    assert (customer.version, customer.tier) == (1, "general")


def test_a_nul_character_in_a_name_is_a_field_error_not_a_server_error(bank: Bank, client: Client) -> None:
    # given
    client.raise_request_exception = False
    client.force_login(bank.alice)
    # when
    response = _post(client, "/api/v1/customers", {"name": "华兴\x00科技", "credit_code": credit_code()})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["name"]
    assert not Customer.objects.exists()


def test_a_deeply_nested_or_undecodable_body_is_a_bad_request(alice_client: Client) -> None:
    # given
    bodies = ["[" * 100_000 + "]" * 100_000, '{"name": ' * 50_000 + "1" + "}" * 50_000, b"\xff\xfe{", "name=x"]
    # when
    statuses = [alice_client.post("/api/v1/customers", body, content_type=JSON).status_code for body in bodies]
    # then
    assert statuses == [400, 400, 400, 400]
    assert not Customer.objects.exists()


# --- CSRF: sessions need the token, Bearer tokens do not ------------------------------------------------------------

def test_a_session_write_without_a_csrf_token_is_refused(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    client = Client(enforce_csrf_checks=True)
    client.force_login(bank.alice)
    # when
    response = _patch(client, f"/api/v1/customers/{customer.pk}", {"version": 1, "tier": "key"})
    # then
    _error(response, 403, "csrf")
    customer.refresh_from_db()
    assert (customer.tier, customer.version) == ("general", 1)


def test_a_bearer_token_writes_without_a_csrf_token(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    token = issue_token(actor=None, user=bank.alice)
    client = Client(enforce_csrf_checks=True)
    # when
    response = _patch(client, f"/api/v1/customers/{customer.pk}", {"version": 1, "tier": "key"},
                      HTTP_AUTHORIZATION=f"Bearer {token}")
    # then
    assert response.status_code == 200
    customer.refresh_from_db()
    assert (customer.tier, customer.version) == ("key", 2)
    assert AuditEvent.objects.get(action="customer.update").actor_id == bank.alice.pk


# --- relationships: naming and hiding the counterparty ----------------------------------------------------------------

def test_a_relationship_of_a_customer_to_itself_is_refused_naming_counterparty_id(bank: Bank,
                                                                                  alice_client: Client) -> None:
    # given
    customer = make_customer(bank.alice)
    # when
    response = _post(alice_client, f"/api/v1/customers/{customer.pk}/relationships",
                     {"kind": "affiliate", "counterparty_id": customer.pk, "share_pct": "51"})
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["counterparty_id"]
    assert not customer.relationships.exists()


def test_a_counterparty_the_user_cannot_open_is_listed_by_name_without_its_id(bank: Bank,
                                                                              alice_client: Client) -> None:
    # given: the branch head, who sees both, links alice's customer to one of bob's
    customer = make_customer(bank.alice)
    hidden = make_customer(bank.bob, name="宏达担保有限公司")
    head = Client()
    head.force_login(bank.head)
    created = _post(head, f"/api/v1/customers/{customer.pk}/relationships",
                    {"kind": "guarantee", "counterparty_id": hidden.pk, "amount": "1000000.00"})
    assert created.status_code == 201
    assert created.json()["counterparty_id"] == hidden.pk
    # when
    response = alice_client.get(f"/api/v1/customers/{customer.pk}/relationships")
    # then
    assert response.status_code == 200
    [row] = response.json()
    assert (row["counterparty_id"], row["counterparty_name"], row["counterparty_credit_code"], row["amount"]) == (
        None, "宏达担保有限公司", hidden.credit_code, "1000000.00")


# --- every write endpoint: allowed, or 404 with nothing changed ------------------------------------------------------

WRITES = [
    ("patch", "/api/v1/customers/{customer}", {"version": 1, "tier": "core"}, 200),
    ("post", "/api/v1/customers/{customer}/archive", {"version": 1}, 200),
    ("post", "/api/v1/customers/{customer}/key-persons", {"role": "finance_staff", "name": "李四"}, 201),
    ("patch", "/api/v1/key-persons/{key_person}", {"version": 1, "title": "财务总监"}, 200),
    ("post", "/api/v1/key-persons/{key_person}/archive", {"version": 1}, 200),
    ("post", "/api/v1/customers/{customer}/financial-statements",
     {"year": 2024, "total_assets": "1000.00", "total_liabilities": "600.00", "revenue": "1100.00",
      "net_profit": "80.00", "operating_cash_flow": "30.00"}, 201),
    ("patch", "/api/v1/financial-statements/{statement}", {"version": 1, "revenue": "1200.00"}, 200),
    ("post", "/api/v1/customers/{customer}/relationships", {"kind": "supply_chain", "counterparty_name": "东方机械"},
     201),
    ("patch", "/api/v1/relationships/{relationship}", {"version": 1, "note": "年供货约三千万"}, 200),
    ("post", "/api/v1/relationships/{relationship}/archive", {"version": 1}, 200),
]


def _bobs_file(bank: Bank) -> dict[str, int]:
    customer = make_customer(bank.bob)
    person = KeyPerson.objects.create(customer=customer, role="finance_head", name="张三", phone="13800138000")
    statement = FinancialStatement.objects.create(
        customer=customer, year=2023, total_assets=Decimal(1000), total_liabilities=Decimal(500),
        revenue=Decimal(1000), net_profit=Decimal(10), operating_cash_flow=Decimal(5))
    relationship = customer.relationships.create(kind="affiliate", counterparty_name="华兴控股", share_pct=Decimal(51))
    return {"customer": customer.pk, "key_person": person.pk, "statement": statement.pk,
            "relationship": relationship.pk}


def _state(ids: dict[str, int]) -> list[Any]:
    """Everything a write could touch, in a comparable form."""
    customer = Customer.objects.get(pk=ids["customer"])
    return [
        AuditEvent.objects.count(),
        (customer.version, customer.tier, customer.archived_at),
        list(KeyPerson.objects.values_list("pk", "version", "title", "archived_at")),
        list(FinancialStatement.objects.values_list("pk", "version", "revenue", "archived_at")),
        list(customer.relationships.values_list("pk", "version", "note", "archived_at")),
    ]


@pytest.mark.parametrize("persona", ["alice", "dave", "carol", "auditor", "risk", "officer", "admin"])
@pytest.mark.parametrize(("method", "path", "payload", "_status"), WRITES,
                         ids=[f"{m}-{p.split('/', 3)[3]}" for m, p, _b, _s in WRITES])
def test_a_write_by_someone_who_may_not_change_the_customer_is_404_and_changes_nothing(
    bank: Bank, client: Client, persona: str, method: str, path: str, payload: dict[str, Any], _status: int
) -> None:
    # given
    ids = _bobs_file(bank)
    client.force_login(getattr(bank, persona))
    before = _state(ids)
    # when
    response = getattr(client, method)(path.format(**ids), json.dumps(payload), content_type=JSON)
    # then
    _error(response, 404, "not_found")
    assert _state(ids) == before


@pytest.mark.parametrize("persona", ["bob", "head"])
@pytest.mark.parametrize(("method", "path", "payload", "status"), WRITES,
                         ids=[f"{m}-{p.split('/', 3)[3]}" for m, p, _b, _s in WRITES])
def test_a_write_by_someone_who_may_change_the_customer_succeeds_with_one_audit_event(
    bank: Bank, client: Client, persona: str, method: str, path: str, payload: dict[str, Any], status: int
) -> None:
    # given
    ids = _bobs_file(bank)
    user = getattr(bank, persona)
    client.force_login(user)
    # when
    response = getattr(client, method)(path.format(**ids), json.dumps(payload), content_type=JSON)
    # then
    assert response.status_code == status, response.content
    assert list(AuditEvent.objects.values_list("actor_id", "customer_id")) == [(user.pk, ids["customer"])]
