"""The one writer of every CSV and XLSX that node and hub hand out, and it writes them inert.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(and a leading tab or carriage return can hide such a start): a lower center named
``=HYPERLINK(…)``, a complaint's text or an applicant's name would otherwise plant a live
formula in the file a higher center opens (OWASP, "CSV Injection").  So, for every text cell
that starts with one of those characters and is not simply a number:

- **CSV**: the cell is prefixed with ``'`` (what OWASP prescribes), and every text cell is
  quoted; the file is UTF-8 with a byte-order mark, so that spreadsheet programs read the
  Chinese;
- **XLSX**: the cell is stored as a string (``t="inlineStr"``, never a formula) and marked
  ``quotePrefix`` — Excel's own form of the leading ``'``, so that editing the cell does not
  turn it into a formula either — while its text stays exactly as it was (a catalog exported
  and imported again keeps its names).

Numbers stay numbers.  Characters XML cannot hold (control characters) are dropped from XLSX
cells instead of failing the export.  :func:`inert_csv` and :func:`inert_xlsx` make a file
written elsewhere (the hub's answer a node passes on) inert the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"\A[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?\Z")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def is_dangerous(text: str) -> bool:
    """Would a spreadsheet program read ``text`` as a formula?"""
    return text.startswith(FORMULA_LEADS) and not _NUMBER.match(text.strip())


def _plain(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return value


def csv_cell(value: Any) -> Any:
    """One CSV cell: text that could be a formula gets a leading ``'``."""
    value = _plain(value)
    if isinstance(value, str) and is_dangerous(value):
        return "'" + value
    return value


@dataclass
class Sheet:
    """A titled table: headings and rows of cells."""

    title: str
    headings: list[str]
    rows: list[list[Any]] = field(default_factory=list)


def csv_bytes(headings: Sequence[Any], rows: Iterable[Sequence[Any]]) -> bytes:
    """A CSV file (UTF-8 with BOM, CRLF lines, text quoted), every cell inert."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([csv_cell(h) for h in headings])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def set_cell(worksheet: Worksheet, row: int, column: int, value: Any) -> Any:
    """Write one XLSX cell inert: text is text (never a formula), quote-prefixed when it
    could be read as one."""
    cell = worksheet.cell(row=row, column=column)
    value = _plain(value) if isinstance(value, dt.time) else value
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = value
        cell.data_type = "s"
        if is_dangerous(value):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def append_row(worksheet: Worksheet, values: Sequence[Any], *, bold: bool = False) -> int:
    """Write ``values`` as the sheet's next row, every cell inert; the row's number."""
    worksheet.append([None] * max(len(values), 1))
    row = worksheet.max_row
    for column, value in enumerate(values, start=1):
        cell = set_cell(worksheet, row, column, "" if value is None else value)
        if bold:
            cell.font = Font(bold=True)
    return row


def workbook_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of ``sheets``, headings in bold, every cell inert."""
    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    for sheet in sheets:
        worksheet = workbook.create_sheet(sheet.title[:31])
        append_row(worksheet, sheet.headings, bold=True)
        for values in sheet.rows:
            append_row(worksheet, [_plain(v) if isinstance(v, dt.date | dt.time) else v
                                   for v in values])
    return workbook_bytes(workbook)


def inert_csv(data: bytes) -> bytes:
    """A CSV file written elsewhere, with every cell made inert as :func:`csv_bytes` does."""
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return data
    return csv_bytes(rows[0], rows[1:])


def inert_xlsx(data: bytes) -> bytes:
    """An XLSX file written elsewhere, with every formula turned into its text and every
    cell made inert as :func:`set_cell` does."""
    workbook = load_workbook(io.BytesIO(data))
    for worksheet in workbook.worksheets:
        for row in worksheet.iter_rows():
            for cell in row:
                if (cell.data_type == "f" or isinstance(cell.value, str)) \
                        and cell.row is not None and cell.column is not None:
                    set_cell(worksheet, cell.row, cell.column, str(cell.value))
    return workbook_bytes(workbook)


def inert_download(data: bytes, content_type: str) -> bytes:
    """A CSV or XLSX answer received from elsewhere (a node passing on the hub's), made inert;
    any other body as it is."""
    media = content_type.split(";", maxsplit=1)[0].strip().lower()
    if media == "text/csv":
        return inert_csv(data)
    if media == XLSX_MEDIA_TYPE:
        return inert_xlsx(data)
    return data


__all__ = ["CSV_MEDIA_TYPE", "XLSX_MEDIA_TYPE", "Sheet", "append_row", "csv_bytes",
           "inert_csv", "inert_download", "inert_xlsx", "is_dangerous", "set_cell",
           "workbook_bytes", "xlsx_bytes"]
