"""Row-by-row values written in one statement: the batch's UPDATE of many rows to different values, and its INSERT of
many rows, on PostgreSQL (arrays unnested into a join) and SQLite (one prepared statement executed per row).

Django's bulk_update writes `CASE WHEN id = … THEN …` over the whole batch, which grows with the square of the batch
and takes minutes on the hundreds of thousands of rows an end-of-day moves; these take seconds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection, models

# Rows per statement: PostgreSQL takes any number of array elements; SQLite's executemany runs one statement per row.
WRITE_BATCH = 20_000


def batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _column(model: type[models.Model], name: str) -> tuple[str, str]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    db_type = field.db_type(connection)
    if db_type is None:
        raise ValueError(f"{model.__name__}.{name} has no column type")
    # A foreign key's column is the target's id type; "serial" types are for creation only.
    db_type = {"bigserial": "bigint", "serial": "integer"}.get(db_type, db_type)
    return connection.ops.quote_name(field.column), db_type


def update_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Set `columns` of each row given as (pk, value, value, …); returns how many rows were given."""
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column, pk_type = _column(model, model._meta.pk.name)
    targets = [_column(model, name) for name in columns]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            selects = ", ".join(
                [f"unnest(%s::{pk_type}[]) AS k"]
                + [f"unnest(%s::{db_type}[]) AS v{i}" for i, (_, db_type) in enumerate(targets)]
            )
            sets = ", ".join(f"{column} = u.v{i}" for i, (column, _) in enumerate(targets))
            sql = f"UPDATE {table} SET {sets} FROM (SELECT {selects}) AS u WHERE {table}.{pk_column} = u.k"  # noqa: S608 — names from the model, values as parameters
            for batch in batches(rows, WRITE_BATCH):
                cursor.execute(sql, [list(values) for values in zip(*batch, strict=True)])
        else:
            sets = ", ".join(f"{column} = %s" for column, _ in targets)
            sql = f"UPDATE {table} SET {sets} WHERE {pk_column} = %s"  # noqa: S608 — names from the model, values as parameters
            for batch in batches(rows, WRITE_BATCH):
                cursor.executemany(sql, [(*row[1:], row[0]) for row in batch])
    return len(rows)


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> int:
    """Insert rows of `columns` (no ids returned); returns how many."""
    if not rows:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    targets = [_column(model, name) for name in columns]
    names = ", ".join(column for column, _ in targets)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{db_type}[]" for _, db_type in targets)
            sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608 — names from the model, values as parameters
            for batch in batches(rows, WRITE_BATCH):
                cursor.execute(sql, [list(values) for values in zip(*batch, strict=True)])
        else:
            marks = ", ".join("%s" for _ in targets)
            sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"  # noqa: S608 — names from the model, values as parameters
            for batch in batches(rows, WRITE_BATCH):
                cursor.executemany(sql, batch)
    return len(rows)
