"""Catalog rules and operations; plain Python over a SQLAlchemy session (no Flask).

The service flushes, never commits: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, or_, select, true
from sqlalchemy.orm import Session, selectinload

from node.catalog.inputs import (
    MaterialInput,
    MatterChanges,
    MatterFacts,
    NewMatter,
    NewStaffMember,
    StaffChanges,
    WindowChanges,
)
from node.catalog.items import MATTER_SCALARS
from node.catalog.models import (
    Department,
    HandlingType,
    MaterialForm,
    Matter,
    MatterMaterial,
    StaffMember,
    Window,
)
from node.listing import Page, keyset_page
from schemas.errors import Conflict, NotFound, ValidationFailed
from schemas.i18n import _
from schemas.metrics import POWERS
from schemas.runtime.database import utcnow

# the catalog rows looked up by their code
_Coded = TypeVar("_Coded", Department, Window, StaffMember, Matter)


def matter_rule_violations(matter: MatterFacts) -> dict[str, list[str]]:
    """Rules a matter's merged state must satisfy, as ``{field: [reason, ...]}``."""
    problems: dict[str, list[str]] = {}
    legal = matter.legal_limit_days
    promised = matter.promised_limit_days
    if promised > legal:
        problems.setdefault("promised_limit_days", []).append(
            _("the promised limit (%(promised)s working days) may not exceed "
              "the legal limit (%(legal)s working days)", promised=promised, legal=legal)
        )
    handling = HandlingType(matter.handling_type)
    if handling is HandlingType.IMMEDIATE and promised != 0:
        problems.setdefault("promised_limit_days", []).append(
            _("an immediate matter is done the same day: its promised limit is 0")
        )
    if handling is HandlingType.PROMISED and promised < 1:
        problems.setdefault("promised_limit_days", []).append(
            _("a promised matter needs a promised limit of at least 1 working day")
        )
    if matter.entered and not matter.window_code:
        problems.setdefault("window_code", []).append(
            _("a matter entered in the center must name the window that handles it")
        )
    granted = [p for p, held in matter.powers.items() if held]
    if granted and not matter.entered:
        problems.setdefault("powers", []).append(
            _("window powers can only be granted for a matter entered in the center")
        )
    return problems


