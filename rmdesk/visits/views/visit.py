"""The visits list, one visit's page and the actions on it (postpone, cancel, follow up), the customer 360 page's
visits panel and the home page's visits card.

Every visit is read through `restrict()` on its customer (`visits.queries`): out of scope is a 404 on the page, its
partials, its report and its calendar file alike. Writes go through `visits.services`; a successful POST redirects.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from rmdesk.access.policy import Action, scope_for
from rmdesk.core.htmx import render_page_or_partial
from rmdesk.customers.models import Customer
from rmdesk.customers.queries import ranked_ids
from rmdesk.development.forms import next_stages
from rmdesk.development.models import Prospect
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import run_on_form
from rmdesk.org.models import User
from rmdesk.visits import services
from rmdesk.visits.cadence import customer_cadence, start_of_day
from rmdesk.visits.choices import FollowUpKind, NeedTag, PrepItem, SelfCheck, VisitStatus
from rmdesk.visits.confidential import may_read_confidential
from rmdesk.visits.feeds import has_feed, involving
from rmdesk.visits.forms import (
    ETIQUETTE,
    SERVICE_ALIASES,
    TABOOS,
    FollowUpStageForm,
    FollowUpTaskForm,
    PostponeForm,
    ReasonForm,
    VisitListFilter,
    customer_rm_ids,
)
from rmdesk.visits.models import Visit
from rmdesk.visits.queries import visits_for
from rmdesk.visits.views.common import FEED_TOKEN_SESSION_KEY, may_work_on, visit_or_404

SECTION_ROWS = 10  # per section of the list; "show all" opens the section alone, paginated
PAGE_SIZE = 50
CUSTOMER_MATCHES = 200  # customers a list's customer search narrows to
PANEL_ROWS = 5


# --- the list ------------------------------------------------------------------------------------------------------


def _week_end(now: datetime) -> datetime:
    """Midnight at the start of next Monday, in the bank's time zone."""
    today = timezone.localdate(now)
    return start_of_day(today + timedelta(days=7 - today.weekday()))


def my_visits(user: User) -> QuerySet[Visit]:
    """An RM's visits: those they make or go on; a lead's, head's or read-only role's: every visit in their scope."""
    visits = visits_for(user)
    if scope_for(user, Action.VIEW).rm_id is not None:
        visits = involving(visits, user)
    return visits.filter(customer__archived_at__isnull=True)


def _sections(now: datetime) -> dict[str, tuple[str, tuple[str, ...], dict[str, Any]]]:
    """Each part of the list: its title, its order, its condition."""
    week_end = _week_end(now)
    planned = VisitStatus.PLANNED
    return {
        "to_record": (_("To record"), ("planned_start", "pk"), {"status": planned, "planned_end__lt": now}),
        "this_week": (
            _("This week"),
            ("planned_start", "pk"),
            {"status": planned, "planned_end__gte": now, "planned_start__lt": week_end},
        ),
        "later": (_("Later"), ("planned_start", "pk"), {"status": planned, "planned_start__gte": week_end}),
        "upcoming": (_("Upcoming"), ("planned_start", "pk"), {"status": planned, "planned_end__gte": now}),
        "postponed": (_("Postponed"), ("-updated_at", "-pk"), {"status": VisitStatus.POSTPONED}),
        "done": (_("Recently done"), ("-visited_on", "-actual_start", "-pk"), {"status": VisitStatus.DONE}),
        "cancelled": (_("Cancelled"), ("-planned_start", "-pk"), {"status": VisitStatus.CANCELLED}),
    }


# The filter's choices → the sections they show ("" shows every section but the cancelled).
FILTER_SECTIONS = {
    "": ("to_record", "this_week", "later", "postponed", "done"),
    "upcoming": ("upcoming",),
    "to_record": ("to_record",),
    "postponed": ("postponed",),
    "done": ("done",),
    "cancelled": ("cancelled",),
}


