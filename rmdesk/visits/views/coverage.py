"""The team lead's visit coverage page and the bank's visit cadence (read by everyone with customer access, changed
by head office)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from rmdesk.access.policy import Action, may, scope_for
from rmdesk.customers.choices import Tier
from rmdesk.development.scoring import may_edit_scorecard
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import run_on_form
from rmdesk.org.models import OrgUnit
from rmdesk.visits.cadence import DEFAULT_INTERVALS, INTERVAL_MAX, INTERVAL_MIN, cadence_intervals, update_cadence
from rmdesk.visits.coverage import Coverage, coverage_units, team_coverage
from rmdesk.visits.models import CadenceRule

# RMs drawn on the charts; the table lists them all.
CHART_RMS = 10


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        # Indented by depth, so a branch's sub-branches and teams read as a tree.
        return "\u3000" * (obj.path.count("/") - 2) + obj.name


class CoverageFilter(forms.Form):
    """Narrow the view to one unit's customers (a branch head to a team, a read-only role to a branch)."""

    unit = UnitChoiceField(label=gettext_lazy("Unit"), queryset=OrgUnit.objects.none(), required=False)

    def __init__(self, *args: Any, units: QuerySet[OrgUnit], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = units


@login_required
@require_GET
def coverage_page(request: AuthedRequest) -> HttpResponse:
    """Each RM's coverage (customers visited within cadence), lapsed customers, overdue plans and visits per week."""
    user = request.user
    if not may(user, Action.VIEW):
        raise Http404
    scope = scope_for(user, Action.VIEW)
    units = coverage_units(user)
    # An RM sees their own book and a lead's scope is one team: nothing to narrow.
    unit_filter = CoverageFilter(request.GET or None, units=units) if units.count() > 1 else None
    unit = unit_filter.cleaned_data["unit"] if unit_filter is not None and unit_filter.is_valid() else None
    refused = unit_filter is not None and unit_filter.is_bound and not unit_filter.is_valid()
    # The whole bank is 700,000 real customers at a million: counted per request it takes tens of seconds, so a
    # read-only role picks a branch or team first.
    choose_unit = scope.everything and unit is None and not refused
    coverage = None if choose_unit or refused else team_coverage(user, unit=unit)
    context = {
        "coverage": coverage,
        "chart": _chart(coverage) if coverage and coverage.rows else None,
        "own_book": scope.rm_id is not None,
        "unit_filter": unit_filter,
        "choose_unit": choose_unit,
        "intervals": _intervals(),
        "today": coverage.today if coverage else timezone.localdate(),
    }
    return render(request, "visits/coverage.html", context)


def _chart(coverage: Coverage) -> dict[str, Any]:
    """What coverage.js draws: visits per week of the CHART_RMS RMs with the most customers (the rest as one line),
    and their coverage (strings: exact, drawn as given). A lead's scope also holds the customers their RMs serve as
    co-RMs, whose primary RMs (a few customers each) would bury the team's own lines."""
    shown, rest = coverage.rows[:CHART_RMS], coverage.rows[CHART_RMS:]
    visits = [{"name": row.rm_name, "data": list(row.visits_per_week)} for row in shown]
    if rest:
        others = [sum(week) for week in zip(*(row.visits_per_week for row in rest), strict=True)]
        visits.append({"name": _("%(count)s other RMs") % {"count": len(rest)}, "data": others})
    return {
        "weeks": coverage.week_labels,
        "visits": visits,
        "rms": [row.rm_name for row in shown],
        "coverage": [str(row.coverage) if row.coverage is not None else None for row in shown],
        "labels": {"visits": _("Visits done"), "coverage": _("Coverage (%)")},
        "more": len(rest),
    }


def _intervals() -> list[tuple[str, int]]:
    intervals = cadence_intervals()
    return [(str(label), intervals[tier]) for tier, label in Tier.choices]


# --- the cadence ---------------------------------------------------------------------------------------------------


class CadenceForm(forms.Form):
    """Months between visits, one field per tier (named by the tier, as the service names its errors)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for tier, label in Tier.choices:
            self.fields[tier] = forms.IntegerField(
                label=gettext_lazy("%(tier)s: visit at least every (months)") % {"tier": label},
                min_value=INTERVAL_MIN,
                max_value=INTERVAL_MAX,
            )

    def intervals(self) -> dict[str, int]:
        return {tier: self.cleaned_data[tier] for tier in Tier.values}


@login_required
@require_http_methods(["GET", "POST"])
def cadence_page(request: AuthedRequest) -> HttpResponse:
    """The visit cadence per tier; head office changes it on the same page."""
    user = request.user
    may_edit = may_edit_scorecard(user)
    if not (may(user, Action.VIEW) or may_edit) or (request.method == "POST" and not may_edit):
        raise Http404
    form = CadenceForm(request.POST or None, initial=cadence_intervals()) if may_edit else None
    if (
        form is not None
        and request.method == "POST"
        and form.is_valid()
        and run_on_form(form, lambda: update_cadence(actor=user, intervals=form.intervals()))
    ):
        messages.success(request, _("Visit cadence saved; the next cadence run applies it."))
        return redirect("visits:cadence")
    rules = {rule.tier: rule for rule in CadenceRule.objects.select_related("updated_by")}
    intervals = cadence_intervals()
    rows = [
        {
            "tier": label,
            "months": intervals.get(tier, DEFAULT_INTERVALS[tier]),
            "rule": rules.get(tier),
        }
        for tier, label in Tier.choices
    ]
    return render(request, "visits/cadence.html", {"rows": rows, "form": form, "may_edit": may_edit})
