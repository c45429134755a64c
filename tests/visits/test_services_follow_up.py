"""What comes of a visit: next steps as tasks with owners and dates, and a prospect moved on in its pipeline."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import NotFoundError
from rmdesk.customers.models import Customer
from rmdesk.development.choices import Stage
from rmdesk.development.models import Prospect, StageChange
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind
from rmdesk.tasks.models import Task
from rmdesk.visits.choices import FollowUpKind, VisitStatus
from rmdesk.visits.models import FollowUp, Visit
from rmdesk.visits.services import add_follow_up_stage, add_follow_up_task
from tests.development.factories import make_prospect
from tests.personas import Bank, make_customer
from tests.visits.factories import aware, make_visit
from tests.visits.test_services_plan import awaits_catalogue, in_chinese, refused

VISITED = aware(2026, 2, 10, 14)


def done_visit(rm: User, customer: Customer) -> Visit:
    return make_visit(rm, customer, planned_start=VISITED, status=VisitStatus.DONE)


def rows() -> dict[str, int]:
    return {
        "follow_ups": FollowUp.objects.count(),
        "tasks": Task.objects.count(),
        "stage_changes": StageChange.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


def in_a_week() -> date:
    return timezone.localdate() + timedelta(days=7)


# --- tasks ----------------------------------------------------------------------------------------------------------


def test_a_next_step_becomes_a_task_for_its_owner(bank: Bank) -> None:
    # given alice's recorded visit; dave is the customer's co-RM
    customer = make_customer(bank.alice, co_rms=(bank.dave,))
    visit = done_visit(bank.alice, customer)
    due = in_a_week()
    # when
    follow_up = add_follow_up_task(
        actor=bank.alice, visit_id=visit.pk, description=" 送授信方案初稿 ", owner_id=bank.dave.pk, due_date=due
    )
    # then
    follow_up.refresh_from_db()
    assert (follow_up.visit, follow_up.kind, follow_up.description) == (visit, "task", "送授信方案初稿")
    assert (follow_up.created_by, follow_up.stage_change) == (bank.alice, None)
    task = follow_up.task
    assert task is not None
    assert (task.kind, task.owner, task.customer, task.due_date, task.status) == (
        TaskKind.FOLLOW_UP,
        bank.dave,
        customer,
        due,
        "open",
    )
    assert (task.title, task.source_type, task.source_id) == ("送授信方案初稿", "visit_follow_up", str(follow_up.pk))
    actions = list(AuditEvent.objects.filter(customer_id=customer.pk).order_by("seq").values_list("action", flat=True))
    assert actions == ["task.create", "visit.follow_up"]
    assert AuditEvent.objects.get(action="visit.follow_up").changes == {
        "kind": "task",
        "description": "送授信方案初稿",
        "owner": "dave",
        "due_date": str(due),
    }


def test_a_next_step_may_go_to_the_lead_and_be_due_today(bank: Bank) -> None:
    customer = make_customer(bank.alice)
    visit = done_visit(bank.alice, customer)
    today = timezone.localdate()
    follow_up = add_follow_up_task(
        actor=bank.alice, visit_id=visit.pk, description="组长出面协调利率", owner_id=bank.lead.pk, due_date=today
    )
    assert follow_up.task is not None
    assert (follow_up.task.owner, follow_up.task.due_date) == (bank.lead, today)


def test_the_owner_must_be_a_colleague_who_can_see_the_customer(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = done_visit(bank.alice, customer)
    User.objects.filter(pk=bank.dave.pk).update(is_active=False)
    before = rows()
    # when / then: another team's RM, another branch's, a teammate not on the customer, someone who left, nobody
    for owner_id in (bank.bob.pk, bank.carol.pk, bank.admin.pk, bank.officer.pk, bank.dave.pk, 987654, None):
        errors = refused(
            add_follow_up_task,
            actor=bank.alice,
            visit_id=visit.pk,
            description="送方案",
            owner_id=owner_id,
            due_date=in_a_week(),
        )
        assert errors == {"owner_id": ["The owner must be a colleague who can see this customer."]}
    assert rows() == before


def test_a_next_step_says_what_and_is_due_today_or_later(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = done_visit(bank.alice, customer)
    before = rows()
    # when
    blank = refused(
        add_follow_up_task, actor=bank.alice, visit_id=visit.pk, description="  ", owner_id=bank.alice.pk, due_date=None
    )
    past = refused(
        add_follow_up_task,
        actor=bank.alice,
        visit_id=visit.pk,
        description="送方案",
        owner_id=bank.alice.pk,
        due_date=timezone.localdate() - timedelta(days=1),
    )
    too_long = refused(
        add_follow_up_task,
        actor=bank.alice,
        visit_id=visit.pk,
        description="送" * 201,
        owner_id=bank.alice.pk,
        due_date=in_a_week(),
    )
    # then
    assert blank == {"description": ["Say what the next step is."], "due_date": ["Enter the date it is due."]}
    assert past == {"due_date": ["The due date cannot be in the past."]}
    assert too_long == {"description": ["Ensure this value has at most 200 characters (it has 201)."]}
    assert rows() == before


def test_a_visit_is_recorded_before_its_next_steps(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    before = rows()
    # when / then
    for status in (VisitStatus.PLANNED, VisitStatus.POSTPONED, VisitStatus.CANCELLED):
        visit = make_visit(bank.alice, customer, status=status)
        task = refused(
            add_follow_up_task,
            actor=bank.alice,
            visit_id=visit.pk,
            description="送方案",
            owner_id=bank.alice.pk,
            due_date=in_a_week(),
        )
        stage = refused(add_follow_up_stage, actor=bank.alice, visit_id=visit.pk, to_stage=Stage.PROPOSAL)
        assert task == stage == {"visit": ["Record the visit before adding what comes next."]}
    assert rows() == before


def test_next_steps_out_of_scope_are_not_found(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = done_visit(bank.alice, customer)
    before = rows()
    # when / then
    for actor in (bank.bob, bank.carol, bank.dave, bank.risk, bank.auditor, bank.officer):
        with pytest.raises(NotFoundError):
            add_follow_up_task(
                actor=actor, visit_id=visit.pk, description="x", owner_id=bank.alice.pk, due_date=in_a_week()
            )
        with pytest.raises(NotFoundError):
            add_follow_up_stage(actor=actor, visit_id=visit.pk, to_stage=Stage.PROPOSAL)
    assert rows() == before


# --- the pipeline ---------------------------------------------------------------------------------------------------


def _prospect_visited(bank: Bank, stage: str = Stage.CONTACTED) -> tuple[Prospect, Visit]:
    """A prospect of alice's at `stage`, and her recorded visit to it."""
    steps: list[tuple[str, int]] = [(stage, 2)] if stage != Stage.IDENTIFIED else []
    prospect = make_prospect(bank.alice, found_on=date(2026, 1, 5), steps=steps)
    return prospect, done_visit(bank.alice, prospect.customer)


