"""Amounts in 万元, as the pages and suggestions write them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rmdesk.core.money import format_wan, to_wan


@pytest.mark.parametrize(
    ("yuan", "wan"),
    [
        ("32000000.00", "3,200"),
        ("12345650.00", "1,234.57"),  # half up, where banker's rounding would give 1,234.56
        ("12345649.99", "1,234.56"),
        ("50.00", "0.01"),
        ("49.99", "0"),
        ("123456789012345.67", "12,345,678,901.23"),
    ],
)
def test_amounts_in_wan_are_exact_and_rounded_half_up(yuan: str, wan: str) -> None:
    assert format_wan(Decimal(yuan)) == wan


def test_an_amount_in_wan_keeps_two_places_for_charts() -> None:
    assert to_wan(Decimal("12345650.00")) == Decimal("1234.57")
    assert str(to_wan(Decimal("32000000"))) == "3200.00"
