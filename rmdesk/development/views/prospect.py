"""One prospect: registering a newly found firm, its development file (a page, and a panel of the customer's 360
page) and the actions on it: moving it along the pipeline, releasing it to the pool, rating, applying the suggested
status, merging a duplicate file."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rmdesk.access.policy import Action, may
from rmdesk.customers.models import POOL_STATUSES, Customer
from rmdesk.development import pipeline, pool, prospects, scoring, suggestions
from rmdesk.development.board import contact_overdue
from rmdesk.development.choices import OPEN_STAGES, RatingOrigin, Stage
from rmdesk.development.forms import MergeForm, MoveStageForm, RateForm, ReasonForm, RegisterProspectForm, next_stages
from rmdesk.development.models import Prospect
from rmdesk.development.pipeline import days_in_stage
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import file_prospect, form_page, next_url, run_on_form, run_with_message
from rmdesk.org.models import User

MERGE_CANDIDATES = 5  # named when a typed name matches several files

# --- registering a prospect ----------------------------------------------------------------------------------------


def _referring_initial(user: User, raw: str | None) -> int | None:
    """The 360 page opens the form with its customer as the referring one (if the user sees it)."""
    if not raw or not raw.isdigit():
        return None
    visible = Customer.objects.restrict(user, Action.VIEW).filter(pk=int(raw), archived_at__isnull=True)
    return int(raw) if visible.exists() else None


@login_required
@require_http_methods(["GET", "POST"])
def register(request: AuthedRequest) -> HttpResponse:
    """Register a newly found firm; similar names already on file are shown and need a second, deliberate click."""
    user = request.user
    if not may(user, Action.CREATE):
        raise Http404
    initial = {"referring_customer": _referring_initial(user, request.GET.get("referring"))}
    form = RegisterProspectForm(request.POST or None, user=user, initial=initial)
    similar = None
    if request.method == "POST" and form.is_valid():
        prospect, similar = file_prospect(
            form,
            lambda: prospects.register_prospect(
                actor=user,
                customer_data=form.customer_data(),
                source=form.cleaned_data["source"],
                source_detail=form.cleaned_data["source_detail"],
                referring_customer=form.cleaned_data["referring_customer"],
                to_pool=form.cleaned_data["to_pool"],
                # The "register anyway" button, shown only once the similar names are on the page.
                allow_similar=request.POST.get("allow_similar") == "1",
            ),
        )
        if prospect is not None:
            name = prospect.customer.name
            if prospect.customer.primary_rm_id is None:
                messages.success(request, _("%(name)s is in the pool now.") % {"name": name})
                return redirect("development:pool")
            messages.success(request, _("%(name)s is registered as a prospect.") % {"name": name})
            return redirect("development:prospect", prospect.customer_id)
    context = {"form": form, "similar": similar, "cancel_url": reverse("development:board")}
    return render(request, "development/register.html", context)


# --- one prospect: its panel, and the actions on it ----------------------------------------------------------------


def _prospect(user: User, customer_pk: int) -> Prospect:
    """The development file of a customer the user may see; else 404."""
    prospect = (
        Prospect.objects.restrict(user, Action.VIEW)
        .select_related(
            "customer",
            "customer__primary_rm",
            "found_by",
            "referring_customer",
            "referring_relationship",
            "merged_into",
        )
        .filter(customer_id=customer_pk)
        .first()
    )
    if prospect is None:
        raise Http404
    return prospect


def _may_work(user: User, prospect: Prospect) -> bool:
    if prospect.customer.is_archived or prospect.merged_into_id is not None:
        return False
    return Prospect.objects.restrict(user, Action.CHANGE).filter(pk=prospect.pk).exists()


def _referral(user: User, prospect: Prospect) -> dict[str, Any]:
    """The referring customer (linked only if the user may open it) and the relationship that explains it."""
    referring = prospect.referring_customer
    if referring is None:
        return {}
    visible = Customer.objects.restrict(user, Action.VIEW).filter(pk=referring.pk).exists()
    link = prospect.referring_relationship
    explanation = ""
    if link is not None:
        explanation = suggestions.explain_link(
            kind=link.kind,
            direction=link.direction,
            customer_name=referring.name,
            amount=link.amount,
            share_pct=link.share_pct,
            controller_name=link.controller_name,
        )
    return {"customer": referring, "visible": visible, "explanation": explanation}


def _panel_context(
    request: AuthedRequest,
    prospect: Prospect,
    *,
    rate_form: RateForm | None = None,
    merge_form: MergeForm | None = None,
) -> dict[str, Any]:
    user = request.user
    customer = prospect.customer
    today = timezone.localdate()
    may_work = _may_work(user, prospect)
    held = customer.primary_rm_id is not None
    releasable = may_work and held and prospect.stage in OPEN_STAGES
    score = scoring.score_of(prospect)
    rater_ids = {line.rated_by_id for line in score.lines if line.rated_by_id}
    raters = {rater.pk: rater for rater in User.objects.filter(pk__in=rater_ids)}
    lines = []
    for line in score.lines:
        form = None
        if may_work and line.origin != RatingOrigin.DATA:
            if rate_form is not None and rate_form.data.get("characteristic") == str(line.characteristic):
                form = rate_form
            else:
                initial: dict[str, Any] = {"characteristic": line.characteristic, "rating": line.rating}
                if line.origin == RatingOrigin.RM:
                    initial["reason"] = line.reason
                form = RateForm(initial=initial, auto_id=f"id_rate{line.characteristic}_%s")
        lines.append({"line": line, "rated_by": raters.get(line.rated_by_id or 0), "form": form})
    return {
        "prospect": prospect,
        "customer": customer,
        "held": held,
        "may_work": may_work and held,
        "stages": next_stages(user, prospect) if may_work and held else [],
        "history": prospect.stage_changes.select_related("changed_by").order_by("changed_at", "pk"),
        "days_in_stage": days_in_stage(prospect, today),
        "overdue": contact_overdue(prospect, today),
        "referral": _referral(user, prospect),
        "score": score,
        "score_lines": lines,
        "apply_status": may_work and customer.status in POOL_STATUSES and score.suggested_status != customer.status,
        "merge_form": merge_form or (MergeForm() if may_work else None),
        "release_form": ReasonForm(auto_id="id_release_%s") if releasable else None,
        "next_url": _panel_next(request, customer.pk),
    }


def _panel_next(request: AuthedRequest, customer_pk: int) -> str:
    """The panel's forms come back to the page showing it: the 360 page it was loaded into, or the prospect page."""
    htmx = getattr(request, "htmx", None)
    current = htmx.current_url_abs_path if htmx else None
    if current and url_has_allowed_host_and_scheme(current, allowed_hosts={request.get_host()}):
        return current
    return reverse("development:prospect", args=[customer_pk])


