"""Forms of the visit pages. They shape input for `rmdesk.visits.services`, which alone decide and save: ids are only
checked to be numbers here, so a visiting RM, a colleague or a key person the service refuses is named in the
service's own words; its field errors are put back on these forms by name (`SERVICE_ALIASES`).

Times are typed as a date and clock times in the bank's time zone (settings.TIME_ZONE) and combined here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db.models import Q
from django.forms.models import fields_for_model
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from rmdesk.customers.forms import DATE_WIDGET
from rmdesk.customers.models import Customer, CustomerCoRM, KeyPerson
from rmdesk.development.choices import Stage
from rmdesk.development.filters import rm_choices
from rmdesk.development.funnel import POOL
from rmdesk.org.choices import Role
from rmdesk.org.models import User
from rmdesk.visits.choices import (
    Interest,
    NeedTag,
    PrepItem,
    ProposalResponse,
    Satisfaction,
    SelfCheck,
)
from rmdesk.visits.filters import VisitFilter
from rmdesk.visits.models import OtherBankCredit, ProductPresented, Proposal, Visit
from rmdesk.visits.queries import sees_customer
from rmdesk.visits.services import OtherBankInput, ProductInput, ProposalInput

TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
CHECKBOXES = forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"})
MAX_ID = 2**63 - 1
PLAN_TEXT_FIELDS = ["purpose", "purpose_detail", "mode", "place", "other_attendees", "strategy", "materials"]
RECORD_TEXT_FIELDS = [
    "goals_short",
    "goals_long",
    "needs_detail",
    "operations",
    "product_reaction",
    "notes",
    "confidential_notes",
    "self_check_note",
]
# The self-check in two groups: the taboos of domain.md §4.6, then the etiquette of §2.
TABOOS = (SelfCheck.ATTENTIVE, SelfCheck.NOT_CASUAL, SelfCheck.HONORIFICS, SelfCheck.NO_DISPLEASURE)
ETIQUETTE = tuple(check for check in SelfCheck if check not in TABOOS)
# A service's field name → this module's form field (NON_FIELD_ERRORS: the form's top).
SERVICE_ALIASES = {
    "planned_start": "start_time",
    "planned_end": "end_time",
    "actual_start": "start_time",
    "actual_end": "end_time",
    "new_start": "start_time",
    "new_end": "end_time",
    "rm_id": "rm",
    "bank_attendee_ids": "bank_attendees",
    "key_person_ids": "key_persons",
    "owner_id": "owner",
    "event_id": NON_FIELD_ERRORS,
    "status": NON_FIELD_ERRORS,
    "visit": NON_FIELD_ERRORS,
    "key_person_preferences": NON_FIELD_ERRORS,
}


def bank_time(day: date, clock: time) -> datetime:
    """A date and a clock time in the bank's time zone, as an aware moment."""
    return timezone.make_aware(datetime.combine(day, clock), timezone.get_default_timezone())


def _label(name: str, model: Any = Visit) -> Any:
    """A model field's label (lazy: forms are built before a language is active), so forms and pages share one
    wording and one translation."""
    return capfirst(model._meta.get_field(name).verbose_name)


def _plain_id(value: Any) -> bool:
    text = str(value)
    return text.isascii() and text.isdigit() and int(text) <= MAX_ID


class IdChoiceField(forms.TypedChoiceField):
    """An id offered in a list; any id passes here, and the service says why one it refuses is wrong."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(coerce=int, empty_value=None, **kwargs)

    def valid_value(self, value: Any) -> bool:
        return _plain_id(value)


class IdsField(forms.TypedMultipleChoiceField):
    """Ids offered as checkboxes; as IdChoiceField, the service checks them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(coerce=int, required=False, widget=CHECKBOXES, **kwargs)

    def valid_value(self, value: Any) -> bool:
        return _plain_id(value)


