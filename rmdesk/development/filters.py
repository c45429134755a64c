"""One set of filters for the development pages and their API endpoints: period, RM, stage, source, sort.

Bad values are field errors in the user's language, never a 500 or a silently empty page.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.db.models import F, QuerySet
from django.utils.translation import gettext_lazy as _

from rmdesk.access.policy import Action, scope_for
from rmdesk.development.choices import OPEN_STAGES, Source, Stage
from rmdesk.development.funnel import POOL, Period, for_rm, last_twelve_months
from rmdesk.development.market import province_choices
from rmdesk.development.models import Prospect
from rmdesk.org.choices import Role
from rmdesk.org.models import User

# The list's sort keys: what the user picks → the order (ties broken by id, so pages never overlap).
SORTS: dict[str, tuple[Any, ...]] = {
    "due": (F("contact_due").asc(nulls_last=True), "stage_changed_at"),
    "name": ("customer__name",),
    "-name": ("-customer__name",),
    "days": ("stage_changed_at",),  # longest in its stage first
    "-days": ("-stage_changed_at",),
    "score": (F("score").desc(nulls_last=True),),
    "-score": (F("score").asc(nulls_last=True),),
    "found": ("-found_on",),
}
SORT_LABELS = {
    "due": _("First contact due"),
    "name": _("Name (A–Z)"),
    "-name": _("Name (Z–A)"),
    "days": _("Longest in stage"),
    "-days": _("Newest in stage"),
    "score": _("Highest score"),
    "-score": _("Lowest score"),
    "found": _("Most recently found"),
}


ALL_STAGES = "all"
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _blank(choices: Any, label: Any = None) -> list[tuple[str, Any]]:
    return [("", label or _("All")), *choices]


def rm_choices(user: User) -> list[tuple[str, str]]:
    """The RMs a lead or branch head looks over (their subtree's), and the pool; nothing for anyone else."""
    scope = scope_for(user, Action.VIEW)
    if scope.unit_path is None:
        return []
    rms = User.objects.filter(role=Role.RM, is_active=True, unit__path__startswith=scope.unit_path)
    return [(str(rm.pk), rm.display_name) for rm in rms.order_by("full_name", "username")] + [
        (POOL, str(_("In the pool")))
    ]


class PeriodFilter(forms.Form):
    """Prospects found between two dates (default: the last twelve months), and for a lead or head one RM."""

    found_from = forms.DateField(label=_("Found from"), required=False, widget=DATE_INPUT)
    found_to = forms.DateField(label=_("Found to"), required=False, widget=DATE_INPUT)
    rm = forms.ChoiceField(label=_("RM"), required=False)

    def __init__(self, data: Any = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.user = user
        choices = rm_choices(user)
        if choices:
            self.fields["rm"].choices = _blank(choices, _("All RMs"))  # type: ignore[attr-defined]
        else:
            del self.fields["rm"]  # an RM sees their own book only; read-only roles the whole bank

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("found_from"), data.get("found_to")
        if start and end and start > end:
            self.add_error("found_to", _("The end of the period cannot be before its start."))
        return data

    @property
    def period(self) -> Period:
        default = last_twelve_months()
        data = self.cleaned_data
        start: date = data.get("found_from") or default.start
        end: date = data.get("found_to") or default.end
        if data.get("found_to") and not data.get("found_from"):
            start = last_twelve_months(end).start
        return Period(start=start, end=max(start, end))

    @property
    def chosen_rm(self) -> str | None:
        """The RM filter's value (a user id or the pool), or None for all."""
        return self.cleaned_data.get("rm") or None

    def error_fields(self) -> dict[str, list[str]]:
        return {name: [str(e) for e in errors] for name, errors in self.errors.items()}


class MarketFilter(PeriodFilter):
    province = forms.ChoiceField(label=_("Province"), required=False)

    def __init__(self, data: Any = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, user=user, **kwargs)
        self.fields.pop("rm", None)  # the market is the whole scope's
        self.fields["province"].choices = _blank(province_choices())  # type: ignore[attr-defined]


def in_stages(prospects: QuerySet[Prospect], stages: tuple[str, ...]) -> QuerySet[Prospect]:
    """The prospects in one of `stages`, written as "in none of the others".

    Any stage holds a large share of a scope's prospects, so the stage index is the wrong way in: without table
    statistics SQLite took it anyway, and an RM's board read all 180,000 open prospects of the 1M bank to keep their
    300 (1.2 s). A NOT IN is never offered to the planner as an index, so it enters by the scope's customers.
    """
    others = [stage for stage in Stage.values if stage not in stages]
    return prospects.exclude(stage__in=others)


class PipelineFilter(forms.Form):
    """The pipeline list's filters and order; the board uses the RM filter alone."""

    stage = forms.ChoiceField(label=_("Stage"), required=False)
    source = forms.TypedChoiceField(label=_("Source"), required=False, coerce=int, empty_value=None)
    rm = forms.ChoiceField(label=_("RM"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False)

    def __init__(self, data: Any = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["stage"].choices = [  # type: ignore[attr-defined]
            *_blank(Stage.choices, _("Open stages")),
            (ALL_STAGES, _("All stages")),
        ]
        self.fields["source"].choices = _blank(  # type: ignore[attr-defined]
            [(s.value, f"{s.value}. {s.label}") for s in Source]
        )
        self.fields["sort"].choices = list(SORT_LABELS.items())  # type: ignore[attr-defined]
        choices = rm_choices(user)
        if choices:
            self.fields["rm"].choices = _blank(choices, _("All RMs"))  # type: ignore[attr-defined]
        else:
            del self.fields["rm"]

    def apply(self, prospects: QuerySet[Prospect], *, board: bool = False) -> QuerySet[Prospect]:
        """Narrow an already restricted queryset and order it; call only after is_valid()."""
        data = self.cleaned_data
        prospects = for_rm(prospects, data.get("rm") or None)
        if board:
            return in_stages(prospects, OPEN_STAGES)
        stage = data.get("stage")
        if stage != ALL_STAGES:
            prospects = in_stages(prospects, (stage,)) if stage else in_stages(prospects, OPEN_STAGES)
        if data.get("source"):
            prospects = prospects.filter(source=data["source"])
        return prospects.order_by(*SORTS[data.get("sort") or "due"], "pk")

    def error_fields(self) -> dict[str, list[str]]:
        return {name: [str(e) for e in errors] for name, errors in self.errors.items()}
