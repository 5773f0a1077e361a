"""The body of every envelope kind: a marshmallow schema and a published JSON Schema each.

The hub serves :data:`JSON_SCHEMAS` at ``/api/v1/schemas`` so that anyone can check a body
without tongban's code; :func:`validate_body` is what node and hub run.  Both say the same
thing wherever JSON Schema can say it; the rules it cannot (a value compared with another,
uniqueness by a property) are in the marshmallow schemas and named in the JSON Schema's
``description``.

Every body is a JSON object with ASCII keys and no floats (the envelope refuses floats before
any schema sees them); days are ``YYYY-MM-DD`` strings, instants RFC 3339 timestamps with an
offset.  Only ``case.forward`` carries an applicant's personal data (and ``complaint.forward`` a
complainant's contact phone, for the center that calls back): a forward is the case
itself travelling to the center that decides it, never a figure about it.

The bodies are declared by kind: the cases' in :mod:`schemas.case_messages`, ``cert`` and
``revoke`` in :mod:`schemas.certificate_messages`, ``summary`` in :mod:`schemas.summary`, the
rest here; all are built from the fields and limits of :mod:`schemas.message_parts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jsonschema_rs
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.audit_response import AUDIT_RESPONSE_BODY, AuditResponseSchema
from schemas.bundle_messages import JS_BUNDLES, PublishedBundleSchema
from schemas.case_messages import (
    CASE_FORWARD_JSON_SCHEMA,
    CASE_RESULT_JSON_SCHEMA,
    CASE_UPDATE_JSON_SCHEMA,
    CaseForwardSchema,
    CaseResultSchema,
    CaseUpdateSchema,
)
from schemas.certificate_messages import (
    CERT_JSON_SCHEMA,
    JS_SIGNATURE,
    REVOKE_JSON_SCHEMA,
    CertBodySchema,
    RevokeBodySchema,
)
from schemas.kinds import (
    ADDRESSING,
    CODE_PATTERN,
    ENVELOPE_VERSION,
    UUID_PATTERN,
    Addressing,
    EnvelopeError,
    Kind,
)
from schemas.message_parts import (
    CASE_NUMBER_MAX,
    COMPETENCE_RULES,
    DIRECTIVE_STATES,
    DIRECTIVE_SUBJECTS,
    FILE_TYPES,
    HANDLING_TYPES,
    JS_CODE,
    JS_DATE,
    JS_KEY_ID,
    JS_ORIGIN,
    JS_TIMESTAMP,
    JS_USERNAME,
    JS_UUID,
    JSON_SCHEMA_DRAFT,
    KEYWORD_MAX,
    LEVELS,
    MATERIAL_FORMS,
    MATERIAL_MAX_FILE_BYTES,
    MATTER_CATEGORIES,
    MAX_KEYWORDS,
    NAME_MAX,
    NOT_BLANK_PATTERN,
    PHONE_TEXT,
    PRACTICAL_FIELDS,
    PRACTICAL_MAX,
    TEXT_MAX,
    TONGBAN_FIELDS,
    TONGBAN_SCOPES,
    USERNAME_MAX,
    FullMatch,
    IsoDate,
    OriginSchema,
    StrictBoolean,
    Timestamp,
    code_field,
    int_field,
    js_document,
    js_if,
    js_int,
    js_nullable,
    js_object,
    js_pattern,
    js_string,
    one_of,
    text_field,
)
from schemas.summary import METRIC_KEY, SUMMARY_JSON_SCHEMA, SummarySchema

# -- directive and directive.reply -------------------------------------------------------------


class DirectiveSchema(Schema):
    """Supervision (督办) from an ancestor about a case, a metric or in free text."""

    directive_id = fields.String(required=True, validate=FullMatch(
        UUID_PATTERN, "A UUID in lowercase hex with hyphens."))
    subject = one_of(DIRECTIVE_SUBJECTS)
    case_number = text_field(CASE_NUMBER_MAX, 1, required=False, allow_none=True)
    metric = fields.String(allow_none=True, validate=FullMatch(
        METRIC_KEY.removeprefix("^").removesuffix("$"), "A metric key."))
    text = text_field()
    due_on = IsoDate(required=True)
    issued_by = text_field(USERNAME_MAX, 1)

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


DIRECTIVE_JSON_SCHEMA = js_document(
    Kind.DIRECTIVE, "tongban directive body",
    js_object({
        "directive_id": JS_UUID,
        "subject": {"enum": list(DIRECTIVE_SUBJECTS)},
        "case_number": js_nullable(js_string(CASE_NUMBER_MAX, 1)),
        "metric": js_nullable({"type": "string", "pattern": METRIC_KEY}),
        "text": js_string(),
        "due_on": JS_DATE,
        "issued_by": JS_USERNAME,
    }, optional=("case_number", "metric")) | {"allOf": [
        js_if({"subject": {"const": "case"}}, {
            "required": ["case_number"],
            "properties": {"case_number": {"type": "string"}, "metric": {"type": "null"}}}),
        js_if({"subject": {"const": "metric"}}, {
            "required": ["metric"],
            "properties": {"metric": {"type": "string"}, "case_number": {"type": "null"}}}),
        js_if({"subject": {"const": "text"}}, {
            "properties": {"text": {"pattern": NOT_BLANK_PATTERN},
                           "case_number": {"type": "null"}, "metric": {"type": "null"}}}),
    ]},
)


class DirectiveReplySchema(Schema):
    """The answer to a directive, going back to whoever issued it."""

    directive_id = fields.String(required=True, validate=FullMatch(
        UUID_PATTERN, "A UUID in lowercase hex with hyphens."))
    state = one_of(DIRECTIVE_STATES)
    text = text_field()
    replied_by = text_field(USERNAME_MAX, 1)


DIRECTIVE_REPLY_JSON_SCHEMA = js_document(
    Kind.DIRECTIVE_REPLY, "tongban directive.reply body",
    js_object({
        "directive_id": JS_UUID,
        "state": {"enum": list(DIRECTIVE_STATES)},
        "text": js_string(),
        "replied_by": JS_USERNAME,
    }),
)


# -- complaint.forward and complaint.reply -----------------------------------------------------

COMPLAINT_NUMBER_MAX = 40


class ComplaintForwardSchema(Schema):
    """A complaint against a case decided at another center, sent to it by the center below
    (each hop relays it while the case went further up).  The number is the one the
    complainant holds, the same at every hop; the clock is the complaint's as received."""

    number = text_field(COMPLAINT_NUMBER_MAX, 1)
    case = fields.Nested(OriginSchema, required=True)
    content = text_field(TEXT_MAX, 1)
    contact_phone = text_field(32, 1, allow_none=True)
    received_at = Timestamp(required=True)
    due_on = IsoDate(required=True)


