"""Start-up: settings from the environment fail loudly, and production settings pass check --deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def _rmdesk(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RMDESK_") and k != "DJANGO_SETTINGS_MODULE"}
    clean.update({"RMDESK_DATA_DIR": str(tmp_path), **env})
    return subprocess.run(
        [sys.executable, "-m", "rmdesk", *args], env=clean, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("RMDESK_DEBUG", "maybe"),
        ("RMDESK_DATABASE_URL", "mysql://root@127.0.0.1/rmdesk"),
        ("RMDESK_DATABASE_URL", "not a url"),
        ("RMDESK_SECRET_KEY", "short"),
        ("RMDESK_LOGIN_FAILURE_LIMIT", "five"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(tmp_path: Path, variable: str, value: str) -> None:
    # given / when
    result = _rmdesk(tmp_path, "check", **{variable: value})
    # then
    assert result.returncode == 2
    assert variable in result.stderr
    assert "Traceback" not in result.stderr


def test_the_secret_key_is_generated_once_into_the_data_directory(tmp_path: Path) -> None:
    # given / when
    first = _rmdesk(tmp_path, "check")
    key = (tmp_path / "secret_key").read_text()
    second = _rmdesk(tmp_path, "check")
    # then
    assert first.returncode == 0 and second.returncode == 0
    assert len(key) >= 50
    assert (tmp_path / "secret_key").read_text() == key


def test_production_settings_pass_check_deploy(tmp_path: Path) -> None:
    # given production: no debug, HTTPS on, a real secret key
    env = {"RMDESK_SECRET_KEY": "k" * 20 + "-production-secret-key-for-the-check-0123456789"}
    # when
    result = _rmdesk(tmp_path, "check", "--deploy", "--fail-level", "WARNING", **env)
    # then
    assert result.returncode == 0, result.stdout + result.stderr