def test_a_need_found_on_the_visit_moves_the_prospect_on(bank: Bank) -> None:
    # given
    prospect, visit = _prospect_visited(bank)
    # when
    follow_up = add_follow_up_stage(
        actor=bank.alice, visit_id=visit.pk, to_stage=Stage.PROPOSAL, description=" 客户有两千万流贷需求，出方案 "
    )
    # then
    prospect.refresh_from_db()
    assert (prospect.stage, prospect.version) == ("proposal", 2)
    change = StageChange.objects.filter(prospect=prospect).order_by("pk").last()
    assert change is not None
    assert (change.from_stage, change.to_stage, change.changed_by) == ("contacted", "proposal", bank.alice)
    assert change.note == "客户有两千万流贷需求，出方案"
    follow_up.refresh_from_db()
    assert (follow_up.kind, follow_up.stage_change, follow_up.task) == (FollowUpKind.STAGE, change, None)
    assert (follow_up.description, follow_up.created_by) == ("客户有两千万流贷需求，出方案", bank.alice)
    actions = list(
        AuditEvent.objects.filter(customer_id=prospect.customer_id).order_by("seq").values_list("action", flat=True)
    )
    assert actions == ["prospect.stage", "visit.follow_up"]
    assert AuditEvent.objects.get(action="visit.follow_up").changes == {
        "kind": "stage",
        "to_stage": "proposal",
        "description": "客户有两千万流贷需求，出方案",
    }


