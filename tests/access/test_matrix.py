"""The access matrix: persona × relation of the customer to the persona × channel → allowed, or 404.

Every channel answers an object outside scope with 404 (never 403), and a denied write or reveal leaves
nothing behind: not the change, not an audit event.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import NoReverseMatch, reverse
from openpyxl import load_workbook

from rmdesk.audit.models import AuditEvent
from rmdesk.customers.exports import export_view
from rmdesk.customers.models import Customer, KeyPerson
from rmdesk.org.models import User
from tests.personas import Bank, make_customer

# --- the customers, placed around the personas --------------------------------------------------------------

# key: (primary RM, co-RMs). Alice and dave are team 1, bob team 2 (both branch 1), carol team 3 (branch 2).
PLACEMENTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "alice_own": ("alice", ()),
    "bob_own_alice_co_rm": ("bob", ("alice",)),
    "dave_own": ("dave", ()),
    "bob_own": ("bob", ()),
    "carol_own": ("carol", ()),
    "bob_own_dave_co_rm": ("bob", ("dave",)),
    "carol_own_bob_co_rm": ("carol", ("bob",)),
}


@dataclass
class Placed:
    customer: Customer
    key_person: KeyPerson
    phone: str


@pytest.fixture
def placed(bank: Bank) -> dict[str, Placed]:
    """Every customer of PLACEMENTS, each with a key person whose phone only a reveal shows."""
    result: dict[str, Placed] = {}
    for n, (key, (primary, co_rms)) in enumerate(PLACEMENTS.items()):
        customer = make_customer(getattr(bank, primary), co_rms=tuple(getattr(bank, u) for u in co_rms))
        phone = f"1391234560{n}"
        person = KeyPerson.objects.create(customer=customer, role="finance_head", name=f"联系人{n}", phone=phone)
        result[key] = Placed(customer=customer, key_person=person, phone=phone)
    return result


# --- the matrix -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    persona: str
    relation: str  # how the customer stands to the persona
    customer: str  # key in PLACEMENTS
    view: bool
    change: bool
    reveal: bool

    @property
    def id(self) -> str:
        return f"{self.persona}-{self.relation}"


Y, N = True, False

MATRIX = [
    # RM alice (team 1, branch 1): her own book and where she is co-RM, nothing else.
    Case("alice", "own", "alice_own", Y, Y, Y),
    Case("alice", "co_rm", "bob_own_alice_co_rm", Y, Y, Y),
    Case("alice", "same_team", "dave_own", N, N, N),
    Case("alice", "same_branch", "bob_own", N, N, N),
    Case("alice", "other_branch", "carol_own", N, N, N),
    # Team lead of team 1: the team's customers, and customers elsewhere where one of the team is co-RM.
    Case("lead", "same_team", "dave_own", Y, Y, Y),
    Case("lead", "team_member_is_co_rm", "bob_own_dave_co_rm", Y, Y, Y),
    Case("lead", "same_branch", "bob_own", N, N, N),
    Case("lead", "other_branch", "carol_own", N, N, N),
    # Branch head of branch 1: the branch subtree's customers, and those where one of the branch is co-RM.
    Case("head", "same_team", "dave_own", Y, Y, Y),
    Case("head", "same_branch", "bob_own", Y, Y, Y),
    Case("head", "branch_member_is_co_rm", "carol_own_bob_co_rm", Y, Y, Y),
    Case("head", "other_branch", "carol_own", N, N, N),
    # Risk officers read everything and may reveal; they never write.
    Case("risk", "branch1_team1", "dave_own", Y, N, Y),
    Case("risk", "branch1_team2", "bob_own", Y, N, Y),
    Case("risk", "branch2", "carol_own", Y, N, Y),
    # Auditors read everything but neither write nor reveal.
    Case("auditor", "branch1_team1", "dave_own", Y, N, N),
    Case("auditor", "branch1_team2", "bob_own", Y, N, N),
    Case("auditor", "branch2", "carol_own", Y, N, N),
    # Department officers (until the service desk) and administrators see no customer data at all.
    Case("officer", "branch1_team1", "dave_own", N, N, N),
    Case("officer", "branch1_team2", "bob_own", N, N, N),
    Case("officer", "branch2", "carol_own", N, N, N),
    Case("admin", "branch1_team1", "dave_own", N, N, N),
    Case("admin", "branch1_team2", "bob_own", N, N, N),
    Case("admin", "branch2", "carol_own", N, N, N),
]
CASES = [pytest.param(case, id=case.id) for case in MATRIX]

# Roles without the export action are refused the export itself; the others get a workbook of their scope.
NO_EXPORT = {"officer", "admin"}

SUB_RESOURCES = ["key-persons", "relationships", "financial-statements"]


# --- helpers ------------------------------------------------------------------------------------------------------

def _login(client: Client, bank: Bank, persona: str) -> User:
    user: User = getattr(bank, persona)
    client.force_login(user)
    return user


def _assert_not_found(response: Any) -> None:
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"code", "message", "fields"}
    assert body["code"] == "not_found"
    assert body["fields"] == {}
    assert isinstance(body["message"], str) and body["message"]


def _export(client: Client, user: User) -> tuple[int, bytes]:
    """GET the export through its URL, or through the view itself while the UI has not wired the URL yet."""
    try:
        url = reverse("customers:export")
    except NoReverseMatch:
        request = RequestFactory().get("/customers/export")
        request.user = user
        try:
            view_response = export_view(request)
        except Http404:
            return 404, b""
        return view_response.status_code, _body(view_response)
    response = client.get(url)
    return response.status_code, _body(response)


def _body(response: Any) -> bytes:
    """The response's bytes, whether it was streamed (the export is) or not."""
    return b"".join(response.streaming_content) if response.streaming else response.content


