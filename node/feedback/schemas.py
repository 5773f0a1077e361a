"""marshmallow schemas of the feedback forms, each shared by the API and the pages: the
public's lookup, evaluation and complaint (node/api/public.py, node/web/public.py) and the
supervision's complaints and rectifications (node/api/supervision.py and its pages)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, post_load, validate

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field
from node.feedback.inputs import NewComplaint
from node.feedback.models import EvaluationLevel

TEXT = validate.Length(1, 5000)
CODE = validate.Length(1, 32)


class LookupArgs(Schema):
    code = fields.String(required=True, validate=CODE,
                         metadata={"description": "The query code given at submission"})


class EvaluationArgs(Schema):
    code = fields.String(required=True, validate=CODE)
    level = fields.Enum(
        EvaluationLevel, by_value=True, required=True,
        metadata={"description": "非常满意 very_satisfied, 满意 satisfied, 基本满意 basic, "
                                 "不满意 dissatisfied, 非常不满意 very_dissatisfied"},
    )
    comment = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=2000))


class ComplaintArgs(Schema):
    """A complaint as the public files it; loaded as a :class:`NewComplaint`."""

    case_number = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(1, 32))
    code = fields.String(load_default=None, allow_none=True, validate=CODE,
                         metadata={"description": "Required with case_number"})
    window_code = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(1, 32))
    staff_code = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(1, 32),
                               metadata={"description": "the 工号 on the staff member's badge "
                                                        "(an unknown one is accepted)"})
    content = fields.String(required=True, validate=validate.Length(1, 5000))
    contact_phone = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(max=20))

    @post_load
    def complaint(self, data: dict[str, Any], **_kwargs: Any) -> NewComplaint:
        return NewComplaint(**data)


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
    "CODE",
    "TEXT",
    "ComplaintArgs",
    "ComplaintResolveArgs",
    "EvaluationArgs",
    "LookupArgs",
    "RectificationExtendArgs",
    "RectificationNoteArgs",
    "RectificationReasonArgs",
]
