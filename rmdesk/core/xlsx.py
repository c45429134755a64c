"""A streaming .xlsx writer for text tables: bytes go out while rows are still being read.

openpyxl builds a whole sheet before it writes the first byte; an export of a branch's book would sit in
memory (or a temporary file) before the browser sees anything. This writer produces the zip entry by entry
as rows arrive. Every cell is a text cell: amounts stay the exact strings the bank keeps, and a value that
starts with "=" is never turned into a formula (no formula injection through a customer's name).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

# XML 1.0 cannot carry these at all; a control character typed into a name must not corrupt the file.
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# Characters Excel refuses in a sheet name, and its length limit.
_SHEET_NAME_ILLEGAL = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_MAX = 31
# Rows per chunk handed to the consumer; small enough to start a download at once.
ROWS_PER_CHUNK = 500

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_STYLES = (
    _XML_HEAD + f'<styleSheet xmlns="{_MAIN_NS}">'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    # 49 is the built-in "@" (text) format, so a typed edit in Excel stays text too.
    '<cellXfs count="2"><xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="49" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


@dataclass
class Sheet:
    """One sheet: a bold, frozen header row and text rows (None or "" leaves a cell empty)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[object]] = ()
    widths: Sequence[int] = field(default_factory=list)


def clean_text(value: object) -> str:
    """The cell text for a value, without the characters XML cannot hold."""
    return _ILLEGAL_XML.sub("\ufffd", str(value))


def sheet_name(title: str) -> str:
    """A sheet name Excel accepts."""
    return _SHEET_NAME_ILLEGAL.sub("_", clean_text(title))[:SHEET_NAME_MAX] or "Sheet"


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _row_xml(number: int, values: Sequence[object], style: int) -> str:
    cells = []
    for index, value in enumerate(values):
        if value is None:
            continue
        text = clean_text(value)
        if text == "":
            continue
        space = ' xml:space="preserve"' if text != text.strip() or "\n" in text else ""
        cells.append(
            f'<c r="{column_letter(index)}{number}" s="{style}" t="inlineStr"><is><t{space}>{escape(text)}</t></is></c>'
        )
    return f'<row r="{number}">{"".join(cells)}</row>'


class _Sink:
    """A write-only, unseekable file: zipfile then writes data descriptors and never seeks back."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self._parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def _sheet_xml_head(sheet: Sheet) -> str:
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{width}" customWidth="1"/>' for i, width in enumerate(sheet.widths, start=1)
    )
    return (
        _XML_HEAD + f'<worksheet xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        '<sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        "</sheetView></sheetViews>"
        f"{f'<cols>{cols}</cols>' if cols else ''}<sheetData>"
    )


def _package_parts(names: list[str]) -> dict[str, str]:
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(names, start=1)
    )
    sheet_rels = "".join(
        f'<Relationship Id="rId{i}" Type="{_REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    )
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, len(names) + 1)
    )
    return {
        "[Content_Types].xml": _XML_HEAD
        + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{overrides}</Types>",
        "_rels/.rels": _XML_HEAD + f'<Relationships xmlns="{_PKG_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": _XML_HEAD + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_REL_NS}">'
        f"<sheets>{sheets}</sheets></workbook>",
        "xl/_rels/workbook.xml.rels": _XML_HEAD + f'<Relationships xmlns="{_PKG_REL_NS}">{sheet_rels}'
        f'<Relationship Id="rId{len(names) + 1}" Type="{_REL_NS}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": _STYLES,
    }


def stream_workbook(sheets: Sequence[Sheet]) -> Iterator[bytes]:
    """The workbook as chunks of bytes; each sheet's rows are read lazily, once."""
    names: list[str] = []
    for sheet in sheets:
        name = sheet_name(sheet.title)
        while name in names:
            name = sheet_name(f"{name[: SHEET_NAME_MAX - 2]}_{len(names)}")
        names.append(name)
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, text in _package_parts(names).items():
            archive.writestr(path, text)
        yield sink.take()
        for number, sheet in enumerate(sheets, start=1):
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w") as part:
                part.write(_sheet_xml_head(sheet).encode())
                part.write(_row_xml(1, sheet.header, 1).encode())
                buffered: list[str] = []
                for row_number, row in enumerate(sheet.rows, start=2):
                    buffered.append(_row_xml(row_number, row, 0))
                    if len(buffered) >= ROWS_PER_CHUNK:
                        part.write("".join(buffered).encode())
                        buffered.clear()
                        chunk = sink.take()
                        if chunk:
                            yield chunk
                part.write(("".join(buffered) + "</sheetData></worksheet>").encode())
            yield sink.take()
    yield sink.take()


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    """The whole workbook at once, for small files (templates, error reports)."""
    return b"".join(stream_workbook(sheets))
