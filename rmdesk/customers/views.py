"""Customer archive pages: the list, the 360° page and its sections, and the forms that feed the services.

Every customer is fetched through `restrict()`; anything outside the user's scope answers 404. Writes go
through `rmdesk.customers.services` only, and a successful POST redirects.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import copy
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Any, TypeVar

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from rmdesk.access.policy import Action, may
from rmdesk.audit.models import AuditEvent
from rmdesk.core.errors import ConflictError, DomainError, NotFoundError
from rmdesk.core.htmx import render_page_or_partial
from rmdesk.core.models import VersionedModel
from rmdesk.core.money import to_wan
from rmdesk.customers import services
from rmdesk.customers.filters import CustomerFilter
from rmdesk.customers.forms import (
    ArchiveForm,
    CustomerForm,
    DocumentForm,
    FinancialStatementForm,
    KeyPersonForm,
    RelationshipForm,
    VersionedForm,
    add_service_errors,
    saved_values,
)
from rmdesk.customers.listing import scope_list
from rmdesk.customers.models import Customer, Document, FinancialStatement, KeyPerson, Relationship
from rmdesk.customers.queries import SEARCH_LIMIT, in_order, ranked_ids, search_customers
from rmdesk.customers.rows import list_rows
from rmdesk.customers.search import read_query
from rmdesk.org.models import User

PAGE_SIZE = 50
QUICK_RESULTS = 8  # in the header drop-down
QUERY_LENGTH = 100  # as the list's search field accepts
# The filter form's drop-downs, in the order they are laid out.
SELECT_FILTERS = ("status", "tier", "size", "credit_rating", "industry_section", "province")
TIMELINE_LENGTH = 100
HUNDREDTH = Decimal("0.01")

# The 360° page's sections: key, tab label, URL name. Each is also its own partial at its URL.
SECTIONS = (
    ("master", gettext_lazy("Master data"), "customers:detail"),
    ("key_persons", gettext_lazy("Key persons"), "customers:key_persons"),
    ("financials", gettext_lazy("Financials"), "customers:financials"),
    ("relationships", gettext_lazy("Relationships"), "customers:relationships"),
    ("documents", gettext_lazy("Documents"), "customers:documents"),
    ("timeline", gettext_lazy("Timeline"), "customers:timeline"),
    ("tasks", gettext_lazy("Tasks"), "customers:tasks"),
)

M = TypeVar("M", bound=models.Model)


class AuthedRequest(HttpRequest):
    user: User
    htmx: HtmxDetails


class Outcome(Enum):
    SAVED = "saved"
    INVALID = "invalid"
    CONFLICT = "conflict"


def _submit(form: Any, call: Callable[[], object]) -> Outcome:
    """Run a service call for a valid form; its errors land on the form, out of scope becomes a 404."""
    try:
        with transaction.atomic():
            # One transaction, so a view that calls two services (master data, then co-RMs) keeps both or none.
            call()
    except NotFoundError:
        raise Http404 from None
    except ConflictError as error:
        form.add_error(None, str(error.message))
        return Outcome.CONFLICT
    except DomainError as error:
        add_service_errors(form, ValidationError(error.fields or str(error.message)))
        return Outcome.INVALID
    except ValidationError as error:
        add_service_errors(form, error)
        return Outcome.INVALID
    return Outcome.SAVED


# --- fetching within scope ------------------------------------------------------------------------------------


def _customer(user: User, pk: int, action: Action = Action.VIEW) -> Customer:
    """The customer if `user` may apply `action` to it; otherwise 404, never 403."""
    queryset = Customer.objects.restrict(user, action).select_related("primary_rm", "owning_unit")
    if action != Action.VIEW:
        queryset = queryset.filter(archived_at__isnull=True)
    customer = queryset.filter(pk=pk).first()
    if customer is None:
        raise Http404
    return customer


def _owned(user: User, model: type[M], customer_pk: int, pk: int, action: Action = Action.CHANGE) -> M:
    """A record of the customer in the URL, within scope and not archived; else 404."""
    manager: Any = model._default_manager
    obj = (
        manager.restrict(user, action)
        .filter(pk=pk, customer_id=customer_pk, archived_at__isnull=True, customer__archived_at__isnull=True)
        .select_related("customer")
        .first()
    )
    if obj is None:
        raise Http404
    return obj


def _may_change(user: User, customer: Customer) -> bool:
    if customer.is_archived:
        return False
    return Customer.objects.restrict(user, Action.CHANGE).filter(pk=customer.pk).exists()


# --- list ----------------------------------------------------------------------------------------------------


@login_required
@require_GET
def customer_list(request: AuthedRequest) -> HttpResponse:
    """Customers in the user's scope, filtered; the rows alone when the filter form asks through htmx."""
    customer_filter = CustomerFilter(request.GET)
    queryset: QuerySet[Customer] = Customer.objects.restrict(request.user, Action.VIEW)
    # A bad filter value shows its field error over an empty list rather than everything or a 500.
    queryset = customer_filter.narrow(queryset) if customer_filter.is_valid() else queryset.none()
    searching = customer_filter.is_valid() and customer_filter.is_search
    if searching:
        page_obj = _search_page(queryset, customer_filter.cleaned_data["q"], request.GET.get("page"))
    else:
        valid = customer_filter.is_valid()
        archived_hidden = valid and not customer_filter.cleaned_data["include_archived"]
        whole = valid and customer_filter.narrows_by_archived_only
        page_obj = _page(queryset, request.GET.get("page"), archived_hidden=archived_hidden, whole=whole)
    context = {
        "search": _search_notes(customer_filter, page_obj.paginator.count) if searching else None,
        "customer_filter": customer_filter,
        "select_filters": [customer_filter[name] for name in SELECT_FILTERS],
        # On a phone the drop-downs fold away unless one of them is in use.
        "filters_open": any(request.GET.get(name) for name in (*SELECT_FILTERS, "include_archived")),
        "page_obj": page_obj,
        "rows": list_rows(page_obj.object_list),
        "may_create": may(request.user, Action.CREATE),
        "may_export": may(request.user, Action.EXPORT),
    }
    return render_page_or_partial(request, "customers/list.html", "customers/partials/list_rows.html", context)


