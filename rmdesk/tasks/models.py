"""Work items: what an RM has to do, by when, and for which customer."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rmdesk.access.querysets import RestrictedQuerySet
from rmdesk.core.models import TimestampedModel
from rmdesk.tasks.choices import Priority, TaskKind, TaskStatus


class TaskQuerySet(RestrictedQuerySet["Task"]):
    def open(self) -> TaskQuerySet:
        return self.filter(status=TaskStatus.OPEN)


class Task(TimestampedModel):
    """A work item for one owner; a customer's task inherits the customer's visibility."""

    kind = models.CharField(_("kind"), max_length=40, choices=TaskKind.choices, default=TaskKind.FOLLOW_UP)
    title = models.CharField(_("title"), max_length=200)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="tasks"
    )
    due_date = models.DateField(_("due date"))
    status = models.CharField(_("status"), max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=Priority.choices, default=Priority.NORMAL)
    # What raised the task (a visit, an instalment, …): later modules point back at their object.
    source_type = models.CharField(_("source type"), max_length=64, blank=True)
    source_id = models.CharField(_("source id"), max_length=64, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)

    objects = TaskQuerySet.as_manager()
    scope_root = "customer__"

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_date", "priority", "pk"]
        indexes = [
            models.Index(fields=["owner", "status", "due_date"], name="task_owner_due"),
            models.Index(fields=["customer", "status"], name="task_customer"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "source_type", "source_id", "owner"],
                condition=models.Q(status="open") & ~models.Q(source_id=""),
                name="one_open_task_per_source",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN


class Notice(models.Model):
    """A short message to one user about something that happened to them (a claim lapsed, a file was merged)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), on_delete=models.PROTECT, related_name="notices"
    )
    # Written in the bank's language when the event happens: batch jobs that raise notices have no reader's language.
    text = models.CharField(_("text"), max_length=300)
    customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at", "created_at"], name="notice_recipient_unread")]

    def __str__(self) -> str:
        return self.text
