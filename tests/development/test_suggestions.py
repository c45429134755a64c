"""Who should we call next: suggestions from our customers' relationships (sources 10–12), accepting and dismissing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import NotFoundError
from rmdesk.core.validators import validate_credit_code
from rmdesk.customers.models import Customer, Relationship
from rmdesk.development.choices import Source
from rmdesk.development.models import Prospect
from rmdesk.development.prospects import register_prospect
from rmdesk.development.suggestions import (
    Suggestion,
    accept_suggestion,
    dismiss_suggestion,
    restore_suggestion,
    suggestions_for,
)
from tests.personas import Bank, credit_code, make_customer


def link(customer: Customer, kind: str, direction: str, name: str, code: str = "", **fields: Any) -> Relationship:
    """A relationship of `customer` to a firm that is not linked to a customer file (as loaded or typed in)."""
    return Relationship.objects.create(
        customer=customer,
        kind=kind,
        direction=direction,
        counterparty_name=name,
        counterparty_credit_code=code,
        **fields,
    )


def by_name(suggestions: list[Suggestion]) -> dict[str, Suggestion]:
    return {s.name: s for s in suggestions}


def wrong_check_character(code: str) -> str:
    last = "0" if code[-1] != "0" else "1"
    return code[:-1] + last


# --- which links suggest whom -----------------------------------------------------------------------------------


def test_suppliers_and_buyers_are_source_10_guarantors_11_and_affiliates_12(bank: Bank) -> None:
    # given: one of alice's customers with a link of every kind and direction to outside firms
    customer = make_customer(bank.alice, name="华兴科技有限公司")
    link(customer, "supply_chain", "inward", "甲供应有限公司", credit_code(), amount=Decimal("1000000.00"))
    link(customer, "supply_chain", "outward", "乙买方有限公司", credit_code(), amount=Decimal("1000000.00"))
    link(customer, "supply_chain", "mutual", "丙贸易有限公司", credit_code())
    link(customer, "guarantee", "inward", "丁担保有限公司", credit_code(), amount=Decimal("5000000.00"))
    link(customer, "guarantee", "mutual", "戊互保有限公司", credit_code(), amount=Decimal("5000000.00"))
    link(customer, "guarantee", "outward", "己借款有限公司", credit_code(), amount=Decimal("5000000.00"))
    link(customer, "affiliate", "inward", "庚股东有限公司", credit_code(), share_pct=Decimal("30.00"))
    link(customer, "affiliate", "outward", "辛子公司有限公司", credit_code(), share_pct=Decimal("60.00"))
    link(customer, "common_controller", "mutual", "壬兄弟有限公司", credit_code(), controller_name="张三")
    # when
    found = by_name(suggestions_for(bank.alice))
    # then: the firm our customer guarantees is no guarantor of ours and is not suggested
    assert {name: s.source for name, s in found.items()} == {
        "甲供应有限公司": Source.SUPPLY_CHAIN,
        "乙买方有限公司": Source.SUPPLY_CHAIN,
        "丙贸易有限公司": Source.SUPPLY_CHAIN,
        "丁担保有限公司": Source.GUARANTORS,
        "戊互保有限公司": Source.GUARANTORS,
        "庚股东有限公司": Source.AFFILIATES,
        "辛子公司有限公司": Source.AFFILIATES,
        "壬兄弟有限公司": Source.AFFILIATES,
    }


def test_a_firm_linked_to_several_customers_is_one_suggestion_listing_every_link(bank: Bank) -> None:
    # given: one supplier of two of alice's customers, once with its code and once by a differently typed name
    first = make_customer(bank.alice, name="华兴科技有限公司")
    second = make_customer(bank.alice, name="东方机械有限公司")
    code = credit_code()
    link(first, "supply_chain", "inward", "金德汽配有限公司", code, amount=Decimal("2000000.00"))
    link(second, "supply_chain", "inward", "金德汽配有限公司", code.lower(), amount=Decimal("3000000.00"))
    link(second, "guarantee", "inward", " 金德汽配 有限公司 ", amount=Decimal("1000000.00"))
    # and: a firm known only by name, typed with a full-width space in one link
    link(first, "affiliate", "inward", "远望投资有限公司", share_pct=Decimal("10.00"))
    link(second, "affiliate", "inward", "远望投资\u3000有限公司", share_pct=Decimal("10.00"))
    # when
    found = by_name(suggestions_for(bank.alice))
    # then
    assert set(found) == {"金德汽配有限公司", "远望投资有限公司"}
    supplier = found["金德汽配有限公司"]
    assert (supplier.credit_code, supplier.customers_linked, len(supplier.links)) == (code, 2, 3)
    assert {link.customer_name for link in supplier.links} == {"华兴科技有限公司", "东方机械有限公司"}
    named = found["远望投资有限公司"]
    assert (named.credit_code, named.customers_linked, named.key) == ("", 2, "name:远望投资有限公司")


def test_firms_already_on_file_are_left_out_whoever_holds_them(bank: Bank) -> None:
    # given: alice's customer linked to a customer of hers, to a customer of carol's (unlinked, by code only),
    # to a firm known by the name of a customer on file, and to one outside firm
    customer = make_customer(bank.alice)
    own = make_customer(bank.alice, name="自家客户有限公司")
    carols = make_customer(bank.carol, name="宁波客户有限公司")
    Relationship.objects.create(
        customer=customer, kind="supply_chain", direction="inward", counterparty=own,
        counterparty_name=own.name, counterparty_credit_code=own.credit_code,
    )  # fmt: skip
    link(customer, "supply_chain", "inward", own.name + "(新)", own.credit_code)
    link(customer, "guarantee", "inward", "别名担保有限公司", carols.credit_code, amount=Decimal("1.00"))
    link(customer, "affiliate", "inward", "宁波客户 有限公司", share_pct=Decimal("5.00"))
    link(customer, "affiliate", "inward", "外部股东有限公司", credit_code(), share_pct=Decimal("5.00"))
    # when
    found = suggestions_for(bank.alice)
    # then: only the outside firm; nothing tells alice that carol's customer exists
    assert [s.name for s in found] == ["外部股东有限公司"]


def test_a_firm_registered_as_a_prospect_is_no_longer_suggested(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    code = credit_code()
    link(customer, "supply_chain", "outward", "新客户有限公司", code)
    assert [s.name for s in suggestions_for(bank.alice)] == ["新客户有限公司"]
    # when: bob registers the firm on his own (another team; alice does not see his book)
    register_prospect(
        actor=bank.bob, customer_data={"name": "新客户有限公司", "credit_code": code}, source=Source.MEDIA
    )
    # then
    assert suggestions_for(bank.alice) == []


def test_archived_links_and_archived_customers_suggest_nobody(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    gone = make_customer(bank.alice)
    archived = link(customer, "supply_chain", "inward", "旧供应商有限公司", credit_code())
    Relationship.objects.filter(pk=archived.pk).update(archived_at="2025-01-01T00:00:00Z")
    link(gone, "supply_chain", "inward", "另一供应商有限公司", credit_code())
    Customer.objects.filter(pk=gone.pk).update(archived_at="2025-01-01T00:00:00Z")
    # when / then
    assert suggestions_for(bank.alice) == []


# --- ranking and explanation -------------------------------------------------------------------------------------


def test_ranking_puts_breadth_guarantors_big_amounts_and_strategic_customers_first(bank: Bank) -> None:
    # given
    strategic = make_customer(bank.alice, name="战略客户有限公司", tier="strategic")
    general = make_customer(bank.alice, name="一般客户有限公司", tier="general")
    other = make_customer(bank.alice, name="另一客户有限公司", tier="general")
    # 40 (guarantor) + 20 (1,000 万元) + 30 (strategic) = 90
    link(strategic, "guarantee", "inward", "大担保有限公司", credit_code(), amount=Decimal("10000000.00"))
    # two customers: 30 + 30 = 60
    shared = credit_code()
    link(general, "supply_chain", "inward", "共用供应商有限公司", shared, amount=Decimal("999999.99"))
    link(other, "supply_chain", "outward", "共用供应商有限公司", shared)
    # 30 + 10 (100 万元) = 40, tied with a guarantor of no stated amount: 40, then by name
    link(general, "supply_chain", "inward", "乙供应商有限公司", credit_code(), amount=Decimal("1000000.00"))
    link(general, "guarantee", "mutual", "甲担保有限公司", credit_code())
    # 20 + 20 (controlling share) = 40 too, but its name sorts last
    link(general, "affiliate", "inward", "丙股东有限公司", credit_code(), share_pct=Decimal("51.00"))
    # 15
    link(general, "common_controller", "mutual", "兄弟有限公司", credit_code(), controller_name="李四")
    # when
    found = suggestions_for(bank.alice)
    # then
    assert [(s.name, s.score) for s in found] == sorted(
        [
            ("大担保有限公司", 90),
            ("共用供应商有限公司", 60),
            ("乙供应商有限公司", 40),
            ("甲担保有限公司", 40),
            ("丙股东有限公司", 40),
            ("兄弟有限公司", 15),
        ],
        key=lambda pair: (-pair[1], pair[0]),
    )


def test_a_customer_linked_twice_counts_once_and_its_best_link_comes_first(bank: Bank) -> None:
    # given: the same firm is supplier and guarantor of one customer
    customer = make_customer(bank.alice, name="华兴科技")
    code = credit_code()
    link(customer, "supply_chain", "inward", "金德有限公司", code, amount=Decimal("32000000.00"))
    link(customer, "guarantee", "inward", "金德有限公司", code, amount=Decimal("500000.00"))
    # when
    [suggestion] = suggestions_for(bank.alice)
    # then: supplier 30 + 20 beats guarantor 40 + 0; only the better counts
    assert suggestion.score == 50
    assert [link.kind for link in suggestion.links] == ["supply_chain", "guarantee"]
    assert suggestion.source == Source.SUPPLY_CHAIN


def test_the_explanation_names_the_link_and_the_amount_in_wan_exactly(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, name="华兴科技")
    link(customer, "supply_chain", "inward", "金德有限公司", credit_code(), amount=Decimal("32000000.00"))
    link(customer, "supply_chain", "outward", "小买家有限公司", credit_code(), amount=Decimal("12345650.00"))
    link(customer, "guarantee", "inward", "担保人有限公司", credit_code(), amount=Decimal("100.00"))
    link(customer, "affiliate", "outward", "子公司有限公司", credit_code(), share_pct=Decimal("51.5"))
    link(customer, "common_controller", "mutual", "兄弟有限公司", credit_code(), controller_name="李四")
    link(customer, "supply_chain", "mutual", "无金额有限公司", credit_code())
    # when
    with translation.override("en"):
        found = by_name(suggestions_for(bank.alice))
    # then: 1,234.565 万元 rounds half up to 1,234.57; 0.01 万元 stays exact
    assert {name: s.explanation for name, s in found.items()} == {
        "金德有限公司": "Major supplier of 华兴科技, supplies 3,200 × 10,000 yuan a year",
        "小买家有限公司": "Major buyer of 华兴科技, buys 1,234.57 × 10,000 yuan a year",
        "担保人有限公司": "Guarantor of 华兴科技, guarantees 0.01 × 10,000 yuan",
        "子公司有限公司": "Invested in by 华兴科技, 51.50% held by the customer",
        "兄弟有限公司": "Under the same controller as 华兴科技, controller 李四",
        "无金额有限公司": "Supplier and buyer of 华兴科技",
    }
    assert found["金德有限公司"].links[0].amount == Decimal("32000000.00")


def test_the_explanation_follows_the_users_language(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, name="华兴科技")
    link(customer, "supply_chain", "inward", "金德有限公司", credit_code(), amount=Decimal("32000000.00"))
    # when
    with translation.override("zh-hans"):
        [chinese] = suggestions_for(bank.alice)
    with translation.override("en"):
        [english] = suggestions_for(bank.alice)
    # then: the same figures in both (the Chinese wording arrives with the translation pass)
    for text in (chinese.explanation, english.explanation):
        assert "华兴科技" in text and "3,200" in text
    assert english.explanation.startswith("Major supplier of 华兴科技")


# --- access -------------------------------------------------------------------------------------------------------


def test_each_user_sees_the_links_of_their_own_scope_only(bank: Bank) -> None:
    # given: outside firms linked to alice's, dave's (same team), bob's (same branch) and carol's customers
    for rm, firm in ((bank.alice, "A供应有限公司"), (bank.dave, "D供应有限公司"), (bank.bob, "B供应有限公司"),
                     (bank.carol, "C供应有限公司")):  # fmt: skip
        link(make_customer(rm), "supply_chain", "inward", firm, credit_code())
    # when / then
    assert [s.name for s in suggestions_for(bank.alice)] == ["A供应有限公司"]
    assert {s.name for s in suggestions_for(bank.lead)} == {"A供应有限公司", "D供应有限公司"}
    assert {s.name for s in suggestions_for(bank.head)} == {"A供应有限公司", "D供应有限公司", "B供应有限公司"}
    # and: read-only roles register no prospects, so they get no suggestions
    assert suggestions_for(bank.risk) == [] and suggestions_for(bank.admin) == []


def test_a_co_rm_sees_the_links_of_the_customers_they_work_on(bank: Bank) -> None:
    # given
    shared = make_customer(bank.bob, co_rms=(bank.alice,))
    link(shared, "affiliate", "inward", "共同股东有限公司", credit_code(), share_pct=Decimal("20.00"))
    # when / then
    assert [s.name for s in suggestions_for(bank.alice)] == ["共同股东有限公司"]


def test_pages_of_suggestions_and_bad_paging(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    for n in range(5):
        link(customer, "supply_chain", "inward", f"供应商{n}有限公司", credit_code())
    # when
    everything = [s.name for s in suggestions_for(bank.alice)]
    page = [s.name for s in suggestions_for(bank.alice, limit=2, offset=2)]
    # then
    assert page == everything[2:4]
    with pytest.raises(ValidationError) as error:
        suggestions_for(bank.alice, limit=0)
    assert "limit" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        suggestions_for(bank.alice, offset=-1)
    assert "offset" in error.value.message_dict


# --- accepting ------------------------------------------------------------------------------------------------------


def test_accepting_puts_the_firm_into_the_units_pool_and_links_every_relationship_to_it(bank: Bank) -> None:
    # given: a guarantor of two of alice's customers, and of one of bob's
    first = make_customer(bank.alice, name="华兴科技")
    second = make_customer(bank.alice, name="东方机械")
    bobs = make_customer(bank.bob)
    code = credit_code()
    best = link(first, "guarantee", "inward", "金德担保有限公司", code, amount=Decimal("20000000.00"))
    also = link(second, "guarantee", "inward", "金德担保有限公司", code, amount=Decimal("1000000.00"))
    bobs_link = link(bobs, "guarantee", "inward", "金德担保有限公司", code, amount=Decimal("1000000.00"))
    [suggestion] = suggestions_for(bank.alice)
    # when
    prospect = accept_suggestion(
        actor=bank.alice, credit_code=suggestion.credit_code, name=suggestion.name,
        relationship_id=suggestion.relationship_id,
    )  # fmt: skip
    # then: in team 1's pool, source 11, referred by the customer of the best link
    firm = prospect.customer
    assert (firm.name, firm.credit_code, firm.status, firm.primary_rm, firm.owning_unit) == (
        "金德担保有限公司", code, "prospect", None, bank.team1,
    )  # fmt: skip
    assert (prospect.source, prospect.referring_customer, prospect.referring_relationship) == (
        Source.GUARANTORS, first, best,
    )  # fmt: skip
    assert prospect.found_by == bank.alice
    # and: alice's links now name the new file; bob's is not hers to change
    for relationship in (best, also, bobs_link):
        relationship.refresh_from_db()
    assert (best.counterparty, also.counterparty, bobs_link.counterparty) == (firm, firm, None)
    assert (best.version, also.version) == (2, 2)
    actions = list(AuditEvent.objects.order_by("seq").values_list("action", "customer_id"))
    assert actions == [
        ("customer.create", firm.pk),
        ("prospect.register", firm.pk),
        ("relationship.update", first.pk),
        ("relationship.update", second.pk),
    ]
    # and: the firm is suggested to nobody any more
    assert suggestions_for(bank.alice) == [] and suggestions_for(bank.bob) == []


def test_claiming_puts_the_firm_straight_into_the_rms_book(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    relationship = link(customer, "supply_chain", "outward", "买家有限公司", credit_code())
    # when
    prospect = accept_suggestion(
        actor=bank.alice, credit_code=None, name="买家有限公司", relationship_id=relationship.pk, claim=True
    )
    # then
    assert (prospect.customer.primary_rm, prospect.source) == (bank.alice, Source.SUPPLY_CHAIN)


def test_a_firm_known_by_name_only_is_accepted_with_the_code_the_rm_types(bank: Bank) -> None:
    # given: two links that record no code, one with a full-width space
    first = make_customer(bank.alice)
    second = make_customer(bank.alice)
    relationship = link(first, "affiliate", "inward", "远望投资有限公司", share_pct=Decimal("10.00"))
    other = link(second, "affiliate", "mutual", "远望投资\u3000有限公司", share_pct=Decimal("10.00"))
    # when: without a code
    with pytest.raises(ValidationError) as error:
        accept_suggestion(actor=bank.alice, credit_code="", name="远望投资有限公司", relationship_id=relationship.pk)
    # then: it asks for one
    assert "credit_code" in error.value.message_dict
    assert not Prospect.objects.exists()
    # when: with one
    code = credit_code()
    prospect = accept_suggestion(
        actor=bank.alice, credit_code=code.lower(), name="远望投资有限公司", relationship_id=relationship.pk
    )
    # then: source 12, and both links name the file and its code
    assert (prospect.customer.credit_code, prospect.source) == (code, Source.AFFILIATES)
    other.refresh_from_db()
    assert (other.counterparty, other.counterparty_credit_code) == (prospect.customer, code)


def test_a_wrong_check_character_gets_the_archives_own_message(bank: Bank) -> None:
    # given
    relationship = link(make_customer(bank.alice), "supply_chain", "inward", "无码供应商有限公司")
    bad = wrong_check_character(credit_code())
    with pytest.raises(ValidationError) as expected:
        validate_credit_code(bad)
    # when
    with pytest.raises(ValidationError) as error:
        accept_suggestion(actor=bank.alice, credit_code=bad, name="无码供应商有限公司", relationship_id=relationship.pk)
    # then
    assert error.value.message_dict == {"credit_code": expected.value.messages}
    assert not Customer.objects.filter(name="无码供应商有限公司").exists()


def test_a_code_other_than_the_one_the_link_records_is_refused(bank: Bank) -> None:
    # given
    code = credit_code()
    relationship = link(make_customer(bank.alice), "supply_chain", "inward", "有码供应商有限公司", code)
    # when
    with pytest.raises(ValidationError) as error:
        accept_suggestion(
            actor=bank.alice, credit_code=credit_code(), name="有码供应商有限公司", relationship_id=relationship.pk
        )
    # then
    assert code in error.value.message_dict["credit_code"][0]


def test_a_firm_that_became_a_customer_meanwhile_is_a_clear_error(bank: Bank) -> None:
    # given: alice saw the suggestion, then carol filed the firm in her own book
    code = credit_code()
    relationship = link(make_customer(bank.alice), "guarantee", "inward", "抢先有限公司", code, amount=Decimal(1))
    Customer.objects.create(
        name="抢先有限公司", credit_code=code, owning_unit=bank.team3, primary_rm=bank.carol, status="customer"
    )
    # when
    with translation.override("en"), pytest.raises(ValidationError) as error:
        accept_suggestion(actor=bank.alice, credit_code=None, name="抢先有限公司", relationship_id=relationship.pk)
    # then: on file, without saying whose
    with translation.override("en"):
        [message] = error.value.message_dict["credit_code"]
    assert "already on file" in message and "carol" not in message.lower()
    assert not Prospect.objects.exists()
    # and: a link that already names a customer is refused as well
    own = make_customer(bank.alice)
    linked = Relationship.objects.create(
        customer=make_customer(bank.alice), kind="supply_chain", direction="inward", counterparty=own,
        counterparty_name=own.name, counterparty_credit_code=own.credit_code,
    )  # fmt: skip
    with pytest.raises(ValidationError) as error:
        accept_suggestion(actor=bank.alice, credit_code=None, name=own.name, relationship_id=linked.pk)
    assert "credit_code" in error.value.message_dict


def test_accepting_a_relationship_out_of_scope_is_not_found(bank: Bank) -> None:
    # given
    relationship = link(make_customer(bank.bob), "supply_chain", "inward", "别人的供应商有限公司", credit_code())
    # when / then: for another RM, a read-only role, and an id that does not exist alike
    for actor, pk in ((bank.alice, relationship.pk), (bank.carol, relationship.pk), (bank.risk, relationship.pk),
                      (bank.alice, relationship.pk + 1000)):  # fmt: skip
        with pytest.raises(NotFoundError):
            accept_suggestion(actor=actor, credit_code=None, name="别人的供应商有限公司", relationship_id=pk)
    assert not Prospect.objects.exists() and not AuditEvent.objects.exists()


def test_a_guarantee_our_customer_gives_is_not_a_suggestion_to_accept(bank: Bank) -> None:
    # given
    relationship = link(make_customer(bank.alice), "guarantee", "outward", "被担保有限公司", credit_code(),
                        amount=Decimal("1.00"))  # fmt: skip
    # when / then
    with pytest.raises(ValidationError) as error:
        accept_suggestion(actor=bank.alice, credit_code=None, name="被担保有限公司", relationship_id=relationship.pk)
    assert "relationship_id" in error.value.message_dict


def test_a_team_lead_accepts_into_the_pool_of_the_referring_customers_team(bank: Bank) -> None:
    # given
    relationship = link(make_customer(bank.bob), "supply_chain", "inward", "二组供应商有限公司", credit_code())
    # when: the branch head, above bob's team
    prospect = accept_suggestion(actor=bank.head, credit_code=None, name="", relationship_id=relationship.pk)
    # then: named as the link names it, in team 2's pool
    assert (prospect.customer.name, prospect.customer.owning_unit, prospect.customer.primary_rm) == (
        "二组供应商有限公司", bank.team2, None,
    )  # fmt: skip
    # and: a lead cannot take one into a book of their own
    other = link(make_customer(bank.alice), "supply_chain", "inward", "一组供应商有限公司", credit_code())
    with pytest.raises(ValidationError) as error:
        accept_suggestion(actor=bank.lead, credit_code=None, name="", relationship_id=other.pk, claim=True)
    assert "claim" in error.value.message_dict


# --- dismissing ------------------------------------------------------------------------------------------------------


def test_a_dismissed_firm_is_not_shown_again_to_that_user_only(bank: Bank) -> None:
    # given: the same supplier of alice's and dave's customers, and a firm known by name only
    code = credit_code()
    link(make_customer(bank.alice), "supply_chain", "inward", "不想要有限公司", code)
    link(make_customer(bank.dave), "supply_chain", "inward", "不想要有限公司", code)
    link(make_customer(bank.alice), "affiliate", "inward", "无码股东有限公司", share_pct=Decimal("1.00"))
    # when
    dismiss_suggestion(actor=bank.alice, credit_code=code, name="不想要有限公司")
    dismiss_suggestion(actor=bank.alice, credit_code="", name="无码股东 有限公司")
    dismiss_suggestion(actor=bank.alice, credit_code=code, name="不想要有限公司")  # twice: no harm
    # then
    assert suggestions_for(bank.alice) == []
    assert [s.name for s in suggestions_for(bank.dave)] == ["不想要有限公司"]
    assert [a for (a,) in AuditEvent.objects.values_list("action")] == ["suggestion.dismiss", "suggestion.dismiss"]
    # when
    restore_suggestion(actor=bank.alice, credit_code=code, name="不想要有限公司")
    # then
    assert [s.name for s in suggestions_for(bank.alice)] == ["不想要有限公司"]
    with pytest.raises(ValidationError):
        dismiss_suggestion(actor=bank.alice, credit_code=None, name="  ")
