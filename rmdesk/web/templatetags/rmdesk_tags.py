"""Template filters shared by every page: money, percentages, reference labels, form widgets, audit wording."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import forms, template
from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.forms.boundfield import BoundField
from django.forms.utils import flatatt
from django.forms.widgets import Input
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from rmdesk.core import reference
from rmdesk.core.money import to_money
from rmdesk.core.widgets import FixedChoicesSelect
from rmdesk.customers import rows
from rmdesk.customers.choices import Direction, RelationshipKind

register = template.Library()

DASH = reference.DASH
HUNDREDTH = Decimal("0.01")


# --- numbers ----------------------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    """Decimal from a Decimal, int or numeric string; floats never reach here (money is exact)."""
    if value is None or value == "" or isinstance(value, float):
        return None
    try:
        return Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None


@register.filter
def money(value: Any) -> str:
    """An amount with thousands separators and two decimals, rounded half-up to the fen: 1,234,567.80."""
    amount = _decimal(value)
    if amount is None:
        return DASH
    # Formatting the Decimal itself (not a float) keeps every fen exact; both languages group with commas.
    return f"{to_money(amount):,.2f}"


@register.filter
def percent(value: Any) -> str:
    """A ratio (0.6523) as a percentage with two decimals (65.23%)."""
    ratio = _decimal(value)
    if ratio is None:
        return DASH
    return f"{(ratio * 100).quantize(HUNDREDTH, rounding=ROUND_HALF_UP):,.2f}%"


@register.filter
def pct(value: Any) -> str:
    """A value that is already in per cent (12.5) with two decimals (12.50%)."""
    number = _decimal(value)
    if number is None:
        return DASH
    return f"{number.quantize(HUNDREDTH, rounding=ROUND_HALF_UP):,.2f}%"


@register.filter
def minutes(value: Any) -> int:
    """Whole minutes of a timedelta, rounded up so a lockout never ends earlier than it says."""
    if not isinstance(value, timedelta):
        return 0
    seconds = int(value.total_seconds())
    return -(-seconds // 60)


# --- reference data ---------------------------------------------------------------------------------------


@register.filter
def division_label(code: str | None) -> str:
    """GB/T 4754 division code as its name in the active language."""
    return reference.division_shown(code)


@register.filter
def city_label(code: str | None) -> str:
    """GB/T 2260 city code as province and city name."""
    return reference.city_shown(code)


# Addresses without arguments (the menu's, the forms' actions), per URLconf and script prefix: the layout names about 20
# and each full page reversed them all, a fifth of the layout's rendering time under cProfile (docs/benchmarks.md).
_links: dict[tuple[str, str, str], str] = {}


@register.simple_tag
def link(name: str) -> str:
    """`{% url name %}` for a URL pattern without arguments, reversed once per process."""
    key = (str(get_urlconf() or settings.ROOT_URLCONF), get_script_prefix(), name)
    address = _links.get(key)
    if address is None:
        address = _links[key] = reverse(name)
    return address


@register.filter
def customer_url(customer_id: int) -> str:
    """The customer's 360° page (see rmdesk.customers.rows.customer_url)."""
    return rows.customer_url(customer_id)


@register.filter
def verbose_name(obj: Any, field_name: str) -> str:
    """A model field's label, so pages reuse the model's wording (and its translation)."""
    try:
        return str(capfirst(obj._meta.get_field(field_name).verbose_name))
    except (AttributeError, FieldDoesNotExist):
        return field_name


# --- forms --------------------------------------------------------------------------------------------------


