"""Export and import of the whole catalog, as a JSON document or as an XLSX workbook.

The JSON document is the exchange format; the workbook is the same document laid out as one
sheet per entity with Chinese headings, for the people who keep the catalog in a spreadsheet.
An import validates every item first and reports every problem as
``{"sheet", "row", "column", "reason"}``; only a catalog without problems is applied, as
upserts by code through :class:`~node.catalog.service.CatalogService`. The module flushes,
never commits: the caller owns the transaction.

Import semantics: each item of the document describes the whole state of that item, so a
field left out (a blank cell) takes its default, except a matter's ``materials`` and
``powers``, which are kept when the document does not carry them at all. Nothing is deleted
or retired by an import; a retired matter present in the document is reinstated.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from node.api.schemas import DepartmentSchema, MatterSchema, StaffMemberSchema, WindowSchema
from node.catalog.models import (
    POWERS,
    Department,
    HandlingType,
    MaterialForm,
    Matter,
    MatterCategory,
    StaffMember,
    StaffType,
    Window,
)
from node.catalog.service import CatalogService, matter_rule_violations
from schemas.divisions import Level
from schemas.errors import Conflict, NotFound, ValidationFailed
from schemas.messages import PRACTICAL_FIELDS
from schemas.runtime.database import utcnow
from schemas.runtime.spreadsheet import Money, fen_from_yuan, set_cell, workbook_bytes

FORMAT = "tongban.catalog"
VERSION = 1
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The document's entity lists, in the order they are validated and applied.
ENTITIES: tuple[str, ...] = ("departments", "windows", "staff", "matters")
DOCUMENT_KEYS = frozenset({"format", "version", "exported_at", "node", *ENTITIES})

# A workbook sheet may hold at most this many rows: the upload size is capped, but a
# compressed workbook can still unfold into far more rows than any center's catalog has.
MAX_SHEET_ROWS = 50_000

MATTER_FIELDS: tuple[str, ...] = (
    "code",
    "name",
    "category",
    "department_code",
    "window_code",
    "handling_level",
    "handling_type",
    "notify_and_commit",
    "deemed_approval",
    "legal_limit_days",
    "promised_limit_days",
    "should_enter",
    "entered",
    "legal_basis",
    "procedure",
    "conditions",
    "fee_basis",
    "fee_standard",
    "fee_amount_fen",
    "complaint_channel",
    "window_authority",
    "keywords",
    *PRACTICAL_FIELDS,
)
MATERIAL_FIELDS: tuple[str, ...] = ("name", "required", "form", "copies", "note")

Path = tuple[str | int, ...]


# -- problems and where they are ---------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One bad cell or item: the sheet (or entity list), row, column (or field) and reason."""

    sheet: str
    row: int | None
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "reason": self.reason}


def path_text(path: Path) -> str:
    """``("materials", 0, "name")`` as ``materials[1].name`` (positions count from 1, like rows)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class Origin:
    """Where one item of a document came from, so that a problem can name it.

    ``columns`` maps a field path (``"legal_limit_days"``, ``"powers.accept"``) to the column
    heading it was read from; a field without a heading is named by its path. ``children``
    holds the origins of list elements kept elsewhere (a matter's materials in their own
    sheet). ``hints`` adds the accepted values to any reason about that field.
    """

    sheet: str
    row: int | None
    columns: Mapping[str, str] = field(default_factory=dict)
    children: Mapping[str, Sequence[Origin]] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)

    def problem(self, path: Path, reason: str) -> Problem:
        """The problem ``reason`` about the field at ``path`` of this item."""
        if len(path) >= 2 and isinstance(path[0], str) and isinstance(path[1], int):
            elements = self.children.get(path[0], ())
            if 0 <= path[1] < len(elements):
                return elements[path[1]].problem(path[2:], reason)
        for end in range(len(path), 0, -1):
            key = path_text(path[:end])
            if key in self.columns:
                hint = self.hints.get(key)
                return Problem(
                    self.sheet, self.row, self.columns[key], f"{reason} {hint}" if hint else reason
                )
        return Problem(self.sheet, self.row, path_text(path) or None, reason)


@dataclass
class CatalogSource:
    """A catalog document to import, where each item came from, and problems found reading it.

    ``origins`` is keyed by ``(entity, index in the entity list)``; an item without an
    origin is named as in a JSON document: sheet = the entity list, row = its position from 1.
    """

    document: Any
    origins: dict[tuple[str, int], Origin] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def origin(self, entity: str, index: int) -> Origin:
        return self.origins.get((entity, index)) or Origin(entity, index + 1)


class CatalogImportError(ValidationFailed):
    """An import found problems and changed nothing; ``details["rows"]`` lists every one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(
            {},
            f"The catalog has {len(problems)} problem(s); nothing was imported. "
            "Each is listed with its sheet, row, column and reason.",
        )
        self.problems = tuple(problems)
        self.details = {"rows": [problem.as_dict() for problem in self.problems]}


class UnreadableWorkbook(ValidationFailed):
    """The upload is not an XLSX workbook, or not one holding a catalog."""

    code = "unreadable_workbook"

    def __init__(self, reason: str) -> None:
        super().__init__(
            {"file": [reason]}, f"The upload is not a readable catalog workbook: {reason}"
        )


