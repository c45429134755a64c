"""What the collection pages share: a loan in scope or 404, and whether the user may act on it."""

from __future__ import annotations

from django.http import Http404

from rmdesk.access.policy import Action
from rmdesk.core.errors import NotFoundError
from rmdesk.loans.models import LoanContract
from rmdesk.loans.queries import contract_for, contracts_for
from rmdesk.org.models import User

PAGE_SIZE = 50


def loan_or_404(user: User, pk: int, action: Action = Action.VIEW) -> LoanContract:
    """The loan if `user` may `action` it, else 404 — out of scope and missing are never told apart."""
    try:
        return contract_for(user, pk, action)
    except NotFoundError:
        raise Http404 from None


def may_on(user: User, loan: LoanContract, action: Action) -> bool:
    """Whether `user` may `action` this loan (its customer in their scope for that action)."""
    return contracts_for(user, action).filter(pk=loan.pk).exists()
