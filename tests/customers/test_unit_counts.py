"""Each unit's customer counts (UnitCustomerCount), kept by the database on every write, and the list's total drawn
from them: they must always be what counting the customers gives, whichever way the customers were written."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Count, Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rmdesk.access.policy import Action
from rmdesk.customers import services
from rmdesk.customers.models import Customer, UnitCustomerCount
from rmdesk.demo.builder import build_demo_bank
from tests.personas import Bank, credit_code, make_customer


def _counted() -> dict[int, tuple[int, int]]:
    """What counting the customers gives: per owning unit, current and archived."""
    archived = Q(archived_at__isnull=False)
    rows = Customer.objects.values("owning_unit_id").annotate(
        current=Count("pk", filter=~archived), archived=Count("pk", filter=archived)
    )
    return {row["owning_unit_id"]: (row["current"], row["archived"]) for row in rows}


def _kept() -> dict[int, tuple[int, int]]:
    """What the units' counts say, units with none left out."""
    rows = UnitCustomerCount.objects.values_list("unit_id", "current", "archived")
    return {unit: (current, archived) for unit, current, archived in rows if current or archived}


def test_counts_follow_customers_created_archived_restored_moved_and_deleted(bank: Bank) -> None:
    # given
    customers = [make_customer(rm) for rm in (bank.alice, bank.alice, bank.bob, bank.carol)]
    assert _kept() == _counted() == {bank.team1.pk: (2, 0), bank.team2.pk: (1, 0), bank.team3.pk: (1, 0)}
    # when: one archived, one moved to another branch, one deleted, one renamed only
    Customer.objects.filter(pk=customers[0].pk).update(archived_at=timezone.now())
    Customer.objects.filter(pk=customers[2].pk).update(owning_unit=bank.team3)
    customers[3].delete()
    Customer.objects.filter(pk=customers[1].pk).update(name="改名有限公司")
    # then
    assert _kept() == _counted() == {bank.team1.pk: (1, 1), bank.team3.pk: (1, 0)}
    # when: restored, and archived while moving
    Customer.objects.filter(pk=customers[0].pk).update(archived_at=None)
    Customer.objects.filter(pk=customers[1].pk).update(archived_at=timezone.now(), owning_unit=bank.team2)
    # then
    assert _kept() == _counted() == {bank.team1.pk: (1, 0), bank.team2.pk: (0, 1), bank.team3.pk: (1, 0)}


def test_counts_follow_statements_over_many_customers_at_once(bank: Bank) -> None:
    # given: a bulk insert over three units, some archived
    now = timezone.now()
    Customer.objects.bulk_create(
        Customer(
            name=f"批量{n}有限公司",
            credit_code=credit_code(),
            owning_unit=rm.unit,
            primary_rm=rm,
            status="customer",
            archived_at=now if n % 3 == 0 else None,
        )
        for n, rm in enumerate([bank.alice, bank.bob, bank.carol] * 4)
    )
    assert _kept() == _counted()
    # when: one statement moves a unit's customers, another archives across units, a third deletes
    Customer.objects.filter(owning_unit=bank.team2).update(owning_unit=bank.team1)
    Customer.objects.filter(name__startswith="批量1").update(archived_at=now)
    Customer.objects.filter(owning_unit=bank.team3, archived_at__isnull=True).delete()
    # then
    assert _kept() == _counted()


def test_counts_follow_the_services(bank: Bank) -> None:
    # given
    customer = services.create_customer(
        actor=bank.alice,
        data={"name": "华兴科技有限公司", "credit_code": credit_code(), "primary_rm": bank.alice},
    )
    assert _kept() == _counted() == {bank.team1.pk: (1, 0)}
    # when
    services.archive_customer(actor=bank.alice, customer_id=customer.pk, version=customer.version)
    # then
    assert _kept() == _counted() == {bank.team1.pk: (0, 1)}


def test_a_demo_bank_is_counted_as_loaded(db: Any) -> None:
    # when
    build_demo_bank(customers=60, seed=7)
    # then
    assert _kept() == _counted() and sum(current for current, _ in _kept().values()) > 0


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, "current"),
        ({"include_archived": "on"}, "all"),
        ({"tier": "core"}, "filtered"),
    ],
)
def test_the_list_counts_a_branch_from_its_units_only_when_nothing_else_filters_it(
    bank: Bank, client: Client, query: dict[str, str], expected: str
) -> None:
    # given: branch 1's customers in two teams, some archived, one co-RM'd from branch 2
    for rm, tier in [(bank.alice, "core"), (bank.alice, "key"), (bank.bob, "core"), (bank.dave, "general")]:
        make_customer(rm, tier=tier)
    make_customer(bank.bob, tier="core", archived_at=timezone.now())
    make_customer(bank.carol, tier="core", co_rms=(bank.alice,))
    visible = Customer.objects.restrict(bank.head, Action.VIEW)
    totals = {
        "current": visible.filter(archived_at__isnull=True).count(),
        "all": visible.count(),
        "filtered": visible.filter(archived_at__isnull=True, tier="core").count(),
    }
    assert totals == {"current": 5, "all": 6, "filtered": 3}
    client.force_login(bank.head)
    # when
    response = client.get(reverse("customers:list"), query)
    # then
    assert response.context["page_obj"].paginator.count == totals[expected]
