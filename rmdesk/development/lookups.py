"""The prospect a write acts on: in the actor's scope, still worked, and locked for the rest of the transaction."""

from __future__ import annotations

from rmdesk.access.policy import Action
from rmdesk.core.errors import NotFoundError
from rmdesk.development.models import Prospect
from rmdesk.org.models import User


def prospect_to_change(actor: User, prospect_id: int, *related: str) -> Prospect:
    """The prospect, locked, if the actor may change it and it is still worked (not merged away, nothing archived);
    else NotFoundError, the same for a file out of scope as for one that does not exist. `related`: what to join
    (default: the customer). Call inside a transaction."""
    prospect = (
        Prospect.objects.restrict(actor, Action.CHANGE)
        # The prospect's row only: PostgreSQL refuses to lock the nullable side of an outer join (customer__primary_rm).
        .select_for_update(of=("self",))
        .select_related(*(related or ("customer",)))
        .filter(
            pk=prospect_id,
            merged_into__isnull=True,
            archived_at__isnull=True,
            customer__archived_at__isnull=True,
        )
        .first()
    )
    if prospect is None:
        raise NotFoundError()
    return prospect
