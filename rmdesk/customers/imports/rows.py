"""Turn raw cells into the values the services take, with an error per row and column in the user's language.

Cells are normalised as the forms normalise typed input: credit codes, mobiles and ID numbers lose spaces and
full-width characters (the validators fold them), dates written as text ("2020-1-5", "2020年1月5日") become
dates, amounts written with separators become exact decimals. Names and other text keep their characters
(a firm's name legally carries full-width brackets) and are only trimmed. A blank cell means "no value":
an import never clears a saved value.
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from rmdesk.core import messages, validators
from rmdesk.core.reference import city_name_en, industries, regions
from rmdesk.core.xlsx import column_letter
from rmdesk.customers.imports.readers import CellProblem, FileRejected, RawFile, RawSheet
from rmdesk.customers.imports.templates import (
    ERRORS_COLUMN,
    ERRORS_LABEL,
    LANGUAGE_CODES,
    SHEETS,
    Column,
    Kind,
    SheetSpec,
    closest_sheet,
    header_index,
    in_languages,
    is_instructions,
    normalise_header,
    sheet_for_headers,
    sheet_for_name,
)
from rmdesk.org.models import OrgUnit, User

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

CENT = Decimal("0.01")
# Excel keeps 15 significant digits; a float cell read back with more shows binary noise (0.1 + 0.2).
EXCEL_DIGITS = ".15g"
_DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?")
_DATE_DIGITS = re.compile(r"(\d{4})(\d{2})(\d{2})")


@dataclass
class CellError:
    field: str  # "" for the row as a whole
    message: str | Promise  # translated when shown: the job renders its report in each language


@dataclass
class ParsedRow:
    number: int
    raw: list[Any]  # the cells as read, in the file's column order (for the error file)
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[CellError] = field(default_factory=list)

    def error(self, field_name: str, message: str | Promise) -> None:
        self.errors.append(CellError(field_name, message))

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass
class ParsedSheet:
    spec: SheetSpec
    title: str  # the sheet's name in the file ("" for CSV)
    header: list[str]
    rows: list[ParsedRow]


def _folded(value: str) -> str:
    return "".join(unicodedata.normalize("NFKC", value).split())


def cell_text(value: Any) -> str:
    """A cell's value as text, as a person would read it in Excel."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else format(value, EXCEL_DIGITS)
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


# --- one cell per kind -------------------------------------------------------------------------------------------


def parse_amount(value: Any, *, percent: bool = False) -> Decimal:
    if isinstance(value, bool):
        raise ValidationError(_("Enter an amount, e.g. 1250000.00."))
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(format(value, EXCEL_DIGITS))
    else:
        text = _folded(str(value)).replace(",", "")
        if percent:
            text = text.removesuffix("%")
        text = text.removeprefix("¥").removesuffix("元")
        try:
            number = Decimal(text)
        except InvalidOperation:
            if percent:
                raise ValidationError(_("Enter a percentage between 0 and 100, e.g. 35.")) from None
            raise ValidationError(_("Enter an amount, e.g. 1250000.00.")) from None
    if not number.is_finite():
        raise ValidationError(_("Enter an amount, e.g. 1250000.00."))
    try:
        quantized = number.quantize(CENT)
    except InvalidOperation:
        raise ValidationError(_("The amount is too large.")) from None
    if quantized != number:
        raise ValidationError(_("Enter an amount with at most 2 decimal places."))
    return quantized


def parse_date(value: Any) -> datetime.date:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        text = unicodedata.normalize("NFKC", value).strip()
        match = _DATE_TEXT.fullmatch(text) or _DATE_DIGITS.fullmatch(text)
        if match is not None:
            try:
                return datetime.date(int(match[1]), int(match[2]), int(match[3]))
            except ValueError:
                raise ValidationError(_("This date does not exist.")) from None
    raise ValidationError(_("Enter a date, e.g. 2020-01-05 or 2020年1月5日."))


