"""The bank's org-unit tree (总行 → 分行 → 支行 → 团队), its users and their API tokens."""

from __future__ import annotations

import hashlib
import re

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext_lazy as _

from rmdesk.org.choices import ALLOWED_PARENT, Role, UnitLevel

UNIT_CODE = re.compile(r"^[A-Za-z0-9_-]{1,20}$")


class OrgUnit(models.Model):
    """A unit of the bank; `path` (codes from the root, '/'-separated) makes subtree queries one LIKE."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.CharField(_("level"), max_length=20, choices=UnitLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(_("path"), max_length=255, unique=True, editable=False)

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        old_path = None
        if self.pk:
            old_path = OrgUnit.objects.filter(pk=self.pk).values_list("path", flat=True).first()
        self.path = (self.parent.path if self.parent else "/") + f"{self.code}/"
        with transaction.atomic():
            super().save(*args, **kwargs)  # type: ignore[arg-type]
            if old_path and old_path != self.path:
                # Moving or renaming a unit re-roots its whole subtree in one statement.
                OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=self.pk).update(
                    path=Concat(models.Value(self.path), Substr("path", len(old_path) + 1))
                )

    def clean(self) -> None:
        if not UNIT_CODE.match(self.code or ""):
            raise ValidationError({"code": _("Use 1–20 letters, digits, '-' or '_'.")})
        allowed = ALLOWED_PARENT[UnitLevel(self.level)]
        parent_level = self.parent.level if self.parent else None
        if (parent_level is None and allowed) or (parent_level is not None and parent_level not in allowed):
            raise ValidationError({"parent": _("A unit of this level cannot sit under that parent.")})
        if self.pk and self.parent and self.parent.path.startswith(self.path):
            raise ValidationError({"parent": _("A unit cannot be moved under itself.")})

    def subtree(self) -> models.QuerySet[OrgUnit]:
        return OrgUnit.objects.filter(path__startswith=self.path)

    def ancestor_of_level(self, level: str) -> OrgUnit | None:
        """The nearest unit at `level` on the way to the root (this unit included)."""
        codes = [c for c in self.path.split("/") if c]
        return OrgUnit.objects.filter(code__in=codes, level=level).order_by("-path").first()


class User(AbstractUser):
    """A person who logs in: one role and one home unit decide what they see."""

    full_name = models.CharField(_("full name"), max_length=50, blank=True)
    role = models.CharField(_("role"), max_length=30, choices=Role.choices, default=Role.RM)
    unit = models.ForeignKey(
        OrgUnit, verbose_name=_("home unit"), null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.full_name or self.username

    def clean(self) -> None:
        super().clean()
        needs_unit = self.role not in (Role.ADMINISTRATOR,)
        if needs_unit and self.unit_id is None:
            raise ValidationError({"unit": _("Users with this role need a home unit.")})

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A Bearer token for the API; only its SHA-256 is stored, the token is shown once."""

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(_("prefix"), max_length=8)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}…"
