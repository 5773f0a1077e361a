"""The 一件事 bundles a ``catalog.publish`` body carries (node/catalog/bundles.py): each
bundle's marshmallow schema and its JSON Schema, for :mod:`schemas.messages`."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from schemas.message_parts import NAME_MAX, js_object, js_string, text_field

BUNDLE_CODE = r"^[A-Za-z0-9_.-]{1,64}$"
FIELD_KEY = r"^[a-z][a-z0-9_]{0,39}$"


class PublishedFormFieldSchema(Schema):
    key = fields.String(required=True, validate=validate.Regexp(FIELD_KEY))
    label = text_field(100, 1)


class PublishedBundleMatterSchema(Schema):
    standard_code = text_field(64, 1)
    form_fields = fields.List(fields.Nested(PublishedFormFieldSchema), required=True,
                              validate=validate.Length(max=40))


class PublishedBundleSchema(Schema):
    """一件事: matters applied for once (node/catalog/bundles.py)."""

    code = fields.String(required=True, validate=validate.Regexp(BUNDLE_CODE))
    name = text_field(NAME_MAX, 1)
    description = text_field()
    matters = fields.List(fields.Nested(PublishedBundleMatterSchema), required=True,
                          validate=validate.Length(min=2, max=20))


JS_BUNDLES: dict[str, Any] = {"type": "array", "items": js_object({
    "code": {"type": "string", "pattern": BUNDLE_CODE},
    "name": js_string(NAME_MAX, 1),
    "description": js_string(),
    "matters": {"type": "array", "minItems": 2, "maxItems": 20, "items": js_object({
        "standard_code": js_string(64, 1),
        "form_fields": {"type": "array", "maxItems": 40, "items": js_object({
            "key": {"type": "string", "pattern": FIELD_KEY},
            "label": js_string(100, 1),
        })},
    })},
})}
