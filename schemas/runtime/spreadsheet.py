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

Numbers stay numbers, and a figure people read is a typed cell (:class:`Rate`,
:class:`Money`, :class:`LocalTime`, :class:`Fixed`): in XLSX a number with Excel's format
(``0.00%``, ``#,##0.00"元"``, a Beijing-time date to the minute), so that a column can be
summed; in CSV the text the page shows (``98.50%``, ``1640.00 元``, ``2026-12-06 15:50``).
Basis points and 分 stay in the API and on the wire.  Characters XML cannot hold (control
characters) are dropped from XLSX cells instead of failing the export.  :func:`inert_csv`
and :func:`inert_xlsx` make a file written elsewhere (the hub's answer a node passes on)
inert the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from schemas.i18n import _

FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"\A[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?%?\Z")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


SHANGHAI = ZoneInfo("Asia/Shanghai")
RATE_FORMAT = "0.00%"
MONEY_FORMAT = '#,##0.00"元"'
TIME_FORMAT = "yyyy-mm-dd hh:mm"


@dataclass(frozen=True)
class Rate:
    """A rate kept in basis points (9850), read as a percentage (98.50%)."""

    basis_points: int | None

    def xlsx(self) -> tuple[Any, str]:
        if self.basis_points is None:
            return None, RATE_FORMAT
        return int(self.basis_points) / 10000, RATE_FORMAT

    def text(self) -> str:
        return "" if self.basis_points is None else f"{int(self.basis_points) / 100:.2f}%"


@dataclass(frozen=True)
class Money:
    """An amount kept in 分 (164000), read in 元 with two decimals (1640.00 元)."""

    fen: int | None

    def xlsx(self) -> tuple[Any, str]:
        return (None if self.fen is None else int(self.fen) / 100), MONEY_FORMAT

    def text(self) -> str:
        return "" if self.fen is None else f"{int(self.fen) / 100:.2f} 元"


YUAN_MAX = Decimal(10**9)  # the API's fee_amount_fen goes to 10**11 fen


def fen_from_yuan(value: Any) -> int:
    """An amount in 元 as typed or read from a cell (``20``, ``20.5``, ``1,640.00``,
    ``20.50元``, the number 20.5) in 分; :class:`ValueError` with a Chinese reason for
    anything else (not a number, negative or too large, more than two decimals)."""
    if isinstance(value, bool):
        raise ValueError(_("请填写金额（元），例如 20 或 20.50"))
    if isinstance(value, float):
        value = repr(value)  # the shortest text of the number: 12.34, not 12.339999…
    try:
        amount = Decimal(str(value).strip().replace(",", "").removesuffix("元").strip())
    except InvalidOperation as exc:
        raise ValueError(_("请填写金额（元），例如 20 或 20.50")) from exc
    if not amount.is_finite() or amount < 0 or amount > YUAN_MAX:
        raise ValueError(_("金额须在 0 至 1000000000 元之间"))
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("金额最多两位小数（精确到分）"))
    return int(amount * 100)


@dataclass(frozen=True)
class LocalTime:
    """A moment (an aware datetime or its ISO text) read in Beijing time, to the minute."""

    moment: dt.datetime | str | None

    def local(self) -> dt.datetime | None:
        moment = self.moment
        if moment is None or moment == "":
            return None
        if isinstance(moment, str):
            moment = dt.datetime.fromisoformat(moment)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        return moment.astimezone(SHANGHAI).replace(second=0, microsecond=0)

    def xlsx(self) -> tuple[Any, str]:
        local = self.local()
        return (None if local is None else local.replace(tzinfo=None)), TIME_FORMAT

    def text(self) -> str:
        local = self.local()
        return "" if local is None else local.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Fixed:
    """A number read with a fixed count of decimals (a composite score: 0.6444)."""

    value: float | int | None
    places: int = 2

    def xlsx(self) -> tuple[Any, str]:
        number_format = "0." + "0" * self.places if self.places else "0"
        if self.value is None:
            return None, number_format
        return round(float(self.value), self.places), number_format

    def text(self) -> str:
        return "" if self.value is None else f"{float(self.value):.{self.places}f}"


TYPED_CELLS = (Rate, Money, LocalTime, Fixed)


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
    """One CSV cell: a typed cell as the page shows it; text that could be a formula gets a
    leading ``'``."""
    if isinstance(value, TYPED_CELLS):
        return value.text()
    value = _plain(value)
    if isinstance(value, str) and is_dangerous(value):
        return "'" + value
    return value


@dataclass
class Sheet:
    """A titled table: headings, rows of cells, and each column's width (in characters) when
    it is not the spreadsheet program's default."""

    title: str
    headings: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    widths: list[int] | None = None


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
    if isinstance(value, TYPED_CELLS):
        cell.value, cell.number_format = value.xlsx()
        return cell
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


HEADING_FONT = Font(bold=True)
HEADING_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")


def write_table(worksheet: Worksheet, sheet: Sheet) -> None:
    """The one table writer of every XLSX: ``sheet``'s headings bold on a shaded row (columns
    as wide as ``sheet.widths``), frozen and filtered, then its rows; every cell inert
    (:func:`set_cell`), typed cells with their formats, ``None`` blank."""
    for column, heading in enumerate(sheet.headings, start=1):
        cell = set_cell(worksheet, 1, column, heading)
        cell.font = HEADING_FONT
        cell.fill = HEADING_FILL
        if sheet.widths is not None:
            worksheet.column_dimensions[get_column_letter(column)].width = sheet.widths[column - 1]
    for row, values in enumerate(sheet.rows, start=2):
        for column, value in enumerate(values, start=1):
            set_cell(worksheet, row, column, value)
    worksheet.freeze_panes = "A2"
    last = get_column_letter(max(len(sheet.headings), 1))
    worksheet.auto_filter.ref = f"A1:{last}{len(sheet.rows) + 1}"


def new_workbook() -> Workbook:
    """A workbook without openpyxl's default sheet, for :func:`write_table` to fill."""
    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    return workbook


def workbook_bytes(workbook: Workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """A workbook of ``sheets`` (:func:`write_table`); dates and times as their ISO text, an
    empty cell as an empty string."""
    workbook = new_workbook()
    for sheet in sheets:
        rows = [[_plain(v) if isinstance(v, dt.date | dt.time) or v is None else v
                 for v in values] for values in sheet.rows]
        write_table(workbook.create_sheet(sheet.title[:31]),
                    Sheet(sheet.title, sheet.headings, rows, sheet.widths))
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


__all__ = ["CSV_MEDIA_TYPE", "XLSX_MEDIA_TYPE", "Fixed", "LocalTime", "Money", "Rate",
           "Sheet", "csv_bytes", "inert_csv", "inert_download", "inert_xlsx", "is_dangerous",
           "new_workbook", "set_cell", "workbook_bytes", "write_table", "xlsx_bytes"]
