"""Forms of the development pages. They shape input for the services (prospects, pool, pipeline, scoring,
suggestions), which alone decide and save; a service's field errors are put back on these forms by name."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.forms.models import fields_for_model
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from rmdesk.access.policy import Action, scope_for
from rmdesk.core import reference
from rmdesk.customers.assignment import assignable_rms, assignable_units
from rmdesk.customers.forms import COUNTERPARTY_OPTIONS, DATE_WIDGET, widen
from rmdesk.customers.models import Customer
from rmdesk.customers.services import FIRM_FIELDS
from rmdesk.development.choices import OPEN_STAGES, Source, Stage
from rmdesk.development.models import Prospect, ScorecardItem
from rmdesk.development.pool import DECIDER_ROLES
from rmdesk.development.pool import assignable_rms as pool_rms
from rmdesk.org.models import User


def next_stages(user: User, prospect: Prospect) -> list[Stage]:
    """The stages a prospect may move to from here: forward, won or dropped; a lead may reopen a dropped one."""
    if prospect.stage == Stage.WON:
        return []
    if prospect.stage == Stage.DROPPED:
        return [Stage.IDENTIFIED] if user.role in DECIDER_ROLES else []
    later = list(OPEN_STAGES[OPEN_STAGES.index(Stage(prospect.stage)) + 1 :])
    return [*later, Stage.WON, Stage.DROPPED]


def _label(model: Any, name: str) -> str:
    """A model field's label, so forms and pages share one wording (and one translation)."""
    return str(capfirst(model._meta.get_field(name).verbose_name))


def visible_customers(user: User) -> Any:
    """The customers the user may see and name as the referring customer of a prospect."""
    return Customer.objects.restrict(user, Action.VIEW).filter(archived_at__isnull=True)