_SHEET_RANK = {
    "document": 0,
    "departments": 1,
    "windows": 2,
    "staff": 3,
    "matters": 4,
    "部门": 1,
    "窗口": 2,
    "人员": 3,
    "事项": 4,
    "申报材料": 5,
}


def _in_order(problems: Iterable[Problem]) -> list[Problem]:
    """Problems without repeats, by sheet and row; a row's problems keep their order."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (_SHEET_RANK.get(p.sheet, 9), p.sheet, p.row or 0))


def _flatten(messages: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """marshmallow's nested error messages as ``(field path, message)`` pairs."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            yield from _flatten(value, path if key == "_schema" else (*path, key))
    elif isinstance(messages, list | tuple):
        for message in messages:
            yield from _flatten(message, path)
    else:
        yield path, str(messages)


# -- the import report -------------------------------------------------------------------------


def _counts() -> dict[str, int]:
    return dict.fromkeys(ENTITIES, 0)


@dataclass
class ImportReport:
    """How many items of each entity an import created and updated (reinstated: retired matters)."""

    created: dict[str, int] = field(default_factory=_counts)
    updated: dict[str, int] = field(default_factory=_counts)
    reinstated: dict[str, int] = field(default_factory=lambda: {"matters": 0})

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": dict(self.created),
            "updated": dict(self.updated),
            "reinstated": dict(self.reinstated),
        }


# -- validation ----------------------------------------------------------------------------------


@dataclass
class _Entry:
    """One item of the document: as given, as loaded (the valid fields), and where it was."""

    entity: str
    raw: Any
    data: dict[str, Any]
    origin: Origin
    valid: bool

    @property
    def code(self) -> str | None:
        code = self.raw.get("code") if isinstance(self.raw, Mapping) else None
        return code if isinstance(code, str) and code else None


@dataclass
class _Stored:
    """The catalog as the database holds it before the import."""

    departments: dict[str, Department]
    windows: dict[str, Window]
    staff: set[str]
    matters: dict[str, Matter]


@dataclass
class ImportPlan:
    """A validated catalog, ready to apply: the loaded items of each entity list."""

    entries: dict[str, list[_Entry]]
    stored: _Stored


def _schemas() -> dict[str, Schema]:
    return {
        "departments": DepartmentSchema(),
        "windows": WindowSchema(),
        "staff": StaffMemberSchema(),
        "matters": MatterSchema(),
    }


def _load(entity: str, schema: Schema, raw: Any, origin: Origin) -> tuple[_Entry, list[Problem]]:
    try:
        data = dict(schema.load(raw))
    except ValidationError as exc:
        valid_data = exc.valid_data if isinstance(exc.valid_data, Mapping) else {}
        problems = [origin.problem(path, reason) for path, reason in _flatten(exc.messages)]
        return _Entry(entity, raw, dict(valid_data), origin, valid=False), problems
    if entity == "staff":
        # The item is the record's whole state: no department or window means none.
        data.setdefault("department_code", None)
        data.setdefault("window_code", None)
    if entity == "matters" and isinstance(raw, Mapping) and "materials" not in raw:
        data.pop("materials", None)  # not carried: keep the matter's list as it is
    return _Entry(entity, raw, data, origin, valid=True), []


def _entity_lists(document: Any, problems: list[Problem]) -> dict[str, list[Any]]:
    """The document's entity lists, after checking its outer structure."""
    whole = Origin("document", None)
    lists: dict[str, list[Any]] = {entity: [] for entity in ENTITIES}
    if not isinstance(document, Mapping):
        problems.append(whole.problem((), "the catalog document must be a JSON object"))
        return lists
    if document.get("format") != FORMAT:
        problems.append(whole.problem(("format",), f"must be {FORMAT!r}"))
    version = document.get("version")
    if isinstance(version, bool) or version != VERSION:
        problems.append(whole.problem(("version",), f"must be {VERSION}"))
    problems.extend(
        whole.problem((str(key),), "Unknown field.")
        for key in document
        if key not in DOCUMENT_KEYS
    )
    for entity in ENTITIES:
        items = document.get(entity, [])
        if isinstance(items, list):
            lists[entity] = items
        else:
            problems.append(whole.problem((entity,), "must be a list"))
    return lists


def _check_duplicates(entries: Sequence[_Entry]) -> Iterator[Problem]:
    first: dict[str, _Entry] = {}
    for entry in entries:
        code = entry.code
        if code is None:
            continue
        if code in first:
            yield entry.origin.problem(
                ("code",),
                f"code {code!r} appears more than once (first in row {first[code].origin.row})",
            )
        else:
            first.setdefault(code, entry)


