"""Template filters of the visit pages: a visit's time as the bank reads it, and its status as a coloured badge."""

from __future__ import annotations

from django import template

from rmdesk.visits.choices import VisitStatus
from rmdesk.visits.models import Visit
from rmdesk.visits.views.common import time_span

register = template.Library()

STATUS_BADGES: dict[str, str] = {
    VisitStatus.PLANNED: "bg-blue-lt",
    VisitStatus.DONE: "bg-green-lt",
    VisitStatus.POSTPONED: "bg-orange-lt",
    VisitStatus.CANCELLED: "bg-secondary-lt",
}


@register.filter
def visit_time(visit: Visit) -> str:
    """2026-03-02 10:00–11:00 in the bank's time zone (the actual time once recorded)."""
    return time_span(visit)


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "bg-secondary-lt")
