"""/api/v1/development, the writes: registering, the pool and claims, the pipeline, the target score, suggestions,
the scorecard and merging — through the API with Django's test client (session login, and a bearer token)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from rmdesk.audit.models import AuditEvent
from rmdesk.customers.models import Customer
from rmdesk.development.choices import ClaimStatus, Source
from rmdesk.development.models import Claim, PoolRule, Prospect, Scorecard
from rmdesk.org.models import User
from rmdesk.org.services import issue_token
from tests.development.test_prospects import HANGZHOU, new_prospect
from tests.development.test_suggestions import link
from tests.personas import Bank, credit_code, make_customer, make_user

API = "/api/v1/development"
JSON = "application/json"


def _error(response: Any, status: int, code: str) -> dict[str, Any]:
    """The body of an error response, after checking it has the one error shape (and maybe more)."""
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    assert {"code", "message", "fields"} <= set(body)
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


def _send(client: Client, method: str, path: str, body: Any = None) -> Any:
    send = getattr(client, method)
    if method == "get":
        return send(API + path)
    # No body: an empty one, as an HTTP client sends (the test client would send an empty multipart form).
    return send(API + path, "" if body is None else json.dumps(body), content_type=JSON)


def _as(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _body(name: str = "华兴精密仪器有限公司", **fields: Any) -> dict[str, Any]:
    return {"name": name, "credit_code": credit_code(), "region": HANGZHOU, "source": Source.MEDIA, **fields}


def _head_office_head(bank: Bank) -> User:
    return make_user("ho_head", "branch_head", bank.head_office)


@pytest.fixture
def mine(bank: Bank) -> Prospect:
    """A prospect in alice's book."""
    return new_prospect(bank.alice)


@pytest.fixture
def pooled(bank: Bank) -> Prospect:
    """A prospect waiting in team 1's pool."""
    return new_prospect(bank.lead, to_pool=True, owning_unit=bank.team1)


