"""Forms of the customer archive. They validate and shape input; saving is only ever done by services."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, FieldDoesNotExist, ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import QuerySet
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from rmdesk.access.policy import Action, scope_for
from rmdesk.core import validators
from rmdesk.core.models import VersionedModel
from rmdesk.customers import services
from rmdesk.customers.assignment import assignable_rms, assignable_units
from rmdesk.customers.choices import DocumentKind
from rmdesk.customers.imports.readers import FileRejected, check_file
from rmdesk.customers.models import Customer, Document, FinancialStatement, KeyPerson, Relationship
from rmdesk.org.choices import Role, UnitLevel
from rmdesk.org.models import OrgUnit, User

# A branch head may see thousands of customers: the picker lists this many, and any other customer in
# scope is still accepted (or linked by typing its credit code).
COUNTERPARTY_OPTIONS = 300

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on its field when the form has it, else on top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages in error.message_dict.items():
        if name in form.fields:
            form.add_error(name, messages)
        elif name == NON_FIELD_ERRORS:
            form.add_error(None, messages)
        else:
            # A rule on a field this user's form does not show (e.g. the owning unit for an RM).
            label = _field_label(form, name)
            form.add_error(None, [f"{label}: {message}" for message in messages])


def _field_label(form: forms.BaseForm, name: str) -> str:
    model = getattr(getattr(form, "_meta", None), "model", None)
    if model is not None:
        try:
            return str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:
            pass
    return name


def saved_values(obj: models.Model, names: Iterable[str]) -> list[tuple[str, Any]]:
    """(label, value) pairs of what is saved now, shown beside a form after an edit conflict."""
    rows: list[tuple[str, Any]] = []
    for name in names:
        field = obj._meta.get_field(name)
        label = str(capfirst(getattr(field, "verbose_name", name)))
        if name in services.PII_FIELDS:
            # Personal data stays masked here too: a conflict is no reason to reveal it.
            value: Any = getattr(obj, f"{name}_masked")
        elif getattr(field, "choices", None):
            value = getattr(obj, f"get_{name}_display")()
        elif getattr(field, "many_to_many", False):
            value = "、".join(str(user) for user in getattr(obj, name).all())
        else:
            value = getattr(obj, name)
        if isinstance(value, Decimal):
            value = f"{value:,.2f}"
        rows.append((label, value))
    return rows


def branch_rms(user: User) -> QuerySet[User]:
    """Active RMs of the user's branch, who may work a customer alongside the primary RM."""
    if user.unit is None:
        return User.objects.none()
    branch = user.unit.ancestor_of_level(UnitLevel.BRANCH) or user.unit
    return User.objects.filter(role=Role.RM, is_active=True, unit__path__startswith=branch.path).order_by(
        "unit__path", "username"
    )


def widen(field: forms.Field, length: int) -> None:
    """Accept longer input than is stored (codes pasted with spaces, +86 phones); cleaning shortens it."""
    assert isinstance(field, forms.CharField)
    field.max_length = length
    field.validators = [v for v in field.validators if not isinstance(v, MaxLengthValidator)]
    field.widget.attrs["maxlength"] = str(length)


class VersionedForm(forms.ModelForm):
    """An edit form that carries the version it was opened at, so a save can tell it came too late."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def rebase(self, current: VersionedModel) -> None:
        """After a conflict, keep what the user typed but let the next save apply over `current`."""
        data = self.data.copy()  # type: ignore[attr-defined]
        data[self.add_prefix("version")] = str(current.version)
        self.data = data

    def service_data(self) -> dict[str, Any]:
        """The cleaned values of the model fields this form edits, for a service call."""
        meta_fields = self._meta.fields or ()
        return {name: self.cleaned_data[name] for name in meta_fields if name in self.fields}


class _IdentifierCleaning:
    """Normalise identifiers as they are stored, with the validators' own messages on the field."""

    cleaned_data: dict[str, Any]

    def clean_credit_code(self) -> str:
        value = self.cleaned_data.get("credit_code", "")
        return validators.validate_credit_code(value) if value else value

    def clean_counterparty_credit_code(self) -> str:
        value = self.cleaned_data.get("counterparty_credit_code", "")
        return validators.validate_credit_code(value) if value else value

    def clean_phone(self) -> str:
        value = self.cleaned_data.get("phone", "")
        return validators.validate_mobile(value) if value else value

    def clean_id_number(self) -> str:
        value = self.cleaned_data.get("id_number", "")
        return validators.validate_id_number(value) if value else value


