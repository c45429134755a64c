"""Base models shared by the domain apps (no domain models live here)."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

# {(field, language): {value: label}}: a choice field's labels, translated once per language.
_choice_labels: dict[tuple[int, str], dict[Any, str]] = {}


def choice_label(field: models.Field[Any, Any], value: Any) -> str:
    """The label of `value` in a choice field, in the active language; the value itself when it is not a choice.

    Django's get_FOO_display() rebuilds the field's choices on every call, translating each lazy label to hash it:
    for a list page of 50 rows that was about 600 translations per request (bench/bench_http.py). Choices are
    fixed when the code loads (reference data included), so one table per field and language is enough.
    """
    key = (id(field), get_language() or "")
    labels = _choice_labels.get(key)
    if labels is None:
        labels = {choice: str(label) for choice, label in field.flatchoices}
        _choice_labels[key] = labels
    try:
        return labels.get(value, "" if value is None else str(value))
    except TypeError:  # an unhashable value cannot be a choice
        return str(value)


class TimestampedModel(models.Model):
    """Rows that remember when they were created and last changed."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    def _get_FIELD_display(self, field: models.Field[Any, Any]) -> str:
        # Every get_FOO_display() of the domain's models goes through the cached labels (see choice_label).
        return choice_label(field, getattr(self, field.attname))


class VersionedModel(TimestampedModel):
    """Rows edited in forms: `version` lets a save detect that someone else saved first."""

    version = models.PositiveIntegerField(_("version"), default=1)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None
