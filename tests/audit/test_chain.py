from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError

from rmdesk.audit.models import AuditEvent
from rmdesk.audit.services import verify
from rmdesk.customers import services
from tests.personas import Bank, credit_code


def _three_changes(bank: Bank) -> int:
    customer = services.create_customer(
        actor=bank.alice, data={"name": "华兴科技有限公司", "credit_code": credit_code()}
    )
    services.update_customer(actor=bank.alice, customer_id=customer.pk, version=1, data={"tier": "key"})
    services.update_customer(actor=bank.alice, customer_id=customer.pk, version=2, data={"tier": "core"})
    return customer.pk


def _tamper(sql: str, params: list[object]) -> None:
    """Alter the audit table behind the application's back, as an intruder with database access would."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")


def test_every_change_writes_a_chained_event(bank: Bank) -> None:
    # given / when
    customer_id = _three_changes(bank)
    # then
    events = list(AuditEvent.objects.filter(customer_id=customer_id).order_by("seq"))
    assert [e.action for e in events] == ["customer.create", "customer.update", "customer.update"]
    assert events[1].changes == {"tier": ["general", "key"]}
    assert events[1].prev_hash == events[0].hash
    assert verify().intact


def test_verify_names_the_first_altered_event(bank: Bank) -> None:
    # given
    _three_changes(bank)
    target = AuditEvent.objects.order_by("seq")[1]
    # when
    _tamper("UPDATE audit_auditevent SET action = %s WHERE seq = %s", ["customer.delete", target.seq])
    # then
    report = verify()
    assert not report.intact
    assert report.broken_seq == target.seq


def test_verify_notices_a_removed_event(bank: Bank) -> None:
    # given
    _three_changes(bank)
    middle = AuditEvent.objects.order_by("seq")[1]
    # when
    _tamper("DELETE FROM audit_auditevent WHERE seq = %s", [middle.seq])
    # then
    report = verify()
    assert not report.intact
    assert report.broken_seq == middle.seq


def test_verify_notices_the_newest_event_removed(bank: Bank) -> None:
    # given
    _three_changes(bank)
    last = AuditEvent.objects.order_by("-seq")[0]
    # when
    _tamper("DELETE FROM audit_auditevent WHERE seq = %s", [last.seq])
    # then
    assert verify().broken_seq == last.seq


def test_audit_verify_command_exits_non_zero_naming_the_event(bank: Bank) -> None:
    # given
    _three_changes(bank)
    call_command("audit", "verify")
    first = AuditEvent.objects.order_by("seq")[0]
    _tamper("UPDATE audit_auditevent SET changes = %s WHERE seq = %s", ['{"tier": ["x", "y"]}', first.seq])
    # when / then
    with pytest.raises(CommandError, match=f"event #{first.seq}") as raised:
        call_command("audit", "verify")
    assert raised.value.returncode == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the append-only trigger is PostgreSQL hardening")
def test_postgresql_refuses_update_and_delete_on_the_audit_table(bank: Bank) -> None:
    # given
    _three_changes(bank)
    # when / then
    for statement in ("UPDATE audit_auditevent SET action = 'x'", "DELETE FROM audit_auditevent"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert verify().intact