class TimesForm(forms.Form):
    """A date with a start and an end time on it, in the bank's time zone (a visit does not run past midnight)."""

    day = forms.DateField(label=_("Date"), widget=DATE_WIDGET)
    start_time = forms.TimeField(label=_("From"), widget=TIME_WIDGET)
    end_time = forms.TimeField(label=_("To"), widget=TIME_WIDGET)

    def moments(self) -> tuple[datetime | None, datetime | None]:
        """The start and end as aware moments (None where a part is missing)."""
        data = self.cleaned_data
        day, start, end = data.get("day"), data.get("start_time"), data.get("end_time")
        if day is None:
            return None, None
        return (
            bank_time(day, start) if start is not None else None,
            bank_time(day, end) if end is not None else None,
        )


def times_initial(start: datetime, end: datetime) -> dict[str, Any]:
    local_start, local_end = timezone.localtime(start), timezone.localtime(end)
    return {"day": local_start.date(), "start_time": local_start.time(), "end_time": local_end.time()}


# --- the list's filters ----------------------------------------------------------------------------------------------


class VisitListFilter(VisitFilter):
    """The list page's filters: the API's (status replaced by the list's parts), a customer search by name, pinyin,
    initials or credit code, and for a lead or head one of their RMs."""

    SECTIONS = [
        ("", _("All")),
        ("upcoming", _("Upcoming")),
        ("to_record", _("To record")),
        ("postponed", _("Postponed")),
        ("done", _("Done")),
        ("cancelled", _("Cancelled")),
    ]

    show = forms.ChoiceField(label=_("Which visits"), choices=SECTIONS, required=False)
    q = forms.CharField(label=_("Search customers"), max_length=100, required=False)

    def __init__(self, data: Any = None, *, user: User, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        del self.fields["status"]
        # One customer's visits (the 360 page's "all visits" link) by id, carried along as the filters change.
        self.fields["customer"].widget = forms.HiddenInput()
        rms = [(pk, name) for pk, name in rm_choices(user) if pk != POOL]
        if rms:
            self.fields["rm"] = forms.TypedChoiceField(
                label=_("Visiting RM"), choices=[("", _("All RMs")), *rms], coerce=int, empty_value=None, required=False
            )
        else:
            del self.fields["rm"]
        self.order_fields(["show", "q", "rm", "date_from", "date_to", "customer"])


# --- plan ------------------------------------------------------------------------------------------------------------


def customer_rm_ids(customer: Customer) -> set[int]:
    """The ids of the customer's primary RM and co-RMs."""
    ids = set(CustomerCoRM.objects.filter(customer_id=customer.pk).values_list("user_id", flat=True))
    if customer.primary_rm_id is not None:
        ids.add(customer.primary_rm_id)
    return ids


def visiting_rm_choices(customer: Customer, current: User | None = None) -> list[User]:
    """Who may lead a visit of the customer: its primary RM and co-RMs (and whoever leads it now)."""
    ids = customer_rm_ids(customer)
    if current is not None:
        ids.add(current.pk)
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("full_name", "username"))


def colleague_choices(user: User, customer: Customer, chosen: Iterable[int] = ()) -> list[User]:
    """Colleagues offered as bank attendees: those of the user's unit and of the units of the customer's RMs (a
    bounded list on a phone), and anyone already chosen."""
    chosen_ids = {int(pk) for pk in chosen}
    units = set(
        User.objects.filter(pk__in=customer_rm_ids(customer)).exclude(unit=None).values_list("unit_id", flat=True)
    )
    if user.unit_id is not None:
        units.add(user.unit_id)
    people = User.objects.filter(Q(unit_id__in=units) | Q(pk__in=chosen_ids), is_active=True).exclude(
        role=Role.ADMINISTRATOR
    )
    offered = people.select_related("unit").order_by("unit__path", "full_name", "username")
    # Only those who see the customer may go (the service refuses others): not a teammate with a book of their own.
    return [person for person in offered if person.pk in chosen_ids or sees_customer(person, customer)]


