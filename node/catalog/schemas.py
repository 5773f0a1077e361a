"""The catalog's rows as marshmallow schemas: departments, windows, staff records and matters.

The API loads and dumps them, and the catalog exchange validates every imported item with
them, so a row means the same on both paths.  The schemas the API and the admin pages load
a new row or a change with make the service's typed input (node/catalog/inputs.py).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field
from node.catalog.inputs import (
    MatterChanges,
    NewMatter,
    NewStaffMember,
    StaffChanges,
    WindowChanges,
)
from node.catalog.models import (
    Competence,
    HandlingType,
    MaterialForm,
    MatterCategory,
    StaffType,
    TongbanScope,
)
from schemas.divisions import Level
from schemas.message_parts import (
    DEFAULT_FILE_TYPES,
    FILE_TYPES,
    KEYWORD_MAX,
    MATERIAL_MAX_FILE_BYTES,
    MAX_KEYWORDS,
    PHONE_TEXT,
    PRACTICAL_MAX,
)
from schemas.metrics import POWERS


class Ref(Schema):
    code = fields.String()
    name = fields.String()


CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,31}$", error="use 1-32 letters, digits, . _ -"
)
MATTER_CODE = validate.Regexp(
    r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$", error="use 1-64 letters, digits, . _ -"
)
MAX_DAYS = 3650


def _name(max_length: int = 100) -> fields.String:
    return fields.String(required=True, validate=validate.Length(1, max_length))


def _text() -> fields.String:
    return fields.String(load_default="", validate=validate.Length(max=20000))


class DepartmentSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    name = _name()
    retired_at = fields.DateTime(dump_only=True, allow_none=True)


class DepartmentPatchSchema(Schema):
    name = _name()


class WindowSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    name = _name()
    location = fields.String(load_default="", validate=validate.Length(max=200))
    department_codes = fields.List(fields.String(), load_default=list, load_only=True)
    departments = fields.List(fields.Nested(Ref), dump_only=True)
    retired_at = fields.DateTime(dump_only=True, allow_none=True)


class WindowPatchSchema(Schema):
    name = _name()
    location = fields.String(validate=validate.Length(max=200))
    department_codes = fields.List(fields.String())

    @post_load
    def make_changes(self, data: dict[str, Any], **_: Any) -> WindowChanges:
        return WindowChanges.of(data)


class StaffMemberSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    name = _name(50)
    staff_type = fields.Enum(StaffType, by_value=True, required=True)
    department_code = fields.String(allow_none=True, load_only=True)
    window_code = fields.String(allow_none=True, load_only=True)
    position = fields.String(load_default="", validate=validate.Length(max=100))
    active = fields.Boolean(load_default=True)
    department = fields.Nested(Ref, dump_only=True, allow_none=True)
    window = fields.Nested(Ref, dump_only=True, allow_none=True)


class NewStaffMemberSchema(StaffMemberSchema):
    """A staff record to add, loaded as the service's :class:`NewStaffMember`."""

    @post_load
    def make_new(self, data: dict[str, Any], **_: Any) -> NewStaffMember:
        return NewStaffMember.of(data)


class StaffMemberPatchSchema(StaffMemberSchema):
    class Meta:
        exclude = ("code",)

    @post_load
    def make_changes(self, data: dict[str, Any], **_: Any) -> StaffChanges:
        return StaffChanges.of(data)


