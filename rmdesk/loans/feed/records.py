"""The core banking feed's records: reading a file (CSV, XLSX or JSON) into records, and each record's cells into
typed values with an error per field in the user's language. docs/core-feed.md describes the format.

CSV and XLSX are read by the customer import's reader (encodings, Excel's saved formula values, merged cells, size
limits); JSON by the standard library, with each number kept as the text it was written in, so that an amount or rate
given as a JSON number is as exact as one given as a string.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from rmdesk.core.validators import validate_credit_code
from rmdesk.customers.imports.readers import CellProblem, FileRejected, file_digest, read_file
from rmdesk.customers.imports.rows import cell_text, parse_amount, parse_date
from rmdesk.loans.choices import (
    Currency,
    GuaranteeMethod,
    LoanProduct,
    LoanStatus,
    RateKind,
    RepaymentMethod,
    RepricingRule,
)
from rmdesk.loans.models import MAX_RATE_PCT
from rmdesk.loans.schedule import RATE_PLACES

MAX_BYTES = 2 * 1024 * 1024 * 1024
MAX_ROWS = 20_000_000
RECORD_COLUMN = "record"


class RecordType(StrEnum):
    """What a row is; also the order a file is applied in (loans before their schedules and repayments)."""

    LOAN = "loan"
    DRAWDOWN = "drawdown"
    SCHEDULE = "schedule"
    REPAYMENT = "repayment"


# Sheet names (XLSX) and JSON keys that say every row in them is of one type.
SHEET_TYPES = {
    **{t.value: t for t in RecordType},
    "loans": RecordType.LOAN,
    "drawdowns": RecordType.DRAWDOWN,
    "schedules": RecordType.SCHEDULE,
    "instalments": RecordType.SCHEDULE,
    "repayments": RecordType.REPAYMENT,
}


class Kind(StrEnum):
    TEXT = "text"
    CODE = "code"  # a unified social credit code
    AMOUNT = "amount"  # more than zero
    AMOUNT_OR_ZERO = "amount_or_zero"
    RATE = "rate"
    INT = "int"
    DATE = "date"
    CHOICE = "choice"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = False
    max_length: int = 0
    choices: Any = None
    minimum: int | None = None
    maximum: int | None = None


def _columns(*columns: Column) -> dict[str, Column]:
    return {column.name: column for column in columns}


COLUMNS: dict[RecordType, dict[str, Column]] = {
    RecordType.LOAN: _columns(
        Column("contract_no", Kind.TEXT, required=True, max_length=40),
        Column("customer_credit_code", Kind.CODE, required=True),
        Column("product", Kind.CHOICE, required=True, choices=LoanProduct),
        Column("currency", Kind.CHOICE, choices=Currency),
        Column("amount", Kind.AMOUNT, required=True),
        Column("term_months", Kind.INT, required=True, minimum=1, maximum=600),
        Column("repayment_method", Kind.CHOICE, required=True, choices=RepaymentMethod),
        Column("interest_day", Kind.INT, minimum=1, maximum=28),
        Column("rate_kind", Kind.CHOICE, choices=RateKind),
        Column("fixed_rate_pct", Kind.RATE),
        Column("lpr_spread_bp", Kind.INT, minimum=-3600, maximum=3600),
        Column("repricing_rule", Kind.CHOICE, choices=RepricingRule),
        Column("current_rate_pct", Kind.RATE),
        Column("guarantee_method", Kind.CHOICE, required=True, choices=GuaranteeMethod),
        Column("guarantors", Kind.TEXT, max_length=2000),
        Column("purpose", Kind.TEXT, max_length=200),
        Column("primary_rm", Kind.TEXT, max_length=150),
        Column("start_date", Kind.DATE, required=True),
        Column("drawn_amount", Kind.AMOUNT),
        Column("drawdown_ref", Kind.TEXT, max_length=64),
        Column("status", Kind.CHOICE, choices=LoanStatus),
        Column("closed_on", Kind.DATE),
        Column("outstanding_principal", Kind.AMOUNT_OR_ZERO),
        Column("days_past_due", Kind.INT, minimum=0, maximum=100_000),
    ),
    RecordType.DRAWDOWN: _columns(
        Column("contract_no", Kind.TEXT, required=True, max_length=40),
        Column("drawdown", Kind.INT, required=True, minimum=1, maximum=32767),
        Column("drawn_on", Kind.DATE, required=True),
        Column("amount", Kind.AMOUNT, required=True),
        Column("external_ref", Kind.TEXT, max_length=64),
    ),
    RecordType.SCHEDULE: _columns(
        Column("contract_no", Kind.TEXT, required=True, max_length=40),
        Column("drawdown", Kind.INT, minimum=1, maximum=32767),
        Column("period", Kind.INT, required=True, minimum=1, maximum=32767),
        Column("scheduled_date", Kind.DATE),
        Column("due_date", Kind.DATE, required=True),
        Column("principal", Kind.AMOUNT_OR_ZERO, required=True),
        Column("interest", Kind.AMOUNT_OR_ZERO, required=True),
        Column("fee", Kind.AMOUNT_OR_ZERO),
        Column("rate_pct", Kind.RATE),
    ),
    RecordType.REPAYMENT: _columns(
        Column("contract_no", Kind.TEXT, required=True, max_length=40),
        Column("reference", Kind.TEXT, required=True, max_length=64),
        Column("paid_on", Kind.DATE, required=True),
        Column("amount", Kind.AMOUNT, required=True),
        Column("note", Kind.TEXT, max_length=200),
    ),
}
ALL_COLUMNS = {name for columns in COLUMNS.values() for name in columns}


@dataclass
class RawRecord:
    """One row of the file as read: where it is, what it says it is, and its cells by column name."""

    sheet: str  # the XLSX sheet or JSON list it came from; "" for CSV and a plain JSON list
    row: int  # the row number in the sheet (the header is usually row 1), or the record's position in its JSON list
    cells: dict[str, Any]
    type_cell: Any = None


@dataclass
class FieldError:
    field: str  # a column name, or "" for the record as a whole
    message: str


@dataclass
class Record:
    """A parsed record: its type and typed values, or the errors that keep it out."""

    type: RecordType | None
    sheet: str
    row: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[FieldError] = field(default_factory=list)
    position: int = 0  # its place in the file, which breaks ties when records are sorted

    def error(self, field_name: str, message: object) -> None:
        self.errors.append(FieldError(field_name, str(message)))

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def where(self) -> str:
        return f"{self.sheet} {self.row}" if self.sheet else str(self.row)

    def key(self) -> tuple[Any, ...]:
        """What identifies the record: re-sent, it is the same record (and a second copy in a file, a duplicate)."""
        values = self.values
        if self.type is RecordType.LOAN:
            return (self.type, values["contract_no"])
        if self.type is RecordType.DRAWDOWN:
            return (self.type, values["contract_no"], values["drawdown"])
        if self.type is RecordType.SCHEDULE:
            return (self.type, values["contract_no"], values.get("drawdown") or 1, values["period"])
        return (self.type, values["reference"])


@dataclass
class FeedFile:
    name: str
    sha256: str
    records: list[Record]


# --- reading -----------------------------------------------------------------------------------------------------


def header_name(value: Any) -> str:
    return cell_text(value).strip().lower().replace(" ", "_").replace("-", "_")


def read_feed(path: Path, *, name: str | None = None) -> FeedFile:
    """Every record of a feed file, parsed; FileRejected when the file as a whole cannot be read."""
    name = name or path.name
    suffix = Path(name).suffix.lower()
    if suffix == ".json":
        if path.stat().st_size > MAX_BYTES:
            raise FileRejected(_("The file is larger than %(mb)d MB.") % {"mb": MAX_BYTES // (1024 * 1024)})
        raw = _json_records(path)
        digest = file_digest(path)
    elif suffix in (".csv", ".xlsx"):
        raw, digest = _sheet_records(path, name)
    else:
        raise FileRejected(_("A core banking feed is a .csv, .xlsx or .json file."))
    records = [parse_record(record) for record in raw]
    for position, record in enumerate(records):
        record.position = position
    return FeedFile(name=name, sha256=digest, records=records)


def _sheet_records(path: Path, name: str) -> tuple[list[RawRecord], str]:
    raw_file = read_file(path, name=name, max_rows=MAX_ROWS, max_bytes=MAX_BYTES)
    records: list[RawRecord] = []
    for sheet in raw_file.sheets:
        header = [header_name(value) for value in sheet.header]
        unknown = [h for h in header if h and h != RECORD_COLUMN and h not in ALL_COLUMNS]
        if unknown:
            raise FileRejected(
                _("%(sheet)s: unknown columns %(columns)s (docs/core-feed.md lists the columns of each record).")
                % {"sheet": sheet.title or name, "columns": ", ".join(unknown)}
            )
        sheet_type = SHEET_TYPES.get(header_name(sheet.title))
        if RECORD_COLUMN not in header and sheet_type is None:
            raise FileRejected(
                _(
                    "%(sheet)s: give each row's record type in a “record” column, or name the sheet after it (loans, "
                    "drawdowns, schedules, repayments)."
                )
                % {"sheet": sheet.title or name}
            )
        for raw_row in sheet.rows:
            cells = {h: v for h, v in zip(header, raw_row.values, strict=False) if h}
            type_cell = cells.pop(RECORD_COLUMN, None) if RECORD_COLUMN in cells else None
            records.append(
                RawRecord(
                    sheet=sheet.title,
                    row=raw_row.number,
                    cells=cells,
                    type_cell=type_cell if type_cell not in (None, "") else sheet_type,
                )
            )
    return records, raw_file.sha256


class _JsonNumber(str):
    """A JSON number with a fraction or exponent, kept as the text it was written as (never a binary float)."""

    __slots__ = ()


def _json_records(path: Path) -> list[RawRecord]:
    try:
        data = json.loads(path.read_bytes(), parse_float=_JsonNumber)
    except (ValueError, UnicodeDecodeError) as error:
        raise FileRejected(_("The file is not valid JSON: %(error)s") % {"error": error}) from None
    if isinstance(data, dict) and "records" in data:
        data = data["records"]
    groups: list[tuple[str, Any, Any]]
    if isinstance(data, list):
        groups = [("", None, data)]
    elif isinstance(data, dict):
        unknown = [key for key in data if key not in SHEET_TYPES and key != "business_date"]
        if unknown:
            raise FileRejected(
                _("Unknown keys %(keys)s: a feed holds loans, drawdowns, schedules and repayments.")
                % {"keys": ", ".join(unknown)}
            )
        groups = [(key, SHEET_TYPES[key], value) for key, value in data.items() if key in SHEET_TYPES]
    else:
        raise FileRejected(_("A JSON feed is a list of records, or an object of lists (loans, schedules, …)."))
    records: list[RawRecord] = []
    for key, group_type, items in groups:
        if not isinstance(items, list):
            raise FileRejected(_("%(key)s must be a list of records.") % {"key": key or "records"})
        for number, item in enumerate(items, start=1):
            if not isinstance(item, dict):
                records.append(RawRecord(sheet=key, row=number, cells={}, type_cell="?"))
                continue
            cells = {header_name(k): v for k, v in item.items()}
            type_cell = cells.pop(RECORD_COLUMN, None) if RECORD_COLUMN in cells else group_type
            records.append(RawRecord(sheet=key, row=number, cells=cells, type_cell=type_cell))
    return records


# --- parsing -----------------------------------------------------------------------------------------------------


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number."))
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    text = cell_text(value).replace(",", "")
    try:
        return int(text)
    except ValueError:
        raise ValidationError(_("Enter a whole number.")) from None


def _parse_amount(value: Any, *, zero: bool) -> Decimal:
    # An XLSX number cell is a binary float: the import's parse_amount reads it as Excel shows it (15 digits, exact
    # to the fen below a trillion yuan). JSON numbers arrive as their text (_JsonNumber), so they are exact too.
    amount = parse_amount(value)
    if amount < 0 or (amount == 0 and not zero):
        raise ValidationError(
            _("The amount must be more than zero.") if not zero else _("The amount cannot be negative.")
        )
    return amount


def _parse_rate(value: Any) -> Decimal:
    text = cell_text(value).removesuffix("%")
    try:
        rate = Decimal(text)
    except ArithmeticError:
        raise ValidationError(_("Enter the annual rate in percent, e.g. 3.45.")) from None
    if not rate.is_finite() or not 0 <= rate <= MAX_RATE_PCT:
        raise ValidationError(
            _("The annual rate must be from 0 to %(maximum)s percent, not %(value)s.")
            % {"maximum": MAX_RATE_PCT, "value": text}
        )
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_PLACES)):
        raise ValidationError(
            _("The rate must not have more than %(places)s decimal places.") % {"places": RATE_PLACES}
        )
    return rate


def _parse_choice(column: Column, value: Any) -> str:
    text = cell_text(value).strip()
    for choice in column.choices.values:
        if text.lower() == str(choice).lower():
            return str(choice)
    raise ValidationError(
        _("“%(value)s” is not one of: %(choices)s.")
        % {"value": text, "choices": ", ".join(str(v) for v in column.choices.values)}
    )


def _parse_date(value: Any) -> date:
    return parse_date(value)


PARSERS: dict[Kind, Callable[[Column, Any], Any]] = {
    Kind.TEXT: lambda column, value: cell_text(value),
    Kind.CODE: lambda column, value: validate_credit_code(cell_text(value)),
    Kind.AMOUNT: lambda column, value: _parse_amount(value, zero=False),
    Kind.AMOUNT_OR_ZERO: lambda column, value: _parse_amount(value, zero=True),
    Kind.RATE: lambda column, value: _parse_rate(value),
    Kind.INT: lambda column, value: _parse_int(value),
    Kind.DATE: lambda column, value: _parse_date(value),
    Kind.CHOICE: _parse_choice,
}


def parse_record(raw: RawRecord) -> Record:
    """The record's type and typed values; every bad cell is an error naming its column."""
    type_text = str(raw.type_cell.value if isinstance(raw.type_cell, RecordType) else raw.type_cell or "")
    record_type = SHEET_TYPES.get(header_name(type_text))
    record = Record(type=record_type, sheet=raw.sheet, row=raw.row)
    if record_type is None:
        record.error(
            RECORD_COLUMN,
            _("“%(value)s” is not a record type: loan, drawdown, schedule or repayment.") % {"value": type_text},
        )
        return record
    columns = COLUMNS[record_type]
    for name, value in raw.cells.items():
        if _blank(value):
            continue
        column = columns.get(name)
        if column is None:
            if name in ALL_COLUMNS:
                record.error(name, _("A %(type)s record has no such column.") % {"type": record_type.value})
            else:
                record.error(name, _("Unknown column."))
            continue
        if isinstance(value, CellProblem):
            record.error(name, value.message)
            continue
        try:
            parsed = PARSERS[column.kind](column, value)
        except ValidationError as error:
            record.error(name, " ".join(error.messages))
            continue
        if column.kind is Kind.TEXT:
            parsed = parsed.strip()
            if "\x00" in parsed:
                record.error(name, _("Null characters are not allowed."))
                continue
            if column.max_length and len(parsed) > column.max_length:
                record.error(
                    name,
                    _("Ensure this value has at most %(limit)d characters (it has %(count)d).")
                    % {"limit": column.max_length, "count": len(parsed)},
                )
                continue
        if column.kind is Kind.INT and not _within(column, parsed):
            record.error(
                name,
                _("Enter a whole number from %(minimum)s to %(maximum)s.")
                % {"minimum": column.minimum, "maximum": column.maximum},
            )
            continue
        record.values[name] = parsed
    for name, column in columns.items():
        if column.required and name not in record.values and not any(e.field == name for e in record.errors):
            record.error(name, _("This field is required."))
    return record


def _within(column: Column, value: int) -> bool:
    return (column.minimum is None or value >= column.minimum) and (column.maximum is None or value <= column.maximum)
