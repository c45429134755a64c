"""Template tags of the development pages that act: which moves a prospect's card offers the user."""

from __future__ import annotations

from typing import Any

from django import template

from rmdesk.access.policy import Action, may
from rmdesk.development.choices import Stage
from rmdesk.development.forms import next_stages
from rmdesk.development.models import Prospect

register = template.Library()


@register.simple_tag(takes_context=True)
def stage_moves(context: Any, prospect: Prospect) -> list[Stage]:
    """The stages the user may move a held prospect to (none for a read-only role or a pool prospect); the move
    itself is checked again by pipeline.move_stage."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if not may(user, Action.CHANGE) or prospect.customer.primary_rm_id is None or prospect.merged_into_id:
        return []
    return next_stages(user, prospect)  # type: ignore[arg-type]


@register.simple_tag(takes_context=True)
def may_do(context: Any, action: str) -> bool:
    """Whether the user's role grants `action` on some customers (to show or hide a way in; views check again)."""
    request = context.get("request")
    return may(getattr(request, "user", None), action)