class _Validator:
    """Checks a loaded document against itself and against the stored catalog."""

    def __init__(self, entries: dict[str, list[_Entry]], stored: _Stored) -> None:
        self.entries = entries
        self.stored = stored
        self.problems: list[Problem] = []
        self.departments = {
            code for code, d in stored.departments.items() if d.retired_at is None
        } | {e.code for e in entries["departments"] if e.code}
        self.windows = {
            code for code, w in stored.windows.items() if w.retired_at is None
        } | {e.code for e in entries["windows"] if e.code}
        self.matter_codes = {e.code for e in entries["matters"] if e.code}

    def run(self) -> list[Problem]:
        for entry in self.entries["departments"]:
            self._check_not_retired(entry, self.stored.departments, "department")
        for entry in self.entries["windows"]:
            self._check_not_retired(entry, self.stored.windows, "window")
            self._check_window(entry)
        for entry in self.entries["staff"]:
            self._check_reference(entry, "department_code", self.departments, "department")
            self._check_reference(entry, "window_code", self.windows, "window")
        for entry in self.entries["matters"]:
            self._check_matter(entry)
        return self.problems

    def _check_not_retired(self, entry: _Entry, stored: Mapping[str, Any], what: str) -> None:
        existing = stored.get(entry.code or "")
        if existing is not None and existing.retired_at is not None:
            self.problems.append(
                entry.origin.problem(
                    ("code",),
                    f"{what} {entry.code!r} is retired in this center; an import cannot bring "
                    "it back",
                )
            )

    def _check_reference(
        self, entry: _Entry, name: str, available: set[str], what: str
    ) -> bool:
        code = entry.data.get(name)
        if code and code not in available:
            self.problems.append(
                entry.origin.problem(
                    (name,), f"no active {what} with code {code!r} here or in the import"
                )
            )
            return False
        return bool(code)

    def _check_window(self, entry: _Entry) -> None:
        raw_codes = entry.raw.get("department_codes") if isinstance(entry.raw, Mapping) else None
        for index, code in enumerate(raw_codes if isinstance(raw_codes, list) else []):
            if isinstance(code, str) and code not in self.departments:
                self.problems.append(
                    entry.origin.problem(
                        ("department_codes", index),
                        f"no active department with code {code!r} here or in the import",
                    )
                )
        stored = self.stored.windows.get(entry.code or "")
        if stored is None or not entry.valid:
            return
        served = set(entry.data["department_codes"])
        stranded = sorted(
            matter.code
            for matter in self.stored.matters.values()
            if matter.retired_at is None
            and matter.code not in self.matter_codes
            and matter.window_id == stored.id
            and matter.department.code not in served
        )
        if stranded:
            self.problems.append(
                entry.origin.problem(
                    ("department_codes",),
                    "the window handles matters of departments it would no longer serve: "
                    + ", ".join(stranded),
                )
            )

    def _served_by(self, window_code: str) -> set[str] | None:
        """The departments a window serves after the import (None when that is unknown)."""
        for entry in self.entries["windows"]:
            if entry.code == window_code:
                return set(entry.data["department_codes"]) if entry.valid else None
        stored = self.stored.windows.get(window_code)
        return {d.code for d in stored.departments} if stored is not None else None

    def _check_matter(self, entry: _Entry) -> None:
        data = entry.data
        has_department = self._check_reference(
            entry, "department_code", self.departments, "department"
        )
        has_window = self._check_reference(entry, "window_code", self.windows, "window")
        if has_department and has_window:
            served = self._served_by(data["window_code"])
            if served is not None and data["department_code"] not in served:
                self.problems.append(
                    entry.origin.problem(
                        ("window_code",),
                        f"window {data['window_code']!r} does not serve department "
                        f"{data['department_code']!r}",
                    )
                )
        stored = self.stored.matters.get(entry.code or "")
        self._check_rules(entry, stored)
        if stored is not None and stored.retired_at is not None:
            self._check_reinstatable(entry, stored)

    def _check_rules(self, entry: _Entry, stored: Matter | None) -> None:
        needed = ("handling_type", "legal_limit_days", "promised_limit_days", "entered")
        if not all(name in entry.data for name in needed):
            return  # a bad or missing value is reported already; the rules need all four
        powers = {**(stored.powers if stored is not None else {}), **entry.data.get("powers", {})}
        values = {**entry.data, "window_code": entry.data.get("window_code"), "powers": powers}
        for name, reasons in matter_rule_violations(values).items():
            path: Path = (name,)
            if name == "powers":
                path = ("powers", next((p for p in POWERS if powers.get(p)), POWERS[0]))
            self.problems.extend(entry.origin.problem(path, reason) for reason in reasons)

    def _check_reinstatable(self, entry: _Entry, stored: Matter) -> None:
        if stored.department.retired_at is not None or (
            stored.window is not None and stored.window.retired_at is not None
        ):
            self.problems.append(
                entry.origin.problem(
                    ("code",),
                    f"matter {entry.code!r} is retired and its former department or window is "
                    "retired too, so an import cannot reinstate it",
                )
            )


# -- the service -----------------------------------------------------------------------------------


