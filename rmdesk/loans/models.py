"""Loan contracts 贷款合同, their drawdowns and repayment schedules, published LPR rates and repayments.

A loan belongs to a customer and inherits its visibility (`restrict()` on the customer). The core banking system is
the book of record where it feeds rmdesk; otherwise rmdesk's schedule engine (`loans.schedule`) computes the schedule.
The collection state on the contract (outstanding, overdue, days past due, penalty to date, proposed classification) is
kept by the end-of-day batch so that lists and calendars never aggregate millions of instalments on a request.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rmdesk.access.querysets import RestrictedQuerySet
from rmdesk.core.models import TimestampedModel, VersionedModel
from rmdesk.customers.models import Customer, CustomerOwned, Relationship, amount_field
from rmdesk.loans.choices import (
    AccrualKind,
    Classification,
    Component,
    Currency,
    GuaranteeMethod,
    InstalmentStatus,
    LoanProduct,
    LoanStatus,
    LprTenor,
    RateKind,
    RepaymentMethod,
    RepaymentSource,
    RepricingRule,
    ScheduleSource,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

ZERO = Decimal("0.00")
MAX_RATE_PCT = Decimal(36)


def rate_field(verbose_name: StrOrPromise, **options: Any) -> models.DecimalField[Decimal | None, Decimal]:
    """An annual rate in percent with up to 6 decimals (3.450000 = 3.45 %)."""
    return models.DecimalField(verbose_name, max_digits=9, decimal_places=6, **options)


def zero_amount(verbose_name: StrOrPromise) -> models.DecimalField[Decimal | None, Decimal]:
    """An amount that starts at nothing (paid, accrued, overdue so far)."""
    return amount_field(verbose_name, default=ZERO)


class LprRate(models.Model):
    """A published Loan Prime Rate 贷款市场报价利率 (on the 20th of each month); head office adds new ones."""

    tenor = models.CharField(_("tenor"), max_length=2, choices=LprTenor.choices)
    published_on = models.DateField(_("published on"))
    rate_pct = rate_field(_("rate (%)"), validators=[MinValueValidator(Decimal(0)), MaxValueValidator(MAX_RATE_PCT)])
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("LPR")
        verbose_name_plural = _("LPR history")
        ordering = ["tenor", "-published_on"]
        constraints = [models.UniqueConstraint(fields=["tenor", "published_on"], name="lpr_once_a_day")]

    def __str__(self) -> str:
        return f"LPR {self.tenor} {self.published_on}: {self.rate_pct}%"


class LoanContract(CustomerOwned, VersionedModel):
    """A loan contract 贷款合同 with its terms and the collection state the end-of-day batch keeps."""

    contract_no = models.CharField(_("contract number"), max_length=40, unique=True)
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="loans")
    product = models.CharField(_("product"), max_length=30, choices=LoanProduct.choices)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices, default=Currency.CNY)
    amount = amount_field(_("contract amount"), validators=[MinValueValidator(Decimal("0.01"))])
    term_months = models.PositiveSmallIntegerField(
        _("term (months)"), validators=[MinValueValidator(1), MaxValueValidator(600)]
    )
    repayment_method = models.CharField(_("repayment method"), max_length=20, choices=RepaymentMethod.choices)
    interest_day = models.PositiveSmallIntegerField(
        _("interest day"), default=20, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    rate_kind = models.CharField(_("rate type"), max_length=10, choices=RateKind.choices, default=RateKind.FIXED)
    fixed_rate_pct = rate_field(_("fixed rate (%)"), null=True, blank=True)
    lpr_spread_bp = models.IntegerField(_("spread over LPR (bp)"), null=True, blank=True)
    repricing_rule = models.CharField(_("repricing"), max_length=15, choices=RepricingRule.choices, blank=True)
    current_rate_pct = rate_field(_("current rate (%)"))
    next_repricing_on = models.DateField(_("next repricing"), null=True, blank=True)
    guarantee_method = models.CharField(_("guarantee method"), max_length=10, choices=GuaranteeMethod.choices)
    purpose = models.CharField(pgettext_lazy("loan", "purpose"), max_length=200, blank=True)
    primary_rm = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("primary RM"), on_delete=models.PROTECT, related_name="loans"
    )
    start_date = models.DateField(_("first drawdown"))
    maturity_date = models.DateField(_("maturity"))
    status = models.CharField(_("status"), max_length=10, choices=LoanStatus.choices, default=LoanStatus.ACTIVE)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    schedule_source = models.CharField(
        _("schedule from"), max_length=10, choices=ScheduleSource.choices, default=ScheduleSource.RMDESK
    )
    # Collection state, kept by the end-of-day batch and by repayments.
    outstanding_principal = zero_amount(_("outstanding principal"))
    overdue_principal = zero_amount(_("overdue principal"))
    overdue_interest = zero_amount(_("overdue interest"))
    penalty_unpaid = zero_amount(_("penalty and compound interest unpaid"))
    overpayment = zero_amount(_("overpayment held"))
    days_past_due = models.PositiveIntegerField(_("days past due"), default=0)
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    next_due_date = models.DateField(_("next due date"), null=True, blank=True)
    classification = models.PositiveSmallIntegerField(
        _("classification"), choices=Classification.choices, default=Classification.NORMAL
    )
    proposed_classification = models.PositiveSmallIntegerField(
        _("proposed classification"), choices=Classification.choices, null=True, blank=True
    )
    classified_on = models.DateField(_("classified on"), null=True, blank=True)
    classified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("classified by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("loan contract")
        verbose_name_plural = _("loan contracts")
        ordering = ["customer_id", "start_date", "pk"]
        indexes = [
            models.Index(fields=["primary_rm", "next_due_date"], name="loan_rm_next_due"),
            models.Index(fields=["customer", "status"], name="loan_customer_status"),
            models.Index(fields=["days_past_due"], name="loan_overdue", condition=Q(days_past_due__gt=0)),
            models.Index(
                fields=["classification"], name="loan_proposal", condition=Q(proposed_classification__isnull=False)
            ),
            models.Index(
                fields=["next_repricing_on"], name="loan_repricing", condition=Q(next_repricing_on__isnull=False)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_kind="fixed", fixed_rate_pct__isnull=False)
                | (~Q(rate_kind="fixed") & Q(lpr_spread_bp__isnull=False)),
                name="loan_rate_terms",
            ),
        ]

    def __str__(self) -> str:
        return self.contract_no

    @property
    def is_floating(self) -> bool:
        return self.rate_kind != RateKind.FIXED

    @property
    def is_overdue(self) -> bool:
        return self.days_past_due > 0


class LoanGuarantor(models.Model):
    """A guarantor 保证人 of a loan, from the customer's relationships where it is one."""

    contract = models.ForeignKey(
        LoanContract, verbose_name=_("loan"), on_delete=models.CASCADE, related_name="guarantors"
    )
    relationship = models.ForeignKey(
        Relationship,
        verbose_name=_("relationship"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="guaranteed_loans",
    )
    name = models.CharField(_("guarantor"), max_length=200)
    credit_code = models.CharField(_("guarantor's credit code"), max_length=18, blank=True)
    amount = amount_field(_("guaranteed amount"), null=True, blank=True, validators=[MinValueValidator(Decimal(0))])

    class Meta:
        verbose_name = _("guarantor")
        verbose_name_plural = _("guarantors")
        ordering = ["contract_id", "pk"]

    def __str__(self) -> str:
        return self.name


class Drawdown(models.Model):
    """One drawdown 放款 under a contract; each has its own schedule running to the contract's maturity."""

    contract = models.ForeignKey(
        LoanContract, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="drawdowns"
    )
    number = models.PositiveSmallIntegerField(_("drawdown"))
    drawn_on = models.DateField(_("drawn on"))
    amount = amount_field(_("amount drawn"), validators=[MinValueValidator(Decimal("0.01"))])
    months = models.PositiveSmallIntegerField(_("months to maturity"), validators=[MinValueValidator(1)])
    external_ref = models.CharField(_("core system reference"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("drawdown")
        verbose_name_plural = _("drawdowns")
        ordering = ["contract_id", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="drawdown_number_once")]

    def __str__(self) -> str:
        return f"{self.contract_id}#{self.number}"


class InstalmentQuerySet(RestrictedQuerySet["Instalment"]):
    def unpaid(self) -> InstalmentQuerySet:
        return self.exclude(status=InstalmentStatus.PAID)


class Instalment(models.Model):
    """One period of a drawdown's schedule 还款计划, with what has been paid and what has accrued on it.

    Slim on purpose (about 35 per loan, millions in a bank): no version column, no audit event per row; the batch
    writes one audit event per run and repayments one per repayment.
    """

    contract = models.ForeignKey(
        LoanContract, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="instalments", db_index=False
    )
    drawdown = models.ForeignKey(
        Drawdown, verbose_name=_("drawdown"), on_delete=models.PROTECT, related_name="instalments", db_index=False
    )
    # The customer again, so scope and the batch's customer-id ranges need no join through the contract.
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    number = models.PositiveSmallIntegerField(_("period"))
    scheduled_date = models.DateField(_("scheduled date"))
    due_date = models.DateField(_("due date"))
    due_date_provisional = models.BooleanField(_("due date beyond holiday data"), default=False)
    rate_pct = rate_field(_("rate (%)"))
    principal_due = zero_amount(_("principal"))
    interest_due = zero_amount(pgettext_lazy("loan amount", "interest"))
    fee_due = zero_amount(_("fees"))
    principal_paid = zero_amount(_("principal paid"))
    interest_paid = zero_amount(_("interest paid"))
    fee_paid = zero_amount(_("fees paid"))
    penalty_accrued = zero_amount(_("penalty interest"))
    compound_accrued = zero_amount(_("compound interest"))
    penalty_paid = zero_amount(_("penalty paid"))
    compound_paid = zero_amount(_("compound paid"))
    accrued_through = models.DateField(_("accrued through"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=InstalmentStatus.choices, default=InstalmentStatus.SCHEDULED
    )
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)

    objects = InstalmentQuerySet.as_manager()
    scope_root = "customer__"

    class Meta:
        verbose_name = _("instalment")
        verbose_name_plural = _("instalments")
        ordering = ["contract_id", "due_date", "drawdown_id", "number"]
        constraints = [models.UniqueConstraint(fields=["drawdown", "number"], name="instalment_period_once")]
        indexes = [
            models.Index(fields=["contract", "due_date"], name="instalment_contract_due"),
            # The batch's "what falls due or overdue" and the calendar: unpaid rows by due date.
            models.Index(fields=["due_date", "customer"], name="instalment_unpaid_due", condition=~Q(status="paid")),
            # The calendar job's provisional due dates (beyond the holiday data), by scheduled date: those a new
            # holiday release covers are the first entries.
            models.Index(
                fields=["scheduled_date", "customer"],
                name="instalment_provisional",
                condition=Q(due_date_provisional=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id}/{self.drawdown_id}#{self.number} {self.due_date}"

    @property
    def total_due(self) -> Decimal:
        return self.principal_due + self.interest_due + self.fee_due

    @property
    def principal_unpaid(self) -> Decimal:
        return self.principal_due - self.principal_paid

    @property
    def interest_unpaid(self) -> Decimal:
        return self.interest_due - self.interest_paid

    @property
    def penalty_unpaid(self) -> Decimal:
        return self.penalty_accrued - self.penalty_paid + self.compound_accrued - self.compound_paid

    @property
    def owed(self) -> Decimal:
        """Everything still owed on this period today (fees, penalty, compound, interest, principal)."""
        return self.fee_due - self.fee_paid + self.penalty_unpaid + self.interest_unpaid + self.principal_unpaid


class AccrualSegment(models.Model):
    """A stretch of days over which penalty 罚息 or compound 复利 interest accrues on a constant base at a constant
    rate; a new segment starts when the base or the rate changes. The amount is base × rate / 100 / 360 × days,
    rounded half-up to the fen once per segment, so re-running a day only moves `end_date` and never adds twice."""

    instalment = models.ForeignKey(
        Instalment, verbose_name=_("instalment"), on_delete=models.CASCADE, related_name="accruals"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=AccrualKind.choices)
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("through"))
    base = amount_field(_("base"))
    annual_rate_pct = rate_field(_("annual rate (%)"))
    amount = zero_amount(_("amount"))

    class Meta:
        verbose_name = _("accrual segment")
        verbose_name_plural = _("accrual segments")
        ordering = ["instalment_id", "kind", "start_date"]
        constraints = [models.UniqueConstraint(fields=["instalment", "kind", "start_date"], name="accrual_once")]

    def __str__(self) -> str:
        return f"{self.instalment_id} {self.kind} {self.start_date}–{self.end_date}"

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


class Repayment(CustomerOwned, TimestampedModel):
    """Money received on a loan, from the core banking system's daily file or entered by operations."""

    contract = models.ForeignKey(
        LoanContract, verbose_name=_("loan"), on_delete=models.PROTECT, related_name="repayments"
    )
    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+")
    paid_on = models.DateField(_("paid on"))
    amount = amount_field(_("amount"), validators=[MinValueValidator(Decimal("0.01"))])
    source = models.CharField(_("source"), max_length=10, choices=RepaymentSource.choices)
    # The core system's transaction reference: a feed sent twice is recognised by it and never counted twice.
    external_ref = models.CharField(_("reference"), max_length=64, blank=True)
    unallocated = zero_amount(_("overpayment"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("repayment")
        verbose_name_plural = _("repayments")
        ordering = ["contract_id", "paid_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "external_ref"], name="repayment_ref_once", condition=~Q(external_ref="")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} {self.paid_on} {self.amount}"


class RepaymentAllocation(models.Model):
    """How much of a repayment went to which component of which instalment."""

    repayment = models.ForeignKey(
        Repayment, verbose_name=_("repayment"), on_delete=models.CASCADE, related_name="allocations"
    )
    instalment = models.ForeignKey(
        Instalment, verbose_name=_("instalment"), on_delete=models.PROTECT, related_name="allocations"
    )
    component = models.CharField(_("component"), max_length=10, choices=Component.choices)
    amount = amount_field(_("amount"))

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ["repayment_id", "pk"]

    def __str__(self) -> str:
        return f"{self.repayment_id} → {self.instalment_id} {self.component} {self.amount}"
