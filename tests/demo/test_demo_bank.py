"""The demo bank: its shape, its data's validity, its determinism and the `rmdesk demo` command."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.test import override_settings

from rmdesk.audit.models import AuditEvent
from rmdesk.core import validators
from rmdesk.customers.choices import Direction, KeyPersonRole, LifecycleStatus, RelationshipKind
from rmdesk.customers.models import Customer, CustomerCoRM, FinancialStatement, KeyPerson, Relationship
from rmdesk.demo import names
from rmdesk.demo.builder import DEMO_PASSWORD, DEMO_USERS, NAMED_USERS, DemoBankError, DemoSummary, build_demo_bank
from rmdesk.development.models import Prospect
from rmdesk.org.choices import Role, UnitLevel
from rmdesk.org.models import OrgUnit, User
from rmdesk.tasks.choices import TaskStatus
from rmdesk.tasks.models import Task


def _branch_code(unit: OrgUnit) -> str:
    """The branch a unit sits in: the second code of its path (/HO/BR1/…)."""
    return unit.path.split("/")[2]


def _snapshot() -> dict[str, list[Any]]:
    """Everything the demo load wrote except keys and timestamps, in a stable order."""
    return {
        "units": list(OrgUnit.objects.order_by("code").values_list("code", "name", "level", "path")),
        "users": list(User.objects.order_by("username").values_list(
            "username", "full_name", "role", "unit__code", "is_staff", "is_superuser")),
        "customers": list(Customer.objects.order_by("credit_code").values_list(
            "name", "credit_code", "legal_representative", "registered_capital", "established_on", "industry",
            "region", "size", "ownership", "credit_rating", "tier", "status", "owning_unit__code",
            "primary_rm__username")),
        "co_rms": list(CustomerCoRM.objects.order_by("customer__credit_code", "user__username").values_list(
            "customer__credit_code", "user__username")),
        "key_persons": list(KeyPerson.objects.order_by("customer__credit_code", "role", "id_number").values_list(
            "customer__credit_code", "role", "name", "title", "decision_role", "phone", "id_number",
            "preferences")),
        "statements": list(FinancialStatement.objects.order_by("customer__credit_code", "year").values_list(
            "customer__credit_code", "year", "total_assets", "total_liabilities", "revenue", "net_profit",
            "operating_cash_flow")),
        "relationships": list(Relationship.objects.order_by(
            "customer__credit_code", "kind", "counterparty_credit_code").values_list(
            "customer__credit_code", "kind", "direction", "counterparty__credit_code", "counterparty_name",
            "counterparty_credit_code", "share_pct", "amount", "controller_name", "note")),
        "tasks": sorted(Task.objects.values_list(
            "owner__username", "customer__credit_code", "kind", "title", "due_date", "status", "priority")),
    }


def _snapshot_of_a_load(seed: int) -> dict[str, list[Any]]:
    """Load the bank inside a savepoint, take the snapshot and roll the load back."""
    with transaction.atomic():
        build_demo_bank(customers=60, seed=seed)
        snapshot = _snapshot()
        transaction.set_rollback(True)
    return snapshot


def _guarantee_edges() -> set[tuple[int, int]]:
    """Guarantor → guaranteed between customers, whichever side recorded the link."""
    edges = set()
    links = Relationship.objects.filter(kind=RelationshipKind.GUARANTEE, counterparty__isnull=False)
    for customer_id, counterparty_id, direction in links.values_list("customer_id", "counterparty_id", "direction"):
        if direction == Direction.OUTWARD:
            edges.add((customer_id, counterparty_id))
        elif direction == Direction.INWARD:
            edges.add((counterparty_id, customer_id))
    return edges


def _has_path(edges: set[tuple[int, int]], length: int) -> bool:
    """Whether some simple path of `length` edges exists (A→B→C→D is three)."""
    successors: dict[int, list[int]] = defaultdict(list)
    for guarantor, guaranteed in edges:
        successors[guarantor].append(guaranteed)

    def walk(node: int, seen: tuple[int, ...]) -> bool:
        if len(seen) == length + 1:
            return True
        return any(walk(nxt, (*seen, nxt)) for nxt in successors[node] if nxt not in seen)

    return any(walk(start, (start,)) for start in list(successors))


# --- org and users ----------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_org_tree_has_a_head_office_three_branches_six_sub_branches_twelve_teams_and_a_department(
    demo_bank: DemoSummary,
) -> None:
    # given: the demo bank
    # when
    levels = defaultdict(list)
    for unit in OrgUnit.objects.select_related("parent"):
        levels[unit.level].append(unit)
    # then
    assert {level: len(units) for level, units in levels.items()} == {
        UnitLevel.HEAD_OFFICE: 1, UnitLevel.BRANCH: 3, UnitLevel.SUB_BRANCH: 6, UnitLevel.TEAM: 12,
        UnitLevel.DEPARTMENT: 1,
    }
    assert demo_bank.org_units == 23
    for unit in OrgUnit.objects.select_related("parent"):
        expected = (unit.parent.path if unit.parent else "/") + unit.code + "/"
        assert unit.path == expected
    assert OrgUnit.objects.get(code="HO").path == "/HO/"
    assert OrgUnit.objects.get(code="BR1-S1-T1").path == "/HO/BR1/BR1-S1/BR1-S1-T1/"
    assert OrgUnit.objects.get(code="HO-CORP").parent == OrgUnit.objects.get(code="HO")
    assert [u.name for u in OrgUnit.objects.filter(level=UnitLevel.BRANCH).order_by("code")] == [
        "杭州分行", "宁波分行", "温州分行"]


@pytest.mark.django_db
def test_every_named_user_has_their_role_unit_name_and_the_demo_password(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    users = {u.username: u for u in User.objects.select_related("unit")}
    # then
    expected = {
        "rm_zhang": ("张伟", Role.RM, "BR1-S1-T1"),
        "rm_li": ("李娜", Role.RM, "BR1-S1-T1"),
        "rm_wang": ("王磊", Role.RM, "BR1-S1-T2"),
        "rm_zhao": ("赵敏", Role.RM, "BR2-S1-T1"),
        "lead_chen": ("陈静", Role.TEAM_LEAD, "BR1-S1-T1"),
        "head_liu": ("刘洋", Role.BRANCH_HEAD, "BR1"),
        "risk_sun": ("孙强", Role.RISK_OFFICER, "HO"),
        "audit_zhou": ("周婷", Role.AUDITOR, "HO"),
        "dept_wu": ("吴芳", Role.DEPARTMENT_OFFICER, "HO-CORP"),
        "admin": ("系统管理员", Role.ADMINISTRATOR, "HO"),
    }
    for username, (full_name, role, unit_code) in expected.items():
        user = users[username]
        assert (user.full_name, user.role, user.unit.code if user.unit else None) == (full_name, role, unit_code)
        assert user.check_password(DEMO_PASSWORD)
    assert users["admin"].is_staff and users["admin"].is_superuser
    assert not any(u.is_staff or u.is_superuser for name, u in users.items() if name != "admin")
    assert [login.username for login in DEMO_USERS] == [u.username for u in NAMED_USERS]
    assert dict((login.username, login.unit) for login in DEMO_USERS)["rm_zhang"] == "杭州分行 西湖支行 公司业务一组"


@pytest.mark.django_db
def test_every_team_has_two_or_three_rms_counting_the_named_ones(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    rms_per_team = {
        team.code: team.users.filter(role=Role.RM).count() for team in OrgUnit.objects.filter(level=UnitLevel.TEAM)
    }
    # then
    assert len(rms_per_team) == 12
    assert all(2 <= count <= 3 for count in rms_per_team.values()), rms_per_team
    assert User.objects.filter(role=Role.RM, username__regex=r"^rm_[0-9]{4}$").count() == sum(
        rms_per_team.values()) - 4
    assert demo_bank.users == User.objects.count()


# --- customers ----------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_customers_are_spread_over_the_rms_and_owned_by_their_primary_rms_team(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    everyone = list(Customer.objects.select_related("primary_rm", "owning_unit"))
    customers = [c for c in everyone if c.primary_rm is not None]  # the rest wait in a pool (test_demo_development)
    # then
    assert len(everyone) == demo_bank.customers == 120
    assert len(customers) >= 100
    assert all(c.owning_unit_id == c.primary_rm.unit_id for c in customers)
    books: dict[str, int] = defaultdict(int)
    for customer in customers:
        books[customer.primary_rm.username] += 1
    # A prospect waiting in a pool was dealt to the RM who found it and put it there.
    for username in Prospect.objects.filter(customer__primary_rm__isnull=True).values_list("found_by__username",
                                                                                            flat=True):
        books[username] += 1
    assert set(books) == set(User.objects.filter(role=Role.RM).values_list("username", flat=True))
    # Named RMs carry bigger books than generated ones.
    assert min(books[u] for u in ("rm_zhang", "rm_li", "rm_wang", "rm_zhao")) > max(
        n for u, n in books.items() if u.startswith("rm_0"))
    assert len({c.name for c in everyone}) == len(everyone)


@pytest.mark.django_db
def test_customers_match_their_branchs_region_mostly(demo_bank: DemoSummary) -> None:
    # given: the demo bank, with branches in 杭州, 宁波 and 温州
    home = {"BR1": "330100", "BR2": "330200", "BR3": "330300"}
    # when
    customers = list(Customer.objects.select_related("owning_unit"))
    at_home = sum(1 for c in customers if c.region == home[_branch_code(c.owning_unit)])
    # then
    assert at_home >= len(customers) * 0.6
    assert all(c.credit_code[2:4] == c.region[:2] for c in customers)


@pytest.mark.django_db
def test_every_credit_code_id_number_and_mobile_validates(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    credit_codes = [*Customer.objects.values_list("credit_code", flat=True),
                    *Relationship.objects.values_list("counterparty_credit_code", flat=True)]
    people = list(KeyPerson.objects.values_list("id_number", "phone"))
    # then
    assert credit_codes and people
    for code in credit_codes:
        assert validators.validate_credit_code(code) == code
    for id_number, phone in people:
        assert validators.validate_id_number(id_number) == id_number
        assert validators.validate_mobile(phone) == phone


@pytest.mark.django_db
def test_every_row_passes_model_validation(demo_bank: DemoSummary) -> None:
    # given: the demo bank, written with bulk_create past the services
    # when / then: each row is what a form could have saved
    for model in (Customer, KeyPerson, FinancialStatement, Relationship, Task):
        for obj in model.objects.all():
            obj.full_clean()


@pytest.mark.django_db
def test_every_customer_has_its_legal_representative_among_two_to_four_key_persons(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    persons = defaultdict(list)
    for person in KeyPerson.objects.all():
        persons[person.customer_id].append(person)
    # then
    for customer in Customer.objects.all():
        mine = persons[customer.pk]
        assert 2 <= len(mine) <= 4
        legal = [p for p in mine if p.role == KeyPersonRole.LEGAL_REPRESENTATIVE]
        assert [p.name for p in legal] == [customer.legal_representative]
    assert demo_bank.key_persons == KeyPerson.objects.count()


@pytest.mark.django_db
def test_financial_statements_are_consistent_and_current_customers_have_three_years(
    demo_bank: DemoSummary,
) -> None:
    # given: the demo bank
    # when
    statements = list(FinancialStatement.objects.select_related("customer"))
    # then
    assert statements
    for s in statements:
        assert Decimal("0.3") <= s.debt_ratio <= Decimal("0.85")  # type: ignore[operator]
        assert Decimal("0.3") * s.total_assets <= s.revenue + Decimal("0.01")
        assert s.revenue <= 2 * s.total_assets + Decimal("0.01")
        fen = Decimal("0.01")  # the rounding of a computed amount
        assert -Decimal("0.05") * s.revenue - fen <= s.net_profit <= Decimal("0.15") * s.revenue + fen
        for amount in (s.total_assets, s.total_liabilities, s.revenue, s.net_profit, s.operating_cash_flow):
            assert amount == amount.quantize(Decimal("0.01"))
    years = defaultdict(set)
    for s in statements:
        years[s.customer_id].add(s.year)
    for customer in Customer.objects.filter(status__in=[LifecycleStatus.CUSTOMER, LifecycleStatus.DORMANT]):
        assert years[customer.pk] == {2022, 2023, 2024}


# --- co-RMs -------------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_rm_zhang_and_rm_wang_work_some_of_each_others_customers(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    wang_helps_zhang = CustomerCoRM.objects.filter(
        customer__primary_rm__username="rm_zhang", user__username="rm_wang").count()
    zhang_helps_wang = CustomerCoRM.objects.filter(
        customer__primary_rm__username="rm_wang", user__username="rm_zhang").count()
    # then
    assert wang_helps_zhang >= 5
    assert zhang_helps_wang >= 3


@pytest.mark.django_db
def test_no_co_rm_crosses_a_branch_or_works_in_the_primary_rms_team(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    links = list(CustomerCoRM.objects.select_related("user__unit", "customer__primary_rm__unit"))
    # then
    assert links
    for link in links:
        primary = link.customer.primary_rm
        assert link.user.role == Role.RM
        assert link.user_id != primary.pk
        assert link.user.unit_id != primary.unit_id
        assert _branch_code(link.user.unit) == _branch_code(primary.unit)  # type: ignore[arg-type]
    assert demo_bank.co_rms == len(links)


# --- relationships -------------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_guarantees_form_mutual_pairs_chains_and_circles_inside_one_branch(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    edges = _guarantee_edges()
    branch_of = {c.pk: _branch_code(c.owning_unit) for c in Customer.objects.select_related("owning_unit")}
    # then
    assert any((b, a) in edges for a, b in edges), "no mutual guarantee"
    assert _has_path(edges, 3), "no guarantee chain A→B→C→D"
    assert any((b, c) in edges and (c, a) in edges for a, b in edges for c in branch_of if c not in (a, b)), \
        "no three-firm guarantee circle"
    assert all(branch_of[a] == branch_of[b] for a, b in edges)


@pytest.mark.django_db
def test_relationships_copy_the_counterparty_customers_name_and_code(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    linked = list(Relationship.objects.filter(counterparty__isnull=False).select_related("counterparty"))
    outside = Relationship.objects.filter(counterparty__isnull=True)
    # then
    assert linked and outside.exists()
    for link in linked:
        assert link.counterparty is not None
        assert (link.counterparty_name, link.counterparty_credit_code) == (
            link.counterparty.name, link.counterparty.credit_code)
        assert link.counterparty_id != link.customer_id
    customer_codes = set(Customer.objects.values_list("credit_code", flat=True))
    assert not customer_codes & set(outside.values_list("counterparty_credit_code", flat=True))
    assert 1.2 <= demo_bank.relationships / demo_bank.customers <= 2.0
    for link in Relationship.objects.filter(kind=RelationshipKind.AFFILIATE):
        assert link.share_pct is not None
    for link in Relationship.objects.filter(kind__in=[RelationshipKind.GUARANTEE, RelationshipKind.SUPPLY_CHAIN]):
        assert link.amount is not None and link.amount > 0
    for link in Relationship.objects.filter(kind=RelationshipKind.COMMON_CONTROLLER):
        assert link.controller_name


# --- tasks and audit --------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_every_rm_has_about_eight_open_tasks_on_their_own_customers(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    tasks = list(Task.objects.select_related("customer"))
    # then
    for rm in User.objects.filter(role=Role.RM):
        # Tasks raised by customer development (first contacts owed) are test_demo_development's.
        mine = [t for t in tasks if t.owner_id == rm.pk and not t.source_type]
        assert sum(1 for t in mine if t.status == TaskStatus.OPEN) == 8
        assert any(t.status == TaskStatus.DONE and t.completed_at for t in mine)
        assert all(t.customer is not None and t.customer.primary_rm_id == rm.pk for t in mine)
    assert demo_bank.tasks == len(tasks)


@pytest.mark.django_db
def test_the_load_writes_one_demo_load_audit_event_with_the_counts(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    events = list(AuditEvent.objects.all())
    # then
    assert [e.action for e in events] == ["demo.load"]
    assert events[0].actor_id is None
    assert events[0].changes == {"seed": 20261128, **demo_bank.as_dict()}


# --- determinism -----------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_same_seed_gives_the_same_bank() -> None:
    # given
    first = _snapshot_of_a_load(seed=42)
    # when
    second = _snapshot_of_a_load(seed=42)
    # then
    assert first["customers"]
    assert first == second


@pytest.mark.django_db
def test_another_seed_gives_another_bank() -> None:
    # given
    first = _snapshot_of_a_load(seed=42)
    # when
    second = _snapshot_of_a_load(seed=43)
    # then
    assert {c[1] for c in first["customers"]}.isdisjoint({c[1] for c in second["customers"]})


@pytest.mark.django_db
def test_loading_into_a_database_with_users_is_refused_and_writes_nothing(demo_bank: DemoSummary) -> None:
    # given: a loaded bank
    before = Customer.objects.count()
    # when
    with pytest.raises(DemoBankError):
        build_demo_bank(customers=10)
    # then
    assert Customer.objects.count() == before
    assert AuditEvent.objects.count() == 1


def test_company_names_stay_unique_when_the_same_place_and_industry_crowd_them() -> None:
    # given
    book = names.CompanyNames()
    rng = random.Random(1)
    # when
    drawn = [book.company(rng, place="杭州", division="34", size="small") for _ in range(5000)]
    # then
    assert len(set(drawn)) == 5000 == len(book)
    assert all(name.startswith("杭州") and name.endswith("公司") for name in drawn)


# --- the command -----------------------------------------------------------------------------------------------

@pytest.mark.django_db
@override_settings(DEMO_MODE=False)
def test_the_demo_command_refuses_outside_demo_mode() -> None:
    # given: settings without RMDESK_DEMO
    # when
    with pytest.raises(CommandError, match="demo mode"):
        call_command("demo", "--no-serve", "--customers", "5", stdout=StringIO(), stderr=StringIO())
    # then
    assert not Customer.objects.exists()
    assert not User.objects.exists()


@pytest.mark.django_db
@override_settings(DEMO_MODE=True)
@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_the_demo_command_rejects_a_customer_count_below_one(value: str) -> None:
    # given: demo mode
    # when
    with pytest.raises(CommandError, match="--customers"):
        call_command("demo", "--no-serve", "--customers", value, stdout=StringIO(), stderr=StringIO())
    # then
    assert not Customer.objects.exists()


@pytest.mark.django_db
@override_settings(DEMO_MODE=True)
def test_the_demo_command_loads_once_and_prints_the_logins() -> None:
    # given: demo mode and an empty database
    out, err = StringIO(), StringIO()
    # when
    call_command("demo", "--no-serve", "--customers", "30", "--seed", "5", stdout=out, stderr=err)
    call_command("demo", "--no-serve", "--customers", "30", stdout=(again := StringIO()), stderr=StringIO())
    # then
    assert Customer.objects.count() == 30
    assert "rm_zhang" in out.getvalue() and DEMO_PASSWORD in out.getvalue()
    assert "customers 30/30" in err.getvalue()
    assert "already loaded" in again.getvalue()
    assert AuditEvent.objects.filter(action="demo.load").count() == 1
