"""Planning a visit (§4.1 认真准备) and changing a plan: the customer, why, when and where, who goes and who will be met
(with each key person's decision role and preferences on the page), the preparation checklist and the strategy."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rmdesk.access.policy import Action, may
from rmdesk.customers.models import Customer
from rmdesk.customers.queries import search_customers
from rmdesk.customers.search import read_query
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import run_on_form
from rmdesk.org.models import User
from rmdesk.visits import services
from rmdesk.visits.forms import SERVICE_ALIASES, PlanForm, edit_initial, plan_initial
from rmdesk.visits.models import CustomerEvent
from rmdesk.visits.services import PlannedVisit
from rmdesk.visits.views.common import keep_input_with_current_version, overlap_warning, visit_or_404

CHOOSER_RESULTS = 20
QUERY_LENGTH = 100


def _plannable(user: User) -> Any:
    """The customers the user may plan a visit of: in their change scope, not archived."""
    return Customer.objects.restrict(user, Action.CHANGE).filter(archived_at__isnull=True)


def _customer(user: User, raw: str | None) -> Customer | None:
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit():
        raise Http404
    customer = _plannable(user).select_related("primary_rm").filter(pk=int(raw)).first()
    if customer is None:
        raise Http404
    return customer


def _event(user: User, customer: Customer, raw: str | None) -> CustomerEvent | None:
    """The occasion the visit answers (from the 360 page's occasions): shown on the page; the service checks it."""
    if not raw or not raw.isascii() or not raw.isdigit():
        return None
    return CustomerEvent.objects.restrict(user, Action.VIEW).filter(pk=int(raw), customer=customer).first()


def _chooser(request: AuthedRequest) -> HttpResponse:
    """Without a customer: search the customers the user may visit (the quick search's matching), then pick one."""
    q = request.GET.get("q", "")[:QUERY_LENGTH]
    query = read_query(q)
    found = search_customers(_plannable(request.user), q, limit=CHOOSER_RESULTS) if query is not None else []
    context = {"q": q, "query": query, "found": found, "limit": CHOOSER_RESULTS}
    return render(request, "visits/plan.html", {"choose": True, **context})


def _people(form: PlanForm) -> list[tuple[Any, Any]]:
    """Each key person of the customer beside its checkbox, so the page shows who they are and how they decide."""
    return list(zip(form.people, form["key_persons"], strict=True))


def _saved(request: AuthedRequest, planned: PlannedVisit, message: str) -> None:
    messages.success(request, message)
    warning = overlap_warning(planned.overlaps)
    if warning:
        messages.warning(request, warning)


@login_required
@require_http_methods(["GET", "POST"])
def plan(request: AuthedRequest) -> HttpResponse:
    """Plan a visit of a customer (or file one that already took place, to record it next)."""
    user = request.user
    if not may(user, Action.CHANGE):
        raise Http404
    raw = request.POST.get("customer") if request.method == "POST" else request.GET.get("customer")
    customer = _customer(user, raw)
    if customer is None:
        return _chooser(request)
    event = _event(user, customer, request.POST.get("event") or request.GET.get("event"))
    initial = plan_initial(user, customer, event_id=event.pk if event else None, now=timezone.now())
    form = PlanForm(request.POST or None, user=user, customer=customer, initial=initial)
    if request.method == "POST" and form.is_valid():
        planned: list[PlannedVisit] = []
        took_place = form.cleaned_data["took_place"]

        def call() -> None:
            planned.append(
                services.plan_visit(
                    actor=user,
                    customer_id=customer.pk,
                    event_id=form.cleaned_data["event"],
                    took_place=took_place,
                    **form.service_kwargs(),
                )
            )

        if run_on_form(form, call, aliases=SERVICE_ALIASES):
            visit = planned[0].visit
            if took_place:
                _saved(request, planned[0], _("The visit is filed. Now record what happened."))
                return redirect("visits:record", visit.pk)
            _saved(request, planned[0], _("Visit planned; it is on your task list."))
            return redirect("visits:detail", visit.pk)
    context = {
        "form": form,
        "customer": customer,
        "event": event,
        "people": _people(form),
        "cancel_url": reverse("customers:detail", args=[customer.pk]),
    }
    return render(request, "visits/plan.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change a visit still to happen (a postponed visit given a new time is planned again)."""
    user = request.user
    visit = visit_or_404(user, pk, Action.CHANGE)
    if not visit.is_open:
        messages.error(request, _("Only a visit still to happen can be changed."))
        return redirect("visits:detail", visit.pk)
    form = PlanForm(request.POST or None, user=user, customer=visit.customer, visit=visit, initial=edit_initial(visit))
    if request.method == "POST" and form.is_valid():
        planned: list[PlannedVisit] = []

        def call() -> None:
            planned.append(
                services.update_plan(
                    actor=user, visit_id=visit.pk, version=form.cleaned_data["version"], **form.service_kwargs()
                )
            )

        if run_on_form(form, call, aliases=SERVICE_ALIASES):
            _saved(request, planned[0], _("The plan is saved."))
            return redirect("visits:detail", visit.pk)
        keep_input_with_current_version(form, visit_or_404(user, pk, Action.CHANGE))
    context = {
        "form": form,
        "customer": visit.customer,
        "visit": visit,
        "event": visit.event,
        "people": _people(form),
        "cancel_url": reverse("visits:detail", args=[visit.pk]),
    }
    return render(request, "visits/plan.html", context)