class CatalogExchange:
    """Export the catalog as a document; validate and apply a document as upserts by code."""

    def __init__(self, session: Session, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.catalog = CatalogService(session)
        self.clock = clock

    # -- export ----------------------------------------------------------------------------------

    def export_document(self, node_code: str | None = None) -> dict[str, Any]:
        """The active catalog: departments, windows, active staff and matters not retired.

        Links to retired departments or windows are left out, so that the document imports
        back as it is.
        """
        departments = self.catalog.list_departments()
        windows = self.catalog.list_windows()
        active_departments = {d.code for d in departments}
        active_windows = {w.code for w in windows}
        staff = self.session.scalars(
            select(StaffMember)
            .options(selectinload(StaffMember.department), selectinload(StaffMember.window))
            .where(StaffMember.active.is_(True))
            .order_by(StaffMember.code)
        ).all()
        matters = self.session.scalars(
            select(Matter)
            .options(
                selectinload(Matter.materials),
                selectinload(Matter.department),
                selectinload(Matter.window),
            )
            .where(Matter.retired_at.is_(None))
            .order_by(Matter.code)
        ).all()
        return {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": self.clock().isoformat(),
            "node": node_code,
            "departments": [{"code": d.code, "name": d.name} for d in departments],
            "windows": [
                {
                    "code": w.code,
                    "name": w.name,
                    "location": w.location,
                    "department_codes": [
                        d.code for d in w.departments if d.code in active_departments
                    ],
                }
                for w in windows
            ],
            "staff": [_staff_item(m, active_departments, active_windows) for m in staff],
            "matters": [_matter_item(m) for m in matters],
        }

    # -- import ----------------------------------------------------------------------------------

    def validate(self, source: CatalogSource | Mapping[str, Any]) -> ImportPlan:
        """Check all of ``source``; raise :class:`CatalogImportError` listing every problem."""
        if not isinstance(source, CatalogSource):
            source = CatalogSource(source)
        problems = list(source.problems)
        lists = _entity_lists(source.document, problems)
        schemas = _schemas()
        entries: dict[str, list[_Entry]] = {}
        for entity in ENTITIES:
            entries[entity] = []
            for index, raw in enumerate(lists[entity]):
                entry, found = _load(entity, schemas[entity], raw, source.origin(entity, index))
                entries[entity].append(entry)
                problems.extend(found)
            problems.extend(_check_duplicates(entries[entity]))
        stored = self._stored()
        problems.extend(_Validator(entries, stored).run())
        if problems:
            raise CatalogImportError(_in_order(problems))
        return ImportPlan(entries, stored)

    def import_document(self, source: CatalogSource | Mapping[str, Any]) -> ImportReport:
        """Validate ``source`` and, when it has no problem at all, apply it as upserts by code.

        Raises :class:`CatalogImportError` (nothing changed) listing every problem otherwise.
        """
        plan = self.validate(source)
        report = ImportReport()
        # A savepoint, so that a failure half-way leaves the caller's transaction as it was.
        with self.session.begin_nested():
            self._apply_departments(plan.entries["departments"], plan.stored, report)
            narrowed = self._apply_windows(plan.entries["windows"], plan.stored, report)
            self._apply_staff(plan.entries["staff"], plan.stored, report)
            self._apply_matters(plan.entries["matters"], plan.stored, report)
            for entry in narrowed:  # now that matters have moved, windows may stop serving
                with _reported(entry):
                    self.catalog.update_window(
                        entry.data["code"], {"department_codes": entry.data["department_codes"]}
                    )
        return report

    def _stored(self) -> _Stored:
        windows = self.session.scalars(
            select(Window).options(selectinload(Window.departments))
        ).all()
        matters = self.session.scalars(
            select(Matter).options(selectinload(Matter.department), selectinload(Matter.window))
        ).all()
        return _Stored(
            departments={d.code: d for d in self.session.scalars(select(Department))},
            windows={w.code: w for w in windows},
            staff=set(self.session.scalars(select(StaffMember.code))),
            matters={m.code: m for m in matters},
        )

    def _apply_departments(
        self, entries: Sequence[_Entry], stored: _Stored, report: ImportReport
    ) -> None:
        for entry in entries:
            code, name = entry.data["code"], entry.data["name"]
            with _reported(entry):
                if code in stored.departments:
                    self.catalog.update_department(code, name=name)
                    report.updated["departments"] += 1
                else:
                    self.catalog.create_department(code, name)
                    report.created["departments"] += 1

    def _apply_windows(
        self, entries: Sequence[_Entry], stored: _Stored, report: ImportReport
    ) -> list[_Entry]:
        """Create and update windows; return those that must stop serving some departments.

        Those keep their current departments until the matters have moved, since a window
        may not stop serving a department whose matters it still handles.
        """
        narrowed: list[_Entry] = []
        for entry in entries:
            data = entry.data
            window = stored.windows.get(data["code"])
            if window is None:
                with _reported(entry):
                    self.catalog.create_window(
                        data["code"], data["name"], data["location"], data["department_codes"]
                    )
                report.created["windows"] += 1
                continue
            codes = list(dict.fromkeys(data["department_codes"]))
            kept = [d.code for d in window.departments if d.retired_at is None]
            if set(kept) - set(codes):
                narrowed.append(entry)
            changes = {
                "name": data["name"],
                "location": data["location"],
                "department_codes": list(dict.fromkeys([*codes, *kept])),
            }
            with _reported(entry):
                self.catalog.update_window(data["code"], changes)
            report.updated["windows"] += 1
        return narrowed

    def _apply_staff(
        self, entries: Sequence[_Entry], stored: _Stored, report: ImportReport
    ) -> None:
        for entry in entries:
            data = entry.data
            with _reported(entry):
                if data["code"] in stored.staff:
                    changes = {k: v for k, v in data.items() if k != "code"}
                    self.catalog.update_staff_member(data["code"], changes)
                    report.updated["staff"] += 1
                else:
                    self.catalog.create_staff_member(data)
                    report.created["staff"] += 1

    def _apply_matters(
        self, entries: Sequence[_Entry], stored: _Stored, report: ImportReport
    ) -> None:
        for entry in entries:
            data = entry.data
            matter = stored.matters.get(data["code"])
            with _reported(entry):
                if matter is None:
                    self.catalog.create_matter(data)
                    report.created["matters"] += 1
                    continue
                if matter.retired_at is not None:
                    self.catalog.reinstate_matter(data["code"])
                    report.reinstated["matters"] += 1
                self.catalog.update_matter(
                    data["code"], {k: v for k, v in data.items() if k != "code"}
                )
                report.updated["matters"] += 1


@contextmanager
def _reported(entry: _Entry) -> Iterator[None]:
    """Service calls for ``entry``: a rule they break becomes a problem of that item.

    Validation catches these beforehand; this keeps a rule the validation does not know
    about reported in the same shape, with nothing changed.
    """
    try:
        yield
    except ValidationFailed as exc:
        fields = exc.details.get("fields") or {"code": [exc.message]}
        raise CatalogImportError(
            [entry.origin.problem(path, reason) for path, reason in _flatten(fields)]
        ) from exc
    except (Conflict, NotFound) as exc:
        raise CatalogImportError([entry.origin.problem(("code",), exc.message)]) from exc


def _value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def _staff_item(
    member: StaffMember, departments: set[str], windows: set[str]
) -> dict[str, Any]:
    department = member.department.code if member.department is not None else None
    window = member.window.code if member.window is not None else None
    return {
        "code": member.code,
        "name": member.name,
        "staff_type": _value(member.staff_type),
        "department_code": department if department in departments else None,
        "window_code": window if window in windows else None,
        "position": member.position,
        "active": member.active,
    }


def _matter_item(matter: Matter) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name in MATTER_FIELDS:
        if name == "department_code":
            item[name] = matter.department.code
        elif name == "window_code":
            item[name] = matter.window.code if matter.window is not None else None
        else:
            item[name] = _value(getattr(matter, name))
    item["powers"] = matter.powers
    item["materials"] = [
        {name: _value(getattr(material, name)) for name in MATERIAL_FIELDS}
        for material in matter.materials
    ]
    return item


# -- the workbook ----------------------------------------------------------------------------------


class Kind(enum.Enum):
    """How a column's cells are written and read."""

    CODE = "code"  # an identifier: trimmed text
    TEXT = "text"  # free text, kept as it is
    INTEGER = "integer"
    BOOLEAN = "boolean"  # 是 / 否
    CHOICE = "choice"  # an enum, shown by its Chinese label
    CODES = "codes"  # a list of identifiers (or keywords) joined by 、
    MONEY = "money"  # 分 in the document, a number of 元 (two decimals) in the cell


YES, NO = "是", "否"
_TRUE_WORDS = frozenset({"是", "y", "yes", "true", "1", "√", "✓"})
_FALSE_WORDS = frozenset({"否", "n", "no", "false", "0", "×", "✗"})
_CODE_SEPARATORS = re.compile(r"[、,，;；\s]+")
_INTEGER = re.compile(r"^[+-]?\d+$")

CATEGORY_LABELS: dict[str, str] = {
    MatterCategory.ADMINISTRATIVE_LICENCE: "行政许可",
    MatterCategory.NON_LICENCE_APPROVAL: "非行政许可审批",
    MatterCategory.PUBLIC_SERVICE: "公共服务",
}
HANDLING_TYPE_LABELS: dict[str, str] = {
    HandlingType.IMMEDIATE: "即办件",
    HandlingType.PROMISED: "承诺件",
}
LEVEL_LABELS: dict[str, str] = {
    Level.PROVINCE: "省级",
    Level.CITY: "市级",
    Level.COUNTY: "县级",
    Level.TOWNSHIP: "乡镇级",
}
STAFF_TYPE_LABELS: dict[str, str] = {
    StaffType.CIVIL_SERVANT: "公务员",
    StaffType.PUBLIC_INSTITUTION: "事业单位",
    StaffType.TEMPORARY: "临时工",
}
MATERIAL_FORM_LABELS: dict[str, str] = {
    MaterialForm.ORIGINAL: "原件",
    MaterialForm.COPY: "复印件",
    MaterialForm.ORIGINAL_AND_COPY: "原件及复印件",
    MaterialForm.ELECTRONIC: "电子材料",
}


@dataclass(frozen=True)
class Column:
    """One column of a sheet: the document field it holds, its heading and its cells' kind."""

    path: str
    heading: str
    kind: Kind
    width: int = 14
    labels: Mapping[str, str] = field(default_factory=dict)  # value -> Chinese label

    @property
    def hint(self) -> str | None:
        """The accepted values, added to any problem reported in this column."""
        if self.kind is Kind.BOOLEAN:
            return f"(fill in {YES} or {NO})"
        if self.kind is Kind.CHOICE:
            return "(fill in one of: " + "、".join(self.labels.values()) + ")"
        return None

    def to_cell(self, value: Any) -> Any:
        """The cell value showing the document value ``value``."""
        if value is None:
            return None
        if self.kind is Kind.BOOLEAN:
            return YES if value else NO
        if self.kind is Kind.CHOICE:
            return self.labels.get(str(value), value)
        if self.kind is Kind.CODES:
            return "、".join(value)
        if self.kind is Kind.MONEY and isinstance(value, int) and not isinstance(value, bool):
            return Money(value)  # a number formatted #,##0.00"元"
        if isinstance(value, str):
            return ILLEGAL_CHARACTERS_RE.sub("", value)
        return value

    def from_cell(self, value: Any) -> Any:
        """The document value of a cell; None for a blank cell.

        A value that cannot be understood is passed on as it is, for the schema to name it;
        an amount in 元 that is not one raises :class:`ValueError` with the reason.
        """
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if self.kind is Kind.TEXT:
            return value if isinstance(value, str) else str(value)
        if self.kind is Kind.INTEGER:
            return _integer_from_cell(value)
        if self.kind is Kind.BOOLEAN:
            return _boolean_from_cell(value)
        if self.kind is Kind.MONEY:
            return fen_from_yuan(value)
        text = _code_text(value)
        if self.kind is Kind.CHOICE:
            return next((str(v) for v, label in self.labels.items() if text in (label, v)), text)
        if self.kind is Kind.CODES:
            return [code for code in _CODE_SEPARATORS.split(text) if code]
        return text


def _code_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a code typed as a number, e.g. 1001
    return str(value).strip()


def _integer_from_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.match(value.strip()):
        return int(value.strip())
    return value


def _boolean_from_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    return value


@dataclass(frozen=True)
class SheetLayout:
    """One sheet: its title, the document list it holds and its columns."""

    title: str
    entity: str
    columns: tuple[Column, ...]
    # columns of older workbooks, still read (never written): same path, older heading
    legacy: tuple[Column, ...] = ()

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.path == name)


