"""The workbench's own pages: log-in and the home page that lists what needs the user today."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import LoginView
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django_htmx.middleware import HtmxDetails

from rmdesk.access.policy import Action
from rmdesk.customers.choices import LifecycleStatus
from rmdesk.customers.models import Customer
from rmdesk.demo.builder import DEMO_PASSWORD, DEMO_USERS
from rmdesk.org.choices import Role
from rmdesk.org.models import User
from rmdesk.tasks.choices import TaskStatus
from rmdesk.tasks.services import tasks_for, unread_notices

# Roles that keep a book of customers and want its shape on their home page.
BOOK_ROLES = (Role.RM, Role.TEAM_LEAD, Role.BRANCH_HEAD)
RECENT_CUSTOMERS = 10
TASKS_PER_GROUP = 50
NOTICES_SHOWN = 10


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


class WorkbenchLoginView(LoginView):
    """Django's log-in (django-axes counts its failures), plus the demo accounts in demo mode."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # The published password and accounts of the demo bank: never shown outside demo mode.
        if settings.DEMO_MODE:
            context["demo_users"] = [
                {"username": login.username, "description": f"{login.full_name} · {login.role} · {login.unit}"}
                for login in DEMO_USERS
            ]
            context["demo_password"] = DEMO_PASSWORD
        return context


@login_required
def home(request: AuthedRequest) -> HttpResponse:
    """The user's day: overdue and today's tasks, then the rest of the week, then recently touched customers."""
    user = request.user
    if user.role == Role.ADMINISTRATOR:
        # Administrators see no customer data, so their home only points to the admin site.
        return render(request, "web/home_admin.html", {})
    today = timezone.localdate()
    week_end = today + timedelta(days=6 - today.weekday())
    open_tasks = (
        tasks_for(user)
        .filter(owner=user, status=TaskStatus.OPEN)
        .select_related("customer")
        .order_by("due_date", "priority", "pk")
    )
    visible = Customer.objects.restrict(user, Action.VIEW).filter(archived_at__isnull=True)
    context = {
        "today": today,
        "overdue": open_tasks.filter(due_date__lt=today)[:TASKS_PER_GROUP],
        "due_today": open_tasks.filter(due_date=today)[:TASKS_PER_GROUP],
        "this_week": open_tasks.filter(due_date__gt=today, due_date__lte=week_end)[:TASKS_PER_GROUP],
        "recent_customers": visible.select_related("primary_rm").order_by("-updated_at", "-pk")[:RECENT_CUSTOMERS],
        "status_counts": _status_counts(visible) if user.role in BOOK_ROLES else [],
        "notices": unread_notices(user)[:NOTICES_SHOWN],
        "next_url": request.get_full_path(),
    }
    return render(request, "web/home.html", context)


def _status_counts(visible: Any) -> list[dict[str, Any]]:
    """Customers in the user's book by lifecycle status, every status listed even when it has none."""
    counts = dict(visible.order_by().values_list("status").annotate(n=Count("pk")))
    return [{"value": value, "label": label, "count": counts.get(value, 0)} for value, label in LifecycleStatus.choices]
