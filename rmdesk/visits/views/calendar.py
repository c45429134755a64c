"""Visits in calendar apps: one visit's .ics, the user's feed while logged in, and the private feed address for apps
that cannot log in (its token is shown once; an unknown token is a 404)."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from rmdesk.access.policy import Action, scope_for
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import run_with_message
from rmdesk.org.models import User
from rmdesk.visits.feeds import FEED_LIMIT, calendar_of, feed_owner, feed_visits, reset_calendar_feed
from rmdesk.visits.models import Visit
from rmdesk.visits.views.common import FEED_TOKEN_SESSION_KEY, ics_response, visit_or_404


def _page_url(request: HttpRequest) -> Callable[[Visit], str]:
    def url(visit: Visit) -> str:
        return request.build_absolute_uri(reverse("visits:detail", args=[visit.pk]))

    return url


@login_required
@require_GET
def visit_ics(request: AuthedRequest, pk: int) -> HttpResponse:
    """One visit as an .ics file to open in a calendar (a cancelled one is marked cancelled)."""
    visit = visit_or_404(request.user, pk)
    visit = (
        Visit.objects.filter(pk=visit.pk)
        .select_related("customer", "rm")
        .prefetch_related("bank_attendees", "customer_attendees")
        .get()
    )
    return ics_response(calendar_of([visit], _page_url(request)), f"visit-{visit.pk}.ics", attachment=True)


def _feed(request: HttpRequest, user: User) -> HttpResponse:
    visits = feed_visits(user)[:FEED_LIMIT]
    name = _("Visits of %(name)s") % {"name": user.display_name}
    return ics_response(calendar_of(visits, _page_url(request), name=name), "visits.ics", attachment=False)


@login_required
@require_GET
@never_cache
def feed(request: AuthedRequest) -> HttpResponse:
    """The user's planned visits (as visiting RM or attendee), 30 days back to a year ahead."""
    if scope_for(request.user, Action.VIEW).nothing:
        raise Http404
    return _feed(request, request.user)


@require_GET
@never_cache
def feed_token(request: HttpRequest, token: str) -> HttpResponse:
    """The same feed at the user's private address, for calendar apps that cannot log in."""
    user = feed_owner(token)
    if user is None or scope_for(user, Action.VIEW).nothing:
        raise Http404
    return _feed(request, user)


@login_required
@require_POST
def feed_token_reset(request: AuthedRequest) -> HttpResponse:
    """Make (or replace) the private feed address; it is shown once, on the visits list."""
    token = run_with_message(request, lambda: reset_calendar_feed(actor=request.user))
    if token is None:
        raise Http404
    url = request.build_absolute_uri(reverse("visits:feed_token", args=[token]))
    request.session[FEED_TOKEN_SESSION_KEY] = url
    messages.success(request, _("Your private calendar address is ready: copy it now, it is shown only once."))
    return redirect("visits:list")
