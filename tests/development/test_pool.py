"""The pool 公海: rules, claims (at once or through the team lead), giving back, and claims that lapse."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import ConflictError, NotFoundError
from rmdesk.core.workdays import add_working_days, is_working_day
from rmdesk.customers import services as customer_services
from rmdesk.customers.models import Customer, CustomerCoRM
from rmdesk.development.choices import ClaimStatus, Stage
from rmdesk.development.models import Claim, PoolRule, Prospect
from rmdesk.development.pipeline import move_stage
from rmdesk.development.pool import (
    approve_claim,
    claim,
    pool_for,
    pool_rule,
    reject_claim,
    release,
    release_lapsed_claims,
    take_from_pool,
    withdraw_claim,
)
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Notice, Task
from tests.development.test_prospects import new_prospect
from tests.personas import Bank


def _first_contact_tasks(prospect: Prospect) -> list[tuple[int, str]]:
    tasks = Task.objects.filter(kind=TaskKind.FIRST_CONTACT, source_id=str(prospect.pk)).order_by("pk")
    return list(tasks.values_list("owner_id", "status"))


# --- working days and rules --------------------------------------------------------------------------------------


def test_working_days_follow_the_holiday_schedule_and_weekends_beyond_it() -> None:
    # National Day 2025: 1–8 October off, Sunday 28 September worked.
    assert add_working_days(date(2025, 9, 30), 1) == date(2025, 10, 9)
    assert add_working_days(date(2025, 9, 26), 1) == date(2025, 9, 28)
    assert is_working_day(date(2025, 9, 28))
    # A year the holiday schedule does not cover: Monday to Friday.
    assert add_working_days(date(2040, 1, 5), 2) == date(2040, 1, 9)
    with pytest.raises(ValueError):
        add_working_days(date(2025, 1, 1), -1)


def test_a_unit_without_a_rule_follows_the_nearest_unit_above_or_the_defaults(bank: Bank) -> None:
    # given no rule anywhere
    default = pool_rule(bank.team1)
    assert (default.approval_required, default.contact_days) == (False, 10)
    # when the branch has one
    PoolRule.objects.create(unit=bank.branch1, approval_required=True, contact_days=5)
    assert (pool_rule(bank.team1).approval_required, pool_rule(bank.team1).contact_days) == (True, 5)
    # and the team its own
    PoolRule.objects.create(unit=bank.team1, approval_required=False, contact_days=3)
    assert (pool_rule(bank.team1).approval_required, pool_rule(bank.team1).contact_days) == (False, 3)
    assert pool_rule(bank.team2).contact_days == 5
    assert pool_rule(bank.team3).contact_days == 10


# --- claiming at once -------------------------------------------------------------------------------------------


def test_an_rm_claims_a_pool_prospect_with_a_first_contact_deadline_and_task(bank: Bank) -> None:
    # given
    prospect = new_prospect(bank.lead, to_pool=True, owning_unit=bank.team1)
    # when
    granted = claim(actor=bank.alice, prospect_id=prospect.pk, version=prospect.version)
    # then
    prospect.refresh_from_db()
    due = add_working_days(timezone.localdate(), 10)
    assert (granted.rm, granted.status, granted.decided_by) == (bank.alice, ClaimStatus.APPROVED, None)
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm == bank.alice
    assert prospect.claimed_at is not None and prospect.contact_due == due
    task = Task.objects.get(kind=TaskKind.FIRST_CONTACT, source_id=str(prospect.pk))
    assert (task.owner, task.due_date, task.status, task.customer_id) == (bank.alice, due, "open", prospect.customer_id)
    actions = set(AuditEvent.objects.filter(customer_id=prospect.customer_id).values_list("action", flat=True))
    assert {"prospect.assign", "prospect.claim", "task.create"} <= actions
    assert not pool_for(bank.dave).filter(pk=prospect.pk).exists()


def test_the_units_rule_sets_the_working_days_to_first_contact(bank: Bank) -> None:
    PoolRule.objects.create(unit=bank.team1, contact_days=3)
    prospect = new_prospect(bank.alice, to_pool=True)
    claim(actor=bank.alice, prospect_id=prospect.pk)
    assert Prospect.objects.get(pk=prospect.pk).contact_due == add_working_days(timezone.localdate(), 3)


def test_a_claim_on_a_prospect_someone_just_claimed_names_who_has_it(bank: Bank) -> None:
    # given
    prospect = new_prospect(bank.alice, to_pool=True)
    claim(actor=bank.alice, prospect_id=prospect.pk)
    # when
    with pytest.raises(ConflictError) as error:
        claim(actor=bank.dave, prospect_id=prospect.pk)
    # then
    assert "Alice" in str(error.value.message)
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm == bank.alice
    assert Claim.objects.filter(prospect=prospect).count() == 1


def test_the_conditional_update_lets_only_the_first_claimer_take_the_prospect(bank: Bank) -> None:
    # given both RMs read the prospect while it was in the pool; alice's UPDATE lands first
    prospect = new_prospect(bank.alice, to_pool=True)
    assert take_from_pool(customer_id=prospect.customer_id, rm=bank.alice) is True
    # when dave's UPDATE runs on the same row
    taken = take_from_pool(customer_id=prospect.customer_id, rm=bank.dave)
    # then it matches nothing and alice keeps it
    assert taken is False
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm == bank.alice


def test_a_stale_version_of_the_prospect_is_a_conflict(bank: Bank) -> None:
    prospect = new_prospect(bank.alice, to_pool=True)
    with pytest.raises(ConflictError):
        claim(actor=bank.alice, prospect_id=prospect.pk, version=prospect.version - 1)
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm is None


def test_claiming_ones_own_prospect_again_says_so(bank: Bank) -> None:
    prospect = new_prospect(bank.alice, to_pool=True)
    claim(actor=bank.alice, prospect_id=prospect.pk)
    with pytest.raises(ValidationError) as error:
        claim(actor=bank.alice, prospect_id=prospect.pk)
    assert "prospect" in error.value.message_dict


def test_only_an_rm_claims(bank: Bank) -> None:
    prospect = new_prospect(bank.alice, to_pool=True)
    with pytest.raises(ValidationError) as error:
        claim(actor=bank.lead, prospect_id=prospect.pk)
    assert "prospect" in error.value.message_dict
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm is None


# --- claims the team lead approves -------------------------------------------------------------------------------


def test_with_approval_required_a_claim_waits_for_the_lead_and_a_second_claimer_is_told_who_applied(
    bank: Bank,
) -> None:
    # given
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    prospect = new_prospect(bank.alice, to_pool=True)
    # when
    pending = claim(actor=bank.alice, prospect_id=prospect.pk)
    # then
    assert pending.status == ClaimStatus.PENDING
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm is None
    decide = Task.objects.get(kind=TaskKind.CLAIM_APPROVAL, source_id=str(pending.pk))
    assert (decide.owner, decide.status) == (bank.lead, "open")
    # and dave, who claims next, hears that alice applied first
    with pytest.raises(ConflictError) as error:
        claim(actor=bank.dave, prospect_id=prospect.pk)
    assert "Alice" in str(error.value.message)
    assert Claim.objects.filter(prospect=prospect).count() == 1


def test_the_lead_approves_a_claim_and_the_rm_gets_the_prospect(bank: Bank) -> None:
    # given
    PoolRule.objects.create(unit=bank.team1, approval_required=True, contact_days=5)
    prospect = new_prospect(bank.alice, to_pool=True)
    pending = claim(actor=bank.alice, prospect_id=prospect.pk)
    # when
    approved = approve_claim(actor=bank.lead, claim_id=pending.pk, note="同意")
    # then
    prospect.refresh_from_db()
    assert (approved.status, approved.decided_by, approved.note) == (ClaimStatus.APPROVED, bank.lead, "同意")
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm == bank.alice
    assert prospect.contact_due == add_working_days(timezone.localdate(), 5)
    assert _first_contact_tasks(prospect) == [(bank.alice.pk, "open")]
    assert Task.objects.get(kind=TaskKind.CLAIM_APPROVAL, source_id=str(pending.pk)).status == TaskStatus.DONE
    assert Notice.objects.filter(recipient=bank.alice, customer_id=prospect.customer_id).count() == 1
    assert AuditEvent.objects.filter(action="prospect.claim_approve", actor_id=bank.lead.pk).count() == 1


def test_the_branch_head_may_decide_too_and_a_decided_claim_cannot_be_decided_again(bank: Bank) -> None:
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    prospect = new_prospect(bank.alice, to_pool=True)
    pending = claim(actor=bank.alice, prospect_id=prospect.pk)
    reject_claim(actor=bank.head, claim_id=pending.pk, note="该客户由分行统一营销")
    with pytest.raises(ValidationError) as error:
        approve_claim(actor=bank.lead, claim_id=pending.pk)
    assert "claim" in error.value.message_dict
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm is None


def test_a_rejection_needs_a_reason_and_leaves_the_prospect_in_the_pool(bank: Bank) -> None:
    # given
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    prospect = new_prospect(bank.alice, to_pool=True)
    pending = claim(actor=bank.alice, prospect_id=prospect.pk)
    # when / then
    with pytest.raises(ValidationError) as error:
        reject_claim(actor=bank.lead, claim_id=pending.pk, note=" ")
    assert "note" in error.value.message_dict
    rejected = reject_claim(actor=bank.lead, claim_id=pending.pk, note="客户已在他行授信,暂缓")
    assert rejected.status == ClaimStatus.REJECTED
    assert pool_for(bank.dave).filter(pk=prospect.pk).exists()
    assert "客户已在他行授信" in Notice.objects.get(recipient=bank.alice).text
    # and another RM may now apply
    assert claim(actor=bank.dave, prospect_id=prospect.pk).status == ClaimStatus.PENDING


def test_an_rm_or_a_lead_outside_the_pool_cannot_decide_a_claim(bank: Bank) -> None:
    # given a pending claim in team 2's pool (outside the team 1 lead's subtree)
    PoolRule.objects.create(unit=bank.branch1, approval_required=True)
    prospect = new_prospect(bank.head, to_pool=True, owning_unit=bank.team2)
    pending = claim(actor=bank.bob, prospect_id=prospect.pk)
    # when / then
    for actor in (bank.alice, bank.bob, bank.lead, bank.carol, bank.auditor):
        with pytest.raises(NotFoundError):
            approve_claim(actor=actor, claim_id=pending.pk)
        with pytest.raises(NotFoundError):
            reject_claim(actor=actor, claim_id=pending.pk, note="不行")
    assert Claim.objects.get(pk=pending.pk).status == ClaimStatus.PENDING
    # team 2 has no lead: its claims go to the branch head
    assert Task.objects.get(kind=TaskKind.CLAIM_APPROVAL).owner == bank.head


def test_an_rm_withdraws_their_own_pending_claim_only(bank: Bank) -> None:
    PoolRule.objects.create(unit=bank.team1, approval_required=True)
    prospect = new_prospect(bank.alice, to_pool=True)
    pending = claim(actor=bank.alice, prospect_id=prospect.pk)
    with pytest.raises(NotFoundError):
        withdraw_claim(actor=bank.dave, claim_id=pending.pk)
    withdrawn = withdraw_claim(actor=bank.alice, claim_id=pending.pk)
    assert withdrawn.status == ClaimStatus.WITHDRAWN
    assert Task.objects.get(kind=TaskKind.CLAIM_APPROVAL).status == TaskStatus.CANCELLED
    with pytest.raises(ValidationError):
        withdraw_claim(actor=bank.alice, claim_id=pending.pk)


# --- giving back ------------------------------------------------------------------------------------------------


def test_the_rm_puts_a_prospect_back_into_the_pool_with_a_reason(bank: Bank) -> None:
    # given alice holds a claimed prospect, with dave as co-RM
    prospect = new_prospect(bank.alice, to_pool=True)
    claim(actor=bank.alice, prospect_id=prospect.pk)
    customer = Customer.objects.get(pk=prospect.customer_id)
    customer_services.set_co_rms(actor=bank.alice, customer_id=customer.pk, version=customer.version, users=[bank.dave])
    # when
    with pytest.raises(ValidationError) as no_reason:
        release(actor=bank.alice, prospect_id=prospect.pk, reason="")
    release(actor=bank.alice, prospect_id=prospect.pk, reason="客户暂无融资需求")
    # then
    prospect.refresh_from_db()
    assert "reason" in no_reason.value.message_dict
    assert Customer.objects.get(pk=customer.pk).primary_rm is None
    assert not CustomerCoRM.objects.filter(customer=customer).exists()
    assert (prospect.claimed_at, prospect.contact_due) == (None, None)
    assert _first_contact_tasks(prospect) == [(bank.alice.pk, "cancelled")]
    event = AuditEvent.objects.get(action="prospect.release")
    assert event.changes["reason"] == "客户暂无融资需求"
    assert event.changes["co_rms_removed"] == ["dave"]
    assert pool_for(bank.dave).filter(pk=prospect.pk).exists()


def test_a_co_rm_cannot_give_the_prospect_back_and_an_outsider_does_not_find_it(bank: Bank) -> None:
    prospect = new_prospect(bank.alice)
    customer_services.set_co_rms(
        actor=bank.alice, customer_id=prospect.customer_id, version=prospect.customer.version, users=[bank.dave]
    )
    with pytest.raises(ValidationError):
        release(actor=bank.dave, prospect_id=prospect.pk, reason="不想跟了")
    with pytest.raises(NotFoundError):
        release(actor=bank.carol, prospect_id=prospect.pk, reason="不想跟了")
    release(actor=bank.lead, prospect_id=prospect.pk, reason="调整分工")
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm is None


# --- claims that lapse ------------------------------------------------------------------------------------------


def _claimed(bank: Bank) -> Prospect:
    prospect = new_prospect(bank.alice, to_pool=True, name="杭州云栖数据有限公司")
    claim(actor=bank.alice, prospect_id=prospect.pk)
    return Prospect.objects.get(pk=prospect.pk)


def test_a_claim_without_first_contact_by_its_deadline_goes_back_to_the_pool(bank: Bank) -> None:
    # given
    prospect = _claimed(bank)
    due = prospect.contact_due
    assert due is not None
    # when the deadline day itself passes, nothing happens yet
    assert release_lapsed_claims(due) == 0
    # but the day after
    released = release_lapsed_claims(due + timedelta(days=1))
    # then
    prospect.refresh_from_db()
    assert released == 1
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm is None
    assert (prospect.claimed_at, prospect.contact_due) == (None, None)
    assert _first_contact_tasks(prospect) == [(bank.alice.pk, "cancelled")]
    notice = Notice.objects.get(recipient=bank.alice)
    assert "杭州云栖数据有限公司" in notice.text and notice.read_at is None
    review = Task.objects.get(kind=TaskKind.CLAIM_REVIEW)
    assert (review.owner, review.customer_id, review.due_date) == (bank.lead, prospect.customer_id, due + timedelta(1))
    event = AuditEvent.objects.get(action="prospect.claim_lapse")
    assert (event.actor_id, event.actor_name) == (None, "system")


def test_releasing_lapsed_claims_twice_for_a_day_changes_nothing_the_second_time(bank: Bank) -> None:
    prospect = _claimed(bank)
    assert prospect.contact_due is not None
    day = prospect.contact_due + timedelta(days=1)
    assert release_lapsed_claims(day) == 1
    counts = (AuditEvent.objects.count(), Task.objects.count(), Notice.objects.count())
    assert release_lapsed_claims(day) == 0
    assert (AuditEvent.objects.count(), Task.objects.count(), Notice.objects.count()) == counts


def test_a_contacted_prospect_does_not_lapse(bank: Bank) -> None:
    prospect = _claimed(bank)
    assert prospect.contact_due is not None
    move_stage(actor=bank.alice, prospect_id=prospect.pk, version=prospect.version, to_stage=Stage.CONTACTED)
    assert release_lapsed_claims(prospect.contact_due + timedelta(days=30)) == 0
    assert Customer.objects.get(pk=prospect.customer_id).primary_rm == bank.alice


def test_the_release_claims_command_prints_how_many_it_released(bank: Bank) -> None:
    prospect = _claimed(bank)
    assert prospect.contact_due is not None
    day = (prospect.contact_due + timedelta(days=1)).isoformat()
    out = StringIO()
    call_command("release-claims", "--date", day, stdout=out)
    assert out.getvalue() == f"release-claims {day}: 1 lapsed claim(s) returned to the pool\n"
    with pytest.raises(CommandError):
        call_command("release-claims", "--date", "2026-13-01")


def test_the_rms_home_page_shows_the_notice_of_a_lapsed_claim(bank: Bank) -> None:
    # given
    prospect = _claimed(bank)
    assert prospect.contact_due is not None
    release_lapsed_claims(prospect.contact_due + timedelta(days=1))
    client = Client()
    client.force_login(bank.alice)
    # when
    page = client.get("/")
    # then
    assert page.status_code == 200
    assert Notice.objects.get(recipient=bank.alice).text in page.content.decode()
    client.force_login(bank.dave)
    assert "杭州云栖数据有限公司" not in client.get("/").content.decode()
