"""What every envelope body's schema is built from: limits, patterns, strict fields, JSON Schema
building blocks, and the parts several kinds share (origin, attachments).

A field here accepts exactly what its JSON Schema counterpart accepts, so that the marshmallow
schemas of :mod:`schemas.messages` and the published JSON Schemas say the same thing.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from schemas.canonical import MAX_SAFE_INTEGER
from schemas.divisions import CountyKind, Level
from schemas.kinds import (
    CODE_PATTERN,
    KEY_ID_PATTERN,
    TIMESTAMP_PATTERN,
    UUID_PATTERN,
    Kind,
)

JSON_SCHEMA_DRAFT = "https://json-schema.org/draft/2020-12/schema"
MESSAGE_SCHEMA_VERSION = 1

# Patterns are written once, for both validators: ECMA-262 (JSON Schema) and Python agree on
# these because they use only ASCII classes, and marshmallow applies them with fullmatch
# (Python's ``$`` would also match before a trailing newline).
PUBLIC_KEY_PATTERN = "[A-Za-z0-9_-]{43}"
SHA256_PATTERN = "[0-9a-f]{64}"
MEDIA_TYPE_PATTERN = "[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}"
DATE_PATTERN = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
NOT_BLANK_PATTERN = "\\S"

CASE_NUMBER_MAX = 64
NAME_MAX = 200
PERSON_NAME_MAX = 100
USERNAME_MAX = 64
TEXT_MAX = 20_000
REASON_MAX = 2_000
ATTACHMENTS_MAX = 200
KEYWORD_MAX = 50  # a matter's search keyword (营业执照)
MAX_KEYWORDS = 30
# the guide's practical fields (办理地点, 办公时间, 咨询电话, 监督投诉电话)
PRACTICAL_FIELDS = ("service_address", "office_hours", "enquiry_phone", "complaint_phone")
PRACTICAL_MAX = {"service_address": 200, "office_hours": 200, "enquiry_phone": 100,
                 "complaint_phone": 100}
# 通办: whether a matter may be received at another center of the province (TONGBAN_SCOPES),
# and which center is competent for it (COMPETENCE_RULES: the center over the applicant's
# 户籍 division, over the address division, or over the division of the matter's object)
TONGBAN_FIELDS = ("tongban_scope", "competence")
TONGBAN_SCOPES = ("none", "province")
COMPETENCE_RULES = ("household", "address", "matter")
# a telephone field: numbers with area code, extension, separators (0775-1234567 转 8001、12345)
PHONE_TEXT = r"^[0-9０-９+\-()（）、,，;；/ 转]*$"

CHANNELS = ("window", "online", "village_agent", "department_office")
APPLICANT_KINDS = ("person", "organisation")
CASE_STATES = (
    "submitted", "supplement_requested", "accepted", "rejected", "in_review", "suspended",
    "approved", "denied", "completed", "delivered", "withdrawn", "forwarded", "returned",
)
OUTCOMES = ("approved", "denied", "returned")
DIRECTIVE_SUBJECTS = ("case", "metric", "text")
DIRECTIVE_STATES = ("acknowledged", "in_progress", "done", "disputed")
MATTER_CATEGORIES = ("administrative_licence", "non_licence_approval", "public_service")
HANDLING_TYPES = ("immediate", "promised")
MATERIAL_FORMS = ("original", "copy", "original_and_copy", "electronic")
# the kinds of file a material may be uploaded as, each told apart by its bytes (filetype's
# magic numbers: node/cases/materials.py); a material without its own list takes the default
FILE_TYPES = ("pdf", "jpg", "png", "tif")
DEFAULT_FILE_TYPES = ("pdf", "jpg", "png")
MATERIAL_MAX_FILE_BYTES = 1024 * 1024 * 1024  # the most a material's own file limit may say
LEVELS = tuple(level.value for level in Level)
COUNTY_KINDS = tuple(kind.value for kind in CountyKind)


# -- fields that accept exactly what the JSON Schema accepts ---------------------------------


class FullMatch(validate.Validator):
    """The whole string matches ``pattern`` (``validate.Regexp`` only anchors the start)."""

    def __init__(self, pattern: str, error: str | None = None) -> None:
        self.pattern = pattern
        self.regex = re.compile(pattern)
        self.error: str = error or f"Does not match {pattern}."

    def __call__(self, value: str) -> str:
        if not self.regex.fullmatch(value):
            raise ValidationError(self.error)
        return value


class NotBlank(validate.Validator):
    """At least one character that is not whitespace."""

    def __call__(self, value: str) -> str:
        if not value.strip():
            raise ValidationError("Must not be blank.")
        return value


class StrictBoolean(fields.Boolean):
    """A JSON boolean only (``fields.Boolean`` also takes "yes", "on", 1, …)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class IsoDate(fields.Date):
    """``YYYY-MM-DD`` only (Python also reads ``20261129`` and week dates as ISO dates)."""

    _FORMAT = re.compile(DATE_PATTERN)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        if not isinstance(value, str) or not self._FORMAT.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type="date")
        return super()._deserialize(value, attr, data, **kwargs)


