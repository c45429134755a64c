"""Apply a core banking feed: loans, drawdowns, the core's schedules and repayments, all or nothing by default.

A feed is applied in a fixed order whatever the order of its records — loans, then drawdowns, then schedules, then
repayments by payment date (file order breaks ties), then the core's closing or reopening of loans — so a repayment
listed before its loan, or repayments out of date order, are applied as they happened. Everything runs in one
transaction with a savepoint per record: a refused record is rolled back alone and reported (row, field, message), the
others go on, so one pass finds every error; unless `partial`, any error then rolls the whole file back.

Idempotent: loans are matched on the contract number, drawdowns on (loan, number), schedule rows on (loan, drawdown,
period) and repayments on the core's transaction reference, and only what differs is written; a file sent twice
changes nothing the second time (its repayments are reported as already posted). A record repeated inside one file is
applied once and reported as a duplicate; two records with the same key that differ are an error on the second.

The feed runs as the system (no actor, no scope): the core banking system is the bank's book of record.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from rmdesk.access.policy import Action
from rmdesk.audit.services import record as audit
from rmdesk.customers.models import Customer
from rmdesk.loans.choices import LoanStatus, RepaymentSource, ScheduleSource
from rmdesk.loans.feed.records import Record, RecordType, read_feed
from rmdesk.loans.models import AccrualSegment, Drawdown, Instalment, LoanContract, LoanGuarantor
from rmdesk.loans.rates import NoLprPublished
from rmdesk.loans.repayments import post_repayment
from rmdesk.loans.schedule import ScheduleError, maturity_date
from rmdesk.loans.services.checks import Errors, months_to, schedule_error_fields
from rmdesk.loans.services.contracts import GuarantorInput, book_contract, check_contract, check_guarantors
from rmdesk.loans.services.schedules import instalments_of
from rmdesk.loans.state import refresh_contract_state
from rmdesk.org.models import User

# The service's names for a contract's inputs → the feed's columns.
FEED_COLUMNS = {"drawdown_amount": "drawn_amount", "customer": "customer_credit_code"}
# Terms of a loan whose change only the core's schedule can follow: on a loan whose schedule rmdesk computes, the
# core must send the new schedule with them.
SCHEDULE_TERMS = (
    "amount",
    "term_months",
    "repayment_method",
    "interest_day",
    "rate_kind",
    "fixed_rate_pct",
    "lpr_spread_bp",
    "repricing_rule",
    "start_date",
)
PLAIN_TERMS = ("product", "currency", "guarantee_method", "purpose")
COUNTS = (
    "loans_created",
    "loans_updated",
    "loans_unchanged",
    "loans_closed",
    "loans_reopened",
    "drawdowns_created",
    "drawdowns_unchanged",
    "instalments_created",
    "instalments_updated",
    "instalments_deleted",
    "instalments_unchanged",
    "repayments_posted",
    "repayments_already_posted",
    "overpayments",
    "duplicates",
    "rejected",
)


class _RollBack(Exception):
    """Raised inside the transaction to undo a dry run, or a file with errors applied all or nothing."""


class RecordRefused(Exception):
    """A record the feed cannot apply; `fields` holds the messages by column."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(fields)
        self.fields = fields


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    field: str
    message: str


@dataclass(frozen=True)
class Duplicate:
    sheet: str
    row: int
    first_row: int


@dataclass(frozen=True)
class Overpayment:
    contract_no: str
    reference: str
    amount: Decimal


@dataclass(frozen=True)
class Difference:
    """A figure the core reports that rmdesk's own differs from after the feed (a reconciliation break)."""

    contract_no: str
    field: str
    core: str
    rmdesk: str


