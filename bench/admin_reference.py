"""The reference for bench/bench_http.py: the customer list and search a team would build in an afternoon with
Django's admin changelist. It exists only for the benchmark: the product's admin never shows customer data.

A ModelAdmin on its own AdminSite, mounted at /bench-admin/ by bench/urls_admin.py (bench/settings_admin.py):
`search_fields = ["name", "credit_code"]` (the admin's `icontains` on each), the list page's columns, and the
same scope as the product through `Customer.objects.restrict(request.user)`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from rmdesk.access.policy import Action
from rmdesk.customers.models import Customer


class ReferenceAdminSite(admin.AdminSite):
    site_header = "bench reference admin"


class ReferenceCustomerAdmin(admin.ModelAdmin[Customer]):
    # The columns of customers/partials/list_rows.html; the admin joins primary_rm itself (a foreign key shown).
    list_display = ["name", "credit_code", "primary_rm", "tier", "status", "industry", "region"]
    search_fields = ["name", "credit_code"]
    # The product's list order and page size, so both pages show the same rows of the same scope.
    ordering = ["name", "pk"]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest) -> QuerySet[Customer]:
        return Customer.objects.restrict(request.user, Action.VIEW).filter(archived_at__isnull=True)

    # Read-only for any staff user: the scope above, not Django's model permissions, decides what is seen.
    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)


site = ReferenceAdminSite(name="bench_admin")
site.register(Customer, ReferenceCustomerAdmin)
