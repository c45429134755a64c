"""Development files with a hand-made stage history, written directly with the ORM (the read side's tests)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from rmdesk.customers.models import Customer
from rmdesk.development.choices import Source, Stage
from rmdesk.development.models import Prospect, StageChange
from rmdesk.org.models import User
from tests.personas import make_customer

BANK_TIME = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int = 10) -> datetime:
    """A moment of `day` in the bank's time zone."""
    return datetime.combine(day, time(hour), tzinfo=BANK_TIME)


def make_prospect(
    rm: User,
    *,
    found_on: date,
    steps: Sequence[tuple[str, int]] = (),
    source: int = Source.MEDIA,
    drop_reason: str = "",
    in_pool: bool = False,
    status: str | None = None,
    score: Decimal | None = None,
    contact_due: date | None = None,
    **customer_fields: Any,
) -> Prospect:
    """A prospect in `rm`'s book (or their unit's pool) found on `found_on`, entered at 识别 that day and then
    moved through `steps`: (stage, days after found_on) each. A prospect that reached 开户/签约 is a real customer."""
    stages = [stage for stage, _days in steps]
    if status is None:
        status = "customer" if Stage.WON in stages else "prospect"
    customer = make_customer(rm, **customer_fields)
    # make_customer files a real customer; a prospect's file is then set to its status (and its pool) directly.
    Customer.objects.filter(pk=customer.pk).update(status=status, primary_rm=None if in_pool else rm)
    customer.refresh_from_db()
    last_stage, last_at = Stage.IDENTIFIED.value, at(found_on)
    if steps:
        last_stage, last_at = steps[-1][0], at(found_on + timedelta(days=steps[-1][1]))
    prospect = Prospect.objects.create(
        customer=customer,
        source=source,
        found_by=rm,
        found_on=found_on,
        stage=last_stage,
        stage_changed_at=last_at,
        drop_reason=drop_reason if last_stage == Stage.DROPPED else "",
        score=score,
        contact_due=contact_due,
    )
    changes = [
        StageChange(prospect=prospect, from_stage="", to_stage=Stage.IDENTIFIED, changed_at=at(found_on), changed_by=rm)
    ]
    previous = Stage.IDENTIFIED.value
    for stage, days in steps:
        changes.append(
            StageChange(
                prospect=prospect,
                from_stage=previous,
                to_stage=stage,
                changed_at=at(found_on + timedelta(days=days)),
                changed_by=rm,
            )
        )
        previous = stage
    StageChange.objects.bulk_create(changes)
    return prospect
