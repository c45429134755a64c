"""Personas the loans tests add to the shared bank: an operations officer of branch 1 (posts repayments for its
subtree) and a team lead at head office (publishes LPR)."""

from __future__ import annotations

import pytest

from rmdesk.org.models import User
from tests.personas import Bank, make_user


@pytest.fixture
def ops(bank: Bank) -> User:
    """Operations officer of branch 1: sees and posts repayments for the loans of alice's, dave's and bob's
    customers."""
    return make_user("ops", "operations_officer", bank.branch1)


@pytest.fixture
def ho_lead(bank: Bank) -> User:
    """A team lead whose home unit is the head office: head office's write role, so may publish LPR."""
    return make_user("holead", "team_lead", bank.head_office)