class PlanForm(TimesForm):
    """A visit's plan (§4.1): why, when, where, who on both sides, the preparation and what to bring."""

    customer = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)
    event = forms.IntegerField(widget=forms.HiddenInput, min_value=1, max_value=MAX_ID, required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1, required=False)
    rm = IdChoiceField(label=_label("rm"), required=False)
    bank_attendees = IdsField(label=_label("bank_attendees"))
    key_persons = IdsField(
        label=_label("customer_attendees"),
        help_text=_("Who will meet you: their decision role and preferences are shown so you can prepare."),
    )
    preparation = forms.MultipleChoiceField(
        label=_label("preparation"), choices=PrepItem.choices, required=False, widget=CHECKBOXES
    )
    took_place = forms.BooleanField(
        label=_("This visit already took place"),
        required=False,
        help_text=_("File a visit that happened without a plan, then record it."),
    )

    field_order = ["customer", "event", "version", "purpose", "purpose_detail", "mode", "day", "start_time"]

    def __init__(self, *args: Any, user: User, customer: Customer, visit: Visit | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_fields = fields_for_model(Visit, fields=PLAN_TEXT_FIELDS)
        self.fields.update(model_fields)
        for name in ("strategy", "materials"):
            self.fields[name].widget.attrs["rows"] = "3"
        self.fields["materials"].help_text = _("Brochures, product descriptions and other materials to bring.")
        self.order_fields(
            [
                *self.field_order,
                "end_time",
                "place",
                "rm",
                "bank_attendees",
                "key_persons",
                "other_attendees",
                "preparation",
                "strategy",
                "materials",
                "took_place",
            ]
        )
        self.visit = visit
        chosen_people = [link.user_id for link in visit.bank_attendee_links.all()] if visit else []
        rms = visiting_rm_choices(customer, visit.rm if visit else None)
        self._choices("rm", [(rm.pk, rm.display_name) for rm in rms])
        # The visiting RM goes anyway: not offered again as an attendee.
        leading = self.initial.get("rm")
        colleagues = [c for c in colleague_choices(user, customer, chosen_people) if c.pk != leading]
        self._choices(
            "bank_attendees",
            [(c.pk, f"{c.display_name} · {c.unit.name if c.unit else c.get_role_display()}") for c in colleagues],
        )
        self.people = list(KeyPerson.objects.filter(customer=customer, archived_at__isnull=True).order_by("role", "pk"))
        self._choices("key_persons", [(person.pk, person.name) for person in self.people])
        if visit is not None:
            del self.fields["took_place"]
            self.fields["version"].required = True

    def _choices(self, name: str, choices: list[tuple[int, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def service_kwargs(self) -> dict[str, Any]:
        """The service's arguments from the cleaned form (plan_visit and update_plan share them)."""
        data = self.cleaned_data
        start, end = self.moments()
        kwargs: dict[str, Any] = {name: data[name] for name in PLAN_TEXT_FIELDS}
        kwargs.update(
            planned_start=start,
            planned_end=end,
            rm_id=data["rm"],
            bank_attendee_ids=data["bank_attendees"],
            key_person_ids=data["key_persons"],
            preparation=data["preparation"],
        )
        return kwargs


def plan_initial(user: User, customer: Customer, *, event_id: int | None, now: datetime) -> dict[str, Any]:
    """A new plan: tomorrow 10:00–11:00, led by the user when they look after the customer, else its primary RM."""
    tomorrow = timezone.localdate(now) + timedelta(days=1)
    rm_ids = {rm.pk for rm in visiting_rm_choices(customer)}
    rm = user.pk if user.pk in rm_ids else customer.primary_rm_id
    initial: dict[str, Any] = {"customer": customer.pk, "day": tomorrow, "rm": rm}
    initial.update(start_time=time(10), end_time=time(11))
    if event_id is not None:
        initial.update(event=event_id, purpose="timing")
    return initial


def edit_initial(visit: Visit) -> dict[str, Any]:
    initial: dict[str, Any] = {name: getattr(visit, name) for name in PLAN_TEXT_FIELDS}
    initial.update(times_initial(visit.planned_start, visit.planned_end))
    initial.update(
        customer=visit.customer_id,
        event=visit.event_id,
        version=visit.version,
        rm=visit.rm_id,
        bank_attendees=[link.user_id for link in visit.bank_attendee_links.all()],
        key_persons=[link.key_person_id for link in visit.contact_links.all()],
        preparation=list(visit.preparation),
    )
    return initial


# --- record ----------------------------------------------------------------------------------------------------------


class OtherBankRow(forms.Form):
    bank_name = forms.CharField(label=_label("bank_name", OtherBankCredit), max_length=100, required=False)
    facility = forms.CharField(label=_label("facility", OtherBankCredit), max_length=100, required=False)
    amount = forms.DecimalField(
        label=_label("amount", OtherBankCredit),
        max_digits=18,
        decimal_places=2,
        min_value=Decimal(0),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    satisfaction = forms.ChoiceField(
        label=_label("satisfaction", OtherBankCredit),
        choices=[("", "—"), *Satisfaction.choices],
        required=False,
    )

    def filled(self) -> bool:
        data = self.cleaned_data
        return bool(data.get("bank_name") or data.get("facility") or data.get("amount") is not None)

    def value(self) -> OtherBankInput:
        data = self.cleaned_data
        return OtherBankInput(data["bank_name"], data["facility"], data["amount"], data["satisfaction"])


class ProposalRow(forms.Form):
    content = forms.CharField(label=_label("content", Proposal), max_length=300, required=False)
    response = forms.ChoiceField(
        label=_label("response", Proposal), choices=ProposalResponse.choices, initial=ProposalResponse.PENDING
    )
    counter_offer = forms.CharField(label=_label("counter_offer", Proposal), max_length=300, required=False)

    def filled(self) -> bool:
        return bool(self.cleaned_data.get("content") or self.cleaned_data.get("counter_offer"))

    def value(self) -> ProposalInput:
        data = self.cleaned_data
        return ProposalInput(data["content"], data["response"], data["counter_offer"])


class ProductRow(forms.Form):
    product = forms.CharField(label=_label("product", ProductPresented), max_length=100, required=False)
    interest = forms.ChoiceField(
        label=_label("interest", ProductPresented), choices=[("", "—"), *Interest.choices], required=False
    )
    note = forms.CharField(label=_label("note", ProductPresented), max_length=200, required=False)

    def filled(self) -> bool:
        data = self.cleaned_data
        return bool(data.get("product") or data.get("interest") or data.get("note"))

    def value(self) -> ProductInput:
        data = self.cleaned_data
        return ProductInput(data["product"], data["interest"], data["note"])


OtherBankFormSet = forms.formset_factory(OtherBankRow, extra=0, max_num=30, absolute_max=30)
ProposalFormSet = forms.formset_factory(ProposalRow, extra=0, max_num=30, absolute_max=30)
ProductFormSet = forms.formset_factory(ProductRow, extra=0, max_num=30, absolute_max=30)
# The record's row sections: the formset prefix → (formset class, the service's argument and error key).
ROW_SECTIONS: dict[str, tuple[Any, str]] = {
    "banks": (OtherBankFormSet, "other_banks"),
    "proposals": (ProposalFormSet, "proposals"),
    "products": (ProductFormSet, "products"),
}


def row_initial(visit: Visit) -> dict[str, list[dict[str, Any]]]:
    """The rows saved on the visit, for the record form's sections."""
    return {
        "banks": [
            {"bank_name": r.bank_name, "facility": r.facility, "amount": r.amount, "satisfaction": r.satisfaction}
            for r in visit.other_banks.all()
        ],
        "proposals": [
            {"content": r.content, "response": r.response, "counter_offer": r.counter_offer}
            for r in visit.proposals.all()
        ],
        "products": [
            {"product": r.product, "interest": r.interest, "note": r.note} for r in visit.products_presented.all()
        ],
    }


def pref_field(person: KeyPerson) -> str:
    return f"pref_{person.pk}"


class RecordForm(TimesForm):
    """What happened on the visit (§4.3–§4.6), without the row sections (formsets) beside it."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    need_tags = forms.MultipleChoiceField(
        label=_label("need_tags"), choices=NeedTag.choices, required=False, widget=CHECKBOXES
    )
    self_check = forms.MultipleChoiceField(
        label=_label("self_check"), choices=SelfCheck.choices, required=False, widget=CHECKBOXES
    )

    def __init__(self, *args: Any, people: list[KeyPerson], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(fields_for_model(Visit, fields=RECORD_TEXT_FIELDS))
        for name in RECORD_TEXT_FIELDS:
            if isinstance(self.fields[name].widget, forms.Textarea):
                self.fields[name].widget.attrs["rows"] = "2"
        self.fields["day"].label = _("Date of the visit")
        self.people = people
        for person in people:
            self.fields[pref_field(person)] = forms.CharField(
                label=person.name,
                required=False,
                initial=person.preferences,
                widget=forms.Textarea(attrs={"rows": "2"}),
            )

    def preferences(self) -> dict[int, str]:
        """The preferences as typed, of the people the form was shown with: a key person added meanwhile is not in
        the POST, and must not have their preferences cleared."""
        return {
            person.pk: self.cleaned_data[pref_field(person)]
            for person in self.people
            if pref_field(person) in self.data
        }


def record_initial(visit: Visit) -> dict[str, Any]:
    """The record as saved, or for a visit not yet recorded its planned times."""
    initial: dict[str, Any] = {name: getattr(visit, name) for name in RECORD_TEXT_FIELDS}
    if visit.actual_start and visit.actual_end:
        initial.update(times_initial(visit.actual_start, visit.actual_end))
    else:
        initial.update(times_initial(visit.planned_start, visit.planned_end))
    initial.update(version=visit.version, need_tags=list(visit.need_tags), self_check=list(visit.self_check))
    return initial


# --- actions on a visit ----------------------------------------------------------------------------------------------


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=200)


class PostponeForm(ReasonForm):
    """Postpone with a reason; a new date and times are optional (without them the visit waits postponed)."""

    day = forms.DateField(label=_("New date"), required=False, widget=DATE_WIDGET)
    start_time = forms.TimeField(label=_("From"), required=False, widget=TIME_WIDGET)
    end_time = forms.TimeField(label=_("To"), required=False, widget=TIME_WIDGET)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [data.get(name) is not None for name in ("day", "start_time", "end_time")]
        if any(given) and not all(given):
            self.add_error("day", _("Give the new date with both times, or leave all three empty."))
        return data

    def moments(self) -> tuple[datetime | None, datetime | None]:
        data = self.cleaned_data
        if data.get("day") is None or data.get("start_time") is None or data.get("end_time") is None:
            return None, None
        return bank_time(data["day"], data["start_time"]), bank_time(data["day"], data["end_time"])


def follow_up_owners(visit: Visit) -> list[User]:
    """Who may own a next step: the visiting RM, the customer's primary RM and co-RMs, the bank attendees."""
    ids = {visit.rm_id, *(link.user_id for link in visit.bank_attendee_links.all()), *customer_rm_ids(visit.customer)}
    return list(User.objects.filter(pk__in=ids, is_active=True).order_by("full_name", "username"))


class FollowUpTaskForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput, initial="task")
    description = forms.CharField(label=_("Next step"), max_length=200)
    owner = IdChoiceField(label=_("Owner"))
    due_date = forms.DateField(label=_("Due date"), widget=DATE_WIDGET)

    def __init__(self, *args: Any, visit: Visit, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        owners = follow_up_owners(visit)
        field = self.fields["owner"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(user.pk, user.display_name) for user in owners]
        self.initial.setdefault("owner", visit.rm_id)
        self.initial.setdefault("due_date", timezone.localdate() + timedelta(days=7))


class FollowUpStageForm(forms.Form):
    kind = forms.CharField(widget=forms.HiddenInput, initial="stage")
    to_stage = forms.ChoiceField(label=_("Move the prospect to"), choices=())
    description = forms.CharField(label=_("Why (what the visit found)"), max_length=200, required=False)
    won_evidence = forms.CharField(
        label=_("Account or signed contract"),
        max_length=100,
        required=False,
        help_text=_("Needed to mark it won: the account number opened, or the signed contract's reference."),
    )
    drop_reason = forms.CharField(label=_("Reason for dropping"), max_length=200, required=False)

    def __init__(self, *args: Any, stages: list[Stage], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["to_stage"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(stage.value, stage.label) for stage in stages]
