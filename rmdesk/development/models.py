"""Customer development 客户开发: each prospect's development file, its pipeline, claims and target scorecard.

A prospect is a customer of the archive in lifecycle 潜在/目标 (same rows, same access rules); its `Prospect` row
holds how it was found and how far it has come. A prospect with no primary RM waits in its owning unit's pool.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rmdesk.access.querysets import RestrictedQuerySet
from rmdesk.core.models import TimestampedModel, VersionedModel
from rmdesk.development.choices import Characteristic, ClaimStatus, RatingOrigin, Source, Stage


class Prospect(VersionedModel):
    """The development file of one customer: its source, who found it, its stage, claim and score."""

    customer = models.OneToOneField(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="prospect"
    )
    source = models.PositiveSmallIntegerField(_("source"), choices=Source.choices)
    source_detail = models.CharField(_("source detail"), max_length=200, blank=True)
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("found by"), on_delete=models.PROTECT, related_name="found_prospects"
    )
    found_on = models.DateField(_("found on"))
    # Sources 10–12: the existing customer whose relationship led here, and that relationship.
    referring_customer = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("referring customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referred_prospects",
    )
    referring_relationship = models.ForeignKey(
        "customers.Relationship",
        verbose_name=_("referring relationship"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    stage = models.CharField(_("stage"), max_length=12, choices=Stage.choices, default=Stage.IDENTIFIED)
    stage_changed_at = models.DateTimeField(_("in this stage since"))
    drop_reason = models.CharField(_("reason for dropping"), max_length=200, blank=True)
    won_evidence = models.CharField(_("account or signed contract"), max_length=100, blank=True)
    # The current claim: when the primary RM took it from the pool, and by when they must first contact it.
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    contact_due = models.DateField(_("first contact due"), null=True, blank=True)
    # The target score (0–100) and the scorecard version it was computed with; an older version is stale.
    score = models.DecimalField(_("target score"), max_digits=5, decimal_places=2, null=True, blank=True)
    scorecard_version = models.PositiveIntegerField(_("scorecard version"), default=0)
    merged_into = models.ForeignKey(
        "customers.Customer",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_prospects",
    )

    objects = RestrictedQuerySet.as_manager()
    scope_root = "customer__"

    class Meta:
        verbose_name = _("prospect")
        verbose_name_plural = _("prospects")
        indexes = [
            models.Index(fields=["stage", "contact_due"], name="prospect_stage_due"),
            models.Index(fields=["scorecard_version"], name="prospect_scorecard_version"),
            models.Index(fields=["referring_customer"], name="prospect_referrer"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(stage=Stage.DROPPED) | ~Q(drop_reason=""), name="prospect_dropped_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return str(self.customer)


class StageChange(models.Model):
    """One step of a prospect through the pipeline (the first row is its entry at 识别)."""

    prospect = models.ForeignKey(
        Prospect, verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(_("from stage"), max_length=12, choices=Stage.choices, blank=True)
    to_stage = models.CharField(_("to stage"), max_length=12, choices=Stage.choices)
    changed_at = models.DateTimeField(_("changed at"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("changed by"), on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_root = "prospect__customer__"

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["prospect_id", "changed_at", "pk"]
        indexes = [models.Index(fields=["to_stage", "changed_at"], name="stage_change_to_at")]

    def __str__(self) -> str:
        return f"{self.get_from_stage_display() or '—'} → {self.get_to_stage_display()}"


class Claim(TimestampedModel):
    """An RM's claim on a prospect in a pool; pending while the unit's rule asks the team lead to approve."""

    prospect = models.ForeignKey(Prospect, verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="claims")
    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("RM"), on_delete=models.PROTECT, related_name="prospect_claims"
    )
    status = models.CharField(_("status"), max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    scope_root = "prospect__customer__"

    class Meta:
        verbose_name = _("claim")
        verbose_name_plural = _("claims")
        constraints = [
            # Two RMs claiming at once: the database lets one pending claim through.
            models.UniqueConstraint(
                fields=["prospect"], condition=Q(status=ClaimStatus.PENDING), name="one_pending_claim_per_prospect"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rm} → {self.prospect} ({self.get_status_display()})"


class PoolRule(models.Model):
    """How a unit's pool works; a unit without a rule follows the nearest unit above it that has one."""

    unit = models.OneToOneField("org.OrgUnit", verbose_name=_("unit"), on_delete=models.CASCADE, related_name="+")
    approval_required = models.BooleanField(_("claims need the team lead's approval"), default=False)
    contact_days = models.PositiveSmallIntegerField(
        _("working days to first contact"), default=10, validators=[MinValueValidator(1), MaxValueValidator(90)]
    )

    class Meta:
        verbose_name = _("pool rule")
        verbose_name_plural = _("pool rules")

    def __str__(self) -> str:
        return str(self.unit)


