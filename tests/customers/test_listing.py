"""The customer list's scope in name order (rmdesk/customers/listing.py): a unit's or an RM's scope read in two halves
must give exactly what one query over restrict() gives, page by page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rmdesk.access.policy import Action
from rmdesk.customers import listing
from rmdesk.customers.listing import scope_list
from rmdesk.customers.models import Customer, CustomerCoRM
from rmdesk.org.models import User
from tests.personas import Bank, make_customer


def _everything_in_order(queryset: QuerySet[Customer]) -> list[int]:
    return list(queryset.order_by("name", "pk").values_list("pk", flat=True))


def _pages(queryset: QuerySet[Customer], size: int) -> list[int]:
    scope = scope_list(queryset)
    count = scope.count()
    ids = [pk for start in range(0, count, size) for pk in scope.ids(start, size)]
    assert len(ids) == count
    # The pages' rows, as the list reads them, are the same customers in the same order.
    rows = [
        c.pk for start in range(0, count, size) for c in scope.page(queryset.select_related("primary_rm"), start, size)
    ]
    assert rows == ids
    return ids


def _visible(user: User) -> QuerySet[Customer]:
    return Customer.objects.restrict(user, Action.VIEW).filter(archived_at__isnull=True)


@pytest.fixture
def book(bank: Bank) -> dict[str, Customer]:
    """Customers of both branches, names interleaving, two of branch 2 co-RM'd from branch 1, one archived."""
    names = ["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛", "壬", "癸"]
    made = {}
    for i, name in enumerate(names):
        rm = (bank.alice, bank.bob, bank.carol)[i % 3]
        co_rms = (bank.dave,) if rm == bank.carol and i < 6 else ()
        made[name] = make_customer(rm, name=f"{name}公司", co_rms=co_rms)
    made["dup"] = make_customer(bank.alice, name="丙公司")  # same name: the id decides
    made["archived"] = make_customer(bank.bob, name="乙乙公司", archived_at=timezone.now())
    made["foreign"] = make_customer(bank.carol, name="子公司")  # branch 2, no co-RM in branch 1
    return made


@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_a_branch_heads_pages_are_the_scope_in_name_order_with_co_rm_customers_of_other_branches(
    bank: Bank, book: dict[str, Customer], size: int
) -> None:
    # given
    visible = _visible(bank.head)
    # when
    ids = _pages(visible, size)
    # then
    assert ids == _everything_in_order(visible)
    assert book["丙"].pk in ids and book["己"].pk in ids  # carol's (branch 2), co-RM'd by dave (branch 1)
    assert book["foreign"].pk not in ids and book["archived"].pk not in ids
    assert sorted(scope_list(visible).outside) == sorted([book["丙"].pk, book["己"].pk])


def test_a_co_rm_customer_moved_out_of_the_branch_by_any_means_stays_on_its_list(
    bank: Bank, book: dict[str, Customer]
) -> None:
    # given: alice's customer (branch 1) with dave (branch 1) as co-RM, the link written without its customer's unit
    moved = make_customer(bank.alice, name="迁出公司")
    moved.co_rms.add(bank.dave)
    link = CustomerCoRM.objects.get(customer=moved)
    assert link.customer_unit_id == bank.alice.unit_id  # the database filled it in
    # when: the customer moves to branch 2 by an update no service wrote
    Customer.objects.filter(pk=moved.pk).update(owning_unit=bank.carol.unit, primary_rm=bank.carol)
    # then: the link follows, and the branch head still lists it, as the co-RM customer of one of theirs
    link.refresh_from_db()
    assert link.customer_unit_id == bank.carol.unit_id
    visible = _visible(bank.head)
    assert moved.pk in scope_list(visible).outside
    assert _pages(visible, 3) == _everything_in_order(visible)


def test_filters_and_archived_apply_to_both_halves(bank: Bank, book: dict[str, Customer]) -> None:
    # given
    Customer.objects.filter(pk__in=[book["丙"].pk, book["乙"].pk]).update(status="dormant")  # outside, owned
    everything = Customer.objects.restrict(bank.head, Action.VIEW)
    dormant = everything.filter(status="dormant")
    # when / then
    assert _pages(dormant, 1) == _everything_in_order(dormant)
    assert sorted(_pages(dormant, 1)) == sorted([book["丙"].pk, book["乙"].pk])
    assert book["archived"].pk in _pages(everything, 2)
    assert _pages(everything, 2) == _everything_in_order(everything)


def test_a_team_lead_an_rm_and_head_office_get_the_same_as_one_query(bank: Bank, book: dict[str, Customer]) -> None:
    for user in (bank.lead, bank.alice, bank.carol, bank.auditor, bank.risk):
        visible = _visible(user)
        assert _pages(visible, 2) == _everything_in_order(visible), user


