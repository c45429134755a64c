"""Reads of visits, always through the customer's scope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from rmdesk.access.policy import Action
from rmdesk.core.errors import NotFoundError
from rmdesk.customers.models import Customer
from rmdesk.visits.models import Visit


def visits_for(user: Any, action: Action = Action.VIEW) -> QuerySet[Visit]:
    """The visits of the customers `user` may act on (a visit inherits its customer's visibility)."""
    return Visit.objects.restrict(user, action)


def visit_for(user: Any, visit_id: int, action: Action = Action.VIEW, *, lock: bool = False) -> Visit:
    """One visit in scope, with its customer; NotFoundError (404) for one out of scope or missing alike."""
    visits = visits_for(user, action).select_related("customer", "rm", "event")
    if lock:
        # The visit's row only: PostgreSQL refuses to lock the nullable side of an outer join (event).
        visits = visits.select_for_update(of=("self",))
    visit = visits.filter(pk=visit_id, customer__archived_at__isnull=True).first()
    if visit is None:
        raise NotFoundError()
    return visit


def sees_customer(user: Any, customer: Customer) -> bool:
    """Whether `user` may see `customer` (so its visits): who may attend a visit or own its next step."""
    return Customer.objects.restrict(user, Action.VIEW).filter(pk=customer.pk).exists()
