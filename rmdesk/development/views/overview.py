"""Customer development pages (read): the pipeline as a board and a list, the funnel, and the market view.

Every page starts from `development_files(user)` / `restrict()`: a user sees the prospects of their own book (an
RM), their team or branch (a lead or head), or the whole bank (read-only roles); a role with no customer access
gets a 404, as does anything outside scope.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rmdesk.core.errors import NotFoundError
from rmdesk.core.htmx import render_page_or_partial
from rmdesk.development.board import card
from rmdesk.development.choices import OPEN_STAGES
from rmdesk.development.filters import SORTS, MarketFilter, PeriodFilter, PipelineFilter, in_stages
from rmdesk.development.funnel import Funnel, development_files, funnel_for, sees_rms
from rmdesk.development.market import STATUSES, Market, market_for
from rmdesk.development.models import Prospect
from rmdesk.development.views import AuthedRequest
from rmdesk.org.models import User

PAGE_SIZE = 50
BOARD_CARDS = 30  # per column; the list has them all


def _files(user: User) -> QuerySet[Prospect]:
    """The prospects in scope whose customer file is not archived; 404 for a role without access."""
    try:
        return development_files(user).filter(customer__archived_at__isnull=True)
    except NotFoundError:
        raise Http404 from None


def _with_customer(prospects: QuerySet[Prospect]) -> QuerySet[Prospect]:
    return prospects.select_related("customer", "customer__primary_rm")


# --- the pipeline: board and list ------------------------------------------------------------------------------


@login_required
@require_GET
def pipeline_board(request: AuthedRequest) -> HttpResponse:
    """The open prospects in scope, one column per open stage, first contact due soonest first."""
    prospects = _files(request.user)
    pipeline_filter = PipelineFilter(request.GET, user=request.user)
    prospects = pipeline_filter.apply(prospects, board=True) if pipeline_filter.is_valid() else prospects.none()
    counts = dict(prospects.values_list("stage").annotate(n=Count("pk")).order_by())
    today = timezone.localdate()
    columns = []
    for stage in OPEN_STAGES:
        in_stage = _with_customer(in_stages(prospects, (stage,))).order_by(*SORTS["due"], "pk")[:BOARD_CARDS]
        columns.append({"stage": stage, "count": counts.get(stage, 0), "cards": [card(p, today) for p in in_stage]})
    context = {
        "view": "board",
        "pipeline_filter": pipeline_filter,
        "columns": columns,
        "total": sum(counts.values()),
        "board_cards": BOARD_CARDS,
        "sees_rms": sees_rms(request.user),
    }
    return render_page_or_partial(request, "development/pipeline.html", "development/partials/board.html", context)


@login_required
@require_GET
def pipeline_list(request: AuthedRequest) -> HttpResponse:
    """The prospects in scope as a sortable, filterable, paginated table (the rows alone for htmx)."""
    prospects = _files(request.user)
    pipeline_filter = PipelineFilter(request.GET, user=request.user)
    prospects = pipeline_filter.apply(prospects) if pipeline_filter.is_valid() else prospects.none()
    page_obj = Paginator(_with_customer(prospects), PAGE_SIZE).get_page(request.GET.get("page"))
    today = timezone.localdate()
    context = {
        "view": "list",
        "pipeline_filter": pipeline_filter,
        "page_obj": page_obj,
        "cards": [card(p, today) for p in page_obj.object_list],
        "sees_rms": sees_rms(request.user),
    }
    return render_page_or_partial(request, "development/pipeline.html", "development/partials/list_rows.html", context)


# --- the funnel --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def funnel_page(request: AuthedRequest) -> HttpResponse:
    """Reached, converted and dropped per stage, per source and per RM, and the time to convert."""
    _files(request.user)  # the 404 for a role without access, before anything is counted
    period_filter = PeriodFilter(request.GET, user=request.user)
    funnel = None
    if period_filter.is_valid():
        funnel = funnel_for(request.user, period=period_filter.period, rm=period_filter.chosen_rm)
    context = {
        "period_filter": period_filter,
        "funnel": funnel,
        "chart": _funnel_chart(funnel) if funnel and funnel.found else None,
    }
    return render(request, "development/funnel.html", context)


def _funnel_chart(funnel: Funnel) -> dict[str, Any]:
    """What the funnel page's charts draw; counts as numbers, rates as strings (exact, drawn as given)."""
    sources = [row for row in funnel.by_source if row.found]
    return {
        "stages": [{"name": str(step.stage.label), "value": step.reached} for step in funnel.stages],
        "sources": {
            "labels": [f"{row.key}. {row.label}" for row in sources],
            "found": [row.found for row in sources],
            "won": [row.won for row in sources],
        },
        "labels": {"found": _("Found"), "won": _("Won"), "funnel": _("Prospects that reached the stage")},
    }


# --- the market --------------------------------------------------------------------------------------------------


@login_required
@require_GET
def market_page(request: AuthedRequest) -> HttpResponse:
    """Prospects and customers in scope by industry section and region, by lifecycle status."""
    _files(request.user)
    market_filter = MarketFilter(request.GET, user=request.user)
    market = None
    if market_filter.is_valid():
        market = market_for(
            request.user, period=market_filter.period, province=market_filter.cleaned_data.get("province") or ""
        )
    context = {
        "market_filter": market_filter,
        "market": market,
        "statuses": STATUSES,
        "chart": _market_chart(market) if market and any(market.totals.values()) else None,
    }
    return render(request, "development/market.html", context)


def _market_chart(market: Market) -> dict[str, Any]:
    def stacked(rows: list[Any]) -> dict[str, Any]:
        rows = [row for row in rows if row.total]
        return {
            "labels": [row.label for row in rows],
            "series": [
                {"name": str(status.label), "data": [row.by_status[status] for row in rows]} for status in STATUSES
            ],
        }

    return {"sections": stacked(market.by_section), "provinces": stacked(market.by_province)}
