"""Whom a user may put in charge of a customer, and under which units they may file one: the choices offered by
the archive's forms and by customer development's pool (assigning a prospect), decided by the user's scope."""

from __future__ import annotations

from django.db.models import QuerySet

from rmdesk.access.policy import Action, scope_for
from rmdesk.org.choices import Role, UnitLevel
from rmdesk.org.models import OrgUnit, User


def assignable_rms(user: User) -> QuerySet[User]:
    """Active RMs the user may make primary RM: themselves for an RM, else RMs in their unit subtree."""
    scope = scope_for(user, Action.CREATE)
    rms = User.objects.filter(role=Role.RM, is_active=True).select_related("unit").order_by("unit__path", "username")
    if scope.rm_id is not None:
        return rms.filter(pk=user.pk)
    if scope.unit_path is not None:
        return rms.filter(unit__path__startswith=scope.unit_path)
    return rms.none()


def assignable_units(user: User) -> QuerySet[OrgUnit]:
    """Units a customer of this user's may be filed under: their own unit subtree."""
    if user.unit is None:
        return OrgUnit.objects.none()
    return user.unit.subtree().exclude(level=UnitLevel.DEPARTMENT)
