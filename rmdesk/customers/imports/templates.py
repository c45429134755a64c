"""What an import file holds: its sheets and their columns, with headers in both languages.

A header is accepted in Chinese or English whatever the user's language, matched after NFKC folding and
without spaces or case, so "统一社会信用代码", "Unified social credit code" and "unified  social credit code"
are one column. The export writes the Customers sheet with the same columns, so an export imports back.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from rmdesk.core.xlsx import Sheet, workbook_bytes
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
from rmdesk.customers.models import Customer, FinancialStatement, KeyPerson, Relationship

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

LANGUAGE_CODES = ("zh-hans", "en")


class Kind(StrEnum):
    """How a column's cells are read."""

    TEXT = "text"
    CREDIT_CODE = "credit_code"
    CUSTOMER = "customer"  # the credit code of the customer a row of another sheet belongs to
    MOBILE = "mobile"
    ID_NUMBER = "id_number"
    AMOUNT = "amount"
    PERCENT = "percent"
    DATE = "date"
    YEAR = "year"
    CHOICE = "choice"
    INDUSTRY = "industry"
    REGION = "region"
    RATING = "rating"
    UNIT = "unit"
    USER = "user"
    SHOWN_ONLY = "shown_only"  # written by the export for people to read, ignored by the import


@dataclass(frozen=True)
class Column:
    field: str
    label: StrOrPromise
    kind: Kind
    required: bool = False
    choices: type[models.TextChoices] | None = None
    width: int = 16

    @property
    def imported(self) -> bool:
        return self.kind != Kind.SHOWN_ONLY


@dataclass(frozen=True)
class SheetSpec:
    key: str
    title: StrOrPromise
    aliases: tuple[StrOrPromise, ...]
    columns: tuple[Column, ...]

    def column(self, field: str) -> Column | None:
        return next((c for c in self.columns if c.field == field), None)

    def label(self, field: str) -> str:
        """The column's header in the active language ("" for a rule of the whole row)."""
        column = self.column(field)
        return str(column.label) if column is not None else ""


def normalise_header(text: object) -> str:
    """A header or sheet name as compared: NFKC-folded, without spaces, asterisks or case."""
    folded = unicodedata.normalize("NFKC", str(text or ""))
    return "".join(folded.split()).strip("*").casefold()


def in_languages(label: StrOrPromise) -> set[str]:
    """The label's normalised text in every language of the UI."""
    texts = set()
    for code in LANGUAGE_CODES:
        with translation.override(code):
            texts.add(normalise_header(str(label)))
    return texts


def _verbose(model: type[models.Model], name: str) -> StrOrPromise:
    field = model._meta.get_field(name)
    return capfirst(getattr(field, "verbose_name", name))


def _plural(model: type[models.Model]) -> StrOrPromise:
    return capfirst(model._meta.verbose_name_plural or model.__name__)


def _c(model: type[models.Model], name: str, kind: Kind, **options: object) -> Column:
    return Column(field=name, label=_verbose(model, name), kind=kind, **options)  # type: ignore[arg-type]


CUSTOMER_CODE = Column(
    field="customer", label=gettext_lazy("Customer's credit code"), kind=Kind.CUSTOMER, required=True, width=22
)

CUSTOMERS = SheetSpec(
    key="customers",
    title=_plural(Customer),
    aliases=(gettext_lazy("Customers"),),
    columns=(
        _c(Customer, "name", Kind.TEXT, required=True, width=36),
        _c(Customer, "credit_code", Kind.CREDIT_CODE, required=True, width=22),
        _c(Customer, "legal_representative", Kind.TEXT),
        _c(Customer, "registered_capital", Kind.AMOUNT, width=18),
        _c(Customer, "established_on", Kind.DATE, width=12),
        _c(Customer, "industry", Kind.INDUSTRY, width=30),
        _c(Customer, "region", Kind.REGION, width=20),
        _c(Customer, "size", Kind.CHOICE, choices=EnterpriseSize, width=10),
        _c(Customer, "ownership", Kind.CHOICE, choices=Ownership, width=14),
        _c(Customer, "credit_rating", Kind.RATING, width=10),
        _c(Customer, "tier", Kind.CHOICE, choices=Tier, width=10),
        _c(Customer, "status", Kind.CHOICE, choices=LifecycleStatus, width=10),
        Column("owning_unit", gettext_lazy("Owning unit code"), Kind.UNIT, width=14),
        Column("primary_rm", gettext_lazy("Primary RM username"), Kind.USER, width=14),
        Column("owning_unit_name", _verbose(Customer, "owning_unit"), Kind.SHOWN_ONLY, width=24),
        Column("primary_rm_name", _verbose(Customer, "primary_rm"), Kind.SHOWN_ONLY, width=12),
    ),
)

