"""The job ledger of the end-of-day batch 日终: one row per business date, job and customer-id range."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class JobRun(models.Model):
    """One job of one business date over one range of customer ids; a date is done when all its jobs are."""

    business_date = models.DateField(_("business date"))
    job = models.CharField(_("job"), max_length=40)
    # The customer-id range [first, last] a worker ran; 0..0 for a job over the whole bank.
    first_customer_id = models.BigIntegerField(_("from customer id"), default=0)
    last_customer_id = models.BigIntegerField(_("to customer id"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("batch job run")
        verbose_name_plural = _("batch job ledger")
        ordering = ["-business_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["business_date", "job", "first_customer_id", "last_customer_id"], name="job_run_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.business_date} {self.job} [{self.first_customer_id}, {self.last_customer_id}] {self.status}"
