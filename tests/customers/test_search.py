"""Quick search: keys computed from names, queries read as typed, ranked results inside the user's scope, on every
plan the search can take (a small scope's rows, the indexes, the rank-order walks)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rmdesk.access.policy import Action
from rmdesk.customers import queries, services
from rmdesk.customers.filters import CustomerFilter
from rmdesk.customers.models import Customer, CustomerNameGram, CustomerSearchKey
from rmdesk.customers.queries import GramFacts, gram_facts, search_customers
from rmdesk.customers.search import (
    MAX_READINGS,
    Searchable,
    bulk_search_rows,
    next_prefix,
    normalize,
    read_query,
    search_keys,
)
from rmdesk.customers.search_index import index_customers
from rmdesk.org.models import User
from tests.personas import Bank, credit_code, make_customer

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(params=["rows", "indexes", "peeks", "walks"])
def plan(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every search test runs on each plan: a small scope's own rows, the key indexes, a gram's first rows looked at
    before the scope's are read whole, and rank-order walks."""
    if request.param != "rows":
        monkeypatch.setattr(queries, "SMALL_SCOPE", 0)
    if request.param == "peeks":
        # Two rows: the best matches are sometimes among them, the rest are then read whole, and a customer's rows
        # (one per unit and place) are cut between the two.
        monkeypatch.setattr(queries, "PEEK_WORTH", -1)
        monkeypatch.setattr(queries, "PEEK", 2)
        # The same for a prefix: the bank's first two customers in rank order are looked at first.
        monkeypatch.setattr(queries, "KEY_PEEK_WORTH", -1)
        monkeypatch.setattr(queries, "KEY_PEEK", 2)
        # And a prefix's keys ranked apart from their count, as a common one's are.
        monkeypatch.setattr(queries, "KEYS_RANKED_AT_ONCE", 0)
    if request.param == "walks":
        monkeypatch.setattr(queries, "CANDIDATES", 0)
        monkeypatch.setattr(queries, "KEY_PREFIX_CAP", 0)
        monkeypatch.setattr(queries, "KEY_RANK_CAP", 0)
    return str(request.param)


def names(user: User, q: str, limit: int = 20) -> list[str]:
    visible = Customer.objects.restrict(user, Action.VIEW).filter(archived_at__isnull=True)
    return [c.name for c in search_customers(visible, q, limit=limit)]


# --- keys (pure) ----------------------------------------------------------------------------------------------------


def test_a_name_gives_its_full_pinyin_and_initials() -> None:
    # when
    keys = search_keys("华兴科技有限公司")
    # then
    assert (keys.name, keys.pinyin, keys.initials) == ("华兴科技有限公司", "huaxingkejiyouxiangongsi", "hxkjyxgs")
    assert ("phuaxingkejiyouxiangongsi", 0) in keys.keys
    # initials from every character before the legal form, none from inside it (yxgs would match everyone)
    assert [k for k, _position in keys.keys if k.startswith("i")] == ["ihxkjyxgs", "ixkjyxgs", "ikjyxgs", "ijyxgs"]


def test_a_names_letters_are_its_keys_each_after_a_space_marked_where_they_start_later() -> None:
    # when
    letters = search_keys("华兴科技有限公司").letters
    # then: the keys as the search rows hold them, those from a later character marked
    assert letters == " phuaxingkejiyouxiangongsi ihxkjyxgs ~ixkjyxgs ~ikjyxgs ~ijyxgs"


def test_polyphonic_characters_give_alternate_readings() -> None:
    # when
    chongqing = search_keys("重庆银行股份有限公司")
    # then: the phrase-aware reading first, the other readings in use as alternates
    assert chongqing.pinyin == "chongqingyinhanggufenyouxiangongsi"
    assert "zhongqingyinhanggufenyouxiangongsi" in chongqing.pinyin_alternates
    assert "chongqingyinxinggufenyouxiangongsi" in chongqing.pinyin_alternates  # 银行 read yinxing
    assert chongqing.initials == "cqyhgfyxgs"
    assert {"zqyhgfyxgs", "cqyxgfyxgs"} <= set(chongqing.initials_alternates)


def test_readings_nobody_uses_are_not_alternates() -> None:
    # when: 杭 has a rare reading kang, 技 qi, 有 wei, 司 ci in pypinyin's dictionary
    keys = search_keys("杭州华兴科技有限公司")
    # then
    assert keys.pinyin == "hangzhouhuaxingkejiyouxiangongsi"
    assert keys.pinyin_alternates == ()


def test_a_name_full_of_polyphones_keeps_at_most_eight_readings() -> None:
    # when
    keys = search_keys("长乐行单朝重长乐行单朝重有限公司")
    # then
    assert 1 + len(keys.pinyin_alternates) == MAX_READINGS


