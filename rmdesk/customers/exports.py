"""Customer list exports (.xlsx): the scope and filters of the list, and an audit event per export."""

from __future__ import annotations

import io
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from rmdesk.access.policy import Action, may
from rmdesk.audit.services import record
from rmdesk.core.reference import city_label, division_label
from rmdesk.customers.filters import CustomerFilter
from rmdesk.customers.models import Customer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _columns() -> list[tuple[str, Any]]:
    return [
        (_("Name"), lambda c: c.name),
        (_("Unified social credit code"), lambda c: c.credit_code),
        (_("Legal representative"), lambda c: c.legal_representative),
        # Amounts as text with two decimals: a spreadsheet float would not be the amount on file.
        (_("Registered capital (yuan)"), lambda c: f"{c.registered_capital:.2f}" if c.registered_capital else ""),
        (_("Established on"), lambda c: c.established_on.isoformat() if c.established_on else ""),
        (_("Industry"), lambda c: division_label(c.industry) if c.industry else ""),
        (_("Region"), lambda c: city_label(c.region) if c.region else ""),
        (_("Enterprise size"), lambda c: c.get_size_display()),
        (_("Ownership type"), lambda c: c.get_ownership_display()),
        (_("Internal credit rating"), lambda c: c.credit_rating),
        (_("Tier"), lambda c: c.get_tier_display()),
        (_("Lifecycle status"), lambda c: c.get_status_display()),
        (_("Owning unit"), lambda c: c.owning_unit.name),
        (_("Primary RM"), lambda c: c.primary_rm.display_name),
    ]


@transaction.atomic
def export_customers(*, actor: Any, customer_filter: CustomerFilter) -> tuple[bytes, int]:
    """The filtered customers in `actor`'s export scope as an .xlsx workbook, and how many rows it holds."""
    queryset: QuerySet[Customer] = customer_filter.apply(Customer.objects.restrict(actor, Action.EXPORT))
    queryset = queryset.select_related("owning_unit", "primary_rm").order_by("pk")
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Customers"))
    columns = _columns()
    sheet.append([title for title, _value in columns])
    count = 0
    for customer in queryset.iterator(chunk_size=2000):
        sheet.append([value(customer) for _title, value in columns])
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    filters = {k: v for k, v in customer_filter.cleaned_data.items() if v not in ("", None, False)}
    record(actor=actor, action="customer.export", changes={"rows": count, "filters": filters})
    return buffer.getvalue(), count


def export_view(request: HttpRequest) -> HttpResponse:
    """GET the customer list as .xlsx with the list page's filters."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not may(request.user, Action.EXPORT):
        raise Http404
    customer_filter = CustomerFilter(request.GET)
    if not customer_filter.is_valid():
        return HttpResponse(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in customer_filter.error_fields().items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    content, _count = export_customers(actor=request.user, customer_filter=customer_filter)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.xlsx"'
    return response
