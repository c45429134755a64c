"""Who sees which pool and may claim from it; and two RMs claiming one prospect at the same moment."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from rmdesk.core.errors import ConflictError, NotFoundError
from rmdesk.customers.models import Customer
from rmdesk.development import pool
from rmdesk.development.choices import ClaimStatus, Stage
from rmdesk.development.models import Claim, PoolRule, Prospect
from rmdesk.development.pipeline import move_stage
from rmdesk.development.pool import claim, pool_for
from rmdesk.development.prospects import merge_prospects
from rmdesk.org.models import User
from tests.development.test_prospects import new_prospect
from tests.personas import Bank, build_bank


def test_an_rm_sees_the_pools_of_their_unit_and_the_units_above_it_only(bank: Bank) -> None:
    # given prospects in team 1's, team 2's and branch 1's pools, and one in alice's book
    team1 = new_prospect(bank.lead, to_pool=True, owning_unit=bank.team1)
    team2 = new_prospect(bank.head, to_pool=True, owning_unit=bank.team2)
    branch = new_prospect(bank.head, to_pool=True, owning_unit=bank.branch1)
    new_prospect(bank.alice)
    # then
    assert set(pool_for(bank.alice)) == {team1, branch}
    assert set(pool_for(bank.bob)) == {team2, branch}
    assert set(pool_for(bank.carol)) == set()
    assert set(pool_for(bank.lead)) == {team1}
    assert set(pool_for(bank.head)) == {team1, team2, branch}
    for nobody in (bank.auditor, bank.risk, bank.officer, bank.admin):
        assert not pool_for(nobody).exists()


def test_merged_dropped_or_won_prospects_are_not_in_the_pool(bank: Bank) -> None:
    # given
    kept = new_prospect(bank.lead, to_pool=True, owning_unit=bank.team1)
    merged = new_prospect(bank.lead, to_pool=True, owning_unit=bank.team1)
    merge_prospects(actor=bank.lead, keep_id=kept.pk, merge_id=merged.pk, reason="重复录入")
    dropped = new_prospect(bank.alice)
    move_stage(
        actor=bank.alice, prospect_id=dropped.pk, version=dropped.version, to_stage=Stage.DROPPED, drop_reason="无需求"
    )
    # then
    assert list(pool_for(bank.alice)) == [kept]


def test_an_rm_of_another_branch_or_team_cannot_claim_the_prospect(bank: Bank) -> None:
    # given a prospect in team 1's pool
    prospect = new_prospect(bank.alice, to_pool=True)
    # when / then: it does not exist for them
    for outsider in (bank.bob, bank.carol, bank.auditor, bank.risk, bank.officer, bank.admin):
        with pytest.raises(NotFoundError):
            claim(actor=outsider, prospect_id=prospect.pk)
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm is None
    assert not Claim.objects.exists()


def test_a_claimed_prospect_of_another_pool_is_not_found_rather_than_named(bank: Bank) -> None:
    # given bob (team 2) holds a prospect from his pool
    prospect = new_prospect(bank.head, to_pool=True, owning_unit=bank.team2)
    claim(actor=bank.bob, prospect_id=prospect.pk)
    # when alice, who never saw that pool, tries: not found, and bob is not named
    with pytest.raises(NotFoundError):
        claim(actor=bank.alice, prospect_id=prospect.pk)


def test_a_prospect_id_that_does_not_exist_is_not_found(bank: Bank) -> None:
    with pytest.raises(NotFoundError):
        claim(actor=bank.alice, prospect_id=999_999)


# --- the race, for real: two transactions on PostgreSQL ----------------------------------------------------------
#
# On SQLite writers queue for the one write lock before their transaction starts, so two claims cannot interleave
# there; the conditional UPDATE itself is tested on both databases in test_pool.py. Here two threads, each on its
# own connection, read the prospect in the pool and then write at once. Their data must be committed, so these tests
# use `committed_db` (tests/conftest.py): `transactional_db`, with the append-only audit trigger off for its flush only.


def _claim_at_once(bank: Bank, prospect: Prospect, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """alice and dave claim in two threads that both pass every read before either writes."""
    barrier = threading.Barrier(2, timeout=20)
    rule_of = pool.pool_rule

    def pool_rule_then_wait(unit: Any) -> PoolRule:
        rule = rule_of(unit)
        barrier.wait()  # both have read the prospect in the pool and found no pending claim
        return rule

    monkeypatch.setattr(pool, "pool_rule", pool_rule_then_wait)
    outcome: dict[str, Any] = {}

    def run(rm: User) -> None:
        try:
            outcome[rm.username] = claim(actor=rm, prospect_id=prospect.pk)
        except Exception as error:  # the test inspects what each thread got
            outcome[rm.username] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(rm,)) for rm in (bank.alice, bank.dave)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcome


@pytest.mark.skipif(
    "postgresql" not in settings.DATABASES["default"]["ENGINE"],
    reason="two interleaved write transactions need PostgreSQL; SQLite queues writers",
)
@pytest.mark.parametrize("approval_required", [False, True], ids=["at-once", "with-approval"])
def test_two_rms_claiming_at_the_same_moment_one_wins_and_the_other_is_told_who(
    committed_db: None, monkeypatch: pytest.MonkeyPatch, approval_required: bool
) -> None:
    # given
    bank = build_bank()
    PoolRule.objects.create(unit=bank.team1, approval_required=approval_required)
    prospect = new_prospect(bank.lead, to_pool=True, owning_unit=bank.team1)
    # when
    outcome = _claim_at_once(bank, prospect, monkeypatch)
    # then exactly one claim went through
    winners = [name for name, result in outcome.items() if isinstance(result, Claim)]
    losers = [result for result in outcome.values() if not isinstance(result, Claim)]
    assert len(winners) == 1, outcome
    assert len(losers) == 1 and isinstance(losers[0], ConflictError), outcome
    winner = User.objects.get(username=winners[0])
    assert winner.display_name in str(losers[0].message)
    claims = Claim.objects.filter(prospect=prospect)
    assert list(claims.values_list("rm_id", flat=True)) == [winner.pk]
    expected_status = ClaimStatus.PENDING if approval_required else ClaimStatus.APPROVED
    assert claims.get().status == expected_status
    holder = Customer.objects.get(pk=prospect.customer_id).primary_rm
    assert holder == (None if approval_required else winner)
