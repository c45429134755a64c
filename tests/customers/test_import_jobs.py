"""The files of upload jobs are kept IMPORT_KEEP_DAYS days, then deleted when the worker starts the next import."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from rmdesk.customers.imports.store import ImportJob, prune_jobs
from tests.customers.test_import import IMMEDIATE, customer_row, customers_file
from tests.personas import Bank, credit_code

DAY = 86400


@pytest.fixture
def imports_dir(tmp_path: Path, settings: Any) -> Path:
    settings.IMPORT_DIR = tmp_path / "imports"
    return settings.IMPORT_DIR


def finished_job(user_id: int, *, days_ago: float) -> ImportJob:
    """A job as the worker leaves it (upload deleted; description, progress and error file kept), `days_ago` old."""
    job = ImportJob.create(
        user_id=user_id, upload=SimpleUploadedFile("old.csv", b"a,b\n"), partial=False, language="zh-hans"
    )
    job.discard_upload()
    job.report(state="done", summary={"rows": 1, "rejected": 1, "saved": False})
    job.write_errors({"zh-hans": b"PK not really a workbook", "en": b"PK not really a workbook"})
    age(job.directory.glob(f"{job.id}*"), days_ago)
    return job


def age(paths: Any, days_ago: float) -> None:
    stamp = time.time() - days_ago * DAY
    for path in paths:
        os.utime(path, (stamp, stamp))


def names(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir()}


@override_settings(TASKS=IMMEDIATE)
def test_the_files_of_jobs_older_than_the_setting_go_when_the_next_import_starts(
    bank: Bank, tmp_path: Path, client: Client, imports_dir: Path, settings: Any
) -> None:
    # given: a job 31 days old (with a temporary file a killed write left), one 29 days old, a file of someone else's
    settings.IMPORT_KEEP_DAYS = 30
    old = finished_job(bank.alice.pk, days_ago=31)
    leftover = imports_dir / f".{old.id}.json.k2j4h1"
    leftover.write_bytes(b"{")
    age([leftover], 31)
    recent = finished_job(bank.alice.pk, days_ago=29)
    stranger = imports_dir / "README.txt"
    stranger.write_text("not a job")
    age([stranger], 400)
    client.force_login(bank.alice)
    assert client.get(reverse("customers:import_status", args=[old.id])).status_code == 200
    path = customers_file(tmp_path, customer_row("新任务有限公司", credit_code()))
    # when
    with path.open("rb") as upload:
        location = client.post(reverse("customers:import"), {"file": upload})["Location"]
    # then: the old job is gone whole, its page with it; the recent one, the new one and the stranger stay
    assert not any(name.lstrip(".").startswith(old.id) for name in names(imports_dir))
    assert client.get(reverse("customers:import_status", args=[old.id])).status_code == 404
    assert client.get(reverse("customers:import_errors", args=[old.id])).status_code == 404
    kept = {f"{recent.id}.meta.json", f"{recent.id}.json", f"{recent.id}-errors.zh-hans.xlsx", "README.txt"}
    assert kept | {f"{recent.id}-errors.en.xlsx"} <= names(imports_dir)
    assert client.get(location).status_code == 200


def test_a_job_is_kept_while_any_of_its_files_is_recent(bank: Bank, imports_dir: Path) -> None:
    # given: the description written 40 days ago, the progress file 2 days ago
    job = finished_job(bank.alice.pk, days_ago=40)
    age([job.progress_path], 2)
    # when
    pruned = prune_jobs(keep_days=30)
    # then
    assert pruned == 0
    assert ImportJob.find(job.id) is not None


def test_the_keep_days_setting_decides_what_is_old(bank: Bank, imports_dir: Path, settings: Any) -> None:
    # given
    week_old = finished_job(bank.alice.pk, days_ago=8)
    settings.IMPORT_KEEP_DAYS = 7
    # when
    pruned = prune_jobs()
    # then
    assert pruned == 1
    assert ImportJob.find(week_old.id) is None
    assert list(imports_dir.iterdir()) == []


def test_pruning_without_an_imports_directory_does_nothing(imports_dir: Path) -> None:
    # when / then
    assert prune_jobs() == 0
    assert not imports_dir.exists()
