"""Read an import file (.xlsx or .csv) into sheets of raw cell values, or refuse it with a clear message.

.xlsx: openpyxl in read-only mode. A formula gives the value Excel saved with it; a formula saved without a
value (written by a program that never calculated it) is an error for that cell, as are Excel error values
(#DIV/0! …). Merged cells are reported with their range: only the first cell of a merged range holds a
value, so the others would silently be read as empty.
.csv: UTF-8 with or without a byte-order mark, UTF-16 (Excel's "Unicode text"), else GB18030, which
Chinese Excel writes.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG, WorkSheetParser

from rmdesk.core import messages

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# An .xlsx is a zip: refuse one that would unpack to more than this (a "zip bomb").
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024
ZIP_SIGNATURE = b"PK\x03\x04"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old .xls, and encrypted .xlsx

Progress = Callable[[str, int, int], None]


class FileRejected(Exception):
    """The file as a whole cannot be imported; the message says why, in the user's language."""

    def __init__(self, message: StrOrPromise) -> None:
        super().__init__(message)
        self.message = message  # translated when shown: a background import shows it in the reader's language


@dataclass(frozen=True)
class CellProblem:
    """A cell that holds no usable value (a formula never calculated, an Excel error)."""

    message: StrOrPromise
    shown: str  # what the cell showed or held, for the error file

    def __str__(self) -> str:
        return self.shown


@dataclass
class RawRow:
    number: int  # the row number the user sees in Excel (the header is usually row 1)
    values: list[Any]


@dataclass
class RawSheet:
    title: str  # "" for a CSV file
    header: list[Any]
    header_row: int
    rows: list[RawRow] = field(default_factory=list)
    # Merged ranges: reference ("B3:B5"), first column, first row, last column, last row.
    merged: list[tuple[str, int, int, int, int]] = field(default_factory=list)


@dataclass
class RawFile:
    name: str
    sha256: str
    sheets: list[RawSheet]

    @property
    def row_count(self) -> int:
        return sum(len(sheet.rows) for sheet in self.sheets)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _RowCounter:
    """Counts data rows across sheets; more than the limit stops the reading at once."""

    def __init__(self, max_rows: int, progress: Progress | None) -> None:
        self.max_rows = max_rows
        self.progress = progress
        self.count = 0

    def add(self) -> None:
        self.count += 1
        if self.count > self.max_rows:
            raise FileRejected(
                messages.interpolate(
                    _("The file has more than %(max)s rows. Split it into smaller files."),
                    {"max": f"{self.max_rows:,}"},
                )
            )
        if self.progress is not None and self.count % 1000 == 0:
            self.progress("reading", self.count, 0)


def _sheet_from_rows(title: str, rows: Iterator[tuple[int, list[Any]]], counter: _RowCounter) -> RawSheet | None:
    """The first non-blank row is the header; blank rows are skipped (Excel leaves many at the end)."""
    sheet: RawSheet | None = None
    for number, values in rows:
        while values and _blank(values[-1]):
            values.pop()
        if not values or all(_blank(v) for v in values):
            continue
        if sheet is None:
            sheet = RawSheet(title=title, header=values, header_row=number)
            continue
        counter.add()
        sheet.rows.append(RawRow(number=number, values=values))
    return sheet


# --- .xlsx -------------------------------------------------------------------------------------------------------


class _CachedValueParser(WorkSheetParser):
    """openpyxl's sheet parser, reading a formula cell's saved value and remembering it was a formula."""

    def parse_cell(self, element: Any) -> dict[str, Any]:
        formula = element.find(FORMULA_TAG)
        if formula is None:
            cell: dict[str, Any] = super().parse_cell(element)
            if cell["data_type"] == "e":
                cell["value"] = CellProblem(
                    messages.interpolate(_("The cell holds the Excel error %(error)s."), {"error": cell["value"]}),
                    str(cell["value"]),
                )
            return cell
        self.data_only = True
        try:
            cell = super().parse_cell(element)
        finally:
            self.data_only = False
        text = f"={formula.text or ''}"
        # A formula never calculated has no value, or an empty one (openpyxl writes <v/>); only a text result
        # (t="str") can really be empty.
        if not element.findtext(VALUE_TAG) and element.get("t") != "str":
            cell["value"] = CellProblem(
                messages.interpolate(
                    _(
                        "The formula %(formula)s has no saved value. "
                        "Open the file in Excel, save it and import it again."
                    ),
                    {"formula": text},
                ),
                text,
            )
        elif cell["data_type"] == "e":
            message = _("The formula %(formula)s gives the Excel error %(error)s.")
            cell["value"] = CellProblem(messages.interpolate(message, {"formula": text, "error": cell["value"]}), text)
        elif cell["value"] is None:
            cell["value"] = ""  # the formula's saved result is an empty text
        return cell


def _xlsx_rows(parser: _CachedValueParser) -> Iterator[tuple[int, list[Any]]]:
    for number, cells in parser.parse():
        values: list[Any] = []
        for cell in cells:
            column = cell["column"]
            while len(values) < column - 1:
                values.append(None)
            values.append(cell["value"])
        yield number, values