def test_a_stage_change_without_a_description_names_the_visit(bank: Bank) -> None:
    # given
    _prospect, visit = _prospect_visited(bank)
    # when
    with translation.override("en"):
        follow_up = add_follow_up_stage(actor=bank.alice, visit_id=visit.pk, to_stage=Stage.VISITED)
    # then
    change = follow_up.stage_change
    assert change is not None
    assert change.note == "After the visit of 2026-02-10"
    assert follow_up.description == "Contacted → Visited"


def test_winning_and_dropping_carry_their_evidence_and_reason(bank: Bank) -> None:
    # given
    won_prospect, won_visit = _prospect_visited(bank, Stage.PROPOSAL)
    lost_prospect, lost_visit = _prospect_visited(bank, Stage.VISITED)
    # when
    add_follow_up_stage(actor=bank.alice, visit_id=won_visit.pk, to_stage=Stage.WON, won_evidence="基本户 3301")
    add_follow_up_stage(actor=bank.alice, visit_id=lost_visit.pk, to_stage=Stage.DROPPED, drop_reason="已选他行")
    # then
    won_prospect.refresh_from_db()
    lost_prospect.refresh_from_db()
    assert (won_prospect.stage, won_prospect.won_evidence) == ("won", "基本户 3301")
    assert (lost_prospect.stage, lost_prospect.drop_reason) == ("dropped", "已选他行")


def test_the_pipelines_own_rules_still_hold(bank: Bank) -> None:
    # given a prospect already at 方案
    prospect, visit = _prospect_visited(bank, Stage.PROPOSAL)
    before = rows()
    # when
    back = refused(add_follow_up_stage, actor=bank.alice, visit_id=visit.pk, to_stage=Stage.CONTACTED)
    no_evidence = refused(add_follow_up_stage, actor=bank.alice, visit_id=visit.pk, to_stage=Stage.WON)
    unknown = refused(add_follow_up_stage, actor=bank.alice, visit_id=visit.pk, to_stage="signed_in_blood")
    # then
    assert back == {"to_stage": ["A prospect moves forward only; it cannot go back a stage."]}
    assert no_evidence == {
        "won_evidence": ["Give the account number opened or the signed product or contract reference."]
    }
    assert unknown == {"to_stage": ["Choose one of the pipeline stages."]}
    assert rows() == before
    assert Prospect.objects.get(pk=prospect.pk).stage == "proposal"


def test_a_customer_not_being_developed_has_no_pipeline_to_move(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    visit = done_visit(bank.alice, customer)
    before = rows()
    # when
    errors = refused(add_follow_up_stage, actor=bank.alice, visit_id=visit.pk, to_stage=Stage.PROPOSAL)
    # then
    assert errors == {"to_stage": ["This customer is not being developed, so it has no pipeline to move."]}
    assert rows() == before


def test_a_stage_changes_description_fits_its_column(bank: Bank) -> None:
    _prospect, visit = _prospect_visited(bank)
    errors = refused(
        add_follow_up_stage, actor=bank.alice, visit_id=visit.pk, to_stage=Stage.VISITED, description="访" * 201
    )
    assert errors == {"description": ["Ensure this value has at most 200 characters (it has 201)."]}


# --- the user's language ----------------------------------------------------------------------------------------------


@awaits_catalogue
def test_follow_up_errors_are_in_chinese_by_default(bank: Bank) -> None:
    # given
    customer = make_customer(bank.alice)
    planned = make_visit(bank.alice, customer)
    visit = done_visit(bank.alice, customer)
    # when (no language chosen: the default, zh-Hans)
    messages: list[str] = []
    calls: list[tuple[Any, dict[str, Any]]] = [
        (add_follow_up_task, {"visit_id": visit.pk, "description": "", "owner_id": bank.bob.pk, "due_date": None}),
        (add_follow_up_stage, {"visit_id": planned.pk, "to_stage": Stage.PROPOSAL}),
        (add_follow_up_stage, {"visit_id": visit.pk, "to_stage": Stage.PROPOSAL}),
    ]
    for call, kwargs in calls:
        with pytest.raises(ValidationError) as error:
            call(actor=bank.alice, **kwargs)
        messages += [m for field in error.value.message_dict.values() for m in field]
    # then
    assert len(messages) == 5
    assert all(in_chinese(message) for message in messages), messages
