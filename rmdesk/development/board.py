"""How the pipeline's board, list and API show a prospect: days in its stage, and whether first contact is late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from rmdesk.development.choices import Stage
from rmdesk.development.models import Prospect
from rmdesk.development.pipeline import days_in_stage


def contact_overdue(prospect: Prospect, today: date) -> bool:
    """First contact is late: the prospect is still at 识别 after its contact_due."""
    return prospect.stage == Stage.IDENTIFIED and prospect.contact_due is not None and prospect.contact_due < today


@dataclass(frozen=True)
class Card:
    """A prospect as the board and the list show it."""

    prospect: Prospect
    days_in_stage: int
    overdue: bool


def card(prospect: Prospect, today: date) -> Card:
    return Card(
        prospect=prospect, days_in_stage=days_in_stage(prospect, today), overdue=contact_overdue(prospect, today)
    )