# --- authentication and the schema -------------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "/pool"),
    ("get", "/claims"),
    ("post", "/prospects"),
    ("post", "/prospects/{id}/claim"),
    ("post", "/claims/1/approve"),
    ("post", "/claims/1/reject"),
    ("post", "/claims/1/withdraw"),
    ("post", "/prospects/{id}/release"),
    ("post", "/prospects/{id}/assign"),
    ("post", "/prospects/{id}/stage"),
    ("get", "/prospects/{id}/score"),
    ("put", "/prospects/{id}/ratings/2"),
    ("post", "/prospects/{id}/apply-suggested-status"),
    ("get", "/suggestions"),
    ("post", "/suggestions/accept"),
    ("post", "/suggestions/dismiss"),
    ("post", "/suggestions/restore"),
    ("get", "/scorecard"),
    ("put", "/scorecard"),
    ("post", "/prospects/{id}/merge"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_anonymous_requests_answer_401(client: Client, mine: Prospect, method: str, path: str) -> None:
    # given no login
    audit_before = AuditEvent.objects.count()
    # when
    response = _send(client, method, path.format(id=mine.customer_id), None if method == "get" else {})
    # then
    assert _error(response, 401, "unauthenticated")["fields"] == {}
    assert AuditEvent.objects.count() == audit_before


def test_the_openapi_schema_lists_every_write_with_a_summary(client: Client, db: Any) -> None:
    # when
    spec = client.get("/api/v1/openapi.json").json()
    # then
    for method, path in ENDPOINTS:
        template = (
            path.replace("{id}", "{customer_id}").replace("/1/", "/{claim_id}/").replace("/2", "/{characteristic}")
        )
        if path.endswith("/merge"):
            template = "/prospects/{keep_id}/merge"
        operation = spec["paths"][API + template][method]
        assert operation["summary"], (method, template)
        assert "401" in operation["responses"]
    assert "403" in spec["paths"][API + "/scorecard"]["put"]["responses"]
    similar = spec["paths"][API + "/prospects"]["post"]["responses"]["409"]["content"][JSON]["schema"]
    assert similar == {"$ref": "#/components/schemas/SimilarErrorOut"}
    assert "co_rms" not in spec["components"]["schemas"]["ProspectIn"]["properties"]


def test_a_bearer_token_registers_a_prospect(bank: Bank, client: Client) -> None:
    # given
    token = issue_token(actor=None, user=bank.alice)
    # when
    response = client.post(
        API + "/prospects", json.dumps(_body()), content_type=JSON, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    # then
    assert response.status_code == 201, response.content
    assert response.json()["primary_rm"] == "alice"


def test_a_session_write_without_the_csrf_token_answers_403(bank: Bank, pooled: Prospect) -> None:
    # given a browser session that does not send the CSRF token
    client = Client(enforce_csrf_checks=True)
    client.force_login(bank.alice)
    # when
    response = _send(client, "post", f"/prospects/{pooled.customer_id}/claim", {})
    # then
    _error(response, 403, "csrf")
    assert Customer.objects.get(pk=pooled.customer_id).primary_rm is None


# --- registering --------------------------------------------------------------------------------------------------


def test_an_rm_registers_a_prospect_into_their_book(bank: Bank) -> None:
    # when
    response = _send(_as(bank.alice), "post", "/prospects", _body(registered_capital="5000000.00", source_detail="报"))
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["stage"], body["primary_rm"], body["owning_unit"], body["source"]) == ("identified", "alice", "T1", 1)
    customer = Customer.objects.get(pk=body["customer_id"])
    assert (customer.status, customer.registered_capital) == ("prospect", Decimal("5000000.00"))
    assert AuditEvent.objects.filter(action="prospect.register", customer_id=customer.pk).count() == 1


def test_a_lead_registers_into_a_units_pool_by_its_code(bank: Bank) -> None:
    # when
    response = _send(_as(bank.lead), "post", "/prospects", _body(to_pool=True, owning_unit="T1"))
    # then
    assert response.status_code == 201, response.content
    assert (response.json()["primary_rm"], response.json()["owning_unit"]) == (None, "T1")


def test_similar_names_answer_409_with_the_visible_ones_and_the_hidden_count(bank: Bank) -> None:
    # given a similar firm in alice's book and one in carol's (another branch), same region
    seen = make_customer(bank.alice, name="华兴精密仪器有限公司", region=HANGZHOU)
    make_customer(bank.carol, name="华兴精密仪器股份有限公司", region=HANGZHOU)
    alice = _as(bank.alice)
    # when
    response = _send(alice, "post", "/prospects", _body(name="杭州华兴精密仪器有限公司"))
    # then
    body = _error(response, 409, "similar")
    assert [c["customer_id"] for c in body["similar"]] == [seen.pk]
    assert body["similar"][0]["primary_rm"] == "alice"
    assert body["hidden"] == 1
    assert "name" in body["fields"]
    # and on purpose it registers
    again = _send(alice, "post", "/prospects", _body(name="杭州华兴精密仪器有限公司", allow_similar=True))
    assert again.status_code == 201, again.content


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"credit_code": "91330100MA27XXXXXI"}, "credit_code"),  # I is not in the alphabet
        ({"credit_code": None}, "credit_code"),
        ({"source": 13}, "source"),
        ({"source": Source.SUPPLY_CHAIN}, "referring_customer"),
        ({"referring_customer": 999999}, "referring_customer"),
        ({"status": "customer"}, "status"),
        ({"primary_rm": "bob"}, "primary_rm"),
        ({"co_rms": ["dave"]}, "co_rms"),
        ({"registered_capital": 5000000.5}, "registered_capital"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_answers_422_naming_the_field(bank: Bank, changes: dict[str, Any], field: str) -> None:
    # when
    response = _send(_as(bank.alice), "post", "/prospects", {**_body(), **changes})
    # then
    body = _error(response, 422, "invalid")
    assert field in body["fields"], body
    assert not Customer.objects.exists()


def test_a_credit_code_already_on_file_is_named(bank: Bank, mine: Prospect) -> None:
    # when
    response = _send(_as(bank.alice), "post", "/prospects", _body(credit_code=mine.customer.credit_code))
    # then
    body = _error(response, 422, "invalid")
    assert mine.customer.name in body["fields"]["credit_code"][0]


def test_a_referring_customer_out_of_view_is_not_named(bank: Bank) -> None:
    # given carol's customer, out of alice's view
    other = make_customer(bank.carol)
    # when
    response = _send(
        _as(bank.alice), "post", "/prospects", _body(source=Source.SUPPLY_CHAIN, referring_customer=other.pk)
    )
    # then
    body = _error(response, 422, "invalid")
    assert list(body["fields"]) == ["referring_customer"]
    assert other.name not in body["message"] + str(body["fields"])


# --- the pool and claims --------------------------------------------------------------------------------------------


def test_the_pool_lists_what_the_rm_may_claim(bank: Bank, pooled: Prospect) -> None:
    # when
    alice = _send(_as(bank.alice), "get", "/pool").json()
    carol = _send(_as(bank.carol), "get", "/pool").json()
    # then
    assert [p["customer_id"] for p in alice["items"]] == [pooled.customer_id]
    assert alice["items"][0]["pending_claim_by"] is None
    assert carol["items"] == []


def test_a_role_without_a_pool_gets_404(bank: Bank) -> None:
    _error(_send(_as(bank.auditor), "get", "/pool"), 404, "not_found")


def test_an_rm_claims_and_the_second_claimer_is_told_who_was_faster(bank: Bank, pooled: Prospect) -> None:
    # when
    first = _send(_as(bank.alice), "post", f"/prospects/{pooled.customer_id}/claim", {"version": pooled.version})
    second = _send(_as(bank.dave), "post", f"/prospects/{pooled.customer_id}/claim")  # the body is optional
    # then
    assert first.status_code == 201, first.content
    assert (first.json()["status"], first.json()["rm"]) == ("approved", "alice")
    body = _error(second, 409, "conflict")
    assert bank.alice.display_name in body["message"]
    assert Customer.objects.get(pk=pooled.customer_id).primary_rm == bank.alice


def test_a_pool_of_another_branch_is_not_found(bank: Bank, pooled: Prospect) -> None:
    # when
    response = _send(_as(bank.carol), "post", f"/prospects/{pooled.customer_id}/claim", {})
    # then
    _error(response, 404, "not_found")
    _error(_send(_as(bank.carol), "post", "/prospects/999999/claim", {}), 404, "not_found")


def test_a_stale_version_of_the_claimed_prospect_answers_409(bank: Bank, pooled: Prospect) -> None:
    response = _send(_as(bank.alice), "post", f"/prospects/{pooled.customer_id}/claim", {"version": 99})
    _error(response, 409, "conflict")


def test_a_claim_awaits_the_team_lead_who_approves_it(bank: Bank, pooled: Prospect) -> None:
    # given claims need approval in team 1
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    lead = _as(bank.lead)
    # when
    claimed = _send(_as(bank.alice), "post", f"/prospects/{pooled.customer_id}/claim", {})
    # then
    assert claimed.status_code == 201, claimed.content
    claim_id = claimed.json()["id"]
    assert claimed.json()["status"] == "pending"
    assert _send(_as(bank.alice), "get", "/pool").json()["items"][0]["pending_claim_by"] == "alice"
    assert [c["id"] for c in _send(lead, "get", "/claims").json()["items"]] == [claim_id]
    assert _send(_as(bank.carol), "get", "/claims").json()["items"] == []
    # and the second applicant is told who applied first
    body = _error(_send(_as(bank.dave), "post", f"/prospects/{pooled.customer_id}/claim", {}), 409, "conflict")
    assert bank.alice.display_name in body["message"]
    # when the lead approves
    approved = _send(lead, "post", f"/claims/{claim_id}/approve", {"note": "好"})
    # then
    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "lead")
    assert Customer.objects.get(pk=pooled.customer_id).primary_rm == bank.alice