@register.filter
def form_control(field: BoundField) -> SafeString:
    """A bound field's widget with the Tabler/Bootstrap classes, marked invalid when it has errors."""
    widget = field.field.widget
    if isinstance(widget, forms.CheckboxInput):
        css = "form-check-input"
    elif isinstance(widget, forms.Select | forms.SelectMultiple):
        css = "form-select"
    else:
        css = "form-control"
    classes = [widget.attrs.get("class", ""), css, "is-invalid" if field.errors else ""]
    attrs: dict[str, str | bool] = {"class": " ".join(c for c in classes if c)}
    if isinstance(widget, forms.Select) and widget.template_name in _PLAIN_SELECTS:
        return _select(field, attrs)
    if isinstance(widget, Input) and widget.template_name in _PLAIN_INPUTS:
        return _input(field, attrs)
    return field.as_widget(attrs=attrs)


# Django renders every widget through its templates, and a select's every <option> through a template include: a
# select of the 97 industry divisions or 340 cities takes milliseconds, and the customer list's filters were a third of
# its time; its search box and one checkbox were another 8 % of the page under a sampling profiler. The same markup,
# built here for the widgets whose templates are Django's plain ones (tests/web/test_select_rendering.py). Values are
# escaped by the standard library's html.escape, which Django's escape wraps in a check for lazy strings per call.
_PLAIN_SELECTS = {forms.Select.template_name, forms.SelectMultiple.template_name}
# Each of these templates is only {% include "django/forms/widgets/input.html" %}.
_INPUT_TYPES = ("text", "number", "email", "url", "tel", "password", "hidden", "search", "color", "date", "datetime")
_PLAIN_INPUTS = {f"django/forms/widgets/{name}.html" for name in (*_INPUT_TYPES, "time", "checkbox")}


