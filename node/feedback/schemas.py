"""marshmallow schemas of the supervision's feedback forms (complaints, rectifications),
shared by the API (node/api/supervision.py) and the supervision pages."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field

TEXT = validate.Length(1, 5000)


class ComplaintResolveArgs(Schema):
    resolution = fields.String(required=True, validate=TEXT)


class RectificationNoteArgs(Schema):
    note = fields.String(required=True, validate=TEXT)
    followed_up = fields.Boolean(load_default=False, metadata={
        "description": "回访: the applicant was called back and told what was done "
                       "(实名差评回访整改率)"})


class RectificationReasonArgs(Schema):
    reason = fields.String(required=True, validate=TEXT)


class RectificationExtendArgs(RectificationReasonArgs):
    days = fields.Integer(strict=True, required=True,
                          metadata={"description": "Working days added to the deadline"})


__all__ = [
    "TEXT",
    "ComplaintResolveArgs",
    "RectificationExtendArgs",
    "RectificationNoteArgs",
    "RectificationReasonArgs",
]