COMPLAINT_FORWARD_JSON_SCHEMA = js_document(
    Kind.COMPLAINT_FORWARD, "tongban complaint.forward body",
    js_object({
        "number": js_string(COMPLAINT_NUMBER_MAX, 1),
        "case": JS_ORIGIN,
        "content": js_string(TEXT_MAX, 1),
        "contact_phone": js_nullable(js_string(32, 1)),
        "received_at": JS_TIMESTAMP,
        "due_on": JS_DATE,
    }),
)


class ComplaintReplySchema(Schema):
    """The resolution of a complaint that came from below, going back down to where the
    complainant filed it."""

    number = text_field(COMPLAINT_NUMBER_MAX, 1)
    resolution = text_field(TEXT_MAX, 1)
    resolved_at = Timestamp(required=True)
    resolved_by = code_field()  # the center that resolved it (relays pass it on unchanged)


COMPLAINT_REPLY_JSON_SCHEMA = js_document(
    Kind.COMPLAINT_REPLY, "tongban complaint.reply body",
    js_object({
        "number": js_string(COMPLAINT_NUMBER_MAX, 1),
        "resolution": js_string(TEXT_MAX, 1),
        "resolved_at": JS_TIMESTAMP,
        "resolved_by": JS_CODE,
    }),
)


# -- catalog.publish --------------------------------------------------------------------------


class PublishedMaterialSchema(Schema):
    name = text_field(NAME_MAX, 1)
    required = StrictBoolean(required=True)
    form = one_of(MATERIAL_FORMS)
    copies = int_field(1)
    note = text_field()
    # the material's file rule; absent in catalogs published before it existed (defaults: a
    # file accepted, of DEFAULT_FILE_TYPES, the node's own size limit)
    electronic_accepted = StrictBoolean(required=False)
    file_types = fields.List(one_of(FILE_TYPES), required=False,
                             validate=validate.Length(1, len(FILE_TYPES)))
    max_file_bytes = fields.Integer(strict=True, required=False, allow_none=True,
                                    validate=validate.Range(1, MATERIAL_MAX_FILE_BYTES))


