"""Who should we call next: firms linked to the user's customers that are not customers yet; accepting one files it
as a prospect (in the pool, or an RM's own book), dismissing it stops suggesting it to this user."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rmdesk.access.policy import Action, may
from rmdesk.development import suggestions
from rmdesk.development.forms import AcceptSuggestionForm, DismissSuggestionForm
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import file_prospect, run_with_message
from rmdesk.org.choices import Role

SUGGESTIONS_PER_PAGE = 25


def _suggestions_page(
    request: AuthedRequest, *, failed: AcceptSuggestionForm | None = None, similar: Any = None
) -> HttpResponse:
    user = request.user
    if not may(user, Action.CREATE):
        raise Http404
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    offset = (number - 1) * SUGGESTIONS_PER_PAGE
    # One more than shown tells whether a next page exists, without counting every firm of a head's view.
    found = suggestions.suggestions_for(user, limit=SUGGESTIONS_PER_PAGE + 1, offset=offset)
    rows = []
    for suggestion in found[:SUGGESTIONS_PER_PAGE]:
        form = None
        if failed is not None and failed.data.get("relationship_id") == str(suggestion.relationship_id):
            form = failed
        rows.append({"suggestion": suggestion, "form": form})
    failed_elsewhere = failed is not None and all(row["form"] is None for row in rows)
    context = {
        "rows": rows,
        "page": number,
        "has_next": len(found) > SUGGESTIONS_PER_PAGE,
        "is_rm": user.role == Role.RM,
        "failed": failed if failed_elsewhere else None,
        "similar": similar,
    }
    return render(request, "development/suggestions.html", context, status=200)


@login_required
@require_GET
def suggestions_page(request: AuthedRequest) -> HttpResponse:
    """Who should we call next: firms linked to the user's customers that are not customers yet, best first."""
    return _suggestions_page(request)


@login_required
@require_POST
def suggestion_accept(request: AuthedRequest) -> HttpResponse:
    """Accept a suggestion into the pool, or (an RM) into their own book; a firm without a code asks for one."""
    if not may(request.user, Action.CREATE):
        raise Http404
    form = AcceptSuggestionForm(request.POST)
    similar = None
    if form.is_valid():
        data = form.cleaned_data
        prospect, similar = file_prospect(
            form,
            lambda: suggestions.accept_suggestion(
                actor=request.user,
                credit_code=data["credit_code"],
                name=data["name"],
                relationship_id=data["relationship_id"],
                claim=data["claim"],
                allow_similar=data["allow_similar"],
            ),
        )
        if prospect is not None:
            if prospect.customer.primary_rm_id is None:
                messages.success(request, _("%(name)s is in the pool now.") % {"name": prospect.customer.name})
                return redirect("development:suggestions")
            messages.success(request, _("%(name)s is in your book now.") % {"name": prospect.customer.name})
            return redirect("development:prospect", prospect.customer_id)
    return _suggestions_page(request, failed=form, similar=similar)


@login_required
@require_POST
def suggestion_dismiss(request: AuthedRequest) -> HttpResponse:
    """Stop suggesting a firm to this user."""
    if not may(request.user, Action.CREATE):
        raise Http404
    form = DismissSuggestionForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        dismissal = run_with_message(
            request,
            lambda: suggestions.dismiss_suggestion(
                actor=request.user, credit_code=data["credit_code"], name=data["name"]
            ),
        )
        if dismissal is not None:
            messages.success(request, _("%(name)s will not be suggested to you again.") % {"name": data["name"]})
    return redirect("development:suggestions")
