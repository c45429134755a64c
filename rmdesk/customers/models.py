"""The customer archive 客户档案: master data, key persons, financials, relationships, documents."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _

from rmdesk.access.querysets import RestrictedQuerySet
from rmdesk.core import validators
from rmdesk.core.models import TimestampedModel, VersionedModel
from rmdesk.core.money import ratio
from rmdesk.core.reference import city_choices, city_codes, division_choices, division_codes
from rmdesk.customers.choices import (
    DecisionRole,
    Direction,
    DocumentKind,
    EnterpriseSize,
    KeyPersonRole,
    LifecycleStatus,
    Ownership,
    RelationshipKind,
    Tier,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def amount_field(verbose_name: StrOrPromise, **options: Any) -> models.DecimalField[Decimal | None, Decimal]:
    """An amount in yuan, exact to the fen."""
    return models.DecimalField(verbose_name, max_digits=18, decimal_places=2, **options)


# A customer may wait in a pool, with no primary RM, only while it is being developed.
POOL_STATUSES = (LifecycleStatus.PROSPECT, LifecycleStatus.TARGET)


def rating_choices() -> list[tuple[str, str]]:
    return [(r, r) for r in settings.CREDIT_RATING_SCALE]


# Fields holding codes of the national reference data, with the set of valid codes. Django checks a value against
# the field's callable choices, which rebuilds and re-normalises every translated label (97 divisions, ~340 cities)
# on each full_clean(): most of the time of an import's validation. The codes do not depend on the language, so a
# lookup in a set gives the same answer.
REFERENCE_CODES: dict[str, Callable[[], frozenset[str]]] = {"industry": division_codes, "region": city_codes}


class Customer(VersionedModel):
    """A corporate customer (or prospect) and who in the bank looks after it."""

    name = models.CharField(_("name"), max_length=200)
    credit_code = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validators.credit_code_validator]
    )
    legal_representative = models.CharField(_("legal representative"), max_length=50, blank=True)
    registered_capital = amount_field(
        _("registered capital (yuan)"), null=True, blank=True, validators=[MinValueValidator(Decimal(0))]
    )
    established_on = models.DateField(_("established on"), null=True, blank=True)
    industry = models.CharField(_("industry"), max_length=2, choices=division_choices, blank=True)
    region = models.CharField(_("region"), max_length=6, choices=city_choices, blank=True)
    size = models.CharField(_("enterprise size"), max_length=10, choices=EnterpriseSize.choices, blank=True)
    ownership = models.CharField(_("ownership type"), max_length=20, choices=Ownership.choices, blank=True)
    credit_rating = models.CharField(_("internal credit rating"), max_length=10, choices=rating_choices, blank=True)
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.GENERAL)
    status = models.CharField(
        _("lifecycle status"), max_length=10, choices=LifecycleStatus.choices, default=LifecycleStatus.PROSPECT
    )
    owning_unit = models.ForeignKey(
        "org.OrgUnit", verbose_name=_("owning unit"), on_delete=models.PROTECT, related_name="customers"
    )
    # Empty only for a prospect waiting in its owning unit's pool (公海) for an RM to claim it.
    primary_rm = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("primary RM"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="primary_customers",
    )
    co_rms: models.ManyToManyField[Any, Any] = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("co-RMs"),
        through="CustomerCoRM",
        related_name="co_customers",
        blank=True,
    )
    # The name as quick search compares it (rmdesk.customers.search.normalize); written with the search keys.
    search_name = models.CharField(max_length=400, blank=True, editable=False)
    # Its pinyin and initials keys as one string (rmdesk.customers.search.SearchKeys.letters), written with them: a
    # small scope's pinyin or initials search reads them with the names instead of looking its keys up.
    # Nullable: added to SQLite's table in place (a column with a default makes Django copy the table, which drops its
    # triggers); every customer has its letters written (customers/0012).
    search_letters = models.TextField(null=True, blank=True, editable=False)

    objects = RestrictedQuerySet.as_manager()
    scope_root = ""

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        indexes = [
            models.Index(fields=["primary_rm", "status"], name="customer_rm_status"),
            # With the id alongside (PostgreSQL; SQLite's indexes hold the rowid anyway), a unit's customers are read
            # from the index alone: a branch's are spread over a third of the table's pages (portfolio quality).
            models.Index(fields=["owning_unit", "status"], name="customer_unit_status", include=["id"]),
            # Exact matches of quick search; the units holding an RM's customers (customers.queries).
            models.Index(fields=["search_name"], name="customer_search_name"),
            models.Index(fields=["primary_rm", "owning_unit"], name="customer_rm_unit"),
            # A lead's or head's list: their units' live customers counted and sorted by name on the index alone (with
            # the id, which restrict() and the page need: PostgreSQL read 6,500 table pages for a branch without it).
            models.Index(fields=["owning_unit", "archived_at", "name"], name="customer_unit_list", include=["id"]),
            # An RM's list the same way: their own customers counted and paged in name order on the index alone (the
            # primary_rm index alone made the database read each customer's row to test archived_at and sort).
            models.Index(fields=["primary_rm", "archived_at", "name"], name="customer_rm_list", include=["id"]),
            # Search results rank shorter names first, then older customers: a walk in this order stops early.
            models.Index(Length("search_name"), F("id"), name="customer_search_rank"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(primary_rm__isnull=False) | Q(status__in=POOL_STATUSES),
                name="customer_unassigned_only_in_pool",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean_fields(self, exclude: Iterable[str] | None = None) -> None:
        """Django's field validation, with industry and region checked against their reference codes (see above)."""
        excluded = set(exclude or ())
        errors: dict[str, list[ValidationError]] = {}
        for name, codes in REFERENCE_CODES.items():
            if name in excluded:
                continue
            excluded.add(name)
            field = cast("models.Field[Any, Any]", self._meta.get_field(name))
            raw = getattr(self, field.attname)
            if field.blank and raw in field.empty_values:  # as Django does
                continue
            value = field.to_python(raw)
            if value in codes():
                setattr(self, field.attname, value)
            else:
                errors[name] = [
                    ValidationError(
                        field.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
                    )
                ]
        try:
            super().clean_fields(exclude=excluded)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            # In field order, as Django reports them.
            raise ValidationError({f.name: errors[f.name] for f in self._meta.fields if f.name in errors})

    def clean(self) -> None:
        # The check constraint customer_unassigned_only_in_pool, in Python and with a message for the user (the
        # services leave Django's own check of it, a query per save, out).
        if self.primary_rm_id is None and self.status not in POOL_STATUSES:
            raise ValidationError({"primary_rm": _("Only a prospect or target can wait in the pool without an RM.")})

    @property
    def in_pool(self) -> bool:
        return self.primary_rm_id is None

    @property
    def customer_id(self) -> int:
        """So a customer audits and restricts like everything that belongs to one."""
        return self.pk