def test_a_rejection_needs_a_note_and_only_a_lead_over_the_pool_decides(bank: Bank, pooled: Prospect) -> None:
    # given
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    claim_id = _send(_as(bank.alice), "post", f"/prospects/{pooled.customer_id}/claim", {}).json()["id"]
    lead = _as(bank.lead)
    # then
    assert "note" in _error(_send(lead, "post", f"/claims/{claim_id}/reject"), 422, "invalid")["fields"]
    assert "note" in _error(_send(lead, "post", f"/claims/{claim_id}/reject", {"note": " "}), 422, "invalid")["fields"]
    _error(_send(_as(bank.alice), "post", f"/claims/{claim_id}/approve", {}), 404, "not_found")
    _error(_send(_as(bank.carol), "post", f"/claims/{claim_id}/withdraw"), 404, "not_found")
    # when
    rejected = _send(lead, "post", f"/claims/{claim_id}/reject", {"note": "已有客户经理在跟进"})
    # then
    assert (rejected.status_code, rejected.json()["status"]) == (200, "rejected")
    assert "claim" in _error(_send(lead, "post", f"/claims/{claim_id}/approve", {}), 422, "invalid")["fields"]


def test_an_rm_withdraws_their_own_pending_claim(bank: Bank, pooled: Prospect) -> None:
    # given
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    alice = _as(bank.alice)
    claim_id = _send(alice, "post", f"/prospects/{pooled.customer_id}/claim", {}).json()["id"]
    # when
    response = _send(alice, "post", f"/claims/{claim_id}/withdraw")
    # then
    assert (response.status_code, response.json()["status"]) == (200, "withdrawn")
    assert Claim.objects.get(pk=claim_id).status == ClaimStatus.WITHDRAWN


