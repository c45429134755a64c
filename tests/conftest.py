"""Fixtures shared by the whole suite; the personas themselves live in tests/personas.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from tests.audit_trigger import set_audit_triggers
from tests.personas import Bank, build_bank


@pytest.fixture
def bank(db: Any) -> Bank:
    return build_bank()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the bank's default language: a page test that switches to English (the language cookie)
    must not leave later tests reading English messages."""
    yield
    translation.deactivate()


# --- data that must be committed (another thread or connection reads it) ------------------------------------------


@pytest.fixture
def audit_trigger_back_on(django_db_blocker: Any) -> Iterator[None]:
    """Set up before pytest-django's transactional_db, so this teardown runs after its flush."""
    yield
    with django_db_blocker.unblock():  # the flush has blocked the database again
        set_audit_triggers(enabled=True)


@pytest.fixture
def committed_db(audit_trigger_back_on: None, transactional_db: None) -> Iterator[None]:
    """pytest-django's transactional_db, with the audit trigger off for its flush (tests/audit_trigger.py)."""
    yield
    set_audit_triggers(enabled=False)
