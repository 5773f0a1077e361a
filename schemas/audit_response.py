"""The ``audit.response`` message body: a node's answer to a sampled audit of one of its
summaries (schemas/commitment.py, docs/verification.md).

``audit`` the hub's audit id, ``summary`` the audited summary envelope's id, ``seed`` the
sample's seed, ``size``/``root``/``as_of`` the tree as kept, and per sampled index the leaf as
committed (``leaf``, salt included), its RFC 9162 inclusion proof (``proof``, hex, from the
leaf's sibling up) and the same case's leaf recomputed from its record now (``current``; null
when the node no longer holds the case).  Hashes, dates, codes and flags: no personal data.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate

from schemas.summary import LEAF_STATES

CHANNELS = ("window", "online", "village_agent", "department_office")
HEX64 = r"^[0-9a-f]{64}\Z"
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"
MAX_ITEMS = 200
MAX_PROOF = 64
MAX_COUNT = 2**53 - 1


class StrictBoolean(fields.Boolean):
    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be a JSON boolean")
        return value


def _day() -> fields.String:
    return fields.String(required=True, allow_none=True, validate=validate.Regexp(DATE))


def _flag() -> StrictBoolean:
    return StrictBoolean(required=True, allow_none=True)


class LeafSchema(Schema):
    v = fields.Integer(strict=True, required=True, validate=validate.Equal(1))
    case = fields.String(required=True, validate=validate.Length(min=1, max=64))
    matter = fields.String(required=True, validate=validate.Length(min=1, max=64))
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    from_below = StrictBoolean(required=True)
    received = _day()
    accepted = _day()
    deadline = _day()
    completed = _day()
    closed = _day()
    forwarded = _day()
    on_time = _flag()
    same_day = _flag()
    state = fields.String(required=True, validate=validate.OneOf(LEAF_STATES))
    fee_fen = fields.Integer(strict=True, required=True,
                             validate=validate.Range(min=0, max=MAX_COUNT))
    salt = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{32}\Z"))


class AuditItemSchema(Schema):
    index = fields.Integer(strict=True, required=True,
                           validate=validate.Range(min=0, max=MAX_COUNT))
    leaf = fields.Nested(LeafSchema, required=True)
    proof = fields.List(fields.String(validate=validate.Regexp(HEX64)), required=True,
                        validate=validate.Length(max=MAX_PROOF))
    current = fields.Nested(LeafSchema, required=True, allow_none=True)


class AuditResponseSchema(Schema):
    audit = fields.String(required=True, validate=validate.Regexp(UUID))
    summary = fields.String(required=True, validate=validate.Regexp(UUID))
    seed = fields.String(required=True, validate=validate.Regexp(HEX64))
    size = fields.Integer(strict=True, required=True,
                          validate=validate.Range(min=0, max=MAX_COUNT))
    root = fields.String(required=True, validate=validate.Regexp(HEX64))
    as_of = fields.String(required=True, validate=validate.Regexp(DATE))
    items = fields.List(fields.Nested(AuditItemSchema), required=True,
                        validate=validate.Length(max=MAX_ITEMS))


def _js(pattern: str) -> dict[str, Any]:
    return {"type": "string", "pattern": pattern.removesuffix("\\Z") + "$"}


_JS_DAY = {"anyOf": [_js(DATE), {"type": "null"}]}
_JS_FLAG = {"anyOf": [{"type": "boolean"}, {"type": "null"}]}
_JS_LEAF = {
    "type": "object", "additionalProperties": False,
    "required": ["v", "case", "matter", "channel", "from_below", "received", "accepted",
                 "deadline", "completed", "closed", "forwarded", "on_time", "same_day",
                 "state", "fee_fen", "salt"],
    "properties": {
        "v": {"const": 1},
        "case": {"type": "string", "minLength": 1, "maxLength": 64},
        "matter": {"type": "string", "minLength": 1, "maxLength": 64},
        "channel": {"enum": list(CHANNELS)},
        "from_below": {"type": "boolean"},
        **dict.fromkeys(("received", "accepted", "deadline", "completed", "closed",
                         "forwarded"), _JS_DAY),
        "on_time": _JS_FLAG, "same_day": _JS_FLAG,
        "state": {"enum": list(LEAF_STATES)},
        "fee_fen": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
        "salt": _js(r"^[0-9a-f]{32}\Z"),
    },
}

AUDIT_RESPONSE_BODY: dict[str, Any] = {
    "type": "object", "additionalProperties": False,
    "required": ["audit", "summary", "seed", "size", "root", "as_of", "items"],
    "properties": {
        "audit": _js(UUID), "summary": _js(UUID), "seed": _js(HEX64),
        "size": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
        "root": _js(HEX64), "as_of": _js(DATE),
        "items": {"type": "array", "maxItems": MAX_ITEMS, "items": {
            "type": "object", "additionalProperties": False,
            "required": ["index", "leaf", "proof", "current"],
            "properties": {
                "index": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
                "leaf": _JS_LEAF,
                "proof": {"type": "array", "maxItems": MAX_PROOF, "items": _js(HEX64)},
                "current": {"anyOf": [_JS_LEAF, {"type": "null"}]},
            },
        }},
    },
}
