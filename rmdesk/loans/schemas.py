"""API shapes of loans 贷款: contracts, schedules, repayments and the LPR table. Amounts and rates are strings (a JSON
number would pass through a binary float); rates are annual percentages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema
from pydantic.config import JsonDict

from rmdesk.core.api import Amount, Out
from rmdesk.loans.choices import (
    Classification,
    Component,
    Currency,
    GuaranteeMethod,
    InstalmentStatus,
    LoanProduct,
    LoanStatus,
    LprTenor,
    RateKind,
    RepaymentMethod,
    RepaymentSource,
    RepricingRule,
    ScheduleSource,
)

RATE_PATTERN = r"^\d{1,2}(\.\d{1,6})?$"
Rate = Field(pattern=RATE_PATTERN, examples=["3.45"])


def _enum(choices: Any) -> JsonDict:
    return {"enum": [v for v in choices.values]}


# --- reads -----------------------------------------------------------------------------------------------------------


class LoanOut(Out):
    id: int
    contract_no: str
    customer_id: int
    customer_name: str
    product: str = Field(json_schema_extra=_enum(LoanProduct))
    product_label: str
    currency: str = Field(json_schema_extra=_enum(Currency))
    amount: str
    term_months: int
    repayment_method: str = Field(json_schema_extra=_enum(RepaymentMethod))
    repayment_method_label: str
    interest_day: int = Field(description="结息日 of the interest-only methods")
    rate_kind: str = Field(json_schema_extra=_enum(RateKind))
    fixed_rate_pct: str | None
    lpr_spread_bp: int | None
    repricing_rule: str = Field(json_schema_extra={"enum": ["", *RepricingRule.values]})
    current_rate_pct: str
    next_repricing_on: date | None
    guarantee_method: str = Field(json_schema_extra=_enum(GuaranteeMethod))
    guarantee_method_label: str
    purpose: str
    primary_rm_id: int
    primary_rm: str
    primary_rm_name: str
    start_date: date
    maturity_date: date
    status: str = Field(json_schema_extra=_enum(LoanStatus))
    closed_on: date | None
    schedule_source: str = Field(
        json_schema_extra=_enum(ScheduleSource), description="core: the core banking system's schedule is the record"
    )
    outstanding_principal: str
    overdue_principal: str
    overdue_interest: str
    penalty_unpaid: str = Field(description="Penalty 罚息 and compound 复利 interest accrued and not paid")
    overpayment: str = Field(description="Money received beyond what was due, held and not applied")
    days_past_due: int
    overdue_since: date | None
    next_due_date: date | None
    classification: int = Field(json_schema_extra=_enum(Classification))
    classification_label: str
    proposed_classification: int | None
    version: int


class LoanPage(Out):
    items: list[LoanOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class GuarantorOut(Out):
    id: int
    name: str
    credit_code: str
    relationship_id: int | None = Field(description="The customer's guarantee relationship it comes from, if any")
    amount: str | None


class DrawdownOut(Out):
    number: int
    drawn_on: date
    amount: str
    months: int = Field(description="Whole months from the drawdown to the contract's maturity")
    external_ref: str


class LoanDetailOut(LoanOut):
    guarantors: list[GuarantorOut]
    drawdowns: list[DrawdownOut]
    classified_on: date | None
    classified_by: str | None


class InstalmentOut(Out):
    id: int
    drawdown: int
    number: int
    scheduled_date: date
    due_date: date = Field(description="The scheduled date rolled to a working day")
    due_date_provisional: bool = Field(description="Beyond the holiday data: rolled over weekends only")
    rate_pct: str
    principal_due: str
    interest_due: str
    fee_due: str
    principal_paid: str
    interest_paid: str
    fee_paid: str
    penalty_accrued: str
    compound_accrued: str
    penalty_paid: str
    compound_paid: str
    accrued_through: date | None
    owed: str = Field(description="Everything still owed on the period: fees, penalty, compound, interest, principal")
    status: str = Field(json_schema_extra=_enum(InstalmentStatus))
    status_label: str
    overdue_since: date | None
    paid_on: date | None


class ScheduleOut(Out):
    contract_id: int
    schedule_source: str = Field(json_schema_extra=_enum(ScheduleSource))
    items: list[InstalmentOut]


class AllocationOut(Out):
    instalment_id: int
    drawdown: int
    period: int
    due_date: date
    component: str = Field(json_schema_extra=_enum(Component))
    amount: str


class RepaymentOut(Out):
    id: int
    contract_id: int
    paid_on: date
    amount: str
    source: str = Field(json_schema_extra=_enum(RepaymentSource))
    external_ref: str
    allocated: str
    unallocated: str = Field(description="Held as an overpayment: never applied to instalments not yet due")
    entered_by: str | None
    note: str
    created_at: datetime
    allocations: list[AllocationOut]


class RepaymentList(Out):
    items: list[RepaymentOut]


class PostedRepaymentOut(RepaymentOut):
    duplicate: bool = Field(description="The reference was posted before: this is that repayment, allocated once")


class LprOut(Out):
    id: int
    tenor: str = Field(json_schema_extra=_enum(LprTenor))
    tenor_label: str
    published_on: date
    rate_pct: str
    entered_by: str | None


class LprList(Out):
    items: list[LprOut]


# --- writes ----------------------------------------------------------------------------------------------------------


class RepaymentIn(Schema):
    paid_on: date
    amount: Amount
    external_ref: str = Field("", max_length=64, description="The bank's transaction reference; a repeat posts once")
    note: str = Field("", max_length=200)

    model_config = {"extra": "forbid"}


class LprIn(Schema):
    tenor: str = Field(json_schema_extra=_enum(LprTenor))
    published_on: date
    rate_pct: str = Rate

    model_config = {"extra": "forbid"}


class GuarantorIn(Schema):
    relationship_id: int | None = Field(None, description="One of the customer's guarantee relationships (inward)")
    name: str = Field("", max_length=200, description="Or a guarantor named here")
    credit_code: str = Field("", max_length=18)
    amount: Amount | None = None

    model_config = {"extra": "forbid"}


class LoanIn(Schema):
    customer_id: int
    contract_no: str = Field(min_length=1, max_length=40)
    product: str = Field(json_schema_extra=_enum(LoanProduct))
    currency: str = Field("CNY", json_schema_extra=_enum(Currency))
    amount: Amount
    term_months: int = Field(ge=1, le=600)
    repayment_method: str = Field(json_schema_extra=_enum(RepaymentMethod))
    interest_day: int = Field(20, ge=1, le=28)
    rate_kind: str = Field("fixed", json_schema_extra=_enum(RateKind))
    fixed_rate_pct: str | None = Field(None, pattern=RATE_PATTERN, examples=["4.35"])
    lpr_spread_bp: int | None = Field(None, ge=-3600, le=3600)
    repricing_rule: str = Field("", json_schema_extra={"enum": ["", *RepricingRule.values]})
    guarantee_method: str = Field(json_schema_extra=_enum(GuaranteeMethod))
    guarantors: list[GuarantorIn] = Field(default_factory=list)
    purpose: str = Field("", max_length=200)
    primary_rm_id: int | None = Field(None, description="Default: the customer's primary RM")
    start_date: date = Field(description="The first drawdown")
    drawdown_amount: Amount | None = Field(None, description="Default: the whole contract amount")
    drawdown_ref: str = Field("", max_length=64)

    model_config = {"extra": "forbid"}


class DrawdownIn(Schema):
    drawn_on: date
    amount: Amount
    external_ref: str = Field("", max_length=64)

    model_config = {"extra": "forbid"}