def _each_once(values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise ValidationError("each kind once")


class MaterialSchema(Schema):
    name = _name(200)
    required = fields.Boolean(load_default=True)
    form = fields.Enum(MaterialForm, by_value=True, load_default=MaterialForm.ORIGINAL)
    copies = fields.Integer(strict=True, load_default=1, validate=validate.Range(1, 99))
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    electronic_accepted = fields.Boolean(
        load_default=True, metadata={"description": "whether a file (scan, photo) may stand "
                                                     "for it online and at the window"})
    file_types = fields.List(
        fields.String(validate=validate.OneOf(FILE_TYPES)),
        load_default=lambda: list(DEFAULT_FILE_TYPES),
        validate=[validate.Length(1, len(FILE_TYPES)), _each_once],
        metadata={"description": "the kinds of file accepted, told by the file's bytes: "
                                 + ", ".join(FILE_TYPES)})
    max_file_bytes = fields.Integer(
        strict=True, load_default=None, allow_none=True,
        validate=validate.Range(1, MATERIAL_MAX_FILE_BYTES),
        metadata={"description": "each file's limit in bytes; null: the node's "
                                 "upload_max_file_bytes"})

    @validates_schema
    def _files_for_electronic(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("form") is MaterialForm.ELECTRONIC and data.get(
                "electronic_accepted") is False:
            raise ValidationError("an electronic material must accept a file",
                                  "electronic_accepted")


PowersSchema = Schema.from_dict(
    {power: fields.Boolean(load_default=False) for power in POWERS}, name="Powers"
)


class MatterSchema(Schema):
    code = fields.String(required=True, validate=MATTER_CODE)
    name = _name(200)
    category = fields.Enum(MatterCategory, by_value=True, required=True)
    department_code = fields.String(required=True, load_only=True)
    window_code = fields.String(load_default=None, allow_none=True, load_only=True)
    handling_level = fields.Enum(Level, by_value=True, required=True)
    handling_type = fields.Enum(HandlingType, by_value=True, required=True)
    notify_and_commit = fields.Boolean(load_default=False)
    deemed_approval = fields.Boolean(load_default=False)
    online = fields.Boolean(load_default=True, metadata={
        "description": "网上可办: citizens may apply for it online (default true)"})
    legal_limit_days = fields.Integer(
        strict=True, required=True, validate=validate.Range(0, MAX_DAYS)
    )
    promised_limit_days = fields.Integer(
        strict=True, required=True, validate=validate.Range(0, MAX_DAYS)
    )
    should_enter = fields.Boolean(load_default=True)
    entered = fields.Boolean(load_default=False)
    legal_basis = _text()
    procedure = _text()
    conditions = _text()
    fee_basis = _text()
    fee_standard = _text()
    fee_amount_fen = fields.Integer(
        strict=True, load_default=0, validate=validate.Range(0, 10**11),
        metadata={"description": "fee in fen (0.01 yuan)"},
    )
    complaint_channel = _text()
    window_authority = _text()
    keywords = fields.List(
        fields.String(validate=[validate.Length(1, KEYWORD_MAX),
                                validate.Regexp(r"^[^\r\n]*$", error="one line")]),
        validate=validate.Length(max=MAX_KEYWORDS),
        metadata={"description": "Words a citizen may search for the matter by (e.g. "
                                 "营业执照 for 个体工商户设立登记), at most 30 of up to 50 "
                                 "characters each.  Left out: unchanged (none for a new "
                                 "matter)."},
    )
    # the guide's practical fields; left out: unchanged (empty for a new matter)
    service_address = fields.String(validate=validate.Length(
        max=PRACTICAL_MAX["service_address"]), metadata={"description": "办理地点 (empty: the "
                                                           "window's name and location)"})
    office_hours = fields.String(validate=validate.Length(max=PRACTICAL_MAX["office_hours"]),
                                 metadata={"description": "办公时间"})
    enquiry_phone = fields.String(validate=[
        validate.Length(max=PRACTICAL_MAX["enquiry_phone"]),
        validate.Regexp(PHONE_TEXT, error="telephone numbers only (digits, -, 转, 、)")],
        metadata={"description": "咨询电话"})
    complaint_phone = fields.String(validate=[
        validate.Length(max=PRACTICAL_MAX["complaint_phone"]),
        validate.Regexp(PHONE_TEXT, error="telephone numbers only (digits, -, 转, 、)")],
        metadata={"description": "监督投诉电话"})
    # 通办; left out: unchanged (not 通办, competence by the matter's division, for a new one)
    tongban_scope = fields.Enum(TongbanScope, by_value=True, metadata={
        "description": "通办: ``none`` (only at the competent center) or ``province`` (全省通办: "
                       "any center of the province receives it for the competent one)"})
    competence = fields.Enum(Competence, by_value=True, metadata={
        "description": "Which center decides a 通办 case: the one at the handling level over "
                       "the applicant's 户籍 division (``household``), address division "
                       "(``address``) or the division of the matter's object (``matter``)"})
    powers = fields.Nested(PowersSchema, load_default=dict)
    materials = fields.List(
        fields.Nested(MaterialSchema), load_default=list, validate=validate.Length(max=200)
    )
    department = fields.Nested(Ref, dump_only=True)
    window = fields.Nested(Ref, dump_only=True, allow_none=True)
    retired_at = fields.DateTime(dump_only=True, allow_none=True)
    updated_at = fields.DateTime(dump_only=True)


class NewMatterSchema(MatterSchema):
    """A matter to add, loaded as the service's :class:`NewMatter`."""

    @post_load
    def make_new(self, data: dict[str, Any], **_: Any) -> NewMatter:
        return NewMatter.of(data)


class MatterPatchSchema(MatterSchema):
    """Any subset of a matter's fields; ``materials`` replaces the whole list."""

    class Meta:
        exclude = ("code",)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(partial=True, **kwargs)  # type: ignore[arg-type]

    @post_load
    def make_changes(self, data: dict[str, Any], **_: Any) -> MatterChanges:
        return MatterChanges.of(data)