def _code(name: str, heading: str, width: int = 16) -> Column:
    return Column(name, heading, Kind.CODE, width)


def _text(name: str, heading: str, width: int = 30) -> Column:
    return Column(name, heading, Kind.TEXT, width)


def _yes_no(name: str, heading: str, width: int = 10) -> Column:
    return Column(name, heading, Kind.BOOLEAN, width)


def _number(name: str, heading: str, width: int = 12) -> Column:
    return Column(name, heading, Kind.INTEGER, width)


def _choice(name: str, heading: str, labels: Mapping[str, str], width: int = 14) -> Column:
    return Column(name, heading, Kind.CHOICE, width, labels)


POWER_HEADINGS = {
    "accept": "受理权",
    "review": "审核权",
    "coordinate": "协调处置权",
    "deliver": "送达权",
    "litigate": "应诉代理权",
    "issue": "制证权",
    "approve": "审批权",
}

DEPARTMENT_SHEET = SheetLayout(
    "部门", "departments", (_code("code", "部门编码"), _text("name", "部门名称", 30))
)
WINDOW_SHEET = SheetLayout(
    "窗口",
    "windows",
    (
        _code("code", "窗口编码"),
        _text("name", "窗口名称", 24),
        _text("location", "窗口位置", 20),
        Column("department_codes", "服务部门编码", Kind.CODES, 30),
    ),
)
STAFF_SHEET = SheetLayout(
    "人员",
    "staff",
    (
        _code("code", "人员编码"),
        _text("name", "姓名", 12),
        _choice("staff_type", "人员类型", STAFF_TYPE_LABELS, 12),
        _code("department_code", "所属部门编码"),
        _code("window_code", "所在窗口编码"),
        _text("position", "岗位", 16),
        _yes_no("active", "在岗"),
    ),
)
MATTER_SHEET = SheetLayout(
    "事项",
    "matters",
    (
        _code("code", "事项编码", 22),
        _text("name", "事项名称", 30),
        _choice("category", "事项类型", CATEGORY_LABELS, 16),
        _code("department_code", "主管部门编码", 14),
        _code("window_code", "窗口编码", 12),
        _choice("handling_level", "办理层级", LEVEL_LABELS, 10),
        _choice("handling_type", "办件类型", HANDLING_TYPE_LABELS, 10),
        _yes_no("notify_and_commit", "告知承诺制", 12),
        _yes_no("deemed_approval", "超时默认许可", 14),
        _number("legal_limit_days", "法定时限（工作日）", 20),
        _number("promised_limit_days", "承诺时限（工作日）", 20),
        _yes_no("should_enter", "应进", 8),
        _yes_no("entered", "实进", 8),
        _text("legal_basis", "设立依据", 40),
        _text("procedure", "办理程序", 30),
        _text("conditions", "申请条件", 40),
        _text("fee_basis", "收费依据", 24),
        _text("fee_standard", "收费标准", 24),
        Column("fee_amount_fen", "收费金额（元）", Kind.MONEY, 16),
        _text("complaint_channel", "投诉渠道", 20),
        _text("window_authority", "窗口权限", 24),
        *(_yes_no(f"powers.{power}", POWER_HEADINGS[power], 12) for power in POWERS),
        # a workbook without this column (made before keywords) leaves keywords unchanged
        Column("keywords", "关键词", Kind.CODES, 30),
        # the guide's practical fields, after keywords (absent columns: unchanged)
        _text("service_address", "办理地点", 24),
        _text("office_hours", "办公时间", 20),
        _text("enquiry_phone", "咨询电话", 16),
        _text("complaint_phone", "监督投诉电话", 16),
    ),
    # workbooks made before the fee was shown in 元
    legacy=(_number("fee_amount_fen", "收费金额（分）", 16),),
)
MATERIAL_SHEET = SheetLayout(
    "申报材料",
    "materials",
    (
        _code("matter_code", "事项编码", 22),
        _text("name", "材料名称", 36),
        _yes_no("required", "是否必需"),
        _choice("form", "材料形式", MATERIAL_FORM_LABELS, 14),
        _number("copies", "份数", 8),
        _text("note", "备注", 30),
    ),
)
SHEETS: tuple[SheetLayout, ...] = (
    DEPARTMENT_SHEET,
    WINDOW_SHEET,
    STAFF_SHEET,
    MATTER_SHEET,
    MATERIAL_SHEET,
)

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", start_color="DDEBF7", end_color="DDEBF7")


