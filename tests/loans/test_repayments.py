"""Posting repayments: the bank's allocation order, oldest instalment first, overpayments held, references posted
once, who may post, bad input, and two repayments at once."""

from __future__ import annotations

import contextlib
import threading
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection
from django.test import override_settings
from django.utils import timezone, translation

from rmdesk.audit.models import AuditEvent
from rmdesk.config.env import env_order
from rmdesk.core.errors import NotFoundError
from rmdesk.loans import repayments
from rmdesk.loans.models import Instalment, LoanContract, Repayment, RepaymentAllocation
from rmdesk.loans.repayments import allocation_order, post_repayment
from rmdesk.org.models import User
from tests.loans.factories import AS_OF, accrue, charge_fee, instalments, make_loan
from tests.personas import Bank, build_bank, make_customer, make_user


def _allocations(repayment: Repayment) -> list[tuple[int, str, str]]:
    return [
        (a.instalment.number, a.component, f"{a.amount:.2f}")
        for a in RepaymentAllocation.objects.filter(repayment=repayment).select_related("instalment").order_by("pk")
    ]


def _post(actor: Any, loan: LoanContract, amount: str, **fields: Any) -> Any:
    fields.setdefault("paid_on", date(2025, 3, 20))
    fields.setdefault("as_of", AS_OF)
    return post_repayment(actor=actor, contract=loan, amount=amount, **fields)


def test_a_repayment_pays_the_oldest_instalment_first_fees_penalty_compound_interest_principal(
    bank: Bank, ops: User
) -> None:
    # given periods 1 (due 2025-02-17) and 2 (due 2025-03-17) unpaid, period 1 with a fee and penalty accrued
    loan = make_loan(bank.alice, make_customer(bank.alice))
    first, second = instalments(loan)[:2]
    charge_fee(first, "100.00")
    accrue(first, penalty="30.00", compound="0.50")
    # when operations posts 104,500.50 received on 2025-03-20
    posted = _post(ops, loan, "104500.50")
    # then period 1 is paid in the bank's order, and what is left pays period 2's interest (the older's first)
    assert _allocations(posted.repayment) == [
        (1, "fee", "100.00"),
        (1, "penalty", "30.00"),
        (1, "compound", "0.50"),
        (1, "interest", "4350.00"),
        (1, "principal", "100000.00"),
        (2, "interest", "20.00"),
    ]
    assert (posted.allocated, posted.overpayment, posted.duplicate) == (Decimal("104500.50"), Decimal("0.00"), False)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.paid_on) == ("paid", date(2025, 3, 20))
    assert (second.status, second.interest_paid, second.principal_paid) == ("overdue", Decimal("20.00"), Decimal("0"))
    # and the contract's state follows: period 2 on is past due from 2025-03-17
    loan.refresh_from_db()
    assert loan.outstanding_principal == Decimal("1100000.00")
    assert loan.days_past_due == (AS_OF - date(2025, 3, 17)).days


@override_settings(REPAYMENT_ALLOCATION_ORDER=["principal", "interest", "fee", "penalty", "compound"])
def test_the_order_within_an_instalment_is_the_banks_setting(bank: Bank, ops: User) -> None:
    loan = make_loan(bank.alice, make_customer(bank.alice))
    first = instalments(loan)[0]
    accrue(first, penalty="30.00")
    posted = _post(ops, loan, "100010.00")
    assert _allocations(posted.repayment) == [(1, "principal", "100000.00"), (1, "interest", "10.00")]


def test_a_bad_allocation_order_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RMDESK_REPAYMENT_ALLOCATION_ORDER", "fee,interest,principal")
    with pytest.raises(ImproperlyConfigured, match="RMDESK_REPAYMENT_ALLOCATION_ORDER"):
        env_order("RMDESK_REPAYMENT_ALLOCATION_ORDER", ["fee", "penalty", "compound", "interest", "principal"])
    with (
        override_settings(REPAYMENT_ALLOCATION_ORDER=["fee", "fee", "compound", "interest", "principal"]),
        pytest.raises(ImproperlyConfigured),
    ):
        allocation_order()