def parse_year(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = _folded(value).removesuffix("年")
        if text.isascii() and text.isdigit():
            return int(text)
    raise ValidationError(_("Enter a year, e.g. 2023."))


@functools.cache
def _choice_keys(choices: Any) -> dict[str, str]:
    keys: dict[str, str] = {}
    for code in LANGUAGE_CODES:
        with translation.override(code):
            for value, label in choices.choices:
                keys[normalise_header(label)] = value
    for value in choices.values:
        keys[normalise_header(value)] = value
    return keys


def parse_choice(column: Column, value: Any) -> str:
    key = normalise_header(cell_text(value))
    choice = _choice_keys(column.choices).get(key)
    if choice is None:
        labels = messages.join(", ", column.choices.labels)  # type: ignore[union-attr]
        message = _("“%(value)s” is not one of: %(choices)s.")
        raise ValidationError(messages.interpolate(message, {"value": cell_text(value), "choices": labels}))
    return choice


def parse_rating(value: Any) -> str:
    rating = _folded(cell_text(value)).upper()
    if rating not in settings.CREDIT_RATING_SCALE:
        raise ValidationError(
            messages.interpolate(
                _("“%(value)s” is not one of: %(choices)s."),
                {"value": cell_text(value), "choices": ", ".join(settings.CREDIT_RATING_SCALE)},
            )
        )
    return rating


@functools.cache
def _industry_keys() -> dict[str, str]:
    keys: dict[str, str] = {}
    for section in industries():
        for division in section.divisions:
            keys[division.code] = division.code
            keys[normalise_header(division.name_zh)] = division.code
            keys[normalise_header(division.name_en)] = division.code
    return keys


def parse_industry(value: Any) -> str:
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    keys = _industry_keys()
    match = re.match(r"([A-Ta-t]\s*)?(\d{2})(?!\d)", text)
    if match is not None and match[2] in keys:
        return keys[match[2]]
    code = keys.get(normalise_header(text))
    if code is None:
        raise ValidationError(_("Give a two-digit industry division (GB/T 4754), e.g. 39."))
    return code


@functools.cache
def _region_keys() -> dict[str, str | None]:
    """Every way a city is written (code, 浙江省 杭州市, Hangzhou, Zhejiang, 杭州市, Hangzhou) → its code.

    A name that two cities share maps to None: it is ambiguous and asks for the code.
    """
    keys: dict[str, str | None] = {}

    def add(text: str, code: str) -> None:
        key = normalise_header(text)
        keys[key] = None if key in keys and keys[key] != code else code

    for province in regions():
        for city in province.cities:
            english = city_name_en(city.name_zh)
            keys[city.code] = city.code
            for text in (
                f"{province.name_zh} {city.name_zh}",
                f"{province.name_zh}{city.name_zh}",
                f"{english}, {province.name_en}",
                city.name_zh,
                english,
            ):
                add(text, city.code)
    return keys


def parse_region(value: Any) -> str:
    text = unicodedata.normalize("NFKC", cell_text(value)).strip()
    keys = _region_keys()
    match = re.match(r"(\d{6})(?!\d)", text)
    code = keys.get(match[1]) if match is not None else keys.get(normalise_header(text))
    if code is None:
        raise ValidationError(
            _("Give a six-digit city code (GB/T 2260) or the province and city, e.g. 330100 or 浙江省 杭州市.")
        )
    return code


def _identifier_text(value: Any) -> str:
    """Identifier cells as text; Excel may have stored digits as a number."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return cell_text(value)
    return str(value)


def parse_id_number(value: Any) -> str:
    try:
        return validators.validate_id_number(_identifier_text(value))
    except ValidationError:
        if isinstance(value, int | float) and not isinstance(value, bool):
            # Excel keeps 15 digits of a number: an ID number typed into a number cell has lost its end.
            raise ValidationError(
                _("Excel stored this ID number as a number and lost its last digits. Format the column as text.")
            ) from None
        raise


class Lookups:
    """Org units by code and active users by username, each looked up once per import."""

    def __init__(self) -> None:
        self._units: dict[str, OrgUnit | None] = {}
        self._users: dict[str, User | None] = {}

    def unit(self, value: Any) -> OrgUnit:
        code = _folded(cell_text(value))
        if code not in self._units:
            self._units[code] = OrgUnit.objects.filter(code=code).first()
        unit = self._units[code]
        if unit is None:
            raise ValidationError(_("No org unit has this code."))
        return unit

    def user(self, value: Any) -> User:
        username = _folded(cell_text(value))
        if username not in self._users:
            self._users[username] = User.objects.filter(username=username, is_active=True).first()
        user = self._users[username]
        if user is None:
            raise ValidationError(_("No active user has this username."))
        return user


def _text(value: Any) -> str:
    return cell_text(value)


def parse_cell(column: Column, value: Any, lookups: Lookups) -> Any:
    """The value of one non-blank cell, or ValidationError with the message for the user."""
    parsers: dict[Kind, Callable[[Any], Any]] = {
        Kind.TEXT: _text,
        Kind.CREDIT_CODE: lambda v: validators.validate_credit_code(_identifier_text(v)),
        Kind.CUSTOMER: lambda v: validators.validate_credit_code(_identifier_text(v)),
        Kind.MOBILE: lambda v: validators.validate_mobile(_identifier_text(v)),
        Kind.ID_NUMBER: parse_id_number,
        Kind.AMOUNT: parse_amount,
        Kind.PERCENT: lambda v: parse_amount(v, percent=True),
        Kind.DATE: parse_date,
        Kind.YEAR: parse_year,
        Kind.CHOICE: lambda v: parse_choice(column, v),
        Kind.INDUSTRY: parse_industry,
        Kind.REGION: parse_region,
        Kind.RATING: parse_rating,
        Kind.UNIT: lookups.unit,
        Kind.USER: lookups.user,
    }
    return parsers[column.kind](value)


# --- sheets ----------------------------------------------------------------------------------------------------------


def _identity(spec: SheetSpec, values: dict[str, Any]) -> tuple[Any, ...] | None:
    """What makes two rows of a sheet the same record; None when a part of it is missing or invalid."""
    if spec.key == "customers":
        parts: tuple[Any, ...] = (values.get("credit_code"),)
    elif spec.key == "key_persons":
        parts = (values.get("customer"), values.get("role"), values.get("name"))
    elif spec.key == "financial_statements":
        parts = (values.get("customer"), values.get("year"))
    else:
        counterparty = values.get("counterparty_credit_code") or values.get("counterparty_name")
        parts = (values.get("customer"), values.get("kind"), counterparty)
    return None if any(p in (None, "") for p in parts) else parts


def _columns(sheet: RawSheet, spec: SheetSpec, where: str) -> list[Column | None]:
    """The column each position of the header names; unknown or missing columns refuse the file."""
    index = header_index(spec)
    ignored = in_languages(ERRORS_LABEL)  # the column the error file adds, so a corrected file imports
    columns: list[Column | None] = []
    unknown: list[str] = []
    for text in sheet.header:
        key = normalise_header(cell_text(text))
        if not key:
            columns.append(None)
            continue
        if key in ignored:
            columns.append(ERRORS_COLUMN)
            continue
        column = index.get(key)
        if column is None:
            unknown.append(cell_text(text))
        columns.append(column)
    if unknown:
        raise FileRejected(
            messages.interpolate(
                _("%(sheet)s: these columns are not known: %(columns)s. Use the headers of the template."),
                {"sheet": where, "columns": "、".join(f"“{u}”" for u in unknown)},
            )
        )
    fields = [c.field for c in columns if c is not None and c.imported]
    repeated = {c.field: c.label for c in columns if c is not None and c.imported and fields.count(c.field) > 1}
    if repeated:
        raise FileRejected(
            messages.interpolate(
                _("%(sheet)s: these columns appear twice: %(columns)s."),
                {"sheet": where, "columns": messages.join("、", repeated.values())},
            )
        )
    missing = [c.label for c in spec.columns if c.required and c.field not in fields]
    if missing:
        raise FileRejected(
            messages.interpolate(
                _("%(sheet)s: these required columns are missing: %(columns)s."),
                {"sheet": where, "columns": messages.join("、", missing)},
            )
        )
    return columns


def _spec_for(sheet: RawSheet) -> SheetSpec | None:
    if sheet.title:
        spec = sheet_for_name(sheet.title)
        if spec is not None:
            return spec
        if is_instructions(sheet.title):
            return None
    headers = [cell_text(h) for h in sheet.header]
    spec = sheet_for_headers(headers) or closest_sheet(headers)
    if spec is None:
        names = messages.join("、", [s.title for s in SHEETS])
        if sheet.title:
            raise FileRejected(
                messages.interpolate(
                    _("The sheet “%(sheet)s” is not one of %(names)s, and its columns do not tell which it is."),
                    {"sheet": sheet.title, "names": names},
                )
            )
        raise FileRejected(
            messages.interpolate(_("The columns do not match any sheet of the template (%(names)s)."), {"names": names})
        )
    return spec


def _headerless(position: int, number: int, value: Any) -> StrOrPromise:
    return messages.interpolate(
        _("The cell %(cell)s holds “%(value)s” but its column has no header."),
        {"cell": f"{column_letter(position)}{number}", "value": cell_text(value)},
    )


def _merged_errors(sheet: RawSheet, columns: list[Column | None], rows: dict[int, ParsedRow]) -> None:
    for ref, min_col, min_row, _max_col, max_row in sheet.merged:
        if min_row <= sheet.header_row:
            raise FileRejected(
                messages.interpolate(
                    _(
                        "%(sheet)s: the header cells %(range)s are merged. "
                        "Unmerge them: every column needs its own header."
                    ),
                    {"sheet": sheet.title, "range": ref},
                )
            )
        column = columns[min_col - 1] if min_col - 1 < len(columns) else None
        message = messages.interpolate(
            _("The cells %(range)s are merged. Unmerge them and fill in every cell."), {"range": ref}
        )
        for number in range(min_row, max_row + 1):
            row = rows.get(number)
            if row is not None:
                row.error(column.field if column is not None else "", message)


def parse_file(raw: RawFile, *, lookups: Lookups | None = None, progress: Any = None) -> list[ParsedSheet]:
    """Every row of every sheet, parsed, with duplicates inside the file marked on the later rows."""
    lookups = lookups or Lookups()
    parsed: list[ParsedSheet] = []
    seen_specs: dict[str, str] = {}
    total = raw.row_count
    done = 0
    for sheet in raw.sheets:
        spec = _spec_for(sheet)
        if spec is None:
            continue
        where = sheet.title or raw.name
        if spec.key in seen_specs:
            raise FileRejected(
                messages.interpolate(
                    _("The sheets “%(first)s” and “%(second)s” hold the same kind of rows; put them in one sheet."),
                    {"first": seen_specs[spec.key], "second": where},
                )
            )
        seen_specs[spec.key] = where
        columns = _columns(sheet, spec, where)
        rows: list[ParsedRow] = []
        first_row_of: dict[tuple[Any, ...], int] = {}
        for raw_row in sheet.rows:
            row = ParsedRow(number=raw_row.number, raw=raw_row.values)
            for position, value in enumerate(raw_row.values[len(columns) :], start=len(columns)):
                if not (value is None or (isinstance(value, str) and not value.strip())):
                    row.error("", _headerless(position, raw_row.number, value))
            for position, column in enumerate(columns):
                value = raw_row.values[position] if position < len(raw_row.values) else None
                if column is None:
                    if not (value is None or (isinstance(value, str) and not value.strip())):
                        row.error("", _headerless(position, raw_row.number, value))
                    continue
                if not column.imported:
                    continue
                if isinstance(value, CellProblem):
                    row.error(column.field, value.message)
                    continue
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                try:
                    row.values[column.field] = parse_cell(column, value, lookups)
                except ValidationError as error:
                    row.error(column.field, messages.join(" ", messages.of_validation_error(error)))
            for column in spec.columns:
                if (
                    column.required
                    and column.field not in row.values
                    and not any(e.field == column.field for e in row.errors)
                ):
                    row.error(column.field, _("This field is required."))
            if spec.key == "relationships" and not (
                row.values.get("counterparty_name") or row.values.get("counterparty_credit_code")
            ):
                row.error("counterparty_name", _("Name the other firm or give its credit code."))
            identity = _identity(spec, row.values)
            if identity is not None:
                if identity in first_row_of:
                    row.error(
                        "credit_code" if spec.key == "customers" else "",
                        messages.interpolate(
                            _("This repeats row %(row)s of the same sheet."), {"row": first_row_of[identity]}
                        ),
                    )
                else:
                    first_row_of[identity] = row.number
            rows.append(row)
            done += 1
            if progress is not None and done % 1000 == 0:
                progress("checking", done, total)
        _merged_errors(sheet, columns, {row.number: row for row in rows})
        parsed.append(ParsedSheet(spec=spec, title=sheet.title, header=[cell_text(h) for h in sheet.header], rows=rows))
    if not any(sheet.rows for sheet in parsed):
        raise FileRejected(_("The file has no rows to import."))
    order = {spec.key: n for n, spec in enumerate(SHEETS)}
    parsed.sort(key=lambda sheet: order[sheet.spec.key])
    return parsed