def _field_value(item: Mapping[str, Any], path: str) -> Any:
    value: Any = item
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _sheet_records(layout: SheetLayout, document: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    if layout is MATERIAL_SHEET:
        for matter in document.get("matters", []):
            for material in matter.get("materials", []):
                yield {"matter_code": matter["code"], **material}
    else:
        yield from document.get(layout.entity, [])


def _write_sheet(sheet: Worksheet, layout: SheetLayout, document: Mapping[str, Any]) -> None:
    for index, column in enumerate(layout.columns, start=1):
        cell = set_cell(sheet, 1, index, column.heading)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    records = list(_sheet_records(layout, document))
    for row, record in enumerate(records, start=2):
        for index, column in enumerate(layout.columns, start=1):
            # inert (schemas/runtime/spreadsheet.py): text starting with "=" is never a formula
            set_cell(sheet, row, index, column.to_cell(_field_value(record, column.path)))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(layout.columns))}{len(records) + 1}"
    _add_choice_lists(sheet, layout)


def _add_choice_lists(sheet: Worksheet, layout: SheetLayout) -> None:
    """Offer the accepted values of 是/否 and enum columns as drop-down lists."""
    for index, column in enumerate(layout.columns, start=1):
        if column.kind is Kind.BOOLEAN:
            choices = [YES, NO]
        elif column.kind is Kind.CHOICE:
            choices = list(column.labels.values())
        else:
            continue
        validation = DataValidation(
            type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True
        )
        letter = get_column_letter(index)
        validation.add(f"{letter}2:{letter}{MAX_SHEET_ROWS}")
        sheet.add_data_validation(validation)


