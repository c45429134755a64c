"""The development pipeline: forward moves, winning (a real customer), dropping and reopening, days in stage."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import ConflictError, NotFoundError
from rmdesk.customers import services as customer_services
from rmdesk.customers.models import Customer
from rmdesk.development.choices import Stage
from rmdesk.development.models import Prospect, StageChange
from rmdesk.development.pipeline import days_in_stage, move_stage
from rmdesk.development.pool import claim
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind
from rmdesk.tasks.models import Task
from tests.development.test_prospects import new_prospect
from tests.personas import Bank

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _claimed(bank: Bank) -> Prospect:
    prospect = new_prospect(bank.alice, to_pool=True)
    claim(actor=bank.alice, prospect_id=prospect.pk)
    return Prospect.objects.get(pk=prospect.pk)


def _move(bank: Bank, prospect: Prospect, to_stage: str, *, actor: User | None = None, **kwargs: str) -> Prospect:
    """Move with the prospect's current version, as alice unless another actor is named."""
    current = Prospect.objects.get(pk=prospect.pk)
    return move_stage(
        actor=actor or bank.alice, prospect_id=prospect.pk, version=current.version, to_stage=to_stage, **kwargs
    )


def test_a_forward_move_may_skip_stages_and_is_recorded(bank: Bank) -> None:
    # given a claimed prospect with a first-contact task
    prospect = _claimed(bank)
    # when
    moved = move_stage(
        actor=bank.alice, prospect_id=prospect.pk, version=prospect.version, to_stage=Stage.VISITED, note="上门拜访"
    )
    # then
    assert (moved.stage, moved.version, moved.contact_due) == ("visited", prospect.version + 1, None)
    last = StageChange.objects.filter(prospect=prospect).last()
    assert last is not None
    assert (last.from_stage, last.to_stage, last.changed_by) == ("identified", "visited", bank.alice)
    assert last.note == "上门拜访"
    event = AuditEvent.objects.get(action="prospect.stage")
    assert event.changes == {"stage": ["identified", "visited"], "note": "上门拜访"}
    task = Task.objects.get(kind=TaskKind.FIRST_CONTACT, source_id=str(prospect.pk))
    assert task.status == "done"


def test_a_prospect_does_not_move_back(bank: Bank) -> None:
    prospect = _move(bank, new_prospect(bank.alice), Stage.PROPOSAL)
    with pytest.raises(ValidationError) as error:
        _move(bank, prospect, Stage.CONTACTED)
    with pytest.raises(ValidationError) as same:
        _move(bank, prospect, Stage.PROPOSAL)
    assert "to_stage" in error.value.message_dict
    assert "to_stage" in same.value.message_dict
    assert Prospect.objects.get(pk=prospect.pk).stage == "proposal"


def test_winning_needs_the_account_or_contract_and_makes_a_real_customer(bank: Bank) -> None:
    # given
    prospect = _move(bank, new_prospect(bank.alice), Stage.PROPOSAL)
    # when / then
    with pytest.raises(ValidationError) as error:
        _move(bank, prospect, Stage.WON, won_evidence="  ")
    assert "won_evidence" in error.value.message_dict
    won = _move(bank, prospect, Stage.WON, won_evidence="基本户 3301 0000 1234")
    assert (won.stage, won.won_evidence) == ("won", "基本户 3301 0000 1234")
    assert Customer.objects.get(pk=prospect.customer_id).status == "customer"
    change = AuditEvent.objects.get(action="customer.update", customer_id=prospect.customer_id)
    assert change.changes == {"status": ["prospect", "customer"]}


def test_there_is_no_move_out_of_won(bank: Bank) -> None:
    prospect = _move(bank, new_prospect(bank.alice), Stage.WON, won_evidence="合同 2026-001")
    for stage in (Stage.PROPOSAL, Stage.DROPPED, Stage.IDENTIFIED):
        with pytest.raises(ValidationError):
            _move(bank, prospect, stage, drop_reason="x")
    with pytest.raises(ValidationError):
        _move(bank, prospect, Stage.IDENTIFIED, actor=bank.lead)


