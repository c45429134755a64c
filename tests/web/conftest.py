"""The web pages' bank: the shared personas (tests/personas.py) with one customer each side of a branch line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from rmdesk.customers import services
from rmdesk.customers.models import Customer
from rmdesk.org.models import User
from tests.personas import build_bank, credit_code

__all__ = ["WebBank", "credit_code", "open_customer"]


@dataclass
class WebBank:
    rm: User  # 客户经理 in branch 1, team 1
    other_rm: User  # 客户经理 in branch 2: sees none of branch 1's customers
    lead: User  # 团队长 of team 1
    admin: User
    customer: Customer  # filed under `rm`
    other_customer: Customer  # filed under `other_rm`


def open_customer(rm: User, name: str, **data: Any) -> Customer:
    return services.create_customer(actor=rm, data={"name": name, "credit_code": credit_code(), **data})


@pytest.fixture
def web_bank(db: Any) -> WebBank:
    bank = build_bank()
    return WebBank(
        rm=bank.alice,
        other_rm=bank.carol,
        lead=bank.lead,
        admin=bank.admin,
        customer=open_customer(bank.alice, "西湖电子有限公司", status="customer"),
        other_customer=open_customer(bank.carol, "宁波港务有限公司", status="customer"),
    )
