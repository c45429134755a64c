"""Occasions to visit: logging one on a customer, and the customer's occasions as a panel of its 360 page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from rmdesk.access.policy import Action
from rmdesk.customers.models import Customer
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import next_url, run_on_form
from rmdesk.visits.choices import EventKind, VisitStatus
from rmdesk.visits.events import TITLE_MAX, log_event
from rmdesk.visits.models import CustomerEvent, Visit

EVENTS_SHOWN = 20


class EventForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Occasion"), choices=EventKind.choices)
    title = forms.CharField(
        label=gettext_lazy("What happened"),
        max_length=TITLE_MAX,
        help_text=gettext_lazy("The reason to visit, e.g. the new plant's groundbreaking on 18 May."),
    )
    occurred_on = forms.DateField(
        label=gettext_lazy("Occurred on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=gettext_lazy("Up to a year ahead for an occasion still to come."),
    )


def _customer(user: Any, raw: Any, action: Action) -> Customer:
    """The customer named by `?customer=` (or the URL) in the user's scope for `action`; else 404."""
    if not str(raw or "").isdigit():
        raise Http404
    customer = (
        Customer.objects.restrict(user, action)
        .filter(pk=int(raw), archived_at__isnull=True)
        .select_related("primary_rm")
        .first()
    )
    if customer is None:
        raise Http404
    return customer


@login_required
@require_http_methods(["GET", "POST"])
def log_event_page(request: AuthedRequest) -> HttpResponse:
    """Log an occasion on a customer (§4.2): it proposes a visit to the customer's primary RM."""
    customer = _customer(request.user, request.GET.get("customer"), Action.CHANGE)
    form = EventForm(request.POST or None, initial={"occurred_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if run_on_form(
            form,
            lambda: log_event(
                actor=request.user,
                customer_id=customer.pk,
                kind=data["kind"],
                title=data["title"],
                occurred_on=data["occurred_on"],
            ),
            aliases={"customer": NON_FIELD_ERRORS},
        ):
            messages.success(
                request,
                _("Occasion logged; a visit is proposed to %(rm)s.")
                % {"rm": customer.primary_rm.display_name if customer.primary_rm else ""},
            )
            return redirect(next_url(request, reverse("customers:detail", args=[customer.pk])))
    context = {
        "form": form,
        "customer": customer,
        "cancel_url": next_url(request, reverse("customers:detail", args=[customer.pk])),
        "next_url": request.GET.get("next", ""),
    }
    return render(request, "visits/event_form.html", context)


@login_required
@require_GET
def customer_events(request: AuthedRequest, customer_pk: int) -> HttpResponse:
    """The customer's occasions, newest first, each saying whether a visit was made on it (a 360 page panel)."""
    customer = _customer(request.user, customer_pk, Action.VIEW)
    events = list(
        CustomerEvent.objects.restrict(request.user, Action.VIEW)
        .filter(customer=customer)
        .select_related("logged_by")
        .order_by("-occurred_on", "-pk")[: EVENTS_SHOWN + 1]
    )
    # Read by event on visits_visit_event_id alone: with the status in the query, SQLite's statistics (almost every
    # visit has no event) made it walk every visit done on visit_done_week instead, for a minute at 7M visits.
    visited = {
        event_id
        for event_id, status in Visit.objects.filter(event_id__in=[event.pk for event in events]).values_list(
            "event_id", "status"
        )
        if status == VisitStatus.DONE
    }
    for event in events:
        event.visited = event.pk in visited  # type: ignore[attr-defined]
    may_log = Customer.objects.restrict(request.user, Action.CHANGE).filter(pk=customer.pk).exists()
    context = {
        "customer": customer,
        "events": events[:EVENTS_SHOWN],
        "more": len(events) > EVENTS_SHOWN,
        "may_log": may_log and customer.primary_rm_id is not None,
        "today": timezone.localdate(),
    }
    return render(request, "visits/partials/events.html", context)
