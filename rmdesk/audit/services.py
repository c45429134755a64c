"""record() writes an audit event in the caller's transaction; verify() walks the chain."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models, transaction
from django.utils import timezone

from rmdesk.audit.chain import GENESIS, event_hash
from rmdesk.audit.models import AuditEvent, AuditHead
from rmdesk.core.request_context import current_request_id


def jsonable(value: Any) -> Any:
    """Field values as JSON the chain can hash identically after a round trip (amounts as strings)."""
    if isinstance(value, Decimal | date | datetime):
        return str(value)
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    customer_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain; must run inside the transaction of the action it records."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record() must run inside the action's transaction")
    # Locking the head serialises writers on PostgreSQL; SQLite's IMMEDIATE transactions already do.
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        head = AuditHead.objects.create(pk=1, seq=0, hash=GENESIS)
    actor_id = getattr(actor, "pk", None)
    fields: dict[str, Any] = {
        "seq": head.seq + 1,
        # Whole microseconds as stored by both databases.
        "at": timezone.now(),
        "actor_id": actor_id,
        "actor_name": getattr(actor, "username", "") if actor is not None else "system",
        "action": action,
        "object_type": obj._meta.label_lower if obj is not None else "",
        "object_id": str(obj.pk) if obj is not None else "",
        "object_repr": str(obj)[:200] if obj is not None else "",
        "customer_id": customer_id,
        "changes": jsonable(changes or {}),
        "request_id": current_request_id.get(),
    }
    digest = event_hash(prev_hash=head.hash, **fields)
    event = AuditEvent.objects.create(prev_hash=head.hash, hash=digest, **fields)
    AuditHead.objects.filter(pk=1).update(seq=event.seq, hash=digest)
    return event


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {
        name: [jsonable(before.get(name)), jsonable(value)]
        for name, value in after.items()
        if jsonable(before.get(name)) != jsonable(value)
    }


@dataclass(frozen=True)
class ChainReport:
    intact: bool
    checked: int
    broken_seq: int | None = None
    reason: str = ""


def _events(batch: int = 5000) -> Iterator[AuditEvent]:
    last = 0
    while True:
        rows = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:batch])
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def verify() -> ChainReport:
    """Recompute every hash in order; name the first event that was altered, removed or inserted."""
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    for event in _events():
        if event.seq != expected_seq:
            return ChainReport(False, checked, expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return ChainReport(False, checked, event.seq, "does not link to the event before it")
        recomputed = event_hash(
            prev_hash=event.prev_hash,
            seq=event.seq,
            at=event.at,
            actor_id=event.actor_id,
            actor_name=event.actor_name,
            action=event.action,
            object_type=event.object_type,
            object_id=event.object_id,
            object_repr=event.object_repr,
            customer_id=event.customer_id,
            changes=event.changes,
            request_id=event.request_id,
        )
        if recomputed != event.hash:
            return ChainReport(False, checked, event.seq, "its content does not match its hash")
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(pk=1).first()
    head_seq = head.seq if head else 0
    if head_seq != checked or (head and head.seq and head.hash != expected_prev):
        return ChainReport(False, checked, checked + 1, f"events after #{checked} are missing")
    return ChainReport(True, checked)
