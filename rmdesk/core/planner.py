"""Steering PostgreSQL's planner for the few queries written for an index path it may cost wrongly."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection, transaction


@contextlib.contextmanager
def by_index() -> Iterator[None]:
    """Run the block's queries on PostgreSQL with sequential scans disfavoured (`SET LOCAL enable_seqscan = off`,
    in a transaction of its own, so it ends with the block); nothing elsewhere.

    For a query that restates a scope on its indexes (a branch's units OR a list of co-RM customer ids): a branch's
    33,250 customers lie on a third of the customer table's pages, and PostgreSQL costs the BitmapOr of the unit
    index and the id list within a few per cent of a parallel scan of all 1,000,000 rows — and picks the scan, which
    takes 143 ms where the bitmap takes 26–46 ms (EXPLAIN ANALYZE on the 1M demo bank). Only disfavoured: a query
    with no usable index still runs, by a sequential scan."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        yield
        # Inside an outer transaction (a test's, a service's) the setting would outlive the block: put it back. On an
        # error the block's savepoint is rolled back, and the setting with it.
        cursor.execute("RESET enable_seqscan")
