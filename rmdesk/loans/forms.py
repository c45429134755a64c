"""Forms of loans: the one list filter (the loan list page and GET /api/v1/loans), entering a repayment (operations),
publishing an LPR (head office) and opening a contract. They only read and validate input; the services write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rmdesk.loans.choices import (
    Classification,
    Currency,
    GuaranteeMethod,
    LoanProduct,
    LoanStatus,
    RateKind,
    RepaymentMethod,
    RepricingRule,
)
from rmdesk.loans.models import LoanContract

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MAX_ID = 2**63 - 1


def _blank(choices: Any) -> list[tuple[Any, Any]]:
    return [("", _("All")), *choices]


class LoanFilter(forms.Form):
    """Loans of one customer, status, primary RM or classification, overdue or not; bad values are field errors."""

    customer = forms.IntegerField(
        label=pgettext_lazy("loan list column", "Customer"), required=False, min_value=1, max_value=MAX_ID
    )
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_blank(LoanStatus.choices))
    overdue = forms.NullBooleanField(label=_("Overdue"), required=False)
    rm = forms.IntegerField(label=_("Primary RM"), required=False, min_value=1, max_value=MAX_ID)
    classification = forms.TypedChoiceField(
        label=_("Classification"), required=False, coerce=int, empty_value=None, choices=_blank(Classification.choices)
    )

    def apply(self, loans: QuerySet[LoanContract]) -> QuerySet[LoanContract]:
        """Narrow an already restricted queryset; call only after is_valid(). The order is the caller's."""
        data = self.cleaned_data
        if data.get("customer"):
            loans = loans.filter(customer_id=data["customer"])
        if data.get("status"):
            loans = loans.filter(status=data["status"])
        if data.get("overdue") is True:
            loans = loans.filter(days_past_due__gt=0)
        elif data.get("overdue") is False:
            loans = loans.filter(days_past_due=0)
        if data.get("rm"):
            loans = loans.filter(primary_rm_id=data["rm"])
        if data.get("classification") is not None:
            loans = loans.filter(classification=data["classification"])
        return loans

    def error_fields(self) -> dict[str, list[str]]:
        return {name: [str(e) for e in errors] for name, errors in self.errors.items()}


class RepaymentForm(forms.Form):
    """A repayment received outside the core system's file, entered by an operations officer."""

    paid_on = forms.DateField(label=_("Paid on"), widget=DATE_INPUT)
    amount = forms.DecimalField(label=_("Amount"), min_value=0.01, max_digits=18, decimal_places=2)
    external_ref = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=64,
        help_text=_("The bank's transaction reference: entering it twice posts the repayment once."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class ContractForm(forms.Form):
    """A new loan contract with its first drawdown; guarantors are chosen from the customer's guarantee links."""

    contract_no = forms.CharField(label=_("Contract number"), max_length=40)
    product = forms.ChoiceField(label=_("Product"), choices=LoanProduct.choices)
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices, initial=Currency.CNY)
    amount = forms.DecimalField(label=_("Contract amount"), min_value=0.01, max_digits=18, decimal_places=2)
    term_months = forms.IntegerField(label=_("Term (months)"), min_value=1, max_value=600)
    repayment_method = forms.ChoiceField(label=_("Repayment method"), choices=RepaymentMethod.choices)
    interest_day = forms.IntegerField(label=_("Interest day"), min_value=1, max_value=28, initial=20)
    rate_kind = forms.ChoiceField(label=_("Rate type"), choices=RateKind.choices, initial=RateKind.FIXED)
    fixed_rate_pct = forms.DecimalField(
        label=_("Fixed rate (%)"), required=False, min_value=0, max_value=36, max_digits=9, decimal_places=6
    )
    lpr_spread_bp = forms.IntegerField(label=_("Spread over LPR (bp)"), required=False, min_value=-3600, max_value=3600)
    repricing_rule = forms.ChoiceField(
        label=_("Repricing"), required=False, choices=[("", "—"), *RepricingRule.choices]
    )
    guarantee_method = forms.ChoiceField(label=_("Guarantee method"), choices=GuaranteeMethod.choices)
    guarantor_relationships = forms.TypedMultipleChoiceField(
        label=_("Guarantors"), required=False, coerce=int, choices=[]
    )
    purpose = forms.CharField(label=pgettext_lazy("loan", "Purpose"), required=False, max_length=200)
    start_date = forms.DateField(label=_("First drawdown"), widget=DATE_INPUT)
    drawdown_amount = forms.DecimalField(
        label=_("Amount drawn"),
        required=False,
        min_value=0.01,
        max_digits=18,
        decimal_places=2,
        help_text=_("Leave empty to draw the whole contract amount."),
    )

    def __init__(self, *args: Any, guarantor_choices: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["guarantor_relationships"].choices = guarantor_choices or []  # type: ignore[attr-defined]
