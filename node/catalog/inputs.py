"""What the catalog service takes: a new matter or staff record, the changes to one, the
changes to a window, as typed dataclasses (node/inputs.py).

The API's schemas and the admin pages' forms load them alike (``@post_load`` in
node/catalog/schemas.py); the catalog import builds them from the items it validated.
A change leaves out (:data:`~node.inputs.UNSET`) what it does not change.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from node.catalog.models import (
    Competence,
    HandlingType,
    MaterialForm,
    MatterCategory,
    StaffType,
    TongbanScope,
)
from node.inputs import UNSET, Given, Unset
from schemas.divisions import Level
from schemas.message_parts import DEFAULT_FILE_TYPES

_M = TypeVar("_M", bound="MatterFields")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MatterFacts:
    """What the rules of a matter (``matter_rule_violations``, node/catalog/service.py) read
    of its whole state once a change is merged in: its handling, its limits, whether it is
    entered in the center and at which window, and the window powers it grants."""

    handling_type: HandlingType | str
    legal_limit_days: int
    promised_limit_days: int
    entered: bool
    window_code: str | None = None
    powers: Mapping[str, bool] = dataclasses.field(default_factory=dict)

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> MatterFacts:
        """The facts among a matter's merged field values (a row's, a form's, an item's)."""
        return cls(handling_type=values["handling_type"],
                   legal_limit_days=values["legal_limit_days"],
                   promised_limit_days=values["promised_limit_days"],
                   entered=values["entered"], window_code=values.get("window_code"),
                   powers=values.get("powers") or {})


@dataclasses.dataclass(frozen=True, kw_only=True)
class MaterialInput:
    """One material of a matter's list (申请材料), in the list's order."""

    name: str
    required: bool = True
    form: MaterialForm = MaterialForm.ORIGINAL
    copies: int = 1
    note: str = ""
    electronic_accepted: bool = True
    file_types: Sequence[str] = DEFAULT_FILE_TYPES
    max_file_bytes: int | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class MatterFields(Given):
    """A matter's fields, each :data:`~node.inputs.UNSET` when not given; ``materials``
    replaces the whole list and ``powers`` names the window powers it sets."""

    name: str | Unset = UNSET
    category: MatterCategory | Unset = UNSET
    department_code: str | Unset = UNSET
    window_code: str | Unset | None = UNSET
    handling_level: Level | Unset = UNSET
    handling_type: HandlingType | Unset = UNSET
    notify_and_commit: bool | Unset = UNSET
    deemed_approval: bool | Unset = UNSET
    legal_limit_days: int | Unset = UNSET
    promised_limit_days: int | Unset = UNSET
    should_enter: bool | Unset = UNSET
    entered: bool | Unset = UNSET
    online: bool | Unset = UNSET
    legal_basis: str | Unset = UNSET
    procedure: str | Unset = UNSET
    conditions: str | Unset = UNSET
    fee_basis: str | Unset = UNSET
    fee_standard: str | Unset = UNSET
    fee_amount_fen: int | Unset = UNSET
    complaint_channel: str | Unset = UNSET
    window_authority: str | Unset = UNSET
    keywords: Sequence[str] | Unset = UNSET
    service_address: str | Unset = UNSET
    office_hours: str | Unset = UNSET
    enquiry_phone: str | Unset = UNSET
    complaint_phone: str | Unset = UNSET
    tongban_scope: TongbanScope | Unset = UNSET
    competence: Competence | Unset = UNSET
    powers: Mapping[str, bool] | Unset = UNSET
    materials: Sequence[MaterialInput] | Unset = UNSET

    @classmethod
    def of(cls: type[_M], loaded: Mapping[str, Any]) -> _M:
        values = dict(loaded)
        if "materials" in values:
            values["materials"] = tuple(
                item if isinstance(item, MaterialInput) else MaterialInput(
                    **{**item, "file_types": tuple(item.get("file_types", DEFAULT_FILE_TYPES))})
                for item in values["materials"]
            )
        return cls(**values)


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewMatter(MatterFields):
    """A matter to add (POST /api/v1/matters, the matters page's form)."""

    code: str
    name: str
    category: MatterCategory
    department_code: str
    handling_level: Level
    handling_type: HandlingType
    legal_limit_days: int
    promised_limit_days: int
    window_code: str | None = None
    notify_and_commit: bool = False
    deemed_approval: bool = False
    should_enter: bool = True
    entered: bool = False
    online: bool = True
    legal_basis: str = ""
    procedure: str = ""
    conditions: str = ""
    fee_basis: str = ""
    fee_standard: str = ""
    fee_amount_fen: int = 0
    complaint_channel: str = ""
    window_authority: str = ""
    powers: Mapping[str, bool] = dataclasses.field(default_factory=dict)
    materials: Sequence[MaterialInput] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class MatterChanges(MatterFields):
    """The fields of a matter to change (PATCH /api/v1/matters/<code>, its edit page)."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class StaffFields(Given):
    """A staff record's fields, each :data:`~node.inputs.UNSET` when not given; ``None`` for
    the department or window: none."""

    name: str | Unset = UNSET
    staff_type: StaffType | Unset = UNSET
    department_code: str | Unset | None = UNSET
    window_code: str | Unset | None = UNSET
    position: str | Unset = UNSET
    active: bool | Unset = UNSET


@dataclasses.dataclass(frozen=True, kw_only=True)
class NewStaffMember(StaffFields):
    """A staff record to add (its 工号 ``code`` is public: complaints name it)."""

    code: str
    name: str
    staff_type: StaffType
    position: str = ""
    active: bool = True


@dataclasses.dataclass(frozen=True, kw_only=True)
class StaffChanges(StaffFields):
    """The fields of a staff record to change."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class WindowChanges(Given):
    """The fields of a window to change; ``department_codes`` replaces the departments it
    serves."""

    name: str | Unset = UNSET
    location: str | Unset = UNSET
    department_codes: Sequence[str] | Unset = UNSET


__all__ = [
    "MaterialInput",
    "MatterChanges",
    "MatterFields",
    "NewMatter",
    "NewStaffMember",
    "StaffChanges",
    "StaffFields",
    "WindowChanges",
]
