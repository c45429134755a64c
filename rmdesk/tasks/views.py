"""Task pages: the user's list (also embedded in a customer's page), marking done, and a new task on a customer."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from rmdesk.access.policy import Action
from rmdesk.core.errors import NotFoundError
from rmdesk.core.htmx import render_page_or_partial
from rmdesk.customers.forms import add_service_errors
from rmdesk.customers.models import Customer
from rmdesk.org.models import User
from rmdesk.tasks import services
from rmdesk.tasks.choices import TaskStatus
from rmdesk.tasks.forms import TaskForm
from rmdesk.tasks.models import Task

PAGE_SIZE = 50
STATUS_FILTERS = [
    (TaskStatus.OPEN.value, TaskStatus.OPEN.label),
    (TaskStatus.DONE.value, TaskStatus.DONE.label),
    ("all", gettext_lazy("All")),
]


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


def _visible_customer(user: User, raw: str | None) -> Customer | None:
    """The customer named in the request, if the user may see it; anything else is a 404."""
    if not raw:
        return None
    try:
        pk = int(raw)
    except ValueError:
        raise Http404 from None
    customer = Customer.objects.restrict(user, Action.VIEW).filter(pk=pk).first()
    if customer is None:
        raise Http404
    return customer


def _may_add_task(user: User, customer: Customer | None) -> bool:
    if customer is None or customer.is_archived:
        return False
    return Customer.objects.restrict(user, Action.CHANGE).filter(pk=customer.pk).exists()


def _list_context(request: AuthedRequest, customer: Customer | None, task_form: TaskForm | None) -> dict[str, Any]:
    status = request.GET.get("status") or TaskStatus.OPEN
    if status not in dict(STATUS_FILTERS):
        status = TaskStatus.OPEN
    tasks = services.tasks_for(request.user).select_related("customer", "owner")
    if customer is not None:
        tasks = tasks.filter(customer=customer)
    if status == "all":
        tasks = tasks.order_by("-due_date", "pk")
    else:
        tasks = tasks.filter(status=status)
        # Open work reads soonest first; finished work most recent first.
        tasks = (
            tasks.order_by("due_date", "priority", "pk")
            if status == TaskStatus.OPEN
            else tasks.order_by("-completed_at", "-pk")
        )
    if task_form is None and _may_add_task(request.user, customer):
        task_form = TaskForm(initial={"due_date": timezone.localdate()})
    query: dict[str, str] = {"customer": str(customer.pk)} if customer is not None else {}
    return {
        "customer": customer,
        "status": status,
        "status_choices": STATUS_FILTERS,
        "page_obj": Paginator(tasks, PAGE_SIZE).get_page(request.GET.get("page")),
        "base_query": urlencode({**query, "status": status}) + "&",
        "task_form": task_form,
        "today": timezone.localdate(),
        "next_url": request.get_full_path() if not request.htmx else reverse("tasks:list"),
    }


def _page_or_partial(request: AuthedRequest, context: dict[str, Any]) -> HttpResponse:
    return render_page_or_partial(request, "tasks/list.html", "tasks/partials/task_list.html", context)


@login_required
@require_GET
def task_list(request: AuthedRequest) -> HttpResponse:
    """The tasks the user may see, optionally of one customer in their scope, open ones by default."""
    customer = _visible_customer(request.user, request.GET.get("customer"))
    return _page_or_partial(request, _list_context(request, customer, None))


@login_required
@require_http_methods(["GET", "POST"])
def task_create(request: AuthedRequest) -> HttpResponse:
    """Put a task on the user's own list for a customer they may work on."""
    raw = request.POST.get("customer") if request.method == "POST" else request.GET.get("customer")
    customer = _visible_customer(request.user, raw)
    if not _may_add_task(request.user, customer):
        raise Http404
    assert customer is not None  # _may_add_task is False without a customer
    form = TaskForm(request.POST or None, initial={"due_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            services.create_task(actor=request.user, owner=request.user, customer=customer, **form.cleaned_data)
        except NotFoundError:
            raise Http404 from None
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Task added."))
            if request.htmx:
                # The redirected GET still carries HX-Request, so it answers with the refreshed panel.
                return redirect(f"{reverse('tasks:list')}?{urlencode({'customer': customer.pk})}")
            return redirect("customers:tasks", customer.pk)
    if request.htmx:
        return _page_or_partial(request, _list_context(request, customer, form))
    return render(request, "tasks/task_form.html", {"customer": customer, "task_form": form})


@login_required
@require_POST
def task_complete(request: AuthedRequest, pk: int) -> HttpResponse:
    """Mark one of the user's own open tasks done."""
    try:
        services.complete_task(actor=request.user, task_id=pk)
    except NotFoundError:
        raise Http404 from None
    except ValidationError as error:
        if not request.htmx:
            messages.error(request, " ".join(error.messages))
    else:
        if not request.htmx:
            messages.success(request, _("Task marked done."))
    if request.htmx:
        task = Task.objects.select_related("customer", "owner").get(pk=pk)
        context = {"task": task, "today": timezone.localdate(), "next_url": reverse("tasks:list")}
        return render(request, "tasks/partials/task_row.html", context)
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(next_url)
    return redirect("tasks:list")


@login_required
@require_POST
def notices_read(request: AuthedRequest) -> HttpResponse:
    """Mark the user's notices read: one (`notice`), or all of them; the home page's card then empties."""
    raw = request.POST.get("notice", "")
    ids = [int(raw)] if raw.isdigit() else None
    services.mark_notices_read(actor=request.user, notice_ids=ids)
    if request.htmx:
        return HttpResponse("")
    return redirect("home")
