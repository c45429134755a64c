"""The prospect pool 公海: an RM claims (or applies for) a waiting prospect; a team lead or head decides the claims
and assigns prospects to their RMs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rmdesk.access.policy import Action, scope_for
from rmdesk.development import pool
from rmdesk.development.choices import ClaimStatus
from rmdesk.development.forms import AssignForm, NoteForm, VersionForm
from rmdesk.development.models import Claim
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import run_with_message
from rmdesk.org.choices import Role
from rmdesk.org.models import User

PAGE_SIZE = 50


def _may_use_pool(user: User) -> None:
    if scope_for(user, Action.CLAIM).nothing:
        raise Http404


@login_required
@require_GET
def pool_page(request: AuthedRequest) -> HttpResponse:
    """The prospects waiting in the user's pools; an RM claims (or applies for) them, a lead decides and assigns."""
    user = request.user
    _may_use_pool(user)
    waiting = pool.pool_for(user).select_related("customer", "customer__owning_unit").order_by("-found_on", "-pk")
    page_obj = Paginator(waiting, PAGE_SIZE).get_page(request.GET.get("page"))
    on_page = list(page_obj.object_list)
    pending = {
        c.prospect_id: c
        for c in Claim.objects.filter(prospect__in=on_page, status=ClaimStatus.PENDING).select_related("rm")
    }
    rules: dict[int, Any] = {}
    for prospect in on_page:
        unit = prospect.customer.owning_unit
        if unit.pk not in rules:
            rules[unit.pk] = pool.pool_rule(unit)
    deciding = user.role in pool.DECIDER_ROLES
    rows = [
        {
            "prospect": prospect,
            "pending": pending.get(prospect.pk),
            "approval": rules[prospect.customer.owning_unit_id].approval_required,
            "contact_days": rules[prospect.customer.owning_unit_id].contact_days,
        }
        for prospect in on_page
    ]
    context: dict[str, Any] = {
        "page_obj": page_obj,
        "rows": rows,
        "is_rm": user.role == Role.RM,
        "deciding": deciding,
        "assign_form": AssignForm(user=user) if deciding else None,
        "my_claims": (
            Claim.objects.filter(rm=user, status=ClaimStatus.PENDING)
            .select_related("prospect__customer")
            .order_by("created_at")
        ),
        "to_decide": (
            Claim.objects.restrict(user, Action.CLAIM)
            .filter(status=ClaimStatus.PENDING)
            .select_related("rm", "prospect__customer")
            .order_by("created_at", "pk")
            if deciding
            else Claim.objects.none()
        ),
    }
    return render(request, "development/pool.html", context)


@login_required
@require_POST
def pool_claim(request: AuthedRequest, prospect_pk: int) -> HttpResponse:
    """Claim a pool prospect (or apply for it); someone faster is named."""
    _may_use_pool(request.user)
    form = VersionForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    granted = run_with_message(
        request, lambda: pool.claim(actor=request.user, prospect_id=prospect_pk, version=version)
    )
    if granted is None:
        return redirect("development:pool")
    name = granted.prospect.customer.name
    if granted.status == ClaimStatus.PENDING:
        messages.success(request, _("You applied for %(name)s; the team lead decides.") % {"name": name})
    else:
        messages.success(
            request,
            _("%(name)s is yours now: make first contact by %(due)s.")
            % {"name": name, "due": granted.prospect.contact_due},
        )
    return redirect("development:pool")


@login_required
@require_POST
def pool_assign(request: AuthedRequest, prospect_pk: int) -> HttpResponse:
    """A lead or head gives a pool prospect to one of their RMs."""
    if request.user.role not in pool.DECIDER_ROLES:
        raise Http404
    form = AssignForm(request.POST, user=request.user)
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        messages.error(request, " ".join(errors))
        return redirect("development:pool")
    rm = form.cleaned_data["rm"]
    prospect = run_with_message(
        request,
        lambda: pool.assign(
            actor=request.user, prospect_id=prospect_pk, rm_id=rm.pk, version=form.cleaned_data["version"]
        ),
    )
    if prospect is not None:
        messages.success(
            request,
            _("%(name)s is given to %(rm)s; first contact is due by %(due)s.")
            % {"name": prospect.customer.name, "rm": rm.display_name, "due": prospect.contact_due},
        )
    return redirect("development:pool")


def _decide_claim(request: AuthedRequest, decide: Callable[[str], Claim], done: str) -> HttpResponse:
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    decided = run_with_message(request, lambda: decide(note))
    if decided is not None:
        messages.success(request, done % {"rm": decided.rm.display_name, "name": decided.prospect.customer.name})
    return redirect("development:pool")


@login_required
@require_POST
def claim_approve(request: AuthedRequest, claim_pk: int) -> HttpResponse:
    return _decide_claim(
        request,
        lambda note: pool.approve_claim(actor=request.user, claim_id=claim_pk, note=note),
        _("%(rm)s's claim on %(name)s is approved."),
    )


@login_required
@require_POST
def claim_reject(request: AuthedRequest, claim_pk: int) -> HttpResponse:
    return _decide_claim(
        request,
        lambda note: pool.reject_claim(actor=request.user, claim_id=claim_pk, note=note),
        _("%(rm)s's claim on %(name)s is rejected."),
    )


@login_required
@require_POST
def claim_withdraw(request: AuthedRequest, claim_pk: int) -> HttpResponse:
    withdrawn = run_with_message(request, lambda: pool.withdraw_claim(actor=request.user, claim_id=claim_pk))
    if withdrawn is not None:
        messages.success(
            request, _("Your claim on %(name)s is withdrawn.") % {"name": withdrawn.prospect.customer.name}
        )
    return redirect("development:pool")
