"""The demo bank's customer development: prospects' files and histories, the pools and claims, outside firms."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from rmdesk.core import validators
from rmdesk.customers.choices import Direction, LifecycleStatus, RelationshipKind
from rmdesk.customers.models import POOL_STATUSES, Customer, CustomerCoRM, Relationship
from rmdesk.demo.builder import DemoSummary, build_demo_bank
from rmdesk.development.choices import OPEN_STAGES, REFERRED_SOURCES, ClaimStatus, Source, Stage
from rmdesk.development.models import Claim, ItemRating, PoolRule, Prospect, StageChange
from rmdesk.development.pool import CLAIM_SOURCE, PROSPECT_SOURCE, deciders, lapsed, pool_for
from rmdesk.org.choices import UnitLevel
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Task

ORDER = {stage: n for n, stage in enumerate((*OPEN_STAGES, Stage.WON))}
HAN = re.compile(r"[\u4e00-\u9fff]")
REFERRAL_KINDS = {Source.SUPPLY_CHAIN: RelationshipKind.SUPPLY_CHAIN, Source.GUARANTORS: RelationshipKind.GUARANTEE,
                  Source.AFFILIATES: RelationshipKind.AFFILIATE}  # fmt: skip


def _histories() -> dict[int, list[StageChange]]:
    histories: dict[int, list[StageChange]] = defaultdict(list)
    for change in StageChange.objects.order_by("prospect_id", "changed_at", "pk"):
        histories[change.prospect_id].append(change)
    return histories


# --- the prospects' files -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_every_prospect_and_target_has_a_development_file_and_some_customers_were_won(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    prospects = {p.customer_id: p for p in Prospect.objects.select_related("customer")}
    # then
    developing = Customer.objects.filter(status__in=POOL_STATUSES)
    assert developing.exists()
    assert all(c.pk in prospects for c in developing)
    assert demo_bank.prospects == len(prospects)
    for prospect in prospects.values():
        status = prospect.customer.status
        if prospect.stage == Stage.WON:
            assert status == LifecycleStatus.CUSTOMER
            assert re.fullmatch(r"\d{4} \d{4} \d{4} \d{4} \d{3}|\S+ 编号\d{9}", prospect.won_evidence)
        else:
            assert status in POOL_STATUSES
            assert not prospect.won_evidence
        assert bool(prospect.drop_reason) == (prospect.stage == Stage.DROPPED)
        assert prospect.source in Source.values and HAN.search(prospect.source_detail)
    stages = Counter(p.stage for p in prospects.values())
    assert stages[Stage.WON] and stages[Stage.DROPPED]
    # A funnel: most prospects are just found or contacted.
    assert stages[Stage.IDENTIFIED] + stages[Stage.CONTACTED] > stages[Stage.VISITED] + stages[Stage.PROPOSAL]
    assert len({p.source for p in prospects.values()}) >= 8


@pytest.mark.django_db
def test_each_history_starts_at_identified_on_the_day_found_and_moves_forward_to_the_current_stage(
    demo_bank: DemoSummary,
) -> None:
    # given: the demo bank
    # when
    histories = _histories()
    # then
    prospects = list(Prospect.objects.all())
    assert demo_bank.stage_changes == sum(len(h) for h in histories.values())
    for prospect in prospects:
        history = histories[prospect.pk]
        first = history[0]
        assert (first.from_stage, first.to_stage) == ("", Stage.IDENTIFIED)
        assert timezone.localdate(first.changed_at) == prospect.found_on
        assert first.changed_by_id == prospect.found_by_id
        for before, after in pairwise(history):
            assert after.from_stage == before.to_stage
            assert before.changed_at < after.changed_at
            assert after.to_stage == Stage.DROPPED or ORDER[after.to_stage] > ORDER[before.to_stage]
        assert history[-1].to_stage == prospect.stage
        assert history[-1].changed_at == prospect.stage_changed_at
    won = [histories[p.pk] for p in prospects if p.stage == Stage.WON]
    assert won and all([c.to_stage for c in h] == [*OPEN_STAGES, Stage.WON] for h in won)


@pytest.mark.django_db
def test_nothing_in_development_happened_in_the_future_or_before_two_years_ago(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    now, today = timezone.now(), timezone.localdate()
    # when
    prospects = list(Prospect.objects.all())
    # then
    for prospect in prospects:
        assert today - timedelta(days=730) <= prospect.found_on < today
        assert prospect.stage_changed_at < now
        assert prospect.claimed_at is None or prospect.claimed_at < now
    assert all(change.changed_at < now for change in StageChange.objects.all())
    assert all(claim.created_at < now for claim in Claim.objects.all())
    assert all(rating.rated_at < now for rating in ItemRating.objects.all())


@pytest.mark.django_db
def test_every_development_row_passes_model_validation(demo_bank: DemoSummary) -> None:
    # given: the demo bank, written past the services
    # when / then
    assert ItemRating.objects.exists() and Claim.objects.exists()
    for model in (Customer, Prospect, StageChange, Claim, ItemRating, PoolRule, Task):
        for obj in model.objects.all():
            obj.full_clean()


# --- sources 10–12 and outside firms ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_sources_10_to_12_name_a_current_customer_and_its_link_to_the_prospect(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    prospects = list(Prospect.objects.select_related("referring_customer", "referring_relationship"))
    referred = [p for p in prospects if p.source in REFERRED_SOURCES]
    # then
    assert referred
    for prospect in referred:
        referrer, link = prospect.referring_customer, prospect.referring_relationship
        assert referrer is not None and link is not None
        assert referrer.status == LifecycleStatus.CUSTOMER and referrer.pk != prospect.customer_id
        assert link.customer_id == referrer.pk and link.counterparty_id == prospect.customer_id
        assert link.kind == REFERRAL_KINDS[Source(prospect.source)]
        assert referrer.name in prospect.source_detail
    for prospect in prospects:
        if prospect.source not in REFERRED_SOURCES:
            assert prospect.referring_customer_id is None and prospect.referring_relationship_id is None


@pytest.mark.django_db
def test_customers_are_linked_to_outside_firms_of_every_kind_some_of_them_shared(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    outside = list(Relationship.objects.filter(counterparty__isnull=True))
    # then
    codes = set(Customer.objects.values_list("credit_code", flat=True))
    for link in outside:
        assert validators.validate_credit_code(link.counterparty_credit_code) == link.counterparty_credit_code
        assert link.counterparty_credit_code not in codes
        assert HAN.search(link.counterparty_name)
        if link.kind == RelationshipKind.SUPPLY_CHAIN:
            assert link.amount is not None and link.amount > 0
    kinds = {(link.kind, link.direction) for link in outside}
    supply = RelationshipKind.SUPPLY_CHAIN
    assert {(supply, Direction.INWARD), (supply, Direction.OUTWARD)} <= kinds
    assert {RelationshipKind.GUARANTEE, RelationshipKind.AFFILIATE} <= {kind for kind, _ in kinds}
    customers_per_firm = Counter(code for code, _ in {(ln.counterparty_credit_code, ln.customer_id) for ln in outside})
    assert max(customers_per_firm.values()) >= 2


# --- the pools and claims -----------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_pool_prospects_wait_in_a_team_sub_branch_or_branch_without_any_rm(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    unassigned = Customer.objects.filter(primary_rm__isnull=True)
    pool = list(unassigned.select_related("owning_unit", "prospect__found_by__unit"))
    # then
    assert pool
    assert not CustomerCoRM.objects.filter(customer__primary_rm__isnull=True).exists()
    for customer in pool:
        assert customer.status in POOL_STATUSES
        assert customer.owning_unit.level in (UnitLevel.TEAM, UnitLevel.SUB_BRANCH, UnitLevel.BRANCH)
        prospect = customer.prospect
        assert prospect.stage == Stage.IDENTIFIED
        assert prospect.claimed_at is None and prospect.contact_due is None
        # Found by an RM who may claim from that pool.
        assert prospect.found_by.unit.path.startswith(customer.owning_unit.path)
    assert Customer.objects.count() * 0.005 <= len(pool) <= Customer.objects.count() * 0.1


@pytest.mark.django_db
def test_claimed_prospects_owe_a_first_contact_some_already_overdue(demo_bank: DemoSummary) -> None:
    # given: the demo bank
    today = timezone.localdate()
    # when
    claimed = list(Prospect.objects.filter(claimed_at__isnull=False).select_related("customer"))
    # then
    assert claimed
    first_contacts = {t.source_id: t for t in Task.objects.filter(kind=TaskKind.FIRST_CONTACT)}
    for prospect in claimed:
        assert prospect.stage == Stage.IDENTIFIED and prospect.contact_due is not None
        assert prospect.contact_due > timezone.localdate(prospect.claimed_at)
        rm = prospect.customer.primary_rm_id
        assert Claim.objects.filter(prospect=prospect, rm_id=rm, status=ClaimStatus.APPROVED).exists()
        task = first_contacts[str(prospect.pk)]
        assert (task.owner_id, task.customer_id, task.due_date, task.status, task.source_type) == (
            rm, prospect.customer_id, prospect.contact_due, TaskStatus.OPEN, PROSPECT_SOURCE)
    assert len(first_contacts) == len(claimed)
    assert lapsed(today).exists()  # `rmdesk release-claims` has work


@pytest.mark.django_db
def test_pending_claims_wait_where_the_pool_rule_asks_for_approval_with_a_task_for_the_decider(
    demo_bank: DemoSummary,
) -> None:
    # given: the demo bank, whose first branch's team leads approve claims
    rules = {rule.unit.code: rule for rule in PoolRule.objects.select_related("unit")}
    # when
    pending = list(Claim.objects.filter(status=ClaimStatus.PENDING).select_related(
        "rm__unit", "prospect__customer__owning_unit"))
    # then
    assert rules["BR1"].approval_required and not rules["BR2"].approval_required
    assert pending
    decisions = Task.objects.filter(kind=TaskKind.CLAIM_APPROVAL, status=TaskStatus.OPEN, source_type=CLAIM_SOURCE)
    for claim in pending:
        customer = claim.prospect.customer
        assert customer.primary_rm_id is None and customer.owning_unit.path.startswith("/HO/BR1/")
        assert claim.rm.unit.path.startswith(customer.owning_unit.path)
        owners = set(decisions.filter(source_id=str(claim.pk)).values_list("owner_id", flat=True))
        assert owners and owners == {user.pk for user in deciders(customer.owning_unit)}
    assert demo_bank.claims == Claim.objects.count()


# --- the named users ----------------------------------------------------------------------------------------------

@pytest.mark.django_db
def test_the_demo_rm_has_prospects_in_every_open_stage_an_overdue_contact_a_pool_and_suggestions() -> None:
    # given: a bank where the named RMs hold a few dozen customers
    build_demo_bank(customers=400)
    zhang, lead = User.objects.get(username="rm_zhang"), User.objects.get(username="lead_chen")
    today = timezone.localdate()
    # when
    mine = Prospect.objects.filter(customer__primary_rm=zhang)
    # then
    assert set(OPEN_STAGES) <= set(mine.values_list("stage", flat=True))
    assert mine.filter(stage=Stage.IDENTIFIED, contact_due__lt=today).exists()
    assert mine.filter(stage=Stage.IDENTIFIED, contact_due__gte=today).exists()
    assert pool_for(zhang).filter(customer__owning_unit=zhang.unit).exists()
    assert pool_for(zhang).filter(claims__status=ClaimStatus.PENDING, claims__rm__username="rm_li").exists()
    assert Task.objects.filter(owner=lead, kind=TaskKind.CLAIM_APPROVAL, status=TaskStatus.OPEN).exists()
    current = Customer.objects.filter(primary_rm=zhang, status=LifecycleStatus.CUSTOMER)
    assert current.exists()
    for customer in current:
        assert customer.relationships.filter(counterparty__isnull=True).exists()


# --- determinism --------------------------------------------------------------------------------------------------

def _development_snapshot(seed: int) -> dict[str, list[Any]]:
    with transaction.atomic():
        build_demo_bank(customers=60, seed=seed)
        snapshot = {
            "prospects": list(Prospect.objects.order_by("customer__credit_code").values_list(
                "customer__credit_code", "source", "source_detail", "found_by__username", "found_on",
                "referring_customer__credit_code", "referring_relationship__counterparty_credit_code", "stage",
                "stage_changed_at", "drop_reason", "won_evidence", "claimed_at", "contact_due")),
            "stage_changes": list(StageChange.objects.order_by("prospect__customer__credit_code", "changed_at")
                                  .values_list("prospect__customer__credit_code", "from_stage", "to_stage",
                                               "changed_at", "changed_by__username", "note")),
            "claims": sorted(Claim.objects.values_list("prospect__customer__credit_code", "rm__username", "status")),
            "pool": sorted(Customer.objects.filter(primary_rm__isnull=True).values_list(
                "credit_code", "owning_unit__code")),
            "ratings": sorted(ItemRating.objects.values_list(
                "prospect__customer__credit_code", "characteristic", "rating", "reason")),
        }
        transaction.set_rollback(True)
    return snapshot


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_development_and_another_seed_another() -> None:
    # given
    first = _development_snapshot(seed=42)
    # when
    again, other = _development_snapshot(seed=42), _development_snapshot(seed=43)
    # then
    assert first["prospects"] and first["stage_changes"]
    assert first == again
    assert first["prospects"] != other["prospects"]