def test_full_width_letters_spaces_and_latin_runs_are_normalised() -> None:
    # when
    keys = search_keys("ＴＣＬ　华兴（杭州）科技")
    # then
    assert keys.name == "tcl华兴(杭州)科技"
    assert keys.pinyin == "tclhuaxinghangzhoukeji"
    assert keys.initials == "tclhxhzkj"


def test_a_query_is_read_as_a_name_or_as_letters_and_digits() -> None:
    # then
    assert read_query(" 华 兴 ") == read_query("华兴")
    assert read_query("华兴").kind == "name"  # type: ignore[union-attr]
    assert read_query("ＨＸＫＪ").text == "hxkj"  # type: ignore[union-attr]
    assert read_query("hxkj").kind == "letters"  # type: ignore[union-attr]
    assert read_query("91330").code == "91330"  # type: ignore[union-attr]
    assert read_query("华").substring is False  # type: ignore[union-attr]
    assert read_query(" \u3000 ") is None


def test_a_range_bound_stays_alphanumeric_so_any_collation_orders_it_alike() -> None:
    # then
    assert next_prefix("ihx") == "ihy"
    assert next_prefix("ihz") == "ii"
    assert next_prefix("i9") == "ia"
    assert next_prefix("zz") is None


def test_bulk_rows_hold_one_set_of_rows_per_unit_and_a_code_key() -> None:
    # when
    rows = bulk_search_rows([Searchable(7, "华兴科技有限公司", "91330100MA27XXXX0X", (3, 4, 3)), (8, "东方")])
    # then
    assert rows.names == [(7, "华兴科技有限公司"), (8, "东方")]
    assert {unit for _id, unit, *_rest in rows.grams} == {3, 4, None}
    assert (7, 3, 0, "华", 8) in rows.grams and (7, 4, 1, "兴科", 8) in rows.grams
    assert (7, 3, "c91330100ma27xxxx0x", 0, 8) in rows.keys
    assert (8, None, "pdongfang", 0, 2) in rows.keys


# --- ranked search within scope ---------------------------------------------------------------------------------


def test_two_and_three_chinese_characters_find_names_holding_them(bank: Bank, plan: str) -> None:
    # given
    make_customer(bank.alice, name="杭州华兴科技有限公司")
    make_customer(bank.alice, name="华兴物流有限公司")
    make_customer(bank.alice, name="东方华星贸易有限公司")
    # then: the name that starts with the query first
    assert names(bank.alice, "华兴") == ["华兴物流有限公司", "杭州华兴科技有限公司"]
    assert names(bank.alice, "华兴科") == ["杭州华兴科技有限公司"]
    assert names(bank.alice, "州华兴科技") == ["杭州华兴科技有限公司"]
    assert names(bank.alice, "兴华") == []


def test_one_chinese_character_finds_names_that_start_with_it(bank: Bank, plan: str) -> None:
    # given
    make_customer(bank.alice, name="华兴物流有限公司")
    make_customer(bank.alice, name="杭州华兴科技有限公司")
    # then
    assert names(bank.alice, "华") == ["华兴物流有限公司"]


def test_pinyin_initials_find_the_name_from_its_start_or_a_later_character(bank: Bank, plan: str) -> None:
    # given
    make_customer(bank.alice, name="杭州华兴科技有限公司")
    make_customer(bank.alice, name="华兴科技有限公司")
    make_customer(bank.alice, name="华星物流有限公司")
    # then
    assert names(bank.alice, "hxkj") == ["华兴科技有限公司", "杭州华兴科技有限公司"]
    assert names(bank.alice, "HXKJ") == ["华兴科技有限公司", "杭州华兴科技有限公司"]
    assert names(bank.alice, "hx") == ["华兴科技有限公司", "华星物流有限公司", "杭州华兴科技有限公司"]
    assert names(bank.alice, "yxgs") == []  # the legal form is not a key


def test_a_full_pinyin_prefix_finds_the_name(bank: Bank, plan: str) -> None:
    # given
    make_customer(bank.alice, name="华兴科技有限公司")
    make_customer(bank.alice, name="杭州华兴科技有限公司")
    # then
    assert names(bank.alice, "huaxing") == ["华兴科技有限公司"]
    assert names(bank.alice, "hangzhouhuaxingke") == ["杭州华兴科技有限公司"]
    assert names(bank.alice, "huaxingkejiyouxiangongsi") == ["华兴科技有限公司"]


def test_polyphonic_names_are_found_by_any_common_reading(bank: Bank, plan: str) -> None:
    # given
    make_customer(bank.alice, name="重庆银行股份有限公司")
    # then
    for q in ("chongqing", "zhongqing", "chongqingyinhang", "chongqingyinxing", "cqyh", "zqyx", "yh"):
        assert names(bank.alice, q) == ["重庆银行股份有限公司"], q


