"""Background jobs of the customer archive (django-tasks; run by `rmdesk db_worker` in production)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.core.files.uploadedfile import UploadedFile
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from rmdesk.core.errors import NotFoundError
from rmdesk.core.messages import in_each_language
from rmdesk.customers.imports.readers import FileRejected
from rmdesk.customers.imports.runner import rejects_workbook, run_import
from rmdesk.customers.imports.store import ImportJob, prune_jobs
from rmdesk.org.models import User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

logger = logging.getLogger(__name__)

# The status page lists this many row errors; the error file holds them all.
ERRORS_SHOWN = 1000
FAILED = _("The import stopped because of an internal error. Nothing was saved.")


def _each(message: StrOrPromise) -> dict[str, str]:
    """The message in each language, for the job file: the page shows it in the reader's."""
    return in_each_language(lambda: str(message))


@task()
def import_customers(job_id: str) -> dict[str, Any]:
    """Import an uploaded file as the user who uploaded it, reporting progress to the job's file; first delete the
    files of jobs older than IMPORT_KEEP_DAYS."""
    _prune()
    job = ImportJob(job_id)
    meta = job.meta()
    with translation.override(meta.get("language") or None):
        job.report(state="running", stage="reading", done=0, total=0)
        user = User.objects.filter(pk=int(meta.get("user_id") or 0), is_active=True).first()
        try:
            if user is None:
                raise NotFoundError()
            result = run_import(
                actor=user,
                path=job.upload_path,
                file_name=meta.get("file_name"),
                partial=bool(meta.get("partial")),
                progress=job.progress_reporter(),
            )
        except FileRejected as error:
            job.report(state="rejected", message=_each(error.message))
            return {"state": "rejected"}
        except NotFoundError:
            job.report(state="rejected", message=_each(_("You may not import customers.")))
            return {"state": "rejected"}
        except Exception:
            logger.exception("import job %s failed", job_id)
            job.report(state="failed", message=_each(FAILED))
            raise
        finally:
            job.discard_upload()
        if result.rejected:
            job.write_errors(in_each_language(lambda: rejects_workbook(result)))
        job.report(
            state="done",
            summary=result.summary(),
            errors=in_each_language(lambda: [asdict(error) for error in islice(result.errors(), ERRORS_SHOWN)]),
            error_count=sum(1 for _error in result.errors()),
        )
        return result.summary()


def _prune() -> None:
    try:
        pruned = prune_jobs()
    except OSError:
        # Old files left behind are no reason to refuse today's import; the next job tries again.
        logger.exception("could not prune old import jobs")
        return
    if pruned:
        logger.info("pruned the files of %d import jobs", pruned)


def start_import(*, actor: User, upload: UploadedFile, partial: bool) -> ImportJob:
    """Store the upload and queue its import; the job runs in the user's language."""
    job = ImportJob.create(
        user_id=actor.pk, upload=upload, partial=partial, language=translation.get_language() or "zh-hans"
    )
    result = import_customers.enqueue(job.id)
    job.set_task_result(result.id)
    return job
