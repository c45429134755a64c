"""Who may do what to which customers: the one place that decides.

A role grants actions; the user's place in the bank (their own book, or a unit subtree, or the whole
bank) decides on which customers. Everything that belongs to a customer inherits its visibility.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from rmdesk.org.choices import Role


class Action(StrEnum):
    VIEW = "view"
    CREATE = "create"
    CHANGE = "change"
    REVEAL = "reveal"  # see key persons' ID numbers and phones unmasked
    EXPORT = "export"


_WRITE = {Action.VIEW, Action.CREATE, Action.CHANGE, Action.REVEAL, Action.EXPORT}

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.RM: frozenset(_WRITE),
    Role.TEAM_LEAD: frozenset(_WRITE),
    Role.BRANCH_HEAD: frozenset(_WRITE),
    # Risk officers are read-only but must be able to call a key person about a risk.
    Role.RISK_OFFICER: frozenset({Action.VIEW, Action.REVEAL, Action.EXPORT}),
    Role.AUDITOR: frozenset({Action.VIEW, Action.EXPORT}),
    # Department officers see what their department's requests touch (service desk, later); for now nothing.
    Role.DEPARTMENT_OFFICER: frozenset(),
    # Administrators manage users and settings, never customer data.
    Role.ADMINISTRATOR: frozenset(),
}


@dataclass(frozen=True)
class Scope:
    """Which customers an action reaches: none, all, one RM's book, or one unit subtree."""

    everything: bool = False
    rm_id: int | None = None
    unit_path: str | None = None

    @property
    def nothing(self) -> bool:
        return not (self.everything or self.rm_id or self.unit_path)


NOTHING = Scope()


def may(user: Any, action: Action | str) -> bool:
    """Whether the user's role grants `action` on some customers at all."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return Action(action) in ROLE_ACTIONS.get(user.role, frozenset())


def scope_for(user: Any, action: Action | str) -> Scope:
    """The customers `user` may apply `action` to."""
    if not may(user, action):
        return NOTHING
    role = user.role
    if role in (Role.RISK_OFFICER, Role.AUDITOR):
        return Scope(everything=True)
    if role == Role.RM:
        return Scope(rm_id=user.pk)
    if role in (Role.TEAM_LEAD, Role.BRANCH_HEAD):
        if user.unit_id is None:
            return NOTHING
        return Scope(unit_path=user.unit.path)
    return NOTHING