# The columns of a list row (partials/list_rows.html).
LIST_COLUMNS = (
    "name",
    "credit_code",
    "archived_at",
    "tier",
    "status",
    "industry",
    "region",
    "primary_rm__username",
    "primary_rm__full_name",
)


class _CountedPaginator(Paginator):
    """A paginator told its count (ScopeList counts a scope its own way)."""

    def __init__(self, count: int) -> None:
        super().__init__([], PAGE_SIZE)
        self._count = count

    @property
    def count(self) -> int:
        return self._count


def _page(queryset: QuerySet[Customer], number: str | None, *, archived_hidden: bool, whole: bool) -> Page[Customer]:
    """One page of the whole scope in name order, its rows with their RM.

    The scope is counted and its page's ids found on the scope's own indexes (customers.listing), then the page's
    50 rows are read by id through the same queryset. Sorting the rows themselves reads every customer row of the
    scope: for a branch of 33,250 on the 1M demo bank, 100 ms on SQLite against 1 ms for the ids
    (bench/bench_http.py).
    """
    scope = scope_list(queryset, archived_hidden=archived_hidden, whole=whole)
    paginator = _CountedPaginator(scope.count())
    page = paginator.get_page(number)
    return Page(scope.page(_list_rows(queryset), (page.number - 1) * PAGE_SIZE, PAGE_SIZE), page.number, paginator)


