"""Where an uploaded import waits for the worker, and how its job reports progress: files in IMPORT_DIR.

Per job (a random UUID, never the user's file name):
- `<job>.xlsx|.csv` the upload, deleted once the job has run;
- `<job>.meta.json` who started it, in which language, with which options — written by the request only;
- `<job>.json` state and progress — written by the worker only, each time whole, through a rename, so
  the page polling it never reads half a file; its messages and row errors in each language of the bank;
- `<job>-errors.<language>.xlsx` the rejected rows with their errors, when there are any, one file per language
  of the bank, so that the user reads them in the language they read the page in, whatever they uploaded in.
One writer per file, so the request and the worker never overwrite each other.

A job's files are kept IMPORT_KEEP_DAYS days after it last wrote one (its page and error file stay available that
long), then deleted by `prune_jobs()`, which the worker runs before each import.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from rmdesk.core.messages import for_reader

ALLOWED_EXTENSIONS = (".xlsx", ".csv")
# Until settings.py names RMDESK_IMPORT_KEEP_DAYS (IMPORT_KEEP_DAYS), jobs are kept this long.
DEFAULT_KEEP_DAYS = 30
_JOB_ID_LENGTH = 36  # a UUID written with hyphens
# The worker rewrites the progress file at most this often.
PROGRESS_INTERVAL_SECONDS = 0.5


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class ImportJob:
    id: str

    @classmethod
    def create(cls, *, user_id: int, upload: UploadedFile, partial: bool, language: str) -> ImportJob:
        """Store the upload under a generated name and describe the job; the caller enqueues it."""
        job = cls(str(uuid.uuid4()))
        name = PurePath(upload.name or "").name
        extension = PurePath(name).suffix.lower()
        directory = Path(settings.IMPORT_DIR)
        directory.mkdir(parents=True, exist_ok=True)
        with (directory / f"{job.id}{extension}").open("xb") as stream:
            for chunk in upload.chunks():
                stream.write(chunk)
        job._write_meta(
            {
                "user_id": user_id,
                "file_name": name[:255],
                "extension": extension,
                "partial": partial,
                "language": language,
                "created_at": timezone.now().isoformat(),
            }
        )
        return job

    @classmethod
    def find(cls, job_id: str) -> ImportJob | None:
        job = cls(str(uuid.UUID(job_id)))
        return job if job.meta_path.exists() else None

    @property
    def directory(self) -> Path:
        return Path(settings.IMPORT_DIR)

    @property
    def meta_path(self) -> Path:
        return self.directory / f"{self.id}.meta.json"

    @property
    def progress_path(self) -> Path:
        return self.directory / f"{self.id}.json"

    def errors_path(self, language: str) -> Path:
        return self.directory / f"{self.id}-errors.{language}.xlsx"

    def error_file(self) -> Path | None:
        """The error file in the reader's language; one in another language, or written by an earlier release in
        one language only, rather than none."""
        paths = {code: self.errors_path(code) for code, _name in settings.LANGUAGES}
        written = {code: path for code, path in paths.items() if path.exists()}
        earlier = self.directory / f"{self.id}-errors.xlsx"
        return for_reader(written, earlier if earlier.exists() else None)

    def meta(self) -> dict[str, Any]:
        return _read_json(self.meta_path) or {}

    def _write_meta(self, meta: dict[str, Any]) -> None:
        _write_atomically(self.meta_path, json.dumps(meta, ensure_ascii=False).encode())

    def set_task_result(self, result_id: str) -> None:
        self._write_meta({**self.meta(), "task_result_id": str(result_id)})

    @property
    def upload_path(self) -> Path:
        return self.directory / f"{self.id}{self.meta().get('extension', '')}"

    def discard_upload(self) -> None:
        """The upload holds customer data: it is deleted once imported."""
        self.upload_path.unlink(missing_ok=True)

    def state(self) -> dict[str, Any]:
        """The worker's last report; before it starts, a queued job."""
        return _read_json(self.progress_path) or {"state": "queued"}

    def report(self, **state: Any) -> None:
        state["updated_at"] = time.time()
        _write_atomically(self.progress_path, json.dumps(state, ensure_ascii=False, default=str).encode())

    def write_errors(self, content_by_language: dict[str, bytes]) -> None:
        for language, content in content_by_language.items():
            _write_atomically(self.errors_path(language), content)

    def progress_reporter(self) -> Any:
        """A progress callback for the runner that rewrites the job file at most twice a second."""
        last_at = [0.0]
        last_stage = [""]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if stage == last_stage[0] and now - last_at[0] < PROGRESS_INTERVAL_SECONDS and done != total:
                return
            last_at[0], last_stage[0] = now, stage
            self.report(state="running", stage=stage, done=done, total=total)

        return progress


def _job_of(name: str) -> str | None:
    """The job a file of IMPORT_DIR belongs to (a leftover `.<file>.<random>` of a write cut short included)."""
    candidate = name.lstrip(".")[:_JOB_ID_LENGTH]
    try:
        return str(uuid.UUID(candidate)) if len(candidate) == _JOB_ID_LENGTH else None
    except ValueError:
        return None


def prune_jobs(*, keep_days: int | None = None, now: float | None = None) -> int:
    """Delete every file of the import jobs that wrote nothing for `keep_days` days; returns how many jobs went.

    The upload (normally gone already), the description, the progress and the error file go together, so a job
    is either whole or gone: its page then answers 404. Files not named after a job are left alone.
    """
    days = keep_days if keep_days is not None else getattr(settings, "IMPORT_KEEP_DAYS", DEFAULT_KEEP_DAYS)
    cutoff = (now if now is not None else time.time()) - days * 86400
    directory = Path(settings.IMPORT_DIR)
    if not directory.is_dir():
        return 0
    files: dict[str, list[Path]] = {}
    for path in directory.iterdir():
        job = _job_of(path.name)
        if job is not None and path.is_file():
            files.setdefault(job, []).append(path)
    pruned = 0
    for paths in files.values():
        try:
            newest = max(path.stat().st_mtime for path in paths)
        except FileNotFoundError:  # another worker is pruning the same job
            continue
        if newest >= cutoff:
            continue
        # The description first: without it the job is gone (its page 404), never shown half deleted.
        for path in sorted(paths, key=lambda p: not p.name.endswith(".meta.json")):
            path.unlink(missing_ok=True)
        pruned += 1
    return pruned