def test_dropping_needs_a_reason_and_only_a_lead_reopens(bank: Bank) -> None:
    # given
    prospect = new_prospect(bank.alice)
    # when / then
    with pytest.raises(ValidationError) as error:
        _move(bank, prospect, Stage.DROPPED)
    assert "drop_reason" in error.value.message_dict
    dropped = _move(bank, prospect, Stage.DROPPED, drop_reason="企业经营异常")
    assert (dropped.stage, dropped.drop_reason) == ("dropped", "企业经营异常")
    with pytest.raises(ValidationError) as rm_reopen:
        _move(bank, prospect, Stage.IDENTIFIED)
    assert "to_stage" in rm_reopen.value.message_dict
    with pytest.raises(ValidationError):
        _move(bank, prospect, Stage.CONTACTED, actor=bank.lead)
    reopened = _move(bank, prospect, Stage.IDENTIFIED, actor=bank.lead)
    assert (reopened.stage, reopened.drop_reason) == ("identified", "")
    steps = list(StageChange.objects.filter(prospect=prospect).values_list("to_stage", flat=True))
    assert steps == ["identified", "dropped", "identified"]


def test_a_pool_prospect_must_be_claimed_before_it_is_worked(bank: Bank) -> None:
    prospect = new_prospect(bank.alice, to_pool=True)
    for actor in (bank.alice, bank.lead):
        with pytest.raises(ValidationError) as error:
            move_stage(actor=actor, prospect_id=prospect.pk, version=prospect.version, to_stage=Stage.CONTACTED)
        assert "claim" in error.value.message_dict["to_stage"][0] or "认领" in error.value.message_dict["to_stage"][0]
    assert Prospect.objects.get(pk=prospect.pk).stage == "identified"


def test_a_stale_version_is_a_conflict_and_changes_nothing(bank: Bank) -> None:
    prospect = new_prospect(bank.alice)
    _move(bank, prospect, Stage.CONTACTED)
    with pytest.raises(ConflictError):
        move_stage(actor=bank.alice, prospect_id=prospect.pk, version=prospect.version, to_stage=Stage.VISITED)
    assert Prospect.objects.get(pk=prospect.pk).stage == "contacted"


def test_a_co_rm_and_the_lead_may_move_it_but_nobody_else(bank: Bank) -> None:
    # given
    prospect = new_prospect(bank.alice)
    customer_services.set_co_rms(
        actor=bank.alice, customer_id=prospect.customer_id, version=prospect.customer.version, users=[bank.dave]
    )
    # when / then
    assert _move(bank, prospect, Stage.CONTACTED, actor=bank.dave).stage == "contacted"
    assert _move(bank, prospect, Stage.VISITED, actor=bank.head).stage == "visited"
    for outsider in (bank.bob, bank.carol, bank.auditor, bank.risk):
        with pytest.raises(NotFoundError):
            _move(bank, prospect, Stage.PROPOSAL, actor=outsider)
    assert Prospect.objects.get(pk=prospect.pk).stage == "visited"


def test_an_unknown_stage_is_refused_naming_the_field(bank: Bank) -> None:
    prospect = new_prospect(bank.alice)
    with pytest.raises(ValidationError) as error:
        _move(bank, prospect, "signed")
    assert "to_stage" in error.value.message_dict


def test_days_in_stage_count_in_the_banks_time_zone(bank: Bank) -> None:
    prospect = new_prospect(bank.alice)
    # 23:30 in Shanghai on 1 March is still 1 March there (15:30 UTC).
    prospect.stage_changed_at = datetime(2026, 3, 1, 23, 30, tzinfo=SHANGHAI)
    assert days_in_stage(prospect, date(2026, 3, 1)) == 0
    assert days_in_stage(prospect, date(2026, 3, 11)) == 10
    assert days_in_stage(prospect, date(2026, 3, 1) - timedelta(days=1)) == 0
