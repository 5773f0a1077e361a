"""marshmallow schemas of 一件事 bundles and bundle cases, shared by the API and the pages."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field
from node.bundles.models import BundleState
from node.bundles.service import BundleApplication
from node.cases.models import Channel
from node.cases.states import CaseState
from node.catalog.bundles import BundleDefinition, FormField
from node.catalog.models import MaterialForm
from schemas.divisions import Level


class FormFieldSchema(Schema):
    key = fields.String(required=True, validate=validate.Length(1, 40))
    label = fields.String(required=True, validate=validate.Length(1, 100))


class BundleMatterSchema(Schema):
    matter_code = fields.String(required=True, validate=validate.Length(1, 64))
    form_fields = fields.List(fields.Nested(FormFieldSchema), load_default=list,
                              validate=validate.Length(max=40))


class BundleDefinitionSchema(Schema):
    """A bundle as the province defines it; the code is the URL's."""

    name = fields.String(required=True, validate=validate.Length(1, 200))
    description = fields.String(load_default="", validate=validate.Length(max=2000))
    matters = fields.List(fields.Nested(BundleMatterSchema), required=True,
                          validate=validate.Length(2, 20))

    def definition(self, code: str, data: dict[str, Any]) -> BundleDefinition:
        return BundleDefinition(
            code=code, name=data["name"], description=data["description"],
            items=tuple((m["matter_code"], tuple(FormField(f["key"], f["label"])
                                                 for f in m["form_fields"]))
                        for m in data["matters"]))


class BundlePartSchema(Schema):
    matter_code = fields.String()
    matter_name = fields.String()
    department_code = fields.String()
    department_name = fields.String()
    handling_level = fields.Enum(Level, by_value=True)
    promised_limit_days = fields.Integer()
    decided_above = fields.Boolean(metadata={
        "description": "forwarded to the center of its handling level, which decides it"})


class MergedMaterialSchema(Schema):
    name = fields.String()
    required = fields.Boolean()
    form = fields.Enum(MaterialForm, by_value=True)
    copies = fields.Integer()
    matters = fields.List(fields.String(), metadata={
        "description": "the codes of the bundle's matters that ask for it"})


class BundleSchema(Schema):
    code = fields.String()
    name = fields.String()
    description = fields.String()
    published_by = fields.String(allow_none=True, metadata={
        "description": "the province it was adopted from; null for one defined here"})
    retired = fields.Boolean()
    matters = fields.List(fields.String())
    parts = fields.List(fields.Nested(BundlePartSchema))
    form = fields.List(fields.Nested(FormFieldSchema), metadata={
        "description": "the merged form: the union of the matters' fields by key"})
    materials = fields.List(fields.Nested(MergedMaterialSchema), metadata={
        "description": "the matters' materials deduplicated by name"})
    promised_limit_days = fields.Integer(metadata={
        "description": "the sum of the matters' promised limits (working days)"})
    missing = fields.List(fields.String(), metadata={
        "description": "matter codes of the bundle this center does not offer"})


class BundleListSchema(Schema):
    items = fields.List(fields.Nested(BundleSchema))


class BundleApplicationSchema(Schema):
    """One application for a bundle, loaded as the service's :class:`BundleApplication`."""

    bundle_code = fields.String(required=True, validate=validate.Length(1, 64))
    channel = fields.Enum(Channel, by_value=True, load_default=Channel.WINDOW)
    applicant_name = fields.String(required=True, validate=validate.Length(1, 100))
    applicant_id_number = fields.String(load_default=None, allow_none=True)
    applicant_phone = fields.String(load_default=None, allow_none=True)
    form = fields.Dict(keys=fields.String(validate=validate.Length(1, 40)),
                       values=fields.String(validate=validate.Length(max=500)),
                       load_default=dict)
    notes = fields.String(load_default="", validate=validate.Length(max=2000))
    joint_department_codes = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 64)),
        values=fields.List(fields.String(validate=validate.Length(1, 32)),
                           validate=validate.Length(max=10)),
        load_default=dict, metadata={"description": (
            "联合办理: per matter code of the bundle, the departments that decide its part "
            "jointly with the matter's own (a part decided here only)")})

    @validates("channel")
    def _not_online(self, value: Channel, **_: Any) -> None:
        if value is Channel.ONLINE:
            raise ValidationError("online applications come through the public site")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> BundleApplication:
        return BundleApplication(**data)


class OnlineBundleApplicationSchema(BundleApplicationSchema):
    """网上申报 of a bundle: the channel is online."""

    class Meta:
        exclude = ("channel", "joint_department_codes")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> BundleApplication:
        return BundleApplication(**data, channel=Channel.ONLINE)


class BundleCasePartSchema(Schema):
    number = fields.String()
    matter_code = fields.String()
    matter_name = fields.String()
    department_name = fields.String()
    state = fields.Enum(CaseState, by_value=True)
    outcome = fields.String(metadata={"description": "granted, refused, withdrawn or open"})
    forwarded_to = fields.String(allow_none=True, metadata={
        "description": "the center above that decides it, when forwarded"})
    deadline_on = fields.Date(allow_none=True)
    completed_on = fields.Date(allow_none=True)


class BundleCaseRowSchema(Schema):
    """A bundle case as a list shows it: without its parts (``GET
    /bundle-cases/<number>`` has them)."""

    number = fields.String()
    bundle_code = fields.Function(lambda b: b.bundle.code)
    bundle_name = fields.Function(lambda b: b.bundle.name)
    state = fields.Enum(BundleState, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    applicant_name = fields.String()
    received_on = fields.Date()
    ended_on = fields.Date(allow_none=True)


class BundleCaseSchema(Schema):
    number = fields.String()
    bundle_code = fields.String()
    bundle_name = fields.String()
    state = fields.Enum(BundleState, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    applicant_name = fields.String()
    received_on = fields.Date()
    ended_on = fields.Date(allow_none=True)
    promised_days = fields.Integer(metadata={
        "description": "the sum of the parts' promised limits (working days)"})
    used_days = fields.Integer(allow_none=True, metadata={
        "description": "working days from receipt to the end of the last part"})
    notice_number = fields.String(allow_none=True, metadata={
        "description": "the result notice (一件事办结通知书), numbered when the bundle ends"})
    parts = fields.List(fields.Nested(BundleCasePartSchema))


class BundleSubmissionSchema(BundleCaseSchema):
    query_code = fields.String(metadata={
        "description": "the bundle's query code, shown once to the applicant"})


class LookupArgs(Schema):
    code = fields.String(required=True, validate=validate.Length(1, 32))