def _prospect_page(request: AuthedRequest, prospect: Prospect, status: int = 200, **forms: Any) -> HttpResponse:
    return render(request, "development/prospect.html", _panel_context(request, prospect, **forms), status=status)


@login_required
@require_GET
def prospect_page(request: AuthedRequest, customer_pk: int) -> HttpResponse:
    """A prospect's development file: how it was found, its stage and history, its claim and its scorecard."""
    return _prospect_page(request, _prospect(request.user, customer_pk))


@login_required
@require_GET
def prospect_panel(request: AuthedRequest, customer_pk: int) -> HttpResponse:
    """The same file as a panel of the customer's 360 page (loaded by htmx); empty when it has no file."""
    user = request.user
    if not Customer.objects.restrict(user, Action.VIEW).filter(pk=customer_pk).exists():
        raise Http404
    prospect = Prospect.objects.restrict(user, Action.VIEW).filter(customer_id=customer_pk).exists()
    if not prospect:
        return render(request, "development/partials/no_panel.html", {"customer_pk": customer_pk})
    return render(request, "development/partials/panel.html", _panel_context(request, _prospect(user, customer_pk)))


@login_required
@require_http_methods(["GET", "POST"])
def prospect_move(request: AuthedRequest, customer_pk: int) -> HttpResponse:
    """Move a prospect to another stage; WON asks for the account or contract, DROPPED for the reason."""
    prospect = _prospect(request.user, customer_pk)
    fallback = reverse("development:prospect", args=[customer_pk])
    form = MoveStageForm(
        request.POST or None, initial={"version": prospect.version, "to_stage": request.GET.get("to", "")}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def call() -> None:
            pipeline.move_stage(
                actor=request.user,
                prospect_id=prospect.pk,
                version=data["version"] or prospect.version,
                to_stage=data["to_stage"],
                note=data["note"],
                won_evidence=data["won_evidence"],
                drop_reason=data["drop_reason"],
            )

        if run_on_form(form, call):
            stage = Stage(data["to_stage"])
            messages.success(
                request, _("%(name)s moved to %(stage)s.") % {"name": prospect.customer.name, "stage": stage.label}
            )
            return redirect(next_url(request, fallback))
        # Show the stage saved now; the user's entries stay, and the next save applies over it.
        prospect = _prospect(request.user, customer_pk)
        data = form.data.copy()  # type: ignore[attr-defined]
        data["version"] = str(prospect.version)
        form.data = data
    return form_page(
        request,
        {
            "form": form,
            "customer": prospect.customer,
            "title": _("Move %(name)s along the pipeline") % {"name": prospect.customer.name},
            "intro": _("Now at %(stage)s for %(days)s days.")
            % {"stage": prospect.get_stage_display(), "days": days_in_stage(prospect, timezone.localdate())},
            "submit_label": _("Move"),
            "cancel_url": next_url(request, fallback),
            "next_url": next_url(request, fallback),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def prospect_release(request: AuthedRequest, customer_pk: int) -> HttpResponse:
    """The primary RM (or their lead) gives the prospect back to the pool, saying why."""
    prospect = _prospect(request.user, customer_pk)
    fallback = reverse("development:prospect", args=[customer_pk])
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        if run_on_form(form, lambda: pool.release(actor=request.user, prospect_id=prospect.pk, reason=reason)):
            messages.success(request, _("%(name)s is back in the pool.") % {"name": prospect.customer.name})
            return redirect("development:board")
    return form_page(
        request,
        {
            "form": form,
            "customer": prospect.customer,
            "title": _("Put %(name)s back into the pool") % {"name": prospect.customer.name},
            "submit_label": _("Put back into the pool"),
            "cancel_url": next_url(request, fallback),
            "next_url": next_url(request, fallback),
        },
    )


@login_required
@require_POST
def prospect_rate(request: AuthedRequest, customer_pk: int) -> HttpResponse:
    """The RM rates one item of the scorecard with a reason; a rating out of range is named beside the field."""
    prospect = _prospect(request.user, customer_pk)
    form = RateForm(request.POST, auto_id=f"id_rate{request.POST.get('characteristic', '')}_%s")
    if form.is_valid():
        data = form.cleaned_data
        if run_on_form(
            form,
            lambda: scoring.rate_item(
                actor=request.user,
                prospect_id=prospect.pk,
                characteristic=data["characteristic"],
                rating=data["rating"],
                reason=data["reason"],
            ),
        ):
            messages.success(request, _("Rating saved."))
            return redirect(next_url(request, reverse("development:prospect", args=[customer_pk])))
    messages.error(request, _("The rating was not saved: see the item below."))
    return _prospect_page(request, _prospect(request.user, customer_pk), rate_form=form)


@login_required
@require_POST
def prospect_apply_status(request: AuthedRequest, customer_pk: int) -> HttpResponse:
    """Move the customer between prospect and target as its score suggests."""
    prospect = _prospect(request.user, customer_pk)
    customer = run_with_message(
        request, lambda: scoring.apply_suggested_status(actor=request.user, prospect_id=prospect.pk)
    )
    if customer is not None:
        messages.success(
            request,
            _("%(name)s is now %(status)s.") % {"name": customer.name, "status": customer.get_status_display()},
        )
    return redirect(next_url(request, reverse("development:prospect", args=[customer_pk])))


def _other_file(user: User, keep: Prospect, typed: str) -> Prospect:
    """The prospect file the user means by a credit code or a name, among those they may change."""
    candidates = (
        Prospect.objects.restrict(user, Action.CHANGE)
        .filter(merged_into__isnull=True, customer__archived_at__isnull=True)
        .exclude(pk=keep.pk)
        .select_related("customer")
    )
    typed = typed.strip()
    found = list(candidates.filter(customer__credit_code=typed.upper())[:1])
    if not found:
        found = list(
            candidates.filter(customer__name__icontains=typed).order_by("customer__name")[: MERGE_CANDIDATES + 1]
        )
    if not found:
        raise ValidationError({"other": _("No prospect file of yours has this credit code or name.")})
    exact = [p for p in found if p.customer.name == typed]
    if len(found) > 1 and len(exact) != 1:
        names = "、".join(f"{p.customer.name} ({p.customer.credit_code})" for p in found[:MERGE_CANDIDATES])
        raise ValidationError({"other": _("Several files match: %(names)s. Give the credit code.") % {"names": names}})
    return exact[0] if exact else found[0]


@login_required
@require_POST
def prospect_merge(request: AuthedRequest, customer_pk: int) -> HttpResponse:
    """Fold another file of the same firm into this one (the other file is archived, its history kept here)."""
    prospect = _prospect(request.user, customer_pk)
    form = MergeForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data

        def call() -> None:
            other = _other_file(request.user, prospect, data["other"])
            prospects.merge_prospects(actor=request.user, keep_id=prospect.pk, merge_id=other.pk, reason=data["reason"])

        if run_on_form(form, call, aliases={"merge_id": "other"}):
            messages.success(request, _("The files are merged into %(name)s.") % {"name": prospect.customer.name})
            return redirect(next_url(request, reverse("development:prospect", args=[customer_pk])))
    return _prospect_page(request, _prospect(request.user, customer_pk), merge_form=form)