def test_more_than_is_owed_is_held_as_an_overpayment_and_never_paid_to_instalments_not_yet_due(
    bank: Bank, ops: User
) -> None:
    # given a loan with periods 1 and 2 due by 2025-03-20 (104,350.00 and 103,987.50)
    loan = make_loan(bank.alice, make_customer(bank.alice))
    # when 250,000.00 is received on 2025-03-20
    posted = _post(ops, loan, "250000.00")
    # then periods 1 and 2 are paid, period 3 (due 2025-04-15) is untouched, the rest is held and reported
    assert (
        posted.overpayment == Decimal("250000.00") - Decimal("104350.00") - Decimal("103987.50") == Decimal("41662.50")
    )
    assert {a.instalment.number for a in RepaymentAllocation.objects.filter(repayment=posted.repayment)} == {1, 2}
    assert Instalment.objects.get(contract=loan, number=3).principal_paid == Decimal("0")
    loan.refresh_from_db()
    assert loan.overpayment == Decimal("41662.50")
    event = AuditEvent.objects.get(action="loan.repayment")
    assert event.changes["overpayment"] == "41662.50"
    assert event.changes["allocated"]["principal"] == "200000.00"


def test_a_repeated_reference_returns_the_repayment_already_posted_and_allocates_nothing_twice(
    bank: Bank, ops: User
) -> None:
    loan = make_loan(bank.alice, make_customer(bank.alice))
    first = _post(ops, loan, "5000.00", external_ref="TX-1")
    again = _post(ops, loan, "5000.00", external_ref="TX-1")
    assert again.duplicate
    assert again.repayment.pk == first.repayment.pk
    assert Repayment.objects.count() == 1
    assert _allocations(again.repayment) == [(1, "interest", "4350.00"), (1, "principal", "650.00")]
    assert RepaymentAllocation.objects.count() == 2
    assert Instalment.objects.get(contract=loan, number=1).principal_paid == Decimal("650.00")
    assert AuditEvent.objects.filter(action="loan.repayment").count() == 1


def test_a_reference_used_for_another_payment_is_refused(bank: Bank, ops: User) -> None:
    loan = make_loan(bank.alice, make_customer(bank.alice))
    _post(ops, loan, "5000.00", external_ref="TX-1")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        _post(ops, loan, "6000.00", external_ref="TX-1")
    assert refused.value.message_dict == {
        "external_ref": [
            f"The reference TX-1 was already used for a repayment of 5,000.00 on 2025-03-20 to loan {loan.contract_no}."
        ]
    }


def test_paying_everything_closes_the_loan_and_a_later_repayment_is_refused_naming_it(bank: Bank, ops: User) -> None:
    # given a loan whose every period is due by the business date
    loan = make_loan(bank.alice, make_customer(bank.alice), term_months=3, as_of=date(2025, 5, 30))
    owed = sum(r.principal_due + r.interest_due for r in instalments(loan))
    # when all of it is repaid on 2025-05-30
    _post(ops, loan, f"{owed:.2f}", paid_on=date(2025, 5, 30), as_of=date(2025, 5, 30))
    loan.refresh_from_db()
    # then the loan is closed that day
    assert (loan.status, loan.closed_on, loan.outstanding_principal) == ("closed", date(2025, 5, 30), Decimal("0.00"))
    # and another repayment to it is refused, naming it
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        _post(ops, loan, "1.00", paid_on=date(2025, 5, 30), as_of=date(2025, 5, 30))
    assert refused.value.message_dict == {
        "contract": [f"Loan {loan.contract_no} is closed (on 2025-05-30): no repayment can be posted to it."]
    }


def test_bad_repayments_are_field_errors_and_write_nothing(bank: Bank, ops: User) -> None:
    loan = make_loan(bank.alice, make_customer(bank.alice))
    tomorrow = timezone.localdate() + timedelta(days=1)
    with translation.override("en"):
        with pytest.raises(ValidationError) as zero:
            _post(ops, loan, "0")
        with pytest.raises(ValidationError) as future:
            post_repayment(actor=ops, contract=loan, amount="10.00", paid_on=tomorrow)
        with pytest.raises(ValidationError) as early:
            _post(ops, loan, "10.00", paid_on=date(2025, 1, 14))
        with pytest.raises(ValidationError) as fraction:
            _post(ops, loan, "10.001")
    assert zero.value.message_dict == {"amount": ["The amount must be more than zero."]}
    assert future.value.message_dict == {"paid_on": [f"The payment date {tomorrow.isoformat()} is in the future."]}
    assert early.value.message_dict == {
        "paid_on": [f"Loan {loan.contract_no} was first drawn on 2025-01-15: a repayment cannot be earlier."]
    }
    assert fraction.value.message_dict == {"amount": ["Enter an amount with at most 2 decimal places."]}
    assert not Repayment.objects.exists()