@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_an_rms_pages_are_their_own_customers_and_their_co_rm_customers_in_name_order(
    bank: Bank, book: dict[str, Customer], size: int
) -> None:
    # given: dave holds customers of his own, named between carol's two he is a co-RM of, one archived, and is listed as
    # a co-RM of one of his own as well
    own = [make_customer(bank.dave, name=name) for name in ("丁丁公司", "子子公司", "甲甲公司")]
    own.append(make_customer(bank.dave, name="丙丙公司", co_rms=(bank.dave,)))
    gone = make_customer(bank.dave, name="乙丁公司", archived_at=timezone.now())
    visible = _visible(bank.dave)
    # when
    ids = _pages(visible, size)
    # then
    assert ids == _everything_in_order(visible)
    assert sorted(ids) == sorted([c.pk for c in own] + [book["丙"].pk, book["己"].pk])
    assert gone.pk not in ids
    assert sorted(scope_list(visible).outside) == sorted([book["丙"].pk, book["己"].pk])  # his own one only once
    everything = Customer.objects.restrict(bank.dave, Action.VIEW)
    assert _pages(everything, size) == _everything_in_order(everything)
    assert gone.pk in _pages(everything, size)
    named = everything.filter(name__contains="丙")
    assert _pages(named, size) == _everything_in_order(named)


def test_staff_serving_many_customers_of_other_units_are_read_as_one_query(
    bank: Bank, book: dict[str, Customer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # given
    monkeypatch.setattr(listing, "CO_RM_CHECKED", 1)
    visible = _visible(bank.head)
    # when
    scope = scope_list(visible)
    # then
    assert scope.owned is None
    assert _pages(visible, 3) == _everything_in_order(visible)


def test_the_list_page_counts_and_pages_a_branch(bank: Bank, book: dict[str, Customer], client: Client) -> None:
    # given
    client.force_login(bank.head)
    expected = _everything_in_order(_visible(bank.head))
    # when
    first = client.get(reverse("customers:list"))
    beyond = client.get(reverse("customers:list"), {"page": "99"})
    # then
    assert first.status_code == beyond.status_code == 200
    assert first.context["page_obj"].paginator.count == len(expected)
    assert [c.pk for c in first.context["page_obj"].object_list] == expected
    assert [c.pk for c in beyond.context["page_obj"].object_list] == expected  # the last page, the only one


@pytest.fixture
def branch_book(bank: Bank) -> dict[str, Customer]:
    """Branch 1's two teams' customers, names interleaving across the units, one archived in each, no co-RM links."""
    made = {}
    for i, name in enumerate(["甲", "乙", "丙", "丁", "戊", "己", "庚", "辛"]):
        made[name] = make_customer((bank.alice, bank.bob)[i % 2], name=f"{name}公司")
    made["dup"] = make_customer(bank.bob, name="甲公司")  # same name in the other unit: the id decides
    for rm in (bank.alice, bank.bob):
        made[f"archived {rm.username}"] = make_customer(rm, name="丙丙公司", archived_at=timezone.now())
    return made


@pytest.mark.parametrize("size", [1, 2, 3, 50])
def test_a_page_merged_from_each_units_first_rows_is_the_scopes_page(
    bank: Bank, branch_book: dict[str, Customer], size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given: a branch head's scope of several units with no co-RM customer from elsewhere; pages down to the sixth row
    # merged unit by unit (PostgreSQL), further down from the scope's rows sorted whole
    monkeypatch.setattr(listing, "BY_UNIT_DEPTH", 6)
    merged: list[int] = []
    page_by_unit = listing.ScopeList._page_by_unit

    def spy(scope: listing.ScopeList, start: int, size: int) -> list[int]:
        merged.append(start)
        return page_by_unit(scope, start, size)

    monkeypatch.setattr(listing.ScopeList, "_page_by_unit", spy)
    visible = _visible(bank.head)
    everything = Customer.objects.restrict(bank.head, Action.VIEW)
    # when
    live = scope_list(visible, archived_hidden=True)
    ids = [pk for start in range(0, live.count(), size) for pk in live.ids(start, size)]
    whole = scope_list(everything)
    all_ids = [pk for start in range(0, whole.count(), size) for pk in whole.ids(start, size)]
    # then
    assert ids == _everything_in_order(visible) and len(ids) == 9
    assert all_ids == _everything_in_order(everything) and len(all_ids) == 11
    assert live.outside == [] and len(live.units) > 1
    if connection.vendor == "postgresql":
        assert bool(merged) == (size <= 6) and all(start + size <= 6 for start in merged)
    else:
        assert merged == []  # SQLite walks its name index and stops at the page
    dormant = visible.filter(status="dormant")
    assert scope_list(dormant, archived_hidden=True).ids(0, size) == []