def test_an_rm_gives_a_prospect_back_to_the_pool_saying_why(bank: Bank, mine: Prospect) -> None:
    # given
    alice = _as(bank.alice)
    path = f"/prospects/{mine.customer_id}/release"
    # then
    assert "reason" in _error(_send(alice, "post", path, {}), 422, "invalid")["fields"]
    assert "reason" in _error(_send(alice, "post", path, {"reason": "  "}), 422, "invalid")["fields"]
    _error(_send(_as(bank.carol), "post", path, {"reason": "不跟了"}), 404, "not_found")
    # when
    response = _send(alice, "post", path, {"reason": "企业已迁出杭州"})
    # then
    assert (response.status_code, response.json()["primary_rm"]) == (200, None)


def test_a_lead_assigns_a_pool_prospect_to_an_rm(bank: Bank, pooled: Prospect) -> None:
    # given
    path = f"/prospects/{pooled.customer_id}/assign"
    # then
    assert "rm" in _error(_send(_as(bank.lead), "post", path, {"rm": "nobody"}), 422, "invalid")["fields"]
    assert "rm" in _error(_send(_as(bank.lead), "post", path, {"rm": "carol"}), 422, "invalid")["fields"]
    _error(_send(_as(bank.alice), "post", path, {"rm": "alice"}), 404, "not_found")
    # when
    response = _send(_as(bank.lead), "post", path, {"rm": "dave", "version": pooled.version})
    # then
    assert response.status_code == 200, response.content
    assert response.json()["primary_rm"] == "dave"
    assert response.json()["contact_due"] is not None


# --- the pipeline ---------------------------------------------------------------------------------------------------


def test_an_rm_moves_a_prospect_forward(bank: Bank, mine: Prospect) -> None:
    # when
    response = _send(
        _as(bank.alice), "post", f"/prospects/{mine.customer_id}/stage",
        {"to_stage": "visited", "version": mine.version, "note": "见了财务总监"},
    )  # fmt: skip
    # then
    assert response.status_code == 200, response.content
    assert (response.json()["stage"], response.json()["version"]) == ("visited", mine.version + 1)
    detail = _send(_as(bank.alice), "get", f"/prospects/{mine.customer_id}").json()
    assert detail["stage_changes"][-1]["note"] == "见了财务总监"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"to_stage": "won"}, "won_evidence"),
        ({"to_stage": "dropped"}, "drop_reason"),
        ({"to_stage": "dropped", "drop_reason": "   "}, "drop_reason"),
        ({"to_stage": "somewhere"}, "to_stage"),
        ({"to_stage": "won", "won_evidence": "x" * 101}, "won_evidence"),
        ({"version": None}, "version"),
    ],
)
def test_a_move_without_what_it_needs_answers_422(
    bank: Bank, mine: Prospect, changes: dict[str, Any], field: str
) -> None:
    # when
    body = {"version": mine.version, **changes}
    response = _send(_as(bank.alice), "post", f"/prospects/{mine.customer_id}/stage", body)
    # then
    assert field in _error(response, 422, "invalid")["fields"]


def test_a_won_prospect_becomes_a_customer(bank: Bank, mine: Prospect) -> None:
    # when
    response = _send(
        _as(bank.alice), "post", f"/prospects/{mine.customer_id}/stage",
        {"to_stage": "won", "version": mine.version, "won_evidence": "账号 1202 0000 1234"},
    )  # fmt: skip
    # then
    assert response.status_code == 200, response.content
    assert Customer.objects.get(pk=mine.customer_id).status == "customer"


