"""One loan's page and the actions on it — a collection contact, a classification decision, a repayment entered by
operations — and the customer 360 page's loans panel: 404 out of scope (nothing changed), the allowed views and
actions, field errors beside the field."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from rmdesk.loans.choices import AccrualKind, Classification
from rmdesk.loans.models import AccrualSegment, LoanContract, Repayment
from rmdesk.org.models import User
from rmdesk.postloan.models import ClassificationDecision, CollectionLog
from rmdesk.web.templatetags.rmdesk_tags import money
from tests.personas import Bank
from tests.postloan.conftest import LiveBook


def login(client: Client, user: Any, language: str = "en") -> Client:
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def detail(loan: LoanContract) -> str:
    return reverse("postloan:detail", args=[loan.pk])


# --- the loan's page -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rm_sees_the_loan_with_its_schedule_and_the_penalty_to_the_fen(
    client: Client, bank: Bank, live: LiveBook, language: str
) -> None:
    # when
    response = login(client, bank.alice, language).get(detail(live.overdue))
    # then
    assert response.status_code == 200
    html = response.content.decode()
    loan = LoanContract.objects.get(pk=live.overdue.pk)
    segments = AccrualSegment.objects.filter(instalment__contract=loan)
    penalty = sum((s.amount for s in segments if s.kind == AccrualKind.PENALTY), Decimal("0.00"))
    compound = sum((s.amount for s in segments if s.kind == AccrualKind.COMPOUND), Decimal("0.00"))
    assert penalty + compound == loan.penalty_unpaid > 0
    assert f'id="penalty-unpaid">{money(loan.penalty_unpaid)}<' in html
    assert f'id="loan-penalty">{money(loan.penalty_unpaid)}<' in html
    assert money(penalty) in html and money(compound) in html
    assert html.count('class="instalment') == 12
    assert html.count('data-status="overdue"') == 2
    assert html.count('class="accrual"') == 4
    assert 'id="collection-form"' in html  # the RM works on the loan
    assert 'id="classify-form"' not in html  # only risk officers decide
    assert reverse("postloan:repayment", args=[loan.pk]) not in html


@pytest.mark.parametrize("persona", ["bob", "carol", "admin", "officer"])
def test_a_loan_out_of_scope_is_404(client: Client, bank: Bank, live: LiveBook, persona: str) -> None:
    assert login(client, getattr(bank, persona)).get(detail(live.overdue)).status_code == 404


def test_a_missing_loan_is_404(client: Client, bank: Bank, live: LiveBook) -> None:
    assert login(client, bank.risk).get(reverse("postloan:detail", args=[999999])).status_code == 404


def test_the_risk_officer_sees_the_decision_form_and_not_the_collection_form(
    client: Client, bank: Bank, live: LiveBook
) -> None:
    html = login(client, bank.risk).get(detail(live.overdue)).content.decode()
    assert 'id="classify-form"' in html and 'id="collection-form"' not in html


# --- a collection contact --------------------------------------------------------------------------------------------


def test_the_rm_logs_a_call_with_a_promise_and_finds_it_on_the_page(client: Client, bank: Bank, live: LiveBook) -> None:
    # given
    data = {
        "contacted_on": live.today.isoformat(),
        "channel": "phone",
        "contact_person": "王芳",
        "result": "承诺下周一前归还逾期本息",
        "promise_date": (live.today + timedelta(days=3)).isoformat(),
        "promise_amount": "207863.38",
    }
    # when
    response = login(client, bank.alice).post(reverse("postloan:log_collection", args=[live.overdue.pk]), data)
    # then
    assert response.status_code == 302
    assert response["Location"] == detail(live.overdue) + "#collection"
    [entry] = CollectionLog.objects.all()
    assert (entry.promise_amount, entry.promise_status, entry.created_by_id) == (
        Decimal("207863.38"),
        "open",
        bank.alice.pk,
    )
    html = client.get(response["Location"]).content.decode()
    assert "承诺下周一前归还逾期本息" in html and "207,863.38" in html


def test_a_bad_contact_is_shown_with_its_errors_and_nothing_saved(client: Client, bank: Bank, live: LiveBook) -> None:
    # when
    response = login(client, bank.alice).post(
        reverse("postloan:log_collection", args=[live.overdue.pk]),
        {
            "contacted_on": (live.today + timedelta(days=1)).isoformat(),
            "channel": "phone",
            "contact_person": "王芳",
            "result": "无人接听",
            "promise_amount": "100",
        },
    )
    # then
    assert response.status_code == 200
    form = response.context["log_form"]
    assert set(form.errors) == {"contacted_on", "promise_date"}
    assert "A contact cannot be in the future." in response.content.decode()
    assert CollectionLog.objects.count() == 0


@pytest.mark.parametrize("persona", ["carol", "risk", "auditor", "admin"])
def test_a_contact_by_someone_who_may_not_is_404_and_nothing_saved(
    client: Client, bank: Bank, live: LiveBook, persona: str
) -> None:
    response = login(client, getattr(bank, persona)).post(
        reverse("postloan:log_collection", args=[live.overdue.pk]),
        {"contacted_on": live.today.isoformat(), "channel": "phone", "contact_person": "王", "result": "r"},
    )
    assert response.status_code == 404
    assert CollectionLog.objects.count() == 0


# --- a classification decision ---------------------------------------------------------------------------------------


def test_the_risk_officer_confirms_the_proposal_on_the_loans_page(client: Client, bank: Bank, live: LiveBook) -> None:
    # given
    LoanContract.objects.filter(pk=live.overdue.pk).update(proposed_classification=Classification.SPECIAL_MENTION)
    page = login(client, bank.risk).get(detail(live.overdue))
    assert page.context["classify_form"].initial["decided"] == Classification.SPECIAL_MENTION
    # when
    response = client.post(reverse("postloan:classify", args=[live.overdue.pk]), {"decided": "2", "reason": "逾期"})
    # then
    assert response.status_code == 302
    loan = LoanContract.objects.get(pk=live.overdue.pk)
    assert (loan.classification, loan.proposed_classification, loan.classified_by_id) == (2, None, bank.risk.pk)
    html = client.get(response["Location"]).content.decode()
    assert 'class="classification-decision"' in html


def test_a_decision_without_a_reason_is_refused_beside_the_field(client: Client, bank: Bank, live: LiveBook) -> None:
    response = login(client, bank.risk).post(reverse("postloan:classify", args=[live.overdue.pk]), {"decided": "3"})
    assert response.status_code == 200
    assert set(response.context["classify_form"].errors) == {"reason"}
    assert ClassificationDecision.objects.count() == 0


@pytest.mark.parametrize("persona", ["alice", "lead", "head", "auditor"])
def test_only_a_risk_officer_may_decide(client: Client, bank: Bank, live: LiveBook, persona: str) -> None:
    response = login(client, getattr(bank, persona)).post(
        reverse("postloan:classify", args=[live.overdue.pk]), {"decided": "1", "reason": "理由"}
    )
    assert response.status_code == 404
    assert LoanContract.objects.get(pk=live.overdue.pk).classified_by_id is None


# --- a repayment entered by operations -------------------------------------------------------------------------------


def test_an_operations_officer_posts_a_repayment_that_pays_the_overdue_first(
    client: Client, bank: Bank, live: LiveBook, ops: User
) -> None:
    # given
    page = login(client, ops).get(detail(live.overdue))
    assert reverse("postloan:repayment", args=[live.overdue.pk]) in page.content.decode()
    # when
    response = client.post(
        reverse("postloan:repayment", args=[live.overdue.pk]),
        {"paid_on": live.today.isoformat(), "amount": "1000.00", "external_ref": "OPS-0001"},
    )
    # then
    assert response.status_code == 302
    [repayment] = Repayment.objects.filter(contract=live.overdue)
    assert (repayment.amount, repayment.entered_by_id, repayment.unallocated) == (
        Decimal("1000.00"),
        ops.pk,
        Decimal("0.00"),
    )
    followed = client.get(response["Location"])
    assert "The repayment of 1,000.00 is posted." in followed.content.decode()


def test_a_bad_repayment_is_refused_beside_the_field(client: Client, bank: Bank, live: LiveBook, ops: User) -> None:
    response = login(client, ops).post(
        reverse("postloan:repayment", args=[live.overdue.pk]), {"paid_on": live.today.isoformat(), "amount": "-5"}
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"amount"}
    assert Repayment.objects.count() == 0


@pytest.mark.parametrize("persona", ["alice", "lead", "risk"])
def test_only_operations_post_repayments(client: Client, bank: Bank, live: LiveBook, persona: str) -> None:
    response = login(client, getattr(bank, persona)).post(
        reverse("postloan:repayment", args=[live.overdue.pk]), {"paid_on": live.today.isoformat(), "amount": "10"}
    )
    assert response.status_code == 404
    assert Repayment.objects.count() == 0


def test_operations_of_one_branch_do_not_reach_the_other(client: Client, bank: Bank, live: LiveBook, ops: User) -> None:
    response = login(client, ops).get(reverse("postloan:repayment", args=[live.carols.pk]))
    assert response.status_code == 404


# --- the customer 360 page's panel -----------------------------------------------------------------------------------


def test_the_360_page_loads_the_loans_panel(client: Client, bank: Bank, live: LiveBook) -> None:
    # when
    page = login(client, bank.alice).get(reverse("customers:detail", args=[live.xihu.pk]))
    panel = client.get(reverse("postloan:panel", args=[live.xihu.pk]))
    # then
    assert f'hx-get="{reverse("postloan:panel", args=[live.xihu.pk])}"' in page.content.decode()
    assert panel.status_code == 200
    html = panel.content.decode()
    assert [loan.contract_no for loan in panel.context["loans"]] == ["HT-LIVE-OVERDUE", "HT-LIVE-DUE"]
    assert detail(live.overdue) in html
    assert f">{live.overdue.days_past_due}<" in html


@pytest.mark.parametrize("persona", ["carol", "admin"])
def test_the_panel_of_a_customer_out_of_scope_is_404(client: Client, bank: Bank, live: LiveBook, persona: str) -> None:
    assert login(client, getattr(bank, persona)).get(reverse("postloan:panel", args=[live.xihu.pk])).status_code == 404
