"""Apply an import file through the customer services, all or nothing (or, with `partial`, the good rows).

Everything runs in one transaction with a savepoint per row: a row a service refuses is rolled back alone
and reported, the others go on, so one pass finds every error. Without `partial` any error rolls the whole
transaction back; with it the good rows are committed. Either way a crash or a kill halfway leaves the
database as it was, because nothing is committed before the end.

New customers (most of a large file) go through `services.create_customers` a run of rows at a time: each row is
checked as create_customer() checks it, and a refused row writes nothing, so it needs no savepoint of its own;
the good ones are then written together. Runs end before a row that changes an existing customer, so the audit
trail keeps the file's order.

Rows are matched on the credit code (key persons also on role and name, statements on year, relationships
on kind and counterparty): a record in the importer's change scope is updated only where the file differs,
so importing a file twice changes nothing the second time and writes no audit event but the summary.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from rmdesk.access.policy import Action, may
from rmdesk.audit.services import record
from rmdesk.core import messages
from rmdesk.core.errors import ConflictError, DomainError, NotFoundError
from rmdesk.core.xlsx import Sheet, workbook_bytes
from rmdesk.customers import services
from rmdesk.customers.imports.readers import Progress, read_file
from rmdesk.customers.imports.rows import Lookups, ParsedRow, ParsedSheet, cell_text, parse_file
from rmdesk.customers.imports.templates import ERRORS_LABEL
from rmdesk.customers.models import Customer, FinancialStatement, KeyPerson, Relationship
from rmdesk.org.models import User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CHUNK = 500
OUTCOMES = ("created", "updated", "unchanged", "rejected")
# Service errors on fields the sheet has no column for, shown under the column that caused them.
FIELD_COLUMNS = {"counterparty": "counterparty_credit_code"}


class _RollBack(Exception):
    """Raised inside the transaction to undo an all-or-nothing import that has errors."""


@dataclass(frozen=True)
class RowError:
    sheet: str
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    file_name: str
    sha256: str
    partial: bool
    saved: bool
    sheets: list[ParsedSheet]
    counts: dict[str, Counter[str]] = field(default_factory=dict)

    def total(self, outcome: str | None = None) -> int:
        if outcome is None:
            return sum(len(sheet.rows) for sheet in self.sheets)
        return sum(counts[outcome] for counts in self.counts.values())

    @property
    def rejected(self) -> int:
        return self.total("rejected")

    def errors(self) -> Iterator[RowError]:
        for sheet in self.sheets:
            title = sheet.title or str(sheet.spec.title)
            for row in sheet.rows:
                for error in row.errors:
                    yield RowError(title, row.number, str(sheet.spec.label(error.field)), str(error.message))

    def summary(self) -> dict[str, Any]:
        """Counts as plain data, for the audit event, the job file and the command's output."""
        return {
            "file": self.file_name,
            "sha256": self.sha256,
            "partial": self.partial,
            "saved": self.saved,
            "rows": self.total(),
            **{outcome: self.total(outcome) for outcome in OUTCOMES},
            "sheets": {key: {o: counts[o] for o in OUTCOMES} for key, counts in self.counts.items()},
        }


def _row_message(row: ParsedRow, sheet: ParsedSheet) -> str:
    return "; ".join(
        f"{sheet.spec.label(error.field)}: {error.message}" if sheet.spec.label(error.field) else str(error.message)
        for error in row.errors
    )


def rejects_sheets(result: ImportResult) -> list[Sheet]:
    """The rejected rows as they were read, each with its errors in an extra last column."""
    sheets = []
    for sheet in result.sheets:
        rejected = [row for row in sheet.rows if row.errors]
        if not rejected:
            continue
        width = len(sheet.header)
        sheets.append(
            Sheet(
                title=sheet.title or str(sheet.spec.title),
                header=[*sheet.header, str(ERRORS_LABEL)],
                rows=[
                    [*(cell_text(v) for v in (row.raw + [None] * width)[:width]), _row_message(row, sheet)]
                    for row in rejected
                ],
                widths=[16] * width + [80],
            )
        )
    return sheets


def rejects_workbook(result: ImportResult) -> bytes:
    return workbook_bytes(rejects_sheets(result))


def _differences(obj: models.Model, values: dict[str, Any], skip: Sequence[str] = ()) -> dict[str, Any]:
    """The values that differ from what is saved (an equal amount written as 1250000 is no difference)."""
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if name in skip:
            continue
        attname = obj._meta.get_field(name).attname  # type: ignore[union-attr]
        new = value.pk if isinstance(value, models.Model) else value
        if getattr(obj, attname) != new:
            changes[name] = value
    return changes