def test_a_stale_move_answers_409_and_another_branch_404(bank: Bank, mine: Prospect) -> None:
    path = f"/prospects/{mine.customer_id}/stage"
    _error(_send(_as(bank.alice), "post", path, {"to_stage": "contacted", "version": 99}), 409, "conflict")
    _error(_send(_as(bank.carol), "post", path, {"to_stage": "contacted", "version": mine.version}), 404, "not_found")


# --- the target score -----------------------------------------------------------------------------------------------


def test_the_score_explains_itself_item_by_item(bank: Bank) -> None:
    # given a prospect with an internal credit rating on file
    prospect = new_prospect(bank.alice, credit_rating="AA")
    # when
    response = _send(_as(bank.alice), "get", f"/prospects/{prospect.customer_id}/score")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert isinstance(body["total"], str) and isinstance(body["threshold"], str)
    assert body["suggested_status"] in ("prospect", "target")
    items = {item["characteristic"]: item for item in body["items"]}
    assert sorted(items) == list(range(1, 15))
    assert (items[3]["origin"], items[3]["rating"]) == ("data", 4)
    assert "AA" in items[3]["reason"]
    assert isinstance(items[3]["points"], str) and isinstance(items[3]["weight"], str)
    assert items[2]["rating"] is None


def test_the_score_of_another_branchs_prospect_is_not_found(bank: Bank, mine: Prospect) -> None:
    _error(_send(_as(bank.carol), "get", f"/prospects/{mine.customer_id}/score"), 404, "not_found")


def test_an_rm_rates_an_item_with_a_reason(bank: Bank, mine: Prospect) -> None:
    # when
    response = _send(
        _as(bank.alice), "put", f"/prospects/{mine.customer_id}/ratings/2", {"rating": 4, "reason": "细分龙头"}
    )
    # then
    assert response.status_code == 200, response.content
    item = next(i for i in response.json()["items"] if i["characteristic"] == 2)
    assert (item["rating"], item["origin"], item["reason"], item["rated_by"]) == (4, "rm", "细分龙头", "alice")
    assert Decimal(response.json()["total"]) > 0
    assert AuditEvent.objects.filter(action="prospect.rate", customer_id=mine.customer_id).exists()


@pytest.mark.parametrize(
    ("path_item", "body", "field"),
    [
        (2, {"rating": 6, "reason": "很好"}, "rating"),
        (2, {"rating": -1, "reason": "很好"}, "rating"),
        (2, {"rating": "4.5", "reason": "很好"}, "rating"),
        (2, {"rating": 3, "reason": ""}, "reason"),
        (2, {"rating": 3}, "reason"),
        (15, {"rating": 3, "reason": "很好"}, "characteristic"),
    ],
)
def test_a_rating_out_of_range_answers_422_naming_the_field(
    bank: Bank, mine: Prospect, path_item: int, body: dict[str, Any], field: str
) -> None:
    response = _send(_as(bank.alice), "put", f"/prospects/{mine.customer_id}/ratings/{path_item}", body)
    assert field in _error(response, 422, "invalid")["fields"]


def test_rating_another_branchs_prospect_is_not_found(bank: Bank, mine: Prospect) -> None:
    response = _send(_as(bank.carol), "put", f"/prospects/{mine.customer_id}/ratings/2", {"rating": 1, "reason": "差"})
    _error(response, 404, "not_found")


def test_the_suggested_status_is_applied(bank: Bank, mine: Prospect) -> None:
    # given a threshold every score meets
    Scorecard.objects.update(threshold=Decimal(0))
    # when
    response = _send(_as(bank.alice), "post", f"/prospects/{mine.customer_id}/apply-suggested-status")
    # then
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["suggested_status"]) == ("target", "target")
    assert Customer.objects.get(pk=mine.customer_id).status == "target"
    _error(_send(_as(bank.carol), "post", f"/prospects/{mine.customer_id}/apply-suggested-status"), 404, "not_found")


# --- suggestions ----------------------------------------------------------------------------------------------------


@pytest.fixture
def supplier(bank: Bank) -> tuple[Customer, str]:
    """A customer of alice's with a major supplier that is no customer yet; the supplier's credit code."""
    customer = make_customer(bank.alice, name="华兴科技有限公司", tier="core")
    code = credit_code()
    link(customer, "supply_chain", "inward", "杭州恒瑞材料有限公司", code, amount=Decimal("32000000.00"))
    return customer, code


