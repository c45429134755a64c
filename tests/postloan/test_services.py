"""The collection services: a collection contact with its promise to pay, and a classification decision (one, or
several proposals at once) — what each writes, its audit event, and that a refusal (bad input, out of scope, a
role that may not) leaves nothing behind."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import ConflictError, NotFoundError
from rmdesk.loans.choices import Classification, LoanStatus
from rmdesk.loans.models import LoanContract
from rmdesk.postloan import services
from rmdesk.postloan.choices import PromiseStatus
from rmdesk.postloan.models import ClassificationDecision, CollectionLog
from tests.personas import Bank
from tests.postloan.conftest import AS_OF, Book

D = Decimal


def log(actor: Any, loan: LoanContract, **fields: Any) -> CollectionLog:
    fields.setdefault("contacted_on", AS_OF)
    fields.setdefault("channel", "phone")
    fields.setdefault("contact_person", "王芳 (财务总监)")
    fields.setdefault("result", "资金周转困难，承诺月底还款")
    return services.log_collection(actor=actor, contract_id=loan.pk, today=AS_OF, **fields)


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# --- the collection log ----------------------------------------------------------------------------------------------


def test_an_rm_logs_a_call_with_a_promise_to_pay(bank: Bank, book: Book) -> None:
    # when
    entry = log(bank.alice, book.overdue, promise_date=date(2026, 3, 31), promise_amount=D("104376.28"))
    # then
    entry.refresh_from_db()
    assert (entry.contract_id, entry.customer_id, entry.created_by_id) == (book.overdue.pk, book.xihu.pk, bank.alice.pk)
    assert (entry.promise_date, entry.promise_amount, entry.promise_status) == (
        date(2026, 3, 31),
        D("104376.28"),
        PromiseStatus.OPEN,
    )
    [event] = events("loan.collection_log")
    assert (event.actor_id, event.customer_id, event.object_id) == (bank.alice.pk, book.xihu.pk, str(entry.pk))
    assert event.changes["promise_amount"] == "104376.28"
    assert event.changes["contract"] == "HT-OVERDUE"


def test_a_contact_without_a_promise_has_none(bank: Bank, book: Book) -> None:
    entry = log(bank.lead, book.overdue, channel="visit", result="上门催收，未见负责人")
    assert (entry.promise_status, entry.promise_date, entry.promise_amount) == (PromiseStatus.NONE, None, None)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"contacted_on": AS_OF + timedelta(days=1)}, {"contacted_on"}),
        ({"contacted_on": date(2025, 1, 1)}, {"contacted_on"}),
        ({"channel": "pigeon"}, {"channel"}),
        ({"contact_person": "  ", "result": ""}, {"contact_person", "result"}),
        ({"promise_date": date(2026, 3, 31)}, {"promise_amount"}),
        ({"promise_amount": D("100.00")}, {"promise_date"}),
        ({"promise_date": date(2026, 3, 1), "promise_amount": D("100.00")}, {"promise_date"}),
        ({"promise_date": date(2027, 3, 20), "promise_amount": D("100.00")}, {"promise_date"}),
        ({"promise_date": date(2026, 3, 31), "promise_amount": D("0.00")}, {"promise_amount"}),
        ({"promise_date": date(2026, 3, 31), "promise_amount": D("1.001")}, {"promise_amount"}),
    ],
)
def test_a_bad_contact_names_the_field_and_writes_nothing(
    bank: Bank, book: Book, fields: dict[str, Any], errors: set[str]
) -> None:
    # when
    with pytest.raises(ValidationError) as refused:
        log(bank.alice, book.overdue, **fields)
    # then
    assert set(refused.value.message_dict) == errors
    assert CollectionLog.objects.count() == 0
    assert events("loan.collection_log") == []


def test_a_closed_loan_takes_no_collection_contact(bank: Bank, book: Book) -> None:
    # given
    LoanContract.objects.filter(pk=book.current.pk).update(status=LoanStatus.CLOSED)
    # when
    with pytest.raises(ValidationError) as refused:
        log(bank.alice, book.current)
    # then
    assert "__all__" in refused.value.message_dict
    assert CollectionLog.objects.count() == 0


@pytest.mark.parametrize("persona", ["carol", "bob", "risk", "auditor", "officer", "admin"])
def test_a_contact_on_a_loan_out_of_reach_is_not_found_and_writes_nothing(bank: Bank, book: Book, persona: str) -> None:
    # when
    with pytest.raises(NotFoundError):
        log(getattr(bank, persona), book.overdue)
    # then
    assert CollectionLog.objects.count() == 0
    assert events("loan.collection_log") == []


# --- classification --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "category"),
    [
        (0, Classification.NORMAL),
        (1, Classification.SPECIAL_MENTION),
        (90, Classification.SPECIAL_MENTION),
        (91, Classification.SUBSTANDARD),
        (270, Classification.SUBSTANDARD),
        (271, Classification.DOUBTFUL),
        (360, Classification.DOUBTFUL),
        (361, Classification.LOSS),
    ],
)
def test_days_past_due_require_a_category(days: int, category: Classification) -> None:
    assert services.classification_for_days(days) == category


@override_settings(CLASSIFY_SUBSTANDARD_DAYS=60)
def test_the_thresholds_are_settings() -> None:
    assert services.classification_for_days(61) == Classification.SUBSTANDARD


@pytest.fixture
def proposed(book: Book) -> Book:
    """The batch proposed 关注 for alice's loan 40 days past due, and 关注 for carol's."""
    LoanContract.objects.filter(pk__in=[book.overdue.pk, book.carols.pk]).update(
        proposed_classification=Classification.SPECIAL_MENTION
    )
    return book


def test_the_risk_officer_confirms_a_proposal(bank: Bank, proposed: Book) -> None:
    # when
    decision = services.confirm_classification(
        actor=bank.risk,
        contract_id=proposed.overdue.pk,
        decided=Classification.SPECIAL_MENTION,
        reason="逾期40天，按规定列关注",
        on=AS_OF,
    )
    # then
    loan = LoanContract.objects.get(pk=proposed.overdue.pk)
    assert (loan.classification, loan.proposed_classification, loan.classified_on, loan.classified_by_id) == (
        Classification.SPECIAL_MENTION,
        None,
        AS_OF,
        bank.risk.pk,
    )
    assert (decision.previous, decision.proposed, decision.decided, decision.days_past_due, decision.decided_by_id) == (
        Classification.NORMAL,
        Classification.SPECIAL_MENTION,
        Classification.SPECIAL_MENTION,
        40,
        bank.risk.pk,
    )
    [event] = events("loan.classify")
    assert (event.customer_id, event.object_id) == (proposed.xihu.pk, str(loan.pk))
    assert event.changes == {
        "classification": [1, 2],
        "proposed": 2,
        "days_past_due": 40,
        "below_days_past_due": False,
        "reason": "逾期40天，按规定列关注",
    }


def test_a_category_better_than_days_past_due_require_is_allowed_with_a_reason_and_marked(
    bank: Bank, proposed: Book
) -> None:
    # when
    services.confirm_classification(
        actor=bank.risk, contract_id=proposed.overdue.pk, decided=Classification.NORMAL, reason="系统扣款失败，已核实"
    )
    # then
    assert LoanContract.objects.get(pk=proposed.overdue.pk).classification == Classification.NORMAL
    [event] = events("loan.classify")
    assert event.changes["below_days_past_due"] is True


@pytest.mark.parametrize(
    ("decided", "reason", "field"), [(2, "  ", "reason"), (9, "理由", "decided"), ("x", "r", "decided")]
)
def test_a_decision_without_a_reason_or_category_is_refused_and_changes_nothing(
    bank: Bank, proposed: Book, decided: Any, reason: str, field: str
) -> None:
    # when
    with pytest.raises(ValidationError) as refused:
        services.confirm_classification(
            actor=bank.risk, contract_id=proposed.overdue.pk, decided=decided, reason=reason
        )
    # then
    assert set(refused.value.message_dict) == {field}
    loan = LoanContract.objects.get(pk=proposed.overdue.pk)
    assert (loan.classification, loan.proposed_classification) == (1, 2)
    assert ClassificationDecision.objects.count() == 0
    assert events("loan.classify") == []


@pytest.mark.parametrize("persona", ["alice", "lead", "head", "auditor", "officer", "admin"])
def test_only_a_risk_officer_decides_a_classification(bank: Bank, proposed: Book, persona: str) -> None:
    # when
    with pytest.raises(NotFoundError):
        services.confirm_classification(
            actor=getattr(bank, persona), contract_id=proposed.overdue.pk, decided=2, reason="理由"
        )
    # then
    assert LoanContract.objects.get(pk=proposed.overdue.pk).proposed_classification == 2
    assert ClassificationDecision.objects.count() == 0


def test_several_proposals_are_confirmed_at_once_each_with_its_audit_event(bank: Bank, proposed: Book) -> None:
    # when
    decisions = services.confirm_proposals(
        actor=bank.risk, proposals={proposed.overdue.pk: 2, proposed.carols.pk: 2}, reason="批量认定：逾期未超90天"
    )
    # then
    assert sorted(d.contract_id for d in decisions) == sorted([proposed.overdue.pk, proposed.carols.pk])
    assert list(
        LoanContract.objects.filter(pk__in=[proposed.overdue.pk, proposed.carols.pk]).values_list(
            "classification", "proposed_classification"
        )
    ) == [(2, None), (2, None)]
    assert len(events("loan.classify")) == 2


def test_a_proposal_changed_since_the_list_was_shown_is_a_conflict_and_nothing_is_confirmed(
    bank: Bank, proposed: Book
) -> None:
    # given: the batch moved carol's loan on to 次级 after the list was shown
    LoanContract.objects.filter(pk=proposed.carols.pk).update(proposed_classification=Classification.SUBSTANDARD)
    # when
    with pytest.raises(ConflictError) as refused:
        services.confirm_proposals(
            actor=bank.risk, proposals={proposed.overdue.pk: 2, proposed.carols.pk: 2}, reason="批量认定"
        )
    # then
    assert "HT-CAROL" in str(refused.value.message)
    assert ClassificationDecision.objects.count() == 0
    assert LoanContract.objects.get(pk=proposed.overdue.pk).proposed_classification == 2


def test_confirming_nothing_is_refused(bank: Bank, proposed: Book) -> None:
    with pytest.raises(ValidationError) as refused:
        services.confirm_proposals(actor=bank.risk, proposals={}, reason="理由")
    assert set(refused.value.message_dict) == {"loans"}
