"""Collection 催收 and classification 五级分类 records of loans.

The instalments' due and overdue state and the penalty accruals live with the loans (`loans.models`); this app keeps
what people do about them — the collection log with promises to pay, the classification decisions — and the monthly
snapshots the portfolio's migration matrix is read from.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from rmdesk.core.models import TimestampedModel
from rmdesk.customers.models import Customer, CustomerOwned, amount_field
from rmdesk.loans.choices import Classification
from rmdesk.loans.models import LoanContract
from rmdesk.postloan.choices import ContactChannel, PromiseStatus


class CollectionLog(CustomerOwned, TimestampedModel):
    """One collection contact 催收记录 on a loan: whom, how, what they said, and any promise to pay."""

    contract = models.ForeignKey(
        LoanContract, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="collection_logs"
    )
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    contacted_on = models.DateField(_("contacted on"))
    channel = models.CharField(_("channel"), max_length=10, choices=ContactChannel.choices)
    contact_person = models.CharField(_("person contacted"), max_length=50)
    result = models.TextField(_("result"))
    promise_date = models.DateField(_("promised payment date"), null=True, blank=True)
    promise_amount = amount_field(
        _("promised amount"), null=True, blank=True, validators=[MinValueValidator(Decimal("0.01"))]
    )
    promise_status = models.CharField(
        _("promise"), max_length=10, choices=PromiseStatus.choices, default=PromiseStatus.NONE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("collection record")
        verbose_name_plural = _("collection log")
        ordering = ["contract_id", "-contacted_on", "-pk"]
        indexes = [
            models.Index(
                fields=["promise_date"], name="collection_open_promise", condition=models.Q(promise_status="open")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.contacted_on} {self.get_channel_display()}"


class ClassificationDecision(CustomerOwned, models.Model):
    """A person's decision on a loan's five-category classification, with the batch's proposal it answered."""

    contract = models.ForeignKey(
        LoanContract, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="classification_decisions"
    )
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    decided_on = models.DateField(_("decided on"))
    previous = models.PositiveSmallIntegerField(_("before"), choices=Classification.choices)
    proposed = models.PositiveSmallIntegerField(_("proposed"), choices=Classification.choices, null=True, blank=True)
    decided = models.PositiveSmallIntegerField(_("decided"), choices=Classification.choices)
    days_past_due = models.PositiveIntegerField(_("days past due"))
    reason = models.TextField(_("reason"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("classification decision")
        verbose_name_plural = _("classification decisions")
        ordering = ["contract_id", "-decided_at"]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.previous}→{self.decided}"


class ClassificationSnapshot(CustomerOwned, models.Model):
    """A loan's classification and outstanding principal at a month's end: the rows of the migration matrix."""

    month = models.DateField(_("month"))  # the first day of the month the snapshot closes
    contract = models.ForeignKey(LoanContract, verbose_name=_("loan"), on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    classification = models.PositiveSmallIntegerField(_("classification"), choices=Classification.choices)
    outstanding_principal = amount_field(_("outstanding principal"))
    overdue_principal = amount_field(_("overdue principal"))

    class Meta:
        verbose_name = _("month-end classification")
        verbose_name_plural = _("month-end classifications")
        ordering = ["-month", "contract_id"]
        constraints = [models.UniqueConstraint(fields=["month", "contract"], name="snapshot_once_a_month")]
        indexes = [
            models.Index(fields=["month", "customer"], name="snapshot_month_customer"),
            # Portfolio quality reads a unit's loans' month ends by loan: covering, so the trend and the migration
            # matrix are read from the index alone (postloan.queries.portfolio).
            models.Index(
                fields=["contract", "month", "classification", "outstanding_principal", "overdue_principal"],
                name="snapshot_contract_month",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.contract_id}: {self.classification}"