class CatalogService:
    """Departments, windows, staff records and matters of one center."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- lookups ---------------------------------------------------------------------------

    def _one(self, model: type[_Coded], code: str, what: str) -> _Coded:
        row = self.session.scalar(select(model).where(model.code == code))
        if row is None:
            raise NotFound(_("No %(what)s with code %(repr)s.",
                             what=what, repr=repr(code)), {"code": code})
        return row

    def department(self, code: str) -> Department:
        return self._one(Department, code, _("部门"))

    def window(self, code: str) -> Window:
        return self._one(Window, code, _("窗口"))

    def staff_member(self, code: str) -> StaffMember:
        return self._one(StaffMember, code, _("工作人员"))

    def matter(self, code: str) -> Matter:
        return self._one(Matter, code, _("事项"))

    def _ensure_new_code(self, model: Any, code: str, what: str) -> None:
        if self.session.scalar(select(model.id).where(model.code == code)) is not None:
            raise Conflict(
                _("A %(what)s with code %(repr)s already exists.",
                  what=what, repr=repr(code)), {"field": "code", "code": code}
            )

    def _active_department(self, code: str, field: str = "department_code") -> Department:
        department = self.session.scalar(select(Department).where(Department.code == code))
        if department is None or department.retired_at is not None:
            raise ValidationFailed({field: [_("no active department with code %(repr)s",
                                              repr=repr(code))]})
        return department

    def _active_window(self, code: str, field: str = "window_code") -> Window:
        window = self.session.scalar(select(Window).where(Window.code == code))
        if window is None or window.retired_at is not None:
            raise ValidationFailed({field: [_("no active window with code %(repr)s",
                                              repr=repr(code))]})
        return window

    # -- departments -----------------------------------------------------------------------

    def list_departments(self, *, include_retired: bool = False) -> Sequence[Department]:
        query = select(Department).order_by(Department.code)
        if not include_retired:
            query = query.where(Department.retired_at.is_(None))
        return self.session.scalars(query).all()

    def guide_departments(self) -> list[Department]:
        """The departments the citizens' guide offers: active ones, never the standard
        catalog's holding department (标准目录事项（待分配）)."""
        return [d for d in self.list_departments() if not d.is_placeholder]

    def create_department(self, code: str, name: str) -> Department:
        self._ensure_new_code(Department, code, _("部门"))
        department = Department(code=code, name=name)
        self.session.add(department)
        self.session.flush()
        return department

    def update_department(self, code: str, *, name: str) -> Department:
        department = self.department(code)
        department.name = name
        self.session.flush()
        return department

    def retire_department(self, code: str) -> Department:
        department = self.department(code)
        active = self.session.scalars(
            select(Matter.code).where(
                Matter.department_id == department.id, Matter.retired_at.is_(None)
            )
        ).all()
        if active:
            raise Conflict(
                _("Department %(repr)s still has active matters; retire or move them first.",
                  repr=repr(code)),
                {"matters": list(active)},
            )
        department.retired_at = department.retired_at or utcnow()
        self.session.flush()
        return department

    def reinstate_department(self, code: str) -> Department:
        """Bring a retired department back; its retired matters stay retired until each is
        reinstated. An active department is returned unchanged."""
        department = self.department(code)
        department.retired_at = None
        self.session.flush()
        return department

    # -- windows ---------------------------------------------------------------------------

    def list_windows(self, *, include_retired: bool = False) -> Sequence[Window]:
        query = select(Window).options(selectinload(Window.departments)).order_by(Window.code)
        if not include_retired:
            query = query.where(Window.retired_at.is_(None))
        return self.session.scalars(query).all()

    def _departments(self, codes: Iterable[str]) -> list[Department]:
        return [self._active_department(c, "department_codes") for c in dict.fromkeys(codes)]

    def create_window(
        self, code: str, name: str, location: str = "", department_codes: Iterable[str] = ()
    ) -> Window:
        self._ensure_new_code(Window, code, _("窗口"))
        window = Window(
            code=code, name=name, location=location, departments=self._departments(department_codes)
        )
        self.session.add(window)
        self.session.flush()
        return window

    def update_window(self, code: str, update: WindowChanges) -> Window:
        window = self.window(code)
        changes = update.given()
        if "name" in changes:
            window.name = changes["name"]
        if "location" in changes:
            window.location = changes["location"]
        if "department_codes" in changes:
            window.departments = self._departments(changes["department_codes"])
            served = {d.id for d in window.departments}
            stranded = self.session.scalars(
                select(Matter.code).where(
                    Matter.window_id == window.id,
                    Matter.retired_at.is_(None),
                    Matter.department_id.not_in(served) if served else true(),
                )
            ).all()
            if stranded:
                raise ValidationFailed(
                    {"department_codes": [
                        "the window handles matters of departments it would no longer serve: "
                        + ", ".join(stranded)
                    ]}
                )
        self.session.flush()
        return window

    def retire_window(self, code: str) -> Window:
        window = self.window(code)
        active = self.session.scalars(
            select(Matter.code).where(Matter.window_id == window.id, Matter.retired_at.is_(None))
        ).all()
        if active:
            raise Conflict(
                _("Window %(repr)s still handles active matters; move or retire them first.",
                  repr=repr(code)),
                {"matters": list(active)},
            )
        window.retired_at = window.retired_at or utcnow()
        self.session.flush()
        return window

    def reinstate_window(self, code: str) -> Window:
        """Bring a retired window back. A window serves active departments only (as on create
        and update), so one whose every department is retired is refused: reinstate one of
        them first. An active window is returned unchanged."""
        window = self.window(code)
        if window.retired_at is None:
            return window
        retired = [d.code for d in window.departments if d.retired_at is not None]
        if window.departments and len(retired) == len(window.departments):
            raise Conflict(
                _("Window %(repr)s serves only retired departments (%(join)s); reinstate one of "
                  "them first.",
                  repr=repr(code), join=', '.join(retired)),
                {"departments": retired},
            )
        window.retired_at = None
        self.session.flush()
        return window

    # -- staff records ---------------------------------------------------------------------

    def list_staff(self, *, include_inactive: bool = False) -> Sequence[StaffMember]:
        query = select(StaffMember).order_by(StaffMember.code)
        if not include_inactive:
            query = query.where(StaffMember.active.is_(True))
        return self.session.scalars(query).all()

    def _apply_staff(self, member: StaffMember, changes: Mapping[str, Any]) -> None:
        for field in ("name", "staff_type", "position", "active"):
            if field in changes:
                setattr(member, field, changes[field])
        if "department_code" in changes:
            code = changes["department_code"]
            member.department = self._active_department(code) if code else None
        if "window_code" in changes:
            code = changes["window_code"]
            member.window = self._active_window(code) if code else None

    def create_staff_member(self, new: NewStaffMember) -> StaffMember:
        self._ensure_new_code(StaffMember, new.code, _("工作人员"))
        member = StaffMember(code=new.code, name=new.name, staff_type=new.staff_type)
        self._apply_staff(member, new.given())
        self.session.add(member)
        self.session.flush()
        return member

    def update_staff_member(self, code: str, changes: StaffChanges) -> StaffMember:
        member = self.staff_member(code)
        self._apply_staff(member, changes.given())
        self.session.flush()
        return member

    # -- matters ---------------------------------------------------------------------------

    @staticmethod
    def _matter_loads() -> tuple[Any, ...]:
        return (selectinload(Matter.materials), selectinload(Matter.department),
                selectinload(Matter.window))

    def _matter_query(self) -> Select[Matter]:
        return select(Matter).options(*self._matter_loads())

    def search_matters(
        self,
        *,
        query: str | None = None,
        department_code: str | None = None,
        category: str | None = None,
        handling_level: str | None = None,
        include_retired: bool = False,
        cursor: str | None = None,
        before: str | None = None,
        per_page: int = 20,
    ) -> Page[Matter]:
        """One keyset page (node/listing.py) of the matters matching a search text, in the
        order of their codes (the unique index on code): the text is looked for in the
        name, code, keywords, department's name, conditions, basis and materials."""
        conditions: list[ColumnElement[bool]] = []
        if not include_retired:
            conditions.append(Matter.retired_at.is_(None))
        if department_code:
            conditions.append(
                Matter.department_id.in_(
                    select(Department.id).where(Department.code == department_code)
                )
            )
        if category:
            conditions.append(Matter.category == category)
        if handling_level:
            conditions.append(Matter.handling_level == handling_level)
        if query:
            like = f"%{_escape_like(query.strip())}%"
            conditions.append(
                or_(
                    Matter.name.ilike(like, escape="\\"),
                    Matter.code.ilike(like, escape="\\"),
                    Matter.keyword_text.ilike(like, escape="\\"),
                    Matter.department_id.in_(
                        select(Department.id).where(Department.name.ilike(like, escape="\\"))
                    ),
                    Matter.conditions.ilike(like, escape="\\"),
                    Matter.legal_basis.ilike(like, escape="\\"),
                    Matter.id.in_(
                        select(MatterMaterial.matter_id).where(
                            MatterMaterial.name.ilike(like, escape="\\")
                        )
                    ),
                )
            )
        return keyset_page(self.session, select(Matter).where(*conditions), (Matter.code,),
                           (str,), cursor, per_page, options=self._matter_loads(),
                           before=before)

    def active_matter(self, code: str) -> Matter:
        """A matter as the public guide shows it (retired matters are not found)."""
        matter = self.session.scalar(
            self._matter_query().where(Matter.code == code, Matter.retired_at.is_(None))
        )
        if matter is None:
            raise NotFound(_("No matter with code %(repr)s in the service guide.",
                             repr=repr(code)), {"code": code})
        return matter

    def create_matter(self, new: NewMatter) -> Matter:
        self._ensure_new_code(Matter, new.code, _("事项"))
        matter = Matter(code=new.code)
        self._apply_matter(matter, new.given(), creating=True)
        self.session.add(matter)
        self.session.flush()
        return matter

    def update_matter(self, code: str, changes: MatterChanges) -> Matter:
        matter = self.matter(code)
        if matter.retired_at is not None:
            raise Conflict(_("Matter %(repr)s is retired; reinstate it before changing it.",
                             repr=repr(code)))
        self._apply_matter(matter, changes.given(), creating=False)
        self.session.flush()
        return matter

    def retire_matter(self, code: str) -> Matter:
        """Retire a matter: it leaves the guide but stays for the cases that refer to it."""
        matter = self.matter(code)
        matter.retired_at = matter.retired_at or utcnow()
        self.session.flush()
        return matter

    def reinstate_matter(self, code: str) -> Matter:
        matter = self.matter(code)
        if matter.department.retired_at is not None:
            raise Conflict(_("The department of matter %(repr)s is retired.", repr=repr(code)))
        if matter.window is not None and matter.window.retired_at is not None:
            raise Conflict(_("The window of matter %(repr)s is retired.", repr=repr(code)))
        matter.retired_at = None
        self.session.flush()
        return matter

    def _apply_matter(self, matter: Matter, data: Mapping[str, Any], *, creating: bool) -> None:
        """``data``: the given fields of a :class:`NewMatter` or :class:`MatterChanges`."""
        merged = {field: data.get(field, getattr(matter, field, None)) for field in MATTER_SCALARS}
        merged["window_code"] = data.get(
            "window_code", matter.window.code if matter.window else None
        )
        merged["powers"] = {**matter.powers, **(data.get("powers") or {})} if not creating else {
            p: bool((data.get("powers") or {}).get(p, False)) for p in POWERS
        }
        if creating:
            for field, default in (
                ("notify_and_commit", False),
                ("deemed_approval", False),
                ("should_enter", True),
                ("entered", False),
                ("online", True),
                ("fee_amount_fen", 0),
            ):
                if merged[field] is None:
                    merged[field] = default
        problems = matter_rule_violations(MatterFacts.of(merged))

        department = matter.department if not creating else None
        if "department_code" in data:
            try:
                department = self._active_department(data["department_code"])
            except ValidationFailed as exc:
                problems.update(exc.details["fields"])
        window = matter.window if not creating else None
        if "window_code" in data:
            window = None
            if data["window_code"]:
                try:
                    window = self._active_window(data["window_code"])
                except ValidationFailed as exc:
                    problems.update(exc.details["fields"])
        if department is not None and window is not None and department not in window.departments:
            problems.setdefault("window_code", []).append(
                f"window {window.code!r} does not serve department {department.code!r}"
            )
        if problems:
            raise ValidationFailed(problems)

        for field in MATTER_SCALARS:
            setattr(matter, field, merged[field])
        for power, held in merged["powers"].items():
            setattr(matter, f"power_{power}", held)
        assert department is not None  # noqa: S101 - the schema requires it on create
        matter.department = department
        matter.window = window
        if "materials" in data:
            self.session.flush()  # let the orphaned materials go before positions are reused
            matter.materials.clear()
            self.session.flush()
            items: Sequence[MaterialInput] = data["materials"]
            matter.materials.extend(
                MatterMaterial(
                    position=index,
                    name=item.name,
                    required=item.required,
                    form=MaterialForm(item.form),
                    copies=item.copies,
                    note=item.note,
                    electronic_accepted=item.electronic_accepted,
                    file_types=list(item.file_types),
                    max_file_bytes=item.max_file_bytes,
                )
                for index, item in enumerate(items, start=1)
            )


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