def test_suggestions_are_ranked_with_their_links_explained(bank: Bank, supplier: tuple[Customer, str]) -> None:
    # when
    response = _send(_as(bank.alice), "get", "/suggestions")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["next_offset"] is None
    [suggestion] = body["items"]
    assert (suggestion["name"], suggestion["credit_code"], suggestion["source"]) == (
        "杭州恒瑞材料有限公司", supplier[1], 10,
    )  # fmt: skip
    assert suggestion["links"][0]["customer_id"] == supplier[0].pk
    assert suggestion["links"][0]["amount"] == "32000000.00"
    assert "华兴科技有限公司" in suggestion["explanation"]
    assert _send(_as(bank.carol), "get", "/suggestions").json()["items"] == []
    assert "limit" in _error(_send(_as(bank.alice), "get", "/suggestions?limit=0"), 422, "invalid")["fields"]


def test_accepting_a_suggestion_registers_the_firm(bank: Bank, supplier: tuple[Customer, str]) -> None:
    # given
    relationship_id = supplier[0].relationships.get().pk
    # when
    response = _send(
        _as(bank.alice), "post", "/suggestions/accept", {"relationship_id": relationship_id, "claim": True}
    )
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["source"], body["primary_rm"]) == ("杭州恒瑞材料有限公司", 10, "alice")
    assert _send(_as(bank.alice), "get", "/suggestions").json()["items"] == []


def test_accepting_needs_a_valid_credit_code_and_a_relationship_in_scope(bank: Bank) -> None:
    # given a link that records no code, and one of carol's
    customer = make_customer(bank.alice)
    nameless = link(customer, "guarantee", "inward", "杭州担保有限公司")
    theirs = link(make_customer(bank.carol), "supply_chain", "inward", "宁波某某有限公司", credit_code())
    alice = _as(bank.alice)
    # then
    missing = _send(alice, "post", "/suggestions/accept", {"relationship_id": nameless.pk})
    assert "credit_code" in _error(missing, 422, "invalid")["fields"]
    bad = _send(alice, "post", "/suggestions/accept", {"relationship_id": nameless.pk, "credit_code": "123"})
    assert "credit_code" in _error(bad, 422, "invalid")["fields"]
    _error(_send(alice, "post", "/suggestions/accept", {"relationship_id": theirs.pk}), 404, "not_found")


def test_a_dismissed_suggestion_is_gone_until_restored(bank: Bank, supplier: tuple[Customer, str]) -> None:
    # given
    alice = _as(bank.alice)
    firm = {"credit_code": supplier[1], "name": "杭州恒瑞材料有限公司"}
    # when
    dismissed = _send(alice, "post", "/suggestions/dismiss", firm)
    # then
    assert (dismissed.status_code, dismissed.json()["firm"]) == (200, supplier[1])
    assert _send(alice, "get", "/suggestions").json()["items"] == []
    assert "name" in _error(_send(alice, "post", "/suggestions/dismiss", {}), 422, "invalid")["fields"]
    # when
    restored = _send(alice, "post", "/suggestions/restore", firm)
    # then
    assert restored.status_code == 204
    assert len(_send(alice, "get", "/suggestions").json()["items"]) == 1


# --- the scorecard --------------------------------------------------------------------------------------------------


def test_everyone_reads_the_scorecard(bank: Bank) -> None:
    # when
    response = _send(_as(bank.alice), "get", "/scorecard")
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert len(body["items"]) == 14 and isinstance(body["threshold"], str)
    assert body["may_edit"] is False
    assert {i["characteristic"] for i in body["items"] if i["data_item"]} == {1, 3, 5, 11, 12}


def _card(client: Client) -> dict[str, Any]:
    card = _send(client, "get", "/scorecard").json()
    return {
        "version": card["version"],
        "threshold": card["threshold"],
        "encouraged_industries": card["encouraged_industries"],
        "promising_regions": card["promising_regions"],
    }