def _chunks(rows: list[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class _Applier:
    """Applies the rows of each sheet through the services, remembering the customers it has seen."""

    def __init__(self, actor: User, total: int, progress: Progress | None) -> None:
        self.actor = actor
        self.total = total
        self.progress = progress
        self.done = 0
        self.customer_ids: dict[str, int] = {}  # credit code → customer in the actor's change scope
        self.archived: set[str] = set()
        self.rejected_customer_rows: dict[str, int] = {}
        self.known_codes: set[str] = set()  # codes that exist, whoever's they are
        self.mine: dict[str, Customer] = {}

    def apply(self, sheet: ParsedSheet) -> Counter[str]:
        handlers: dict[str, Callable[[dict[str, Any]], str]] = {
            "customers": self._customer,
            "key_persons": self._key_person,
            "financial_statements": self._statement,
            "relationships": self._relationship,
        }
        handler = handlers[sheet.spec.key]
        counts: Counter[str] = Counter({outcome: 0 for outcome in OUTCOMES})
        for chunk in _chunks(sheet.rows, CHUNK):
            self._prefetch(sheet, chunk)
            new: list[ParsedRow] = []  # new customers waiting to be created together
            for row in chunk:
                if sheet.spec.key == "customers" and row.ok and self._is_new(row.values["credit_code"]):
                    new.append(row)
                    continue
                if new and row.ok and self._changes_a_customer(row.values):
                    # Writes happen in file order, so the audit trail follows the file.
                    self._create_new(sheet, new, counts)
                    new = []
                self._count(sheet, row, self._apply_row(sheet, row, handler) if row.ok else "rejected", counts)
            if new:
                self._create_new(sheet, new, counts)
        return counts

    def _count(self, sheet: ParsedSheet, row: ParsedRow, outcome: str, counts: Counter[str]) -> None:
        counts[outcome] += 1
        if sheet.spec.key == "customers" and outcome == "rejected" and "credit_code" in row.values:
            self.rejected_customer_rows[row.values["credit_code"]] = row.number
        self.done += 1
        if self.progress is not None:
            self.progress("saving", self.done, self.total)

    def _is_new(self, code: str) -> bool:
        """No customer has the code yet, so the row opens a file (one that exists is updated, or not yours)."""
        return code not in self.mine and code not in self.known_codes

    def _changes_a_customer(self, values: dict[str, Any]) -> bool:
        customer = self.mine.get(values["credit_code"])
        return customer is not None and not customer.is_archived and bool(_differences(customer, values))

    def _create_new(self, sheet: ParsedSheet, rows: list[ParsedRow], counts: Counter[str]) -> None:
        """Create the customers of these rows in one go; each refused row is reported as if created alone."""
        try:
            results = services.create_customers(actor=self.actor, rows=[row.values for row in rows])
        except NotFoundError:
            for row in rows:
                row.error("credit_code", self._not_yours())
                self._count(sheet, row, "rejected", counts)
            return
        for row, result in zip(rows, results, strict=True):
            if isinstance(result, ValidationError):
                self._report(row, result)
                self._count(sheet, row, "rejected", counts)
            else:
                self.customer_ids[result.credit_code] = result.pk
                self._count(sheet, row, "created", counts)

    def _prefetch(self, sheet: ParsedSheet, chunk: list[ParsedRow]) -> None:
        """Look up the chunk's customers in two queries rather than two a row."""
        key = "credit_code" if sheet.spec.key == "customers" else "customer"
        codes = {row.values[key] for row in chunk if row.ok and key in row.values} - self.customer_ids.keys()
        if not codes:
            return
        self.known_codes |= set(Customer.objects.filter(credit_code__in=codes).values_list("credit_code", flat=True))
        mine = Customer.objects.restrict(self.actor, Action.CHANGE).filter(credit_code__in=codes)
        if sheet.spec.key == "customers":
            self.mine = {customer.credit_code: customer for customer in mine}
            return
        for code, pk, archived_at in mine.values_list("credit_code", "pk", "archived_at"):
            if archived_at is None:
                self.customer_ids[code] = pk
            else:
                self.archived.add(code)

    def _apply_row(self, sheet: ParsedSheet, row: ParsedRow, handler: Callable[[dict[str, Any]], str]) -> str:
        try:
            with transaction.atomic():
                return handler(row.values)
        except ValidationError as error:
            self._report(row, error)
        except NotFoundError:
            row.error("credit_code" if sheet.spec.key == "customers" else "customer", self._not_yours())
        except (ConflictError, DomainError) as error:
            row.error("", error.message)
        return "rejected"

    @staticmethod
    def _report(row: ParsedRow, error: ValidationError) -> None:
        """A service's refusal as the row's errors, under the columns they concern."""
        # The messages stay lazy, with their params, so the report can be shown in another language.
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                name = "" if name == NON_FIELD_ERRORS else FIELD_COLUMNS.get(name, name)
                for message in messages.of_validation_error(ValidationError(errors)):
                    row.error(name, message)
        else:
            for message in messages.of_validation_error(error):
                row.error("", message)

    @staticmethod
    def _not_yours() -> StrOrPromise:
        return _("A customer with this credit code exists but is not yours.")

    @staticmethod
    def _archived() -> StrOrPromise:
        return _("This customer's file is archived; an import cannot change it.")

    # --- one handler per sheet: each returns "created", "updated" or "unchanged", or raises ---

    def _customer(self, values: dict[str, Any]) -> str:
        code = values["credit_code"]
        customer = self.mine.get(code)
        if customer is None:
            if code in self.known_codes:
                raise ValidationError({"credit_code": self._not_yours()})
            created = services.create_customer(actor=self.actor, data=values)
            self.customer_ids[code] = created.pk
            return "created"
        if customer.is_archived:
            raise ValidationError({"credit_code": self._archived()})
        self.customer_ids[code] = customer.pk
        changes = _differences(customer, values)
        if not changes:
            return "unchanged"
        services.update_customer(actor=self.actor, customer_id=customer.pk, version=customer.version, data=changes)
        return "updated"

    def _customer_id(self, code: str) -> int:
        if code in self.customer_ids:
            return self.customer_ids[code]
        message: StrOrPromise
        if code in self.rejected_customer_rows:
            message = messages.interpolate(
                _("The customer's own row (row %(row)s of the customers sheet) was not imported."),
                {"row": self.rejected_customer_rows[code]},
            )
        elif code in self.archived:
            message = self._archived()
        elif code in self.known_codes:
            message = self._not_yours()
        else:
            message = _("No customer has this credit code. Add the customer on the customers sheet.")
        raise ValidationError({"customer": message})

    def _key_person(self, values: dict[str, Any]) -> str:
        customer_id = self._customer_id(values["customer"])
        data = {k: v for k, v in values.items() if k != "customer"}
        person = (
            KeyPerson.objects.filter(
                customer_id=customer_id, role=data["role"], name=data["name"], archived_at__isnull=True
            )
            .order_by("pk")
            .first()
        )
        if person is None:
            services.add_key_person(actor=self.actor, customer_id=customer_id, data=data)
            return "created"
        changes = _differences(person, data)
        if not changes:
            return "unchanged"
        services.update_key_person(actor=self.actor, key_person_id=person.pk, version=person.version, data=changes)
        return "updated"

    def _statement(self, values: dict[str, Any]) -> str:
        customer_id = self._customer_id(values["customer"])
        data = {k: v for k, v in values.items() if k != "customer"}
        statement = FinancialStatement.objects.filter(customer_id=customer_id, year=data["year"]).first()
        if statement is None:
            services.add_financial_statement(actor=self.actor, customer_id=customer_id, data=data)
            return "created"
        if statement.is_archived:
            raise ValidationError({"year": _("This year's statement is archived; an import cannot change it.")})
        changes = _differences(statement, data)
        if not changes:
            return "unchanged"
        services.update_financial_statement(
            actor=self.actor, statement_id=statement.pk, version=statement.version, data=changes
        )
        return "updated"

    def _relationship(self, values: dict[str, Any]) -> str:
        customer_id = self._customer_id(values["customer"])
        data = {k: v for k, v in values.items() if k != "customer"}
        existing = Relationship.objects.filter(customer_id=customer_id, kind=data["kind"], archived_at__isnull=True)
        code = data.get("counterparty_credit_code")
        if code:
            existing = existing.filter(counterparty_credit_code=code)
        else:
            existing = existing.filter(counterparty_name=data["counterparty_name"], counterparty_credit_code="")
        relationship = existing.order_by("pk").first()
        if not data.get("counterparty_name"):
            # Without a name the link takes the customer's own, but only from a customer the importer may see.
            counterparty = Customer.objects.restrict(self.actor, Action.VIEW).filter(credit_code=code).first()
            if counterparty is None:
                raise ValidationError(
                    {"counterparty_name": _("Give the other firm's name: you have no customer with this credit code.")}
                )
            data["counterparty"] = counterparty
        if relationship is None:
            services.add_relationship(actor=self.actor, customer_id=customer_id, data=data)
            return "created"
        # A link to a customer takes that customer's name; the file's spelling of it is no change.
        skip = ("counterparty_name",) if relationship.counterparty_id else ()
        changes = _differences(relationship, data, skip)
        if not changes:
            return "unchanged"
        services.update_relationship(
            actor=self.actor, relationship_id=relationship.pk, version=relationship.version, data=changes
        )
        return "updated"


def run_import(
    *,
    actor: User,
    path: Path,
    file_name: str | None = None,
    partial: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Import customers and what belongs to them from an .xlsx or .csv file, as `actor`.

    Raises FileRejected when the file as a whole cannot be read, NotFoundError when the actor may not
    create customers at all; row errors are in the result.
    """
    if not may(actor, Action.CREATE):
        raise NotFoundError()
    name = file_name or path.name
    raw = read_file(
        path, name=name, max_rows=settings.IMPORT_MAX_ROWS, max_bytes=settings.IMPORT_MAX_BYTES, progress=progress
    )
    sheets = parse_file(raw, lookups=Lookups(), progress=progress)
    result = ImportResult(file_name=name, sha256=raw.sha256, partial=partial, saved=False, sheets=sheets)
    applier = _Applier(actor, result.total(), progress)
    try:
        with transaction.atomic():
            for sheet in sheets:
                result.counts[sheet.spec.key] = applier.apply(sheet)
            if result.rejected and not partial:
                raise _RollBack
            result.saved = True
            record(actor=actor, action="customer.import", changes=result.summary())
    except _RollBack:
        result.saved = False
    return result
