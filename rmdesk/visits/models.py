"""Customer visits 拜访客户: plans with their preparation, records of what was learned and proposed, follow-ups,
the occasions that call for a visit, and the cadence every customer should be visited at.

A visit belongs to a customer and inherits its visibility (`restrict()` on the customer); its confidential notes
are narrower still (`visits.confidential`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from rmdesk.access.querysets import RestrictedQuerySet
from rmdesk.core.models import TimestampedModel, VersionedModel
from rmdesk.customers.choices import Tier
from rmdesk.customers.models import amount_field
from rmdesk.visits.choices import (
    CheckinStatus,
    EventKind,
    EventOrigin,
    FollowUpKind,
    Interest,
    ProposalResponse,
    Satisfaction,
    VisitMode,
    VisitPurpose,
    VisitStatus,
)


class CadenceRule(models.Model):
    """How often a customer of one tier must be visited (战略 monthly, 核心 2-monthly, 重点 quarterly, 一般 half-yearly
    by default; head office changes them)."""

    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, unique=True)
    interval_months = models.PositiveSmallIntegerField(
        _("visit at least every (months)"), validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
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
        verbose_name = _("visit cadence")
        verbose_name_plural = _("visit cadences")
        ordering = ["interval_months", "tier"]

    def __str__(self) -> str:
        return f"{self.get_tier_display()}: {self.interval_months}"


class CustomerEvent(TimestampedModel):
    """An occasion on a customer that makes a good moment to visit (§4.2), logged by a user or detected from the
    archive; it proposes a visit to the customer's primary RM."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("occasion"), max_length=20, choices=EventKind.choices)
    title = models.CharField(_("what happened"), max_length=200)
    occurred_on = models.DateField(_("occurred on"))
    origin = models.CharField(_("origin"), max_length=10, choices=EventOrigin.choices, default=EventOrigin.LOGGED)
    # A detected event names what in the archive raised it, e.g. "legal_representative:<audit seq>" or
    # "anniversary:2026"; unique per customer, so detection run twice finds nothing new.
    detection_key = models.CharField(max_length=80, blank=True, editable=False)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("logged by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()
    scope_root = "customer__"

    class Meta:
        verbose_name = _("customer event")
        verbose_name_plural = _("customer events")
        ordering = ["-occurred_on", "-pk"]
        indexes = [models.Index(fields=["customer", "occurred_on"], name="event_customer_date")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "detection_key"], condition=~Q(detection_key=""), name="event_detected_once"
            )
        ]

    def __str__(self) -> str:
        return self.title