KEY_PERSONS = SheetSpec(
    key="key_persons",
    title=_plural(KeyPerson),
    aliases=(gettext_lazy("Key persons"),),
    columns=(
        CUSTOMER_CODE,
        _c(KeyPerson, "role", Kind.CHOICE, required=True, choices=KeyPersonRole),
        _c(KeyPerson, "name", Kind.TEXT, required=True, width=12),
        _c(KeyPerson, "title", Kind.TEXT),
        _c(KeyPerson, "decision_role", Kind.CHOICE, choices=DecisionRole),
        _c(KeyPerson, "phone", Kind.MOBILE, width=14),
        _c(KeyPerson, "id_number", Kind.ID_NUMBER, width=22),
        _c(KeyPerson, "preferences", Kind.TEXT, width=36),
    ),
)

STATEMENTS = SheetSpec(
    key="financial_statements",
    title=_plural(FinancialStatement),
    aliases=(gettext_lazy("Financial statements"),),
    columns=(
        CUSTOMER_CODE,
        _c(FinancialStatement, "year", Kind.YEAR, required=True, width=8),
        _c(FinancialStatement, "total_assets", Kind.AMOUNT, required=True, width=18),
        _c(FinancialStatement, "total_liabilities", Kind.AMOUNT, required=True, width=18),
        _c(FinancialStatement, "revenue", Kind.AMOUNT, required=True, width=18),
        _c(FinancialStatement, "net_profit", Kind.AMOUNT, required=True, width=18),
        _c(FinancialStatement, "operating_cash_flow", Kind.AMOUNT, required=True, width=18),
    ),
)

RELATIONSHIPS = SheetSpec(
    key="relationships",
    title=_plural(Relationship),
    aliases=(gettext_lazy("Relationships"),),
    columns=(
        CUSTOMER_CODE,
        _c(Relationship, "kind", Kind.CHOICE, required=True, choices=RelationshipKind),
        _c(Relationship, "direction", Kind.CHOICE, choices=Direction, width=18),
        _c(Relationship, "counterparty_name", Kind.TEXT, width=36),
        _c(Relationship, "counterparty_credit_code", Kind.CREDIT_CODE, width=22),
        _c(Relationship, "share_pct", Kind.PERCENT, width=10),
        _c(Relationship, "amount", Kind.AMOUNT, width=18),
        _c(Relationship, "controller_name", Kind.TEXT),
        _c(Relationship, "note", Kind.TEXT, width=30),
    ),
)

# In the order they are applied: a key person's customer must exist before the key person.
SHEETS: tuple[SheetSpec, ...] = (CUSTOMERS, KEY_PERSONS, STATEMENTS, RELATIONSHIPS)
INSTRUCTIONS_TITLE = gettext_lazy("Instructions")
# The column the error file adds after a sheet's own columns; ignored when a corrected file comes back.
ERRORS_LABEL = gettext_lazy("Errors")
ERRORS_COLUMN = Column("errors", ERRORS_LABEL, Kind.SHOWN_ONLY, width=60)


def sheet_for_name(name: str) -> SheetSpec | None:
    """The sheet a workbook sheet's name stands for, in either language."""
    wanted = normalise_header(name)
    for spec in SHEETS:
        names = {normalise_header(spec.key)}
        for label in (spec.title, *spec.aliases):
            names |= in_languages(label)
        if wanted in names:
            return spec
    return None


def is_instructions(name: str) -> bool:
    return normalise_header(name) in in_languages(INSTRUCTIONS_TITLE)


def header_index(spec: SheetSpec) -> dict[str, Column]:
    """Every accepted header of the sheet's columns, normalised: both languages and the field name."""
    index: dict[str, Column] = {}
    for column in spec.columns:
        for text in {normalise_header(column.field), *in_languages(column.label)}:
            index[text] = column
    return index


