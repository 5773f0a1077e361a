"""Export and import of the whole catalog as one JSON document, the exchange format.

The workbook (:mod:`node.catalog.workbook`) is the same document laid out as one sheet per
entity with Chinese headings; the problems and where they are (:mod:`node.catalog.problems`)
are shared by both. An import validates every item first and reports every problem as
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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field
from node.catalog.bundles import bundle_items
from node.catalog.inputs import (
    MatterChanges,
    MatterFacts,
    NewMatter,
    NewStaffMember,
    StaffChanges,
    WindowChanges,
)
from node.catalog.items import matter_item, staff_item
from node.catalog.models import Department, Matter, StaffMember, Window
from node.catalog.problems import (
    CatalogImportError,
    CatalogSource,
    Origin,
    Path,
    Problem,
    flatten_messages,
    in_order,
)
from node.catalog.schemas import DepartmentSchema, MatterSchema, StaffMemberSchema, WindowSchema
from node.catalog.service import CatalogService, matter_rule_violations
from schemas.errors import Conflict, NotFound, ValidationFailed
from schemas.i18n import _
from schemas.metrics import POWERS
from schemas.runtime.database import utcnow

FORMAT = "tongban.catalog"
VERSION = 1

# The document's entity lists, in the order they are validated and applied.
ENTITIES: tuple[str, ...] = ("departments", "windows", "staff", "matters")
# "bundles" (一件事) is exported for reading and not imported: bundles are defined at the
# province (node/catalog/bundles.py) and travel with the published catalog
DOCUMENT_KEYS = frozenset({"format", "version", "exported_at", "node", "bundles", *ENTITIES})


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
        problems = [origin.problem(path, reason) for path, reason in flatten_messages(exc.messages)]
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
        problems.append(whole.problem((), _("the catalog document must be a JSON object")))
        return lists
    if document.get("format") != FORMAT:
        problems.append(whole.problem(("format",), _("must be %(format)s", format=repr(FORMAT))))
    version = document.get("version")
    if isinstance(version, bool) or version != VERSION:
        problems.append(whole.problem(("version",), _("must be %(version)s", version=VERSION)))
    problems.extend(
        whole.problem((str(key),), _("Unknown field."))
        for key in document
        if key not in DOCUMENT_KEYS
    )
    for entity in ENTITIES:
        items = document.get(entity, [])
        if isinstance(items, list):
            lists[entity] = items
        else:
            problems.append(whole.problem((entity,), _("must be a list")))
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
                _("code %(code)s appears more than once (first in row %(row)s)",
                  code=repr(code), row=first[code].origin.row),
            )
        else:
            first.setdefault(code, entry)


_KINDS = {"department": _("department"), "window": _("window")}


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
                    _("%(what)s %(code)s is retired in this center; an import cannot bring "
                      "it back", what=_KINDS[what], code=repr(entry.code)),
                )
            )

    def _check_reference(
        self, entry: _Entry, name: str, available: set[str], what: str
    ) -> bool:
        code = entry.data.get(name)
        if code and code not in available:
            self.problems.append(
                entry.origin.problem(
                    (name,), _("no active %(what)s with code %(code)s here or in the import",
                               what=_KINDS[what], code=repr(code))
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
                        _("no active %(what)s with code %(code)s here or in the import",
                          what=_KINDS["department"], code=repr(code)),
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
                    _("the window handles matters of departments it would no longer serve: "
                      "%(codes)s", codes=", ".join(stranded)),
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
                        _("window %(window)s does not serve department %(department)s",
                          window=repr(data["window_code"]),
                          department=repr(data["department_code"])),
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
        facts = MatterFacts.of({**entry.data, "powers": powers})
        for name, reasons in matter_rule_violations(facts).items():
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
                    _("matter %(code)s is retired and its former department or window is "
                      "retired too, so an import cannot reinstate it", code=repr(entry.code)),
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
            "staff": [staff_item(m, active_departments, active_windows) for m in staff],
            "matters": [matter_item(m) for m in matters],
            "bundles": bundle_items(self.session, node_code),
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
            raise CatalogImportError(in_order(problems))
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
                        entry.data["code"],
                        WindowChanges(department_codes=entry.data["department_codes"]),
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
            changes = WindowChanges(
                name=data["name"],
                location=data["location"],
                department_codes=list(dict.fromkeys([*codes, *kept])),
            )
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
                    self.catalog.update_staff_member(data["code"], StaffChanges.of(changes))
                    report.updated["staff"] += 1
                else:
                    self.catalog.create_staff_member(NewStaffMember.of(data))
                    report.created["staff"] += 1

    def _apply_matters(
        self, entries: Sequence[_Entry], stored: _Stored, report: ImportReport
    ) -> None:
        for entry in entries:
            data = entry.data
            matter = stored.matters.get(data["code"])
            with _reported(entry):
                if matter is None:
                    self.catalog.create_matter(NewMatter.of(data))
                    report.created["matters"] += 1
                    continue
                if matter.retired_at is not None:
                    self.catalog.reinstate_matter(data["code"])
                    report.reinstated["matters"] += 1
                self.catalog.update_matter(
                    data["code"], MatterChanges.of({k: v for k, v in data.items() if k != "code"})
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
            [entry.origin.problem(path, reason) for path, reason in flatten_messages(fields)]
        ) from exc
    except (Conflict, NotFound) as exc:
        raise CatalogImportError([entry.origin.problem(("code",), exc.message)]) from exc
