"""The collection calendar 收息收贷日历: what falls due this week and this month on the user's loans, what is overdue,
as lists and as a month grid. An RM sees their own book; a lead or head their scope, narrowed by unit or RM; a
bank-wide role (risk officer, auditor) picks a unit first."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from rmdesk.access.policy import Action, may
from rmdesk.development.views import AuthedRequest
from rmdesk.postloan.filters import CalendarFilter
from rmdesk.postloan.queries import collection_calendar


@login_required
@require_GET
def calendar_page(request: AuthedRequest) -> HttpResponse:
    """This week's and this month's dues, overdue first, and the month grid."""
    user = request.user
    if not may(user, Action.VIEW):
        raise Http404
    calendar_filter = CalendarFilter(request.GET, user=user)
    valid = calendar_filter.is_valid()
    scope = calendar_filter.scope_kwargs() if valid else {}
    # A bank's whole book is no one's calendar: a bank-wide role looks at one unit's.
    choose_unit = valid and calendar_filter.bank_wide and scope.get("unit") is None
    calendar = None
    if valid and not choose_unit:
        calendar = collection_calendar(user, month=calendar_filter.cleaned_data.get("month"), **scope)
    context = {
        "calendar": calendar,
        "filter": calendar_filter,
        "choose_unit": choose_unit,
        "own_book": calendar_filter.own_book,
    }
    return render(request, "postloan/calendar.html", context)