class CustomerForm(_IdentifierCleaning, VersionedForm):
    """Master data of a customer, with its primary RM, owning unit and co-RMs chosen within scope."""

    co_rms = forms.ModelMultipleChoiceField(
        label=capfirst(_("co-RMs")),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Relationship managers of your branch who work this customer too."),
    )

    class Meta:
        model = Customer
        fields = list(services.CUSTOMER_FIELDS)
        widgets = {"established_on": DATE_WIDGET}

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        if not editing:
            del self.fields["version"]
        # Widen the credit code box: users paste codes with spaces, which the cleaning removes.
        widen(self.fields["credit_code"], 30)
        self.fields["credit_code"].widget.attrs["autocomplete"] = "off"
        current_co_rms = list(self.instance.co_rms.all()) if editing else []
        co_rm_choices = branch_rms(user) | User.objects.filter(pk__in=[u.pk for u in current_co_rms])
        self.fields["co_rms"].queryset = co_rm_choices.distinct()  # type: ignore[attr-defined]
        self.fields["co_rms"].widget.attrs["size"] = "8"
        if editing:
            self.initial.setdefault("co_rms", [u.pk for u in current_co_rms])
        if scope_for(user, Action.CREATE).rm_id is not None:
            # An RM files customers under themselves and their own unit; the service fills both in.
            del self.fields["primary_rm"]
            del self.fields["owning_unit"]
            return
        rms = assignable_rms(user)
        units = assignable_units(user)
        if editing:
            # The current assignment stays selectable even if it lies outside the user's subtree.
            rms = rms | User.objects.filter(pk=self.instance.primary_rm_id)
            units = units | OrgUnit.objects.filter(pk=self.instance.owning_unit_id)
        self.fields["primary_rm"].queryset = rms.distinct()  # type: ignore[attr-defined]
        self.fields["owning_unit"].queryset = units.distinct()  # type: ignore[attr-defined]
        if not editing:
            self.fields["owning_unit"].required = False
            self.fields["owning_unit"].help_text = _("Leave empty to file it under the primary RM's unit.")

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if self.instance.pk is not None:
            # Sending an unchanged assignment would re-check it against the user's scope, which a lead
            # editing a customer filed elsewhere (visible through a co-RM) could not pass.
            for name in ("primary_rm", "owning_unit"):
                if name in data and name not in self.changed_data:
                    del data[name]
        return data