def test_head_office_changes_the_scorecard(bank: Bank) -> None:
    # given
    editor = _as(_head_office_head(bank))
    card = _card(editor)
    # when
    response = _send(
        editor, "put", "/scorecard",
        {**card, "threshold": "65.5", "weights": {"2": "12.50"}, "max_ratings": {"2": 10},
         "encouraged_industries": ["39"], "promising_regions": ["33"]},
    )  # fmt: skip
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["version"], body["threshold"], body["may_edit"]) == (card["version"] + 1, "65.50", True)
    item = next(i for i in body["items"] if i["characteristic"] == 2)
    assert (item["weight"], item["max_rating"]) == ("12.50", 10)
    assert (body["encouraged_industries"], body["promising_regions"]) == (["39"], ["33"])
    assert AuditEvent.objects.filter(action="scorecard.update").count() == 1


@pytest.mark.parametrize("who", ["alice", "lead", "head", "risk"])
def test_only_head_office_changes_the_scorecard(bank: Bank, who: str) -> None:
    # given
    client = _as(getattr(bank, who))
    # when
    response = _send(client, "put", "/scorecard", {**_card(client), "threshold": "50"})
    # then
    _error(response, 403, "forbidden")
    assert Scorecard.objects.get().threshold == Decimal(60)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"weights": {str(c): "0" for c in range(1, 15)}}, "weights"),
        ({"weights": {"2": "-1"}}, "weights"),
        ({"weights": {"2": "abc"}}, "weights"),
        ({"weights": {"2": 12.5}}, "weights.2"),
        ({"weights": {"99": "1"}}, "weights"),
        ({"max_ratings": {"2": 11}}, "max_ratings"),
        ({"threshold": "100.01"}, "threshold"),
        ({"threshold": "sixty"}, "threshold"),
        ({"encouraged_industries": ["00"]}, "encouraged_industries"),
        ({"promising_regions": ["99"]}, "promising_regions"),
        ({"version": None}, "version"),
    ],
)
def test_bad_scorecard_settings_answer_422_naming_the_field(bank: Bank, changes: dict[str, Any], field: str) -> None:
    # given
    editor = _as(_head_office_head(bank))
    # when
    response = _send(editor, "put", "/scorecard", {**_card(editor), **changes})
    # then
    assert field in _error(response, 422, "invalid")["fields"]
    assert Scorecard.objects.get().version == 1


def test_the_weights_summing_to_zero_say_so(bank: Bank) -> None:
    editor = _as(_head_office_head(bank))
    body = {**_card(editor), "weights": {str(c): "0.00" for c in range(1, 15)}}
    message = _error(_send(editor, "put", "/scorecard", body), 422, "invalid")["fields"]["weights"][0]
    assert "零" in message or "zero" in message


def test_a_stale_scorecard_answers_409(bank: Bank) -> None:
    editor = _as(_head_office_head(bank))
    _error(_send(editor, "put", "/scorecard", {**_card(editor), "version": 7, "threshold": "50"}), 409, "conflict")


# --- merging --------------------------------------------------------------------------------------------------------


def test_an_rm_merges_two_files_of_one_firm(bank: Bank, mine: Prospect) -> None:
    # given
    duplicate = new_prospect(bank.alice)
    # when
    response = _send(
        _as(bank.alice), "post", f"/prospects/{mine.customer_id}/merge",
        {"merge_id": duplicate.customer_id, "reason": "同一企业录入两次"},
    )  # fmt: skip
    # then
    assert response.status_code == 200, response.content
    assert response.json()["customer_id"] == mine.customer_id
    assert Customer.objects.get(pk=duplicate.customer_id).archived_at is not None
    assert AuditEvent.objects.filter(action="prospect.merge", customer_id=mine.customer_id).exists()


def test_a_merge_needs_a_reason_and_both_files_in_scope(bank: Bank, mine: Prospect) -> None:
    # given
    theirs = new_prospect(bank.carol)
    alice = _as(bank.alice)
    path = f"/prospects/{mine.customer_id}/merge"
    # then
    assert "reason" in _error(_send(alice, "post", path, {"merge_id": theirs.customer_id}), 422, "invalid")["fields"]
    _error(_send(alice, "post", path, {"merge_id": theirs.customer_id, "reason": "重复"}), 404, "not_found")
    _error(_send(alice, "post", path, {"merge_id": 999999, "reason": "重复"}), 404, "not_found")
    same = _send(alice, "post", path, {"merge_id": mine.customer_id, "reason": "重复"})
    assert "merge_id" in _error(same, 422, "invalid")["fields"]
    assert Customer.objects.get(pk=theirs.customer_id).archived_at is None