def test_a_loan_that_does_not_exist_is_not_found(bank: Bank, ops: User) -> None:
    with pytest.raises(NotFoundError):
        post_repayment(actor=ops, contract=999_999, amount="10.00", paid_on=date(2025, 3, 20))


@pytest.mark.parametrize("who", ["alice", "lead", "head", "risk", "auditor", "admin"])
def test_only_operations_officers_post_repayments(bank: Bank, who: str) -> None:
    # given alice's loan, which these people may see or not, but none may post to
    loan = make_loan(bank.alice, make_customer(bank.alice))
    # when one of them posts a repayment
    with pytest.raises(NotFoundError):
        _post(getattr(bank, who), loan, "10.00")
    # then nothing was posted
    assert not Repayment.objects.exists()


def test_operations_posts_only_for_the_loans_of_its_units(bank: Bank, ops: User) -> None:
    # given carol's loan in branch 2, outside the branch-1 operations officer's units
    loan = make_loan(bank.carol, make_customer(bank.carol))
    with pytest.raises(NotFoundError):
        _post(ops, loan, "10.00")
    assert not Repayment.objects.exists()


def test_the_core_feed_posts_as_the_system(bank: Bank) -> None:
    loan = make_loan(bank.alice, make_customer(bank.alice))
    posted = _post(None, loan, "10.00", source="core_feed", external_ref="CORE-1")
    assert (posted.repayment.source, posted.repayment.entered_by) == ("core_feed", None)
    assert AuditEvent.objects.get(action="loan.repayment").actor_name == "system"


def test_a_person_cannot_post_as_the_core_feed(bank: Bank, ops: User) -> None:
    loan = make_loan(bank.alice, make_customer(bank.alice))
    with pytest.raises(ValidationError) as refused:
        _post(ops, loan, "10.00", source="core_feed")
    assert list(refused.value.message_dict) == ["source"]


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="two interleaved write transactions need PostgreSQL; SQLite queues writers",
)
def test_two_repayments_at_once_never_pay_the_same_instalment(
    committed_db: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a loan whose period 1 owes 104,350.00, and two repayments of 104,350.00 posted at once, each of which,
    # once it has read what is owed, waits (up to 2 s) for the other to have read it too
    bank = build_bank()
    ops = make_user("ops", "operations_officer", bank.branch1)
    loan = make_loan(bank.alice, make_customer(bank.alice))
    both_read = threading.Barrier(2, timeout=2)
    order_of = repayments.allocation_order

    def order_once_both_have_read() -> tuple[str, ...]:
        # Without the contract's lock both would get past this, and both pay period 1; with it, the second is still
        # waiting for the lock, the wait times out and the first goes on alone.
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait()
        return order_of()

    monkeypatch.setattr(repayments, "allocation_order", order_once_both_have_read)
    errors: list[BaseException] = []

    def post(reference: str) -> None:
        try:
            _post(ops, loan, "104350.00", external_ref=reference)
        except BaseException as error:  # reported by the test below
            errors.append(error)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=post, args=(f"TX-{n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then both were posted, one after the other: the first paid period 1, the second period 2 (103,987.50) and
    # held the rest; no component of any period was paid twice
    assert errors == []
    rows = {r.number: r for r in instalments(loan)}
    assert (rows[1].principal_paid, rows[1].interest_paid) == (Decimal("100000.00"), Decimal("4350.00"))
    assert (rows[2].principal_paid, rows[2].interest_paid) == (Decimal("100000.00"), Decimal("3987.50"))
    total = RepaymentAllocation.objects.filter(instalment__contract=loan).values_list("amount", flat=True)
    assert sum(total) == Decimal("104350.00") + Decimal("103987.50")
    loan.refresh_from_db()
    assert loan.overpayment == Decimal("104350.00") - Decimal("103987.50")
