"""The customer list's rows as HTML (partials/list_rows.html prints them).

Every customer list, search and pick goes through these 50 rows, and Django's template engine spent about half of
the request on them: some 1,000 nodes a page, each resolving its variable, localising and escaping it (7 of a
request's 12–16 ms of CPU, bench/bench_http.py). The markup is small and fixed, so it is filled in here with the
values escaped one by one; the table around it stays in the template.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from django.urls import get_script_prefix, reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from rmdesk.core import reference
from rmdesk.customers.choices import LifecycleStatus
from rmdesk.customers.models import Customer

ROW = (
    '<tr><td><a href="{url}">{name}</a>{archived}'
    '<div class="small text-secondary d-md-none font-monospace">{code}</div></td>'
    '<td class="d-none d-md-table-cell font-monospace">{code}</td>'
    '<td class="d-none d-sm-table-cell text-nowrap">{rm}</td>'
    '<td class="d-none d-lg-table-cell">{tier}</td>'
    '<td><span class="badge {status_class}">{status}</span></td>'
    '<td class="d-none d-xl-table-cell text-secondary">{industry}</td>'
    '<td class="d-none d-xl-table-cell text-secondary text-nowrap">{region}</td></tr>'
)
ARCHIVED = '<span class="badge bg-secondary-lt ms-1">{}</span>'
IN_THE_POOL = '<span class="text-secondary">{}</span>'
STATUS_CLASSES: dict[str, str] = {
    LifecycleStatus.CUSTOMER: "bg-green-lt",
    LifecycleStatus.TARGET: "bg-blue-lt",
    LifecycleStatus.PROSPECT: "bg-azure-lt",
}


# A customer's 360° address with a slot for its id, per script prefix (see customer_url).
_customer_urls: dict[str, str] = {}
_ID_SLOT = 918273645


def customer_url(customer_id: int) -> str:
    """The customer's 360° page, as {% url 'customers:detail' id %} gives it, without resolving the pattern per row:
    a list page links 50 customers, and reverse() was a tenth of its time."""
    prefix = get_script_prefix()
    pattern = _customer_urls.get(prefix)
    if pattern is None:
        pattern = reverse("customers:detail", args=[_ID_SLOT]).replace(str(_ID_SLOT), "{}")
        _customer_urls[prefix] = pattern
    return pattern.format(int(customer_id))


def list_rows(customers: Iterable[Customer]) -> SafeString:
    """One <tr> per customer: name (linked to its 360° page), credit code, primary RM, tier, status, industry and
    region, in the active language; every value from the database escaped."""
    archived = ARCHIVED.format(escape(gettext("Archived")))
    in_the_pool = IN_THE_POOL.format(escape(gettext("In the pool")))
    rows = []
    for customer in customers:
        code = escape(customer.credit_code)
        rm = customer.primary_rm
        rows.append(
            ROW.format(
                url=customer_url(customer.pk),
                name=escape(customer.name),
                archived=archived if customer.is_archived else "",
                code=code,
                rm=escape(rm.display_name) if rm is not None else in_the_pool,
                tier=escape(customer.get_tier_display()),
                status_class=STATUS_CLASSES.get(customer.status, "bg-secondary-lt"),
                status=escape(customer.get_status_display()),
                industry=escape(reference.division_shown(customer.industry)),
                region=escape(reference.city_shown(customer.region)),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - built above from escaped values and fixed markup
