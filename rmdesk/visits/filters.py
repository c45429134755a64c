"""One set of filters for the visit list page and the API: status, customer, visiting RM, and a date range.

Bad values are field errors in the user's language, never a 500 or a silently empty page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from rmdesk.visits.cadence import start_of_day
from rmdesk.visits.choices import VisitStatus
from rmdesk.visits.models import Visit

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VisitFilter(forms.Form):
    """Visits of one status, customer or RM, planned to start within a date range (the bank's days, inclusive)."""

    status = forms.ChoiceField(label=_("Status"), required=False)
    customer = forms.IntegerField(label=_("Customer"), required=False, min_value=1)
    rm = forms.IntegerField(label=_("Visiting RM"), required=False, min_value=1)
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)

    def __init__(self, data: Any = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self.fields["status"].choices = [("", _("All")), *VisitStatus.choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period cannot be before its start."))
        return data

    def apply(self, visits: QuerySet[Visit]) -> QuerySet[Visit]:
        """Narrow an already restricted queryset; call only after is_valid(). The order is the caller's."""
        data = self.cleaned_data
        if data.get("status"):
            visits = visits.filter(status=data["status"])
        if data.get("customer"):
            visits = visits.filter(customer_id=data["customer"])
        if data.get("rm"):
            visits = visits.filter(rm_id=data["rm"])
        # Bounds as moments rather than `planned_start__date`, so the database can use the planned-start index.
        if data.get("date_from"):
            visits = visits.filter(planned_start__gte=start_of_day(data["date_from"]))
        if data.get("date_to"):
            visits = visits.filter(planned_start__lt=start_of_day(data["date_to"] + timedelta(days=1)))
        return visits

    def error_fields(self) -> dict[str, list[str]]:
        return {name: [str(e) for e in errors] for name, errors in self.errors.items()}