class Timestamp(fields.AwareDateTime):
    """An RFC 3339 date and time with its offset, e.g. ``2026-11-29T12:00:00+08:00``."""

    _FORMAT = re.compile(TIMESTAMP_PATTERN)

    def _deserialize(
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> dt.datetime:
        if not isinstance(value, str) or not self._FORMAT.fullmatch(value):
            raise self.make_error("invalid", input=value, obj_type="datetime")
        return super()._deserialize(value, attr, data, **kwargs)


def int_field(minimum: int = 0, *, required: bool = True) -> fields.Integer:
    return fields.Integer(
        strict=True, required=required, validate=validate.Range(min=minimum, max=MAX_SAFE_INTEGER)
    )


def code_field(*, allow_none: bool = False) -> fields.String:
    return fields.String(required=True, allow_none=allow_none, validate=FullMatch(
        CODE_PATTERN, "A 6- or 9-digit division code."))


def text_field(maximum: int = TEXT_MAX, minimum: int = 0, **kwargs: Any) -> fields.String:
    kwargs.setdefault("required", True)
    checks: list[validate.Validator] = [validate.Length(min=minimum, max=maximum)]
    if minimum:
        checks.append(NotBlank())
    return fields.String(validate=checks, **kwargs)


def one_of(choices: tuple[str, ...], **kwargs: Any) -> fields.String:
    kwargs.setdefault("required", True)
    return fields.String(validate=validate.OneOf(choices), **kwargs)


# -- JSON Schema building blocks ------------------------------------------------------------


def js_pattern(pattern: str) -> str:
    return f"^({pattern})$"


def js_string(maximum: int = TEXT_MAX, minimum: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": maximum}
    if minimum:
        schema |= {"minLength": minimum, "pattern": NOT_BLANK_PATTERN}
    return schema


def js_int(minimum: int = 0) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": MAX_SAFE_INTEGER}


def js_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def js_object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [name for name in properties if name not in optional],
        "properties": properties,
    }


def js_document(kind: Kind, title: str, body: dict[str, Any], rules: str = "") -> dict[str, Any]:
    description = f"The body of a {kind.value!r} envelope. {rules}".strip()
    return {
        "$schema": JSON_SCHEMA_DRAFT,
        "$id": f"tongban.{kind.value}/v{MESSAGE_SCHEMA_VERSION}",
        "title": title,
        "description": description,
        **body,
    }


def js_if(condition: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"properties": condition, "required": list(condition)}, "then": then}


JS_CODE = {"type": "string", "pattern": js_pattern(CODE_PATTERN)}
JS_UUID = {"type": "string", "pattern": js_pattern(UUID_PATTERN)}
JS_KEY_ID = {"type": "string", "pattern": js_pattern(KEY_ID_PATTERN)}
JS_DATE = {"type": "string", "format": "date", "pattern": js_pattern(DATE_PATTERN)}
JS_TIMESTAMP = {
    "type": "string", "format": "date-time", "pattern": js_pattern(TIMESTAMP_PATTERN)
}
JS_USERNAME = js_string(USERNAME_MAX, 1)


# -- shared parts ----------------------------------------------------------------------------


class OriginSchema(Schema):
    """The case as the origin node numbered it; the key of a case across the federation."""

    node = code_field()
    case_number = text_field(CASE_NUMBER_MAX, 1)


class AttachmentSchema(Schema):
    """A content-addressed blob: its bytes go to the hub separately, checked against sha256."""

    sha256 = fields.String(required=True, validate=FullMatch(
        SHA256_PATTERN, "64 lowercase hex digits."))
    size = int_field(1)
    media_type = fields.String(required=True, validate=FullMatch(
        MEDIA_TYPE_PATTERN, "A media type such as application/pdf."))
    name = text_field(NAME_MAX, 1)


JS_ORIGIN = js_object({
    "node": JS_CODE, "case_number": js_string(CASE_NUMBER_MAX, 1)})
JS_ATTACHMENT = js_object({
    "sha256": {"type": "string", "pattern": js_pattern(SHA256_PATTERN)},
    "size": js_int(1),
    "media_type": {"type": "string", "pattern": js_pattern(MEDIA_TYPE_PATTERN)},
    "name": js_string(NAME_MAX, 1),
})
JS_ATTACHMENTS = {"type": "array", "maxItems": ATTACHMENTS_MAX, "items": JS_ATTACHMENT}
