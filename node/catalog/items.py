"""The catalog document's items as exported: the fields of a matter and of its materials, and
each stored row as the document's plain item (node/catalog/exchange.py writes the document)."""

from __future__ import annotations

import enum
from typing import Any

from node.catalog.models import Matter, StaffMember
from schemas.message_parts import PRACTICAL_FIELDS, TONGBAN_FIELDS

# a matter's fields in the catalog document's order: the one declaration of them
# (tests/unit/node/test_catalog_exchange.py pins the order)
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
    "online",
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
    *TONGBAN_FIELDS,
)
# the fields that refer to another row (the matter's own code, its department and window)
MATTER_REFERENCES: tuple[str, ...] = ("code", "department_code", "window_code")
# the matter's own values, in the same order: what the catalog service sets on a row
MATTER_SCALARS: tuple[str, ...] = tuple(f for f in MATTER_FIELDS if f not in MATTER_REFERENCES)
MATERIAL_FIELDS: tuple[str, ...] = ("name", "required", "form", "copies", "note",
                                     "electronic_accepted", "file_types", "max_file_bytes")


def _value(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def staff_item(
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


def matter_item(matter: Matter) -> dict[str, Any]:
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


__all__ = ["MATERIAL_FIELDS", "MATTER_FIELDS", "MATTER_REFERENCES", "MATTER_SCALARS", "matter_item",
           "staff_item"]
