"""Visits and key persons written directly with the ORM (tests of the read side and of services that need a visit
in a given state); the services themselves are tested through the services."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from rmdesk.customers.choices import KeyPersonRole
from rmdesk.customers.models import Customer, KeyPerson
from rmdesk.org.models import User
from rmdesk.visits.choices import VisitPurpose, VisitStatus
from rmdesk.visits.models import Visit

BANK_TIME = ZoneInfo("Asia/Shanghai")

_names = itertools.count(1)


def aware(y: int, m: int, d: int, h: int = 10, mi: int = 0) -> datetime:
    """A moment in the bank's time zone."""
    return datetime(y, m, d, h, mi, tzinfo=BANK_TIME)


def make_visit(rm: User, customer: Customer, **fields: Any) -> Visit:
    """A visit of `customer` led by `rm`: planned for an hour from 2026-03-02 10:00 unless told otherwise. A visit
    with status "done" gets its actual times, visited_on and recorded_at from the planned ones unless given."""
    start = fields.pop("planned_start", aware(2026, 3, 2))
    end = fields.pop("planned_end", start + timedelta(hours=1))
    fields.setdefault("purpose", VisitPurpose.RELATIONSHIP)
    fields.setdefault("created_by", rm)
    if fields.get("status") == VisitStatus.DONE:
        fields.setdefault("actual_start", start)
        fields.setdefault("actual_end", end)
        fields.setdefault("visited_on", fields["actual_start"].astimezone(BANK_TIME).date())
        fields.setdefault("recorded_at", fields["actual_end"])
    return Visit.objects.create(customer=customer, rm=rm, planned_start=start, planned_end=end, **fields)


def make_key_person(customer: Customer, **fields: Any) -> KeyPerson:
    """A key person of `customer` (its finance head, named 联系人<n>, unless told otherwise)."""
    fields.setdefault("role", KeyPersonRole.FINANCE_HEAD)
    fields.setdefault("name", f"联系人{next(_names)}")
    return KeyPerson.objects.create(customer=customer, **fields)
