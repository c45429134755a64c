"""The zh-Hans catalogue is complete: every string the code marks is translated, none fuzzy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import override_settings

import rmdesk

PACKAGE = Path(rmdesk.__file__).parent
CATALOGUE = PACKAGE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def extracted(tmp_path: Path) -> polib.POFile:
    """The committed catalogue merged with a fresh extraction from a copy of the code."""
    copy = tmp_path / "rmdesk"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "migrations", "*.mo"))
    cwd = os.getcwd()
    os.chdir(copy)
    try:
        with override_settings(LOCALE_PATHS=[copy / "locale"]):
            call_command("makemessages", locale=["zh_Hans"], verbosity=0, no_location=True, no_obsolete=True)
    finally:
        os.chdir(cwd)
    return polib.pofile(str(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"))


def test_the_committed_catalogue_has_no_untranslated_or_fuzzy_entry() -> None:
    # given
    catalogue = polib.pofile(str(CATALOGUE))
    # then
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []


def test_every_string_in_the_code_is_in_the_catalogue(extracted: polib.POFile) -> None:
    # then: a string added to the code without a translation shows up here by name
    assert [e.msgid for e in extracted.untranslated_entries()] == []
    assert [e.msgid for e in extracted.fuzzy_entries()] == []
