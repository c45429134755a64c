"""The one-page visit report for the team lead: what it holds, print styling (A4, no navigation), confidential notes
only for those who may read them, login and scope, both languages."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

from rmdesk.customers.models import Customer
from rmdesk.tasks.models import Task
from rmdesk.visits.models import FollowUp, OtherBankCredit, ProductPresented, Proposal, Visit
from tests.personas import Bank, make_customer
from tests.visits.factories import make_key_person, make_visit


def login(client: Client, user: Any, language: str = "en") -> Client:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


@pytest.fixture
def recorded(bank: Bank) -> Visit:
    """A recorded visit of alice's customer with every part of a record filled in."""
    customer: Customer = make_customer(bank.alice, name="华兴科技有限公司")
    person = make_key_person(customer, name="王芳", preferences="重数据，喜欢书面方案")
    visit = make_visit(
        bank.alice,
        customer,
        status="done",
        purpose="needs",
        purpose_detail="年度授信",
        place="客户总部",
        goals_short="年内新增产线",
        goals_long="三年内上市",
        need_tags=["working_capital"],
        needs_detail="旺季缺口三千万",
        operations="订单饱满",
        product_reaction="对现金管理有兴趣",
        self_check=["attentive", "dress"],
        self_check_note="下次提前发材料",
        notes="气氛良好",
        confidential_notes="董事长有意更换主办行",
    )
    visit.customer_attendees.add(person)
    OtherBankCredit.objects.create(
        visit=visit, bank_name="工商银行", amount=Decimal("30000000"), satisfaction="dissatisfied"
    )
    Proposal.objects.create(
        visit=visit, position=1, content="三千万流贷", response="countered", counter_offer="下浮20BP"
    )
    ProductPresented.objects.create(visit=visit, position=1, product="现金管理", interest="high")
    ProductPresented.objects.create(visit=visit, position=2, product="票据池", interest="medium")
    task = Task.objects.create(title="报送方案", owner=bank.alice, customer=customer, due_date=visit.visited_on)
    FollowUp.objects.create(visit=visit, kind="task", description="报送方案", task=task, created_by=bank.alice)
    return visit


def test_the_report_holds_the_whole_visit_on_one_printable_page(client: Client, bank: Bank, recorded: Visit) -> None:
    # when
    response = login(client, bank.alice).get(reverse("visits:report", args=[recorded.pk]))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "华兴科技有限公司",
        "Explore needs: 年度授信",
        "客户总部",
        "Alice",
        "王芳 (Finance head)",
        "年内新增产线",
        "三年内上市",
        "Working capital loan",
        "旺季缺口三千万",
        "订单饱满",
        "对现金管理有兴趣",
        "工商银行",
        "30,000,000.00",
        "三千万流贷 — Counter-offer: 下浮20BP",
        "现金管理 — High",
        "票据池 — Some",
        "报送方案 — Alice",
        "✓ Attentive while talking",
        "○ Used honorifics",
        "下次提前发材料",
        "气氛良好",
        "董事长有意更换主办行",
    ):
        assert text in html, text
    assert 'class="page-header' not in html  # the report has no page header
    assert "visits/visits.css" in html and "visits/print.js" in html


def test_the_print_style_is_an_a4_page_without_the_navigation() -> None:
    path = finders.find("visits/visits.css")
    assert path is not None
    css = Path(str(path)).read_text()
    assert "@page { size: A4;" in css
    assert ".navbar, .page-header, #messages, .d-print-none { display: none !important; }" in css


@pytest.mark.parametrize(
    "persona, reads", [("alice", True), ("lead", True), ("head", False), ("risk", False), ("auditor", False)]
)
def test_the_reports_confidential_notes_are_for_the_rms_and_their_leads_only(
    client: Client, bank: Bank, recorded: Visit, persona: str, reads: bool
) -> None:
    html = login(client, getattr(bank, persona)).get(reverse("visits:report", args=[recorded.pk])).content.decode()
    assert ("董事长有意更换主办行" in html) is reads
    assert ("Confidential notes exist. Only Alice and their team leads may read them." in html) is not reads


def test_the_report_needs_a_login_and_is_404_out_of_scope(client: Client, bank: Bank, recorded: Visit) -> None:
    url = reverse("visits:report", args=[recorded.pk])
    assert client.get(url)["Location"].startswith(reverse("login"))
    assert login(client, bank.carol).get(url).status_code == 404
    assert login(client, bank.bob).get(url).status_code == 404


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_report_renders_in_both_languages(client: Client, bank: Bank, recorded: Visit, language: str) -> None:
    response = login(client, bank.lead, language).get(reverse("visits:report", args=[recorded.pk]))
    assert response.status_code == 200
    assert f'<html lang="{language}">' in response.content.decode()


def test_a_planned_visits_report_shows_the_plan_only(client: Client, bank: Bank) -> None:
    visit = make_visit(bank.alice, make_customer(bank.alice), purpose="first_contact")
    html = login(client, bank.alice).get(reverse("visits:report", args=[visit.pk])).content.decode()
    assert "First contact" in html and "What the customer needs" not in html
