"""Template filters of the collection pages: the colour of a classification, a category's label, month links."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django import template
from django.http import HttpRequest

from rmdesk.loans.choices import Classification

register = template.Library()

# Tabler colours from 正常 to 损失: the worse, the warmer.
_BADGES = {
    Classification.NORMAL: "bg-green-lt",
    Classification.SPECIAL_MENTION: "bg-yellow-lt",
    Classification.SUBSTANDARD: "bg-orange-lt",
    Classification.DOUBTFUL: "bg-red-lt",
    Classification.LOSS: "bg-red text-red-fg",
}


@register.filter
def category_badge(value: Any) -> str:
    """The badge class of a five-category classification (a number 1–5)."""
    try:
        return _BADGES[Classification(int(value))]
    except (TypeError, ValueError, KeyError):
        return "bg-secondary-lt"


@register.filter
def category_label(value: Any) -> str:
    """The label of a five-category classification, or a dash for none."""
    try:
        return str(Classification(int(value)).label)
    except (TypeError, ValueError):
        return "—"


@register.simple_tag
def month_query(request: HttpRequest, month: date) -> str:
    """The current query string with `month` (YYYY-MM) replaced, so month links keep the filters."""
    query = request.GET.copy()
    query["month"] = month.strftime("%Y-%m")
    query.pop("page", None)
    return "?" + query.urlencode()


@register.simple_tag
def sort_query(request: HttpRequest, order: str) -> str:
    """The current query string ordered by `order`, from the first page."""
    query = request.GET.copy()
    query["sort"] = order
    query.pop("page", None)
    return "?" + query.urlencode()


@register.simple_tag
def migration_cell(migration: Any, source: int | None, target: int | None) -> Any:
    """One cell of the migration matrix: loans moving from `source` to `target` (None: new, or left the book)."""
    return migration.cell(source, target)


@register.filter
def rate(value: Any) -> str:
    """An annual rate in per cent as exact as it is (up to 6 places), at least two places: 4.35%, 6.525%."""
    try:
        number = Decimal(value)
    except (TypeError, ValueError, ArithmeticError):
        return "—"
    places = max(2, -number.normalize().as_tuple().exponent) if number else 2  # type: ignore[operator]
    return f"{number:.{places}f}%"
