"""The bank's target scorecard: anyone with customer access reads it; head office changes it."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from rmdesk.access.policy import Action, may
from rmdesk.core import reference
from rmdesk.development import scoring
from rmdesk.development.forms import ScorecardForm
from rmdesk.development.models import Scorecard, ScorecardItem
from rmdesk.development.scorecard import DATA_ITEMS
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import run_on_form


def _scorecard_row() -> Scorecard:
    row = Scorecard.objects.select_related("updated_by").order_by("pk").first()
    if row is None:
        raise Http404
    return row


@login_required
@require_GET
def scorecard_page(request: AuthedRequest) -> HttpResponse:
    """The bank's target scorecard as it stands (anyone with customer access may read it)."""
    if not may(request.user, Action.VIEW):
        raise Http404
    card = _scorecard_row()
    items = list(ScorecardItem.objects.order_by("characteristic"))
    total = sum((item.weight for item in items), start=Decimal(0))
    context = {
        "card": card,
        "items": items,
        "total_weight": total,
        "data_items": DATA_ITEMS,
        "industries": [reference.division_label(code) for code in card.encouraged_industries],
        "regions": [_region_label(code) for code in card.promising_regions],
        "may_edit": scoring.may_edit_scorecard(request.user),
    }
    return render(request, "development/scorecard.html", context)


def _region_label(code: str) -> str:
    if len(code) == 6:
        return reference.city_label(code)
    for province in reference.regions():
        if province.code.startswith(code):
            return f"{reference.province_name(province)} ({code})"
    return code


@login_required
@require_http_methods(["GET", "POST"])
def scorecard_edit(request: AuthedRequest) -> HttpResponse:
    """Head office changes weights, top ratings, the threshold and the two lists; every score goes stale."""
    if not scoring.may_edit_scorecard(request.user):
        raise Http404
    card = _scorecard_row()
    items = list(ScorecardItem.objects.order_by("characteristic"))
    initial = {
        "version": card.version,
        "threshold": card.threshold,
        "encouraged_industries": card.encouraged_industries,
        "promising_regions": card.promising_regions,
    }
    form = ScorecardForm(request.POST or None, initial=initial, items=items, regions=list(card.promising_regions))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if run_on_form(
            form,
            lambda: scoring.update_scorecard(
                actor=request.user,
                weights=form.weights(),
                max_ratings=form.max_ratings(),
                threshold=data["threshold"],
                encouraged_industries=data["encouraged_industries"],
                promising_regions=data["promising_regions"],
                version=data["version"],
            ),
            # The whole set of weights or ratings is wrong (e.g. they add up to zero): said above the table.
            aliases={"weights": NON_FIELD_ERRORS, "max_ratings": NON_FIELD_ERRORS},
        ):
            messages.success(request, _("Scorecard saved; scores are recomputed as prospects are read."))
            return redirect("development:scorecard")
    return render(request, "development/scorecard_edit.html", {"form": form, "card": card})
