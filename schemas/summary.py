"""The ``summary`` message body: a center's figures for one period (DESIGN.md, "Summaries and
rankings").  Versioned; carries no personal data; every number an integer.

Each metric names its unit, so the hub can add up counts and recompute rates without knowing
the node's metric definitions: ``{"unit": "basis_points", "numerator": 98, "denominator": 100,
"value": 9800}``.  A rate whose denominator is 0 has no ``value``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

SUMMARY_SCHEMA_ID = "tongban.summary"
SUMMARY_VERSION = 1
UNITS = ("count", "fen", "basis_points", "per_month", "hundredths")
# the units that carry a numerator and a denominator (schemas/metrics.py RATIO_UNITS)
RATIO_UNITS = ("basis_points", "per_month", "hundredths")
METRIC_KEY = r"^[a-z][a-z0-9_]{0,47}$"
POWER_KEYS = ("accept", "review", "coordinate", "deliver", "litigate", "issue", "approve")


class StrictBoolean(fields.Boolean):
    """JSON ``true``/``false`` only (marshmallow's Boolean also takes "yes", 1, …)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError("must be a JSON boolean")
        return value


class MetricValueSchema(Schema):
    unit = fields.String(required=True, validate=validate.OneOf(UNITS))
    value = fields.Integer(strict=True)
    numerator = fields.Integer(strict=True, validate=validate.Range(min=0))
    denominator = fields.Integer(strict=True, validate=validate.Range(min=0))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        has_ratio = "numerator" in data or "denominator" in data
        if data["unit"] in RATIO_UNITS:
            if "numerator" not in data or "denominator" not in data:
                raise ValidationError("a rate carries its numerator and its denominator")
            if data["denominator"] == 0 and "value" in data:
                raise ValidationError("a rate with denominator 0 has no value")
            if data["denominator"] > 0 and "value" not in data:
                raise ValidationError("a rate with a denominator carries its value")
        elif has_ratio or "value" not in data:
            raise ValidationError("a count carries a value and no ratio")


class SummaryNodeSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^([0-9]{6}|[0-9]{9})\Z"))
    name = fields.String(required=True, validate=validate.Length(max=100))
    level = fields.String(
        required=True, validate=validate.OneOf(("province", "city", "county", "township"))
    )
    kind = fields.String(
        allow_none=True, validate=validate.OneOf(("district", "county", "county_city"))
    )
    parent = fields.String(allow_none=True, validate=validate.Regexp(r"^([0-9]{6}|[0-9]{9})\Z"))


class SummaryPeriodSchema(Schema):
    kind = fields.String(
        required=True, validate=validate.OneOf(("day", "month", "quarter", "year"))
    )
    label = fields.String(required=True)
    start = fields.Date(required=True)
    end = fields.Date(required=True)


class CatalogFiguresSchema(Schema):
    should_enter = fields.Integer(strict=True, required=True)
    entered = fields.Integer(strict=True, required=True)
    entered_of_should = fields.Integer(strict=True, required=True)
    authorized = fields.Dict(
        keys=fields.String(validate=validate.OneOf(POWER_KEYS)),
        values=fields.Integer(strict=True),
        required=True,
    )


HEAD_PATTERN = r"^[0-9a-f]{64}\Z"
RESTORE_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z"


class AuditAnchorSchema(Schema):
    """The sender's audit head when it signed the summary (docs/sync.md, "Audit anchors"):
    ``entries`` in its audit chain, the ``head`` hash of the last one, and ``restore``, the
    id of the last restore from a backup this database went through (null: none).  Hashes
    and counts only: no personal data."""

    entries = fields.Integer(strict=True, required=True,
                             validate=validate.Range(min=0, max=2**53 - 1))
    head = fields.String(required=True, validate=validate.Regexp(HEAD_PATTERN))
    restore = fields.String(required=True, allow_none=True,
                            validate=validate.Regexp(RESTORE_PATTERN))


COMMITMENT_KEYS = (
    "received", "received_window", "received_online", "received_village_agent",
    "received_department_office", "received_from_below", "accepted", "completed",
    "completed_on_time", "completed_late", "completed_same_day", "returned_with_result",
    "rejected", "withdrawn", "forwarded_up", "open_at_end", "overdue_open", "fees_center_fen",
)
LEAF_STATES = ("received", "open", "overdue", "completed", "rejected", "withdrawn", "forwarded",
               "closed")
MAX_COUNT = 2**53 - 1


class CommitmentSchema(Schema):
    """The summary's commitment to its case records (schemas/commitment.py,
    docs/verification.md): an RFC 9162 tree's ``size`` and ``root``, the day ``as_of`` whose
    end the leaves describe, what the leaves add up to (``tallies``) and how many leaves are
    in each state (``by_state``).  Hashes and counts only: no personal data."""

    size = fields.Integer(strict=True, required=True,
                          validate=validate.Range(min=0, max=MAX_COUNT))
    root = fields.String(required=True, validate=validate.Regexp(HEAD_PATTERN))
    as_of = fields.Date(required=True)
    tallies = fields.Dict(keys=fields.String(validate=validate.OneOf(COMMITMENT_KEYS)),
                          values=fields.Integer(strict=True,
                                                validate=validate.Range(min=0, max=MAX_COUNT)),
                          required=True)
    by_state = fields.Dict(keys=fields.String(validate=validate.OneOf(LEAF_STATES)),
                           values=fields.Integer(strict=True,
                                                 validate=validate.Range(min=0, max=MAX_COUNT)),
                           required=True)


class SummarySchema(Schema):
    schema = fields.String(required=True, validate=validate.Equal(SUMMARY_SCHEMA_ID))
    version = fields.Integer(required=True, strict=True, validate=validate.Equal(SUMMARY_VERSION))
    node = fields.Nested(SummaryNodeSchema, required=True)
    period = fields.Nested(SummaryPeriodSchema, required=True)
    computed_at = fields.AwareDateTime(required=True)
    final = StrictBoolean(required=True)
    metrics = fields.Dict(
        keys=fields.String(validate=validate.Regexp(METRIC_KEY)),
        values=fields.Nested(MetricValueSchema),
        required=True,
    )
    catalog = fields.Nested(CatalogFiguresSchema, required=True)
    # optional: summaries of nodes from before issue 16 carry no anchor
    audit = fields.Nested(AuditAnchorSchema)
    # optional: summaries of nodes from before issue 21 carry no commitment
    commitment = fields.Nested(CommitmentSchema)


_RATIO_UNITS = list(RATIO_UNITS)
_METRIC_JSON_SCHEMA = {
    "type": "object",
    "required": ["unit"],
    "additionalProperties": False,
    "properties": {
        "unit": {"enum": list(UNITS)},
        "value": {"type": "integer"},
        "numerator": {"type": "integer", "minimum": 0},
        "denominator": {"type": "integer", "minimum": 0},
    },
    # the same unit rules as MetricValueSchema
    "allOf": [
        {
            "if": {"properties": {"unit": {"enum": _RATIO_UNITS}}},
            "then": {
                "required": ["numerator", "denominator"],
                "anyOf": [
                    {"properties": {"denominator": {"const": 0}}, "not": {"required": ["value"]}},
                    {"properties": {"denominator": {"minimum": 1}}, "required": ["value"]},
                ],
            },
            "else": {
                "required": ["value"],
                "not": {"anyOf": [{"required": ["numerator"]}, {"required": ["denominator"]}]},
            },
        }
    ],
}

_CODE = {"type": "string", "pattern": "^([0-9]{6}|[0-9]{9})$"}

SUMMARY_JSON_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": f"{SUMMARY_SCHEMA_ID}/v{SUMMARY_VERSION}",
    "title": "tongban summary body",
    "description": __doc__.strip().splitlines()[0] if __doc__ else "",
    "type": "object",
    "additionalProperties": False,
    "required": ["schema", "version", "node", "period", "computed_at", "final", "metrics",
                 "catalog"],
    "properties": {
        "schema": {"const": SUMMARY_SCHEMA_ID},
        "version": {"const": SUMMARY_VERSION},
        "node": {
            "type": "object",
            "additionalProperties": False,
            "required": ["code", "name", "level"],
            "properties": {
                "code": _CODE,
                "name": {"type": "string", "maxLength": 100},
                "level": {"enum": ["province", "city", "county", "township"]},
                "kind": {"enum": ["district", "county", "county_city", None]},
                "parent": {"anyOf": [_CODE, {"type": "null"}]},
            },
        },
        "period": {
            "type": "object",
            "additionalProperties": False,
            "required": ["kind", "label", "start", "end"],
            "properties": {
                "kind": {"enum": ["day", "month", "quarter", "year"]},
                "label": {"type": "string"},
                "start": {"type": "string", "format": "date"},
                "end": {"type": "string", "format": "date"},
            },
        },
        "computed_at": {
            "type": "string",
            "format": "date-time",
            # an offset is required (RFC 3339), also where a validator skips formats
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9]{2}:[0-9]{2})$",
        },
        "final": {"type": "boolean"},
        "metrics": {
            "type": "object",
            "propertyNames": {"pattern": METRIC_KEY},
            "additionalProperties": _METRIC_JSON_SCHEMA,
        },
        "audit": {
            "type": "object",
            "additionalProperties": False,
            "required": ["entries", "head", "restore"],
            "properties": {
                "entries": {"type": "integer", "minimum": 0, "maximum": 2**53 - 1},
                # the lengths too: a validator whose "$" admits a final newline still refuses
                "head": {"type": "string", "minLength": 64, "maxLength": 64,
                         "pattern": HEAD_PATTERN.removesuffix("\\Z") + "$"},
                "restore": {"anyOf": [
                    {"type": "string", "minLength": 36, "maxLength": 36,
                     "pattern": RESTORE_PATTERN.removesuffix("\\Z") + "$"},
                    {"type": "null"}]},
            },
        },
        "commitment": {
            "type": "object",
            "additionalProperties": False,
            "required": ["size", "root", "as_of", "tallies", "by_state"],
            "properties": {
                "size": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT},
                "root": {"type": "string", "minLength": 64, "maxLength": 64,
                         "pattern": HEAD_PATTERN.removesuffix("\\Z") + "$"},
                "as_of": {"type": "string", "format": "date"},
                "tallies": {
                    "type": "object",
                    "propertyNames": {"enum": list(COMMITMENT_KEYS)},
                    "additionalProperties": {"type": "integer", "minimum": 0,
                                             "maximum": MAX_COUNT},
                },
                "by_state": {
                    "type": "object",
                    "propertyNames": {"enum": list(LEAF_STATES)},
                    "additionalProperties": {"type": "integer", "minimum": 0,
                                             "maximum": MAX_COUNT},
                },
            },
        },
        "catalog": {
            "type": "object",
            "additionalProperties": False,
            "required": ["should_enter", "entered", "entered_of_should", "authorized"],
            "properties": {
                "should_enter": {"type": "integer"},
                "entered": {"type": "integer"},
                "entered_of_should": {"type": "integer"},
                "authorized": {
                    "type": "object",
                    "propertyNames": {"enum": list(POWER_KEYS)},
                    "additionalProperties": {"type": "integer"},
                },
            },
        },
    },
}
