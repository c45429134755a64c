"""The demo bank's visits: two years of history per current customer, plans, occasions, records and the personas."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, time, timedelta
from itertools import pairwise
from statistics import mean
from typing import Any

import pytest
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from rmdesk.core.workdays import is_working_day
from rmdesk.customers.choices import KeyPersonRole, LifecycleStatus, Tier
from rmdesk.customers.models import Customer
from rmdesk.demo import builder, pipeline
from rmdesk.demo.builder import DemoSummary, build_demo_bank
from rmdesk.demo.visits import GAPS, HISTORY_DAYS
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskKind, TaskStatus
from rmdesk.tasks.models import Task
from rmdesk.visits.cadence import cadences, open_lapsed_visit_tasks, tracked_customers
from rmdesk.visits.choices import (
    CheckinStatus,
    EventOrigin,
    FollowUpKind,
    NeedTag,
    PrepItem,
    ProposalResponse,
    SelfCheck,
    VisitPurpose,
    VisitStatus,
)
from rmdesk.visits.coverage import team_coverage
from rmdesk.visits.models import (
    CustomerEvent,
    FollowUp,
    OtherBankCredit,
    ProductPresented,
    Proposal,
    Visit,
    VisitBankAttendee,
    VisitContact,
)
from rmdesk.visits.queries import visits_for
from rmdesk.visits.services import EVENT_SOURCE, FOLLOW_UP_SOURCE, VISIT_SOURCE

HAN = re.compile(r"[\u4e00-\u9fff]")
# Big enough that the named RMs hold a dozen current customers and a few occasions are logged.
VISIT_BANK_CUSTOMERS = 400
PREP_ORDER = list(PrepItem.values)
NEED_ORDER = list(NeedTag.values)
CHECK_ORDER = list(SelfCheck.values)


@pytest.fixture
def visit_bank(db: Any) -> DemoSummary:
    return build_demo_bank(customers=VISIT_BANK_CUSTOMERS)


def _local(moment: datetime) -> datetime:
    return timezone.localtime(moment)


def _start_of(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _done_by_customer() -> dict[int, list[Visit]]:
    """Each customer's visits done, oldest first."""
    visits: dict[int, list[Visit]] = defaultdict(list)
    for visit in Visit.objects.filter(status=VisitStatus.DONE).order_by("customer_id", "visited_on", "pk"):
        visits[visit.customer_id].append(visit)
    return visits


def _task_of(kind: str, source_type: str, source_id: int) -> Task:
    (task,) = Task.objects.filter(kind=kind, source_type=source_type, source_id=str(source_id))
    return task


def _last_working_day_before(day: Any) -> Any:
    day -= timedelta(days=1)
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


# --- the history ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_current_customer_was_visited_over_the_last_two_years_and_nobody_else(visit_bank: DemoSummary) -> None:
    # given: the demo bank
    today = timezone.localdate()
    # when
    visits = _done_by_customer()
    # then
    tracked = set(tracked_customers().values_list("pk", flat=True))
    assert tracked and set(visits) == tracked
    assert not Visit.objects.exclude(customer__status=LifecycleStatus.CUSTOMER).exists()
    for done in visits.values():
        assert today - timedelta(days=HISTORY_DAYS + 10) <= done[0].visited_on
        assert done[-1].visited_on < today


@pytest.mark.django_db
def test_strategic_customers_are_visited_most_often_and_general_ones_least(visit_bank: DemoSummary) -> None:
    # given: the demo bank
    tiers = dict(Customer.objects.values_list("pk", "tier"))
    # when
    gaps: dict[str, list[int]] = defaultdict(list)
    for customer_id, done in _done_by_customer().items():
        days = [(later.visited_on - earlier.visited_on).days for earlier, later in pairwise(done)]
        gaps[tiers[customer_id]] += days
    # then: gaps within the tier's range (a holiday moves a visit a few days), the tiers in cadence order
    for tier, days in gaps.items():
        low, high = GAPS[tier]
        assert all(1 <= day <= high + 12 for day in days), tier
        assert low <= mean(days) <= high
    average = {tier: mean(days) for tier, days in gaps.items()}
    assert average[Tier.KEY] < average[Tier.GENERAL]
    assert [average[tier] for tier in Tier.values if tier in average] == sorted(average.values())


