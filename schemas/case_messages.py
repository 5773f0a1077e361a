"""The bodies of ``case.forward``, ``case.result`` and ``case.update``: a marshmallow schema and a
published JSON Schema each (see :mod:`schemas.messages`).

Only ``case.forward`` carries an applicant's personal data: a forward is the case itself
travelling to the center that decides it, never a figure about it.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from schemas.kinds import (
    Kind,
)
from schemas.message_parts import (
    APPLICANT_KINDS,
    ATTACHMENTS_MAX,
    CASE_STATES,
    CHANNELS,
    COMPETENCE_RULES,
    JS_ATTACHMENTS,
    JS_CODE,
    JS_DATE,
    JS_ORIGIN,
    JS_TIMESTAMP,
    NAME_MAX,
    OUTCOMES,
    PERSON_NAME_MAX,
    REASON_MAX,
    AttachmentSchema,
    IsoDate,
    OriginSchema,
    Timestamp,
    code_field,
    int_field,
    js_document,
    js_if,
    js_int,
    js_nullable,
    js_object,
    js_string,
    one_of,
    text_field,
)

# -- case.forward -----------------------------------------------------------------------------


class ForwardedMatterSchema(Schema):
    code = text_field(64, 1)
    name = text_field(NAME_MAX, 1)
    standard_code = text_field(64, 1, allow_none=True)


class ApplicantSchema(Schema):
    name = text_field(PERSON_NAME_MAX, 1)
    id_number = text_field(32, 1, allow_none=True)
    phone = text_field(32, 1, allow_none=True)
    kind = one_of(APPLICANT_KINDS)


class TongbanSchema(Schema):
    """通办: the competence rule the receiving center applied and the division it named."""

    rule = one_of(COMPETENCE_RULES)
    division = code_field()


# the sender's history of the case sent with a forward: at most this many events, the newest
# kept (node/cases/history.py: wire_history); a longer list is refused
HISTORY_MAX = 100


class HistoryEventSchema(Schema):
    """One step the case took at a center it passed: its kind, time, who (a display name,
    never a username) and the note."""

    at = Timestamp(required=True)
    center = code_field()
    action = text_field(32, 1)
    by = text_field(NAME_MAX, 1)
    note = text_field(REASON_MAX, allow_none=True)


class CaseForwardSchema(Schema):
    """A case going up to the center that decides it (上报), with its attachments."""

    origin = fields.Nested(OriginSchema, required=True)
    chain = fields.List(code_field(), required=True, validate=validate.Length(min=1, max=8))
    matter = fields.Nested(ForwardedMatterSchema, required=True)
    applicant = fields.Nested(ApplicantSchema, required=True)
    channel = one_of(CHANNELS)
    received_on = IsoDate(required=True)
    # a case may be forwarded straight from "submitted", before it is accepted
    accepted_on = IsoDate(required=True, allow_none=True)
    promised_days = int_field(0)
    deadline_on = IsoDate(required=True, allow_none=True)
    notes = text_field()
    attachments = fields.List(fields.Nested(AttachmentSchema), required=True,
                              validate=validate.Length(max=ATTACHMENTS_MAX))
    forwarded_at = Timestamp(required=True)
    # 通办 (代收代办): present when the case went sideways to the competent center
    tongban = fields.Nested(TongbanSchema, required=False)
    # the history so far at the centers the case passed (absent from older senders)
    history = fields.List(fields.Nested(HistoryEventSchema), required=False,
                          validate=validate.Length(max=HISTORY_MAX))

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


CASE_FORWARD_JSON_SCHEMA = js_document(
    Kind.CASE_FORWARD, "tongban case.forward body",
    js_object({
        "origin": JS_ORIGIN,
        "chain": {"type": "array", "minItems": 1, "maxItems": 8, "uniqueItems": True,
                  "items": JS_CODE},
        "matter": js_object({
            "code": js_string(64, 1),
            "name": js_string(NAME_MAX, 1),
            "standard_code": js_nullable(js_string(64, 1)),
        }),
        "applicant": js_object({
            "name": js_string(PERSON_NAME_MAX, 1),
            "id_number": js_nullable(js_string(32, 1)),
            "phone": js_nullable(js_string(32, 1)),
            "kind": {"enum": list(APPLICANT_KINDS)},
        }),
        "channel": {"enum": list(CHANNELS)},
        "received_on": JS_DATE,
        "accepted_on": js_nullable(JS_DATE),
        "promised_days": js_int(0),
        "deadline_on": js_nullable(JS_DATE),
        "notes": js_string(),
        "attachments": JS_ATTACHMENTS,
        "forwarded_at": JS_TIMESTAMP,
        "tongban": js_object({"rule": {"enum": list(COMPETENCE_RULES)}, "division": JS_CODE}),
        "history": {"type": "array", "maxItems": HISTORY_MAX, "items": js_object({
            "at": JS_TIMESTAMP, "center": JS_CODE, "action": js_string(32, 1),
            "by": js_string(NAME_MAX, 1), "note": js_nullable(js_string(REASON_MAX)),
        })},
    }, optional=("tongban", "history")),
    "Also: chain[0] is origin.node; accepted_on is not before received_on; a deadline_on "
    "needs an accepted_on and is not before it.",
)


# -- case.result ------------------------------------------------------------------------------


class CaseResultSchema(Schema):
    """The decision on a forwarded case, going back to its origin."""

    origin = fields.Nested(OriginSchema, required=True)
    outcome = one_of(OUTCOMES)
    reason = text_field(REASON_MAX, 1, required=False, allow_none=True)
    decided_on = IsoDate(required=True, allow_none=True)
    decided_by_node = code_field()
    documents = fields.List(fields.Nested(AttachmentSchema), required=True,
                            validate=validate.Length(max=ATTACHMENTS_MAX))
    fee_due_fen = int_field(0)
    # the case's number at the center that sends this (linked at the origin); absent before
    case_number = text_field(64, 1, required=False)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data["outcome"] in ("denied", "returned") and not data.get("reason"):
            raise ValidationError(f"a case {data['outcome']} needs a reason", "reason")
        if data["outcome"] in ("approved", "denied") and data["decided_on"] is None:
            raise ValidationError(f"a case {data['outcome']} has a decision day", "decided_on")


CASE_RESULT_JSON_SCHEMA = js_document(
    Kind.CASE_RESULT, "tongban case.result body",
    js_object({
        "origin": JS_ORIGIN,
        "outcome": {"enum": list(OUTCOMES)},
        "reason": js_nullable(js_string(REASON_MAX, 1)),
        "decided_on": js_nullable(JS_DATE),
        "decided_by_node": JS_CODE,
        "documents": JS_ATTACHMENTS,
        "fee_due_fen": js_int(0),
        "case_number": js_string(64, 1),
    }, optional=("reason", "case_number")) | {"allOf": [
        js_if({"outcome": {"enum": ["denied", "returned"]}},
               {"required": ["reason"], "properties": {"reason": {"type": "string"}}}),
        js_if({"outcome": {"enum": ["approved", "denied"]}},
               {"properties": {"decided_on": {"type": "string"}}}),
    ]},
)


# -- case.update ------------------------------------------------------------------------------


class CaseUpdateSchema(Schema):
    """Progress on a forwarded case, told to its origin; or, with ``step``, a step the
    receiving center of a 通办 case took after sending it (a visit to its hall, 办结, 送达),
    told to the competent center, which keeps it in the case's history."""

    origin = fields.Nested(OriginSchema, required=True)
    state = one_of(CASE_STATES)
    note = text_field()
    at = Timestamp(required=True)
    case_number = text_field(64, 1, required=False)
    # 通办: the receiving center's step (absent from progress told to the origin)
    step = fields.Nested(HistoryEventSchema, required=False)


CASE_UPDATE_JSON_SCHEMA = js_document(
    Kind.CASE_UPDATE, "tongban case.update body",
    js_object({
        "origin": JS_ORIGIN,
        "state": {"enum": list(CASE_STATES)},
        "note": js_string(),
        "at": JS_TIMESTAMP,
        "case_number": js_string(64, 1),
        "step": js_object({
            "at": JS_TIMESTAMP, "center": JS_CODE, "action": js_string(32, 1),
            "by": js_string(NAME_MAX, 1), "note": js_nullable(js_string(REASON_MAX)),
        }),
    }, optional=("case_number", "step")),
)
