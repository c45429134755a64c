"""A small demo bank for the demo tests: big enough for every structure, small enough to build per test."""

from __future__ import annotations

from typing import Any

import pytest

from rmdesk.demo.builder import DemoSummary, build_demo_bank

DEMO_CUSTOMERS = 120


@pytest.fixture
def demo_bank(db: Any) -> DemoSummary:
    return build_demo_bank(customers=DEMO_CUSTOMERS)
