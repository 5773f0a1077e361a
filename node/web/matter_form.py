"""The matter form of the administration pages (node/web/admin.py): its field labels, the
form read as MatterSchema takes it, and a matter shown back on it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import fields
from werkzeug.datastructures import MultiDict

from node.catalog.items import MATTER_SCALARS
from node.catalog.models import Matter, MatterMaterial
from node.catalog.schemas import MatterSchema
from node.catalog.workbook import MEGABYTE
from schemas.errors import ValidationFailed
from schemas.i18n import _
from schemas.message_parts import FILE_TYPES, MATERIAL_MAX_FILE_BYTES
from schemas.metrics import POWERS
from schemas.runtime.spreadsheet import fen_from_yuan

MATTER_LABELS = {
    "code": _("事项编码"),
    "name": _("事项名称"),
    "category": _("事项类型"),
    "department_code": _("实施部门"),
    "window_code": _("办理窗口"),
    "handling_level": _("办理层级"),
    "handling_type": _("办件类型"),
    "legal_limit_days": _("法定时限"),
    "promised_limit_days": _("承诺时限"),
    "fee_amount_fen": _("收费金额"),
    "fee_amount_yuan": _("收费金额"),
    "powers": _("窗口授权"),
    "materials": _("申报材料"),
    "legal_basis": _("设立依据"),
    "conditions": _("申请条件"),
    "procedure": _("办理程序"),
    "fee_basis": _("收费依据"),
    "fee_standard": _("收费标准"),
    "complaint_channel": _("投诉渠道"),
    "window_authority": _("窗口权限说明"),
    "entered": _("已进中心"),
    "should_enter": _("应进中心"),
    "online": _("网上可办"),
    "service_address": _("办理地点"),
    "office_hours": _("办公时间"),
    "enquiry_phone": _("咨询电话"),
    "complaint_phone": _("监督投诉电话"),
    "tongban_scope": _("通办范围"),
    "competence": _("管辖规则"),
}
MATTER_FLAGS = ("notify_and_commit", "deemed_approval", "should_enter", "entered", "online")


def matter_input(form: MultiDict[str, str], existing: Matter | None) -> dict[str, Any]:
    """A matter's form as MatterSchema reads it.

    Every field on the form is sent, so that clearing a text field clears it; a blank number
    is refused rather than left unchanged. A ticked box is present, an unticked one absent.
    One material per line: a line naming a material the matter already has keeps that
    material's form, copies and note.
    """
    data: dict[str, Any] = {}
    for name, schema_field in MatterSchema().load_fields.items():
        key = schema_field.data_key or name
        if key in ("materials", "powers", "fee_amount_fen", *MATTER_FLAGS) or key not in form:
            continue
        raw = form.get(key, "")
        if isinstance(schema_field, fields.Integer):
            if not raw.strip():
                raise ValidationFailed({key: [_("请填写整数")]})
            data[key] = integer_or_text(raw.strip())
        else:
            data[key] = raw.strip() if key in ("code", "name") else raw
    if "fee_amount_yuan" in form:
        data["fee_amount_fen"] = yuan_to_fen(form.get("fee_amount_yuan", ""), "fee_amount_yuan")
    for flag in MATTER_FLAGS:
        data[flag] = flag in form
    data["powers"] = {p: f"power_{p}" in form for p in POWERS}
    data["window_code"] = data.get("window_code") or None
    kept = {m.name: m for m in existing.materials} if existing is not None else {}
    materials: list[dict[str, Any]] = []
    for line in form.get("materials", "").splitlines():
        name = line.strip()
        if not name:
            continue
        item: dict[str, Any] = {"name": name}
        if name in kept:
            old = kept[name]
            item.update(required=old.required, form=old.form.value, copies=old.copies,
                        note=old.note, **_material_rule(form, old))
        materials.append(item)
    data["materials"] = materials
    return data


def _material_rule(form: MultiDict[str, str], old: MatterMaterial) -> dict[str, Any]:
    """A kept material's file rule from its row of the form (``rule-<position>-…``; the size in
    MB, blank: the node's), or as it was when the form has no row for it."""
    key = f"rule-{old.position}"
    if f"{key}-shown" not in form:
        return {"electronic_accepted": old.electronic_accepted, "file_types": old.file_types,
                "max_file_bytes": old.max_file_bytes}
    size = form.get(f"{key}-max_mb", "").strip()
    max_bytes: Any = None
    if size:
        try:
            max_bytes = round(float(size) * MEGABYTE)
        except ValueError:
            reason = _("%(material)s：单个文件上限请填写以 MB 为单位的数字", material=old.name)
            raise ValidationFailed({"materials": [reason]}) from None
        if not 0 < max_bytes <= MATERIAL_MAX_FILE_BYTES:
            raise ValidationFailed({"materials": [
                _("%(material)s：单个文件上限须大于 0 且不超过 %(most)s MB", material=old.name,
                  most=MATERIAL_MAX_FILE_BYTES // MEGABYTE)]})
    return {"electronic_accepted": f"{key}-electronic" in form,
            "file_types": [kind for kind in FILE_TYPES if f"{key}-type-{kind}" in form],
            "max_file_bytes": max_bytes}


def material_rule_rows(matter: Matter) -> list[dict[str, Any]]:
    """The edit page's rows of the matter's materials' file rules (the size in MB)."""
    return [{"position": m.position, "name": m.name, "electronic": m.electronic_accepted,
             "types": m.file_types,
             "max_mb": f"{m.max_file_bytes / MEGABYTE:g}" if m.max_file_bytes else ""}
            for m in matter.materials]


def matter_values(matter: Matter) -> MultiDict[str, str]:
    """A matter as its edit form shows it (the same keys the form sends)."""
    values: MultiDict[str, str] = MultiDict()
    for key in MATTER_SCALARS:
        value = getattr(matter, key)
        if key in MATTER_FLAGS:
            if value:
                values[key] = "on"
        else:
            values[key] = str(value.value if hasattr(value, "value") else value)
    values.pop("fee_amount_fen", None)
    values["fee_amount_yuan"] = fen_to_yuan_text(matter.fee_amount_fen)
    values["department_code"] = matter.department.code
    values["window_code"] = matter.window.code if matter.window else ""
    for power, held in matter.powers.items():
        if held:
            values[f"power_{power}"] = "on"
    values["materials"] = "\n".join(m.name for m in matter.materials)
    return values


def yuan_to_fen(text: str, key: str) -> int:
    """An amount typed in 元 (``20``, ``20.5``, ``1,640.00``) as 分 for the API; a clear
    message naming the field for anything else."""
    try:
        return fen_from_yuan(text)
    except ValueError as exc:
        raise ValidationFailed({key: [str(exc)]}) from exc


def fen_to_yuan_text(fen: int | None) -> str:
    """分 as the 元 a form shows, ``1640.00``."""
    return f"{Decimal(fen or 0) / 100:.2f}"


def integer_or_text(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text  # the schema names the field
