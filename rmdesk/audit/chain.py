"""The hash chain's arithmetic, kept free of the ORM so writers and the verifier agree exactly."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

GENESIS = "0" * 64
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def canonical(fields: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, no spaces, UTF-8 — the same bytes on SQLite and PostgreSQL."""
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str).encode()


def event_hash(
    *,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor_id: int | None,
    actor_name: str,
    action: str,
    object_type: str,
    object_id: str,
    object_repr: str,
    customer_id: int | None,
    changes: Any,
    request_id: str,
) -> str:
    """SHA-256 of the previous hash and this event's content."""
    body = canonical(
        {
            "seq": seq,
            # Microseconds as an integer: both databases keep them, and no time-zone text is involved.
            "at": (at - _EPOCH) // timedelta(microseconds=1),
            "actor_id": actor_id,
            "actor_name": actor_name,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "object_repr": object_repr,
            "customer_id": customer_id,
            "changes": changes,
            "request_id": request_id,
        }
    )
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()
