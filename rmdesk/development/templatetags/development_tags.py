"""Template filters of the development pages."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from rmdesk.core.reference import DASH

register = template.Library()


@register.filter
def rate(value: Decimal | None) -> str:
    """A conversion rate already in per cent and rounded to 0.1 (funnel.rate): 33.3%; undefined shows a dash."""
    if value is None:
        return DASH
    return f"{value:,.1f}%"


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """mapping[key] in a template (a count per stage or per status)."""
    try:
        return mapping[key]
    except (KeyError, IndexError, TypeError):
        return None