class PublishedMatterSchema(Schema):
    standard_code = text_field(64, 1)
    name = text_field(NAME_MAX, 1)
    category = one_of(MATTER_CATEGORIES)
    handling_level = one_of(LEVELS)
    handling_type = one_of(HANDLING_TYPES)
    legal_limit_days = int_field(0)
    promised_limit_days = int_field(0)
    notify_and_commit = StrictBoolean(required=True)
    deemed_approval = StrictBoolean(required=True)
    legal_basis = text_field()
    procedure = text_field()
    conditions = text_field()
    fee_basis = text_field()
    fee_standard = text_field()
    fee_amount_fen = int_field(0)
    complaint_channel = text_field()
    # the guide's search words; absent in catalogs published before they existed
    keywords = fields.List(text_field(KEYWORD_MAX, 1), required=False,
                           validate=validate.Length(max=MAX_KEYWORDS))
    # the guide's practical fields; absent in catalogs published before they existed
    service_address = text_field(PRACTICAL_MAX["service_address"], required=False)
    office_hours = text_field(PRACTICAL_MAX["office_hours"], required=False)
    enquiry_phone = fields.String(required=False, validate=[
        validate.Length(max=PRACTICAL_MAX["enquiry_phone"]), validate.Regexp(PHONE_TEXT)])
    complaint_phone = fields.String(required=False, validate=[
        validate.Length(max=PRACTICAL_MAX["complaint_phone"]), validate.Regexp(PHONE_TEXT)])
    # 通办: absent in catalogs published before it existed (the node keeps its own)
    tongban_scope = one_of(TONGBAN_SCOPES, required=False)
    competence = one_of(COMPETENCE_RULES, required=False)
    materials = fields.List(fields.Nested(PublishedMaterialSchema), required=True)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data["promised_limit_days"] > data["legal_limit_days"]:
            raise ValidationError("the promised limit exceeds the legal one",
                                  "promised_limit_days")


class CatalogPublishSchema(Schema):
    """The province's standard catalog, for every descendant to adopt; a large catalog comes
    as several envelopes of one version, ``part`` 1 … ``parts`` (absent: the whole of it)."""

    catalog_version = int_field(1)
    published_at = Timestamp(required=True)
    part = int_field(1, required=False)
    parts = int_field(1, required=False)
    matters = fields.List(fields.Nested(PublishedMatterSchema), required=True,
                          validate=validate.Length(min=1))
    # the province's 一件事 bundles (in the last part); absent in catalogs published before
    bundles = fields.List(fields.Nested(PublishedBundleSchema), required=False)

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
        bundle_codes = [bundle["code"] for bundle in data.get("bundles", [])]
        if len(bundle_codes) != len(set(bundle_codes)):
            raise ValidationError("a bundle code listed twice", "bundles")


CATALOG_PUBLISH_JSON_SCHEMA = js_document(
    Kind.CATALOG_PUBLISH, "tongban catalog.publish body",
    js_object({
        "catalog_version": js_int(1),
        "published_at": JS_TIMESTAMP,
        "part": js_int(1),
        "parts": js_int(1),
        "matters": {"type": "array", "minItems": 1, "items": js_object({
            "standard_code": js_string(64, 1),
            "name": js_string(NAME_MAX, 1),
            "category": {"enum": list(MATTER_CATEGORIES)},
            "handling_level": {"enum": list(LEVELS)},
            "handling_type": {"enum": list(HANDLING_TYPES)},
            "legal_limit_days": js_int(0),
            "promised_limit_days": js_int(0),
            "notify_and_commit": {"type": "boolean"},
            "deemed_approval": {"type": "boolean"},
            "legal_basis": js_string(),
            "procedure": js_string(),
            "conditions": js_string(),
            "fee_basis": js_string(),
            "fee_standard": js_string(),
            "fee_amount_fen": js_int(0),
            "complaint_channel": js_string(),
            "keywords": {"type": "array", "maxItems": MAX_KEYWORDS,
                         "items": js_string(KEYWORD_MAX, 1)},
            "service_address": js_string(PRACTICAL_MAX["service_address"]),
            "office_hours": js_string(PRACTICAL_MAX["office_hours"]),
            "enquiry_phone": js_string(PRACTICAL_MAX["enquiry_phone"]) | {
                "pattern": PHONE_TEXT},
            "complaint_phone": js_string(PRACTICAL_MAX["complaint_phone"]) | {
                "pattern": PHONE_TEXT},
            "tongban_scope": {"enum": list(TONGBAN_SCOPES)},
            "competence": {"enum": list(COMPETENCE_RULES)},
            "materials": {"type": "array", "items": js_object({
                "name": js_string(NAME_MAX, 1),
                "required": {"type": "boolean"},
                "form": {"enum": list(MATERIAL_FORMS)},
                "copies": js_int(1),
                "note": js_string(),
                "electronic_accepted": {"type": "boolean"},
                "file_types": {"type": "array", "minItems": 1, "maxItems": len(FILE_TYPES),
                               "items": {"enum": list(FILE_TYPES)}},
                "max_file_bytes": js_nullable({"type": "integer", "minimum": 1,
                                               "maximum": MATERIAL_MAX_FILE_BYTES}),
            }, optional=("electronic_accepted", "file_types", "max_file_bytes"))},
        }, optional=("keywords", *PRACTICAL_FIELDS, *TONGBAN_FIELDS))},
        "bundles": JS_BUNDLES,
    }, optional=("part", "parts", "bundles")),
    "Also: each matter's promised_limit_days is at most its legal_limit_days; each "
    "standard_code appears once; each bundle code appears once; part and parts come "
    "together, part at most parts (a large catalog is sent as several envelopes of one "
    "catalog_version).",
)


