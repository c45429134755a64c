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
from rmdesk.tasks.models import Task


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
