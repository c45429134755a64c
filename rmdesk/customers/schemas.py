"""API shapes of the customer archive, in the bank's words (credit_code = 统一社会信用代码)."""

from datetime import date, datetime
from typing import Any

from django.conf import settings
from ninja import Field, Schema
from pydantic.config import JsonDict

from rmdesk.core.api import Amount, Out, Share
from rmdesk.customers.choices import (
    DecisionRole,
    Direction,
    EnterpriseSize,
    KeyPersonRole,
    LifecycleStatus,
    Ownership,
    RelationshipKind,
    Tier,
)

CREDIT_CODE = r"^[0-9A-HJ-NP-RTUWXYa-hj-np-rtuwxy]{18}$"
ID_NUMBER = r"^\d{17}[\dXx]$"
MOBILE = r"^(\+?86|0086)?[ -]?1[3-9]\d(?:[ -]?\d){8}$"
INDUSTRY = r"^\d{2}$"
REGION = r"^\d{6}$"


def _enum(choices: Any) -> JsonDict:
    return {"enum": [str(v) for v in choices.values]}


class CustomerOut(Out):
    id: int
    name: str
    credit_code: str
    legal_representative: str
    registered_capital: str | None = Field(description="Yuan, as a string")
    established_on: date | None
    industry: str = Field(description="GB/T 4754-2017 division code")
    industry_name: str
    region: str = Field(description="GB/T 2260 prefecture-level code")
    region_name: str
    size: str
    ownership: str
    credit_rating: str
    tier: str
    status: str
    owning_unit: str = Field(description="Org-unit code")
    primary_rm: str | None = Field(description="Username of the primary RM 主办; null while in a pool (公海)")
    co_rms: list[str] = Field(description="Usernames of the co-RMs 协办")
    version: int
    archived: bool
    created_at: datetime
    updated_at: datetime


class CustomerPage(Out):
    items: list[CustomerOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class CustomerFields(Schema):
    legal_representative: str | None = Field(None, max_length=50)
    registered_capital: Amount | None = None
    established_on: date | None = None
    industry: str | None = Field(None, pattern=INDUSTRY)
    region: str | None = Field(None, pattern=REGION)
    size: str | None = Field(None, json_schema_extra=_enum(EnterpriseSize))
    ownership: str | None = Field(None, json_schema_extra=_enum(Ownership))
    credit_rating: str | None = Field(None, json_schema_extra={"enum": list(settings.CREDIT_RATING_SCALE)})
    tier: str | None = Field(None, json_schema_extra=_enum(Tier))
    status: str | None = Field(None, json_schema_extra=_enum(LifecycleStatus))
    owning_unit: str | None = Field(None, description="Org-unit code; defaults to the primary RM's unit")
    primary_rm: str | None = Field(None, description="Username; an RM creating a customer is its primary RM")
    co_rms: list[str] | None = None

    model_config = {"extra": "forbid"}


class CustomerIn(CustomerFields):
    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(pattern=CREDIT_CODE)


class CustomerPatch(CustomerFields):
    version: int = Field(ge=1, description="The version you read; a stale one answers 409")
    name: str | None = Field(None, min_length=1, max_length=200)
    credit_code: str | None = Field(None, pattern=CREDIT_CODE)


class VersionIn(Schema):
    version: int = Field(ge=1)

    model_config = {"extra": "forbid"}


class KeyPersonOut(Out):
    id: int
    customer_id: int
    role: str
    name: str
    title: str
    decision_role: str
    phone: str = Field(description="Masked, e.g. 138****5678; POST …/reveal to see it")
    id_number: str = Field(description="Masked, e.g. 110105********002X; POST …/reveal to see it")
    preferences: str
    version: int


class KeyPersonFields(Schema):
    title: str | None = Field(None, max_length=50)
    decision_role: str | None = Field(None, json_schema_extra=_enum(DecisionRole))
    phone: str | None = Field(None, pattern=MOBILE)
    id_number: str | None = Field(None, pattern=ID_NUMBER)
    preferences: str | None = Field(None, max_length=2000)

    model_config = {"extra": "forbid"}


class KeyPersonIn(KeyPersonFields):
    role: str = Field(json_schema_extra=_enum(KeyPersonRole))
    name: str = Field(min_length=1, max_length=50)


class KeyPersonPatch(KeyPersonFields):
    version: int = Field(ge=1)
    role: str | None = Field(None, json_schema_extra=_enum(KeyPersonRole))
    name: str | None = Field(None, min_length=1, max_length=50)


class RevealIn(Schema):
    field: str = Field(json_schema_extra={"enum": ["phone", "id_number"]})


class RevealOut(Out):
    field: str
    value: str


class StatementOut(Out):
    id: int
    customer_id: int
    year: int
    total_assets: str
    total_liabilities: str
    revenue: str
    net_profit: str
    operating_cash_flow: str
    debt_ratio: str | None = Field(description="total_liabilities / total_assets, 4 decimals")
    revenue_growth: str | None = Field(description="Against the previous year on file, 4 decimals")
    version: int


class StatementIn(Schema):
    year: int = Field(ge=1949, le=2100)
    total_assets: Amount
    total_liabilities: Amount
    revenue: Amount
    net_profit: Amount
    operating_cash_flow: Amount

    model_config = {"extra": "forbid"}


class StatementPatch(Schema):
    version: int = Field(ge=1)
    total_assets: Amount | None = None
    total_liabilities: Amount | None = None
    revenue: Amount | None = None
    net_profit: Amount | None = None
    operating_cash_flow: Amount | None = None

    model_config = {"extra": "forbid"}


class RelationshipOut(Out):
    id: int
    customer_id: int
    kind: str
    direction: str
    counterparty_id: int | None = Field(description="Set only when the counterparty is a customer you may see")
    counterparty_name: str
    counterparty_credit_code: str
    share_pct: str | None
    amount: str | None = Field(description="Guarantee amount or annual supply volume, yuan")
    controller_name: str
    note: str
    version: int


class RelationshipFields(Schema):
    direction: str | None = Field(None, json_schema_extra=_enum(Direction))
    counterparty_id: int | None = None
    counterparty_name: str | None = Field(None, max_length=200)
    counterparty_credit_code: str | None = Field(None, pattern=CREDIT_CODE)
    share_pct: Share | None = None
    amount: Amount | None = None
    controller_name: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=200)

    model_config = {"extra": "forbid"}


class RelationshipIn(RelationshipFields):
    kind: str = Field(json_schema_extra=_enum(RelationshipKind))


class RelationshipPatch(RelationshipFields):
    version: int = Field(ge=1)
    kind: str | None = Field(None, json_schema_extra=_enum(RelationshipKind))
