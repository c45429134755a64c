"""Who may read a visit's confidential notes: narrower than who may see the visit.

The issue's rule: the visiting RM, the customer's RMs (primary and co-RMs) and the team leads of those people.
A branch head, a risk officer or an auditor sees that confidential notes exist, not what they say.
"""

from __future__ import annotations

from typing import Any

from rmdesk.customers.models import CustomerCoRM
from rmdesk.org.choices import Role
from rmdesk.org.models import User
from rmdesk.visits.models import Visit


def _people_of(visit: Visit) -> set[int]:
    """The user ids who work this visit's customer: the visiting RM, the primary RM and the co-RMs."""
    people = {visit.rm_id}
    if visit.customer.primary_rm_id is not None:
        people.add(visit.customer.primary_rm_id)
    people.update(CustomerCoRM.objects.filter(customer_id=visit.customer_id).values_list("user_id", flat=True))
    return people


def may_read_confidential(user: Any, visit: Visit) -> bool:
    """True for the visit's RMs and their team leads (callers have already checked the visit is in view scope)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    people = _people_of(visit)
    if user.pk in people:
        return True
    if user.role != Role.TEAM_LEAD or user.unit_id is None:
        return False
    return User.objects.filter(pk__in=people, unit_id=user.unit_id).exists()
