"""The append-only audit trigger, switched off and on around the flush of tests whose data must be committed.

On PostgreSQL audit_auditevent is append-only (audit migration 0003): its trigger refuses TRUNCATE, so the flush that
empties the tables after a `transactional_db` test would fail and leave the test database full for every test after
it. Production keeps the trigger; only here, in the test database the session created and destroys, is it switched off
for the flush and straight back on, so the other tests (including those proving the trigger refuses DELETE and
TRUNCATE) see it as migrated. SQLite has no trigger. The fixtures are in tests/conftest.py.
"""

from __future__ import annotations

from django.db import connection


def set_audit_triggers(enabled: bool) -> None:
    if connection.vendor != "postgresql":
        return
    # Never touch a database that is not the test one (pytest-django names it test_<name>).
    assert connection.settings_dict["NAME"].startswith("test_"), connection.settings_dict["NAME"]
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE audit_auditevent {'ENABLE' if enabled else 'DISABLE'} TRIGGER USER")
