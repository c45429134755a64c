"""`by_index()`: sequential scans disfavoured on PostgreSQL for the block only; nothing on SQLite."""

from __future__ import annotations

import pytest
from django.db import connection

from rmdesk.core.planner import by_index


def enable_seqscan() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_seqscan")
        return str(cursor.fetchone()[0])


@pytest.mark.django_db
def test_sequential_scans_are_disfavoured_inside_the_block_only() -> None:
    if connection.vendor != "postgresql":
        with by_index():
            pass  # nothing to set, nothing raised
        return
    with by_index():
        assert enable_seqscan() == "off"
    assert enable_seqscan() == "on"


@pytest.mark.django_db
def test_an_error_inside_the_block_leaves_the_setting_as_it_was() -> None:
    with pytest.raises(ZeroDivisionError), by_index():
        1 / 0  # noqa: B018
    if connection.vendor == "postgresql":
        assert enable_seqscan() == "on"
