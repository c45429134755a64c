"""Personas shared by the suite: two branches, two teams each, an RM per team, a lead, a branch head, a risk officer,
an auditor, a department officer and an administrator — and customers placed around them."""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any

from rmdesk.core.identifiers import make_credit_code
from rmdesk.customers.models import Customer, CustomerCoRM
from rmdesk.customers.search_index import index_customer
from rmdesk.org.models import OrgUnit, User

_codes = itertools.count(1)
_rng = random.Random(7)


def credit_code() -> str:
    """A fresh valid unified social credit code."""
    return make_credit_code(_rng)


@dataclass
class Bank:
    head_office: OrgUnit
    branch1: OrgUnit
    branch2: OrgUnit
    sub1: OrgUnit
    sub2: OrgUnit
    team1: OrgUnit
    team2: OrgUnit
    team3: OrgUnit
    department: OrgUnit
    alice: User  # RM, team 1, branch 1
    bob: User  # RM, team 2, branch 1 (same branch, other team)
    carol: User  # RM, team 3, branch 2
    dave: User  # RM, team 1 (same team as alice)
    lead: User  # team lead of team 1
    head: User  # branch head of branch 1
    risk: User
    auditor: User
    officer: User  # department officer
    admin: User


def make_unit(code: str, name: str, level: str, parent: OrgUnit | None) -> OrgUnit:
    unit = OrgUnit(code=code, name=name, level=level, parent=parent)
    unit.full_clean()
    unit.save()
    return unit


def make_user(username: str, role: str, unit: OrgUnit | None) -> User:
    user = User.objects.create_user(
        username=username,
        password="correct horse battery",
        role=role,
        unit=unit,
        full_name=username.title(),
        is_staff=role == "administrator",
    )
    return user


def make_customer(rm: User, *, name: str | None = None, co_rms: tuple[User, ...] = (), **fields: Any) -> Customer:
    """A customer filed under `rm`'s unit, written directly (tests of services use the services), with its
    quick-search rows, as every loader must write them."""
    n = next(_codes)
    customer = Customer.objects.create(
        name=name or f"测试客户{n}有限公司",
        credit_code=credit_code(),
        owning_unit=rm.unit,
        primary_rm=rm,
        status="customer",
        **fields,
    )
    for co_rm in co_rms:
        CustomerCoRM.objects.create(customer=customer, user=co_rm)
    index_customer(customer)
    return customer


def build_bank() -> Bank:
    ho = make_unit("HO", "总行", "head_office", None)
    br1 = make_unit("BR1", "杭州分行", "branch", ho)
    br2 = make_unit("BR2", "宁波分行", "branch", ho)
    sub1 = make_unit("SB1", "西湖支行", "sub_branch", br1)
    sub2 = make_unit("SB2", "鄞州支行", "sub_branch", br2)
    t1 = make_unit("T1", "公司一组", "team", sub1)
    t2 = make_unit("T2", "公司二组", "team", sub1)
    t3 = make_unit("T3", "公司三组", "team", sub2)
    dept = make_unit("DEPT", "公司业务部", "department", ho)
    return Bank(
        head_office=ho,
        branch1=br1,
        branch2=br2,
        sub1=sub1,
        sub2=sub2,
        team1=t1,
        team2=t2,
        team3=t3,
        department=dept,
        alice=make_user("alice", "rm", t1),
        bob=make_user("bob", "rm", t2),
        carol=make_user("carol", "rm", t3),
        dave=make_user("dave", "rm", t1),
        lead=make_user("lead", "team_lead", t1),
        head=make_user("head", "branch_head", br1),
        risk=make_user("risk", "risk_officer", ho),
        auditor=make_user("auditor", "auditor", ho),
        officer=make_user("officer", "department_officer", dept),
        admin=make_user("admin", "administrator", ho),
    )