def _visibility_unit() -> Any:
    # A unit copied from the customer (its owning unit, or its co-RMs' units) when the row is written; no constraint:
    # derived data (search rows are rebuilt by `rmdesk reindex-search`, a co-RM link's kept by triggers), and bulk
    # loads write these rows first.
    return models.ForeignKey(
        "org.OrgUnit", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, null=True, related_name="+"
    )


class CustomerCoRM(models.Model):
    """A co-RM 协办 who works the customer alongside its primary RM."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="co_rm_links")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="co_rm_links")
    since = models.DateField(_("since"), auto_now_add=True)
    # The customer's owning unit, copied so that a unit's list finds its staff's co-RM customers owned elsewhere from
    # the links alone (customers/listing.py) instead of looking up each customer. The database keeps it, whatever code
    # writes: filled in on insert when not given, rewritten when the customer moves (triggers of migration 0009).
    customer_unit = _visibility_unit()

    class Meta:
        verbose_name = _("co-RM")
        constraints = [models.UniqueConstraint(fields=["customer", "user"], name="co_rm_once")]
        indexes = [
            models.Index(fields=["user", "customer"], name="co_rm_user"),
            models.Index(fields=["user", "customer_unit", "customer"], name="co_rm_user_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.customer_id}"


class UnitCustomerCount(models.Model):
    """How many customers a unit owns (经营机构), current and archived, kept by database triggers on every insert,
    delete, move and archiving of a customer (migration customers/0011), so that no code path can leave it behind.

    A unit scope's whole list (no filter but archived) is counted from its units' rows: counting a branch's 33,250
    customers on customer_unit_list took 2 ms on SQLite and 3 on PostgreSQL per page (customers.listing). These are
    numbers per unit, no customer's data: the units are those restrict() gave the scope.
    """

    unit = models.OneToOneField(
        "org.OrgUnit", primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    current = models.IntegerField(default=0)
    archived = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.unit_id}: {self.current} + {self.archived} archived"


class CustomerNameGram(models.Model):
    """A window of a customer's normalised name, for quick search: 华兴 in 杭州华兴科技 (and 杭 alone at 0).

    One row per window and per unit whose head sees the customer. name_gram_rank keeps a gram's rows in search
    rank (shorter names first) and carries the unit and offset, so a walk for the best matches of a unit's scope
    filters on index entries alone and stops at the first `limit` found.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="name_grams", db_index=False)
    unit = _visibility_unit()
    position = models.PositiveSmallIntegerField()
    gram = models.CharField(max_length=2)
    name_length = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [
            models.Index(fields=["gram", "name_length", "customer", "unit", "position"], name="name_gram_rank"),
            models.Index(fields=["gram", "unit", "name_length", "customer", "position"], name="name_gram_unit"),
            models.Index(fields=["customer", "gram", "position"], name="name_gram_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.position}: {self.gram}"


class CustomerSearchKey(models.Model):
    """A key of a customer for quick search: "p" + full pinyin, "i" + initials from one of its characters on,
    or "c" + credit code; one row per key and per unit whose head sees the customer.

    Plain ASCII, so a prefix is a range on a B-tree in any collation.
    """

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="search_keys", db_index=False)
    unit = _visibility_unit()
    key = models.CharField(max_length=48)
    position = models.PositiveSmallIntegerField()  # 0: from the first character (a prefix match)
    name_length = models.PositiveSmallIntegerField()  # so that matches rank on the index alone

    class Meta:
        indexes = [
            models.Index(fields=["unit", "key", "name_length", "customer", "position"], name="search_key_unit"),
            models.Index(fields=["customer", "key", "position", "name_length"], name="search_key_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id}@{self.position}: {self.key}"


class CustomerOwned(models.Model):
    """Rows that belong to one customer and so inherit its visibility."""

    customer = models.ForeignKey(Customer, verbose_name=_("customer"), on_delete=models.PROTECT)

    objects = RestrictedQuerySet.as_manager()
    scope_root = "customer__"

    class Meta:
        abstract = True


class KeyPerson(CustomerOwned, VersionedModel):
    """A person who decides or influences at the customer 关键人物."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="key_persons"
    )
    role = models.CharField(_("role"), max_length=30, choices=KeyPersonRole.choices)
    name = models.CharField(_("full name"), max_length=50)
    title = models.CharField(_("job title"), max_length=50, blank=True)
    decision_role = models.CharField(_("decision role"), max_length=20, choices=DecisionRole.choices, blank=True)
    phone = models.CharField(_("mobile phone"), max_length=11, blank=True, validators=[validators.mobile_validator])
    id_number = models.CharField(
        _("resident ID number"), max_length=18, blank=True, validators=[validators.id_number_validator]
    )
    preferences = models.TextField(_("decision and behaviour preferences"), blank=True)

    class Meta:
        verbose_name = _("key person")
        verbose_name_plural = _("key persons")
        ordering = ["customer_id", "role", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def phone_masked(self) -> str:
        return validators.mask_mobile(self.phone)

    @property
    def id_number_masked(self) -> str:
        return validators.mask_id_number(self.id_number)


class FinancialStatement(CustomerOwned, VersionedModel):
    """One year's key figures from the customer's financial statements."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="financial_statements"
    )
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(1949), MaxValueValidator(2100)])
    total_assets = amount_field(_("total assets"), validators=[MinValueValidator(Decimal(0))])
    total_liabilities = amount_field(_("total liabilities"), validators=[MinValueValidator(Decimal(0))])
    revenue = amount_field(_("revenue"), validators=[MinValueValidator(Decimal(0))])
    net_profit = amount_field(_("net profit"))
    operating_cash_flow = amount_field(_("operating cash flow"))

    class Meta:
        verbose_name = _("financial statement")
        verbose_name_plural = _("financial statements")
        ordering = ["customer_id", "-year"]
        constraints = [models.UniqueConstraint(fields=["customer", "year"], name="statement_year_once")]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.year}"

    @property
    def debt_ratio(self) -> Decimal | None:
        """资产负债率: total liabilities / total assets."""
        return ratio(self.total_liabilities, self.total_assets)


