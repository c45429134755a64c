"""One filter for the customer list page, the list endpoint and exports."""

from __future__ import annotations

from functools import partial
from typing import Any

from django import forms
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from rmdesk.core.lookups import id_array
from rmdesk.core.reference import industries, province_name, regions, section_name
from rmdesk.core.widgets import FixedChoicesSelect
from rmdesk.customers.choices import EnterpriseSize, LifecycleStatus, Tier
from rmdesk.customers.models import Customer, rating_choices
from rmdesk.customers.queries import SEARCH_LIMIT, ranked_ids
from rmdesk.customers.search import read_query


def _blank(choices: Any) -> list[tuple[str, Any]]:
    return [("", _("All")), *choices]


# The selects' choices as callables, read when a value is checked or a select rendered: given as lists, each form built
# deep-copied them, and the three built per form (ratings, sections, provinces) were most of the 0.5 ms a list page
# spent making its filter form.
def _rating_choices() -> list[tuple[str, Any]]:
    return _blank(rating_choices())


def _section_choices() -> list[tuple[str, Any]]:
    return _blank((s.code, f"{s.code} {section_name(s)}") for s in industries())


def _province_choices() -> list[tuple[str, Any]]:
    return _blank((p.code[:2], province_name(p)) for p in regions())


# Fields that are not a narrowing filter: the search query (ranked apart) and whether archived customers are shown.
NOT_NARROWING = frozenset({"q", "include_archived"})


class CustomerFilter(forms.Form):
    """Validated list filters; unknown values are field errors, never a 500 or a silent empty list."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        help_text=_("Name (from 2 characters), pinyin, initials or credit code."),
    )
    # The selects' choices are enums, settings and national reference data: fixed while the process runs.
    status = forms.ChoiceField(
        label=_("Lifecycle status"),
        required=False,
        choices=partial(_blank, LifecycleStatus.choices),
        widget=FixedChoicesSelect,
    )
    tier = forms.ChoiceField(
        label=_("Tier"), required=False, choices=partial(_blank, Tier.choices), widget=FixedChoicesSelect
    )
    size = forms.ChoiceField(
        label=_("Enterprise size"),
        required=False,
        choices=partial(_blank, EnterpriseSize.choices),
        widget=FixedChoicesSelect,
    )
    credit_rating = forms.ChoiceField(
        label=_("Internal credit rating"), required=False, choices=_rating_choices, widget=FixedChoicesSelect
    )
    industry_section = forms.ChoiceField(
        label=_("Industry section"), required=False, choices=_section_choices, widget=FixedChoicesSelect
    )
    province = forms.ChoiceField(
        label=_("Province"), required=False, choices=_province_choices, widget=FixedChoicesSelect
    )
    primary_rm = forms.IntegerField(label=_("Primary RM"), required=False, min_value=1, max_value=2**63 - 1)
    include_archived = forms.BooleanField(label=_("Include archived"), required=False)

    @property
    def is_search(self) -> bool:
        """Whether a quick-search query was given: the result is then the best matches, ranked, not a list."""
        return read_query(self.cleaned_data.get("q") or "") is not None

    def apply(self, queryset: QuerySet[Customer], *, limit: int = SEARCH_LIMIT) -> QuerySet[Customer]:
        """Narrow an already restricted queryset; call only after is_valid().

        With a search query, the result is the `limit` best matches in rank order (see customers.queries). A page that
        only reads the matches uses `narrow` and `ranked_ids` instead: the rank as an ORDER BY of one CASE per match
        cost a search as much again to build as its rows took to read.
        """
        queryset = self.narrow(queryset)
        if self.is_search:
            ids = ranked_ids(queryset, self.cleaned_data["q"], limit=limit)
            rank = Case(*(When(pk=pk, then=Value(i)) for i, pk in enumerate(ids)), output_field=IntegerField())
            queryset = queryset.filter(pk__any_of=id_array(ids)).order_by(rank) if ids else queryset.none()
        return queryset

    @property
    def narrows_by_archived_only(self) -> bool:
        """Whether no filter but "include archived" is set (the search query aside); call only after is_valid().

        Every other field counts, so a filter added to the form can never be left out of the list's total."""
        return not any(value for name, value in self.cleaned_data.items() if name not in NOT_NARROWING)

    def narrow(self, queryset: QuerySet[Customer]) -> QuerySet[Customer]:
        """The queryset cut down by every filter but the search query; call only after is_valid()."""
        data = self.cleaned_data
        if not data.get("include_archived"):
            queryset = queryset.filter(archived_at__isnull=True)
        for name in ("status", "tier", "size", "credit_rating"):
            if data.get(name):
                queryset = queryset.filter(**{name: data[name]})
        if data.get("industry_section"):
            section = next(s for s in industries() if s.code == data["industry_section"])
            queryset = queryset.filter(industry__in=[d.code for d in section.divisions])
        if data.get("province"):
            queryset = queryset.filter(region__startswith=data["province"])
        if data.get("primary_rm"):
            queryset = queryset.filter(primary_rm_id=data["primary_rm"])
        return queryset

    def error_fields(self) -> dict[str, list[str]]:
        return {name: [str(e) for e in errors] for name, errors in self.errors.items()}
