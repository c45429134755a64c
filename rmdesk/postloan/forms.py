"""Forms of the collection pages: a collection contact with its promise to pay, a classification decision, the
confirmation of several proposals at once, and a repayment entered by operations. The services decide; these only
read what was typed (field names are the services' own, so their errors land beside the field)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rmdesk.loans.choices import Classification, LprTenor
from rmdesk.loans.services.checks import Errors, parse_rate
from rmdesk.postloan.choices import ContactChannel

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
AMOUNT_OPTIONS: dict[str, Any] = {
    "max_digits": 18,
    "decimal_places": 2,
    "min_value": Decimal("0.01"),
    "widget": forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
}


class CollectionLogForm(forms.Form):
    contacted_on = forms.DateField(label=_("Contacted on"), widget=DATE_INPUT)
    channel = forms.ChoiceField(label=_("Channel"), choices=ContactChannel.choices)
    contact_person = forms.CharField(label=_("Person contacted"), max_length=50)
    result = forms.CharField(label=_("Result"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    promise_date = forms.DateField(label=_("Promised payment date"), required=False, widget=DATE_INPUT)
    promise_amount = forms.DecimalField(label=_("Promised amount"), required=False, **AMOUNT_OPTIONS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"contacted_on": timezone.localdate(), "channel": ContactChannel.PHONE})
        super().__init__(*args, **kwargs)


class ClassificationForm(forms.Form):
    decided = forms.TypedChoiceField(label=_("Classification"), choices=Classification.choices, coerce=int)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))


class ConfirmProposalsForm(forms.Form):
    """Confirm the ticked proposals as shown: each tick carries "<loan id>:<proposed category>"."""

    loans = forms.MultipleChoiceField(label=_("Loans"), required=True)
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["loans"].choices = choices  # type: ignore[attr-defined]
        self.fields["loans"].error_messages["required"] = _("Select at least one loan.")

    def proposals(self) -> dict[int, int]:
        pairs = (value.split(":") for value in self.cleaned_data["loans"])
        return {int(loan): int(proposed) for loan, proposed in pairs}


class RepaymentForm(forms.Form):
    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_INPUT)
    amount = forms.DecimalField(label=_("Amount"), **AMOUNT_OPTIONS)
    external_ref = forms.CharField(
        label=_("Reference"),
        max_length=64,
        required=False,
        help_text=_("The transaction reference, if any: the same reference is never posted twice."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"paid_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class LprPublishForm(forms.Form):
    """A published LPR as head office enters it (field names are `publish_lpr`'s). The rate is read as the service
    reads it, so a malformed or out-of-range rate gets the service's own message, together with any other field's."""

    tenor = forms.ChoiceField(label=_("Tenor"), choices=LprTenor.choices)
    published_on = forms.DateField(label=_("Published on"), widget=DATE_INPUT)
    rate_pct = forms.CharField(
        label=_("Rate (%)"),
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=_("The annual rate in percent as published, e.g. 3.00."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"tenor": LprTenor.ONE_YEAR, "published_on": timezone.localdate()})
        super().__init__(*args, **kwargs)

    def clean_rate_pct(self) -> Decimal:
        errors = Errors()
        rate = parse_rate(self.cleaned_data["rate_pct"], "rate_pct", errors)
        if rate is None:
            raise forms.ValidationError(errors.fields["rate_pct"])
        return rate