class Visit(VersionedModel):
    """One visit to a customer: planned with its preparation, then recorded as done, postponed or cancelled."""

    customer = models.ForeignKey(
        "customers.Customer", verbose_name=_("customer"), on_delete=models.PROTECT, related_name="visits"
    )
    # The RM who leads the visit (usually the primary RM); other bank attendees are in `bank_attendees`.
    rm = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("visiting RM"), on_delete=models.PROTECT, related_name="visits"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=VisitPurpose.choices)
    purpose_detail = models.CharField(_("purpose in detail"), max_length=200, blank=True)
    mode = models.CharField(_("how"), max_length=10, choices=VisitMode.choices, default=VisitMode.ON_SITE)
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    event = models.ForeignKey(
        CustomerEvent,
        verbose_name=_("occasion"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="visits",
    )

    # Preparation (§4.1): the checklist items ticked (PrepItem values), the plan and strategy, the materials.
    preparation = models.JSONField(_("preparation done"), default=list, blank=True)
    strategy = models.TextField(_("plan and strategy"), blank=True)
    materials = models.TextField(_("materials to bring"), blank=True)
    bank_attendees: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("bank attendees"),
        through="VisitBankAttendee",
        related_name="attended_visits",
        blank=True,
    )
    customer_attendees: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        "customers.KeyPerson",
        verbose_name=_("customer attendees"),
        through="VisitContact",
        related_name="visits",
        blank=True,
    )
    other_attendees = models.CharField(_("other attendees"), max_length=200, blank=True)

    status = models.CharField(_("status"), max_length=10, choices=VisitStatus.choices, default=VisitStatus.PLANNED)
    status_reason = models.CharField(_("reason"), max_length=200, blank=True)
    postponed_count = models.PositiveSmallIntegerField(_("times postponed"), default=0)

    # The record (§4.3–§4.6), filled once the visit took place.
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    # The day it took place, in the bank's time zone: what visit cadence counts.
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    checkin_status = models.CharField(
        _("check-in"), max_length=12, choices=CheckinStatus.choices, default=CheckinStatus.NONE
    )
    checkin_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    checkin_latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-90)), MaxValueValidator(Decimal(90))],
    )
    checkin_longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(-180)), MaxValueValidator(Decimal(180))],
    )
    checkin_accuracy_m = models.PositiveIntegerField(_("location accuracy (m)"), null=True, blank=True)
    goals_short = models.TextField(_("financial goals, short term"), blank=True)
    goals_long = models.TextField(_("financial goals, long term"), blank=True)
    need_tags = models.JSONField(_("main financial needs"), default=list, blank=True)
    needs_detail = models.TextField(_("the needs in detail"), blank=True)
    operations = models.TextField(_("current operations"), blank=True)
    product_reaction = models.TextField(_("reaction to our products and services"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Seen by the visiting RM, the customer's RMs and their team leads only (visits.confidential).
    confidential_notes = models.TextField(_("confidential notes"), blank=True)
    self_check = models.JSONField(_("self-check"), default=list, blank=True)
    self_check_note = models.CharField(_("what to do better"), max_length=300, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("planned by"), on_delete=models.PROTECT, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    scope_root = "customer__"

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-planned_start", "-pk"]
        indexes = [
            # A customer's last visit (cadence), its visit list.
            models.Index(fields=["customer", "status", "visited_on"], name="visit_customer_done"),
            # An RM's calendar and overlap check.
            models.Index(fields=["rm", "status", "planned_start"], name="visit_rm_planned"),
            # Visits per week for a team (coverage chart).
            models.Index(fields=["status", "visited_on", "rm"], name="visit_done_week"),
            # The list of a whole-bank reader (risk, audit), latest first, without sorting millions of visits.
            models.Index(fields=["planned_start", "id"], name="visit_planned"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(planned_end__gt=F("planned_start")), name="visit_ends_after_start"),
            models.CheckConstraint(
                condition=~Q(status="done") | Q(visited_on__isnull=False), name="visit_done_has_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.customer} {self.planned_start:%Y-%m-%d}"

    @property
    def is_open(self) -> bool:
        """Still to happen: it can be prepared, recorded, postponed or cancelled."""
        return self.status in (VisitStatus.PLANNED, VisitStatus.POSTPONED)

    @property
    def is_done(self) -> bool:
        return self.status == VisitStatus.DONE


class VisitBankAttendee(models.Model):
    """A colleague who goes on the visit with the RM."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="bank_attendee_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visit", "user"], name="visit_bank_attendee_once")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.visit_id}"


class VisitContact(models.Model):
    """A key person of the visited customer who takes part (§4.1 key people; §4.3 (6) decision people)."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="contact_links")
    key_person = models.ForeignKey("customers.KeyPerson", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["visit", "key_person"], name="visit_contact_once")]

    def __str__(self) -> str:
        return f"{self.key_person_id} @ {self.visit_id}"


class VisitChild(models.Model):
    """A row of a visit's record; it inherits the visit's (so the customer's) visibility."""

    objects = RestrictedQuerySet.as_manager()
    scope_root = "visit__customer__"

    class Meta:
        abstract = True


class OtherBankCredit(VisitChild):
    """What another bank lends the customer and how satisfied it is (§4.3 (5))."""

    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="other_banks")
    bank_name = models.CharField(_("bank"), max_length=100)
    facility = models.CharField(_("facility"), max_length=100, blank=True)
    amount = amount_field(_("amount (yuan)"), null=True, blank=True, validators=[MinValueValidator(Decimal(0))])
    satisfaction = models.CharField(_("satisfaction"), max_length=12, choices=Satisfaction.choices, blank=True)

    class Meta:
        verbose_name = _("other bank's credit")
        verbose_name_plural = _("other banks' credit")
        ordering = ["visit_id", "pk"]

    def __str__(self) -> str:
        return self.bank_name


class Proposal(VisitChild):
    """A proposal made on the visit and how the customer answered it (§4.4)."""

    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="proposals")
    position = models.PositiveSmallIntegerField(_("order"))
    content = models.CharField(_("proposal"), max_length=300)
    response = models.CharField(
        _("response"), max_length=10, choices=ProposalResponse.choices, default=ProposalResponse.PENDING
    )
    counter_offer = models.CharField(_("counter-offer"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["visit_id", "position"]

    def __str__(self) -> str:
        return self.content


class ProductPresented(VisitChild):
    """A product presented on the visit, in the order presented, with the customer's interest (§4.5)."""

    visit = models.ForeignKey(
        Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="products_presented"
    )
    position = models.PositiveSmallIntegerField(_("order"))
    # Free text until the product catalogue exists; then a link to the product.
    product = models.CharField(_("product"), max_length=100)
    interest = models.CharField(_("interest"), max_length=10, choices=Interest.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("product presented")
        verbose_name_plural = _("products presented")
        ordering = ["visit_id", "position"]

    def __str__(self) -> str:
        return self.product


class FollowUp(VisitChild):
    """What came of a visit: a task for someone, or a prospect moved on in the pipeline."""

    visit = models.ForeignKey(Visit, verbose_name=_("visit"), on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(_("kind"), max_length=10, choices=FollowUpKind.choices)
    description = models.CharField(_("next step"), max_length=200)
    task = models.ForeignKey(
        "tasks.Task", verbose_name=_("task"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    stage_change = models.ForeignKey(
        "development.StageChange",
        verbose_name=_("stage change"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        ordering = ["visit_id", "pk"]

    def __str__(self) -> str:
        return self.description


class DetectionCursor(models.Model):
    """How far event detection has read the audit trail (the last sequence number it saw)."""

    name = models.CharField(max_length=40, unique=True)
    last_seq = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}@{self.last_seq}"


class CalendarFeed(models.Model):
    """A user's private address of their visits as an iCalendar feed; only the token's hash is kept."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"feed of {self.user_id}"