def test_a_credit_code_prefix_finds_the_customer_in_any_case(bank: Bank, plan: str) -> None:
    # given
    target = make_customer(bank.alice, name="东方机械有限公司")
    make_customer(bank.alice, name="东方物流有限公司")
    # then
    assert names(bank.alice, target.credit_code[:12]) == ["东方机械有限公司"]
    assert names(bank.alice, target.credit_code[:12].lower()) == ["东方机械有限公司"]
    assert names(bank.alice, target.credit_code) == ["东方机械有限公司"]


def test_letters_no_credit_code_starts_with_find_the_latin_in_a_name(bank: Bank, plan: str) -> None:
    # given names with latin letters and digits in them
    latin = make_customer(bank.alice, name="HK3M贸易有限公司")
    digits = make_customer(bank.alice, name="杭州913科技有限公司")
    # then letters no credit code can start with (H registers nothing) are still pinyin and initials
    assert names(bank.alice, "hk3m") == ["HK3M贸易有限公司"]
    assert names(bank.alice, "hk3mmy") == ["HK3M贸易有限公司"]
    # and digits a code may start with find codes and names alike
    assert names(bank.alice, latin.credit_code[:14]) == ["HK3M贸易有限公司"]
    assert names(bank.alice, "913kj") == ["杭州913科技有限公司"]
    assert digits.name in names(bank.alice, "91")


def test_a_name_of_letters_typed_whole_is_an_exact_match(bank: Bank, plan: str) -> None:
    # given a Chinese name read with one letter a character, as long as the latin name typed, and opened first
    make_customer(bank.alice, name="阿额")  # a e
    make_customer(bank.alice, name="AE")
    make_customer(bank.alice, name="AE科技有限公司")
    # then the name typed whole comes first; the Chinese one, read the same, is a prefix like the others
    assert names(bank.alice, "ae") == ["AE", "阿额", "AE科技有限公司"]
    assert names(bank.alice, "AE科技有限公司") == ["AE科技有限公司"]
    # and a name longer than a pinyin key holds, typed whole, before a shorter one whose pinyin begins the same
    make_customer(bank.alice, name="壮" * 9)  # zhuang × 9: 54 letters, of which the key holds 47
    make_customer(bank.alice, name="zhuang" * 8)
    assert names(bank.alice, "zhuang" * 8) == ["zhuang" * 8, "壮" * 9]


def test_full_width_and_spaced_input_finds_the_same(bank: Bank, plan: str) -> None:
    # given
    make_customer(bank.alice, name="华兴(杭州)科技有限公司")
    # then
    assert names(bank.alice, "华兴（杭州）") == ["华兴(杭州)科技有限公司"]
    assert names(bank.alice, "华 兴") == ["华兴(杭州)科技有限公司"]
    assert names(bank.alice, "ｈｘｈｚ") == ["华兴(杭州)科技有限公司"]


def test_exact_then_prefix_then_substring_then_shorter_then_older(bank: Bank, plan: str) -> None:
    # given
    prefix_short_older = make_customer(bank.alice, name="华兴纸业有限公司")
    inside_long = make_customer(bank.alice, name="杭州东方华兴科技有限公司")
    inside_short = make_customer(bank.alice, name="杭州华兴有限公司")
    prefix_long = make_customer(bank.alice, name="华兴精密机械有限公司")
    exact = make_customer(bank.alice, name="华兴")
    prefix_short_newer = make_customer(bank.alice, name="华兴物流有限公司")  # as long as 华兴纸业…, opened later
    # then
    expected = [exact, prefix_short_older, prefix_short_newer, prefix_long, inside_short, inside_long]
    assert names(bank.alice, "华兴") == [c.name for c in expected]


def test_the_most_relevant_twenty_come_first(bank: Bank, plan: str) -> None:
    # given: 25 customers hold 华兴; the five longest names rank last
    for n in range(20):
        make_customer(bank.alice, name=f"华兴{n:02d}有限公司")
    for n in range(5):
        make_customer(bank.alice, name=f"杭州华兴{n:02d}号物流有限公司")
    # when
    found = names(bank.alice, "华兴")
    # then
    assert found == [f"华兴{n:02d}有限公司" for n in range(20)]
    assert names(bank.alice, "华兴", limit=3) == ["华兴00有限公司", "华兴01有限公司", "华兴02有限公司"]


