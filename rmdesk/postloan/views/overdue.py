"""The overdue list: loans with days past due in the user's scope, with what is overdue, the penalty to date, the
classification and its proposal, the last collection contact and any open promise to pay; filtered, sorted, paged,
and exported to .xlsx with the same filters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from rmdesk.access.policy import Action, may
from rmdesk.audit.services import record
from rmdesk.core.htmx import render_page_or_partial
from rmdesk.core.xlsx import Sheet, stream_workbook
from rmdesk.development.views import AuthedRequest
from rmdesk.postloan.filters import OverdueFilter
from rmdesk.postloan.queries import OVERDUE_ORDERS, overdue_loans, overdue_totals
from rmdesk.postloan.views.common import PAGE_SIZE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@login_required
@require_GET
def overdue_page(request: AuthedRequest) -> HttpResponse:
    """The overdue loans in scope; htmx swaps only the table when the filters or the page change."""
    user = request.user
    if not may(user, Action.VIEW):
        raise Http404
    overdue_filter = OverdueFilter(request.GET, user=user)
    context: dict[str, Any] = {"filter": overdue_filter, "page_obj": None, "totals": None}
    if overdue_filter.is_valid():
        loans = overdue_loans(user, **overdue_filter.query_kwargs()).order_by(*OVERDUE_ORDERS[overdue_filter.order])
        context["page_obj"] = Paginator(loans, PAGE_SIZE).get_page(request.GET.get("page"))
        context["totals"] = overdue_totals(loans)
        context["may_export"] = may(user, Action.EXPORT)
    context["sees_rms"] = not overdue_filter.own_book
    return render_page_or_partial(request, "postloan/overdue.html", "postloan/partials/overdue_rows.html", context)


def export_header() -> list[str]:
    return [
        pgettext("loan list column", "Customer"),
        _("Contract number"),
        _("Currency"),
        _("Primary RM"),
        _("Days past due"),
        _("Overdue since"),
        _("Outstanding principal"),
        _("Overdue principal"),
        _("Overdue interest"),
        _("Penalty and compound interest"),
        _("Classification"),
        _("Proposed classification"),
        _("Last contact"),
        _("Promised payment date"),
        _("Promised amount"),
    ]


def export_row(loan: Any) -> list[str]:
    """One overdue loan as text cells (amounts exact, two decimals)."""
    return [
        loan.customer.name,
        loan.contract_no,
        loan.currency,
        loan.primary_rm.display_name,
        str(loan.days_past_due),
        loan.overdue_since.isoformat() if loan.overdue_since else "",
        f"{loan.outstanding_principal:.2f}",
        f"{loan.overdue_principal:.2f}",
        f"{loan.overdue_interest:.2f}",
        f"{loan.penalty_unpaid:.2f}",
        loan.get_classification_display(),
        loan.get_proposed_classification_display() if loan.proposed_classification else "",
        loan.last_contact.isoformat() if loan.last_contact else "",
        loan.promise_date.isoformat() if loan.promise_date else "",
        f"{loan.promise_amount:.2f}" if loan.promise_amount is not None else "",
    ]


@never_cache
@login_required
@require_GET
def overdue_export(request: AuthedRequest) -> HttpResponse | StreamingHttpResponse:
    """The overdue list as .xlsx, with the page's filters and order, in the user's export scope; the export is on
    the audit trail before the first byte leaves."""
    user = request.user
    if not may(user, Action.EXPORT):
        raise Http404
    overdue_filter = OverdueFilter(request.GET, user=user)
    if not overdue_filter.is_valid():
        return HttpResponse(
            "; ".join(f"{k}: {' '.join(v)}" for k, v in overdue_filter.error_fields().items()),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    loans = overdue_loans(user, action=Action.EXPORT, **overdue_filter.query_kwargs()).order_by(
        *OVERDUE_ORDERS[overdue_filter.order]
    )
    filters = {k: str(v) for k, v in overdue_filter.cleaned_data.items() if v not in ("", None)}
    with transaction.atomic():
        count = loans.count()
        record(actor=user, action="loan.overdue_export", changes={"rows": count, "filters": filters})
    language = translation.get_language()

    def chunks() -> Iterator[bytes]:
        # The stream is read after the view returns: it keeps the language the export was asked in.
        with translation.override(language):
            rows = (export_row(loan) for loan in loans.iterator(chunk_size=2000))
            yield from stream_workbook([Sheet(title=_("Overdue loans"), header=export_header(), rows=rows)])

    response = StreamingHttpResponse(chunks(), content_type=XLSX)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="overdue-loans-{stamp}.xlsx"'
    return response
