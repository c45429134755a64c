"""Row tuples straight into the tables: `executemany` on SQLite, `COPY … FROM STDIN` on PostgreSQL.

The ORM's bulk_create spends most of a big demo load preparing values field by field; the loader builds
rows already in the database's text forms (amounts as "1234.50", dates as "2024-05-01") and hands them
to the driver in chunks, inside the caller's transaction. Foreign keys and every constraint stay on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.management.color import no_style
from django.db import OperationalError, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Max

Row = tuple[Any, ...]

# SQLite's page cache for a load, against its 2 MiB default. A page the cache lets go mid-transaction is
# spilled to the write-ahead log, and reading it back means searching a log that grows with the load: the
# unique indexes written in random order (credit codes) and the tables the index builds read at the end
# should stay in memory. Up to a quarter of the machine's memory. A customer takes ~8.5 KiB on disk with two
# years of visits (4 KiB without): at a million customers 2 KiB a customer left the index builds 196 s, 6 KiB 134 s.
SQLITE_CACHE_KIB_PER_CUSTOMER = 6
SQLITE_CACHE_KIB_LEAST = 64 * 1024


class DemoBankError(Exception):
    """The database is not one the demo bank can be loaded into."""


@dataclass(frozen=True)
class Table:
    """Where rows of a model go: the columns the loader fills, and constants for the ones it does not."""

    model: type[models.Model]
    columns: tuple[str, ...]
    extra: Row  # defaults of columns the loader does not know (added by a later migration)
    insert_sql: str  # SQLite, qmark style
    copy_sql: str  # PostgreSQL


class BulkWriter:
    """Writes chunks of row tuples to one connection and counts them."""

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        if connection.vendor not in ("sqlite", "postgresql"):
            raise DemoBankError(f"the demo bank loads into SQLite or PostgreSQL, not {connection.vendor}")
        self.connection = connection
        self.rows = 0
        self.journalled = False  # the load was written with SQLite's rollback journal (journal_for_load)

    def table(self, model: type[models.Model], fields: Sequence[str]) -> Table:
        """The table of `model` for rows holding `fields` (attnames) in this order.

        Columns the loader does not fill (source_type of a task, or one a later migration adds) get what a
        new model instance would hold; a required column without a default is an error here rather than a
        million failed inserts.
        """
        opts = model._meta
        by_attname = {field.attname: field for field in opts.concrete_fields}
        unknown = [name for name in fields if name not in by_attname]
        if unknown:
            raise DemoBankError(f"{opts.label} has no column {', '.join(unknown)}")
        extra_columns, extra = [], []
        for field in opts.concrete_fields:
            if field.attname in fields or field is opts.auto_field or field.has_db_default():  # type: ignore[attr-defined]
                continue  # the database fills the key and database defaults itself
            # What a model instance would hold: the default, "" for a text field, or None.
            value = field.get_db_prep_save(field.get_default(), self.connection)
            if value is None and not field.null:
                raise DemoBankError(f"the demo loader does not know how to fill {opts.label}.{field.name}")
            extra_columns.append(field.column)
            extra.append(value)
        columns = (*(by_attname[name].column for name in fields), *extra_columns)
        quote = self.connection.ops.quote_name
        table, column_list = quote(opts.db_table), ", ".join(quote(column) for column in columns)
        return Table(
            model=model,
            columns=columns,
            extra=tuple(extra),
            # Names from the model, quoted: nothing from outside reaches the SQL.
            insert_sql=f"INSERT INTO {table} ({column_list}) VALUES ({', '.join('?' * len(columns))})",  # noqa: S608
            copy_sql=f"COPY {table} ({column_list}) FROM STDIN",
        )

    def write(self, table: Table, rows: Sequence[Row]) -> None:
        if not rows:
            return
        if table.extra:
            rows = [row + table.extra for row in rows]
        raw = self.connection.connection
        if self.connection.vendor == "sqlite":
            raw.executemany(table.insert_sql, rows)
        else:
            with raw.cursor() as cursor, cursor.copy(table.copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
        self.rows += len(rows)

    def datetime(self, value: datetime) -> Any:
        """A timestamp as the driver takes it for this database (naive UTC text on SQLite)."""
        return self.connection.ops.adapt_datetimefield_value(value)

    @staticmethod
    def date(value: date) -> str:
        return value.isoformat()

    @staticmethod
    def next_id(model: type[models.Model]) -> int:
        """The first primary key after any the table holds, so the loader can number rows itself."""
        highest = model._base_manager.aggregate(highest=Max("pk"))["highest"]
        return (highest or 0) + 1

    def reset_sequences(self, *numbered: type[models.Model]) -> None:
        """Move PostgreSQL's sequences past the keys the loader chose (SQLite's AUTOINCREMENT follows alone)."""
        statements = self.connection.ops.sequence_reset_sql(no_style(), list(numbered))
        with self.connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    @contextmanager
    def bulk_load(self, customers: int) -> Iterator[None]:
        """Settings for loading a bank of `customers` inside the current transaction, put back afterwards.

        SQLite: a bigger page cache, and helper threads for sorting (journal mode, synchronous and foreign
        keys are left as configured; temp_store cannot change inside a transaction). PostgreSQL: deferred
        foreign keys are checked at the end of each COPY instead of all at commit, so millions of pending
        checks never queue up in memory, and index builds get more sort memory.
        """
        if self.connection.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                # Memory for the sorts that build the indexes at the end, and for the hash joins that check each
                # foreign key added back (a million customers' ids in one batch: 6.1 → 4.8 s for the visits' key on
                # the 1M bank); back to the defaults at commit.
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                cursor.execute("SET LOCAL work_mem = '256MB'")
            yield  # a failed load takes these settings with the transaction (or savepoint) it rolls back
            with self.connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            return
        with self.connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            cache_size = int(cursor.fetchone()[0])
            cursor.execute("PRAGMA threads")
            threads = int(cursor.fetchone()[0])
            kib = max(SQLITE_CACHE_KIB_LEAST, min(customers * SQLITE_CACHE_KIB_PER_CUSTOMER, _memory_kib() // 4))
            cursor.execute(f"PRAGMA cache_size = -{kib}")
            # Helper threads for the sorts that build the indexes at the end.
            cursor.execute(f"PRAGMA threads = {max(threads, min(4, os.cpu_count() or 1))}")
        try:
            yield
        finally:  # the connection's own settings, whatever became of the transaction
            with self.connection.cursor() as cursor:
                cursor.execute(f"PRAGMA cache_size = {cache_size}")
                cursor.execute(f"PRAGMA threads = {threads}")

    @contextmanager
    def journal_for_load(self) -> Iterator[None]:
        """SQLite outside a transaction: the load written with a rollback journal, the write-ahead log again after.

        A load is one transaction into an empty database. Through the log, its every page was written twice (to the
        log, then folded into the database at the end: the 1M bank's commit took 73 s) and each page read back
        mid-load was looked for in a log growing to the database's size. A rollback journal keeps only what the
        pages held before (next to nothing here), so a failed or killed load still leaves the database as before.
        Inside a caller's transaction (tests) the mode cannot change, and the load runs as configured.
        """
        if self.connection.vendor != "sqlite" or self.connection.in_atomic_block:
            yield
            return
        with self.connection.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            mode = str(cursor.fetchone()[0])
            try:
                cursor.execute("PRAGMA journal_mode = DELETE")
                self.journalled = str(cursor.fetchone()[0]) == "delete"
            except OperationalError:
                pass  # another connection holds the database (leaving the log needs it alone): load through the log
        try:
            yield
        finally:
            with self.connection.cursor() as cursor:
                cursor.execute(f"PRAGMA journal_mode = {mode}")

    @contextmanager
    def indexes_built_after(
        self, loaded: Sequence[type[models.Model]], progress: Callable[[int, int], None]
    ) -> Iterator[None]:
        """Drop the tables' non-unique indexes for the load and build each once at the end; on PostgreSQL their
        foreign keys too, added back (and so checked, each in one pass over the table) after the indexes.

        An index fed a million rows in random order (names, codes, search keys) costs several times what
        building it from the finished table does. PostgreSQL checks a foreign key row by row with a trigger that
        looks the parent up: 45 % of a 30,000-customer load (25.8 s with them, 14.5 s without); adding the key
        afterwards checks every row in one join. Primary keys and unique constraints stay, and SQLite's foreign keys
        (checked at commit). Everything is rebuilt from the database's own definitions (whatever migrations made
        them), inside the load's transaction: a failed load, or a row whose parent is missing, rolls it all back.
        """
        tables = [model._meta.db_table for model in loaded]
        definitions = [index for table in tables for index in self._secondary_indexes(table)]
        foreign_keys = self._foreign_keys(tables)
        quote = self.connection.ops.quote_name
        with self.connection.cursor() as cursor:
            for table, name, _definition in foreign_keys:
                cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
            for name, _sql in definitions:
                cursor.execute(f"DROP INDEX {quote(name)}")
        yield
        steps = len(definitions) + len(foreign_keys)
        with self.connection.cursor() as cursor:
            for built, (_name, sql) in enumerate(definitions, start=1):
                cursor.execute(sql)
                progress(built, steps)
            for added, (table, name, definition) in enumerate(foreign_keys, start=len(definitions) + 1):
                cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
                progress(added, steps)

    def _foreign_keys(self, tables: Sequence[str]) -> list[tuple[str, str, str]]:
        """(table, name, definition) of each foreign key of these tables, on PostgreSQL (none on SQLite)."""
        if self.connection.vendor != "postgresql" or not tables:
            return []
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c"
                " WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
                [[self.connection.ops.quote_name(table) for table in tables]],
            )
            return [(table.strip('"'), name, definition) for table, name, definition in cursor.fetchall()]

    def _secondary_indexes(self, table: str) -> list[tuple[str, str]]:
        """(name, CREATE INDEX statement) of each index of `table` that enforces nothing."""
        with self.connection.cursor() as cursor:
            if self.connection.vendor == "sqlite":
                # Indexes behind a primary key or UNIQUE have no SQL of their own.
                cursor.execute(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL"
                    " ORDER BY name",
                    [table],
                )
                return [(name, sql) for name, sql in cursor.fetchall() if not sql.upper().startswith("CREATE UNIQUE")]
            cursor.execute(
                "SELECT c.relname, pg_get_indexdef(i.indexrelid)"
                " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE i.indrelid = %s::regclass AND NOT i.indisunique AND NOT i.indisprimary"
                " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid) ORDER BY c.relname",
                [self.connection.ops.quote_name(table)],
            )
            return list(cursor.fetchall())

    def checkpoint(self) -> None:
        """After the load's commit: fold SQLite's write-ahead log into the database and truncate it; on PostgreSQL,
        gather the planner's statistics of the tables just filled (autovacuum would, minutes later: the target scores
        and the end-of-day that follow the load would be planned on empty tables' estimates until then)."""
        with self.connection.cursor() as cursor:
            # A journalled load left nothing in the log to fold (and right after the switch back, a TRUNCATE
            # checkpoint found the tables locked while the connection held its temporary table).
            if self.connection.vendor == "sqlite" and not self.journalled:
                cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            elif self.connection.vendor == "postgresql":
                cursor.execute("ANALYZE")


def _memory_kib() -> int:
    """The machine's physical memory in KiB (4 GiB where the system does not say)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 1024
    except (AttributeError, ValueError, OSError):
        return 4 * 1024 * 1024
