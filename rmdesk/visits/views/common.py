"""What the visit pages share: fetching a visit in scope (else 404), who may act on it, and wording of outcomes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action
from rmdesk.core.errors import NotFoundError
from rmdesk.org.models import User
from rmdesk.visits.models import Visit
from rmdesk.visits.queries import visit_for, visits_for

# Where a new private calendar address waits to be shown once, on the next list page (views/calendar.py).
FEED_TOKEN_SESSION_KEY = "visits_feed_url"  # noqa: S105 — a session key, not a secret

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"


def ics_response(body: str, filename: str, *, attachment: bool) -> HttpResponse:
    """An iCalendar file as a response, for the pages and the API alike."""
    response = HttpResponse(body.encode("utf-8"), content_type=ICS_CONTENT_TYPE)
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    # Customer names and times: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


def visit_or_404(user: User, pk: int, action: Action = Action.VIEW) -> Visit:
    """The visit if `user` may `action` it (view: see it; change: work on it), else 404 — the two never told apart."""
    try:
        return visit_for(user, pk, action)
    except NotFoundError:
        raise Http404 from None


def may_work_on(user: User, visit: Visit) -> bool:
    """Whether `user` may change the visit (plan, record, follow up): the customer in their change scope."""
    if visit.customer.is_archived:
        return False
    return visits_for(user, Action.CHANGE).filter(pk=visit.pk).exists()


def time_span(visit: Visit) -> str:
    """When the visit is (or was) as the bank reads it: 2026-03-02 10:00–11:00; once recorded, its actual time."""
    start, end = visit.planned_start, visit.planned_end
    if visit.is_done and visit.actual_start and visit.actual_end:
        start, end = visit.actual_start, visit.actual_end
    start, end = timezone.localtime(start), timezone.localtime(end)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M}–{end:%Y-%m-%d %H:%M}"


def overlap_warning(overlaps: Iterable[Visit]) -> str | None:
    """The warning shown after planning over another visit of the same RM (allowed: the RM decides)."""
    names = [f"{visit.customer.name} {time_span(visit)}" for visit in overlaps]
    if not names:
        return None
    return _("This visit overlaps with other planned visits of the RM: %(visits)s.") % {"visits": "; ".join(names)}


def keep_input_with_current_version(form: Any, visit: Visit) -> None:
    """After a refusal the user's entries stay on the form; after a conflict the next save applies over the newer
    version (the conflict's message has told the user someone else saved first)."""
    data = form.data.copy()
    data["version"] = str(visit.version)
    form.data = data
