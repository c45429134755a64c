"""A visit's one-page report for the team lead: printable from the browser (A4, no navigation; no PDF is made)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rmdesk.development.views import AuthedRequest
from rmdesk.visits.views.common import visit_or_404
from rmdesk.visits.views.visit import detail_context


@login_required
@require_GET
def report(request: AuthedRequest, pk: int) -> HttpResponse:
    """Customer, time, attendees, purpose, needs, proposals and responses, products and interest, follow-ups and the
    self-check on one page; the confidential notes only for those who may read them."""
    visit = visit_or_404(request.user, pk)
    return render(request, "visits/report.html", detail_context(request, visit, with_forms=False))