def _search_page(queryset: QuerySet[Customer], q: str, number: str | None) -> Page[Customer]:
    """The search's best matches (at most SEARCH_LIMIT, ranked) in `queryset`, read by id: their number is the page's
    count."""
    return Paginator(in_order(_list_rows(queryset), ranked_ids(queryset, q)), PAGE_SIZE).get_page(number)


def _list_rows(queryset: QuerySet[Customer]) -> QuerySet[Customer]:
    """Only what a row shows: building fewer model instances per row is a fifth of the page's time."""
    return queryset.select_related("primary_rm").only(*LIST_COLUMNS)


def _search_notes(customer_filter: CustomerFilter, found: int) -> dict[str, Any]:
    """What to tell the user about a search: only the best matches are listed; one character only finds prefixes."""
    query = read_query(customer_filter.cleaned_data["q"])
    return {
        "limit": SEARCH_LIMIT,
        "full": found >= SEARCH_LIMIT,
        "prefix_only": query is not None and not query.substring,
    }


@login_required
@require_GET
def quick_search(request: AuthedRequest) -> HttpResponse:
    """The header box's drop-down: the best few matches among the customers the user may see (htmx partial)."""
    q = request.GET.get("q", "")[:QUERY_LENGTH]
    query = read_query(q)
    customers: list[Customer] = []
    if query is not None:
        visible = Customer.objects.restrict(request.user, Action.VIEW).filter(archived_at__isnull=True)
        customers = search_customers(visible.select_related("owning_unit"), q, limit=QUICK_RESULTS)
    context = {"q": q, "query": query, "customers": customers}
    return render(request, "customers/partials/quick_results.html", context)


# --- the 360° page -------------------------------------------------------------------------------------------


def _key_persons_context(request: AuthedRequest, customer: Customer) -> dict[str, Any]:
    persons = customer.key_persons.filter(archived_at__isnull=True).order_by("role", "pk")
    return {"key_persons": persons, "may_reveal": may(request.user, Action.REVEAL)}


def _growth(current: Decimal, previous: Decimal | None) -> Decimal | None:
    """Year-on-year growth in per cent, half-up to 0.01; undefined without a previous non-zero year."""
    if previous is None or previous == 0:
        return None
    return ((current - previous) * 100 / previous).quantize(HUNDREDTH, rounding=ROUND_HALF_UP)


def _ten_thousands(amount: Decimal) -> str:
    """Yuan as 万元 with two decimals, as a string: JSON carries amounts as strings, never floats."""
    return str(to_wan(amount))


def _financials_context(request: AuthedRequest, customer: Customer) -> dict[str, Any]:
    statements = list(customer.financial_statements.filter(archived_at__isnull=True).order_by("year"))
    revenue_by_year = {s.year: s.revenue for s in statements}
    rows = [
        {"statement": s, "debt_ratio": s.debt_ratio, "growth": _growth(s.revenue, revenue_by_year.get(s.year - 1))}
        for s in statements
    ]
    chart = {
        "years": [str(s.year) for s in statements],
        "revenue": [_ten_thousands(s.revenue) for s in statements],
        "net_profit": [_ten_thousands(s.net_profit) for s in statements],
        "debt_ratio": [
            None if s.debt_ratio is None else str((s.debt_ratio * 100).quantize(HUNDREDTH)) for s in statements
        ],
        "labels": {
            "revenue": _("Revenue (10k yuan)"),
            "net_profit": _("Net profit (10k yuan)"),
            "debt_ratio": _("Debt ratio (%)"),
        },
    }
    return {"statement_rows": list(reversed(rows)), "financial_chart": chart if statements else None}


def _relationships_context(request: AuthedRequest, customer: Customer) -> dict[str, Any]:
    relationships = list(
        customer.relationships.filter(archived_at__isnull=True).select_related("counterparty").order_by("kind", "pk")
    )
    counterparty_ids = [r.counterparty_id for r in relationships if r.counterparty_id]
    # Link to a counterparty's page only when the user may open it; the name and code show either way.
    linkable = Customer.objects.restrict(request.user, Action.VIEW).held_ids(counterparty_ids)
    return {
        "relationship_rows": [{"relationship": r, "linkable": r.counterparty_id in linkable} for r in relationships]
    }


