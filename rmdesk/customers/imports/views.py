"""The import pages: upload, template download, the job's progress and its error file.

Only users who may open customer files (the `create` action) see them; everyone else gets 404, and a job
is visible only to the user who started it.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from django_tasks.exceptions import TaskResultDoesNotExist

from rmdesk.access.policy import Action, may
from rmdesk.core.htmx import render_page_or_partial
from rmdesk.core.messages import for_reader
from rmdesk.customers.exports import XLSX
from rmdesk.customers.forms import ImportForm
from rmdesk.customers.imports.store import ImportJob
from rmdesk.customers.imports.templates import template_workbook
from rmdesk.customers.jobs import FAILED, import_customers, start_import

# A running job that has not reported for this long has most likely been killed (its transaction with it).
STALE_AFTER_SECONDS = 300


def _require_importer(request: HttpRequest) -> None:
    if not may(request.user, Action.CREATE):
        raise Http404


def _own_job(request: HttpRequest, job: uuid.UUID) -> ImportJob:
    found = ImportJob.find(str(job))
    if found is None or found.meta().get("user_id") != request.user.pk:
        raise Http404
    return found


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest) -> HttpResponse:
    """Upload a file to import; it runs in the background and the page follows it."""
    _require_importer(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        job = start_import(actor=request.user, upload=form.cleaned_data["file"], partial=form.cleaned_data["partial"])  # type: ignore[arg-type]
        return redirect("customers:import_status", job.id)
    return render(
        request,
        "customers/import.html",
        {
            "form": form,
            "templates": [
                (reverse("customers:import_template") + f"?language={code}", name) for code, name in settings.LANGUAGES
            ],
        },
    )


@login_required
@require_GET
def import_template(request: HttpRequest) -> HttpResponse:
    """The empty template, with headers in the language asked for (the page's language by default)."""
    _require_importer(request)
    language = request.GET.get("language") or request.LANGUAGE_CODE
    if language not in dict(settings.LANGUAGES):
        raise Http404
    response = HttpResponse(template_workbook(language), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="rmdesk-import-template-{language}.xlsx"'
    return response


def _task_failed(meta: dict[str, Any]) -> bool:
    """Whether the worker recorded the job's task as failed before the job could report it itself."""
    result_id = meta.get("task_result_id")
    if not result_id:
        return False
    try:
        result = import_customers.get_result(result_id)
    except (NotImplementedError, TaskResultDoesNotExist):
        return False
    return str(result.status) == "FAILED"


STAGES = {
    "reading": gettext_lazy("Reading the file"),
    "checking": gettext_lazy("Checking rows"),
    "saving": gettext_lazy("Saving"),
}


def _for_reader(value: Any, default: Any) -> Any:
    """A job's message or errors in the reader's language (a job of an earlier release wrote them in one)."""
    if isinstance(value, dict):
        return for_reader(value, default)
    return value or default


def _status_context(job: ImportJob) -> dict[str, Any]:
    meta = job.meta()
    state = job.state()
    kind = state.get("state", "queued")
    if kind in ("queued", "running") and _task_failed(meta):
        kind = "failed"
        state["message"] = str(FAILED)
    done, total = int(state.get("done") or 0), int(state.get("total") or 0)
    stale = kind == "running" and time.time() - float(state.get("updated_at") or time.time()) > STALE_AFTER_SECONDS
    return {
        "job": job,
        "meta": meta,
        "state": kind,
        "stage": str(STAGES.get(state.get("stage", ""), "")),
        "done": done,
        "total": total,
        "percent": int(done * 100 / total) if total else 0,
        "stale": stale,
        "polling": kind in ("queued", "running") and not stale,
        "message": _for_reader(state.get("message"), ""),
        "summary": state.get("summary") or {},
        "errors": _for_reader(state.get("errors"), []),
        "error_count": int(state.get("error_count") or 0),
        "has_error_file": job.error_file() is not None,
    }


@never_cache
@login_required
@require_GET
def import_status(request: HttpRequest, job: uuid.UUID) -> HttpResponse:
    """The job's progress; htmx polls the partial every second until the job has finished."""
    _require_importer(request)
    context = _status_context(_own_job(request, job))
    return render_page_or_partial(
        request, "customers/import_status.html", "customers/partials/import_progress.html", context
    )


@never_cache
@login_required
@require_GET
def import_errors(request: HttpRequest, job: uuid.UUID) -> FileResponse:
    """The rejected rows with their errors, as .xlsx."""
    _require_importer(request)
    path = _own_job(request, job).error_file()
    try:
        handle = path.open("rb") if path is not None else None
    except FileNotFoundError:  # pruned since it was found
        handle = None
    if handle is None:
        raise Http404
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return FileResponse(handle, as_attachment=True, filename=f"import-errors-{stamp}.xlsx", content_type=XLSX)
