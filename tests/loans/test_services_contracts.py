"""Opening loan contracts and drawing more: the engine's schedule, rates from LPR, guarantors, scope and bad input."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import NotFoundError
from rmdesk.customers.choices import Direction
from rmdesk.loans import services
from rmdesk.loans.models import Drawdown, Instalment, LoanContract, LoanGuarantor
from tests.loans.factories import AS_OF, instalments, make_guarantee, make_loan
from tests.personas import Bank, make_customer


def test_a_new_loan_gets_the_engines_schedule_with_due_dates_rolled_to_working_days(bank: Bank) -> None:
    # given alice's customer
    customer = make_customer(bank.alice)
    # when she opens 1,200,000.00 at 4.35% over 12 months, equal principal, drawn on 2025-01-15
    loan = make_loan(bank.alice, customer)
    # then there are 12 periods of 100,000.00 principal; interest on the balance at 4.35% / 12
    rows = instalments(loan)
    assert [r.number for r in rows] == list(range(1, 13))
    assert {r.principal_due for r in rows} == {Decimal("100000.00")}
    assert [r.interest_due for r in rows[:3]] == [Decimal("4350.00"), Decimal("3987.50"), Decimal("3625.00")]
    assert rows[-1].interest_due == Decimal("362.50")
    # 2025-02-15 was a Saturday: due on Monday the 17th, scheduled on the 15th
    assert (rows[0].scheduled_date, rows[0].due_date) == (date(2025, 2, 15), date(2025, 2, 17))
    assert {r.rate_pct for r in rows} == {Decimal("4.35")}
    assert loan.maturity_date == date(2026, 1, 15)
    assert loan.current_rate_pct == Decimal("4.35")
    assert loan.next_repricing_on is None


def test_a_new_loan_has_its_collection_state_as_of_the_business_date(bank: Bank) -> None:
    # given a loan drawn 2025-01-15 with nothing repaid, as of 2025-09-30
    loan = make_loan(bank.alice, make_customer(bank.alice))
    # then the eight periods due before then are overdue, the oldest since 2025-02-18
    assert loan.outstanding_principal == Decimal("1200000.00")
    assert loan.overdue_principal == Decimal("800000.00")
    assert loan.overdue_interest == Decimal("24650.00")
    assert loan.days_past_due == (AS_OF - date(2025, 2, 17)).days == 225
    assert loan.overdue_since == date(2025, 2, 18)
    assert loan.next_due_date == date(2025, 10, 15)
    assert Instalment.objects.filter(contract=loan, status="overdue").count() == 8


def test_the_primary_rm_defaults_to_the_customers_and_the_opening_is_audited(bank: Bank) -> None:
    # given dave's customer, on which alice is co-RM
    customer = make_customer(bank.dave, co_rms=(bank.alice,))
    # when alice opens a loan on it
    loan = make_loan(bank.alice, customer, contract_no="HT-2025-001")
    # then the loan's primary RM is dave, and one audit event records the opening by alice
    assert loan.primary_rm == bank.dave
    event = AuditEvent.objects.get(action="loan.create")
    assert (event.actor_id, event.customer_id, event.object_id) == (bank.alice.pk, customer.pk, str(loan.pk))
    assert event.changes["contract_no"] == "HT-2025-001"
    assert event.changes["amount"] == "1200000.00"
    assert event.changes["primary_rm"] == "dave"


def test_a_floating_loan_takes_the_lpr_on_its_start_plus_the_spread_and_each_repricing_since(bank: Bank) -> None:
    # given a 1-year LPR loan at −20 bp repriced on each anniversary, drawn 2023-03-15 for 36 months
    customer = make_customer(bank.alice)
    # when it is opened as of 2025-09-30
    loan = make_loan(
        bank.alice,
        customer,
        rate_kind="lpr_1y",
        lpr_spread_bp=-20,
        repricing_rule="anniversary",
        start_date=date(2023, 3, 15),
        term_months=36,
        repayment_method="annuity",
        amount=Decimal("1000000.00"),
    )
    rows = instalments(loan)
    # then the first year runs at 3.65 − 0.20 (LPR of 2022-08-22), the second at 3.45 − 0.20 (of 2023-08-21), the
    # third at 3.10 − 0.20 (of 2024-10-21), each from the period that starts on the anniversary
    assert [rows[i].rate_pct for i in (0, 11, 12, 23, 24, 35)] == [
        Decimal("3.45"),
        Decimal("3.45"),
        Decimal("3.25"),
        Decimal("3.25"),
        Decimal("2.90"),
        Decimal("2.90"),
    ]
    assert sum(r.principal_due for r in rows) == Decimal("1000000.00")
    assert loan.current_rate_pct == Decimal("2.90")
    # the next anniversary (2026-03-15) is the maturity: there is no repricing left
    assert loan.maturity_date == date(2026, 3, 15)
    assert loan.next_repricing_on is None


def test_a_floating_rate_is_never_below_zero(bank: Bank) -> None:
    # given a spread of −400 bp over a 1-year LPR of 3.00% (2025-05-20)
    # when the loan is opened
    loan = make_loan(
        bank.alice,
        make_customer(bank.alice),
        rate_kind="lpr_1y",
        lpr_spread_bp=-400,
        repricing_rule="january_first",
        start_date=date(2025, 6, 1),
    )
    # then its rate is zero, and it reprices on the next 1 January
    assert loan.current_rate_pct == Decimal("0")
    assert {r.interest_due for r in instalments(loan)} == {Decimal("0.00")}
    assert loan.next_repricing_on == date(2026, 1, 1)


def test_bad_terms_are_each_a_field_error_in_the_users_language_and_nothing_is_written(bank: Bank) -> None:
    # given alice's customer
    customer = make_customer(bank.alice)
    # when she gives a negative rate, a zero term, a zero amount
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        make_loan(bank.alice, customer, fixed_rate_pct=Decimal("-1"), term_months=0, amount=Decimal("0"))
    # then each is named with its reason, and no loan was written
    fields = refused.value.message_dict
    assert fields["fixed_rate_pct"] == ["The annual rate must be from 0 to 36 percent, not -1."]
    assert fields["term_months"] == ["The term must be a whole number of months from 1 to 600, not 0."]
    assert fields["amount"] == ["The amount must be more than zero."]
    assert not LoanContract.objects.exists()
    assert not AuditEvent.objects.filter(action="loan.create").exists()


def test_a_rate_above_36_percent_is_refused(bank: Bank) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        make_loan(bank.alice, make_customer(bank.alice), fixed_rate_pct="36.5")
    assert refused.value.message_dict == {"fixed_rate_pct": ["The annual rate must be from 0 to 36 percent, not 36.5."]}


def test_a_first_drawdown_beyond_the_contract_amount_is_refused(bank: Bank) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        make_loan(bank.alice, make_customer(bank.alice), amount="1000000.00", drawdown_amount="1000000.01")
    assert refused.value.message_dict == {
        "drawdown_amount": ["The drawdown (1,000,000.01) cannot exceed the contract amount (1,000,000.00)."]
    }


def test_an_lpr_loan_starting_before_any_published_lpr_is_refused(bank: Bank) -> None:
    # given the LPR table starts with the reform of 2019-08-20
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        # when a 5-year LPR loan is said to start on 2019-08-19
        make_loan(
            bank.alice,
            make_customer(bank.alice),
            rate_kind="lpr_5y",
            lpr_spread_bp=0,
            repricing_rule="anniversary",
            start_date=date(2019, 8, 19),
        )
    # then the start date is refused
    assert refused.value.message_dict == {
        "start_date": [
            "No Over-5-year LPR was published on or before 2019-08-19: publish it first or choose a fixed rate."
        ]
    }


def test_a_duplicate_contract_number_is_refused(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    make_loan(bank.alice, customer, contract_no="HT-1")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        make_loan(bank.alice, customer, contract_no="HT-1")
    assert refused.value.message_dict == {"contract_no": ["A loan with the contract number HT-1 already exists."]}
    assert LoanContract.objects.count() == 1


def test_guarantors_come_from_the_customers_guarantee_relationships_or_are_named(bank: Bank) -> None:
    # given a firm that guarantees alice's customer
    customer = make_customer(bank.alice)
    link = make_guarantee(customer, counterparty_name="杭州担保有限公司")
    # when a guaranteed loan names it and another guarantor by name
    loan = make_loan(
        bank.alice,
        customer,
        guarantee_method="guarantee",
        guarantors=[
            services.GuarantorInput(relationship_id=link.pk),
            services.GuarantorInput(name="王五", amount="500000.00"),
        ],
    )
    # then both are the loan's guarantors
    rows = list(LoanGuarantor.objects.filter(contract=loan).order_by("pk"))
    assert [(g.name, g.relationship_id, g.amount) for g in rows] == [
        ("杭州担保有限公司", link.pk, None),
        ("王五", None, Decimal("500000.00")),
    ]


def test_a_guarantee_relationship_of_another_customer_is_refused(bank: Bank) -> None:
    # given a guarantee link of carol's customer
    others = make_guarantee(make_customer(bank.carol))
    # when alice names it as a guarantor of her customer's loan
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        make_loan(
            bank.alice,
            make_customer(bank.alice),
            guarantee_method="guarantee",
            guarantors=[services.GuarantorInput(relationship_id=others.pk)],
        )
    # then it is refused without saying whose it is
    assert refused.value.message_dict == {
        "guarantors": ["Choose guarantors from this customer's guarantee relationships."]
    }


def test_a_firm_the_customer_guarantees_is_no_guarantor_of_its_loan(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    outward = make_guarantee(customer, direction=Direction.OUTWARD)
    with pytest.raises(ValidationError) as refused:
        make_loan(
            bank.alice,
            customer,
            guarantee_method="guarantee",
            guarantors=[services.GuarantorInput(relationship_id=outward.pk)],
        )
    assert list(refused.value.message_dict) == ["guarantors"]


def test_a_guaranteed_loan_needs_a_guarantor_and_an_unsecured_one_has_none(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    with translation.override("en"), pytest.raises(ValidationError) as none_named:
        make_loan(bank.alice, customer, guarantee_method="guarantee")
    with translation.override("en"), pytest.raises(ValidationError) as credit:
        make_loan(bank.alice, customer, guarantors=[services.GuarantorInput(name="王五")])
    assert none_named.value.message_dict == {"guarantors": ["Name at least one guarantor of a guaranteed loan."]}
    assert credit.value.message_dict == {"guarantors": ["An unsecured (credit) loan has no guarantors."]}


@pytest.mark.parametrize("who", ["bob", "carol", "risk", "auditor", "admin"])
def test_a_customer_the_actor_may_not_change_is_not_found_and_nothing_is_written(bank: Bank, who: str) -> None:
    # given alice's customer
    customer = make_customer(bank.alice)
    # when someone who may not change it opens a loan on it
    with pytest.raises(NotFoundError):
        make_loan(getattr(bank, who), customer)
    # then nothing was written
    assert not LoanContract.objects.exists()
    assert not AuditEvent.objects.filter(action="loan.create").exists()


def test_the_primary_rm_named_must_look_after_the_customer(bank: Bank) -> None:
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        make_loan(bank.alice, make_customer(bank.alice), primary_rm=bank.carol)
    assert refused.value.message_dict == {
        "primary_rm": ["The loan's primary RM must be an active colleague who looks after this customer."]
    }


# --- drawdowns ---------------------------------------------------------------------------------------------------


def test_a_second_drawdown_has_its_own_schedule_to_the_contracts_maturity(bank: Bank) -> None:
    # given a 2,000,000.00 contract of 12 months from 2025-01-15 with 1,200,000.00 drawn
    loan = make_loan(bank.alice, make_customer(bank.alice), amount="2000000.00", drawdown_amount="1200000.00")
    # when 600,000.00 more is drawn on 2025-03-10
    drawdown = services.add_drawdown(
        actor=bank.alice, contract=loan, drawn_on=date(2025, 3, 10), amount="600000.00", as_of=AS_OF
    )
    # then it is drawdown 2, repaid over the 10 whole months to 2026-01-10 (on or before the maturity 2026-01-15)
    assert (drawdown.number, drawdown.months) == (2, 10)
    rows = list(Instalment.objects.filter(drawdown=drawdown).order_by("number"))
    assert [r.scheduled_date for r in (rows[0], rows[-1])] == [date(2025, 4, 10), date(2026, 1, 10)]
    assert sum(r.principal_due for r in rows) == Decimal("600000.00")
    loan.refresh_from_db()
    assert loan.outstanding_principal == Decimal("1800000.00")
    assert AuditEvent.objects.filter(action="loan.drawdown", object_id=str(loan.pk)).count() == 1


def test_drawing_beyond_the_contract_amount_is_refused(bank: Bank) -> None:
    loan = make_loan(bank.alice, make_customer(bank.alice), amount="2000000.00", drawdown_amount="1200000.00")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        services.add_drawdown(
            actor=bank.alice, contract=loan, drawn_on=date(2025, 3, 10), amount="800000.01", as_of=AS_OF
        )
    assert refused.value.message_dict == {
        "amount": ["Only 800,000.00 of the contract amount 2,000,000.00 is left to draw."]
    }
    assert Drawdown.objects.filter(contract=loan).count() == 1


def test_a_drawdown_on_a_loan_out_of_scope_is_not_found(bank: Bank) -> None:
    loan = make_loan(bank.alice, make_customer(bank.alice), amount="2000000.00", drawdown_amount="1200000.00")
    with pytest.raises(NotFoundError):
        services.add_drawdown(actor=bank.carol, contract=loan, drawn_on=date(2025, 3, 10), amount="1.00", as_of=AS_OF)
    assert Drawdown.objects.filter(contract=loan).count() == 1
