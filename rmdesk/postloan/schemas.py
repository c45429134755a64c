"""API shapes of the collection work 收息收贷. Amounts are strings with two decimals; ratios are strings in per cent
with two decimals (null for an empty book); dates are YYYY-MM-DD; months are the first day of the month."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema
from pydantic.config import JsonDict

from rmdesk.core.api import Amount, Out
from rmdesk.loans.choices import Classification
from rmdesk.postloan.choices import ContactChannel, PromiseStatus
from rmdesk.postloan.queries import DPD_BANDS


def _enum(choices: Any) -> JsonDict:
    return {"enum": [v for v in choices.values]}


CATEGORY = (
    "Five-category classification: 1 正常 normal, 2 关注 special mention, 3 次级 substandard, "
    "4 可疑 doubtful, 5 损失 loss"
)


# --- the calendar -----------------------------------------------------------------------------------------------------


class DueLineOut(Out):
    contract_id: int
    contract_no: str
    currency: str
    customer_id: int
    customer_name: str
    rm_id: int
    rm_name: str
    due_date: date
    principal: Amount = Field(description="Principal still unpaid on the loan's instalments due that day")
    interest: Amount
    fee: Amount
    penalty: Amount = Field(description="Penalty and compound interest accrued through the last end of day, unpaid")
    total: Amount
    days_overdue: int = Field(description="Days since the due date; 0 when not yet overdue")


class DueTotalsOut(Out):
    lines: int
    principal: Amount = Field(description="Sums over CNY lines only")
    interest: Amount
    fee: Amount
    penalty: Amount
    total: Amount
    other_currency_lines: int = Field(description="Lines in other currencies, listed but not added")


class CalendarDayOut(Out):
    day: date
    in_month: bool
    lines: int
    total: Amount
    overdue: bool


class CalendarOut(Out):
    today: date
    month: date
    week_start: date
    week_end: date
    overdue: list[DueLineOut] = Field(description="Unpaid after their due date, oldest first")
    this_week: list[DueLineOut] = Field(description="Due from today to Sunday")
    this_month: list[DueLineOut] = Field(description="Due in the month asked for, today or later")
    overdue_totals: DueTotalsOut
    week_totals: DueTotalsOut
    month_totals: DueTotalsOut
    days: list[CalendarDayOut] = Field(description="The month grid, Monday of the first week to Sunday of the last")


# --- the overdue list -------------------------------------------------------------------------------------------------


class OverdueLoanOut(Out):
    id: int
    contract_no: str
    currency: str
    customer_id: int
    customer_name: str
    rm_id: int
    rm_name: str
    days_past_due: int
    overdue_since: date | None
    outstanding_principal: Amount
    overdue_principal: Amount
    overdue_interest: Amount
    penalty: Amount = Field(description="Penalty and compound interest to date (last end of day), unpaid")
    classification: int = Field(description=CATEGORY, json_schema_extra=_enum(Classification))
    classification_label: str
    proposed_classification: int | None = Field(description="The batch's proposal waiting for confirmation")
    proposed_classification_label: str | None
    last_contact: date | None
    promise_date: date | None = Field(description="The earliest open promise to pay")
    promise_amount: Amount | None


class OverdueTotalsOut(Out):
    loans: int
    outstanding: Amount = Field(description="Sums over CNY loans only")
    overdue_principal: Amount
    overdue_interest: Amount
    penalty: Amount
    other_currency_loans: int


class OverduePage(Out):
    items: list[OverdueLoanOut]
    totals: OverdueTotalsOut = Field(description="Of every loan the filters select, not only this page")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class ProposalPage(Out):
    items: list[OverdueLoanOut]
    next_cursor: str | None


# --- the collection log -----------------------------------------------------------------------------------------------


class CollectionLogOut(Out):
    id: int
    contract_id: int
    contacted_on: date
    channel: str = Field(json_schema_extra=_enum(ContactChannel))
    channel_label: str
    contact_person: str
    result: str
    promise_date: date | None
    promise_amount: Amount | None
    promise_status: str = Field(json_schema_extra=_enum(PromiseStatus))
    promise_status_label: str
    created_by: str
    created_at: datetime


class CollectionLogIn(Schema):
    contacted_on: date
    channel: str = Field(json_schema_extra=_enum(ContactChannel))
    contact_person: str = Field(max_length=50)
    result: str = Field(max_length=2000)
    promise_date: date | None = Field(None, description="With promise_amount: the customer's promise to pay")
    promise_amount: Amount | None = None


# --- classification ---------------------------------------------------------------------------------------------------


class DecisionIn(Schema):
    decided: int = Field(description=CATEGORY, json_schema_extra=_enum(Classification))
    reason: str = Field(max_length=2000, description="Always required")


class DecisionOut(Out):
    id: int
    contract_id: int
    decided_on: date
    previous: int
    proposed: int | None
    decided: int
    decided_label: str
    days_past_due: int
    reason: str
    decided_by: str
    decided_at: datetime


class ClassificationOut(Out):
    contract_id: int
    classification: int = Field(description=CATEGORY)
    classification_label: str
    proposed_classification: int | None
    classified_on: date | None
    classified_by: str | None
    days_past_due: int
    required_by_days_past_due: int = Field(description="The category days past due require at least")
    decisions: list[DecisionOut] = Field(description="Latest first")


# --- portfolio quality ------------------------------------------------------------------------------------------------


class QualityRowOut(Out):
    id: int | None = Field(description="The RM's user id, or the team's unit id; null for the whole scope")
    name: str
    loans: int
    outstanding: Amount
    overdue_loans: int
    overdue_balance: Amount = Field(description="Outstanding principal of loans with days past due")
    overdue_principal: Amount = Field(description="Principal past its due date")
    overdue_ratio: str | None = Field(description="overdue_balance / outstanding, per cent")
    overdue_principal_ratio: str | None
    npl_balance: Amount = Field(description="Outstanding of loans classified 次级, 可疑 or 损失")
    npl_ratio: str | None


class CategoryOut(Out):
    classification: int
    label: str
    loans: int
    outstanding: Amount
    share: str | None = Field(description="Of the outstanding principal, per cent")


class MigrationCellOut(Out):
    source: int | None = Field(description="Category at the earlier month end; null: new since")
    target: int | None = Field(description="Category at the later month end; null: left the book")
    loans: int
    amount: Amount = Field(description="Outstanding at the earlier month end (new loans: at the later one)")


class MigrationOut(Out):
    from_month: date
    to_month: date
    cells: list[MigrationCellOut]


class TrendPointOut(Out):
    month: date
    loans: int
    outstanding: Amount
    overdue_principal: Amount
    npl_balance: Amount
    npl_ratio: str | None
    overdue_principal_ratio: str | None
    by_class: dict[str, Amount] = Field(description="Category (1–5) → outstanding principal")


class QualityOut(Out):
    today: date
    unit_id: int | None
    total: QualityRowOut
    classes: list[CategoryOut]
    proposals: int = Field(description="Proposals waiting for confirmation")
    other_currency_loans: int = Field(description="Active loans in other currencies, not added")
    teams: list[QualityRowOut]
    rms: list[QualityRowOut]
    migration: MigrationOut | None
    trend: list[TrendPointOut] = Field(description="Month ends, oldest first, at most twelve")


BAND_DESCRIPTION = "Days past due band: " + ", ".join(DPD_BANDS)