def test_what_a_process_keeps_of_the_banks_grams_never_changes_what_is_found(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the facts of 华兴 and 兴物 kept while they were rare (one row each) …
    monkeypatch.setattr(queries, "SMALL_SCOPE", 0)
    monkeypatch.setattr(queries, "CANDIDATES", 3)
    make_customer(bank.alice, name="华兴物流有限公司")
    assert names(bank.alice, "华兴物") == ["华兴物流有限公司"]
    assert gram_facts.count("华兴") == 1
    # … and then both common, the best names holding 华兴 without 兴物 and the other way round
    for n in range(6):
        make_customer(bank.alice, name=f"华兴{n}号有限公司")
        make_customer(bank.alice, name=f"兴物{n}号有限公司")
    make_customer(bank.alice, name="杭州华兴物业有限公司")
    expected = ["华兴物流有限公司", "杭州华兴物业有限公司"]
    # then: found alike with the facts out of date, and read afresh
    assert names(bank.alice, "华兴物") == expected
    assert gram_facts.count("华兴") == 1  # still the kept count
    gram_facts.clear()
    assert names(bank.alice, "华兴物") == expected
    assert gram_facts.count("华兴") == 4  # CANDIDATES + 1: counted no further


def test_a_common_grams_facts_hold_its_first_rows_with_their_names(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    # given: 华兴 held more than CANDIDATES times
    monkeypatch.setattr(queries, "CANDIDATES", 1)
    long = make_customer(bank.alice, name="杭州华兴科技有限公司")
    short = make_customer(bank.alice, name="华兴物流")
    # then: in rank order, each with where the gram sits in the name the search compares
    assert gram_facts.first("华兴") == [(short.pk, 0, "华兴物流"), (long.pk, 2, "杭州华兴科技有限公司")]
    assert gram_facts.first("物流") == []  # a rare gram's rows are read whole when searched, never sampled


def test_a_process_reads_a_grams_facts_again_after_their_time(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    make_customer(bank.alice, name="华兴物流有限公司")
    assert gram_facts.count("华兴") == 1
    make_customer(bank.alice, name="华兴科技有限公司")
    # then: kept for their time, then read again
    assert gram_facts.count("华兴") == 1
    monkeypatch.setattr(GramFacts, "SECONDS", 0.0)
    assert gram_facts.count("华兴") == 2


def test_a_process_keeps_the_facts_of_so_many_grams_only(bank: Bank, monkeypatch: pytest.MonkeyPatch) -> None:
    # given
    monkeypatch.setattr(GramFacts, "KEPT", 2)
    facts = GramFacts()
    make_customer(bank.alice, name="华兴物流有限公司")
    for gram in ("华兴", "兴物", "物流"):
        facts.count(gram)
    make_customer(bank.alice, name="华兴科技有限公司")
    # then: the least recently asked (华兴) was let go and is read afresh; the others are kept
    assert (facts.count("物流"), facts.count("华兴")) == (1, 2)


def _look_at_the_first_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """A branch's prefix search looks at the bank's first two customers in rank order before ranking its keys."""
    monkeypatch.setattr(queries, "SMALL_SCOPE", 0)
    monkeypatch.setattr(queries, "KEY_PEEK_WORTH", 0)
    monkeypatch.setattr(queries, "KEY_PEEK", 2)


def test_a_look_at_the_first_customers_keeps_the_co_rm_customers_owned_elsewhere(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: the bank's first two in rank order, carol's in branch 2 (alice its co-RM) and bob's in branch 1; then
    # another of branch 1, ranked after them
    _look_at_the_first_two(monkeypatch)
    make_customer(bank.carol, name="宁波港务公司", co_rms=(bank.alice,))
    make_customer(bank.bob, name="宁波港口有限公司")
    make_customer(bank.alice, name="宁波港口物流有限公司")
    # then: the head of branch 1 finds carol's first, as it ranks
    expected = ["宁波港务公司", "宁波港口有限公司", "宁波港口物流有限公司"]
    assert names(bank.head, "nbg") == names(bank.head, "ningbo") == expected


def test_a_look_at_the_first_customers_counts_those_who_joined_since(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: where the first two end, kept by the process
    _look_at_the_first_two(monkeypatch)
    for name in ("宁波港口有限公司", "宁波港务有限公司", "宁波港口物流有限公司"):
        make_customer(bank.alice, name=name)
    assert names(bank.head, "nbg") == ["宁波港口有限公司", "宁波港务有限公司", "宁波港口物流有限公司"]
    # when: a customer with a shorter name joins
    make_customer(bank.bob, name="宁波港公司")
    # then: it is looked at, and ranks first
    assert names(bank.head, "nbg")[:2] == ["宁波港公司", "宁波港口有限公司"]


def test_a_prefix_known_to_be_common_is_looked_for_without_counting_its_keys_and_found_alike(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: nbg starts more than KEY_PEEK_WORTH names in branch 1, nbgw one; the bank's first two already known
    monkeypatch.setattr(queries, "SMALL_SCOPE", 0)
    monkeypatch.setattr(queries, "KEY_PEEK_WORTH", 1)
    monkeypatch.setattr(queries, "KEY_PEEK", 2)
    for name in ("宁波港口有限公司", "宁波港务有限公司", "宁波港口物流有限公司", "宁波港口科技有限公司"):
        make_customer(bank.alice, name=name)
    queries.first_customers.last()
    expected = ["宁波港口有限公司", "宁波港务有限公司", "宁波港口物流有限公司", "宁波港口科技有限公司"]
    # when: each searched twice
    statements: dict[tuple[str, str], int] = {}
    for q in ("nbg", "nbgw"):
        for turn in ("first", "again"):
            with CaptureQueriesContext(connection) as captured:
                assert names(bank.head, q) == (expected if q == "nbg" else ["宁波港务有限公司"])
            statements[q, turn] = len(captured.captured_queries)
    # then: the common prefix's keys are not counted again; the rare one's are, being ranked with their count
    assert statements["nbg", "again"] == statements["nbg", "first"] - 1
    assert statements["nbgw", "again"] == statements["nbgw", "first"]
    # and when it is common no more, what the process keeps still finds what is there, as read afresh
    Customer.objects.filter(name__in=expected[:3]).update(archived_at=timezone.now())
    assert names(bank.head, "nbg") == ["宁波港口科技有限公司"]
    queries.common_prefixes.clear()
    assert names(bank.head, "nbg") == ["宁波港口科技有限公司"]


def test_out_of_scope_customers_never_appear(bank: Bank, plan: str) -> None:
    # given: carol (branch 2) has the better matches
    make_customer(bank.carol, name="华兴")
    make_customer(bank.carol, name="华兴科技有限公司")
    mine = make_customer(bank.alice, name="杭州华兴科技有限公司")
    # then: alice, her lead and her branch head see only branch 1's; the risk officer sees all
    for user in (bank.alice, bank.lead, bank.head):
        for q in ("华兴", "华", "hxkj", "huaxing", "hx", mine.credit_code[:6]):
            assert set(names(user, q)) <= {"杭州华兴科技有限公司"}, (user, q)
        assert names(user, "华兴") == ["杭州华兴科技有限公司"]
    assert names(bank.carol, "华兴") == ["华兴", "华兴科技有限公司"]
    assert names(bank.risk, "华兴") == ["华兴", "华兴科技有限公司", "杭州华兴科技有限公司"]
    assert names(bank.admin, "华兴") == []


def test_a_co_rm_and_the_heads_of_their_unit_find_the_customer(bank: Bank, plan: str) -> None:
    # given: carol's customer in branch 2, with alice (branch 1) as co-RM
    make_customer(bank.carol, name="宁波港务有限公司", co_rms=(bank.alice,))
    # then
    for user in (bank.alice, bank.lead, bank.head, bank.carol):
        assert names(user, "港务") == ["宁波港务有限公司"], user
        assert names(user, "nbgw") == ["宁波港务有限公司"], user
    assert names(bank.bob, "港务") == []


def test_a_co_rm_finds_only_the_customer_they_serve_among_its_units_others(bank: Bank, plan: str) -> None:
    # given: two customers of carol's unit (branch 2), alice the co-RM of the one that ranks second
    make_customer(bank.carol, name="宁波港口有限公司")
    make_customer(bank.carol, name="宁波港务有限公司", co_rms=(bank.alice,))
    # then: letters looked up under the unit find alice's one, first, by initials and by pinyin
    for q in ("nbg", "nbgw", "ningbog", "NINGBO"):
        assert names(bank.alice, q, limit=1) == ["宁波港务有限公司"], q
    assert names(bank.carol, "nbg") == ["宁波港口有限公司", "宁波港务有限公司"]


def test_archived_customers_are_left_out_unless_asked_for(bank: Bank, plan: str) -> None:
    # given
    archived = make_customer(bank.alice, name="华兴物流有限公司")
    services.archive_customer(actor=bank.alice, customer_id=archived.pk, version=archived.version)
    make_customer(bank.alice, name="杭州华兴科技有限公司")
    restricted = Customer.objects.restrict(bank.alice, Action.VIEW)
    # when
    default = CustomerFilter({"q": "华兴"})
    with_archived = CustomerFilter({"q": "华兴", "include_archived": "on"})
    assert default.is_valid() and with_archived.is_valid()
    # then
    assert [c.name for c in default.apply(restricted)] == ["杭州华兴科技有限公司"]
    assert [c.name for c in with_archived.apply(restricted)] == ["华兴物流有限公司", "杭州华兴科技有限公司"]


def test_other_filters_narrow_a_search(bank: Bank, plan: str) -> None:
    # given
    prospect = make_customer(bank.alice, name="华兴物流有限公司")
    Customer.objects.filter(pk=prospect.pk).update(status="prospect")
    make_customer(bank.alice, name="杭州华兴科技有限公司")
    customer_filter = CustomerFilter({"q": "hx", "status": "customer"})
    assert customer_filter.is_valid()
    # when
    found = customer_filter.apply(Customer.objects.restrict(bank.alice, Action.VIEW))
    # then
    assert [c.name for c in found] == ["杭州华兴科技有限公司"]


def test_a_filter_that_leaves_out_the_best_matches_finds_those_ranked_further_down(bank: Bank, plan: str) -> None:
    # given: the 30 shortest names starting hx are prospects, more than a first read of the ranks holds for one match
    for n in range(30):
        prospect = make_customer(bank.alice, name=f"华兴{n:02d}")
        Customer.objects.filter(pk=prospect.pk).update(status="prospect")
    make_customer(bank.alice, name="华兴物流有限公司")
    customers = Customer.objects.restrict(bank.alice, Action.VIEW).filter(status="customer")
    # then
    for q in ("hx", "huaxing", "华兴"):
        assert [c.name for c in search_customers(customers, q, limit=1)] == ["华兴物流有限公司"], q


@pytest.mark.parametrize("q", ["华兴", "hx", "huaxing"])
def test_a_scope_of_more_than_a_small_one_is_searched_on_the_indexes_and_finds_the_same(
    bank: Bank, monkeypatch: pytest.MonkeyPatch, q: str
) -> None:
    # given: alice's book of three, one of them carol's with alice as co-RM, as large as a small scope may be
    monkeypatch.setattr(queries, "SMALL_SCOPE", 3)
    large: list[str] = []
    search_large = queries._search_large
    monkeypatch.setattr(queries, "_search_large", lambda *args: large.append(q) or search_large(*args))
    make_customer(bank.alice, name="华兴物流有限公司")
    make_customer(bank.carol, name="华兴科技", co_rms=(bank.alice,))
    make_customer(bank.alice, name="东方机械有限公司")
    make_customer(bank.bob, name="华兴")  # not alice's
    # when
    small = names(bank.alice, q)
    # then: searched over its rows
    assert (small, large) == (["华兴科技", "华兴物流有限公司"], [])
    # when: a fourth customer
    make_customer(bank.alice, name="华兴机械厂")
    # then: on the indexes, the same and the new one
    assert names(bank.alice, q) == ["华兴科技", "华兴机械厂", "华兴物流有限公司"]
    assert large == [q]


# Names whose keys differ in every way the small scope's matching must follow: polyphones (重庆, 银行), latin runs and
# digits (3m, tcl), a name that is letters only, one long enough to cut its keys, a legal form, one full of 壮.
MATCHED_NAMES = (
    "华兴科技有限公司",
    "杭州华兴物流有限公司",
    "重庆银行股份有限公司",
    "中国银行重庆分行",
    "长城汽车股份有限公司",
    "TCL科技集团股份有限公司",
    "3M中国有限公司",
    "ae",
    "阿额",
    "华兴",
    "行知教育咨询有限公司",
    "朝阳区和平里街道重型机械厂",
    "壮" * 30,
    "浙江省杭州市西湖区文三路华星时代广场软件开发有限责任公司",
)


def test_a_small_scope_finds_what_the_indexes_find_in_the_same_order(
    bank: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    customers = [make_customer(bank.alice, name=name) for name in MATCHED_NAMES]
    queries_asked = {"Hx", "hangzhou", "zhongqing", "chongqing", "yinhang", "yh", "tcl", "3m", "ae", "a", "zz"}
    for customer in customers:
        keys = search_keys(customer.name)
        queries_asked |= {key[1:][:n] for key, _position in keys.keys for n in (1, 2, 3, 5, 30, 60)}
        queries_asked |= {customer.credit_code[:n] for n in (2, 8, 18)}
        queries_asked |= {keys.pinyin + "x", "z" * 60}
    # when: searched over the scope's rows, then on the indexes
    small = {q: names(bank.alice, q) for q in sorted(queries_asked)}
    monkeypatch.setattr(queries, "SMALL_SCOPE", 0)
    large = {q: names(bank.alice, q) for q in sorted(queries_asked)}
    # then
    assert small == large
    assert small["zhongqing"] == small["chongqing"] == ["重庆银行股份有限公司"]
    assert small["yh"] == ["中国银行重庆分行", "重庆银行股份有限公司"]  # initials from a later character
    assert small["ae"] == ["ae", "阿额"]


def test_every_way_a_customer_is_written_keeps_its_letters(bank: Bank) -> None:
    # when: created one by one and in bulk (an import), renamed, made by a loader
    alone = services.create_customer(actor=bank.alice, data={"name": "华兴科技有限公司", "credit_code": credit_code()})
    bulk = services.create_customers(actor=bank.alice, rows=[{"name": "重庆银行", "credit_code": credit_code()}])[0]
    renamed = services.create_customer(actor=bank.alice, data={"name": "东方机械", "credit_code": credit_code()})
    renamed = services.update_customer(
        actor=bank.alice, customer_id=renamed.pk, version=renamed.version, data={"name": "长城汽车有限公司"}
    )
    loaded = make_customer(bank.alice, name="TCL科技")
    # then
    assert isinstance(bulk, Customer)
    for customer in (alone, bulk, renamed, loaded):
        saved = Customer.objects.get(pk=customer.pk)
        assert saved.search_letters == search_keys(saved.name).letters != "", saved.name


# --- keys follow the services -----------------------------------------------------------------------------------


def test_a_new_customer_is_found_at_once(bank: Bank) -> None:
    # when
    services.create_customer(actor=bank.alice, data={"name": "华兴科技有限公司", "credit_code": credit_code()})
    # then
    assert names(bank.alice, "hxkj") == ["华兴科技有限公司"]


def test_a_renamed_customer_is_found_by_its_new_name_only(bank: Bank, plan: str) -> None:
    # given
    customer = make_customer(bank.alice, name="华兴科技有限公司")
    # when
    services.update_customer(
        actor=bank.alice, customer_id=customer.pk, version=customer.version, data={"name": "东方机械有限公司"}
    )
    # then
    assert names(bank.alice, "华兴") == names(bank.alice, "hxkj") == []
    assert names(bank.alice, "东方") == names(bank.alice, "dfjx") == ["东方机械有限公司"]
    customer.refresh_from_db()
    assert customer.search_name == "东方机械有限公司"


def test_a_customer_moved_to_another_branch_is_found_there(bank: Bank, plan: str) -> None:
    # given: a customer of bob's (branch 1), searchable by the head of branch 1
    customer = make_customer(bank.bob, name="华兴科技有限公司")
    head2 = User.objects.create_user(username="head2", password="x" * 20, role="branch_head", unit=bank.branch2)
    head_office = User.objects.create_user(username="ho", password="x" * 20, role="branch_head", unit=bank.head_office)
    assert names(bank.head, "华兴") == ["华兴科技有限公司"]
    # when: the head office hands it to carol in branch 2
    services.update_customer(
        actor=head_office,
        customer_id=customer.pk,
        version=customer.version,
        data={"primary_rm": bank.carol, "owning_unit": bank.team3},
    )
    # then
    assert names(head2, "华兴") == names(head2, "hxkj") == ["华兴科技有限公司"]
    assert names(bank.head, "华兴") == names(bank.head, "hxkj") == []


def test_new_co_rms_bring_the_customer_into_their_units_search(bank: Bank, plan: str) -> None:
    # given
    customer = make_customer(bank.carol, name="宁波港务有限公司")
    assert names(bank.head, "港务") == []
    # when
    services.set_co_rms(actor=bank.carol, customer_id=customer.pk, version=customer.version, users=[bank.alice])
    # then
    assert names(bank.head, "港务") == names(bank.head, "gw") == ["宁波港务有限公司"]


def test_reindex_search_rebuilds_the_rows_of_customers_loaded_another_way(bank: Bank) -> None:
    # given: customers written without their search rows
    for n in range(5):
        Customer.objects.create(
            name=f"华兴{n}号有限公司", credit_code=credit_code(), owning_unit=bank.team1, primary_rm=bank.alice
        )
    assert names(bank.alice, "华兴") == []
    out = io.StringIO()
    # when
    call_command("reindex-search", "--batch", "2", stdout=out)
    # then
    assert names(bank.alice, "华兴") == [f"华兴{n}号有限公司" for n in range(5)]
    assert names(bank.alice, "hx2") == ["华兴2号有限公司"]
    assert "5/5 customers (100%)" in out.getvalue()
    assert out.getvalue().splitlines()[-1].startswith("reindex-search: 5 customers indexed")


def test_bulk_rows_are_what_a_save_writes(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, name="重庆银行股份有限公司", co_rms=(bank.carol,))
    saved_grams = set(
        CustomerNameGram.objects.filter(customer=customer).values_list(
            "customer_id", "unit_id", "position", "gram", "name_length"
        )
    )
    saved_keys = set(
        CustomerSearchKey.objects.filter(customer=customer).values_list(
            "customer_id", "unit_id", "key", "position", "name_length"
        )
    )
    # when
    rows = bulk_search_rows(
        [Searchable(customer.pk, customer.name, customer.credit_code, (bank.team1.pk, bank.team3.pk))]
    )
    # then
    assert set(rows.grams) == saved_grams
    assert set(rows.keys) == saved_keys
    index_customers([customer.pk])  # idempotent
    assert CustomerNameGram.objects.filter(customer=customer).count() == len(saved_grams)


# --- pages and the API ----------------------------------------------------------------------------------------------


@pytest.fixture
def alice_client(bank: Bank, client: Client) -> Client:
    client.force_login(bank.alice)
    return client


def test_the_list_page_shows_the_ranked_matches(bank: Bank, alice_client: Client) -> None:
    # given
    make_customer(bank.alice, name="杭州华兴科技有限公司")
    make_customer(bank.alice, name="华兴物流有限公司")
    # when
    response = alice_client.get(reverse("customers:list"), {"q": "华兴"}, **HTMX)
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert body.index("华兴物流有限公司") < body.index("杭州华兴科技有限公司")
    assert "按相关度排列。" in body  # Most relevant first.


def test_one_character_on_the_list_page_says_to_type_two(bank: Bank, alice_client: Client) -> None:
    # when
    response = alice_client.get(reverse("customers:list"), {"q": "华"}, **HTMX)
    # then
    assert "输入至少 2 个字可查找名称中任意位置" in response.content.decode()  # type at least 2 characters…


def test_the_quick_search_drop_down_lists_the_best_matches_in_scope(bank: Bank, alice_client: Client) -> None:
    # given
    mine = make_customer(bank.alice, name="华兴科技有限公司")
    theirs = make_customer(bank.carol, name="华兴物流有限公司")
    # when
    response = alice_client.get(reverse("customers:quick_search"), {"q": "hx"}, **HTMX)
    # then
    body = response.content.decode()
    assert response.status_code == 200
    assert reverse("customers:detail", args=[mine.pk]) in body
    assert theirs.name not in body and reverse("customers:detail", args=[theirs.pk]) not in body
    assert "<html" not in body


def test_the_quick_search_drop_down_is_empty_without_a_query(bank: Bank, alice_client: Client) -> None:
    # when
    response = alice_client.get(reverse("customers:quick_search"), {"q": "  "}, **HTMX)
    # then
    assert response.status_code == 200
    assert response.content.decode().strip() == ""


def test_the_quick_search_drop_down_needs_a_login(bank: Bank, client: Client) -> None:
    # given
    make_customer(bank.alice, name="华兴科技有限公司")
    # when
    response = client.get(reverse("customers:quick_search"), {"q": "华兴"})
    # then
    assert response.status_code == 302
    assert "华兴" not in response.content.decode()


def test_the_header_box_asks_for_the_drop_down(bank: Bank, alice_client: Client) -> None:
    # when
    response = alice_client.get(reverse("home"))
    # then
    body = response.content.decode()
    assert f'data-rm-quick-search="{reverse("customers:quick_search")}"' in body
    assert 'id="rm-quick-results"' in body


def test_the_api_answers_q_with_the_ranked_best_and_no_cursor(bank: Bank, alice_client: Client) -> None:
    # given
    for n in range(4):
        make_customer(bank.alice, name=f"华兴{n}号有限公司")
    make_customer(bank.carol, name="华兴")
    # when
    response = alice_client.get("/api/v1/customers", {"q": "hx", "limit": 3})
    # then
    body = response.json()
    assert response.status_code == 200
    assert [item["name"] for item in body["items"]] == ["华兴0号有限公司", "华兴1号有限公司", "华兴2号有限公司"]
    assert body["next_cursor"] is None


@pytest.mark.parametrize("limit", [0, 201])
def test_the_api_refuses_a_search_limit_out_of_range(bank: Bank, alice_client: Client, limit: int) -> None:
    # when
    response = alice_client.get("/api/v1/customers", {"q": "hx", "limit": limit})
    # then
    assert response.status_code == 422
    assert list(response.json()["fields"]) == ["limit"]


def test_the_openapi_description_explains_q(client: Client) -> None:
    # when
    schema: dict[str, Any] = client.get("/api/v1/openapi.json").json()
    # then
    description = schema["paths"]["/api/v1/customers"]["get"]["description"]
    assert "next_cursor" in description and "most relevant first" in description


def test_normalize_is_what_search_name_holds(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice, name="ＡＢＣ 华兴（杭州）")
    # then
    customer.refresh_from_db()
    assert customer.search_name == normalize("ＡＢＣ 华兴（杭州）") == "abc华兴(杭州)"