def _widget_context(field: BoundField, classes: dict[str, str | bool]) -> dict[str, Any]:
    """What `field.as_widget(attrs=classes)` hands its widget's template, without rendering it."""
    widget = field.field.widget
    if field.field.localize:
        widget.is_localized = True
    attrs = field.build_widget_attrs(dict(classes), widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context: dict[str, Any] = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    return context


def _input(field: BoundField, classes: dict[str, str | bool]) -> SafeString:
    """Django's input.html for this field: the value and every attribute as text, escaped; True bare, False left out."""
    context = _widget_context(field, classes)
    parts = [f'<input type="{html.escape(context["type"])}" name="{html.escape(context["name"])}"']
    if context["value"] is not None:
        parts.append(f' value="{html.escape(str(context["value"]))}"')
    for name, value in context["attrs"].items():
        if value is True:
            parts.append(f" {html.escape(name)}")
        elif value is not False:
            parts.append(f' {html.escape(name)}="{html.escape(str(value))}"')
    parts.append(">")
    return mark_safe("".join(parts))  # noqa: S308 — every part above is escaped


# Selects of fixed choices (core.widgets.FixedChoicesSelect) as rendered, by form, language, name, id, value, classes
# and widget attributes: what else goes into the markup is the choices, which do not change. Capped, as the value
# comes from the request (an unknown one is rendered, marked invalid, and not kept once the cap is reached).
_fixed_selects: dict[tuple[Any, ...], SafeString] = {}
FIXED_SELECTS_KEPT = 4096


def _select(field: BoundField, classes: dict[str, str | bool]) -> SafeString:
    """What `field.as_widget(attrs=classes)` renders for a plain Select or SelectMultiple, without the templates."""
    widget = field.field.widget
    if not isinstance(widget, FixedChoicesSelect):
        return _render_select(field, classes)
    attrs = tuple((name, str(value)) for name, value in widget.attrs.items())
    key = (
        type(field.form),
        get_language(),
        field.html_name,
        field.auto_id,
        str(field.value()),
        tuple(classes.items()),
        attrs,
    )
    markup = _fixed_selects.get(key)
    if markup is None:
        markup = _render_select(field, classes)
        if len(_fixed_selects) < FIXED_SELECTS_KEPT:
            _fixed_selects[key] = markup
    return markup


def _render_select(field: BoundField, classes: dict[str, str | bool]) -> SafeString:
    context = _widget_context(field, classes)
    parts: list[str] = [format_html('<select name="{}"{}>', context["name"], flatatt(context["attrs"]))]
    for group_name, options, _index in context["optgroups"]:
        if group_name:
            parts.append(format_html('<optgroup label="{}">', group_name))
        parts.extend(_option(option) for option in options)
        if group_name:
            parts.append("</optgroup>")
    parts.append("</select>")
    return mark_safe("".join(parts))  # noqa: S308 — every part above is escaped


def _option(option: dict[str, Any]) -> str:
    value, label, attrs = html.escape(str(option["value"])), html.escape(str(option["label"])), option["attrs"]
    if attrs.keys() <= {"selected"}:  # the common case, without flatatt's generality
        return f'<option value="{value}"{" selected" if attrs.get("selected") else ""}>{label}</option>'
    return f'<option value="{value}"{flatatt(attrs)}>{label}</option>'


@register.filter
def is_checkbox(field: BoundField) -> bool:
    return isinstance(field.field.widget, forms.CheckboxInput)


@register.filter
def is_wide(field: BoundField) -> bool:
    """Free text and multi-selects take the whole row; everything else sits two to a row on desktop."""
    return isinstance(field.field.widget, forms.Textarea | forms.SelectMultiple)


@register.simple_tag
def page_query(request: HttpRequest, page: int) -> str:
    """The current query string with `page` replaced, so pagination keeps the filters."""
    query = request.GET.copy()
    query["page"] = str(page)
    return "?" + query.urlencode()


# --- relationships ------------------------------------------------------------------------------------------

# How a link reads from the customer's side; the comments give translators the bank's Chinese terms.
_READINGS: dict[tuple[str, str], Promise] = {
    # Translators: 本客户为其担保
    (RelationshipKind.GUARANTEE, Direction.OUTWARD): _("Guaranteed by the customer"),
    # Translators: 为本客户担保
    (RelationshipKind.GUARANTEE, Direction.INWARD): _("Guarantor of the customer"),
    # Translators: 互保
    (RelationshipKind.GUARANTEE, Direction.MUTUAL): _("Mutual guarantee"),
    # Translators: 下游买方
    (RelationshipKind.SUPPLY_CHAIN, Direction.OUTWARD): _("Buyer (downstream)"),
    # Translators: 上游供应商
    (RelationshipKind.SUPPLY_CHAIN, Direction.INWARD): _("Supplier (upstream)"),
    # Translators: 互为上下游
    (RelationshipKind.SUPPLY_CHAIN, Direction.MUTUAL): _("Both supplier and buyer"),
    # Translators: 本客户对其投资
    (RelationshipKind.AFFILIATE, Direction.OUTWARD): _("Invested in by the customer"),
    # Translators: 本客户股东
    (RelationshipKind.AFFILIATE, Direction.INWARD): _("Shareholder of the customer"),
    # Translators: 交叉持股
    (RelationshipKind.AFFILIATE, Direction.MUTUAL): _("Cross-shareholding"),
}


@register.filter
def relationship_reading(relationship: Any) -> str:
    """What the counterparty is to this customer, in words (e.g. guaranteed by, upstream supplier)."""
    if relationship.kind == RelationshipKind.COMMON_CONTROLLER:
        # Translators: 同一实际控制人
        return str(_("Under common control"))
    reading = _READINGS.get((relationship.kind, relationship.direction))
    return str(reading) if reading is not None else relationship.get_direction_display()


# --- audit timeline -----------------------------------------------------------------------------------------

# One place that words the audit trail's action codes for people; unknown codes show as they are.
ACTION_LABELS: dict[str, Promise] = {
    "customer.create": _("Customer file opened"),
    "customer.update": _("Master data changed"),
    "customer.co_rms": _("Co-RMs changed"),
    "customer.archive": _("Customer file archived"),
    "customer.export": _("Customer data exported"),
    "customer.import": _("Customers imported"),
    "key_person.create": _("Key person added"),
    "key_person.update": _("Key person changed"),
    "key_person.archive": _("Key person archived"),
    "key_person.reveal": _("Personal data revealed"),
    "financial_statement.create": _("Financial statement added"),
    "financial_statement.update": _("Financial statement corrected"),
    "relationship.create": _("Relationship added"),
    "relationship.update": _("Relationship changed"),
    "relationship.archive": _("Relationship archived"),
    "document.upload": _("Document filed"),
    "document.archive": _("Document archived"),
    "task.create": _("Task created"),
    "task.complete": _("Task completed"),
    "task.cancel": _("Task cancelled"),
    "task.reschedule": _("Task rescheduled"),
    "visit.plan": _("Visit planned"),
    "visit.update": _("Visit plan changed"),
    "visit.postpone": _("Visit postponed"),
    "visit.cancel": _("Visit cancelled"),
    "visit.check_in": _("Checked in at the visit"),
    "visit.record": _("Visit recorded"),
    "visit.follow_up": _("Next step after a visit"),
    "customer_event.log": _("Occasion to visit logged"),
    "customer_event.detect": _("Occasion to visit detected"),
    "customer_event.detection_run": _("Occasions to visit detected"),
    "visit.cadence_run": _("Lapsed visit cadence checked"),
    "visit.cadence_update": _("Visit cadence changed"),
    "visit.calendar_feed": _("Private calendar address renewed"),
}


@register.filter
def action_label(code: str) -> str:
    label = ACTION_LABELS.get(code)
    return str(label) if label is not None else code


@dataclass(frozen=True)
class ChangeLine:
    """One changed field of an audit event, worded for the timeline."""

    label: str
    old: str | None
    new: str | None


def _model_field(object_type: str, name: str) -> models.Field[Any, Any] | None:
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        # Snapshots use attnames (primary_rm_id); look the relation up by its field name too.
        field = next((f for f in model._meta.concrete_fields if f.attname == name), None)
    return field if isinstance(field, models.Field) else None


def _shown(field: models.Field[Any, Any] | None, raw: Any) -> str | None:
    """A recorded value as a person reads it; relations show no raw ids."""
    if raw is None or raw == "":
        return DASH
    if field is not None and field.is_relation and not isinstance(raw, str):
        # A bare id says nothing to a reader; events that record a name (e.g. a task's owner) show it.
        return None
    if field is not None and field.choices:
        labels = {str(value): label for value, label in field.flatchoices}
        return str(labels.get(str(raw), raw))
    if isinstance(raw, list):
        return "、".join(str(item) for item in raw) or DASH
    text = str(raw)
    return text if len(text) <= 60 else text[:59] + "…"


# Keys some events record that are not model fields.
_EXTRA_KEYS: dict[str, Promise] = {"added": _("added"), "removed": _("removed")}


@register.filter
def change_lines(event: Any) -> list[ChangeLine]:
    """The event's changes as (field label, old, new); values hidden where they would mean nothing."""
    lines: list[ChangeLine] = []
    changes = event.changes if isinstance(event.changes, dict) else {}
    for name, value in changes.items():
        if event.action == "key_person.reveal" and name == "field":
            field = _model_field(event.object_type, str(value))
            # The revealed value itself is never recorded; the line names which field was shown.
            lines.append(ChangeLine(str(capfirst(field.verbose_name)) if field else str(value), None, None))
            continue
        field = _model_field(event.object_type, name)
        label = str(capfirst(field.verbose_name)) if field is not None else str(_EXTRA_KEYS.get(name, name))
        if isinstance(value, list) and len(value) == 2 and name not in _EXTRA_KEYS:
            old, new = _shown(field, value[0]), _shown(field, value[1])
            # A create records [None, value]: only the new value says anything.
            lines.append(ChangeLine(label, None if value[0] is None else old, new))
        else:
            lines.append(ChangeLine(label, None, _shown(field, value)))
    return lines