class Scorecard(models.Model):
    """The bank's target scorecard settings (one row); every change raises `version`, so scores go stale lazily."""

    version = models.PositiveIntegerField(_("version"), default=1)
    threshold = models.DecimalField(
        _("target threshold (0–100)"),
        max_digits=5,
        decimal_places=2,
        default=Decimal(60),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    # Industry divisions (GB/T 4754, 2 digits) and region codes (GB/T 2260) the bank encourages.
    encouraged_industries = models.JSONField(_("encouraged industries"), default=list, blank=True)
    promising_regions = models.JSONField(_("promising regions"), default=list, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("target scorecard")
        verbose_name_plural = _("target scorecards")

    def __str__(self) -> str:
        return f"v{self.version}"


class ScorecardItem(models.Model):
    """One of the 14 characteristics: its weight and the top of its rating scale (0–N)."""

    characteristic = models.PositiveSmallIntegerField(_("characteristic"), choices=Characteristic.choices, unique=True)
    weight = models.DecimalField(
        _("weight"), max_digits=5, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    max_rating = models.PositiveSmallIntegerField(
        _("highest rating"), default=5, validators=[MinValueValidator(1), MaxValueValidator(10)]
    )

    class Meta:
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        ordering = ["characteristic"]

    def __str__(self) -> str:
        return self.get_characteristic_display()


class ItemRating(models.Model):
    """A prospect's rating on one characteristic: decided by data (and saying so) or by the RM with a reason."""

    prospect = models.ForeignKey(Prospect, verbose_name=_("prospect"), on_delete=models.CASCADE, related_name="ratings")
    characteristic = models.PositiveSmallIntegerField(_("characteristic"), choices=Characteristic.choices)
    rating = models.PositiveSmallIntegerField(_("rating"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    origin = models.CharField(_("origin"), max_length=10, choices=RatingOrigin.choices)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("rated by"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    rated_at = models.DateTimeField(_("rated at"))

    objects = RestrictedQuerySet.as_manager()
    scope_root = "prospect__customer__"

    class Meta:
        verbose_name = _("item rating")
        verbose_name_plural = _("item ratings")
        constraints = [
            models.UniqueConstraint(fields=["prospect", "characteristic"], name="one_rating_per_item"),
        ]

    def __str__(self) -> str:
        return f"{self.get_characteristic_display()}: {self.rating}"


class DismissedSuggestion(models.Model):
    """A firm a user does not want suggested again ("who should we call next"); other users still see it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    # The firm as suggestions tell firms apart: its credit code, or "name:" and its normalised name.
    firm = models.CharField(_("firm"), max_length=210)
    name = models.CharField(_("name"), max_length=200, blank=True)
    dismissed_at = models.DateTimeField(_("dismissed at"))

    class Meta:
        verbose_name = _("dismissed suggestion")
        verbose_name_plural = _("dismissed suggestions")
        constraints = [models.UniqueConstraint(fields=["user", "firm"], name="dismiss_firm_once")]

    def __str__(self) -> str:
        return self.name or self.firm
