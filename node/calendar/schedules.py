"""A year's national schedule as a document: read from JSON or XLSX, validated, digested.

Every autumn the State Council publishes the next year's public holidays and the weekend days
worked in exchange (国务院办公厅关于××年部分节假日安排的通知).  A node holds one schedule per
year (node/calendar/service.py); this module reads the file an operator imports and the body
of the province's ``calendar.publish``, with the same rules for both:

* every date lies in the stated year, and no date is listed twice;
* a ``workday`` (班, 调休上班) falls on a Saturday or Sunday: it is a weekend worked;
* every day has a name (its holiday's Chinese name: 元旦, 春节, …).

A document that breaks any rule is refused whole, naming each bad row and field
(:class:`ScheduleImportError`).  Plain Python: no Flask, no database.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import warnings
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from node.calendar.models import ScheduleDayKind
from schemas.errors import ValidationFailed
from schemas.i18n import _

SATURDAY = 5
# A year's notice lists some thirty to forty days; a year has at most 366.
MAX_DAYS = 366
NAME_MAX = 64
REFERENCE_MAX = 200
# XLSX: the columns of a schedule sheet, and the Chinese words of the 类型 column.
XLSX_HEADINGS = ("日期", "类型", "节日")
KIND_WORDS: dict[str, ScheduleDayKind] = {
    "休": ScheduleDayKind.HOLIDAY,
    "holiday": ScheduleDayKind.HOLIDAY,
    "班": ScheduleDayKind.WORKDAY,
    "workday": ScheduleDayKind.WORKDAY,
}
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# what openpyxl raises for bytes that are no workbook (as node/catalog/workbook.py lists them)
_UNREADABLE: tuple[type[Exception], ...] = (
    zipfile.BadZipFile, zipfile.LargeZipFile, InvalidFileException, KeyError,
    SyntaxError,  # XML parse errors of the standard library and of lxml
    ValueError, TypeError, EOFError, OSError, IndexError,
)


@dataclass(frozen=True)
class ScheduleDay:
    day: dt.date
    kind: ScheduleDayKind
    name: str


@dataclass(frozen=True)
class ScheduleDocument:
    """One year's schedule: its days in date order and the notice it comes from."""

    year: int
    reference: str
    days: tuple[ScheduleDay, ...]

    @property
    def holidays(self) -> dict[dt.date, str]:
        return {d.day: d.name for d in self.days if d.kind is ScheduleDayKind.HOLIDAY}

    @property
    def workdays(self) -> dict[dt.date, str]:
        return {d.day: d.name for d in self.days if d.kind is ScheduleDayKind.WORKDAY}

    def days_body(self) -> list[dict[str, str]]:
        return [{"date": d.day.isoformat(), "kind": d.kind.value, "name": d.name}
                for d in self.days]

    @property
    def digest(self) -> str:
        """SHA-256 of the days as sorted JSON: the same days give the same digest, whatever
        file or envelope they came in (so importing the same schedule twice changes nothing)."""
        return schedule_digest(self.year, self.days_body())


def schedule_digest(year: int, days: Sequence[Mapping[str, str]]) -> str:
    text = orjson.dumps({"year": year, "days": list(days)}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(text).hexdigest()


@dataclass(frozen=True)
class RowProblem:
    """One bad field of one row: ``row`` counts from 1 (the JSON list position, or the
    worksheet's row number); None for the document itself."""

    row: int | None
    field: str
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "reason": self.reason}


class ScheduleImportError(ValidationFailed):
    """A schedule refused: ``details["rows"]`` lists every bad row and field; nothing changed."""

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        super().__init__(
            {},
            f"The holiday schedule has {len(problems)} problem(s); nothing was imported. "
            "Each is listed with its row, field and reason.",
        )
        self.problems = tuple(problems)
        self.details = {"rows": [problem.as_dict() for problem in self.problems]}


# -- reading --------------------------------------------------------------------------------


