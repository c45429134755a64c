"""Fixtures shared by the whole suite; the personas themselves live in tests/personas.py."""

from __future__ import annotations

from typing import Any

import pytest

from tests.personas import Bank, build_bank


@pytest.fixture
def bank(db: Any) -> Bank:
    return build_bank()
