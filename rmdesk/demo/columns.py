"""Rows made as integer numpy columns, written through a temporary table and one INSERT … SELECT per chunk.

Millions of instalments and snapshots leave the book maker's process as a few arrays (dates as ordinals, amounts as
integer fen, rates as millionths of a percent): cheap to make and to send. The writer loads them into a temporary table
of plain integers — `executemany` on SQLite, a binary COPY built in one piece by numpy on PostgreSQL — and the database
turns them into the model's columns (dates, decimal amounts, statuses) in one INSERT … SELECT, in C, with every
constraint and foreign key of the table checked as ever. Amounts go over as exact integers and become decimals in the
database: a NUMERIC division on PostgreSQL; on SQLite the division gives the same binary float that SQLite keeps for
a decimal written as text (Django's own form), and it reads back to the same fen.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import models

from rmdesk.demo.writer import BulkWriter

Columns = dict[str, npt.NDArray[np.int64]]
# An expression of the SELECT: SQL written with the database's forms (Sql) of the temporary columns.
Expression = Callable[["Sql"], str]

_PG_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
_PG_TRAILER = struct.pack(">h", -1)
_JULIAN_DAY_OF_ORDINAL_ZERO = 1721424.5  # date.toordinal() + this = the Julian day SQLite's date() reads


class Sql:
    """The SQL of one database for what the temporary integers stand for."""

    def __init__(self, vendor: str) -> None:
        self.sqlite = vendor == "sqlite"

    def date(self, column: str) -> str:
        """A date from its ordinal (0: none)."""
        if self.sqlite:
            return f"CASE WHEN {column} > 0 THEN date({column} + {_JULIAN_DAY_OF_ORDINAL_ZERO}) END"
        return f"CASE WHEN {column} > 0 THEN DATE '0001-01-01' + ({column} - 1)::integer END"

    def amount(self, column: str) -> str:
        """An amount from integer fen."""
        return f"({column} / 100.0)" if self.sqlite else f"({column}::numeric / 100)"

    def rate(self, column: str) -> str:
        """A rate in percent from integer millionths of a percent."""
        return f"({column} / 1000000.0)" if self.sqlite else f"({column}::numeric / 1000000)"

    def flag(self, column: str) -> str:
        return column if self.sqlite else f"({column} <> 0)"

    def param(self) -> str:
        return "?" if self.sqlite else "%s"


def column(name: str) -> Expression:
    return lambda sql: name


def date_of(name: str) -> Expression:
    return lambda sql: sql.date(name)


def amount_of(name: str) -> Expression:
    return lambda sql: sql.amount(name)


def rate_of(name: str) -> Expression:
    return lambda sql: sql.rate(name)


def flag_of(name: str) -> Expression:
    return lambda sql: sql.flag(name)


def constant() -> Expression:
    """A value given with each write (a timestamp, a choice), bound as a query parameter."""
    return lambda sql: sql.param()


def sql(text: Callable[[Sql], str]) -> Expression:
    return text


@dataclass(frozen=True)
class ColumnSpec:
    """How rows of a model are made from integer columns: the temporary columns, and each model column's expression
    (by attname; a `constant()` takes the next of the values given to `write`, in this order)."""

    model: type[models.Model]
    columns: tuple[str, ...]
    select: Mapping[str, Expression]


class ColumnTable:
    """Writes chunks of integer columns into a model's table through a temporary table of the same name."""

    def __init__(self, writer: BulkWriter, spec: ColumnSpec) -> None:
        self.writer, self.spec = writer, spec
        connection = writer.connection
        self.vendor = connection.vendor
        quote = connection.ops.quote_name
        opts = spec.model._meta
        by_attname = {field.attname: field for field in opts.concrete_fields}
        unknown = [name for name in spec.select if name not in by_attname]
        missing = [f.attname for f in opts.concrete_fields if f.attname not in spec.select and f is not opts.auto_field]
        if unknown or missing:
            raise ValueError(f"{opts.label}: no column {unknown}, nothing for {missing}")
        sql = Sql(self.vendor)
        self.temp = quote(f"demo_{opts.db_table}")
        targets = ", ".join(quote(by_attname[name].column) for name in spec.select)
        expressions = ", ".join(expression(sql) for expression in spec.select.values())
        # Names from the model and the spec: nothing from outside reaches the SQL.
        self.insert_select = f"INSERT INTO {quote(opts.db_table)} ({targets}) SELECT {expressions} FROM {self.temp}"  # noqa: S608
        self.created = False

    def _create(self, cursor: Any) -> None:
        kind = "INTEGER" if self.vendor == "sqlite" else "bigint"
        columns = ", ".join(f"{name} {kind}" for name in self.spec.columns)
        if self.vendor == "sqlite":
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {self.temp} ({columns})")
            cursor.execute(f"DELETE FROM {self.temp}")  # noqa: S608
        else:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {self.temp} ({columns}) ON COMMIT DROP")
        self.created = True

    def write(self, columns: Columns, constants: Sequence[Any] = ()) -> None:
        size = len(columns[self.spec.columns[0]]) if columns else 0
        if size == 0:
            return
        arrays = [np.asarray(columns[name], dtype=np.int64) for name in self.spec.columns]
        raw = self.writer.connection.connection
        if self.vendor == "sqlite":
            if not self.created:
                self._create(raw)
            marks = ", ".join("?" * len(arrays))
            rows = zip(*(array.tolist() for array in arrays), strict=True)
            raw.executemany(f"INSERT INTO {self.temp} VALUES ({marks})", rows)  # noqa: S608
            raw.execute(self.insert_select, tuple(constants))
            raw.execute(f"DELETE FROM {self.temp}")  # noqa: S608
        else:
            with raw.cursor() as cursor:
                if not self.created:
                    self._create(cursor)
                names = ", ".join(self.spec.columns)
                with cursor.copy(f"COPY {self.temp} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.write(_binary_copy(arrays))
                cursor.execute(self.insert_select, tuple(constants))
                cursor.execute(f"TRUNCATE {self.temp}")
        self.writer.rows += size

    def drop(self) -> None:
        """Drop the temporary table (SQLite keeps it for the connection's life; PostgreSQL drops it at commit)."""
        if self.created and self.vendor == "sqlite":
            self.writer.connection.connection.execute(f"DROP TABLE IF EXISTS {self.temp}")
        self.created = False


def _binary_copy(arrays: list[npt.NDArray[np.int64]]) -> bytes:
    """PostgreSQL's binary COPY of bigint columns, made by numpy in one piece: per row the field count, then each
    field's length (8) and big-endian value."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for n in range(len(arrays)):
        fields += [(f"length{n}", ">i4"), (f"value{n}", ">i8")]
    rows = np.empty(len(arrays[0]), dtype=np.dtype(fields))
    rows["count"] = len(arrays)
    for n, array in enumerate(arrays):
        rows[f"length{n}"] = 8
        rows[f"value{n}"] = array
    return _PG_HEADER + rows.tobytes() + _PG_TRAILER


def concat(parts: Sequence[Columns]) -> Columns:
    """Columns of several pieces, one after the other."""
    parts = [part for part in parts if part]
    if not parts:
        return {}
    return {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