def _documents_context(request: AuthedRequest, customer: Customer) -> dict[str, Any]:
    documents = customer.documents.filter(archived_at__isnull=True).select_related("uploaded_by")
    return {"documents": documents.order_by("-created_at", "-pk")}


def _timeline_context(request: AuthedRequest, customer: Customer) -> dict[str, Any]:
    # Safe only because `customer` itself came through restrict(): events carry no scope of their own.
    events = AuditEvent.objects.filter(customer_id=customer.pk).order_by("-seq")[:TIMELINE_LENGTH]
    return {"events": events, "timeline_limit": TIMELINE_LENGTH}


def _no_context(request: AuthedRequest, customer: Customer) -> dict[str, Any]:
    return {}


SECTION_CONTEXT: dict[str, Callable[[AuthedRequest, Customer], dict[str, Any]]] = {
    "master": _no_context,
    "key_persons": _key_persons_context,
    "financials": _financials_context,
    "relationships": _relationships_context,
    "documents": _documents_context,
    "timeline": _timeline_context,
    "tasks": _no_context,
}


@login_required
@require_GET
def customer_detail(request: AuthedRequest, pk: int, section: str = "master") -> HttpResponse:
    """The customer 360° page with `section` open, or only that section for htmx."""
    if section not in SECTION_CONTEXT:
        raise Http404
    customer = _customer(request.user, pk)
    context: dict[str, Any] = {
        "customer": customer,
        "section": section,
        "may_change": _may_change(request.user, customer),
        "co_rms": list(customer.co_rms.all()),
    }
    htmx = request.htmx
    if htmx and not htmx.boosted:
        context.update(SECTION_CONTEXT[section](request, customer))
    else:
        for build in SECTION_CONTEXT.values():
            context.update(build(request, customer))
        context["sections"] = [
            {"key": key, "label": label, "url": reverse(url_name, args=[customer.pk])}
            for key, label, url_name in SECTIONS
        ]
    return render_page_or_partial(request, "customers/detail.html", f"customers/partials/{section}.html", context)


# --- master data forms ---------------------------------------------------------------------------------------