def write_workbook(document: Mapping[str, Any]) -> bytes:
    """The catalog document as an XLSX workbook: one sheet per entity, Chinese headings."""
    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    for layout in SHEETS:
        _write_sheet(workbook.create_sheet(layout.title), layout, document)
    node = document.get("node")
    workbook.properties.title = f"政务服务事项目录 {node}" if node else "政务服务事项目录"
    workbook.properties.creator = "tongban"
    return workbook_bytes(workbook)


# Everything openpyxl raises for bytes that are not a well-formed workbook.
_UNREADABLE: tuple[type[Exception], ...] = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    InvalidFileException,
    KeyError,
    SyntaxError,  # XML parse errors of the standard library and of lxml
    ValueError,
    TypeError,
    EOFError,
    OSError,
)

SheetRows = list[tuple[int, tuple[Any, ...]]]


def _sheet_rows(content: bytes) -> dict[str, SheetRows]:
    """The non-blank rows (with their Excel row numbers) of each catalog sheet present."""
    titles = {layout.title for layout in SHEETS}
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it drops; they do not touch the data.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                found = {name.strip(): name for name in workbook.sheetnames}
                rows: dict[str, SheetRows] = {}
                for title in titles & found.keys():
                    rows[title] = _read_sheet(workbook[found[title]], title)
            finally:
                workbook.close()
    except _UNREADABLE as exc:
        raise UnreadableWorkbook(f"the file cannot be read as an XLSX workbook ({exc})") from exc
    if not rows:
        expected = "、".join(layout.title for layout in SHEETS)
        raise UnreadableWorkbook(f"the workbook has none of the catalog sheets {expected}")
    return rows


def _read_sheet(sheet: Any, title: str) -> SheetRows:
    sheet.reset_dimensions()  # some writers record wrong dimensions; read what is there
    rows: SheetRows = []
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
        if number > MAX_SHEET_ROWS + 1:
            raise UnreadableWorkbook(f"sheet {title} has more than {MAX_SHEET_ROWS} rows")
        if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in values):
            rows.append((number, tuple(values)))
    return rows


