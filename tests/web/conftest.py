"""A small bank for the web pages' smoke tests: two branches, an RM in each, a team lead and an administrator."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import pytest

from rmdesk.core.identifiers import make_credit_code
from rmdesk.customers import services
from rmdesk.customers.models import Customer
from rmdesk.org.models import OrgUnit, User

_rng = random.Random(20261128)


def credit_code() -> str:
    return make_credit_code(_rng)


@dataclass
class WebBank:
    rm: User  # 客户经理 in branch 1, team 1
    other_rm: User  # 客户经理 in branch 2: sees none of branch 1's customers
    lead: User  # 团队长 of team 1
    admin: User
    customer: Customer  # filed under `rm`
    other_customer: Customer  # filed under `other_rm`


def _unit(code: str, level: str, parent: OrgUnit | None) -> OrgUnit:
    unit = OrgUnit(code=code, name=f"{code} unit", level=level, parent=parent)
    unit.full_clean()
    unit.save()
    return unit


def _user(username: str, role: str, unit: OrgUnit | None) -> User:
    return User.objects.create_user(
        username=username,
        password="correct horse battery",
        role=role,
        unit=unit,
        full_name=username.title(),
        is_staff=role == "administrator",
    )


def open_customer(rm: User, name: str, **data: Any) -> Customer:
    return services.create_customer(actor=rm, data={"name": name, "credit_code": credit_code(), **data})


@pytest.fixture
def web_bank(db: Any) -> WebBank:
    head_office = _unit("HO", "head_office", None)
    branch1 = _unit("B1", "branch", head_office)
    branch2 = _unit("B2", "branch", head_office)
    team1 = _unit("B1T1", "team", branch1)
    team2 = _unit("B2T1", "team", branch2)
    rm = _user("alice", "rm", team1)
    other_rm = _user("carol", "rm", team2)
    return WebBank(
        rm=rm,
        other_rm=other_rm,
        lead=_user("lena", "team_lead", team1),
        admin=_user("root", "administrator", None),
        customer=open_customer(rm, "西湖电子有限公司", status="customer"),
        other_customer=open_customer(other_rm, "宁波港务有限公司", status="customer"),
    )
