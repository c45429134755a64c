"""The demo loader on PostgreSQL drops the loaded tables' foreign keys for the load and adds them back after it: the
schema ends as migrations made it, and a row whose parent is missing fails the load instead of slipping in."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from rmdesk.customers.models import Customer, KeyPerson
from rmdesk.demo.builder import build_demo_bank
from rmdesk.demo.writer import BulkWriter

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's foreign keys stay as they are")


def foreign_keys() -> list[tuple[str, str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE contype = 'f' ORDER BY 1, 2"
        )
        return list(cursor.fetchall())


@pytest.mark.django_db
def test_the_foreign_keys_are_back_after_a_load_exactly_as_migrations_made_them() -> None:
    # given
    before = foreign_keys()
    assert any(table == "customers_keyperson" for table, _name, _definition in before)
    # when
    with transaction.atomic():
        build_demo_bank(customers=40, seed=7)
        after = foreign_keys()
        transaction.set_rollback(True)
    # then
    assert after == before


@pytest.mark.django_db
def test_a_row_whose_parent_is_missing_fails_the_load_when_the_keys_come_back() -> None:
    # given a key person of a customer that does not exist, written while the keys are off
    writer = BulkWriter(connection)
    table = writer.table(KeyPerson, ["customer_id", "role", "name", "created_at", "updated_at"])
    now = writer.datetime(timezone.now())
    # when / then
    keys_off = writer.indexes_built_after([Customer, KeyPerson], progress=lambda done, total: None)
    with pytest.raises(DatabaseError), transaction.atomic(), keys_off:
        writer.write(table, [(987654321, "legal_rep", "张三", now, now)])
    assert foreign_keys()  # rolled back with the load: the keys are still there
