"""The market view: customers in scope by GB/T 4754 section and by region, split 潜在/目标/现实, with the
conversion rate per section — grouped exactly and never beyond the user's scope."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from rmdesk.core.errors import NotFoundError
from rmdesk.customers.models import Customer
from rmdesk.development.funnel import Period
from rmdesk.development.market import UNKNOWN, market_for
from tests.development.factories import make_prospect
from tests.personas import Bank, make_customer

YEAR_2024 = Period(start=date(2024, 1, 1), end=date(2024, 12, 31))
JAN = date(2024, 1, 10)
HANGZHOU, NINGBO, NANJING = "330100", "330200", "320100"


def alices_market(bank: Bank) -> None:
    # Section C (manufacturing: divisions 13–43), section A (agriculture: 01–05), and one without an industry.
    make_customer(bank.alice, industry="39", region=HANGZHOU)
    make_customer(bank.alice, industry="13", region=NINGBO)
    make_prospect(bank.alice, found_on=JAN, industry="39", region=HANGZHOU, steps=[("won", 20)])
    make_prospect(bank.alice, found_on=JAN, industry="39", region=HANGZHOU)
    make_prospect(bank.alice, found_on=JAN, industry="01", region=NANJING, status="target")
    make_prospect(bank.alice, found_on=JAN, region=HANGZHOU, steps=[("dropped", 3)], drop_reason="规模太小")
    # Outside alice's book: bob's (same branch) and carol's (other branch).
    make_customer(bank.bob, industry="39", region=HANGZHOU)
    make_customer(bank.carol, industry="39", region=NINGBO)


def test_customers_are_counted_by_industry_section_and_status(bank: Bank) -> None:
    # given
    alices_market(bank)
    # when
    with translation.override("zh-hans"):
        market = market_for(bank.alice, period=YEAR_2024)
    # then
    rows = {row.code: row for row in market.by_section}
    assert list(rows) == ["A", "C", UNKNOWN]
    assert rows["C"].by_status == {"prospect": 1, "target": 0, "customer": 3}
    assert rows["A"].by_status == {"prospect": 0, "target": 1, "customer": 0}
    assert rows[UNKNOWN].by_status == {"prospect": 1, "target": 0, "customer": 0}
    assert rows["C"].label == "C 制造业"  # GB/T 4754's own label
    with translation.override("en"):
        assert market_for(bank.alice, period=YEAR_2024).by_section[-1].label == "Industry not recorded"
    assert market.totals == {"prospect": 2, "target": 1, "customer": 3}


def test_the_conversion_rate_per_section_is_over_the_prospects_found_in_the_period(bank: Bank) -> None:
    # given
    alices_market(bank)
    make_prospect(bank.alice, found_on=date(2023, 6, 1), industry="39", steps=[("won", 3)])  # before the period
    # when
    market = market_for(bank.alice, period=YEAR_2024)
    # then
    rows = {row.code: row for row in market.by_section}
    assert (rows["C"].found, rows["C"].won, str(rows["C"].rate)) == (2, 1, "50.0")
    assert (rows["A"].found, rows["A"].won, str(rows["A"].rate)) == (1, 0, "0.0")
    assert (rows[UNKNOWN].found, rows[UNKNOWN].won) == (1, 0)
    assert rows["C"].by_status["customer"] == 4  # the customer it became still counts today


def test_customers_are_counted_by_province_and_city(bank: Bank) -> None:
    # given
    alices_market(bank)
    # when
    with translation.override("en"):
        market = market_for(bank.alice, period=YEAR_2024)
        zhejiang = market_for(bank.alice, period=YEAR_2024, province="33")
    # then
    provinces = {row.code: (row.label, row.total) for row in market.by_province}
    assert provinces == {"33": ("Zhejiang", 5), "32": ("Jiangsu", 1)}
    assert [row.code for row in market.by_province] == ["33", "32"]  # biggest first
    cities = {row.code: (row.label, row.by_status) for row in zhejiang.by_city}
    assert cities == {
        HANGZHOU: ("Hangzhou, Zhejiang", {"prospect": 2, "target": 0, "customer": 2}),
        NINGBO: ("Ningbo, Zhejiang", {"prospect": 0, "target": 0, "customer": 1}),
    }


def test_a_branch_head_sees_the_branch_market_and_never_another_branch(bank: Bank) -> None:
    # given
    alices_market(bank)
    # when
    market = market_for(bank.head, period=YEAR_2024)
    # then
    rows = {row.code: row for row in market.by_section}
    assert rows["C"].by_status["customer"] == 4  # alice's three and bob's; carol's in branch 2 is not here
    assert {row.code: row.total for row in market.by_province} == {"33": 6, "32": 1}


def test_a_user_with_nothing_in_scope_gets_an_empty_market(bank: Bank) -> None:
    # given
    alices_market(bank)
    # when
    market = market_for(bank.dave, period=YEAR_2024)
    # then
    assert market.by_section == []
    assert market.by_province == []
    assert market.totals == {"prospect": 0, "target": 0, "customer": 0}


def test_archived_customers_and_other_statuses_are_left_out(bank: Bank) -> None:
    # given
    dormant = make_customer(bank.alice, industry="39")
    archived = make_customer(bank.alice, industry="39")
    Customer.objects.filter(pk=dormant.pk).update(status="dormant")
    Customer.objects.filter(pk=archived.pk).update(archived_at=archived.created_at)
    # when
    market = market_for(bank.alice, period=YEAR_2024)
    # then
    assert market.by_section == []


@pytest.mark.parametrize("persona", ["admin", "officer"])
def test_a_role_without_customer_access_gets_not_found(bank: Bank, persona: str) -> None:
    with pytest.raises(NotFoundError):
        market_for(getattr(bank, persona), period=YEAR_2024)