# -- the envelope itself ----------------------------------------------------------------------

_ADDRESS_PATTERNS = {
    Addressing.HUB: "^hub$",
    Addressing.NODE: js_pattern(CODE_PATTERN),
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
    kind = one_of(SCHEDULE_DAY_KINDS)
    name = text_field(SCHEDULE_NAME_MAX, 1)


class CalendarPublishSchema(Schema):
    """The province's national holiday schedule of one year (国务院办公厅关于××年部分节假日安排
    的通知), for every descendant to adopt: the public holidays and the weekend days worked
    (调休), each with its holiday's Chinese name.  A higher ``version`` of the same year
    replaces a lower one, whatever order they arrive in."""

    year = fields.Integer(strict=True, required=True, validate=validate.Range(1900, 2199))
    version = int_field(1)
    published_at = Timestamp(required=True)
    source = text_field(SCHEDULE_SOURCE_MAX)
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


CALENDAR_PUBLISH_JSON_SCHEMA = js_document(
    Kind.CALENDAR_PUBLISH, "tongban calendar.publish body",
    js_object({
        "year": {"type": "integer", "minimum": 1900, "maximum": 2199},
        "version": js_int(1),
        "published_at": JS_TIMESTAMP,
        "source": js_string(SCHEDULE_SOURCE_MAX),
        "days": {"type": "array", "minItems": 1, "maxItems": SCHEDULE_DAYS_MAX,
                 "items": js_object({
                     "date": JS_DATE,
                     "kind": {"enum": list(SCHEDULE_DAY_KINDS)},
                     "name": js_string(SCHEDULE_NAME_MAX, 1),
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
    **js_object({
        "v": {"const": ENVELOPE_VERSION},
        "id": JS_UUID,
        "kind": {"enum": [kind.value for kind in Kind]},
        "from": JS_CODE,
        "to": {"type": "string", "pattern": f"^(hub|({CODE_PATTERN})(/\\*)?)$"},
        "seq": js_int(1),
        "ts": JS_TIMESTAMP,
        "key_id": JS_KEY_ID,
        "body": {"type": "object"},
        "sig": JS_SIGNATURE,
    }),
    "allOf": [
        js_if({"kind": {"enum": [k.value for k, a in ADDRESSING.items() if a is addressing]}},
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
    Kind.COMPLAINT_FORWARD: ComplaintForwardSchema,
    Kind.COMPLAINT_REPLY: ComplaintReplySchema,
    Kind.CATALOG_PUBLISH: CatalogPublishSchema,
    Kind.CALENDAR_PUBLISH: CalendarPublishSchema,
    Kind.CERT: CertBodySchema,
    Kind.REVOKE: RevokeBodySchema,
    Kind.AUDIT_RESPONSE: AuditResponseSchema,
}

JSON_SCHEMAS: dict[str, dict[str, Any]] = {
    Kind.SUMMARY.value: SUMMARY_JSON_SCHEMA,
    Kind.CASE_FORWARD.value: CASE_FORWARD_JSON_SCHEMA,
    Kind.CASE_RESULT.value: CASE_RESULT_JSON_SCHEMA,
    Kind.CASE_UPDATE.value: CASE_UPDATE_JSON_SCHEMA,
    Kind.DIRECTIVE.value: DIRECTIVE_JSON_SCHEMA,
    Kind.DIRECTIVE_REPLY.value: DIRECTIVE_REPLY_JSON_SCHEMA,
    Kind.COMPLAINT_FORWARD.value: COMPLAINT_FORWARD_JSON_SCHEMA,
    Kind.COMPLAINT_REPLY.value: COMPLAINT_REPLY_JSON_SCHEMA,
    Kind.CATALOG_PUBLISH.value: CATALOG_PUBLISH_JSON_SCHEMA,
    Kind.CALENDAR_PUBLISH.value: CALENDAR_PUBLISH_JSON_SCHEMA,
    Kind.CERT.value: CERT_JSON_SCHEMA,
    Kind.REVOKE.value: REVOKE_JSON_SCHEMA,
    Kind.AUDIT_RESPONSE.value: js_document(
        Kind.AUDIT_RESPONSE, "tongban audit.response body", AUDIT_RESPONSE_BODY,
        "A node's answer to a sampled audit (docs/verification.md)."),
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