@dataclass
class FeedResult:
    file_name: str
    sha256: str
    business_date: date
    dry_run: bool
    partial: bool
    saved: bool = False
    records: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    overpayments: list[Overpayment] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return self.counts["rejected"]

    def summary(self) -> dict[str, Any]:
        """Counts as plain data, for the audit event and the command's output."""
        return {
            "file": self.file_name,
            "sha256": self.sha256,
            "business_date": self.business_date,
            "dry_run": self.dry_run,
            "partial": self.partial,
            "saved": self.saved,
            "records": self.records,
            **{name: self.counts[name] for name in COUNTS},
            "overpayment_total": sum((o.amount for o in self.overpayments), Decimal("0.00")),
            "differences": len(self.differences),
        }


def _refuse(field_name: str, message: str) -> RecordRefused:
    return RecordRefused({field_name: [message]})


def _feed_fields(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {FEED_COLUMNS.get(name, name): messages for name, messages in error.message_dict.items()}
    return {"": list(error.messages)}


class _Feed:
    """The state of one run: the loans it has seen by contract number, and what it touched."""

    def __init__(self, result: FeedResult) -> None:
        self.result = result
        self.as_of = result.business_date
        self.counts = result.counts
        self.loans: dict[str, LoanContract | None] = {}
        self.touched: set[int] = set()
        self.with_schedule: set[str] = set()  # contract numbers the file sends schedule rows for

    # --- one record at a time, each in its savepoint ------------------------------------------------------------

    def apply(self, records: Iterable[Record], handler: Any) -> None:
        for rec in records:
            try:
                with transaction.atomic():
                    handler(rec)
            except RecordRefused as refused:
                self.reject(rec, refused.fields)
            except ValidationError as error:
                self.reject(rec, _feed_fields(error))

    def reject(self, rec: Record, fields: dict[str, list[str]]) -> None:
        self.counts["rejected"] += 1
        for name, messages in fields.items():
            for message in messages:
                self.result.errors.append(RowError(rec.sheet, rec.row, "" if name == "__all__" else name, message))

    def loan(self, contract_no: str, *, lock: bool = False) -> LoanContract:
        if contract_no not in self.loans or lock:
            contracts = LoanContract.objects.select_related("customer", "primary_rm")
            if lock:
                contracts = contracts.select_for_update(of=("self",))
            self.loans[contract_no] = contracts.filter(contract_no=contract_no).first()
        loan = self.loans[contract_no]
        if loan is None:
            raise _refuse("contract_no", _("No loan has the contract number %(number)s.") % {"number": contract_no})
        return loan

    # --- loans -------------------------------------------------------------------------------------------------------

    def apply_loan(self, rec: Record) -> None:
        values = rec.values
        contract_no = values["contract_no"]
        customer = (
            Customer.objects.select_related("primary_rm")
            .filter(credit_code=values["customer_credit_code"], archived_at__isnull=True)
            .first()
        )
        if customer is None:
            raise _refuse("customer_credit_code", _("No customer has this unified social credit code."))
        existing = LoanContract.objects.select_for_update().filter(contract_no=contract_no).first()
        if existing is None:
            self._create_loan(rec, customer)
        else:
            self._update_loan(rec, existing, customer)

    def _primary_rm(self, rec: Record) -> User | None:
        username = rec.values.get("primary_rm")
        if not username:
            return None
        rm = User.objects.filter(username=username, is_active=True).first()
        if rm is None:
            raise _refuse("primary_rm", _("No active user has this username."))
        return rm

    def _guarantors(self, rec: Record) -> list[GuarantorInput]:
        text = rec.values.get("guarantors") or ""
        guarantors = []
        for entry in (part.strip() for part in text.split(";")):
            if entry:
                name, _sep, code = entry.partition("|")
                guarantors.append(GuarantorInput(name=name.strip(), credit_code=code.strip()))
        return guarantors

    def _create_loan(self, rec: Record, customer: Customer) -> None:
        values = rec.values
        errors = Errors()
        terms = check_contract(
            customer=customer,
            contract_no=values["contract_no"],
            product=values["product"],
            amount=values["amount"],
            term_months=values["term_months"],
            repayment_method=values["repayment_method"],
            guarantee_method=values["guarantee_method"],
            start_date=values["start_date"],
            currency=values.get("currency", "CNY"),
            rate_kind=values.get("rate_kind", "fixed"),
            fixed_rate_pct=values.get("fixed_rate_pct"),
            lpr_spread_bp=values.get("lpr_spread_bp"),
            repricing_rule=values.get("repricing_rule", ""),
            guarantors=self._guarantors(rec),
            purpose=values.get("purpose", ""),
            primary_rm=self._primary_rm(rec),
            drawdown_amount=values.get("drawn_amount"),
            interest_day=values.get("interest_day", 20),
            drawdown_ref=values.get("drawdown_ref", ""),
            errors=errors,
        )
        if terms is None:
            raise RecordRefused({FEED_COLUMNS.get(k, k): v for k, v in errors.fields.items()})
        core_schedule = values["contract_no"] in self.with_schedule
        try:
            loan = book_contract(terms, actor=None, as_of=self.as_of, with_schedule=not core_schedule)
        except ScheduleError as error:
            raise RecordRefused(schedule_error_fields(error, floating=terms.rate_kind != "fixed")) from None
        if core_schedule and values.get("current_rate_pct") is not None:
            loan.current_rate_pct = values["current_rate_pct"]
            loan.save(update_fields=["current_rate_pct"])
        self.loans[loan.contract_no] = loan
        self.touched.add(loan.pk)
        self.counts["loans_created"] += 1

    def _update_loan(self, rec: Record, loan: LoanContract, customer: Customer) -> None:
        values = rec.values
        if loan.customer_id != customer.pk:
            raise _refuse(
                "customer_credit_code",
                _("Loan %(number)s belongs to another customer (%(code)s).")
                % {"number": loan.contract_no, "code": loan.customer.credit_code},
            )
        changes: dict[str, list[Any]] = {}
        wanted: dict[str, Any] = {name: values[name] for name in (*SCHEDULE_TERMS, *PLAIN_TERMS) if name in values}
        for name, value in wanted.items():
            if getattr(loan, name) != value:
                changes[name] = [getattr(loan, name), value]
        term_changes = [name for name in changes if name in SCHEDULE_TERMS]
        core_schedule = loan.schedule_source == ScheduleSource.CORE or loan.contract_no in self.with_schedule
        if term_changes and not core_schedule:
            raise _refuse(
                term_changes[0],
                _(
                    "The core reports other terms for loan %(number)s (%(fields)s) than rmdesk's schedule was computed "
                    "from: send the loan's schedule with them, so that the core's schedule is kept."
                )
                % {"number": loan.contract_no, "fields": ", ".join(term_changes)},
            )
        rm = self._primary_rm(rec)
        if rm is not None and rm.pk != loan.primary_rm_id:
            if not Customer.objects.restrict(rm, Action.CHANGE).filter(pk=customer.pk).exists():
                raise _refuse(
                    "primary_rm", _("The loan's primary RM must be a colleague who looks after the customer.")
                )
            changes["primary_rm"] = [loan.primary_rm.username, rm.username]
            loan.primary_rm = rm
        core_rate = values.get("current_rate_pct")
        if core_schedule and core_rate is not None and loan.current_rate_pct != core_rate:
            changes["current_rate_pct"] = [loan.current_rate_pct, core_rate]
            loan.current_rate_pct = core_rate
        for name, value in wanted.items():
            setattr(loan, name, value)
        if "start_date" in changes or "term_months" in changes:
            loan.maturity_date = maturity_date(loan.start_date, loan.term_months)
        first = Drawdown.objects.filter(contract=loan, number=1).first()
        drawn = values.get("drawn_amount")
        if first is not None and core_schedule:
            first_changes = {}
            if drawn is not None and drawn != first.amount:
                first_changes["amount"] = drawn
            if "start_date" in changes:
                first_changes["drawn_on"] = loan.start_date
            if first_changes or "term_months" in changes:
                for name, value in first_changes.items():
                    changes[f"drawdown_1_{name}"] = [getattr(first, name), value]
                    setattr(first, name, value)
                first.months = months_to(first.drawn_on, loan.maturity_date)
                first.save()
        if "guarantors" in values:
            changes.update(self._replace_guarantors(rec, loan))
        if not changes:
            self.counts["loans_unchanged"] += 1
            self.loans[loan.contract_no] = loan
            return
        try:
            loan.full_clean(exclude=["customer", "primary_rm", "contract_no"])
        except ValidationError as error:
            raise RecordRefused(_feed_fields(error)) from None
        loan.version += 1
        loan.save()
        audit(actor=None, action="loan.update", obj=loan, customer_id=loan.customer_id, changes=changes)
        self.loans[loan.contract_no] = loan
        self.touched.add(loan.pk)
        self.counts["loans_updated"] += 1

    def _replace_guarantors(self, rec: Record, loan: LoanContract) -> dict[str, list[Any]]:
        wanted = self._guarantors(rec)
        saved = list(LoanGuarantor.objects.filter(contract=loan).order_by("pk"))
        if [(g.name, g.credit_code) for g in saved] == [(g.name, g.credit_code) for g in wanted]:
            return {}
        errors = Errors()
        rows = check_guarantors(loan.customer, loan.guarantee_method, wanted, errors)
        if errors.fields:
            raise RecordRefused(errors.fields)
        LoanGuarantor.objects.filter(contract=loan).delete()
        for row in rows:
            row.contract = loan
        LoanGuarantor.objects.bulk_create(rows)
        return {"guarantors": [[g.name for g in saved], [g.name for g in wanted]]}

    # --- drawdowns ---------------------------------------------------------------------------------------------------

    def apply_drawdown(self, rec: Record) -> None:
        values = rec.values
        loan = self.loan(values["contract_no"], lock=True)
        number, drawn_on, amount = values["drawdown"], values["drawn_on"], values["amount"]
        existing = Drawdown.objects.filter(contract=loan, number=number).first()
        if existing is not None:
            if (existing.drawn_on, existing.amount) != (drawn_on, amount):
                raise _refuse(
                    "drawdown",
                    _("Drawdown %(number)s of loan %(contract)s is recorded as %(amount)s on %(date)s.")
                    % {
                        "number": number,
                        "contract": loan.contract_no,
                        "amount": f"{existing.amount:,.2f}",
                        "date": existing.drawn_on.isoformat(),
                    },
                )
            self.counts["drawdowns_unchanged"] += 1
            return
        if loan.status == LoanStatus.CLOSED:
            raise _refuse("contract_no", _("Loan %(number)s is closed.") % {"number": loan.contract_no})
        last = Drawdown.objects.filter(contract=loan).order_by("-number").values_list("number", flat=True).first()
        if number != (last or 0) + 1:
            raise _refuse(
                "drawdown",
                _("Loan %(contract)s has %(count)s drawdowns: the next is number %(next)s.")
                % {"contract": loan.contract_no, "count": last or 0, "next": (last or 0) + 1},
            )
        total = Drawdown.objects.filter(contract=loan).aggregate(total=Sum("amount"))["total"] or Decimal(0)
        if total + amount > loan.amount:
            raise _refuse(
                "amount",
                _("Only %(left)s of the contract amount %(amount)s is left to draw.")
                % {"left": f"{loan.amount - total:,.2f}", "amount": f"{loan.amount:,.2f}"},
            )
        months = months_to(drawn_on, loan.maturity_date)
        if drawn_on < loan.start_date or months < 1:
            raise _refuse(
                "drawn_on",
                _("A drawdown must fall between the first drawdown (%(start)s) and a month before maturity (%(end)s).")
                % {"start": loan.start_date.isoformat(), "end": loan.maturity_date.isoformat()},
            )
        drawdown = Drawdown.objects.create(
            contract=loan,
            number=number,
            drawn_on=drawn_on,
            amount=amount,
            months=months,
            external_ref=values.get("external_ref", ""),
        )
        if loan.schedule_source == ScheduleSource.RMDESK and loan.contract_no not in self.with_schedule:
            try:
                Instalment.objects.bulk_create(instalments_of(loan, drawdown, through=self.as_of))
            except (ScheduleError, NoLprPublished):
                raise _refuse("drawn_on", _("No schedule can be computed for this drawdown.")) from None
        audit(
            actor=None,
            action="loan.drawdown",
            obj=loan,
            customer_id=loan.customer_id,
            changes={"drawdown": number, "drawn_on": drawn_on, "amount": amount, "months": months},
        )
        self.touched.add(loan.pk)
        self.counts["drawdowns_created"] += 1

    # --- the core's schedules ------------------------------------------------------------------------------------

    def apply_schedules(self, records: list[Record]) -> None:
        """Schedule rows by (loan, drawdown): each group is the drawdown's whole schedule, applied or refused as
        one (its errors reported on the rows they concern, or on its first row)."""
        groups: dict[tuple[str, int], list[Record]] = defaultdict(list)
        for rec in records:
            groups[(rec.values["contract_no"], rec.values.get("drawdown") or 1)].append(rec)
        for (contract_no, number), rows in groups.items():
            try:
                with transaction.atomic():
                    self._apply_schedule(contract_no, number, rows)
            except _RowRefused as refused:
                for rec in rows:
                    if rec is refused.record:
                        self.reject(rec, refused.fields)
                    else:
                        self.counts["rejected"] += 1
                        self.result.errors.append(
                            RowError(
                                rec.sheet,
                                rec.row,
                                "",
                                _("Not applied: row %(row)s of the same schedule was refused.")
                                % {"row": refused.record.row},
                            )
                        )

    def _apply_schedule(self, contract_no: str, number: int, rows: list[Record]) -> None:
        first = rows[0]
        try:
            loan = self.loan(contract_no, lock=True)
        except RecordRefused as refused:
            raise _RowRefused(first, refused.fields) from None
        drawdown = Drawdown.objects.filter(contract=loan, number=number).first()
        if drawdown is None:
            raise _RowRefused(
                first,
                {
                    "drawdown": [
                        _("Loan %(contract)s has no drawdown %(number)s.") % {"contract": contract_no, "number": number}
                    ]
                },
            )
        rows = sorted(rows, key=lambda r: r.values["period"])
        periods = [r.values["period"] for r in rows]
        if periods != list(range(1, len(rows) + 1)):
            raise _RowRefused(
                first,
                {
                    "period": [
                        _("A drawdown's schedule is sent whole: periods 1 to %(count)s, each once.")
                        % {"count": len(rows)}
                    ]
                },
            )
        principal = sum((r.values["principal"] for r in rows), Decimal("0.00"))
        if principal != drawdown.amount:
            raise _RowRefused(
                first,
                {
                    "principal": [
                        _("The schedule repays %(principal)s of principal; drawdown %(number)s is %(amount)s.")
                        % {"principal": f"{principal:,.2f}", "number": number, "amount": f"{drawdown.amount:,.2f}"}
                    ]
                },
            )
        saved = {row.number: row for row in Instalment.objects.filter(drawdown=drawdown)}
        created: list[Instalment] = []
        updated: list[Instalment] = []
        for rec in rows:
            values = rec.values
            due = values["due_date"]
            wanted = {
                "scheduled_date": values.get("scheduled_date") or due,
                "due_date": due,
                "principal_due": values["principal"],
                "interest_due": values["interest"],
                "fee_due": values.get("fee", Decimal("0.00")),
                "rate_pct": values.get("rate_pct", loan.current_rate_pct),
            }
            row = saved.pop(values["period"], None)
            if row is None:
                created.append(
                    Instalment(
                        contract=loan,
                        drawdown=drawdown,
                        customer_id=loan.customer_id,
                        number=values["period"],
                        due_date_provisional=False,
                        **wanted,
                    )
                )
                continue
            if all(getattr(row, name) == value for name, value in wanted.items()):
                self.counts["instalments_unchanged"] += 1
                continue
            for name, paid in (
                ("principal_due", "principal_paid"),
                ("interest_due", "interest_paid"),
                ("fee_due", "fee_paid"),
            ):
                if wanted[name] < getattr(row, paid):
                    raise _RowRefused(
                        rec,
                        {
                            name.removesuffix("_due"): [
                                _("%(paid)s has already been paid on this period.")
                                % {"paid": f"{getattr(row, paid):,.2f}"}
                            ]
                        },
                    )
            for name, value in wanted.items():
                setattr(row, name, value)
            row.due_date_provisional = False
            updated.append(row)
        stale = list(saved.values())
        paid_stale = [row for row in stale if row.allocations.exists()]
        if paid_stale:
            raise _RowRefused(
                first,
                {
                    "period": [
                        _(
                            "Period %(period)s of this drawdown has repayments allocated to it: the core's "
                            "schedule must keep it."
                        )
                        % {"period": paid_stale[0].number}
                    ]
                },
            )
        if stale:
            AccrualSegment.objects.filter(instalment__in=stale).delete()
            Instalment.objects.filter(pk__in=[row.pk for row in stale]).delete()
        Instalment.objects.bulk_create(created)
        Instalment.objects.bulk_update(
            updated,
            [
                "scheduled_date",
                "due_date",
                "principal_due",
                "interest_due",
                "fee_due",
                "rate_pct",
                "due_date_provisional",
            ],
        )
        if loan.schedule_source != ScheduleSource.CORE:
            loan.schedule_source = ScheduleSource.CORE
            loan.save(update_fields=["schedule_source", "updated_at"])
        if created or updated or stale:
            audit(
                actor=None,
                action="loan.core_schedule",
                obj=loan,
                customer_id=loan.customer_id,
                changes={
                    "drawdown": number,
                    "created": len(created),
                    "updated": [row.number for row in updated],
                    "deleted": [row.number for row in stale],
                },
            )
            self.touched.add(loan.pk)
        self.counts["instalments_created"] += len(created)
        self.counts["instalments_updated"] += len(updated)
        self.counts["instalments_deleted"] += len(stale)

    # --- repayments ------------------------------------------------------------------------------------------------

    def apply_repayment(self, rec: Record) -> None:
        values = rec.values
        loan = self.loan(values["contract_no"])
        try:
            posted = post_repayment(
                actor=None,
                contract=loan,
                paid_on=values["paid_on"],
                amount=values["amount"],
                source=RepaymentSource.CORE_FEED,
                external_ref=values["reference"],
                note=values.get("note", ""),
                as_of=self.as_of,
            )
        except ValidationError as error:
            fields = _feed_fields(error)
            raise RecordRefused({("reference" if k == "external_ref" else k): v for k, v in fields.items()}) from None
        if posted.duplicate:
            self.counts["repayments_already_posted"] += 1
            return
        self.counts["repayments_posted"] += 1
        if posted.overpayment:
            self.counts["overpayments"] += 1
            self.result.overpayments.append(Overpayment(loan.contract_no, values["reference"], posted.overpayment))

    # --- the core's word on status, and reconciliation ----------------------------------------------------------

    def apply_status(self, rec: Record) -> None:
        values = rec.values
        status = values.get("status")
        if status is None:
            return
        loan = self.loan(values["contract_no"], lock=True)
        if status == loan.status:
            return
        if status == LoanStatus.CLOSED:
            loan.status, loan.closed_on = LoanStatus.CLOSED, values.get("closed_on") or self.as_of
            self.counts["loans_closed"] += 1
        else:
            loan.status, loan.closed_on = LoanStatus.ACTIVE, None
            self.counts["loans_reopened"] += 1
        loan.save(update_fields=["status", "closed_on", "updated_at"])
        audit(
            actor=None,
            action="loan.status",
            obj=loan,
            customer_id=loan.customer_id,
            changes={"status": loan.status, "closed_on": loan.closed_on},
        )

    def reconcile(self, rec: Record) -> None:
        values = rec.values
        loan = self.loans.get(values["contract_no"])
        if loan is None:
            return
        loan.refresh_from_db()
        for name in ("outstanding_principal", "days_past_due"):
            core = values.get(name)
            if core is not None and core != getattr(loan, name):
                self.result.differences.append(Difference(loan.contract_no, name, str(core), str(getattr(loan, name))))


class _RowRefused(Exception):
    """A schedule group refused because of one of its rows."""

    def __init__(self, record: Record, fields: dict[str, list[str]]) -> None:
        super().__init__(fields)
        self.record = record
        self.fields = fields


def _dedupe(records: list[Record], result: FeedResult) -> list[Record]:
    """The records to apply: each key once. A second identical copy is a duplicate; a second that differs, an error."""
    first: dict[tuple[Any, ...], Record] = {}
    kept: list[Record] = []
    for rec in records:
        key = rec.key()
        seen = first.get(key)
        if seen is None:
            first[key] = rec
            kept.append(rec)
        elif seen.values == rec.values:
            result.counts["duplicates"] += 1
            result.duplicates.append(Duplicate(rec.sheet, rec.row, seen.row))
        else:
            result.counts["rejected"] += 1
            result.errors.append(
                RowError(
                    rec.sheet,
                    rec.row,
                    "",
                    _("Row %(row)s has the same %(type)s with other values.") % {"row": seen.where, "type": rec.type},
                )
            )
    return kept


def run_feed(
    path: Path,
    *,
    name: str | None = None,
    business_date: date | None = None,
    dry_run: bool = False,
    partial: bool = False,
) -> FeedResult:
    """Apply a core banking feed file. FileRejected when the file as a whole cannot be read; record errors are in the
    result, and unless `partial` any of them leaves the database as it was (as does `dry_run`, always)."""
    as_of = business_date or timezone.localdate()
    feed = read_feed(path, name=name)
    result = FeedResult(file_name=feed.name, sha256=feed.sha256, business_date=as_of, dry_run=dry_run, partial=partial)
    result.records = len(feed.records)
    for rec in feed.records:
        if not rec.ok:
            result.counts["rejected"] += 1
            for error in rec.errors:
                result.errors.append(RowError(rec.sheet, rec.row, error.field, error.message))
    by_type: dict[RecordType, list[Record]] = defaultdict(list)
    for rec in _dedupe([rec for rec in feed.records if rec.ok], result):
        assert rec.type is not None
        by_type[rec.type].append(rec)
    runner = _Feed(result)
    runner.with_schedule = {rec.values["contract_no"] for rec in by_type[RecordType.SCHEDULE]}
    loans = by_type[RecordType.LOAN]
    try:
        with transaction.atomic():
            runner.apply(loans, runner.apply_loan)
            drawdowns = sorted(
                by_type[RecordType.DRAWDOWN], key=lambda r: (r.values["contract_no"], r.values["drawdown"])
            )
            runner.apply(drawdowns, runner.apply_drawdown)
            runner.apply_schedules(by_type[RecordType.SCHEDULE])
            if runner.touched:
                refresh_contract_state(runner.touched, as_of)
            repayments = sorted(by_type[RecordType.REPAYMENT], key=lambda r: (r.values["paid_on"], r.position))
            runner.apply(repayments, runner.apply_repayment)
            runner.apply([rec for rec in loans if "status" in rec.values], runner.apply_status)
            for rec in loans:
                runner.reconcile(rec)
            if dry_run or (result.rejected and not partial):
                raise _RollBack
            result.saved = True
            audit(actor=None, action="loans.feed", changes=result.summary())
    except _RollBack:
        result.saved = False
    return result
