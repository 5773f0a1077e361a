"""The body of every envelope kind: a marshmallow schema and a published JSON Schema each.

The hub serves :data:`JSON_SCHEMAS` at ``/api/v1/schemas`` so that anyone can check a body
without tongban's code; :func:`validate_body` is what node and hub run.  Both say the same
thing wherever JSON Schema can say it; the rules it cannot (a value compared with another,
uniqueness by a property) are in the marshmallow schemas and named in the JSON Schema's
``description``.

Every body is a JSON object with ASCII keys and no floats (the envelope refuses floats before
any schema sees them); days are ``YYYY-MM-DD`` strings, instants RFC 3339 timestamps with an
offset.  Only ``case.forward`` carries an applicant's personal data: a forward is the case
itself travelling to the center that decides it, never a figure about it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import jsonschema_rs
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.canonical import MAX_SAFE_INTEGER
from schemas.divisions import CountyKind, Level
from schemas.envelope import (
    ADDRESSING,
    CODE_PATTERN,
    ENVELOPE_VERSION,
    KEY_ID_PATTERN,
    SIGNATURE_PATTERN,
    TIMESTAMP_PATTERN,
    UUID_PATTERN,
    Addressing,
    EnvelopeError,
    Kind,
)
from schemas.summary import METRIC_KEY, SUMMARY_JSON_SCHEMA, SummarySchema

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


def _int(minimum: int = 0, *, required: bool = True) -> fields.Integer:
    return fields.Integer(
        strict=True, required=required, validate=validate.Range(min=minimum, max=MAX_SAFE_INTEGER)
    )


def _code(*, allow_none: bool = False) -> fields.String:
    return fields.String(required=True, allow_none=allow_none, validate=FullMatch(
        CODE_PATTERN, "A 6- or 9-digit division code."))


def _text(maximum: int = TEXT_MAX, minimum: int = 0, **kwargs: Any) -> fields.String:
    kwargs.setdefault("required", True)
    checks: list[validate.Validator] = [validate.Length(min=minimum, max=maximum)]
    if minimum:
        checks.append(NotBlank())
    return fields.String(validate=checks, **kwargs)


def _one_of(choices: tuple[str, ...], **kwargs: Any) -> fields.String:
    kwargs.setdefault("required", True)
    return fields.String(validate=validate.OneOf(choices), **kwargs)


# -- JSON Schema building blocks ------------------------------------------------------------


def _js_pattern(pattern: str) -> str:
    return f"^({pattern})$"


def _js_string(maximum: int = TEXT_MAX, minimum: int = 0) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "maxLength": maximum}
    if minimum:
        schema |= {"minLength": minimum, "pattern": NOT_BLANK_PATTERN}
    return schema


def _js_int(minimum: int = 0) -> dict[str, Any]:
    return {"type": "integer", "minimum": minimum, "maximum": MAX_SAFE_INTEGER}


def _js_nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _js_object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [name for name in properties if name not in optional],
        "properties": properties,
    }


def _js_document(kind: Kind, title: str, body: dict[str, Any], rules: str = "") -> dict[str, Any]:
    description = f"The body of a {kind.value!r} envelope. {rules}".strip()
    return {
        "$schema": JSON_SCHEMA_DRAFT,
        "$id": f"tongban.{kind.value}/v{MESSAGE_SCHEMA_VERSION}",
        "title": title,
        "description": description,
        **body,
    }


def _js_if(condition: dict[str, Any], then: dict[str, Any]) -> dict[str, Any]:
    return {"if": {"properties": condition, "required": list(condition)}, "then": then}


JS_CODE = {"type": "string", "pattern": _js_pattern(CODE_PATTERN)}
JS_UUID = {"type": "string", "pattern": _js_pattern(UUID_PATTERN)}
JS_KEY_ID = {"type": "string", "pattern": _js_pattern(KEY_ID_PATTERN)}
JS_DATE = {"type": "string", "format": "date", "pattern": _js_pattern(DATE_PATTERN)}
JS_TIMESTAMP = {
    "type": "string", "format": "date-time", "pattern": _js_pattern(TIMESTAMP_PATTERN)
}
JS_USERNAME = _js_string(USERNAME_MAX, 1)


# -- shared parts ----------------------------------------------------------------------------


class OriginSchema(Schema):
    """The case as the origin node numbered it; the key of a case across the federation."""

    node = _code()
    case_number = _text(CASE_NUMBER_MAX, 1)


class AttachmentSchema(Schema):
    """A content-addressed blob: its bytes go to the hub separately, checked against sha256."""

    sha256 = fields.String(required=True, validate=FullMatch(
        SHA256_PATTERN, "64 lowercase hex digits."))
    size = _int(1)
    media_type = fields.String(required=True, validate=FullMatch(
        MEDIA_TYPE_PATTERN, "A media type such as application/pdf."))
    name = _text(NAME_MAX, 1)


JS_ORIGIN = _js_object({
    "node": JS_CODE, "case_number": _js_string(CASE_NUMBER_MAX, 1)})
JS_ATTACHMENT = _js_object({
    "sha256": {"type": "string", "pattern": _js_pattern(SHA256_PATTERN)},
    "size": _js_int(1),
    "media_type": {"type": "string", "pattern": _js_pattern(MEDIA_TYPE_PATTERN)},
    "name": _js_string(NAME_MAX, 1),
})
JS_ATTACHMENTS = {"type": "array", "maxItems": ATTACHMENTS_MAX, "items": JS_ATTACHMENT}


# -- case.forward -----------------------------------------------------------------------------


class ForwardedMatterSchema(Schema):
    code = _text(64, 1)
    name = _text(NAME_MAX, 1)
    standard_code = _text(64, 1, allow_none=True)


class ApplicantSchema(Schema):
    name = _text(PERSON_NAME_MAX, 1)
    id_number = _text(32, 1, allow_none=True)
    phone = _text(32, 1, allow_none=True)
    kind = _one_of(APPLICANT_KINDS)


class CaseForwardSchema(Schema):
    """A case going up to the center that decides it (上报), with its attachments."""

    origin = fields.Nested(OriginSchema, required=True)
    chain = fields.List(_code(), required=True, validate=validate.Length(min=1, max=8))
    matter = fields.Nested(ForwardedMatterSchema, required=True)
    applicant = fields.Nested(ApplicantSchema, required=True)
    channel = _one_of(CHANNELS)
    received_on = IsoDate(required=True)
    # a case may be forwarded straight from "submitted", before it is accepted
    accepted_on = IsoDate(required=True, allow_none=True)
    promised_days = _int(0)
    deadline_on = IsoDate(required=True, allow_none=True)
    notes = _text()
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True,
                              validate=validate.Length(max=ATTACHMENTS_MAX))
    forwarded_at = Timestamp(required=True)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        chain = data["chain"]
        if chain[0] != data["origin"]["node"]:
            raise ValidationError("the chain starts at the origin node", "chain")
        if len(set(chain)) != len(chain):
            raise ValidationError("a case passes through each node once", "chain")
        if data["accepted_on"] is not None and data["accepted_on"] < data["received_on"]:
            raise ValidationError("accepted before it was received", "accepted_on")
        if data["deadline_on"] is not None and data["accepted_on"] is None:
            raise ValidationError("a deadline runs from acceptance", "deadline_on")
        if data["deadline_on"] is not None and data["deadline_on"] < data["accepted_on"]:
            raise ValidationError("the deadline is before acceptance", "deadline_on")


CASE_FORWARD_JSON_SCHEMA = _js_document(
    Kind.CASE_FORWARD, "tongban case.forward body",
    _js_object({
        "origin": JS_ORIGIN,
        "chain": {"type": "array", "minItems": 1, "maxItems": 8, "uniqueItems": True,
                  "items": JS_CODE},
        "matter": _js_object({
            "code": _js_string(64, 1),
            "name": _js_string(NAME_MAX, 1),
            "standard_code": _js_nullable(_js_string(64, 1)),
        }),
        "applicant": _js_object({
            "name": _js_string(PERSON_NAME_MAX, 1),
            "id_number": _js_nullable(_js_string(32, 1)),
            "phone": _js_nullable(_js_string(32, 1)),
            "kind": {"enum": list(APPLICANT_KINDS)},
        }),
        "channel": {"enum": list(CHANNELS)},
        "received_on": JS_DATE,
        "accepted_on": _js_nullable(JS_DATE),
        "promised_days": _js_int(0),
        "deadline_on": _js_nullable(JS_DATE),
        "notes": _js_string(),
        "attachments": JS_ATTACHMENTS,
        "forwarded_at": JS_TIMESTAMP,
    }),
    "Also: chain[0] is origin.node; accepted_on is not before received_on; a deadline_on "
    "needs an accepted_on and is not before it.",
)


# -- case.result ------------------------------------------------------------------------------


class CaseResultSchema(Schema):
    """The decision on a forwarded case, going back to its origin."""

    origin = fields.Nested(OriginSchema, required=True)
    outcome = _one_of(OUTCOMES)
    reason = _text(REASON_MAX, 1, required=False, allow_none=True)
    decided_on = IsoDate(required=True, allow_none=True)
    decided_by_node = _code()
    documents = fields.List(fields.Nested(AttachmentSchema), required=True,
                            validate=validate.Length(max=ATTACHMENTS_MAX))
    fee_due_fen = _int(0)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data["outcome"] in ("denied", "returned") and not data.get("reason"):
            raise ValidationError(f"a case {data['outcome']} needs a reason", "reason")
        if data["outcome"] in ("approved", "denied") and data["decided_on"] is None:
            raise ValidationError(f"a case {data['outcome']} has a decision day", "decided_on")


CASE_RESULT_JSON_SCHEMA = _js_document(
    Kind.CASE_RESULT, "tongban case.result body",
    _js_object({
        "origin": JS_ORIGIN,
        "outcome": {"enum": list(OUTCOMES)},
        "reason": _js_nullable(_js_string(REASON_MAX, 1)),
        "decided_on": _js_nullable(JS_DATE),
        "decided_by_node": JS_CODE,
        "documents": JS_ATTACHMENTS,
        "fee_due_fen": _js_int(0),
    }, optional=("reason",)) | {"allOf": [
        _js_if({"outcome": {"enum": ["denied", "returned"]}},
               {"required": ["reason"], "properties": {"reason": {"type": "string"}}}),
        _js_if({"outcome": {"enum": ["approved", "denied"]}},
               {"properties": {"decided_on": {"type": "string"}}}),
    ]},
)


# -- case.update ------------------------------------------------------------------------------


class CaseUpdateSchema(Schema):
    """Progress on a forwarded case, told to its origin."""

    origin = fields.Nested(OriginSchema, required=True)
    state = _one_of(CASE_STATES)
    note = _text()
    at = Timestamp(required=True)


CASE_UPDATE_JSON_SCHEMA = _js_document(
    Kind.CASE_UPDATE, "tongban case.update body",
    _js_object({
        "origin": JS_ORIGIN,
        "state": {"enum": list(CASE_STATES)},
        "note": _js_string(),
        "at": JS_TIMESTAMP,
    }),
)


# -- directive and directive.reply -------------------------------------------------------------


class DirectiveSchema(Schema):
    """Supervision (督办) from an ancestor about a case, a metric or in free text."""

    directive_id = fields.String(required=True, validate=FullMatch(
        UUID_PATTERN, "A UUID in lowercase hex with hyphens."))
    subject = _one_of(DIRECTIVE_SUBJECTS)
    case_number = _text(CASE_NUMBER_MAX, 1, required=False, allow_none=True)
    metric = fields.String(allow_none=True, validate=FullMatch(
        METRIC_KEY.removeprefix("^").removesuffix("$"), "A metric key."))
    text = _text()
    due_on = IsoDate(required=True)
    issued_by = _text(USERNAME_MAX, 1)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        subject = data["subject"]
        for field, wanted in (("case_number", "case"), ("metric", "metric")):
            given = data.get(field) is not None
            if subject == wanted and not given:
                raise ValidationError(f"a directive about a {wanted} names it", field)
            if subject != wanted and given:
                raise ValidationError(f"only a directive about a {wanted} has one", field)
        if subject == "text" and not data["text"].strip():
            raise ValidationError("a directive in free text has its text", "text")


DIRECTIVE_JSON_SCHEMA = _js_document(
    Kind.DIRECTIVE, "tongban directive body",
    _js_object({
        "directive_id": JS_UUID,
        "subject": {"enum": list(DIRECTIVE_SUBJECTS)},
        "case_number": _js_nullable(_js_string(CASE_NUMBER_MAX, 1)),
        "metric": _js_nullable({"type": "string", "pattern": METRIC_KEY}),
        "text": _js_string(),
        "due_on": JS_DATE,
        "issued_by": JS_USERNAME,
    }, optional=("case_number", "metric")) | {"allOf": [
        _js_if({"subject": {"const": "case"}}, {
            "required": ["case_number"],
            "properties": {"case_number": {"type": "string"}, "metric": {"type": "null"}}}),
        _js_if({"subject": {"const": "metric"}}, {
            "required": ["metric"],
            "properties": {"metric": {"type": "string"}, "case_number": {"type": "null"}}}),
        _js_if({"subject": {"const": "text"}}, {
            "properties": {"text": {"pattern": NOT_BLANK_PATTERN},
                           "case_number": {"type": "null"}, "metric": {"type": "null"}}}),
    ]},
)


class DirectiveReplySchema(Schema):
    """The answer to a directive, going back to whoever issued it."""

    directive_id = fields.String(required=True, validate=FullMatch(
        UUID_PATTERN, "A UUID in lowercase hex with hyphens."))
    state = _one_of(DIRECTIVE_STATES)
    text = _text()
    replied_by = _text(USERNAME_MAX, 1)


DIRECTIVE_REPLY_JSON_SCHEMA = _js_document(
    Kind.DIRECTIVE_REPLY, "tongban directive.reply body",
    _js_object({
        "directive_id": JS_UUID,
        "state": {"enum": list(DIRECTIVE_STATES)},
        "text": _js_string(),
        "replied_by": JS_USERNAME,
    }),
)


# -- catalog.publish --------------------------------------------------------------------------


class PublishedMaterialSchema(Schema):
    name = _text(NAME_MAX, 1)
    required = StrictBoolean(required=True)
    form = _one_of(MATERIAL_FORMS)
    copies = _int(1)
    note = _text()


class PublishedMatterSchema(Schema):
    standard_code = _text(64, 1)
    name = _text(NAME_MAX, 1)
    category = _one_of(MATTER_CATEGORIES)
    handling_level = _one_of(LEVELS)
    handling_type = _one_of(HANDLING_TYPES)
    legal_limit_days = _int(0)
    promised_limit_days = _int(0)
    notify_and_commit = StrictBoolean(required=True)
    deemed_approval = StrictBoolean(required=True)
    legal_basis = _text()
    procedure = _text()
    conditions = _text()
    fee_basis = _text()
    fee_standard = _text()
    fee_amount_fen = _int(0)
    complaint_channel = _text()
    # the guide's search words; absent in catalogs published before they existed
    keywords = fields.List(_text(KEYWORD_MAX, 1), required=False,
                           validate=validate.Length(max=MAX_KEYWORDS))
    # the guide's practical fields; absent in catalogs published before they existed
    service_address = _text(PRACTICAL_MAX["service_address"], required=False)
    office_hours = _text(PRACTICAL_MAX["office_hours"], required=False)
    enquiry_phone = fields.String(required=False, validate=[
        validate.Length(max=PRACTICAL_MAX["enquiry_phone"]), validate.Regexp(PHONE_TEXT)])
    complaint_phone = fields.String(required=False, validate=[
        validate.Length(max=PRACTICAL_MAX["complaint_phone"]), validate.Regexp(PHONE_TEXT)])
    materials = fields.List(fields.Nested(PublishedMaterialSchema), required=True)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data["promised_limit_days"] > data["legal_limit_days"]:
            raise ValidationError("the promised limit exceeds the legal one",
                                  "promised_limit_days")


class CatalogPublishSchema(Schema):
    """The province's standard catalog, for every descendant to adopt; a large catalog comes
    as several envelopes of one version, ``part`` 1 … ``parts`` (absent: the whole of it)."""

    catalog_version = _int(1)
    published_at = Timestamp(required=True)
    part = _int(1, required=False)
    parts = _int(1, required=False)
    matters = fields.List(fields.Nested(PublishedMatterSchema), required=True,
                          validate=validate.Length(min=1))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if ("part" in data) != ("parts" in data):
            raise ValidationError("part and parts go together", "parts")
        if data.get("part", 1) > data.get("parts", 1):
            raise ValidationError("part cannot be beyond parts", "part")
        codes = [matter["standard_code"] for matter in data["matters"]]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValidationError(f"standard codes listed twice: {', '.join(repeated)}",
                                  "matters")


CATALOG_PUBLISH_JSON_SCHEMA = _js_document(
    Kind.CATALOG_PUBLISH, "tongban catalog.publish body",
    _js_object({
        "catalog_version": _js_int(1),
        "published_at": JS_TIMESTAMP,
        "part": _js_int(1),
        "parts": _js_int(1),
        "matters": {"type": "array", "minItems": 1, "items": _js_object({
            "standard_code": _js_string(64, 1),
            "name": _js_string(NAME_MAX, 1),
            "category": {"enum": list(MATTER_CATEGORIES)},
            "handling_level": {"enum": list(LEVELS)},
            "handling_type": {"enum": list(HANDLING_TYPES)},
            "legal_limit_days": _js_int(0),
            "promised_limit_days": _js_int(0),
            "notify_and_commit": {"type": "boolean"},
            "deemed_approval": {"type": "boolean"},
            "legal_basis": _js_string(),
            "procedure": _js_string(),
            "conditions": _js_string(),
            "fee_basis": _js_string(),
            "fee_standard": _js_string(),
            "fee_amount_fen": _js_int(0),
            "complaint_channel": _js_string(),
            "keywords": {"type": "array", "maxItems": MAX_KEYWORDS,
                         "items": _js_string(KEYWORD_MAX, 1)},
            "service_address": _js_string(PRACTICAL_MAX["service_address"]),
            "office_hours": _js_string(PRACTICAL_MAX["office_hours"]),
            "enquiry_phone": _js_string(PRACTICAL_MAX["enquiry_phone"]) | {
                "pattern": PHONE_TEXT},
            "complaint_phone": _js_string(PRACTICAL_MAX["complaint_phone"]) | {
                "pattern": PHONE_TEXT},
            "materials": {"type": "array", "items": _js_object({
                "name": _js_string(NAME_MAX, 1),
                "required": {"type": "boolean"},
                "form": {"enum": list(MATERIAL_FORMS)},
                "copies": _js_int(1),
                "note": _js_string(),
            })},
        }, optional=("keywords", *PRACTICAL_FIELDS))},
    }, optional=("part", "parts")),
    "Also: each matter's promised_limit_days is at most its legal_limit_days; each "
    "standard_code appears once; part and parts come together, part at most parts (a large "
    "catalog is sent as several envelopes of one catalog_version).",
)


# -- certificates and revocations (the documents schemas/certificates.py signs) ---------------


def _key_id_field() -> fields.String:
    return fields.String(required=True, validate=FullMatch(
        KEY_ID_PATTERN, "16 lowercase hex digits."))


def _signature_field() -> fields.String:
    return fields.String(required=True, validate=FullMatch(
        SIGNATURE_PATTERN, "An Ed25519 signature in base64url without padding."))


class CertificateSchema(Schema):
    """A parent's statement that ``public_key`` is ``subject``'s key for a period."""

    subject = _code()
    level = _one_of(LEVELS)
    kind = _one_of(COUNTY_KINDS, allow_none=True)
    parent = _code(allow_none=True)
    public_key = fields.String(required=True, validate=FullMatch(
        PUBLIC_KEY_PATTERN, "An Ed25519 public key in base64url without padding."))
    key_id = _key_id_field()
    not_before = Timestamp(required=True)
    not_after = Timestamp(required=True)
    serial = _int(1)
    issuer = _code()
    issuer_key_id = _key_id_field()

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data["not_after"] <= data["not_before"]:
            raise ValidationError("not_after is not after not_before", "not_after")


class CertificateDocumentSchema(Schema):
    certificate = fields.Nested(CertificateSchema, required=True)
    sig = _signature_field()


class RevocationSchema(Schema):
    """An ancestor's statement that ``subject``'s key ``key_id`` is void from ``effective_at``."""

    subject = _code()
    key_id = _key_id_field()
    effective_at = Timestamp(required=True)
    reason = _text(REASON_MAX, 1)
    serial = _int(1)
    issuer = _code()
    issuer_key_id = _key_id_field()


class RevocationDocumentSchema(Schema):
    revocation = fields.Nested(RevocationSchema, required=True)
    sig = _signature_field()


JS_SIGNATURE = {"type": "string", "pattern": _js_pattern(SIGNATURE_PATTERN)}

CERTIFICATE_JSON_SCHEMA = _js_object({
    "certificate": _js_object({
        "subject": JS_CODE,
        "level": {"enum": list(LEVELS)},
        "kind": {"enum": [*COUNTY_KINDS, None]},
        "parent": _js_nullable(JS_CODE),
        "public_key": {"type": "string", "pattern": _js_pattern(PUBLIC_KEY_PATTERN)},
        "key_id": JS_KEY_ID,
        "not_before": JS_TIMESTAMP,
        "not_after": JS_TIMESTAMP,
        "serial": _js_int(1),
        "issuer": JS_CODE,
        "issuer_key_id": JS_KEY_ID,
    }),
    "sig": JS_SIGNATURE,
})

REVOCATION_JSON_SCHEMA = _js_object({
    "revocation": _js_object({
        "subject": JS_CODE,
        "key_id": JS_KEY_ID,
        "effective_at": JS_TIMESTAMP,
        "reason": _js_string(REASON_MAX, 1),
        "serial": _js_int(1),
        "issuer": JS_CODE,
        "issuer_key_id": JS_KEY_ID,
    }),
    "sig": JS_SIGNATURE,
})


class CertBodySchema(Schema):
    """Enrolment or rotation: a certificate for the hub to verify and publish."""

    certificate = fields.Nested(CertificateDocumentSchema, required=True)


class RevokeBodySchema(Schema):
    """A revocation for the hub to verify and publish."""

    revocation = fields.Nested(RevocationDocumentSchema, required=True)


CERT_JSON_SCHEMA = _js_document(
    Kind.CERT, "tongban cert body",
    _js_object({"certificate": CERTIFICATE_JSON_SCHEMA}),
    "The certificate document is signed by its issuer over the RFC 8785 JSON of "
    '{"certificate": …}. Also: not_after is after not_before.',
)

REVOKE_JSON_SCHEMA = _js_document(
    Kind.REVOKE, "tongban revoke body",
    _js_object({"revocation": REVOCATION_JSON_SCHEMA}),
    "The revocation document is signed by an ancestor of its subject over the RFC 8785 JSON "
    'of {"revocation": …}.',
)


# -- the envelope itself ----------------------------------------------------------------------

_ADDRESS_PATTERNS = {
    Addressing.HUB: "^hub$",
    Addressing.NODE: _js_pattern(CODE_PATTERN),
    Addressing.SUBTREE: f"^({CODE_PATTERN})/\\*$",
}

# -- calendar.publish -------------------------------------------------------------------------

SCHEDULE_DAY_KINDS = ("holiday", "workday")
SCHEDULE_DAYS_MAX = 366
SCHEDULE_NAME_MAX = 64
SCHEDULE_SOURCE_MAX = 200
# Only the trust root (the province) may send these: the hub refuses any other sender with
# ``not_trust_root``, and so does every receiver (check_publisher).
ROOT_ONLY_KINDS = frozenset({Kind.CALENDAR_PUBLISH})


class ScheduleDaySchema(Schema):
    date = IsoDate(required=True)
    kind = _one_of(SCHEDULE_DAY_KINDS)
    name = _text(SCHEDULE_NAME_MAX, 1)


class CalendarPublishSchema(Schema):
    """The province's national holiday schedule of one year (国务院办公厅关于××年部分节假日安排
    的通知), for every descendant to adopt: the public holidays and the weekend days worked
    (调休), each with its holiday's Chinese name.  A higher ``version`` of the same year
    replaces a lower one, whatever order they arrive in."""

    year = fields.Integer(strict=True, required=True, validate=validate.Range(1900, 2199))
    version = _int(1)
    published_at = Timestamp(required=True)
    source = _text(SCHEDULE_SOURCE_MAX)
    days = fields.List(fields.Nested(ScheduleDaySchema), required=True,
                       validate=validate.Length(min=1, max=SCHEDULE_DAYS_MAX))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        dates = [day["date"] for day in data["days"]]
        outside = sorted({d.isoformat() for d in dates if d.year != data["year"]})
        if outside:
            raise ValidationError(f"dates outside {data['year']}: {', '.join(outside)}", "days")
        repeated = sorted({d.isoformat() for d in dates if dates.count(d) > 1})
        if repeated:
            raise ValidationError(f"dates listed twice: {', '.join(repeated)}", "days")
        weekdays = sorted(day["date"].isoformat() for day in data["days"]
                          if day["kind"] == "workday" and day["date"].weekday() < 5)
        if weekdays:
            raise ValidationError(f"a workday (调休) is a Saturday or Sunday worked, not "
                                  f"{', '.join(weekdays)}", "days")


CALENDAR_PUBLISH_JSON_SCHEMA = _js_document(
    Kind.CALENDAR_PUBLISH, "tongban calendar.publish body",
    _js_object({
        "year": {"type": "integer", "minimum": 1900, "maximum": 2199},
        "version": _js_int(1),
        "published_at": JS_TIMESTAMP,
        "source": _js_string(SCHEDULE_SOURCE_MAX),
        "days": {"type": "array", "minItems": 1, "maxItems": SCHEDULE_DAYS_MAX,
                 "items": _js_object({
                     "date": JS_DATE,
                     "kind": {"enum": list(SCHEDULE_DAY_KINDS)},
                     "name": _js_string(SCHEDULE_NAME_MAX, 1),
                 })},
    }),
    "Also: every date lies in the year and is listed once; a workday falls on a Saturday or "
    "Sunday; only the province (the trust root) may send one.",
)


ENVELOPE_JSON_SCHEMA: dict[str, Any] = {
    "$schema": JSON_SCHEMA_DRAFT,
    "$id": f"tongban.envelope/v{ENVELOPE_VERSION}",
    "title": "tongban envelope",
    "description": "A signed message between centers; sig is Ed25519 over the RFC 8785 JSON "
                   "of the envelope without sig. The body follows the schema of its kind.",
    **_js_object({
        "v": {"const": ENVELOPE_VERSION},
        "id": JS_UUID,
        "kind": {"enum": [kind.value for kind in Kind]},
        "from": JS_CODE,
        "to": {"type": "string", "pattern": f"^(hub|({CODE_PATTERN})(/\\*)?)$"},
        "seq": _js_int(1),
        "ts": JS_TIMESTAMP,
        "key_id": JS_KEY_ID,
        "body": {"type": "object"},
        "sig": JS_SIGNATURE,
    }),
    "allOf": [
        _js_if({"kind": {"enum": [k.value for k, a in ADDRESSING.items() if a is addressing]}},
               {"properties": {"to": {"pattern": pattern}}})
        for addressing, pattern in _ADDRESS_PATTERNS.items()
    ],
}


MESSAGE_SCHEMAS: dict[Kind, type[Schema]] = {
    Kind.SUMMARY: SummarySchema,
    Kind.CASE_FORWARD: CaseForwardSchema,
    Kind.CASE_RESULT: CaseResultSchema,
    Kind.CASE_UPDATE: CaseUpdateSchema,
    Kind.DIRECTIVE: DirectiveSchema,
    Kind.DIRECTIVE_REPLY: DirectiveReplySchema,
    Kind.CATALOG_PUBLISH: CatalogPublishSchema,
    Kind.CALENDAR_PUBLISH: CalendarPublishSchema,
    Kind.CERT: CertBodySchema,
    Kind.REVOKE: RevokeBodySchema,
}

JSON_SCHEMAS: dict[str, dict[str, Any]] = {
    Kind.SUMMARY.value: SUMMARY_JSON_SCHEMA,
    Kind.CASE_FORWARD.value: CASE_FORWARD_JSON_SCHEMA,
    Kind.CASE_RESULT.value: CASE_RESULT_JSON_SCHEMA,
    Kind.CASE_UPDATE.value: CASE_UPDATE_JSON_SCHEMA,
    Kind.DIRECTIVE.value: DIRECTIVE_JSON_SCHEMA,
    Kind.DIRECTIVE_REPLY.value: DIRECTIVE_REPLY_JSON_SCHEMA,
    Kind.CATALOG_PUBLISH.value: CATALOG_PUBLISH_JSON_SCHEMA,
    Kind.CALENDAR_PUBLISH.value: CALENDAR_PUBLISH_JSON_SCHEMA,
    Kind.CERT.value: CERT_JSON_SCHEMA,
    Kind.REVOKE.value: REVOKE_JSON_SCHEMA,
    "envelope": ENVELOPE_JSON_SCHEMA,
}

# One instance per kind: building a schema copies its declared fields, which costs more
# than validating a body; validate() keeps no state between calls.
_VALIDATORS: dict[Kind, Schema] = {kind: schema() for kind, schema in MESSAGE_SCHEMAS.items()}

# Kinds whose published JSON Schema states every rule of their marshmallow schema (checked on
# random mutations by tests/unit/schemas/test_messages.py): a compiled validator decides
# (jsonschema-rs, ~20x faster than marshmallow on a summary, the hub's hottest body), and
# marshmallow runs only to name the fields of a body it refuses.
COMPILED_KINDS: tuple[Kind, ...] = (Kind.SUMMARY,)
_COMPILED = {
    kind: jsonschema_rs.Draft202012Validator(JSON_SCHEMAS[kind.value], validate_formats=True)
    for kind in COMPILED_KINDS
}


def _json_keys(errors: Any) -> Any:
    """marshmallow's error dict with list indexes as strings (JSON object keys)."""
    if isinstance(errors, Mapping):
        return {str(key): _json_keys(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_json_keys(item) for item in errors]
    return errors


def validate_body(kind: Kind | str, body: Any) -> None:
    """Raise ``EnvelopeError("bad_body")`` unless ``body`` is a valid body of ``kind``.

    ``details["fields"]`` maps each bad field (nested as in the body) to its problems.
    """
    try:
        schema = _VALIDATORS[Kind(kind)]
    except ValueError:
        raise EnvelopeError(
            "unknown_kind", f"unknown envelope kind {kind!r}", {"kind": str(kind)}
        ) from None
    if not isinstance(body, Mapping):
        raise EnvelopeError("bad_body", f"a {kind} body is a JSON object",
                            {"fields": {"_schema": ["not an object"]}})
    compiled = _COMPILED.get(Kind(kind))
    if compiled is not None and compiled.is_valid(body):
        return
    errors = schema.validate(body)
    if not errors and compiled is not None:  # never seen: the two schemas are kept equal
        first = next(iter(compiled.iter_errors(body)))
        errors = {"/".join(map(str, first.instance_path)) or "_schema": [first.message]}
    if errors:
        raise EnvelopeError(
            "bad_body",
            f"the {Kind(kind).value} body is not valid: {', '.join(sorted(map(str, errors)))}",
            {"fields": _json_keys(errors)},
        )


def check_sender(kind: Kind | str, sender: str, body: Mapping[str, Any]) -> None:
    """Raise ``EnvelopeError("bad_body")`` if ``body`` speaks for a node other than ``sender``.

    A summary's figures are its node's own: no center may send another's.
    """
    if Kind(kind) is Kind.SUMMARY and body["node"]["code"] != sender:
        raise EnvelopeError(
            "bad_body",
            f"a summary of node {body['node']['code']} cannot come from {sender}",
            {"fields": {"node": {"code": [f"must be the sender, {sender}"]}}},
        )


def check_publisher(kind: Kind | str, sender: str, root_code: str) -> None:
    """Raise ``EnvelopeError("not_trust_root")`` if a kind only the trust root may send
    (:data:`ROOT_ONLY_KINDS`: the national holiday schedule) comes from another node.

    The hub checks it against its configured root; a node against its province.
    """
    if Kind(kind) in ROOT_ONLY_KINDS and sender != root_code:
        raise EnvelopeError(
            "not_trust_root",
            f"only the province {root_code} (the trust root) may send {Kind(kind).value}, "
            f"not {sender}",
            {"from": sender, "root": root_code},
        )