class Relationship(CustomerOwned, VersionedModel):
    """A link from the customer to another firm, which may or may not be a customer itself."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="relationships"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=RelationshipKind.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.OUTWARD)
    counterparty = models.ForeignKey(
        Customer,
        verbose_name=_("counterparty customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="inbound_relationships",
    )
    # The name and code are kept even when the counterparty is a customer: a user who may not see that
    # customer still sees who the link is with, and an outside firm can become a customer later.
    counterparty_name = models.CharField(_("counterparty name"), max_length=200)
    counterparty_credit_code = models.CharField(
        _("counterparty credit code"), max_length=18, blank=True, validators=[validators.credit_code_validator]
    )
    share_pct = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )
    amount = amount_field(_("amount (yuan)"), null=True, blank=True, validators=[MinValueValidator(Decimal(0))])
    controller_name = models.CharField(_("common controller"), max_length=100, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("relationship")
        verbose_name_plural = _("relationships")
        ordering = ["customer_id", "kind", "pk"]
        indexes = [
            models.Index(fields=["counterparty_credit_code"], name="rel_counterparty_code"),
            models.Index(fields=["kind", "customer"], name="rel_kind_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.counterparty_name}"


def document_path(instance: Document, filename: str) -> str:
    # Stored under a generated name: the user's file name never reaches the file system.
    return f"customers/{instance.customer_id}/{instance.sha256[:2]}/{instance.sha256}"


class Document(CustomerOwned, TimestampedModel):
    """A file in the customer's archive (licence, reports, …), stored in the data directory."""

    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="documents"
    )
    kind = models.CharField(_("document type"), max_length=30, choices=DocumentKind.choices)
    title = models.CharField(_("title"), max_length=200)
    file = models.FileField(_("file"), upload_to=document_path, max_length=255)
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("uploaded by"), on_delete=models.PROTECT, related_name="+"
    )
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["customer_id", "-created_at"]

    def __str__(self) -> str:
        return self.title