def _normal_heading(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("(", "（").replace(")", "）")


def _heading_aliases(layout: SheetLayout) -> dict[str, Column]:
    """Headings accepted for each column: as written, without its （unit）, and the field name."""
    aliases: dict[str, Column] = {}
    for column in layout.columns:
        heading = _normal_heading(column.heading)
        aliases[heading] = column
        aliases[re.sub(r"（.*?）", "", heading)] = column
        aliases[column.path] = column
    for column in layout.legacy:  # its own heading and field name (fee_amount_fen is in 分)
        aliases[_normal_heading(column.heading)] = column
        aliases[column.path] = column
    return aliases


@dataclass
class _SheetItems:
    """The items read from one sheet, each with its origin."""

    items: list[dict[str, Any]] = field(default_factory=list)
    origins: list[Origin] = field(default_factory=list)


class _WorkbookReader:
    """Turns the rows of a catalog workbook into a :class:`CatalogSource`."""

    def __init__(self, rows: Mapping[str, SheetRows]) -> None:
        self.rows = rows
        self.problems: list[Problem] = []

    def read(self) -> CatalogSource:
        document: dict[str, Any] = {"format": FORMAT, "version": VERSION}
        origins: dict[tuple[str, int], Origin] = {}
        for layout in (DEPARTMENT_SHEET, WINDOW_SHEET, STAFF_SHEET, MATTER_SHEET):
            sheet = self._read(layout)
            if sheet is None:
                continue
            document[layout.entity] = sheet.items
            for index, origin in enumerate(sheet.origins):
                origins[(layout.entity, index)] = origin
        materials = self._read(MATERIAL_SHEET)
        if materials is not None:
            self._attach_materials(document.setdefault("matters", []), origins, materials)
        return CatalogSource(document, origins, self.problems)

    def _read(self, layout: SheetLayout) -> _SheetItems | None:
        rows = self.rows.get(layout.title)
        if not rows:
            return None
        header_number, header = rows[0]
        columns = self._header(layout, header_number, header)
        key = layout.columns[0]
        if key not in columns.values():
            self.problems.append(
                Problem(layout.title, header_number, key.heading, "the sheet has no such column")
            )
            return _SheetItems()
        headings = {c.path: c.heading for c in layout.columns}
        headings.update({c.path: str(header[i]).strip() for i, c in columns.items()})
        hints = {c.path: c.hint for c in layout.columns if c.hint}
        has_powers = any(c.path.startswith("powers.") for c in columns.values())
        sheet = _SheetItems()
        for number, values in rows[1:]:
            item: dict[str, Any] = {"powers": {}} if has_powers else {}
            for index, column in columns.items():
                try:
                    value = column.from_cell(values[index] if index < len(values) else None)
                except ValueError as exc:  # an amount in 元 that is not one
                    self.problems.append(Problem(layout.title, number, headings[column.path],
                                                 str(exc)))
                    continue
                if value is not None:
                    _put(item, column.path, value)
            sheet.items.append(item)
            sheet.origins.append(Origin(layout.title, number, headings, hints=hints))
        return sheet

    def _header(
        self, layout: SheetLayout, number: int, header: Sequence[Any]
    ) -> dict[int, Column]:
        aliases = _heading_aliases(layout)
        columns: dict[int, Column] = {}
        for index, value in enumerate(header):
            if value is None or not str(value).strip():
                continue
            column = aliases.get(_normal_heading(str(value)))
            if column is None:
                self.problems.append(
                    Problem(layout.title, number, str(value).strip(), "unknown column heading")
                )
            elif column.path in {c.path for c in columns.values()}:
                self.problems.append(
                    Problem(layout.title, number, column.heading, "the column appears twice")
                )
            else:
                columns[index] = column
        return columns

    def _attach_materials(
        self,
        matters: list[dict[str, Any]],
        origins: dict[tuple[str, int], Origin],
        materials: _SheetItems,
    ) -> None:
        """Give each matter its materials in row order; a material of no matter is a problem."""
        first_index: dict[str, int] = {}
        for index, matter in enumerate(matters):
            matter["materials"] = []
            if isinstance(matter.get("code"), str):
                first_index.setdefault(matter["code"], index)
        children: dict[int, list[Origin]] = {index: [] for index in range(len(matters))}
        heading = MATERIAL_SHEET.column("matter_code").heading
        for item, origin in zip(materials.items, materials.origins, strict=True):
            code = item.pop("matter_code", None)
            owner = first_index.get(code) if isinstance(code, str) else None
            if owner is None:
                reason = (
                    f"no matter with code {code!r} in sheet {MATTER_SHEET.title}"
                    if code is not None
                    else "Missing data for required field."
                )
                self.problems.append(Problem(origin.sheet, origin.row, heading, reason))
                continue
            matters[owner]["materials"].append(item)
            children[owner].append(origin)
        for index in range(len(matters)):
            base = origins.get(("matters", index)) or Origin("matters", index + 1)
            origins[("matters", index)] = Origin(
                base.sheet,
                base.row,
                {**base.columns, "materials": MATERIAL_SHEET.title},
                {"materials": children[index]},
                base.hints,
            )


def _put(item: dict[str, Any], path: str, value: Any) -> None:
    head, _, rest = path.partition(".")
    if rest:
        item.setdefault(head, {})[rest] = value
    else:
        item[head] = value


def read_workbook(content: bytes) -> CatalogSource:
    """Read a catalog workbook into a document with every item's sheet, row and headings.

    Chinese labels (行政许可, 是/否, …) and the English values are both accepted. Raises
    :class:`UnreadableWorkbook` for a file that is not a catalog workbook; problems of single
    rows are kept in the source, for :meth:`CatalogExchange.validate` to report with the rest.
    """
    return _WorkbookReader(_sheet_rows(content)).read()
