"""Customer list exports (.xlsx): the scope and filters of the list, and an audit event per export.

The workbook is streamed: rows leave the database in chunks and reach the browser (or the file of
`rmdesk export customers`) as they are written, so a branch's whole book never sits in memory. Its sheet
has the columns of the import template's customers sheet, so an export imports back unchanged. It holds
no personal data of key persons. Every cell is text: amounts keep two decimals, and a name that looks
like a formula or HTML stays plain text.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rmdesk.access.policy import Action, may
from rmdesk.audit.services import record
from rmdesk.core.reference import city_label, division_label
from rmdesk.core.xlsx import Sheet, stream_workbook
from rmdesk.customers.filters import CustomerFilter
from rmdesk.customers.imports.templates import CUSTOMERS, Column, Kind
from rmdesk.customers.models import Customer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cell(column: Column, customer: Customer) -> str:
    """One customer's value for one column, as the import reads it back."""
    name = column.field
    if name == "owning_unit":
        return customer.owning_unit.code
    if name == "owning_unit_name":
        return customer.owning_unit.name
    if name in ("primary_rm", "primary_rm_name"):
        rm = customer.primary_rm
        if rm is None:
            return ""  # a prospect waiting in its unit's pool
        return rm.username if name == "primary_rm" else rm.display_name
    value = getattr(customer, name)
    if value is None or value == "":
        return ""
    if column.kind == Kind.AMOUNT:
        # Text with two decimals: a spreadsheet float would not be the amount on file.
        return f"{value:.2f}"
    if column.kind == Kind.DATE:
        return str(value.isoformat())
    if column.kind == Kind.INDUSTRY:
        return division_label(value)
    if column.kind == Kind.REGION:
        return city_label(value)
    if column.kind == Kind.CHOICE:
        return str(getattr(customer, f"get_{name}_display")())
    return str(value)


def _sheet(queryset: QuerySet[Customer]) -> Sheet:
    columns = CUSTOMERS.columns
    return Sheet(
        title=str(CUSTOMERS.title),
        header=[str(c.label) for c in columns],
        rows=([cell(c, customer) for c in columns] for customer in queryset.iterator(chunk_size=2000)),
        widths=[c.width for c in columns],
    )


def export_customers(*, actor: Any, customer_filter: CustomerFilter) -> tuple[Iterator[bytes], int]:
    """Record the export on the audit trail, then stream the filtered customers in `actor`'s export scope.

    Returns the workbook's bytes as an iterator and the number of customers it holds. The event is written
    first, in its own transaction: an export that starts is on the record even if the download breaks off.
    """
    queryset: QuerySet[Customer] = customer_filter.apply(Customer.objects.restrict(actor, Action.EXPORT))
    queryset = queryset.select_related("owning_unit", "primary_rm").order_by("pk")
    filters = {k: v for k, v in customer_filter.cleaned_data.items() if v not in ("", None, False)}
    with transaction.atomic():
        count = queryset.count()
        record(actor=actor, action="customer.export", changes={"rows": count, "filters": filters})
    # The stream is read after the view returns: it keeps the language the export was asked in.
    language = translation.get_language()

    def chunks() -> Iterator[bytes]:
        with translation.override(language):
            yield from stream_workbook([_sheet(queryset)])

    return chunks(), count


@never_cache
@require_GET
def export_view(request: HttpRequest) -> HttpResponseBase:
    """GET the customer list as .xlsx with the list page's filters, streamed."""
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
    response = StreamingHttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="customers-{stamp}.xlsx"'
    return response
