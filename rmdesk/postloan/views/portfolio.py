"""Portfolio quality for a team lead and a branch head (a risk officer or auditor picks a unit): loans, outstanding,
overdue and NPL ratios, the five categories, the migration between the last two month ends, twelve month ends of
trend, per team and per RM, with charts (portfolio.js draws them from a json_script element: the CSP allows no
inline script)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from rmdesk.access.policy import Action, may
from rmdesk.development.views import AuthedRequest
from rmdesk.loans.choices import Classification
from rmdesk.postloan.filters import PortfolioFilter
from rmdesk.postloan.queries import PortfolioQuality, portfolio_quality

CHART_RMS = 15  # RMs drawn on the per-RM chart; the table lists them all


@login_required
@require_GET
def portfolio_page(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if not may(user, Action.VIEW):
        raise Http404
    portfolio_filter = PortfolioFilter(request.GET, user=user)
    valid = portfolio_filter.is_valid()
    unit = portfolio_filter.cleaned_data.get("unit") if valid else None
    choose_unit = valid and portfolio_filter.bank_wide and unit is None
    quality = None
    if valid and not choose_unit:
        quality = portfolio_quality(user, unit=unit, month=portfolio_filter.cleaned_data.get("month"))
    context = {
        "filter": portfolio_filter,
        "choose_unit": choose_unit,
        "quality": quality,
        "chart": chart_data(quality) if quality is not None and quality.total.loans else None,
        "categories": list(Classification),
        "own_book": portfolio_filter.own_book,
    }
    return render(request, "postloan/portfolio.html", context)


def chart_data(quality: PortfolioQuality) -> dict[str, Any]:
    """What portfolio.js draws; amounts and ratios as exact strings, drawn as given."""
    trend = quality.trend
    shown = quality.rms[:CHART_RMS]
    return {
        "months": [point.month.strftime("%Y-%m") for point in trend],
        "npl_ratio": [_text(point.npl_ratio) for point in trend],
        "overdue_ratio": [_text(point.overdue_principal_ratio) for point in trend],
        "by_class": [
            {"name": str(category.label), "data": [_text(point.by_class.get(category.value)) for point in trend]}
            for category in Classification
        ],
        "classes": [
            {"name": str(category.label), "value": _text(amount)}
            for category, _loans, amount, _share in quality.classes
            if amount
        ],
        "rms": [row.name for row in shown],
        "rm_npl": [_text(row.npl_ratio) for row in shown],
        "rm_overdue": [_text(row.overdue_ratio) for row in shown],
        "labels": {
            "npl_ratio": _("NPL ratio (%)"),
            "overdue_ratio": _("Overdue principal ratio (%)"),
            "rm_overdue": _("Overdue ratio (%)"),
        },
    }


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