def _credit_codes_in(workbook_bytes: bytes) -> set[str]:
    sheet = load_workbook(io.BytesIO(workbook_bytes), read_only=True).worksheets[0]
    return {str(cell) for row in sheet.iter_rows(values_only=True) for cell in row if cell}


def _detail_url(customer_id: int) -> str | None:
    """The customer's HTML page, if the UI engineer has wired it."""
    try:
        return reverse("customers:detail", args=[customer_id])
    except (NoReverseMatch, ImportError):
        return None


# --- API list -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_api_list_holds_a_customer_exactly_when_it_is_in_scope(
    case: Case, bank: Bank, placed: dict[str, Placed], client: Client
) -> None:
    # given
    _login(client, bank, case.persona)
    customer = placed[case.customer].customer
    # when
    response = client.get("/api/v1/customers", {"limit": 200})
    # then
    assert response.status_code == 200
    ids = [item["id"] for item in response.json()["items"]]
    assert (customer.pk in ids) is case.view


@pytest.mark.parametrize("case", CASES)
def test_held_ids_answers_a_customer_exactly_when_it_is_in_scope(
    case: Case, bank: Bank, placed: dict[str, Placed]
) -> None:
    # given every placed customer's id, asked for at once, and one that does not exist
    persona: User = getattr(bank, case.persona)
    customer = placed[case.customer].customer
    everyone = [p.customer.pk for p in placed.values()]
    # when
    held = Customer.objects.restrict(persona, "view").held_ids([*everyone, max(everyone) + 1000])
    # then
    assert (customer.pk in held) is case.view
    assert held <= set(everyone)


def test_held_ids_of_no_ids_asks_nothing(bank: Bank, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        assert Customer.objects.restrict(bank.alice, "view").held_ids([]) == set()


# --- API detail -----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_api_detail_answers_200_in_scope_and_404_outside(
    case: Case, bank: Bank, placed: dict[str, Placed], client: Client
) -> None:
    # given
    _login(client, bank, case.persona)
    customer = placed[case.customer].customer
    # when
    response = client.get(f"/api/v1/customers/{customer.pk}")
    # then
    if case.view:
        assert response.status_code == 200
        assert response.json()["id"] == customer.pk
        assert response.json()["credit_code"] == customer.credit_code
    else:
        _assert_not_found(response)