def _read_xlsx(path: Path, counter: _RowCounter) -> list[RawSheet]:
    try:
        with zipfile.ZipFile(path) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        raise FileRejected(_("The file is not a valid Excel workbook (.xlsx).")) from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileRejected(_("The workbook unpacks to more than 1 GB; split it into smaller files."))
    sheets: list[RawSheet] = []
    with warnings.catch_warnings():
        # openpyxl warns about features it drops (data validation, extensions); they do not matter here.
        warnings.simplefilter("ignore")
        try:
            workbook = load_workbook(path, read_only=True, data_only=False, keep_links=False)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError):
            raise FileRejected(_("The file is not a valid Excel workbook (.xlsx).")) from None
        try:
            for worksheet in workbook.worksheets:
                # openpyxl's read-only sheet hides merged ranges and formulas' saved values; its own parser,
                # run on the sheet's part, gives both in one pass.
                with workbook._archive.open(worksheet._worksheet_path) as source:
                    parser = _CachedValueParser(
                        source,
                        worksheet._shared_strings,
                        data_only=False,
                        epoch=workbook.epoch,
                        date_formats=workbook._date_formats,
                        timedelta_formats=workbook._timedelta_formats,
                    )
                    sheet = _sheet_from_rows(worksheet.title, _xlsx_rows(parser), counter)
                    if sheet is not None and parser.merged_cells is not None:
                        for merged in parser.merged_cells.mergeCell:
                            bounds = merged.bounds
                            sheet.merged.append((merged.coord, *bounds))
                if sheet is not None:
                    sheets.append(sheet)
        except FileRejected:
            raise
        except Exception:
            raise FileRejected(_("The workbook could not be read. Save it again in Excel as .xlsx.")) from None
        finally:
            workbook.close()
    return sheets


# --- .csv --------------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    utf16 = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
    encodings = ["utf-16"] if utf16 else ["utf-8-sig", "gb18030"]
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRejected(_("The file's text encoding is not recognised. Save it as CSV (UTF-8)."))


def _read_csv(path: Path, counter: _RowCounter) -> list[RawSheet]:
    data = path.read_bytes()
    text = _decode(data)
    if "\x00" in text:
        raise FileRejected(_("The file is not a text CSV file."))
    # Excel in some locales separates with ";", and "Unicode text" with tabs: the header line tells which.
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=lambda d: (first_line.count(d), d == ","))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

    def rows() -> Iterator[tuple[int, list[Any]]]:
        number = 0
        try:
            for number, record in enumerate(reader, start=1):
                yield number, [value if value.strip() else None for value in record]
        except csv.Error as error:
            message = messages.interpolate(
                _("Row %(row)s cannot be read: %(error)s"), {"row": number + 1, "error": str(error)}
            )
            raise FileRejected(message) from None

    sheet = _sheet_from_rows("", rows(), counter)
    return [sheet] if sheet is not None else []


# --- either --------------------------------------------------------------------------------------------------------


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(*, name: str, size: int | None, head: bytes, max_bytes: int) -> None:
    """Refuse a file by its name, size and first bytes, before anything reads it."""
    extension = Path(name).suffix.lower()
    if extension not in (".xlsx", ".csv"):
        if extension in (".xls", ".et", ".ods", ".numbers"):
            raise FileRejected(_("This kind of spreadsheet cannot be read. Save it as .xlsx or .csv and try again."))
        raise FileRejected(_("Only .xlsx and .csv files can be imported."))
    if not size:
        raise FileRejected(_("The file is empty."))
    if size > max_bytes:
        raise FileRejected(
            messages.interpolate(_("The file is larger than %(mb)d MB."), {"mb": max_bytes // (1024 * 1024)})
        )
    if extension == ".xlsx" and head.startswith(OLE_SIGNATURE):
        raise FileRejected(
            _("The workbook is an old .xls file or is password-protected. Save it as .xlsx without a password.")
        )
    if extension == ".xlsx" and not head.startswith(ZIP_SIGNATURE):
        raise FileRejected(_("The file is not a valid Excel workbook (.xlsx)."))
    if extension == ".csv" and head.startswith(ZIP_SIGNATURE):
        raise FileRejected(_("The file is an Excel workbook, not a CSV file. Name it .xlsx and try again."))


def read_file(path: Path, *, name: str, max_rows: int, max_bytes: int, progress: Progress | None = None) -> RawFile:
    """The sheets of an import file, or FileRejected naming what is wrong with it."""
    with path.open("rb") as handle:
        head = handle.read(8)
    check_file(name=name, size=path.stat().st_size, head=head, max_bytes=max_bytes)
    counter = _RowCounter(max_rows, progress)
    read = _read_xlsx if Path(name).suffix.lower() == ".xlsx" else _read_csv
    sheets = read(path, counter)
    if progress is not None:
        progress("reading", counter.count, counter.count)
    return RawFile(name=name, sha256=file_digest(path), sheets=sheets)
