"""The LPR table: head office publishes each new LPR."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rmdesk.access.policy import Action, may
from rmdesk.audit.services import record
from rmdesk.core.errors import DomainError
from rmdesk.loans.choices import LprTenor
from rmdesk.loans.models import LprRate
from rmdesk.loans.services.checks import Errors, check_choice, parse_rate, today
from rmdesk.org.choices import UnitLevel
from rmdesk.org.models import User


class LprHeadOfficeOnly(DomainError):
    """The LPR table is the bank's reference data: only head office adds to it (it is no secret, so no 404)."""

    code = "forbidden"
    status = 403

    def __init__(self) -> None:
        super().__init__(gettext_lazy("Only head office can publish LPR rates."))


def may_publish_lpr(user: Any) -> bool:
    """Head office publishes the LPR: a user whose home unit is the head office (or one of its departments) with a
    role that may change customer files (RM, team lead, branch head), and administrators, who keep the bank's
    reference data. There is no head-office role; risk officers and auditors read the table only."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == "administrator":
        return True
    unit = user.unit
    if unit is None or not may(user, Action.CHANGE):
        return False
    if unit.level == UnitLevel.HEAD_OFFICE:
        return True
    return unit.level == UnitLevel.DEPARTMENT and unit.parent is not None and unit.parent.level == UnitLevel.HEAD_OFFICE


@transaction.atomic
def publish_lpr(*, actor: User | None, tenor: str, published_on: date, rate_pct: Decimal | str) -> LprRate:
    """Add a published LPR to the table (head office; `actor` None is the system, e.g. the `lpr` command). Floating
    loans take it on their next repricing date; nothing is repriced now."""
    if actor is not None and not may_publish_lpr(actor):
        raise LprHeadOfficeOnly()
    errors = Errors()
    check_choice(tenor, LprTenor, "tenor", errors)
    rate = parse_rate(rate_pct, "rate_pct", errors)
    if not isinstance(published_on, date):
        errors.add("published_on", _("Enter the date the LPR was published."))
    elif published_on > today():
        errors.add("published_on", _("An LPR is entered once published: the date cannot be in the future."))
    elif "tenor" not in errors and LprRate.objects.filter(tenor=tenor, published_on=published_on).exists():
        errors.add("published_on", _already_published(tenor, published_on))
    errors.raise_any()
    assert rate is not None
    try:
        with transaction.atomic():  # the same tenor and date published by someone else at this moment
            lpr = LprRate.objects.create(tenor=tenor, published_on=published_on, rate_pct=rate, created_by=actor)
    except IntegrityError:
        errors.add("published_on", _already_published(tenor, published_on))
        errors.raise_any()
        raise
    record(
        actor=actor,
        action="loans.lpr_publish",
        obj=lpr,
        changes={"tenor": tenor, "published_on": published_on, "rate_pct": rate},
    )
    return lpr


def _already_published(tenor: str, published_on: date) -> str:
    return _("The %(tenor)s of %(date)s is already in the table.") % {
        "tenor": LprTenor(tenor).label,
        "date": published_on.isoformat(),
    }
