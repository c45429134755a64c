"""Writers of tasks; services of other apps call create_task() to put work on an RM's list."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action
from rmdesk.audit.services import record
from rmdesk.core.errors import NotFoundError
from rmdesk.customers.models import Customer
from rmdesk.tasks.choices import Priority, TaskKind, TaskStatus
from rmdesk.tasks.models import Notice, Task


@transaction.atomic
def create_task(
    *,
    actor: Any,
    owner: Any,
    title: str,
    due_date: date,
    kind: str = TaskKind.FOLLOW_UP,
    customer: Customer | None = None,
    priority: int = Priority.NORMAL,
    source_type: str = "",
    source_id: str = "",
) -> Task:
    """Put a task on `owner`'s list; a customer task needs an actor who may change that customer."""
    if (
        customer is not None
        and actor is not None
        and not Customer.objects.restrict(actor, Action.CHANGE).filter(pk=customer.pk).exists()
    ):
        raise NotFoundError()
    task = Task(
        kind=kind,
        title=title,
        customer=customer,
        owner=owner,
        due_date=due_date,
        priority=priority,
        source_type=source_type,
        source_id=source_id,
    )
    task.full_clean()
    task.save()
    record(
        actor=actor,
        action="task.create",
        obj=task,
        customer_id=customer.pk if customer else None,
        changes={"title": title, "owner": owner.username, "due_date": due_date, "kind": kind},
    )
    return task


def tasks_for(user: Any) -> QuerySet[Task]:
    """The tasks `user` may see: their own, and those on customers in their view scope."""
    visible_customers = Customer.objects.restrict(user, Action.VIEW).values("pk")
    # An RM's own task on a customer since handed to someone else goes with the customer.
    return Task.objects.filter(Q(owner=user, customer__isnull=True) | Q(customer__in=visible_customers))


@transaction.atomic
def complete_task(*, actor: Any, task_id: int) -> Task:
    """Mark the actor's own open task done."""
    task = Task.objects.select_for_update().filter(pk=task_id, owner=actor).first()
    if task is None:
        raise NotFoundError()
    if task.status != TaskStatus.OPEN:
        raise ValidationError({"status": _("This task is already closed.")})
    task.status = TaskStatus.DONE
    task.completed_at = timezone.now()
    task.save(update_fields=["status", "completed_at", "updated_at"])
    record(actor=actor, action="task.complete", obj=task, customer_id=task.customer_id)
    return task


@transaction.atomic
def close_source_tasks(*, actor: Any, kind: str, source_type: str, source_id: str, status: str) -> int:
    """Close the open tasks a service raised for one object (done when the work happened, cancelled when it no
    longer needs doing); returns how many."""
    if status not in (TaskStatus.DONE, TaskStatus.CANCELLED):
        raise ValueError(f"cannot close a task as {status!r}")
    tasks = Task.objects.select_for_update().filter(
        kind=kind, source_type=source_type, source_id=source_id, status=TaskStatus.OPEN
    )
    closed = 0
    now = timezone.now()
    for task in tasks:
        task.status = status
        task.completed_at = now if status == TaskStatus.DONE else None
        task.save(update_fields=["status", "completed_at", "updated_at"])
        action = "task.complete" if status == TaskStatus.DONE else "task.cancel"
        record(actor=actor, action=action, obj=task, customer_id=task.customer_id)
        closed += 1
    return closed


@transaction.atomic
def move_source_tasks(*, actor: Any, kind: str, source_type: str, source_id: str, due_date: date) -> int:
    """Move the open tasks a service raised for one object to a new due date (a visit rescheduled); returns how
    many moved."""
    moved = 0
    tasks = Task.objects.select_for_update().filter(
        kind=kind, source_type=source_type, source_id=source_id, status=TaskStatus.OPEN
    )
    for task in tasks:
        if task.due_date == due_date:
            continue
        before = task.due_date
        task.due_date = due_date
        task.save(update_fields=["due_date", "updated_at"])
        record(
            actor=actor,
            action="task.reschedule",
            obj=task,
            customer_id=task.customer_id,
            changes={"due_date": [before, due_date]},
        )
        moved += 1
    return moved


def notify(*, recipient: Any, text: str, customer: Customer | None = None) -> Notice:
    """Leave a notice on the recipient's home page (the event it reports is audited by its own service)."""
    notice = Notice(recipient=recipient, text=text[:300], customer=customer)
    notice.full_clean()
    notice.save()
    return notice


def unread_notices(user: Any) -> QuerySet[Notice]:
    """The user's notices not yet read, newest first."""
    return Notice.objects.filter(recipient=user, read_at__isnull=True).order_by("-created_at", "-pk")


@transaction.atomic
def mark_notices_read(*, actor: Any, notice_ids: list[int] | None = None) -> int:
    """Mark the actor's own notices read (all unread ones when no ids are given); returns how many."""
    notices = unread_notices(actor)
    if notice_ids is not None:
        notices = notices.filter(pk__in=notice_ids)
    return notices.update(read_at=timezone.now())
