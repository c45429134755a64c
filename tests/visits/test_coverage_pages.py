"""The coverage, cadence and occasion pages: login required, 404 out of scope (nothing changed), the allowed view."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rmdesk.audit.models import AuditEvent
from rmdesk.customers.models import Customer
from rmdesk.org.models import User
from rmdesk.tasks.models import Task
from rmdesk.visits.cadence import cadence_intervals
from rmdesk.visits.choices import VisitStatus
from rmdesk.visits.models import CustomerEvent
from tests.personas import Bank, make_customer, make_user
from tests.visits.factories import make_visit

HTMX = {"HTTP_HX_REQUEST": "true"}
TODAY = timezone.localdate()


def login(client: Client, user: Any, language: str = "en") -> Client:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def customers(bank: Bank) -> dict[str, Customer]:
    alices = make_customer(bank.alice, name="西湖电子有限公司", tier="core")
    make_visit(bank.alice, alices, status=VisitStatus.DONE, planned_start=timezone.now() - timedelta(days=3))
    return {
        "alices": alices,
        "daves": make_customer(bank.dave, name="灵隐茶业有限公司"),
        "bobs": make_customer(bank.bob, name="钱塘物流有限公司"),
        "carols": make_customer(bank.carol, name="宁波港务有限公司"),
    }


@pytest.fixture
def head_office_lead(bank: Bank) -> User:
    return make_user("ho_lead", "team_lead", bank.department)


def pages(customer_pk: int) -> list[str]:
    return [
        reverse("visits:coverage"),
        reverse("visits:cadence"),
        f"{reverse('visits:log_event')}?customer={customer_pk}",
        reverse("visits:events", args=[customer_pk]),
    ]


def test_the_pages_need_a_login(client: Client, customers: dict[str, Customer]) -> None:
    for url in pages(customers["alices"].pk):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["admin", "officer"])
def test_a_role_without_customer_access_gets_404(
    client: Client, bank: Bank, customers: dict[str, Customer], persona: str
) -> None:
    login(client, getattr(bank, persona))
    for url in pages(customers["alices"].pk):
        assert client.get(url).status_code == 404, url


# --- coverage ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_team_lead_sees_the_team_with_its_chart(
    client: Client, bank: Bank, customers: dict[str, Customer], language: str
) -> None:
    # when
    response = login(client, bank.lead, language).get(reverse("visits:coverage"))
    # then
    assert response.status_code == 200
    assert [row.rm_name for row in response.context["coverage"].rows] == ["Alice", "Dave"]
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert 'id="coverage-chart-data"' in html
    assert "visits/coverage.js" in html
    assert "<script>" not in html  # the CSP allows no inline script
    chart = response.context["chart"]
    assert chart["rms"] == ["Alice", "Dave"]
    assert chart["coverage"] == ["100.0", "0.0"]
    assert [series["data"][-1] + series["data"][-2] for series in chart["visits"]] == [1, 0]


def test_a_branch_head_sees_every_team(client: Client, bank: Bank, customers: dict[str, Customer]) -> None:
    response = login(client, bank.head).get(reverse("visits:coverage"))
    assert [row.rm_name for row in response.context["coverage"].rows] == ["Alice", "Bob", "Dave"]


@pytest.mark.parametrize("persona", ["risk", "auditor"])
def test_read_only_roles_choose_a_unit_first(
    client: Client, bank: Bank, customers: dict[str, Customer], persona: str
) -> None:
    # given
    login(client, getattr(bank, persona))
    # when
    first = client.get(reverse("visits:coverage"))
    chosen = client.get(reverse("visits:coverage"), {"unit": bank.branch1.pk})
    # then
    assert first.status_code == 200
    assert (first.context["choose_unit"], first.context["coverage"]) == (True, None)
    assert "Choose a branch or team" in first.content.decode()
    assert [row.rm_name for row in chosen.context["coverage"].rows] == ["Alice", "Bob", "Dave"]


def test_a_branch_head_narrows_the_view_to_a_team(client: Client, bank: Bank, customers: dict[str, Customer]) -> None:
    # when
    response = login(client, bank.head).get(reverse("visits:coverage"), {"unit": bank.team2.pk})
    # then
    assert [row.rm_name for row in response.context["coverage"].rows] == ["Bob"]
    units = [unit.code for unit in response.context["unit_filter"].fields["unit"].queryset]
    assert units == ["BR1", "SB1", "T1", "T2"]


def test_a_unit_outside_the_scope_is_refused(client: Client, bank: Bank, customers: dict[str, Customer]) -> None:
    # when the branch head of branch 1 asks for a team of branch 2
    response = login(client, bank.head).get(reverse("visits:coverage"), {"unit": bank.team3.pk})
    # then
    assert response.status_code == 200
    assert response.context["coverage"] is None
    assert response.context["unit_filter"].errors == {
        "unit": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert "宁波港务" not in response.content.decode()


def test_a_team_lead_has_nothing_to_narrow(client: Client, bank: Bank, customers: dict[str, Customer]) -> None:
    response = login(client, bank.lead).get(reverse("visits:coverage"), {"unit": bank.team3.pk})
    assert response.context["unit_filter"] is None
    assert [row.rm_name for row in response.context["coverage"].rows] == ["Alice", "Dave"]


def test_an_rm_sees_only_their_own_line(client: Client, bank: Bank, customers: dict[str, Customer]) -> None:
    # when
    response = login(client, bank.dave).get(reverse("visits:coverage"))
    # then
    assert response.status_code == 200
    assert [row.rm_name for row in response.context["coverage"].rows] == ["Dave"]
    assert "Alice" not in response.content.decode()


def test_an_empty_scope_says_so(client: Client, bank: Bank) -> None:
    response = login(client, bank.lead).get(reverse("visits:coverage"))
    assert response.status_code == 200
    assert response.context["chart"] is None
    assert "No customers to cover yet" in response.content.decode()


# --- the cadence ---------------------------------------------------------------------------------------------------


def test_everyone_with_customer_access_reads_the_cadence(client: Client, bank: Bank) -> None:
    # when
    response = login(client, bank.alice).get(reverse("visits:cadence"))
    # then
    assert response.status_code == 200
    assert response.context["form"] is None
    assert [(row["tier"], row["months"]) for row in response.context["rows"]] == [
        ("Strategic", 1),
        ("Core", 2),
        ("Key", 3),
        ("General", 6),
    ]


def test_head_office_changes_the_cadence_on_the_page(client: Client, bank: Bank, head_office_lead: User) -> None:
    # given
    login(client, head_office_lead)
    assert client.get(reverse("visits:cadence")).context["form"] is not None
    # when
    response = client.post(reverse("visits:cadence"), {"strategic": 1, "core": 3, "key": 3, "general": 12})
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("visits:cadence")
    assert cadence_intervals() == {"strategic": 1, "core": 3, "key": 3, "general": 12}
    assert AuditEvent.objects.get(action="visit.cadence_update").changes == {"core": [2, 3], "general": [6, 12]}


def test_bad_intervals_are_shown_beside_their_field(client: Client, bank: Bank, head_office_lead: User) -> None:
    # when
    response = login(client, head_office_lead).post(
        reverse("visits:cadence"), {"strategic": 0, "core": 3, "key": "", "general": 30}
    )
    # then
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors == {
        "strategic": ["Ensure this value is greater than or equal to 1."],
        "key": ["This field is required."],
        "general": ["Ensure this value is less than or equal to 24."],
    }
    assert cadence_intervals() == {"strategic": 1, "core": 2, "key": 3, "general": 6}


@pytest.mark.parametrize("persona", ["alice", "lead", "head", "risk"])
def test_only_head_office_may_post_the_cadence(client: Client, bank: Bank, persona: str) -> None:
    # when
    response = login(client, getattr(bank, persona)).post(
        reverse("visits:cadence"), {"strategic": 1, "core": 5, "key": 3, "general": 6}
    )
    # then
    assert response.status_code == 404
    assert cadence_intervals()["core"] == 2
    assert not AuditEvent.objects.filter(action="visit.cadence_update").exists()


# --- logging an occasion -------------------------------------------------------------------------------------------


def log_url(customer: Customer) -> str:
    return f"{reverse('visits:log_event')}?customer={customer.pk}"


def occasion(**change: Any) -> dict[str, Any]:
    return {"kind": "happy_event", "title": "新厂房奠基", "occurred_on": TODAY.isoformat(), **change}


def test_the_occasion_form_opens_for_a_customer_in_scope(
    client: Client, bank: Bank, customers: dict[str, Customer]
) -> None:
    response = login(client, bank.lead).get(log_url(customers["alices"]))
    assert response.status_code == 200
    assert response.context["customer"] == customers["alices"]
    assert response.context["form"]["occurred_on"].value() == timezone.localdate()  # not TODAY: read at import


def test_logging_an_occasion_proposes_a_visit_and_goes_back(
    client: Client, bank: Bank, customers: dict[str, Customer]
) -> None:
    # when
    response = login(client, bank.lead).post(log_url(customers["alices"]), occasion())
    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("customers:detail", args=[customers["alices"].pk])
    event = CustomerEvent.objects.get()
    assert (event.customer, event.kind, event.title, event.logged_by) == (
        customers["alices"],
        "happy_event",
        "新厂房奠基",
        bank.lead,
    )
    assert Task.objects.get(kind="visit_occasion").owner == bank.alice


@pytest.mark.parametrize(("persona", "customer"), [("alice", "carols"), ("bob", "alices"), ("auditor", "alices")])
def test_logging_out_of_scope_is_404_and_changes_nothing(
    client: Client, bank: Bank, customers: dict[str, Customer], persona: str, customer: str
) -> None:
    # given
    login(client, getattr(bank, persona))
    audit_before = AuditEvent.objects.count()
    # when
    opened = client.get(log_url(customers[customer]))
    posted = client.post(log_url(customers[customer]), occasion())
    # then
    assert (opened.status_code, posted.status_code) == (404, 404)
    assert not CustomerEvent.objects.exists()
    assert not Task.objects.exists()
    assert AuditEvent.objects.count() == audit_before


@pytest.mark.parametrize("query", ["", "?customer=", "?customer=abc", "?customer=999999"])
def test_logging_without_a_customer_is_404(client: Client, bank: Bank, query: str) -> None:
    assert login(client, bank.alice).get(reverse("visits:log_event") + query).status_code == 404


def test_bad_input_is_shown_beside_the_field(client: Client, bank: Bank, customers: dict[str, Customer]) -> None:
    # when
    response = login(client, bank.alice).post(
        log_url(customers["alices"]), occasion(title="", occurred_on=(TODAY + timedelta(days=400)).isoformat())
    )
    # then
    assert response.status_code == 200
    assert response.context["form"].errors == {"title": ["This field is required."]}
    # and a date too far ahead is the service's refusal, beside its field
    response = client.post(
        log_url(customers["alices"]), occasion(occurred_on=(TODAY + timedelta(days=400)).isoformat())
    )
    assert response.context["form"].errors == {"occurred_on": ["An occasion can be logged at most a year ahead."]}
    assert not CustomerEvent.objects.exists()


def test_a_customer_in_the_pool_is_refused_on_top(client: Client, bank: Bank) -> None:
    # given a prospect waiting in team 1's pool
    prospect = make_customer(bank.alice)
    Customer.objects.filter(pk=prospect.pk).update(status="prospect", primary_rm=None)
    # when
    response = login(client, bank.lead).post(log_url(prospect), occasion())
    # then
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "This customer waits in the pool with no RM: assign an RM first."
    ]
    assert not CustomerEvent.objects.exists()


# --- the customer's occasions (a 360 panel) ------------------------------------------------------------------------


def test_the_panel_lists_the_customers_occasions(client: Client, bank: Bank, customers: dict[str, Customer]) -> None:
    # given one occasion visited, one detected
    alices = customers["alices"]
    logged = CustomerEvent.objects.create(
        customer=alices, kind="new_need", title="新增结算需求", occurred_on=TODAY, logged_by=bank.alice
    )
    make_visit(bank.alice, alices, status=VisitStatus.DONE, event=logged)
    CustomerEvent.objects.create(
        customer=alices,
        kind="happy_event",
        title="成立 10 周年",
        occurred_on=TODAY + timedelta(days=5),
        origin="detected",
        detection_key="anniversary:2030",
    )
    CustomerEvent.objects.create(customer=customers["daves"], kind="new_need", title="戴夫的客户", occurred_on=TODAY)
    # when
    response = login(client, bank.alice).get(reverse("visits:events", args=[alices.pk]), **HTMX)
    # then
    assert response.status_code == 200
    assert [(e.title, e.visited) for e in response.context["events"]] == [
        ("成立 10 周年", False),
        ("新增结算需求", True),
    ]
    html = response.content.decode()
    assert "戴夫的客户" not in html
    assert "<html" not in html
    assert f"?customer={alices.pk}" in html  # alice may log one


def test_a_read_only_role_sees_the_panel_without_the_log_button(
    client: Client, bank: Bank, customers: dict[str, Customer]
) -> None:
    response = login(client, bank.auditor).get(reverse("visits:events", args=[customers["alices"].pk]))
    assert response.status_code == 200
    assert response.context["may_log"] is False
    assert reverse("visits:log_event") not in response.content.decode()


@pytest.mark.parametrize(("persona", "customer"), [("alice", "carols"), ("lead", "bobs"), ("dave", "alices")])
def test_the_panel_out_of_scope_is_404(
    client: Client, bank: Bank, customers: dict[str, Customer], persona: str, customer: str
) -> None:
    response = login(client, getattr(bank, persona)).get(reverse("visits:events", args=[customers[customer].pk]))
    assert response.status_code == 404


def test_the_charts_draw_the_ten_biggest_books_and_the_rest_as_one_line(client: Client, bank: Bank) -> None:
    # given twelve RMs in team 1, the first with twelve customers, the next with eleven, and so on
    for n in range(12):
        rm = make_user(f"rm{n:02d}", "rm", bank.team1)
        for _ in range(12 - n):
            customer = make_customer(rm)
            make_visit(rm, customer, status=VisitStatus.DONE, planned_start=timezone.now() - timedelta(days=1))
    # when
    response = login(client, bank.lead).get(reverse("visits:coverage"))
    # then
    chart = response.context["chart"]
    assert chart["rms"] == [f"Rm{n:02d}" for n in range(10)]
    assert [series["name"] for series in chart["visits"]][-1] == "2 other RMs"
    assert sum(chart["visits"][-1]["data"]) == 3  # rm10's two visits and rm11's one
    assert len(response.context["coverage"].rows) == 12
    assert "The charts show the 10 RMs with the most customers" in response.content.decode()