def _filtered(user: User, visits: QuerySet[Visit], form: VisitListFilter) -> QuerySet[Visit]:
    visits = form.apply(visits)
    q = form.cleaned_data.get("q")
    if q:
        # The quick search's matching (name, pinyin, initials, credit code) over the customers the user may see.
        customers = Customer.objects.restrict(user, Action.VIEW)
        visits = visits.filter(customer_id__in=ranked_ids(customers, q, limit=CUSTOMER_MATCHES))
    return visits


def _list_context(request: AuthedRequest) -> dict[str, Any]:
    user = request.user
    form = VisitListFilter(request.GET or None, user=user)
    visits = my_visits(user).select_related("customer", "rm")
    show = ""
    if form.is_bound:
        if form.is_valid():
            visits = _filtered(user, visits, form)
            show = form.cleaned_data.get("show") or ""
        else:
            visits = visits.none()
    now = timezone.now()
    sections = _sections(now)
    keys = FILTER_SECTIONS[show]
    shown = []
    page_obj = None
    for key in keys:
        title, order, condition = sections[key]
        rows = visits.filter(**condition).order_by(*order)
        if len(keys) == 1:
            page_obj = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
            shown.append({"key": key, "title": title, "visits": page_obj.object_list, "more": ""})
            continue
        first = list(rows[: SECTION_ROWS + 1])
        query = request.GET.copy()
        query["show"] = "upcoming" if key in ("this_week", "later") else key
        query.pop("page", None)
        more = "?" + query.urlencode() if len(first) > SECTION_ROWS else ""
        shown.append({"key": key, "title": title, "visits": first[:SECTION_ROWS], "more": more})
    return {
        "filter": form,
        "sections": shown,
        "page_obj": page_obj,
        "now": now,
        "may_plan": not scope_for(user, Action.CHANGE).nothing,
        "has_feed": has_feed(user),
        "new_feed_url": request.session.pop(FEED_TOKEN_SESSION_KEY, None),
        "sees_rms": scope_for(user, Action.VIEW).rm_id is None,
    }


@login_required
@require_GET
def visit_list(request: AuthedRequest) -> HttpResponse:
    """The user's visits by what they need: to record, this week, later, postponed, recently done (the rows alone for
    htmx when the filters change)."""
    if scope_for(request.user, Action.VIEW).nothing:
        raise Http404
    context = _list_context(request)
    return render_page_or_partial(request, "visits/list.html", "visits/partials/list_rows.html", context)


# --- one visit -------------------------------------------------------------------------------------------------------


def _prospect(visit: Visit) -> Prospect | None:
    return Prospect.objects.filter(customer_id=visit.customer_id, merged_into__isnull=True).first()


def _confidential_readers(visit: Visit) -> list[str]:
    """Who may read the confidential notes, named for those who may not: the visiting RM and the customer's RMs."""
    ids = {visit.rm_id, *customer_rm_ids(visit.customer)}
    return [user.display_name for user in User.objects.filter(pk__in=ids).order_by("full_name", "username")]


def _labels(values: list[str], choices: Any) -> list[dict[str, str]]:
    names = dict(choices)
    return [{"value": value, "label": str(names.get(value, value))} for value in values]


def _self_check(visit: Visit) -> list[dict[str, Any]]:
    done = set(visit.self_check)
    names = dict(SelfCheck.choices)
    groups = [(_("Taboos avoided (§4.6)"), TABOOS), (_("Etiquette kept (§2)"), ETIQUETTE)]
    return [
        {"title": title, "items": [{"label": names[check], "done": check in done} for check in checks]}
        for title, checks in groups
    ]