class RegisterProspectForm(forms.Form):
    """A newly found firm: its basic facts, how it was found, and where it goes (a book or a pool)."""

    source = forms.TypedChoiceField(label=_("Source"), coerce=int, choices=Source.choices)
    source_detail = forms.CharField(
        label=_("Source detail"),
        max_length=200,
        required=False,
        help_text=_("Which association, seminar, publication or contact, in a few words."),
    )
    referring_customer = forms.ModelChoiceField(
        label=_("Referring customer"),
        queryset=Customer.objects.none(),
        required=False,
        help_text=_("For sources 10–12: the existing customer whose supplier, buyer, guarantor or affiliate it is."),
    )
    to_pool = forms.BooleanField(
        label=_("Put it into the pool"),
        required=False,
        help_text=_("Leave it for any RM of the unit to claim, instead of developing it yourself."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        basics = fields_for_model(Customer, fields=FIRM_FIELDS, widgets={"established_on": DATE_WIDGET})
        # The firm's facts first, then how it was found; the rest of the customer file is filled in later.
        self.fields = {**basics, **self.fields}
        widen(self.fields["credit_code"], 30)
        self.fields["credit_code"].widget.attrs["autocomplete"] = "off"
        visible = visible_customers(user)
        referring = self.fields["referring_customer"]
        assert isinstance(referring, forms.ModelChoiceField)
        referring.queryset = visible
        # The widget lists a bounded set (a head sees thousands); any visible customer is still accepted, and the
        # 360 page opens this form with its customer chosen.
        options = list(visible.order_by("name", "pk")[:COUNTERPARTY_OPTIONS])
        chosen = self.initial.get("referring_customer")
        if chosen and all(c.pk != chosen for c in options):
            options[:0] = list(visible.filter(pk=chosen))
        referring.widget.choices = [("", "---------"), *((c.pk, f"{c.name} ({c.credit_code})") for c in options)]
        self.lead = scope_for(user, Action.CREATE).rm_id is None
        if self.lead:
            # A lead or head hands the prospect to one of their RMs, or to the pool of one of their units.
            self.fields["primary_rm"] = forms.ModelChoiceField(
                label=_label(Customer, "primary_rm"), queryset=assignable_rms(user), required=False
            )
            self.fields["owning_unit"] = forms.ModelChoiceField(
                label=_label(Customer, "owning_unit"),
                queryset=assignable_units(user),
                required=False,
                help_text=_("The unit whose pool receives the prospect, or leave empty for the RM's unit."),
            )
            self.fields["to_pool"].help_text = _("Leave it in the chosen unit's pool for its RMs to claim.")

    def customer_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in FIRM_FIELDS}
        for name in ("primary_rm", "owning_unit"):
            if self.cleaned_data.get(name) is not None:
                data[name] = self.cleaned_data[name]
        return data


class VersionForm(forms.Form):
    """An action on a prospect as the user saw it: a newer version is someone else's change (a conflict)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)


class MoveStageForm(VersionForm):
    to_stage = forms.ChoiceField(label=_("Move to"), choices=Stage.choices)
    won_evidence = forms.CharField(
        label=_label(Prospect, "won_evidence"),
        max_length=100,
        required=False,
        help_text=_("The account number opened, or the reference of the signed product or contract."),
    )
    drop_reason = forms.CharField(label=_label(Prospect, "drop_reason"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=500)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("Note"), max_length=200, required=False)


class AssignForm(VersionForm):
    rm = forms.ModelChoiceField(label=_("RM"), queryset=User.objects.none())

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["rm"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = pool_rms(user)
        field.widget.choices = [
            ("", "---------"),
            *((rm.pk, f"{rm.display_name} · {rm.unit.name if rm.unit else ''}") for rm in field.queryset),
        ]


class RateForm(forms.Form):
    """The RM's rating of one item; its range is the item's and is checked by the service."""

    characteristic = forms.IntegerField(widget=forms.HiddenInput)
    rating = forms.IntegerField(label=_("Rating"))
    reason = forms.CharField(label=_("Reason"), max_length=500)


class MergeForm(forms.Form):
    other = forms.CharField(
        label=_("The other file"),
        max_length=200,
        help_text=_("Its unified social credit code, or its name."),
    )
    reason = forms.CharField(label=_("Reason"), max_length=500)


class AcceptSuggestionForm(forms.Form):
    relationship_id = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=200)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=30, required=False)
    # Set by the button pressed: "accept and claim", "register anyway" (the page writes them, not the form).
    claim = forms.BooleanField(required=False)
    allow_similar = forms.BooleanField(required=False)


class DismissSuggestionForm(forms.Form):
    name = forms.CharField(max_length=200)
    credit_code = forms.CharField(max_length=30, required=False)


def _industry_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    return reference.division_choices()


def region_choices(current: list[str]) -> list[tuple[str, list[tuple[str, str]]]]:
    """Provinces (a whole province is one entry) and their cities, grouped by province; codes already on the
    scorecard that are neither (a 4-digit city prefix) stay listed, so saving does not drop them."""
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    known: set[str] = set()
    for province in reference.regions():
        name = reference.province_name(province)
        options = [(province.code[:2], str(_("%(province)s (whole province)") % {"province": name}))]
        options += [(city.code, reference.city_label(city.code)) for city in province.cities]
        known.update(code for code, _label in options)
        groups.append((name, options))
    others = [(code, code) for code in current if code not in known]
    if others:
        groups.insert(0, (str(_("Other codes")), others))
    return groups


class ScorecardForm(forms.Form):
    """Head office's scorecard: each item's weight and top rating, the threshold and the two lists."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    threshold = forms.DecimalField(
        label=_("Target threshold (0–100)"), max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    encouraged_industries = forms.MultipleChoiceField(
        label=_("Encouraged industries"), choices=_industry_choices, required=False
    )
    promising_regions = forms.MultipleChoiceField(label=_("Promising regions"), choices=(), required=False)

    def __init__(self, *args: Any, items: list[ScorecardItem], regions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        region_field = self.fields["promising_regions"]
        assert isinstance(region_field, forms.MultipleChoiceField)
        region_field.choices = region_choices(regions)
        for name in ("encouraged_industries", "promising_regions"):
            self.fields[name].widget.attrs["size"] = "12"
        self.items = items
        for item in items:
            label = item.get_characteristic_display()
            self.fields[f"weight_{item.characteristic}"] = forms.DecimalField(
                label=_("Weight of %(item)s") % {"item": label},
                max_digits=5,
                decimal_places=2,
                min_value=Decimal(0),
                max_value=Decimal("999.99"),
                initial=item.weight,
            )
            self.fields[f"max_{item.characteristic}"] = forms.IntegerField(
                label=_("Highest rating of %(item)s") % {"item": label},
                min_value=1,
                max_value=10,
                initial=item.max_rating,
            )

    def item_rows(self) -> list[tuple[ScorecardItem, forms.BoundField, forms.BoundField]]:
        return [
            (item, self[f"weight_{item.characteristic}"], self[f"max_{item.characteristic}"]) for item in self.items
        ]

    def weights(self) -> dict[int, Decimal]:
        return {item.characteristic: self.cleaned_data[f"weight_{item.characteristic}"] for item in self.items}

    def max_ratings(self) -> dict[int, int]:
        return {item.characteristic: self.cleaned_data[f"max_{item.characteristic}"] for item in self.items}