class KeyPersonForm(_IdentifierCleaning, VersionedForm):
    """A key person; on edit the phone and ID number start empty so they are never shown in clear."""

    class Meta:
        model = KeyPerson
        fields = list(services.KEY_PERSON_FIELDS)
        widgets = {"preferences": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widen(self.fields["phone"], 20)
        widen(self.fields["id_number"], 30)
        if self.instance.pk is None:
            del self.fields["version"]
            return
        for name in sorted(services.PII_FIELDS):
            # Editing must not become a way round the audited reveal: show only the masked value.
            self.initial[name] = ""
            masked = getattr(self.instance, f"{name}_masked")
            if masked:
                self.fields[name].help_text = _("Saved: %(masked)s. Leave empty to keep it.") % {"masked": masked}

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        if self.instance.pk is not None:
            for name in services.PII_FIELDS:
                if not data.get(name):
                    data.pop(name, None)
        return data


class FinancialStatementForm(VersionedForm):
    """One year's figures, in yuan."""

    class Meta:
        model = FinancialStatement
        fields = list(services.STATEMENT_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields["version"]
        for name in ("total_assets", "total_liabilities", "revenue", "net_profit", "operating_cash_flow"):
            self.fields[name].widget.attrs.update({"step": "0.01", "inputmode": "decimal"})


class RelationshipForm(_IdentifierCleaning, VersionedForm):
    """A link to another firm: pick a customer the user can see, or type the firm's name and code."""

    class Meta:
        model = Relationship
        fields = list(services.RELATIONSHIP_FIELDS)

    def __init__(self, *args: Any, user: User, customer: Customer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            del self.fields["version"]
        visible = Customer.objects.restrict(user, Action.VIEW).filter(archived_at__isnull=True).exclude(pk=customer.pk)
        field = self.fields["counterparty"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = visible
        field.required = False
        field.help_text = _("Or leave empty and type the firm's name and credit code below.")
        options = list(visible.order_by("name", "pk")[:COUNTERPARTY_OPTIONS])
        if self.instance.counterparty_id and all(c.pk != self.instance.counterparty_id for c in options):
            current = visible.filter(pk=self.instance.counterparty_id).first()
            if current is not None:
                options.insert(0, current)
        # The widget lists a bounded set; validation still accepts every customer in `visible`.
        field.widget.choices = [("", "---------"), *((c.pk, f"{c.name} ({c.credit_code})") for c in options)]
        self.fields["counterparty_name"].required = False
        widen(self.fields["counterparty_credit_code"], 30)
        for name in ("share_pct", "amount"):
            self.fields[name].widget.attrs.update({"step": "0.01", "inputmode": "decimal"})

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("counterparty") and not cleaned.get("counterparty_name"):
            self.add_error("counterparty_name", _("Name the other firm or pick a customer."))
        return cleaned


class DocumentForm(forms.Form):
    """A file for the customer's archive; type and size rules are the service's."""

    kind = forms.ChoiceField(choices=DocumentKind.choices)
    title = forms.CharField(max_length=200, required=False, help_text=_("Leave empty to use the file name."))
    file = forms.FileField()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("kind", "title", "file"):
            # The model's verbose names, so both catalogues carry one wording.
            self.fields[name].label = capfirst(getattr(Document._meta.get_field(name), "verbose_name", name))
        accepted = ",".join(f".{ext}" for ext in settings.DOCUMENT_EXTENSIONS)
        self.fields["file"].widget.attrs["accept"] = accepted
        self.fields["file"].help_text = _("Allowed: %(types)s; at most %(mb)d MB.") % {
            "types": ", ".join(settings.DOCUMENT_EXTENSIONS),
            "mb": settings.DOCUMENT_MAX_BYTES // (1024 * 1024),
        }


class ArchiveForm(forms.Form):
    """The confirm step of archiving; the version makes a stale confirmation a conflict."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)


class ImportForm(forms.Form):
    """An import file and whether to keep its good rows when others are rejected."""

    file = forms.FileField(label=_("File"))
    partial = forms.BooleanField(
        label=_("Keep the good rows"),
        required=False,
        help_text=_("Without this, one rejected row stops the import and nothing is saved."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.csv"
        self.fields["file"].help_text = _(".xlsx or .csv; at most %(mb)d MB and %(rows)s rows.") % {
            "mb": settings.IMPORT_MAX_BYTES // (1024 * 1024),
            "rows": f"{settings.IMPORT_MAX_ROWS:,}",
        }

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        head = upload.read(8)
        upload.seek(0)
        try:
            check_file(name=upload.name or "", size=upload.size, head=head, max_bytes=settings.IMPORT_MAX_BYTES)
        except FileRejected as error:
            raise ValidationError(error.message) from None
        return upload