def detail_context(
    request: AuthedRequest, visit: Visit, *, open_form: str = "", with_forms: bool = True, **forms: Any
) -> dict[str, Any]:
    """What the visit page (and, without the action forms, its report) shows."""
    user = request.user
    may_work = may_work_on(user, visit)
    is_attending = visit.rm_id == user.pk or visit.bank_attendee_links.filter(user=user).exists()
    prospect = _prospect(visit) if may_work and visit.is_done else None
    stages = next_stages(user, prospect) if prospect is not None else []
    need = request.GET.get("need", "")
    task_initial = {}
    if need in NeedTag.values:
        task_initial["description"] = _("Follow up the need: %(need)s") % {"need": NeedTag(need).label}
        open_form = open_form or "follow_up_task"
    context: dict[str, Any] = {
        "visit": visit,
        "customer": visit.customer,
        "bank_attendees": visit.bank_attendees.order_by("full_name", "username"),
        "customer_attendees": visit.customer_attendees.order_by("role", "pk"),
        "other_banks": visit.other_banks.all(),
        "proposals": visit.proposals.all(),
        "products": visit.products_presented.all(),
        "follow_ups": visit.follow_ups.select_related("task", "task__owner", "stage_change", "created_by"),
        "need_tags": _labels(visit.need_tags, NeedTag.choices),
        "self_check": _self_check(visit),
        "preparation": [{"label": label, "done": value in visit.preparation} for value, label in PrepItem.choices],
        "may_work": may_work,
        "may_read_confidential": may_read_confidential(user, visit),
        "confidential_readers": _confidential_readers(visit) if visit.confidential_notes else [],
        "may_check_in": visit.status == VisitStatus.PLANNED and is_attending,
        "now": timezone.now(),
        "open_form": open_form,
        "prospect": prospect,
    }
    if may_work and with_forms:
        if visit.status == VisitStatus.PLANNED:
            context["postpone_form"] = forms.get("postpone_form") or PostponeForm(auto_id="postpone_%s")
        if visit.is_open:
            context["cancel_form"] = forms.get("cancel_form") or ReasonForm(auto_id="cancel_%s")
        if visit.is_done:
            context["task_form"] = forms.get("task_form") or FollowUpTaskForm(
                visit=visit, initial=task_initial, auto_id="task_%s"
            )
            if stages:
                context["stage_form"] = forms.get("stage_form") or FollowUpStageForm(stages=stages, auto_id="stage_%s")
    return context


@login_required
@require_GET
def detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """Everything about one visit: the plan, the record (confidential notes to those allowed), what came of it, and
    the actions that fit its state."""
    visit = visit_or_404(request.user, pk)
    return render(request, "visits/detail.html", detail_context(request, visit))


def _refused(request: AuthedRequest, visit: Visit, open_form: str, **forms: Any) -> HttpResponse:
    """The visit's page again, with the refused form open and its errors beside the fields."""
    context = detail_context(request, visit_or_404(request.user, visit.pk), open_form=open_form, **forms)
    return render(request, "visits/detail.html", context)


@login_required
@require_POST
def postpone(request: AuthedRequest, pk: int) -> HttpResponse:
    """Postpone a planned visit, with the reason, to a new time or until one is agreed."""
    visit = visit_or_404(request.user, pk, Action.CHANGE)
    form = PostponeForm(request.POST, auto_id="postpone_%s")
    if form.is_valid():
        start, end = form.moments()
        call = lambda: services.postpone_visit(  # noqa: E731
            actor=request.user, visit_id=visit.pk, reason=form.cleaned_data["reason"], new_start=start, new_end=end
        )
        if run_on_form(form, call, aliases=SERVICE_ALIASES):
            if start is None:
                messages.success(request, _("The visit is postponed until a new time is agreed."))
            else:
                messages.success(request, _("The visit is moved to the new time."))
            return redirect("visits:detail", visit.pk)
    return _refused(request, visit, "postpone", postpone_form=form)


@login_required
@require_POST
def cancel(request: AuthedRequest, pk: int) -> HttpResponse:
    """Cancel a visit still to happen, saying why; its task goes with it."""
    visit = visit_or_404(request.user, pk, Action.CHANGE)
    form = ReasonForm(request.POST, auto_id="cancel_%s")
    if form.is_valid():
        reason = form.cleaned_data["reason"]
        if run_on_form(form, lambda: services.cancel_visit(actor=request.user, visit_id=visit.pk, reason=reason)):
            messages.success(request, _("The visit is cancelled."))
            return redirect("visits:detail", visit.pk)
    return _refused(request, visit, "cancel", cancel_form=form)