def _form_page(request: AuthedRequest, context: dict[str, Any]) -> HttpResponse:
    return render(request, "customers/form_page.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def customer_create(request: AuthedRequest) -> HttpResponse:
    """Open a new customer file."""
    if not may(request.user, Action.CREATE):
        raise Http404
    form = CustomerForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        created: list[Customer] = []
        outcome = _submit(
            form,
            lambda: created.append(
                services.create_customer(
                    actor=request.user, data=form.service_data(), co_rms=form.cleaned_data["co_rms"]
                )
            ),
        )
        if outcome is Outcome.SAVED:
            messages.success(request, _("Customer file opened."))
            return redirect("customers:detail", created[0].pk)
    return _form_page(
        request,
        {
            "form": form,
            "title": _("New customer"),
            "submit_label": _("Open customer file"),
            "cancel_url": reverse("customers:list"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def customer_edit(request: AuthedRequest, pk: int) -> HttpResponse:
    """Change master data and co-RMs; after a conflict the typed values stay and the saved ones show beside."""
    customer = _customer(request.user, pk, Action.CHANGE)
    # The form gets its own copy: validating writes the typed values onto its instance, and the page
    # around the form must keep showing the saved name.
    form = CustomerForm(
        request.POST or None, instance=copy(customer), user=request.user, initial={"version": customer.version}
    )
    saved = None
    if request.method == "POST" and form.is_valid():

        def save() -> None:
            services.update_customer(
                actor=request.user,
                customer_id=pk,
                version=form.cleaned_data["version"],
                data=form.service_data(),
                co_rms=form.cleaned_data["co_rms"] if "co_rms" in form.changed_data else None,
            )

        outcome = _submit(form, save)
        if outcome is Outcome.SAVED:
            messages.success(request, _("Master data saved."))
            return redirect("customers:detail", pk)
        if outcome is Outcome.CONFLICT:
            saved = _rebase(form, _customer(request.user, pk, Action.CHANGE), extra=("co_rms",))
    return _form_page(
        request,
        {
            "form": form,
            "customer": customer,
            "title": _("Edit master data"),
            "saved": saved,
            "cancel_url": reverse("customers:detail", args=[pk]),
        },
    )


def _add_owned(
    request: AuthedRequest,
    *,
    form: Any,
    customer: Customer,
    add: Callable[[dict[str, Any]], object],
    title: str,
    saved_message: str,
    section: str,
) -> HttpResponse:
    """The add page of something a customer owns: save through `add`, or show the form's errors."""
    if request.method == "POST" and form.is_valid():
        outcome = _submit(form, lambda: add(form.service_data()))
        if outcome is Outcome.SAVED:
            messages.success(request, saved_message)
            return redirect(section, customer.pk)
    return _form_page(
        request,
        {"form": form, "customer": customer, "title": title, "cancel_url": reverse(section, args=[customer.pk])},
    )


def _edit_owned(
    request: AuthedRequest,
    *,
    form: VersionedForm,
    obj: Any,
    update: Callable[[int, dict[str, Any]], object],
    title: str,
    saved_message: str,
    section: str,
) -> HttpResponse:
    """The edit page of something a customer owns: save through `update`, or show the conflict."""
    customer_pk = obj.customer_id
    saved = None
    if request.method == "POST" and form.is_valid():
        outcome = _submit(form, lambda: update(form.cleaned_data["version"], form.service_data()))
        if outcome is Outcome.SAVED:
            messages.success(request, saved_message)
            return redirect(section, customer_pk)
        if outcome is Outcome.CONFLICT:
            saved = _rebase(form, _owned(request.user, type(obj), customer_pk, obj.pk))
    return _form_page(
        request,
        {
            "form": form,
            "customer": obj.customer,
            "title": title,
            "saved": saved,
            "cancel_url": reverse(section, args=[customer_pk]),
        },
    )


def _rebase(form: VersionedForm, current: models.Model, extra: tuple[str, ...] = ()) -> list[tuple[str, Any]]:
    """Point the form at the saved version and return the saved values to reconcile against."""
    assert isinstance(current, VersionedModel)
    form.rebase(current)
    names = [*(form._meta.fields or ()), *extra]
    return saved_values(current, names)


@login_required
@require_http_methods(["GET", "POST"])
def customer_archive(request: AuthedRequest, pk: int) -> HttpResponse:
    """Archive the customer file after a confirm step."""
    customer = _customer(request.user, pk, Action.CHANGE)
    return _archive_versioned(
        request,
        customer,
        customer=customer,
        subject=customer.name,
        explanation=_("The file leaves the working lists; its history and documents stay."),
        cancel_url=reverse("customers:detail", args=[pk]),
        success_url=reverse("customers:list"),
        archive=lambda version: services.archive_customer(actor=request.user, customer_id=pk, version=version),
        done=_("Customer file archived."),
        refetch=lambda: _customer(request.user, pk, Action.CHANGE),
    )


def _archive_versioned(
    request: AuthedRequest,
    obj: Any,
    *,
    customer: Customer,
    subject: str,
    cancel_url: str,
    archive: Callable[[int], object],
    done: str,
    refetch: Callable[[], Any],
    success_url: str | None = None,
    explanation: str = "",
) -> HttpResponse:
    """Confirm, then archive a versioned record; a stale confirmation shows the conflict and asks again."""
    form = ArchiveForm(request.POST or None, initial={"version": obj.version})
    if request.method == "POST" and form.is_valid():
        version = form.cleaned_data["version"] or obj.version
        outcome = _submit(form, lambda: archive(version))
        if outcome is Outcome.SAVED:
            messages.success(request, done)
            return redirect(success_url or cancel_url)
        errors = form.non_field_errors()
        form = ArchiveForm(initial={"version": refetch().version})
        for error in errors:
            form.add_error(None, error)
    return render(
        request,
        "customers/confirm_archive.html",
        {
            "form": form,
            "customer": customer,
            "subject": subject,
            "explanation": explanation,
            "cancel_url": cancel_url,
        },
    )


# --- key persons -------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def key_person_add(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = _customer(request.user, pk, Action.CHANGE)
    return _add_owned(
        request,
        form=KeyPersonForm(request.POST or None),
        customer=customer,
        add=lambda data: services.add_key_person(actor=request.user, customer_id=pk, data=data),
        title=_("Add key person"),
        saved_message=_("Key person added."),
        section="customers:key_persons",
    )


@login_required
@require_http_methods(["GET", "POST"])
def key_person_edit(request: AuthedRequest, pk: int, person_pk: int) -> HttpResponse:
    person = _owned(request.user, KeyPerson, pk, person_pk)
    form = KeyPersonForm(request.POST or None, instance=person, initial={"version": person.version})
    return _edit_owned(
        request,
        form=form,
        obj=person,
        update=lambda version, data: services.update_key_person(
            actor=request.user, key_person_id=person_pk, version=version, data=data
        ),
        title=_("Edit key person"),
        saved_message=_("Key person saved."),
        section="customers:key_persons",
    )


@login_required
@require_http_methods(["GET", "POST"])
def key_person_archive(request: AuthedRequest, pk: int, person_pk: int) -> HttpResponse:
    person = _owned(request.user, KeyPerson, pk, person_pk)
    return _archive_versioned(
        request,
        person,
        customer=person.customer,
        subject=person.name,
        cancel_url=reverse("customers:key_persons", args=[pk]),
        archive=lambda version: services.archive_key_person(
            actor=request.user, key_person_id=person_pk, version=version
        ),
        done=_("Key person archived."),
        refetch=lambda: _owned(request.user, KeyPerson, pk, person_pk),
    )


@never_cache
@login_required
@require_POST
def key_person_reveal(request: AuthedRequest, pk: int, person_pk: int, field: str) -> HttpResponse:
    """Show one key person's phone or ID number in clear; the service writes the audit event."""
    if field not in services.PII_FIELDS:
        raise Http404
    if not KeyPerson.objects.restrict(request.user, Action.VIEW).filter(pk=person_pk, customer_id=pk).exists():
        raise Http404
    try:
        value = services.reveal_key_person(actor=request.user, key_person_id=person_pk, field=field)
    except (NotFoundError, ValidationError):
        raise Http404 from None
    context = {"value": value, "customer_pk": pk}
    template = "customers/partials/revealed.html" if request.htmx else "customers/revealed_page.html"
    return render(request, template, context)


# --- financial statements -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def statement_add(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = _customer(request.user, pk, Action.CHANGE)
    return _add_owned(
        request,
        form=FinancialStatementForm(request.POST or None),
        customer=customer,
        add=lambda data: services.add_financial_statement(actor=request.user, customer_id=pk, data=data),
        title=_("Add financial statement"),
        saved_message=_("Financial statement added."),
        section="customers:financials",
    )


@login_required
@require_http_methods(["GET", "POST"])
def statement_edit(request: AuthedRequest, pk: int, statement_pk: int) -> HttpResponse:
    statement = _owned(request.user, FinancialStatement, pk, statement_pk)
    form = FinancialStatementForm(request.POST or None, instance=statement, initial={"version": statement.version})
    return _edit_owned(
        request,
        form=form,
        obj=statement,
        update=lambda version, data: services.update_financial_statement(
            actor=request.user, statement_id=statement_pk, version=version, data=data
        ),
        title=_("Correct financial statement"),
        saved_message=_("Financial statement saved."),
        section="customers:financials",
    )


# --- relationships ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def relationship_add(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = _customer(request.user, pk, Action.CHANGE)
    return _add_owned(
        request,
        form=RelationshipForm(request.POST or None, user=request.user, customer=customer),
        customer=customer,
        add=lambda data: services.add_relationship(actor=request.user, customer_id=pk, data=data),
        title=_("Add relationship"),
        saved_message=_("Relationship added."),
        section="customers:relationships",
    )


@login_required
@require_http_methods(["GET", "POST"])
def relationship_edit(request: AuthedRequest, pk: int, relationship_pk: int) -> HttpResponse:
    relationship = _owned(request.user, Relationship, pk, relationship_pk)
    form = RelationshipForm(
        request.POST or None,
        instance=relationship,
        user=request.user,
        customer=relationship.customer,
        initial={"version": relationship.version},
    )
    return _edit_owned(
        request,
        form=form,
        obj=relationship,
        update=lambda version, data: services.update_relationship(
            actor=request.user, relationship_id=relationship_pk, version=version, data=data
        ),
        title=_("Edit relationship"),
        saved_message=_("Relationship saved."),
        section="customers:relationships",
    )


@login_required
@require_http_methods(["GET", "POST"])
def relationship_archive(request: AuthedRequest, pk: int, relationship_pk: int) -> HttpResponse:
    relationship = _owned(request.user, Relationship, pk, relationship_pk)
    return _archive_versioned(
        request,
        relationship,
        customer=relationship.customer,
        subject=str(relationship),
        cancel_url=reverse("customers:relationships", args=[pk]),
        archive=lambda version: services.archive_relationship(
            actor=request.user, relationship_id=relationship_pk, version=version
        ),
        done=_("Relationship archived."),
        refetch=lambda: _owned(request.user, Relationship, pk, relationship_pk),
    )


# --- documents -------------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def document_upload(request: AuthedRequest, pk: int) -> HttpResponse:
    customer = _customer(request.user, pk, Action.CHANGE)
    form = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        outcome = _submit(
            form,
            lambda: services.upload_document(
                actor=request.user,
                customer_id=pk,
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                upload=form.cleaned_data["file"],
            ),
        )
        if outcome is Outcome.SAVED:
            messages.success(request, _("Document filed."))
            return redirect("customers:documents", pk)
    return _form_page(
        request,
        {
            "form": form,
            "customer": customer,
            "title": _("Upload document"),
            "submit_label": _("Upload"),
            "cancel_url": reverse("customers:documents", args=[pk]),
        },
    )


@never_cache
@login_required
@require_GET
def document_download(request: AuthedRequest, pk: int, document_pk: int) -> FileResponse:
    """Stream a document of a customer in scope; never from a public URL."""
    document = _owned(request.user, Document, pk, document_pk, Action.VIEW)
    services.record_document_download(actor=request.user, document=document)
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type or "application/octet-stream",
    )


@login_required
@require_http_methods(["GET", "POST"])
def document_archive(request: AuthedRequest, pk: int, document_pk: int) -> HttpResponse:
    document = _owned(request.user, Document, pk, document_pk)
    form = ArchiveForm(request.POST or None)
    cancel_url = reverse("customers:documents", args=[pk])
    if request.method == "POST" and form.is_valid():
        outcome = _submit(form, lambda: services.archive_document(actor=request.user, document_id=document_pk))
        if outcome is Outcome.SAVED:
            messages.success(request, _("Document archived."))
            return redirect(cancel_url)
    return render(
        request,
        "customers/confirm_archive.html",
        {
            "form": form,
            "customer": document.customer,
            "subject": document.title,
            "cancel_url": cancel_url,
        },
    )
