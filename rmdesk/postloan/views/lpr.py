"""The LPR table 贷款市场报价利率: the rate of each tenor in force today and every publication since the 2019
reform, for anyone who reads loans (it is no secret); head office adds a new publication here through `publish_lpr`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from rmdesk.access.policy import Action, may
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import run_on_form
from rmdesk.loans.choices import LprTenor
from rmdesk.loans.models import LprRate
from rmdesk.loans.rates import BASIS_POINTS_PER_PERCENT, published_lpr
from rmdesk.loans.services.lpr import LprHeadOfficeOnly, may_publish_lpr, publish_lpr
from rmdesk.postloan.forms import LprPublishForm

TENORS = (LprTenor.ONE_YEAR, LprTenor.FIVE_YEAR)
HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class InForce:
    """The LPR of one tenor in force on a day: the latest published on or before it (none before the reform)."""

    tenor: str
    label: str
    rate_pct: Decimal | None
    published_on: date | None


@dataclass(frozen=True)
class Publication:
    """One tenor's rate in a row of the history, with its change since that tenor's previous publication."""

    rate_pct: Decimal
    change_bp: Decimal | None  # None for the first publication of the tenor

    @property
    def change(self) -> str:
        return basis_points(self.change_bp)

    @property
    def moved(self) -> str:
        """Which way the rate moved, up or down (empty when unchanged, or the first): the page colours it."""
        if not self.change_bp:
            return ""
        return "up" if self.change_bp > 0 else "down"


@dataclass(frozen=True)
class HistoryRow:
    """The publications of one day (one tenor may not have been published that day)."""

    published_on: date
    one_year: Publication | None
    five_year: Publication | None

    @property
    def cells(self) -> tuple[Publication | None, Publication | None]:
        """The two tenors in the order of the table's columns."""
        return self.one_year, self.five_year


def basis_points(change: Decimal | None) -> str:
    """A change in basis points with its sign, as the market quotes it: +5, -10, 0 (a rate with more than two
    decimals may move by a fraction: -2.5); a dash for a tenor's first publication."""
    if change is None:
        return "—"
    if change == 0:
        return "0"
    if change == change.to_integral_value():
        return f"{int(change):+d}"
    return f"{change.normalize():+f}"


def rate(rate_pct: Decimal) -> str:
    """As the page shows a rate: two decimals and a per cent sign, 3.00% (the `pct` filter's reading)."""
    return f"{rate_pct.quantize(HUNDREDTH, rounding=ROUND_HALF_UP)}%"


def lpr_history(rates: list[LprRate]) -> list[HistoryRow]:
    """The table as rows by publication day, newest first; each rate with its change in basis points since the
    previous publication of its tenor (`rates` in any order)."""
    by_day: dict[date, dict[str, Publication]] = {}
    for tenor in TENORS:
        previous: Decimal | None = None
        for lpr in sorted((r for r in rates if r.tenor == tenor), key=lambda r: r.published_on):
            change = None if previous is None else (lpr.rate_pct - previous) * BASIS_POINTS_PER_PERCENT
            by_day.setdefault(lpr.published_on, {})[tenor] = Publication(lpr.rate_pct, change)
            previous = lpr.rate_pct
    return [
        HistoryRow(day, by_day[day].get(LprTenor.ONE_YEAR), by_day[day].get(LprTenor.FIVE_YEAR))
        for day in sorted(by_day, reverse=True)
    ]


def lpr_in_force(rates: list[LprRate], day: date) -> list[InForce]:
    """Each tenor's LPR in force on `day`, as `loans.rates.lpr_on` reads it, with the day it was published."""
    in_force = []
    for tenor in TENORS:
        latest = max(
            (r for r in rates if r.tenor == tenor and r.published_on <= day), key=lambda r: r.published_on, default=None
        )
        in_force.append(
            InForce(
                tenor=tenor,
                label=str(LprTenor(tenor).label),
                rate_pct=latest.rate_pct if latest else None,
                published_on=latest.published_on if latest else None,
            )
        )
    return in_force


@login_required
@require_http_methods(["GET", "POST"])
def lpr_page(request: AuthedRequest) -> HttpResponse:
    """The LPR in force and its history; head office publishes a new LPR here (others get no form, and 403 on POST:
    the table is reference data, not a customer's, so the refusal is said, not hidden behind a 404)."""
    user = request.user
    may_publish = may_publish_lpr(user)
    if not (may(user, Action.VIEW) or may_publish):
        raise Http404
    if request.method == "POST" and not may_publish:
        messages.error(request, str(LprHeadOfficeOnly().message))
        return _render(request, None, status=403)
    form = LprPublishForm(request.POST if request.method == "POST" else None) if may_publish else None
    if request.method == "POST" and form is not None and form.is_valid():
        data = form.cleaned_data
        published: list[LprRate] = []
        if run_on_form(
            form,
            lambda: published.append(
                publish_lpr(
                    actor=user, tenor=data["tenor"], published_on=data["published_on"], rate_pct=data["rate_pct"]
                )
            ),
        ):
            lpr = published[0]
            messages.success(
                request,
                _(
                    "The %(tenor)s of %(date)s (%(rate)s) is published; floating loans take it on their next "
                    "repricing date."
                )
                % {
                    "tenor": LprTenor(lpr.tenor).label,
                    "date": lpr.published_on.isoformat(),
                    "rate": rate(lpr.rate_pct),
                },
            )
            return redirect("postloan:lpr")
    return _render(request, form)


def _render(request: AuthedRequest, form: LprPublishForm | None, status: int = 200) -> HttpResponse:
    rates = published_lpr()
    today = timezone.localdate()
    context = {
        "today": today,
        "in_force": lpr_in_force(rates, today),
        "history": lpr_history(rates),
        "form": form,
    }
    return render(request, "postloan/lpr.html", context, status=status)