def _as_date(value: Any) -> dt.date | str:
    """A date from a JSON string or an XLSX cell; otherwise the reason it is not one."""
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0, 0):
            return "a date without a time of day"
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _ISO_DAY.match(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return f"not a date of the calendar: {value.strip()!r}"
    return f"not a date of the form YYYY-MM-DD: {value!r}"


def validate_rows(
    year: int, reference: str, rows: Sequence[tuple[int, Any, Any, Any]],
    problems: list[RowProblem] | None = None,
) -> ScheduleDocument:
    """The document of ``rows`` (row number, date, kind, name), or every problem raised."""
    problems = list(problems or [])
    if len(rows) > MAX_DAYS:
        problems.append(RowProblem(None, "days", f"at most {MAX_DAYS} days, not {len(rows)}"))
        raise ScheduleImportError(problems)
    if not rows:
        problems.append(RowProblem(None, "days", "a schedule lists at least one day"))
    if len(reference) > REFERENCE_MAX:
        problems.append(RowProblem(None, "source", f"at most {REFERENCE_MAX} characters"))
    seen: dict[dt.date, int] = {}
    days: list[ScheduleDay] = []
    for number, raw_date, raw_kind, raw_name in rows:
        day = _as_date(raw_date)
        if isinstance(day, str):
            problems.append(RowProblem(number, "date", day))
        elif day.year != year:
            problems.append(RowProblem(number, "date", f"{day} is not in {year}"))
        elif day in seen:
            problems.append(RowProblem(number, "date", f"{day} is listed twice "
                                                       f"(first in row {seen[day]})"))
        kind = KIND_WORDS.get(raw_kind.strip()) if isinstance(raw_kind, str) else None
        if kind is None:
            problems.append(RowProblem(number, "kind", "holiday (休) or workday (班), not "
                                                       f"{raw_kind!r}"))
        name = raw_name.strip() if isinstance(raw_name, str) else ""
        if not name:
            problems.append(RowProblem(number, "name", "every day needs its holiday's name"))
        elif len(name) > NAME_MAX:
            problems.append(RowProblem(number, "name", f"at most {NAME_MAX} characters"))
        if isinstance(day, dt.date) and kind is ScheduleDayKind.WORKDAY \
                and day.weekday() < SATURDAY:
            problems.append(RowProblem(number, "kind", f"{day} is a weekday: a workday (调休) "
                                                       "is a Saturday or Sunday worked"))
        if isinstance(day, dt.date) and day.year == year and day not in seen:
            seen[day] = number
            if kind is not None and name and len(name) <= NAME_MAX:
                days.append(ScheduleDay(day, kind, name))
    if problems:
        raise ScheduleImportError(problems)
    return ScheduleDocument(year, reference, tuple(sorted(days, key=lambda d: d.day)))


def read_json_schedule(content: bytes | Mapping[str, Any], year: int | None = None
                       ) -> ScheduleDocument:
    """A schedule from its JSON document (``{"year", "source", "days": [{"date", "kind",
    "name"}]}``); ``year``, when given, must be the document's."""
    if isinstance(content, bytes | bytearray):
        try:
            document = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise ScheduleImportError(
                [RowProblem(None, "file", _("not JSON: %(error)s", error=str(exc)))]) from exc
    else:
        document = content
    if not isinstance(document, Mapping):
        raise ScheduleImportError([RowProblem(None, "file", _("a JSON object is expected"))])
    problems: list[RowProblem] = []
    unknown = sorted(set(document) - {"year", "source", "days"})
    if unknown:
        problems.append(RowProblem(None, ", ".join(map(str, unknown)), "unknown field"))
    stated = document.get("year")
    if not isinstance(stated, int) or isinstance(stated, bool) or not 1900 <= stated <= 2199:
        problems.append(RowProblem(None, "year", "a year from 1900 to 2199 is required"))
        raise ScheduleImportError(problems)
    if year is not None and stated != year:
        problems.append(RowProblem(None, "year", f"the file is for {stated}, not {year}"))
    reference = document.get("source", "")
    if not isinstance(reference, str):
        problems.append(RowProblem(None, "source", "the notice's number, as text"))
        reference = ""
    days = document.get("days")
    if not isinstance(days, list):
        problems.append(RowProblem(None, "days", "a list of days is required"))
        raise ScheduleImportError(problems)
    rows: list[tuple[int, Any, Any, Any]] = []
    for number, item in enumerate(days, start=1):
        if not isinstance(item, Mapping):
            problems.append(RowProblem(number, "day", "an object with date, kind and name"))
            continue
        extra = sorted(set(item) - {"date", "kind", "name"})
        if extra:
            problems.append(RowProblem(number, ", ".join(map(str, extra)), "unknown field"))
        rows.append((number, item.get("date"), item.get("kind"), item.get("name")))
    return validate_rows(stated, reference.strip(), rows, problems)


def read_xlsx_schedule(content: bytes, year: int, reference: str = "") -> ScheduleDocument:
    """A schedule from a workbook's first sheet: a heading row 日期, 类型 (休/班), 节日, then
    one row a day.  Rows are named by their worksheet row number."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # styles openpyxl drops do not touch the data
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                sheet.reset_dimensions()
                lines = [
                    (number, tuple(values))
                    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
                    if number <= MAX_DAYS + 2 and any(
                        v is not None and not (isinstance(v, str) and not v.strip())
                        for v in values)
                ]
            finally:
                workbook.close()
    except _UNREADABLE as exc:
        raise ScheduleImportError(
            [RowProblem(None, "file", f"not a readable XLSX workbook ({exc})")]) from exc
    if not lines:
        raise ScheduleImportError([RowProblem(None, "file", _("the sheet is empty"))])
    heading_row, heading = lines[0]
    names = [str(v).strip() if v is not None else "" for v in heading]
    missing = [h for h in XLSX_HEADINGS if h not in names]
    if missing:
        raise ScheduleImportError([RowProblem(
            heading_row, "heading", f"the heading row needs the columns {'、'.join(XLSX_HEADINGS)}"
            f" (missing {'、'.join(missing)})")])
    where = [names.index(h) for h in XLSX_HEADINGS]

    def cell(values: tuple[Any, ...], index: int) -> Any:
        return values[index] if index < len(values) else None

    rows = [(number, *(cell(values, i) for i in where)) for number, values in lines[1:]]
    return validate_rows(year, reference.strip(), rows)


def read_schedule(content: bytes, year: int, *, filename: str = "", reference: str = ""
                  ) -> ScheduleDocument:
    """JSON or XLSX, told apart by the content (an XLSX file is a ZIP archive)."""
    if content[:2] == b"PK" or filename.lower().endswith(".xlsx"):
        return read_xlsx_schedule(content, year, reference)
    document = read_json_schedule(content, year)
    if reference and not document.reference:
        return ScheduleDocument(document.year, reference.strip(), document.days)
    return document


def document_from_body(body: Mapping[str, Any]) -> ScheduleDocument:
    """The schedule a ``calendar.publish`` body carries, under the same rules as a file."""
    return read_json_schedule({"year": body["year"], "source": body.get("source", ""),
                               "days": body["days"]})


__all__ = [
    "KIND_WORDS",
    "XLSX_HEADINGS",
    "RowProblem",
    "ScheduleDay",
    "ScheduleDocument",
    "ScheduleImportError",
    "document_from_body",
    "read_json_schedule",
    "read_schedule",
    "read_xlsx_schedule",
    "schedule_digest",
    "validate_rows",
]
