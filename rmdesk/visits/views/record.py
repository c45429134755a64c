"""Recording a visit (§4.3–§4.6): the actual time, the six needs, proposals and products presented (row sections),
the key people's preferences (saved to the archive), the self-check, notes and confidential notes; and checking in
on the day, with the browser's location when the RM allows it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from rmdesk.access.policy import Action
from rmdesk.customers.models import KeyPerson
from rmdesk.development.views import AuthedRequest
from rmdesk.development.views.service_calls import run_on_form, run_with_message
from rmdesk.org.models import User
from rmdesk.visits import services
from rmdesk.visits.choices import CheckinStatus, VisitStatus
from rmdesk.visits.forms import (
    ETIQUETTE,
    ROW_SECTIONS,
    SERVICE_ALIASES,
    TABOOS,
    RecordForm,
    pref_field,
    record_initial,
    row_initial,
)
from rmdesk.visits.models import Visit
from rmdesk.visits.views.common import keep_input_with_current_version, visit_or_404

EXTRA_ROWS = 1  # blank rows offered under the saved ones
ADD_ROW = "add_row"  # the "add a row" buttons submit the form under this name, with the section as value
ROWS_REFUSED = gettext_lazy("The record was not saved: see the rows marked below.")


def _key_people(visit: Visit) -> tuple[list[KeyPerson], set[int]]:
    """The customer's key persons, those who attended first (others may have joined unplanned), and who attended."""
    attended = {link.key_person_id for link in visit.contact_links.all()}
    people = KeyPerson.objects.filter(customer_id=visit.customer_id, archived_at__isnull=True).order_by("role", "pk")
    return sorted(people, key=lambda person: person.pk not in attended), attended


def _formsets(request: AuthedRequest, visit: Visit) -> dict[str, Any]:
    """The row sections, bound to the POST or filled from the visit (with a blank row under the saved ones); the "add
    a row" button adds one blank row to its section."""
    if request.method != "POST":
        initial = row_initial(visit)
        formsets = {}
        for prefix, (formset_class, _key) in ROW_SECTIONS.items():
            formset = formset_class(prefix=prefix, initial=initial[prefix])
            formset.extra = EXTRA_ROWS
            formsets[prefix] = formset
        return formsets
    data = request.POST.copy()
    adding = request.POST.get(ADD_ROW, "")
    total = data.get(f"{adding}-TOTAL_FORMS", "")
    if adding in ROW_SECTIONS and total.isdigit():
        data[f"{adding}-TOTAL_FORMS"] = str(int(total) + 1)
    return {prefix: formset_class(data, prefix=prefix) for prefix, (formset_class, _key) in ROW_SECTIONS.items()}


def _record_call(
    actor: User, visit: Visit, form: RecordForm, formsets: dict[str, Any], row_errors: dict[str, list[str]]
) -> Callable[[], None]:
    """The service call; its errors about a row section are kept for that section, the rest go on the form."""
    data = form.cleaned_data
    start, end = form.moments()
    rows = {
        key: [row.value() for row in formsets[prefix] if row.filled()] for prefix, (_c, key) in ROW_SECTIONS.items()
    }

    def call() -> None:
        try:
            services.record_visit(
                actor=actor,
                visit_id=visit.pk,
                version=data["version"],
                actual_start=start,
                actual_end=end,
                goals_short=data["goals_short"],
                goals_long=data["goals_long"],
                need_tags=data["need_tags"],
                needs_detail=data["needs_detail"],
                operations=data["operations"],
                product_reaction=data["product_reaction"],
                notes=data["notes"],
                confidential_notes=data["confidential_notes"],
                self_check=data["self_check"],
                self_check_note=data["self_check_note"],
                key_person_preferences=form.preferences(),
                **rows,
            )
        except ValidationError as error:
            fields: dict[str, list[str]] = (
                dict(error.message_dict) if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
            )
            for prefix, (_c, key) in ROW_SECTIONS.items():
                if key in fields:
                    row_errors[prefix] = fields.pop(key)
            if not fields:
                fields[NON_FIELD_ERRORS] = [str(ROWS_REFUSED)]
            raise ValidationError(fields) from None

    return call


@login_required
@require_http_methods(["GET", "POST"])
def record(request: AuthedRequest, pk: int) -> HttpResponse:
    """Record what happened on the visit, or correct the record; a cancelled visit has nothing to record."""
    user = request.user
    visit = visit_or_404(user, pk, Action.CHANGE)
    context: dict[str, Any] = {"visit": visit, "customer": visit.customer}
    if visit.status == VisitStatus.CANCELLED:
        # The service's own words (services.record_visit), instead of a form that could never be saved.
        context["refusal"] = _("This visit was cancelled, so there is nothing to record. Plan a new visit instead.")
        return render(request, "visits/record.html", context)
    people, attended = _key_people(visit)
    form = RecordForm(request.POST or None, people=people, initial=record_initial(visit))
    formsets = _formsets(request, visit)
    row_errors: dict[str, list[str]] = {}
    if request.method == "POST" and request.POST.get(ADD_ROW) not in ROW_SECTIONS:
        rows_valid = all([formset.is_valid() for formset in formsets.values()])  # every section's errors, not the first
        if form.is_valid() and rows_valid:
            if run_on_form(form, _record_call(user, visit, form, formsets, row_errors), aliases=SERVICE_ALIASES):
                messages.success(request, _("The visit is recorded."))
                return redirect("visits:detail", visit.pk)
            # The entries stay as typed; after a conflict the next save applies over the newer version.
            keep_input_with_current_version(form, visit_or_404(user, pk, Action.CHANGE))
        elif not rows_valid:
            form.add_error(None, str(ROWS_REFUSED))
    context.update(
        form=form,
        formsets=formsets,
        row_errors=row_errors,
        attended=[(p, form[pref_field(p)]) for p in people if p.pk in attended],
        others=[(p, form[pref_field(p)]) for p in people if p.pk not in attended],
        taboos=[str(value) for value in TABOOS],
        etiquette=[str(value) for value in ETIQUETTE],
        add_row=ADD_ROW,
    )
    return render(request, "visits/record.html", context)


# --- check-in --------------------------------------------------------------------------------------------------------

CHECKED_IN = {
    CheckinStatus.LOCATED: gettext_lazy("Checked in with your location."),
    CheckinStatus.DENIED: gettext_lazy("Location permission refused: checked in without location."),
    CheckinStatus.UNAVAILABLE: gettext_lazy("Checked in without location: the browser could not tell where you are."),
}


@login_required
@require_POST
def checkin(request: AuthedRequest, pk: int) -> HttpResponse:
    """Check in at the visit: checkin.js posts the position, or that permission was refused or no position was found;
    without JavaScript the button posts "unavailable". The service checks every value, and who may check in (an
    attendee with a read-only role too)."""
    visit = visit_or_404(request.user, pk, Action.VIEW)
    post = request.POST
    done = run_with_message(
        request,
        lambda: services.check_in(
            actor=request.user,
            visit_id=visit.pk,
            status=post.get("status", ""),
            latitude=post.get("latitude") or None,
            longitude=post.get("longitude") or None,
            accuracy_m=post.get("accuracy_m") or None,
        ),
    )
    if done is not None:
        status = CheckinStatus(done.checkin_status)
        level = messages.WARNING if status == CheckinStatus.DENIED else messages.SUCCESS
        messages.add_message(request, level, str(CHECKED_IN[status]))
    return redirect("visits:detail", visit.pk)
