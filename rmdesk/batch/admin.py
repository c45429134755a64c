"""The job ledger in the admin, read-only: administrators see what the end-of-day ran, when, and how it ended (it
holds counts, no customer data). Runs are started and resumed with `rmdesk eod`, never edited here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from rmdesk.batch.models import JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin[JobRun]):
    list_display = (
        "business_date",
        "job",
        "first_customer_id",
        "last_customer_id",
        "status",
        "started_at",
        "finished_at",
    )
    list_filter = ("status", "job")
    date_hierarchy = "business_date"
    ordering = ("-business_date", "pk")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
