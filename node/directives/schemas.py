"""marshmallow schemas of directives (督办), shared by the API (node/api/directives.py) and
the supervision pages."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field
from node.directives.models import (
    REPLY_STATES,
    DirectiveDirection,
    DirectiveState,
    DirectiveSubject,
)
from schemas.message_parts import CASE_NUMBER_MAX, TEXT_MAX

CODE = validate.Regexp(r"^(?:[0-9]{6}|[0-9]{9})\Z", error="A 6- or 9-digit division code.")


class DirectiveListArgs(Schema):
    direction = fields.Enum(DirectiveDirection, by_value=True, load_default=None)
    state = fields.Enum(DirectiveState, by_value=True, load_default=None)


class IssueSchema(Schema):
    target = fields.String(required=True, validate=CODE,
                           metadata={"description": "A division code below this center"})
    subject = fields.Enum(DirectiveSubject, by_value=True, required=True)
    case_number = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(1, CASE_NUMBER_MAX))
    metric = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 48))
    text = fields.String(load_default="", validate=validate.Length(0, TEXT_MAX))
    due_on = fields.Date(required=True)


class ReplySchema(Schema):
    state = fields.String(required=True, validate=validate.OneOf([s.value for s in REPLY_STATES]))
    text = fields.String(required=True, validate=validate.Length(0, TEXT_MAX))


class DirectiveSchema(Schema):
    directive_id = fields.String()
    direction = fields.String()
    issuer_node = fields.String()
    target_node = fields.String()
    subject = fields.String()
    case_number = fields.String(allow_none=True)
    metric = fields.String(allow_none=True)
    text = fields.String()
    due_on = fields.Date()
    issued_by = fields.String()
    issued_at = fields.AwareDateTime()
    state = fields.String()
    reply_text = fields.String(allow_none=True)
    replied_by = fields.String(allow_none=True)
    replied_at = fields.AwareDateTime(allow_none=True)
    updated_at = fields.AwareDateTime()
    overdue = fields.Boolean(metadata={"description": "Past its due day and not done"})