@pytest.mark.django_db
def test_visits_take_place_on_working_days_in_office_hours(visit_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    visits = list(Visit.objects.all())
    # then
    assert visits
    for visit in visits:
        start, end = _local(visit.planned_start), _local(visit.planned_end)
        assert time(9) <= start.time() <= time(16) and start < end <= start + timedelta(hours=2)
        assert is_working_day(start.date())
        assert visit.created_at < visit.planned_start and visit.created_at < timezone.now()
        if visit.status == VisitStatus.DONE:
            assert visit.actual_start is not None and visit.actual_end is not None and visit.recorded_at is not None
            assert visit.visited_on == _local(visit.actual_start).date() == start.date()
            assert abs(visit.actual_start - visit.planned_start) <= timedelta(minutes=10)
            assert visit.actual_end - visit.actual_start == visit.planned_end - visit.planned_start
            assert visit.recorded_at > visit.actual_end and visit.updated_at == visit.recorded_at
        else:
            assert visit.visited_on is None and visit.actual_start is None and visit.recorded_at is None


@pytest.mark.django_db
def test_a_few_customers_have_lapsed_so_the_cadence_job_opens_their_tasks_once(visit_bank: DemoSummary) -> None:
    # given: the demo bank, whose load opened no cadence task
    today = timezone.localdate()
    tracked = tracked_customers().count()
    assert not Task.objects.filter(kind=TaskKind.VISIT_DUE).exists()
    # when
    first = open_lapsed_visit_tasks(on=today)
    second = open_lapsed_visit_tasks(on=today)
    # then
    assert 1 <= first.lapsed <= tracked * 0.15
    assert first.created == first.lapsed
    assert (second.lapsed, second.created, second.cancelled) == (first.lapsed, 0, 0)
    assert Task.objects.filter(kind=TaskKind.VISIT_DUE, status=TaskStatus.OPEN).count() == first.lapsed


@pytest.mark.django_db
def test_every_visit_row_passes_model_validation(visit_bank: DemoSummary) -> None:
    # given: the demo bank, written past the services
    # when / then: every row but the old visits done, of which every fifth (a full_clean costs four queries)
    for model in (CustomerEvent, Proposal, ProductPresented, OtherBankCredit, VisitContact, VisitBankAttendee,
                  FollowUp):  # fmt: skip
        assert model.objects.exists(), model
        for obj in model.objects.all():
            obj.full_clean()
    visits = list(Visit.objects.order_by("pk"))
    last = {v.customer_id: v.pk for v in visits if v.status == VisitStatus.DONE}
    for n, visit in enumerate(visits):
        if visit.status != VisitStatus.DONE or visit.pk == last[visit.customer_id] or n % 5 == 0:
            visit.full_clean()
    for task in Task.objects.filter(kind__in=(TaskKind.VISIT, TaskKind.VISIT_OCCASION)):
        task.full_clean()


@pytest.mark.django_db
def test_the_summary_counts_every_visit_row(visit_bank: DemoSummary) -> None:
    # given: the demo bank
    # when
    counts = visit_bank.as_dict()
    # then
    assert counts["visits"] == Visit.objects.count() > 0
    assert counts["customer_events"] == CustomerEvent.objects.count() > 0
    assert counts["proposals"] == Proposal.objects.count()
    assert counts["products_presented"] == ProductPresented.objects.count()
    assert counts["other_bank_credits"] == OtherBankCredit.objects.count()
    assert counts["visit_contacts"] == VisitContact.objects.count()
    assert counts["visit_bank_attendees"] == VisitBankAttendee.objects.count()
    assert counts["follow_ups"] == FollowUp.objects.count()
    assert counts["tasks"] == Task.objects.count()


# --- the records ---------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_customers_last_visit_has_a_full_record_and_older_ones_stay_lean(visit_bank: DemoSummary) -> None:
    # given: the demo bank
    today = timezone.localdate()
    # when
    visits = _done_by_customer()
    # then
    for done in visits.values():
        *older, last = done
        assert last.need_tags and last.need_tags == sorted(set(last.need_tags), key=NEED_ORDER.index)
        for text in (last.purpose_detail, last.goals_short, last.goals_long, last.needs_detail, last.operations,
                     last.product_reaction, last.notes):  # fmt: skip
            assert HAN.search(text)
        assert set(last.self_check) <= set(CHECK_ORDER) and len(last.self_check) >= len(CHECK_ORDER) - 1
        assert bool(last.self_check_note) == (len(last.self_check) < len(CHECK_ORDER))
        products = list(last.products_presented.all())
        assert [p.position for p in products] == list(range(1, len(products) + 1)) and products
        if last.checkin_status == CheckinStatus.LOCATED:
            assert (today - last.visited_on).days <= 90
            assert last.checkin_latitude is not None and last.checkin_longitude is not None and last.checkin_at
        for visit in older:
            assert visit.need_tags == visit.self_check == visit.preparation == []
            assert not (visit.goals_short or visit.needs_detail or visit.confidential_notes)
            assert visit.checkin_status == CheckinStatus.NONE
            assert not visit.products_presented.exists() and not visit.proposals.exists()
            assert not visit.other_banks.exists()
    for proposal in Proposal.objects.all():
        assert bool(proposal.counter_offer) == (proposal.response == ProposalResponse.COUNTERED)
    assert all(credit.amount and credit.amount > 0 for credit in OtherBankCredit.objects.all())


@pytest.mark.django_db
def test_planned_visits_have_their_preparation_customer_attendees_and_a_task(visit_bank: DemoSummary) -> None:
    # given: the demo bank
    today = timezone.localdate()
    # when
    open_visits = list(Visit.objects.filter(status__in=(VisitStatus.PLANNED, VisitStatus.POSTPONED)))
    # then
    assert any(v.planned_start > timezone.now() for v in open_visits)
    for visit in open_visits:
        day = _local(visit.planned_start).date()
        assert today - timedelta(days=14) <= day <= today + timedelta(days=21)
        assert len(visit.preparation) >= 2 and visit.preparation == PREP_ORDER[: len(visit.preparation)]
        assert HAN.search(visit.strategy) and HAN.search(visit.materials) and HAN.search(visit.purpose_detail)
        people = list(visit.customer_attendees.all())
        assert people and all(person.customer_id == visit.customer_id for person in people)
        task = _task_of(TaskKind.VISIT, VISIT_SOURCE, visit.pk)
        assert (task.owner_id, task.customer_id, task.due_date) == (visit.rm_id, visit.customer_id, day)
        if visit.status == VisitStatus.PLANNED:
            assert task.status == TaskStatus.OPEN and visit.postponed_count == 0 and not visit.status_reason
        else:  # postponed until a new time is agreed: its task went with it
            assert task.status == TaskStatus.CANCELLED and visit.postponed_count == 1 and visit.status_reason
    assert Task.objects.filter(kind=TaskKind.VISIT).count() == len(open_visits)


@pytest.mark.django_db
def test_occasions_raise_a_visit_task_closed_by_the_visit_planned_or_made_for_them(visit_bank: DemoSummary) -> None:
    # given: the demo bank
    today = timezone.localdate()
    # when
    events = list(CustomerEvent.objects.select_related("customer"))
    # then
    assert events
    for event in events:
        assert event.origin == EventOrigin.LOGGED and not event.detection_key
        assert event.logged_by_id == event.customer.primary_rm_id
        assert today - timedelta(days=91) <= event.occurred_on < today and HAN.search(event.title)
        task = _task_of(TaskKind.VISIT_OCCASION, EVENT_SOURCE, event.pk)
        assert task.owner_id == event.customer.primary_rm_id and event.title in task.title
        answered = list(Visit.objects.filter(event=event))
        assert len(answered) <= 1
        if answered:
            (visit,) = answered
            assert visit.purpose == VisitPurpose.TIMING
            assert visit.status != VisitStatus.DONE or visit.visited_on > event.occurred_on
            assert task.status == TaskStatus.DONE and task.completed_at is not None
        else:
            assert task.status == TaskStatus.OPEN and task.completed_at is None


@pytest.mark.django_db
def test_a_bigger_bank_has_its_visits_in_proportion() -> None:
    # given
    summary = build_demo_bank(customers=2000, seed=5)
    # when
    tracked = tracked_customers().count()
    statuses = dict(Visit.objects.values("status").annotate(n=Count("pk")).values_list("status", "n"))
    lapsed = sum(c.lapsed for c in cadences(tracked_customers()).values())
    # then: about five visits a year, a few percent lapsed, a few planned or cancelled, an occasion per hundred
    assert 4.5 <= statuses[VisitStatus.DONE] / tracked / 2 <= 5.5
    assert 0.02 <= lapsed / tracked <= 0.07
    assert 0.01 <= statuses[VisitStatus.PLANNED] / tracked <= 0.05
    assert 0.005 <= statuses[VisitStatus.CANCELLED] / summary.visits <= 0.03
    assert 0.005 <= summary.customer_events / tracked <= 0.02
    # one full record per customer: a product or two each, proposals on half, other banks on two in five
    assert 1 <= summary.products_presented / tracked <= 2
    assert 0.3 <= summary.proposals / tracked <= 0.8
    assert 0.3 <= summary.other_bank_credits / tracked <= 0.9


# --- the personas --------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_demo_rm_has_a_visit_recorded_yesterday_visits_this_week_one_overdue_and_lapsed_customers() -> None:
    # given: a bank where the named RMs hold a few dozen customers
    build_demo_bank(customers=1000)
    zhang, lead, head = (User.objects.get(username=name) for name in ("rm_zhang", "lead_chen", "head_liu"))
    today, now = timezone.localdate(), timezone.now()
    mine = Visit.objects.filter(rm=zhang)
    # when: the visit done on the last working day
    (recorded,) = mine.filter(status=VisitStatus.DONE, visited_on=_last_working_day_before(today)).exclude(
        confidential_notes=""
    )
    # then: everything of §4.3–§4.6 recorded, with the team lead along and two next steps
    assert recorded.customer.primary_rm_id == zhang.pk
    assert len(recorded.need_tags) == 3 and recorded.strategy and recorded.materials
    assert recorded.checkin_status == CheckinStatus.LOCATED and recorded.checkin_latitude is not None
    assert recorded.products_presented.count() == 3
    assert [p.response for p in recorded.proposals.all()] == [ProposalResponse.COUNTERED, ProposalResponse.PENDING]
    assert recorded.other_banks.all()[0].satisfaction == "dissatisfied"
    roles = set(recorded.customer_attendees.values_list("role", flat=True))
    assert KeyPersonRole.LEGAL_REPRESENTATIVE in roles and len(roles) >= 2
    assert list(recorded.bank_attendees.all()) == [lead]
    follow_ups = list(recorded.follow_ups.select_related("task"))
    assert len(follow_ups) == 2
    for follow_up in follow_ups:
        assert follow_up.kind == FollowUpKind.TASK and follow_up.task is not None
        task = follow_up.task
        assert (task.kind, task.status, task.owner_id, task.source_type, task.source_id) == (
            TaskKind.FOLLOW_UP,
            TaskStatus.OPEN,
            zhang.pk,
            FOLLOW_UP_SOURCE,
            str(follow_up.pk),
        )
        assert task.due_date > today

    # when: what is planned
    planned = list(mine.filter(status=VisitStatus.PLANNED).order_by("planned_start"))
    coming = [v for v in planned if v.planned_start >= _start_of(today)]
    overdue = [v for v in planned if v.planned_end < _start_of(today)]
    # then: visits in the coming days (the branch head goes on the first), one overdue with its task
    assert len(coming) >= 4 and _local(coming[3].planned_start).date() <= today + timedelta(days=8)
    assert list(coming[0].bank_attendees.all()) == [head]
    assert len(overdue) == 1
    task = _task_of(TaskKind.VISIT, VISIT_SOURCE, overdue[0].pk)
    assert task.status == TaskStatus.OPEN and task.due_date < today
    (postponed,) = mine.filter(status=VisitStatus.POSTPONED)
    assert postponed.status_reason and _task_of(TaskKind.VISIT, VISIT_SOURCE, postponed.pk).status == "cancelled"

    # when: the occasions and the cadence
    events = list(CustomerEvent.objects.filter(customer__primary_rm=zhang).order_by("occurred_on"))
    lapsed = [c for c in cadences(Customer.objects.filter(primary_rm=zhang)).values() if c.lapsed]
    # then: one occasion still to seize, one with a visit planned for it; lapsed customers
    assert [(e.occurred_on, _task_of(TaskKind.VISIT_OCCASION, EVENT_SOURCE, e.pk).status) for e in events] == [
        (today - timedelta(days=3), TaskStatus.OPEN),
        (today - timedelta(days=2), TaskStatus.DONE),
    ]
    assert events[1].visits.get().status == VisitStatus.PLANNED
    assert len(lapsed) >= 2

    # then: the team lead and the branch head see all of it; the lead sees the RM's coverage
    for leader in (lead, head):
        assert set(visits_for(leader).filter(rm=zhang).values_list("pk", flat=True)) == set(
            mine.values_list("pk", flat=True)
        )
    (row,) = [row for row in team_coverage(lead, today=today, now=now).rows if row.rm_id == zhang.pk]
    # overdue: the one planned two working days ago, and today's once its time has passed
    late = Visit.objects.filter(customer__primary_rm=zhang, status=VisitStatus.PLANNED, planned_end__lt=now).count()
    assert row.overdue_plans == late >= 1
    assert row.lapsed >= 2 and row.coverage is not None and 80 <= row.coverage < 100
    assert sum(row.visits_per_week) > 0


@pytest.mark.django_db
def test_every_named_rm_gets_the_showcase_and_head_office_sees_no_visits() -> None:
    # given
    build_demo_bank(customers=1000)
    today = timezone.localdate()
    # when
    rms = User.objects.filter(username__in=("rm_zhang", "rm_li", "rm_wang", "rm_zhao"))
    # then
    for rm in rms:
        mine = Visit.objects.filter(rm=rm)
        assert (
            mine.filter(status=VisitStatus.DONE, visited_on=_last_working_day_before(today))
            .exclude(confidential_notes="")
            .count()
            == 1
        )
        assert mine.filter(status=VisitStatus.PLANNED, planned_start__gte=_start_of(today)).count() >= 4
        assert mine.filter(status=VisitStatus.POSTPONED).count() == 1
        assert FollowUp.objects.filter(visit__rm=rm).count() == 2
    assert not visits_for(User.objects.get(username="ho_qian")).exists()


# --- determinism ---------------------------------------------------------------------------------------------------


def _visit_snapshot() -> dict[str, list[Any]]:
    return {
        "visits": list(
            Visit.objects.order_by("customer__credit_code", "planned_start", "status").values_list(
                "customer__credit_code",
                "rm__username",
                "purpose",
                "purpose_detail",
                "mode",
                "place",
                "planned_start",
                "planned_end",
                "status",
                "status_reason",
                "actual_start",
                "visited_on",
                "preparation",
                "notes",
                "need_tags",
                "goals_short",
                "confidential_notes",
                "self_check",
                "checkin_status",
                "checkin_latitude",
                "event__title",
            )
        ),
        "events": sorted(CustomerEvent.objects.values_list("customer__credit_code", "kind", "title", "occurred_on")),
        "records": sorted(
            ProductPresented.objects.values_list("visit__customer__credit_code", "position", "product", "interest")
        )
        + sorted(Proposal.objects.values_list("visit__customer__credit_code", "content", "response"))
        + sorted(OtherBankCredit.objects.values_list("visit__customer__credit_code", "bank_name", "amount")),
        "attendees": sorted(VisitContact.objects.values_list("visit__customer__credit_code", "key_person__name"))
        + sorted(VisitBankAttendee.objects.values_list("visit__customer__credit_code", "user__username")),
        "tasks": sorted(
            Task.objects.filter(kind__in=(TaskKind.VISIT, TaskKind.VISIT_OCCASION)).values_list(
                "kind", "title", "customer__credit_code", "owner__username", "due_date", "status"
            )
        ),
    }


def _load_and_snapshot(seed: int) -> dict[str, list[Any]]:
    with transaction.atomic():
        build_demo_bank(customers=VISIT_BANK_CUSTOMERS, seed=seed)
        snapshot = _visit_snapshot()
        transaction.set_rollback(True)
    return snapshot


@pytest.mark.django_db
def test_the_same_seed_gives_the_same_visits_and_another_seed_others() -> None:
    # given
    first = _load_and_snapshot(seed=42)
    # when
    again, other = _load_and_snapshot(seed=42), _load_and_snapshot(seed=43)
    # then
    assert first["visits"] and first["events"] and first["records"] and first["tasks"]
    assert first == again
    assert first["visits"] != other["visits"]


@pytest.mark.django_db
def test_visits_made_in_a_worker_process_are_the_ones_made_in_line(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: a load making its chunks in line, several of them
    monkeypatch.setattr(builder, "CHUNK_SIZE", 15)
    with transaction.atomic():
        in_line_summary = build_demo_bank(customers=100, seed=3)
        in_line = _visit_snapshot()
        transaction.set_rollback(True)
    # when: the same load with a worker process making the chunks and their visits
    monkeypatch.setattr(pipeline, "PARALLEL_FROM", 1)
    summary = build_demo_bank(customers=100, seed=3)
    # then
    assert in_line["visits"] and in_line == _visit_snapshot()
    assert summary == in_line_summary
