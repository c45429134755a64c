"""Fixtures shared by the whole suite; the personas themselves live in tests/personas.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from rmdesk.customers.queries import common_prefixes, first_customers, gram_facts
from rmdesk.org.models import User
from tests.audit_trigger import set_audit_triggers
from tests.personas import Bank, build_bank, make_user


@pytest.fixture
def bank(db: Any) -> Bank:
    return build_bank()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the bank's default language: a page test that switches to English (the language cookie)
    must not leave later tests reading English messages."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _fresh_search_facts() -> Iterator[None]:
    """Each test's searches see its own bank: what a process keeps about the bank's grams, common prefixes and first
    customers (the plan's choice or bound, never its results) is not carried from one test's customers to the next."""
    gram_facts.clear()
    common_prefixes.clear()
    first_customers.clear()
    yield


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


@pytest.fixture
def ops(bank: Bank) -> User:
    """Operations officer of branch 1: sees the loans of alice's, dave's and bob's customers and posts repayments."""
    return make_user("ops", "operations_officer", bank.branch1)


@pytest.fixture
def ho_lead(bank: Bank) -> User:
    """A team lead whose home unit is the head office: head office's write role, so may publish LPR."""
    return make_user("holead", "team_lead", bank.head_office)
