"""One set of filters for each collection page and its API endpoint: which unit's and which RM's loans, which month,
which overdue band, which order. Bad values are field errors in the user's language, never a 500 or a silently
empty page; a unit or RM outside the user's scope is not a choice (and restrict() would narrow to nothing anyway).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rmdesk.access.policy import Action, scope_for
from rmdesk.loans.choices import Classification
from rmdesk.org.choices import Role
from rmdesk.org.models import OrgUnit, User
from rmdesk.postloan.choices import PromiseStatus
from rmdesk.postloan.queries import DPD_BANDS, OVERDUE_ORDERS, view_units

MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class UnitChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        # Indented by depth, so a branch's sub-branches and teams read as a tree.
        return "\u3000" * (obj.path.count("/") - 2) + obj.name


class RMChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.display_name} ({obj.unit.name})" if obj.unit else obj.display_name


class MonthField(forms.CharField):
    """A month as YYYY-MM (the browser's month input), cleaned to its first day."""

    widget = forms.TextInput(attrs={"type": "month"})

    def to_python(self, value: Any) -> date | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        match = MONTH.match(text)
        if match is None or not 1 <= int(match.group(2)) <= 12 or not 2000 <= int(match.group(1)) <= 2100:
            raise forms.ValidationError(_("Enter a month as YYYY-MM."), code="invalid")
        return date(int(match.group(1)), int(match.group(2)), 1)


class LoanScopeFilter(forms.Form):
    """Narrow a collection view to one unit's customers and one primary RM, within the user's scope.

    An RM has neither (their own book); a lead or head picks among their subtree's units and RMs; a bank-wide role
    (risk officer, auditor) picks a unit and may name an RM."""

    unit = UnitChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none(), required=False)
    rm = RMChoiceField(label=_("RM"), queryset=User.objects.none(), required=False)

    def __init__(self, data: Any = None, *, user: Any, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        scope = scope_for(user, Action.VIEW)
        self.own_book = scope.rm_id is not None
        self.bank_wide = scope.everything
        if self.own_book:
            del self.fields["unit"]
            del self.fields["rm"]
            return
        unit_field = self.fields["unit"]
        rm_field = self.fields["rm"]
        assert isinstance(unit_field, forms.ModelChoiceField) and isinstance(rm_field, forms.ModelChoiceField)
        unit_field.queryset = view_units(user)
        rms = User.objects.filter(role=Role.RM).select_related("unit").order_by("unit__path", "username")
        if scope.unit_path is not None:
            rms = rms.filter(unit__path__startswith=scope.unit_path)
        rm_field.queryset = rms
        unit_field.empty_label = str(_("All units")) if not self.bank_wide else str(_("Choose a unit"))
        rm_field.empty_label = str(_("All RMs"))

    @property
    def shows_rm_choice(self) -> bool:
        """A bank's thousands of RMs make no list: a bank-wide role narrows by unit on the page (by RM id in the
        API)."""
        return "rm" in self.fields and not self.bank_wide

    def scope_kwargs(self) -> dict[str, Any]:
        """unit= and rm= for the queries; call only after is_valid()."""
        data = self.cleaned_data
        return {"unit": data.get("unit"), "rm": data.get("rm")}

    def error_fields(self) -> dict[str, list[str]]:
        return {name: [str(e) for e in errors] for name, errors in self.errors.items()}


class CalendarFilter(LoanScopeFilter):
    month = MonthField(label=_("Month"), required=False)


def _choices(empty: str, choices: Any) -> list[tuple[Any, Any]]:
    return [("", empty), *choices]


class OverdueFilter(LoanScopeFilter):
    """The overdue list's filters and order."""

    BANDS = [(band, _("%(band)s days") % {"band": band}) for band in DPD_BANDS]
    ORDERS = [
        ("-dpd", _("Most days past due")),
        ("dpd", _("Fewest days past due")),
        ("-overdue_principal", _("Largest overdue principal")),
        ("-overdue_interest", _("Largest overdue interest")),
        ("-penalty", _("Largest penalty")),
        ("-classification", _("Worst classification")),
        ("last_contact", _("Longest without contact")),
        ("customer", pgettext_lazy("loan list column", "Customer")),
        ("contract", _("Contract number")),
    ]

    band = forms.ChoiceField(label=_("Days past due"), required=False)
    classification = forms.TypedChoiceField(label=_("Classification"), required=False, coerce=int, empty_value=None)
    proposal = forms.TypedChoiceField(
        label=pgettext_lazy("classification", "Proposal"),
        required=False,
        choices=[("", _("Any")), ("yes", _("Waiting for confirmation")), ("no", _("None waiting"))],
        coerce=lambda value: value == "yes",
        empty_value=None,
    )
    promise = forms.ChoiceField(label=_("Promise to pay"), required=False)
    sort = forms.ChoiceField(label=_("Order"), required=False)

    def __init__(self, data: Any = None, *, user: Any, **kwargs: Any) -> None:
        super().__init__(data, user=user, **kwargs)
        self.fields["band"].choices = _choices(str(_("Any")), self.BANDS)  # type: ignore[attr-defined]
        self.fields["classification"].choices = _choices(str(_("Any")), Classification.choices)  # type: ignore[attr-defined]
        self.fields["promise"].choices = _choices(  # type: ignore[attr-defined]
            str(_("Any")),
            [
                (PromiseStatus.OPEN, _("Open promise")),
                (PromiseStatus.BROKEN, _("A broken promise")),
                (PromiseStatus.NONE, _("No open promise")),
            ],
        )
        self.fields["sort"].choices = self.ORDERS  # type: ignore[attr-defined]
        assert set(OVERDUE_ORDERS) == {value for value, _label in self.ORDERS}

    def query_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            **self.scope_kwargs(),
            "band": data.get("band") or None,
            "classification": data.get("classification"),
            "proposal": data.get("proposal"),
            "promise": data.get("promise") or None,
        }

    @property
    def order(self) -> str:
        return (self.cleaned_data.get("sort") if self.is_valid() else None) or "-dpd"


class PortfolioFilter(LoanScopeFilter):
    """A unit (the scope's own by default; a bank-wide role must choose) and the month end the migration ends at."""

    month = MonthField(label=_("Migration to month end"), required=False)

    def __init__(self, data: Any = None, *, user: Any, **kwargs: Any) -> None:
        super().__init__(data, user=user, **kwargs)
        self.fields.pop("rm", None)

    def scope_kwargs(self) -> dict[str, Any]:
        return {"unit": self.cleaned_data.get("unit")}


class QueueFilter(forms.Form):
    """The classification queue: one unit's loans, one proposed category."""

    unit = UnitChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none(), required=False, empty_label=_("All units"))
    proposed = forms.TypedChoiceField(label=_("Proposed"), required=False, coerce=int, empty_value=None)

    def __init__(self, data: Any = None, *, user: Any, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        unit_field = self.fields["unit"]
        assert isinstance(unit_field, forms.ModelChoiceField)
        unit_field.queryset = view_units(user)
        self.fields["proposed"].choices = _choices(str(_("Any")), Classification.choices)  # type: ignore[attr-defined]

    def error_fields(self) -> dict[str, list[str]]:
        return {name: [str(e) for e in errors] for name, errors in self.errors.items()}
