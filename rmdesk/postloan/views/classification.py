"""The risk officers' classification queue 五级分类: the loans whose batch proposal waits for a decision, confirmed one
by one on the loan's page or several at once here (as shown, with one reason)."""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods

from rmdesk.access.policy import Action, may
from rmdesk.core.htmx import render_page_or_partial
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import next_url, run_on_form
from rmdesk.postloan import services
from rmdesk.postloan.filters import QueueFilter
from rmdesk.postloan.forms import ConfirmProposalsForm
from rmdesk.postloan.queries import classification_queue
from rmdesk.postloan.views.common import PAGE_SIZE

PROPOSAL_VALUE = re.compile(r"^\d{1,12}:[1-5]$")


@login_required
@require_http_methods(["GET", "POST"])
def queue_page(request: AuthedRequest) -> HttpResponse:
    """Proposals waiting, worst first; POST confirms the ticked ones as proposed."""
    user = request.user
    if not may(user, Action.CLASSIFY):
        raise Http404
    form = None
    if request.method == "POST":
        ticked = [value for value in request.POST.getlist("loans") if PROPOSAL_VALUE.match(value)]
        form = ConfirmProposalsForm(request.POST, choices=[(value, value) for value in ticked])
        if form.is_valid():
            proposals, reason = form.proposals(), form.cleaned_data["reason"]
            call = lambda: services.confirm_proposals(actor=user, proposals=proposals, reason=reason)  # noqa: E731
            if run_on_form(form, call):
                count = len(proposals)
                messages.success(
                    request,
                    ngettext("%(count)d classification confirmed.", "%(count)d classifications confirmed.", count)
                    % {"count": count},
                )
                return redirect(next_url(request, request.path))
    queue_filter = QueueFilter(request.GET, user=user)
    page_obj = None
    if queue_filter.is_valid():
        loans = classification_queue(
            user, unit=queue_filter.cleaned_data.get("unit"), proposed=queue_filter.cleaned_data.get("proposed")
        )
        page_obj = Paginator(loans, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filter": queue_filter,
        "page_obj": page_obj,
        "form": form or ConfirmProposalsForm(choices=[]),
        "refused": form is not None,
        "heading": _("Classification queue"),
    }
    return render_page_or_partial(
        request, "postloan/classification_queue.html", "postloan/partials/queue_rows.html", context
    )