# --- API write ------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_api_patch_changes_in_scope_and_answers_404_outside_changing_nothing(
    case: Case, bank: Bank, placed: dict[str, Placed], client: Client
) -> None:
    # given
    user = _login(client, bank, case.persona)
    customer = placed[case.customer].customer
    events_before = AuditEvent.objects.count()
    # when
    response = client.patch(f"/api/v1/customers/{customer.pk}", {"version": 1, "tier": "core"},
                            content_type="application/json")
    # then
    customer.refresh_from_db()
    if case.change:
        assert response.status_code == 200
        assert (response.json()["tier"], response.json()["version"]) == ("core", 2)
        assert (customer.tier, customer.version) == ("core", 2)
        new_events = list(AuditEvent.objects.order_by("seq")[events_before:])
        assert [(e.action, e.actor_id, e.customer_id, e.changes) for e in new_events] == [
            ("customer.update", user.pk, customer.pk, {"tier": ["general", "core"]})
        ]
    else:
        _assert_not_found(response)
        assert (customer.tier, customer.version) == ("general", 1)
        assert AuditEvent.objects.count() == events_before


# --- API sub-resources ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sub", SUB_RESOURCES)
@pytest.mark.parametrize("case", CASES)
def test_api_sub_resources_answer_200_in_scope_and_404_outside(
    case: Case, sub: str, bank: Bank, placed: dict[str, Placed], client: Client
) -> None:
    # given
    _login(client, bank, case.persona)
    customer = placed[case.customer].customer
    # when
    response = client.get(f"/api/v1/customers/{customer.pk}/{sub}")
    # then
    if case.view:
        assert response.status_code == 200
        expected_ids = [placed[case.customer].key_person.pk] if sub == "key-persons" else []
        assert [row["id"] for row in response.json()] == expected_ids
    else:
        _assert_not_found(response)


# --- export ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_export_holds_a_customer_exactly_when_it_is_in_scope(
    case: Case, bank: Bank, placed: dict[str, Placed], client: Client
) -> None:
    # given
    user = _login(client, bank, case.persona)
    customer = placed[case.customer].customer
    # when
    status, content = _export(client, user)
    # then
    if case.persona in NO_EXPORT:
        assert status == 404
        assert not AuditEvent.objects.filter(action="customer.export").exists()
        return
    assert status == 200
    codes = _credit_codes_in(content)
    assert (customer.credit_code in codes) is case.view
    assert AuditEvent.objects.filter(action="customer.export", actor_id=user.pk).count() == 1


# --- reveal ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_reveal_shows_the_phone_in_scope_with_one_audit_event_and_404_outside_with_none(
    case: Case, bank: Bank, placed: dict[str, Placed], client: Client
) -> None:
    # given
    user = _login(client, bank, case.persona)
    target = placed[case.customer]
    # when
    response = client.post(f"/api/v1/key-persons/{target.key_person.pk}/reveal", {"field": "phone"},
                           content_type="application/json")
    # then
    reveals = list(AuditEvent.objects.filter(action="key_person.reveal"))
    if case.reveal:
        assert response.status_code == 200
        assert response.json() == {"field": "phone", "value": target.phone}
        assert [(e.actor_id, e.object_id, e.customer_id, e.changes) for e in reveals] == [
            (user.pk, str(target.key_person.pk), target.customer.pk, {"field": "phone"})
        ]
    else:
        _assert_not_found(response)
        assert reveals == []


# --- HTML page and htmx partial -------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", CASES)
def test_the_customer_page_answers_200_in_scope_and_404_outside(
    case: Case, bank: Bank, placed: dict[str, Placed], client: Client
) -> None:
    # given
    _login(client, bank, case.persona)
    customer = placed[case.customer].customer
    url = _detail_url(customer.pk)
    assert url is not None, "customers:detail is not wired"
    # when
    response = client.get(url)
    # then
    if case.view:
        assert response.status_code == 200
        assert customer.credit_code in response.content.decode()
    else:
        assert response.status_code == 404
        assert customer.credit_code not in response.content.decode()


@pytest.mark.parametrize("case", CASES)
def test_the_customer_partial_answers_200_in_scope_and_404_outside(
    case: Case, bank: Bank, placed: dict[str, Placed], client: Client
) -> None:
    # given
    _login(client, bank, case.persona)
    customer = placed[case.customer].customer
    url = _detail_url(customer.pk)
    assert url is not None, "customers:detail is not wired"
    # when
    response = client.get(url, HTTP_HX_REQUEST="true")
    # then
    if case.view:
        assert response.status_code == 200
        assert "<html" not in response.content.decode().lower()
    else:
        assert response.status_code == 404
        assert customer.credit_code not in response.content.decode()
