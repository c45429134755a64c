"""The end-of-day gained a first job, `calendar` (re-roll provisional due dates). A date is complete when every job
is done, so the dates already run get a `calendar` row too — done, counting nothing, as it would have been then (no
holiday data had arrived since) — or the next `rmdesk eod` would take the last complete date for unfinished."""

from __future__ import annotations

from typing import Any

from django.db import migrations


def record_calendar_done(apps: Any, schema_editor: Any) -> None:
    JobRun = apps.get_model("batch", "JobRun")
    runs = JobRun.objects.using(schema_editor.connection.alias)
    done = runs.filter(job="reprice", first_customer_id=0, last_customer_id=0, status="done")
    has_calendar = set(
        runs.filter(job="calendar", first_customer_id=0, last_customer_id=0).values_list("business_date", flat=True)
    )
    runs.bulk_create(
        [
            JobRun(
                business_date=row.business_date,
                job="calendar",
                status="done",
                started_at=row.started_at,
                finished_at=row.started_at,
                counts={},
            )
            for row in done.order_by("business_date")
            if row.business_date not in has_calendar
        ],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("batch", "0001_initial")]

    operations = [migrations.RunPython(record_calendar_done, migrations.RunPython.noop)]