@login_required
@require_POST
def follow_up(request: AuthedRequest, pk: int) -> HttpResponse:
    """A next step of a recorded visit: a task with an owner and a due date, or the prospect moved along its
    pipeline."""
    user = request.user
    visit = visit_or_404(user, pk, Action.CHANGE)
    if request.POST.get("kind") == FollowUpKind.STAGE:
        prospect = _prospect(visit)
        stage_form = FollowUpStageForm(
            request.POST, stages=next_stages(user, prospect) if prospect else [], auto_id="stage_%s"
        )
        if stage_form.is_valid():
            data = stage_form.cleaned_data
            call = lambda: services.add_follow_up_stage(  # noqa: E731
                actor=user,
                visit_id=visit.pk,
                to_stage=data["to_stage"],
                description=data["description"],
                won_evidence=data["won_evidence"],
                drop_reason=data["drop_reason"],
            )
            if run_on_form(stage_form, call, aliases=SERVICE_ALIASES):
                messages.success(request, _("The prospect is moved on."))
                return redirect("visits:detail", visit.pk)
        return _refused(request, visit, "follow_up_stage", stage_form=stage_form)
    task_form = FollowUpTaskForm(request.POST, visit=visit, auto_id="task_%s")
    if task_form.is_valid():
        data = task_form.cleaned_data
        call = lambda: services.add_follow_up_task(  # noqa: E731
            actor=user,
            visit_id=visit.pk,
            description=data["description"],
            owner_id=data["owner"],
            due_date=data["due_date"],
        )
        if run_on_form(task_form, call, aliases=SERVICE_ALIASES):
            messages.success(request, _("The next step is on its owner's task list."))
            return redirect("visits:detail", visit.pk)
    return _refused(request, visit, "follow_up_task", task_form=task_form)


# --- the customer's panel and the home page's card ------------------------------------------------------------------


@login_required
@require_GET
def panel(request: AuthedRequest, customer_pk: int) -> HttpResponse:
    """The customer 360 page's visits panel: its cadence (last visit, next due), upcoming and recent visits, its
    occasions (from views/events.py), and the buttons to plan a visit or log an occasion."""
    user = request.user
    customer = Customer.objects.restrict(user, Action.VIEW).filter(pk=customer_pk).first()
    if customer is None:
        raise Http404
    # An archived customer's visits are no longer opened (visits.queries.visit_for): none are listed to click on.
    visits = visits_for(user).filter(customer=customer, customer__archived_at__isnull=True).select_related("rm")
    may_plan = (
        not customer.is_archived and Customer.objects.restrict(user, Action.CHANGE).filter(pk=customer.pk).exists()
    )
    context = {
        "customer": customer,
        "cadence": customer_cadence(customer),
        "upcoming": visits.filter(status__in=(VisitStatus.PLANNED, VisitStatus.POSTPONED)).order_by(
            "planned_start", "pk"
        )[:PANEL_ROWS],
        "recent": visits.filter(status=VisitStatus.DONE).order_by("-visited_on", "-pk")[:PANEL_ROWS],
        "may_plan": may_plan,
        "today": timezone.localdate(),
        "plan_url": reverse("visits:plan") + "?" + urlencode({"customer": customer.pk}),
    }
    return render(request, "visits/partials/panel.html", context)


@login_required
@require_GET
def home_card(request: AuthedRequest) -> HttpResponse:
    """The home page's card: the user's visits to record and this week's (their own, as RM or attendee)."""
    user = request.user
    now = timezone.now()
    visits = involving(visits_for(user), user).filter(customer__archived_at__isnull=True, status=VisitStatus.PLANNED)
    visits = visits.select_related("customer")
    context = {
        "to_record": list(visits.filter(planned_end__lt=now).order_by("planned_start", "pk")[:PANEL_ROWS]),
        "this_week": list(
            visits.filter(planned_end__gte=now, planned_start__lt=_week_end(now)).order_by("planned_start", "pk")[
                :PANEL_ROWS
            ]
        ),
        "now": now,
    }
    return render(request, "visits/partials/home_card.html", context)