def sheet_for_headers(headers: Iterable[object]) -> SheetSpec | None:
    """The one sheet whose columns these headers are (for a CSV file, or a sheet with another name)."""
    normalised = [normalise_header(h) for h in headers if normalise_header(h)]
    candidates: list[tuple[int, SheetSpec]] = []
    for spec in SHEETS:
        index = header_index(spec)
        known = {index[h].field for h in normalised if h in index}
        required = {c.field for c in spec.columns if c.required}
        if required <= known:
            candidates.append((len(known), spec))
    return _best(candidates)


def closest_sheet(headers: Iterable[object]) -> SheetSpec | None:
    """The sheet most of these headers belong to, even with columns missing or unknown (to say which)."""
    normalised = [normalise_header(h) for h in headers if normalise_header(h)]
    candidates = []
    for spec in SHEETS:
        index = header_index(spec)
        known = {index[h].field for h in normalised if h in index}
        if known - {"customer"}:
            candidates.append((len(known), spec))
    return _best(candidates)


def _best(candidates: list[tuple[int, SheetSpec]]) -> SheetSpec | None:
    candidates.sort(key=lambda pair: -pair[0])
    if not candidates or (len(candidates) > 1 and candidates[0][0] == candidates[1][0]):
        return None
    return candidates[0][1]


# --- the template workbook ---------------------------------------------------------------------------------


def _choice_hint(column: Column) -> str:
    if column.kind == Kind.RATING:
        values = list(settings.CREDIT_RATING_SCALE)
    elif column.choices is not None:
        values = [str(label) for label in column.choices.labels]
    else:
        return ""
    return _("One of: %(values)s") % {"values": ", ".join(values)}


def column_hint(column: Column) -> str:
    """What to write in the column, in the active language."""
    hints: dict[Kind, StrOrPromise] = {
        Kind.CREDIT_CODE: gettext_lazy("18 characters; spaces and full-width characters are removed."),
        Kind.CUSTOMER: gettext_lazy(
            "The customer's unified social credit code: a customer on the Customers sheet or already in your book."
        ),
        Kind.MOBILE: gettext_lazy("11-digit mainland mobile number."),
        Kind.ID_NUMBER: gettext_lazy("18-character resident ID number; format the column as text in Excel."),
        Kind.AMOUNT: gettext_lazy("In yuan, at most 2 decimal places, e.g. 12500000.00."),
        Kind.PERCENT: gettext_lazy("0 to 100, e.g. 35 or 35%."),
        Kind.DATE: gettext_lazy("A date, e.g. 2020-01-05 or 2020年1月5日."),
        Kind.YEAR: gettext_lazy("e.g. 2023."),
        Kind.INDUSTRY: gettext_lazy("Two-digit industry division (GB/T 4754), e.g. 39."),
        Kind.REGION: gettext_lazy("Six-digit city code (GB/T 2260) or province and city, e.g. 330100."),
        Kind.UNIT: gettext_lazy("Org-unit code; empty means the primary RM's unit."),
        Kind.USER: gettext_lazy("Username; empty means yourself (relationship managers)."),
        Kind.SHOWN_ONLY: gettext_lazy("Shown in exports only; ignored by the import."),
    }
    hint = hints.get(column.kind)
    return str(hint) if hint is not None else _choice_hint(column)


def template_sheets() -> list[Sheet]:
    """An empty sheet per kind of row, and an instructions sheet, in the active language."""
    sheets = [
        Sheet(
            title=str(spec.title),
            header=[str(c.label) for c in spec.columns if c.imported],
            widths=[c.width for c in spec.columns if c.imported],
        )
        for spec in SHEETS
    ]
    rules = [
        [_("Rows are matched on the unified social credit code: a customer of yours is updated where the file differs, a new code opens a new customer file.")],  # noqa: E501
        [_("Empty cells leave saved values as they are. Headers may be in Chinese or English.")],
        [_("This sheet is not imported.")],
        [],
    ]
    columns = [
        [str(spec.title), str(column.label), _("yes") if column.required else "", column_hint(column)]
        for spec in SHEETS
        for column in spec.columns
        if column.imported
    ]
    sheets.append(
        Sheet(
            title=str(INSTRUCTIONS_TITLE),
            header=[_("Sheet"), _("Column"), _("Required"), _("What to write")],
            rows=[*rules, *columns],
            widths=[18, 30, 8, 80],
        )
    )
    return sheets


def template_workbook(language: str) -> bytes:
    """The import template with headers in `language`."""
    with translation.override(language):
        return workbook_bytes(template_sheets())
