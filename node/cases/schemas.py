"""marshmallow schemas of a case, shared by the cases API (node/api/cases.py) and the pages."""

from __future__ import annotations

import json
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field
from node.cases import materials
from node.cases.history import remote_step
from node.cases.models import Channel, PaymentPlace, SuspensionKind, TaskState
from node.cases.reading import ListOrder
from node.cases.service import Application
from node.cases.states import CaseState
from node.cases.warnings import Warning
from node.catalog.models import MaterialForm
from node.catalog.schemas import Ref
from node.forms import CursorArgs
from schemas.i18n import _
from schemas.personal import mask_id_number, mask_phone, phone_problems, resident_id_problems


class ApplicationFields(Schema):
    """The fields of an application (the API's and the desk form's)."""

    matter_code = fields.String(required=True, validate=validate.Length(1, 64))
    channel = fields.Enum(Channel, by_value=True, load_default=Channel.WINDOW)
    applicant_name = fields.String(required=True, validate=validate.Length(1, 100))
    applicant_id_number = fields.String(load_default=None, allow_none=True)
    applicant_phone = fields.String(load_default=None, allow_none=True)
    agent_name = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 100))
    agent_id_number = fields.String(load_default=None, allow_none=True)
    applicant_consent = fields.Boolean(load_default=False)
    joint_department_codes = fields.List(
        fields.String(), load_default=list, validate=validate.Length(max=20)
    )
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


class PaperReceivedSchema(Schema):
    """One material a window received on paper."""

    position = fields.Integer(strict=True, required=True,
                              metadata={"description": "the matter's material (from 1)"})
    form = fields.Enum(MaterialForm, by_value=True, required=True,
                       metadata={"description": "original, copy or original_and_copy"})
    copies = fields.Integer(strict=True, load_default=1)
    name = fields.String(dump_only=True)


class SubmitSchema(ApplicationFields):
    """An application as the API takes it, loaded as the service's :class:`Application`."""

    received = fields.List(
        fields.Nested(PaperReceivedSchema), data_key="received_materials", load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "The materials the window received on paper ([] when none "
                                 "came); a required material neither received so nor given "
                                 "a file is missing (``missing_materials``). Left out, the "
                                 "intake records nothing and no material is called missing"})

    @post_load
    def make_application(self, data: dict[str, Any], **kwargs: Any) -> Application:
        if data["received"] is not None:  # left out: the intake records nothing
            data["received"] = tuple(materials.PaperReceipt(**item) for item in data["received"])
        return Application(**data)


def _valid_id_number(value: str) -> None:
    problems = resident_id_problems(value)
    if problems:
        raise ValidationError(problems)


def _valid_phone(value: str) -> None:
    problems = phone_problems(value)
    if problems:
        raise ValidationError(problems)


class CaseListArgs(CursorArgs):
    state = fields.List(fields.Enum(CaseState, by_value=True), load_default=list)
    matter = fields.String()
    department = fields.String()
    window = fields.String()
    clerk = fields.String()
    channel = fields.Enum(Channel, by_value=True)
    warning = fields.List(fields.Enum(Warning, by_value=True), load_default=list)
    received_from = fields.Date()
    received_to = fields.Date()
    number = fields.String(validate=validate.Length(2, 33), metadata={
        "description": "the case number, exact; a trailing * matches every number it begins"})
    applicant = fields.String(validate=validate.Length(1, 100), metadata={
        "description": "the applicant's name, exact"})
    id_number = fields.String(validate=_valid_id_number, metadata={
        "description": "the applicant's whole resident ID number, exact (never a prefix)"})
    phone = fields.String(validate=_valid_phone, metadata={
        "description": "the applicant's whole phone number, exact"})
    handler = fields.String(validate=validate.Length(1, 64), metadata={
        "description": "a username who took any step on the case"})
    forwarded = fields.String(validate=validate.OneOf(["in", "out"]), metadata={
        "description": "in: received from another center; out: forwarded to one"})
    accepted_from = fields.Date()
    accepted_to = fields.Date()
    closed_from = fields.Date()
    closed_to = fields.Date()
    sort = fields.Enum(ListOrder, by_value=True, load_default=ListOrder.NEWEST, metadata={
        "description": "newest: the latest received first; deadline: the earliest deadline "
                       "first (cases with a deadline only)"})

    @validates_schema
    def _number_pattern(self, data: dict[str, Any], **_kwargs: Any) -> None:
        number = data.get("number")
        if number is not None and (not number.rstrip("*") or "*" in number.rstrip("*")):
            raise ValidationError(_("only a trailing * is allowed: 450981-2026*"), "number")
        for low, high in (("received_from", "received_to"), ("accepted_from", "accepted_to"),
                          ("closed_from", "closed_to")):
            if data.get(low) and data.get(high) and data[low] > data[high]:
                raise ValidationError(f"{low} is after {high}", low)


class EventSchema(Schema):
    """A step; one taken at another center (sent with the case: node/cases/history.py) has
    ``center`` (its code; null for this center's own), ``by`` (a display name), its action
    and its note as ``reason``."""

    at = fields.DateTime()
    actor = fields.String()
    role = fields.String()
    action = fields.Method("_action")
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    reason = fields.Method("_reason")
    center = fields.Method("_center")
    by = fields.Method("_by")

    def _action(self, event: Any) -> str:
        remote = remote_step(event)
        return str(remote["action"]) if remote else str(event.action)

    def _reason(self, event: Any) -> str | None:
        remote = remote_step(event)
        return remote["note"] if remote else event.reason  # type: ignore[no-any-return]

    def _center(self, event: Any) -> str | None:
        return str(event.actor) if remote_step(event) else None

    def _by(self, event: Any) -> str | None:
        remote = remote_step(event)
        return str(remote["by"]) if remote else None


class NoticeSchema(Schema):
    number = fields.String()
    sequence = fields.Integer()
    items = fields.Method("_items")
    repeat_reason = fields.String(allow_none=True)
    issued_at = fields.DateTime()
    issued_by = fields.String()

    def _items(self, notice: Any) -> Any:
        return json.loads(notice.items)


class SuspensionSchema(Schema):
    kind = fields.Enum(SuspensionKind, by_value=True)
    start_on = fields.Date()
    end_on = fields.Date(allow_none=True)
    reason = fields.String()
    notice_number = fields.String()
    started_by = fields.String()


class IssuedDocumentSchema(Schema):
    kind = fields.Function(lambda d: d.kind.value)
    number = fields.String()
    issued_at = fields.DateTime()
    issued_by = fields.String()
    reprints = fields.Integer(metadata={"description": "times printed again (补打)"})
    last_printed_at = fields.DateTime()
    last_printed_by = fields.String()


class CaseDocumentsSchema(Schema):
    available = fields.List(fields.String(), metadata={
        "description": "the kinds that can be printed for the case now"})
    issued = fields.List(fields.Nested(IssuedDocumentSchema))


class PrintArgs(Schema):
    query_code = fields.String(load_default=None, allow_none=True,
                               validate=validate.Length(1, 16), metadata={
        "description": "the receipt's first print only: the applicant's query code, as the "
                       "submission returned it; checked against the stored hash and printed"})


class TaskSchema(Schema):
    department = fields.Nested(Ref)
    state = fields.Enum(TaskState, by_value=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    reason = fields.String(allow_none=True)


class CaseSummarySchema(Schema):
    """A case in a list: personal data masked."""

    id = fields.Integer()
    number = fields.String()
    version = fields.Integer()
    state = fields.Enum(CaseState, by_value=True)
    channel = fields.Enum(Channel, by_value=True)
    matter = fields.Nested(Ref)
    department = fields.Nested(Ref)
    window = fields.Nested(Ref, allow_none=True)
    owner = fields.Function(lambda c: c.owner.username if c.owner else None)
    applicant_name = fields.String()
    applicant_id_number = fields.Function(
        lambda c: mask_id_number(c.applicant_id_number) if c.applicant_id_number else None
    )
    applicant_phone = fields.Function(
        lambda c: mask_phone(c.applicant_phone) if c.applicant_phone else None
    )
    received_on = fields.Date()
    accepted_on = fields.Date(allow_none=True)
    deadline_on = fields.Date(allow_none=True)
    deadline_provisional = fields.Boolean(metadata={
        "description": "暂定: counted over a year without national holiday data; nothing is "
                       "deemed on it until the year's schedule is loaded"})
    completed_on = fields.Date(allow_none=True)
    warning = fields.Function(lambda c: getattr(c, "warning_now", None))
    forwarded_to = fields.String(allow_none=True, metadata={
        "description": "The center above the case went to (上报), while it is there"})
    received_from = fields.String(allow_none=True, metadata={
        "description": "The center the case came from: below (上报), or elsewhere in the "
                       "province for 通办"})
    tongban_role = fields.Function(
        lambda c: c.tongban_role.value if c.tongban_role else None, metadata={
            "description": "通办: ``received`` (代收 here for the competent center), "
                           "``accepted`` (arrived sideways: this center decides), or null"})
    tongban_division = fields.String(allow_none=True, metadata={
        "description": "通办: the division competence was decided by"})
    forwarded_number = fields.String(allow_none=True, metadata={
        "description": "The case's number at the center it was forwarded to, once it answered"})
    origin = fields.Function(lambda c: {"node": c.origin_node_code,
                                        "case_number": c.origin_case_number}
                             if c.origin_node_code else None, metadata={
        "description": "The case at the center where the applicant applied"})


def _ref(row: Any) -> dict[str, Any] | None:
    return {"code": row.code, "name": row.name} if row is not None else None


def _day(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def summary_row(view: Any) -> dict[str, Any]:
    """A list row exactly as :class:`CaseSummarySchema` dumps it, built by hand (issues 17 and
    20): the hot lists (``GET /cases``, ``GET /supervision/warnings``) answer through this, as
    marshmallow's field-by-field dump of twenty rows cost more than the rest of the request.
    The schema still describes the answer in the OpenAPI document, and a test holds the two
    dumps equal (tests/unit/node/test_case_rows.py); a field added to the schema must be
    added here.  ``view``: a :class:`~node.cases.views.CaseView` (or a case, without colour)."""
    case = getattr(view, "row", view)
    warning = getattr(view, "warning_now", None)
    role = case.tongban_role
    owner = case.owner
    id_number, phone = case.applicant_id_number, case.applicant_phone
    provisional = case.deadline_provisional
    return {
        "id": case.id,
        "number": case.number,
        "version": case.version,
        "state": case.state.value if case.state is not None else None,
        "channel": case.channel.value if case.channel is not None else None,
        "matter": _ref(case.matter),
        "department": _ref(case.department),
        "window": _ref(case.window),
        "owner": owner.username if owner else None,
        "applicant_name": case.applicant_name,
        "applicant_id_number": mask_id_number(id_number) if id_number else None,
        "applicant_phone": mask_phone(phone) if phone else None,
        "received_on": _day(case.received_on),
        "accepted_on": _day(case.accepted_on),
        "deadline_on": _day(case.deadline_on),
        "deadline_provisional": bool(provisional) if provisional is not None else None,
        "completed_on": _day(case.completed_on),
        "warning": warning.value if warning is not None else None,
        "forwarded_to": case.forwarded_to,
        "received_from": case.received_from,
        "tongban_role": role.value if role else None,
        "tongban_division": case.tongban_division,
        "forwarded_number": case.forwarded_number,
        "origin": {"node": case.origin_node_code, "case_number": case.origin_case_number}
        if case.origin_node_code else None,
    }


class AttachmentSchema(Schema):
    sha256 = fields.String()
    size = fields.Integer()
    media_type = fields.String()
    name = fields.String()
    role = fields.Function(lambda a: a.role.value)
    fetched = fields.Boolean(metadata={
        "description": "False while the bytes of a file from another center are on their way"})
    added_by = fields.String()
    added_at = fields.DateTime()


class CaseDetailSchema(CaseSummarySchema):
    """A case's whole file for staff."""

    applicant_id_number = fields.String(allow_none=True)  # type: ignore[assignment]
    applicant_phone = fields.String(allow_none=True)  # type: ignore[assignment]
    agent_name = fields.String(allow_none=True)
    applicant_consent = fields.Boolean()
    deemed_accepted = fields.Boolean()
    deemed_approved = fields.Boolean()
    promised_days = fields.Integer()
    extension_days = fields.Integer()
    extension_reason = fields.String(allow_none=True)
    decided_on = fields.Date(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    delivery_method = fields.Function(
        lambda c: c.delivery_method.value if c.delivery_method else None,
        metadata={"description": "``hall`` or ``post`` (邮寄)"})
    delivery_tracking = fields.String(allow_none=True, metadata={
        "description": "邮寄: the tracking number"})
    commitment = fields.String(allow_none=True)
    fee_due_fen = fields.Integer()
    fee_paid_fen = fields.Integer()
    fee_paid_where = fields.Enum(PaymentPlace, by_value=True, allow_none=True)
    fee_waived_reason = fields.String(allow_none=True)
    notes = fields.String()
    allowed_actions = fields.Function(lambda c: getattr(c, "allowed_now", []))
    tasks = fields.List(fields.Nested(TaskSchema))
    notices = fields.List(fields.Nested(NoticeSchema))
    suspensions = fields.List(fields.Nested(SuspensionSchema))
    events = fields.List(fields.Nested(EventSchema))
    chain = fields.Function(lambda c: c.forward_chain.split(",") if c.forward_chain else [],
                            metadata={"description": "Centers the case passed through before "
                                                     "this one, the origin first"})
    attachments = fields.List(fields.Nested(AttachmentSchema))
    received_materials = fields.List(fields.Nested(PaperReceivedSchema), metadata={
        "description": "The materials the window received on paper at intake"})
    missing_materials = fields.Function(materials.missing, metadata={
        "description": "Positions of the required materials received neither on paper nor "
                       "as a file: what the one-time notice lists (empty for a case not "
                       "online that records no paper at all, e.g. taken before the window's "
                       "receipts were kept)"})


class CaseStepSchema(Schema):
    """What a transition answers: the case's state after the step, not its whole file (that
    is ``GET /api/v1/cases/<id>``).  Everything a client needs to take the next step."""

    id = fields.Integer()
    number = fields.String()
    state = fields.Enum(CaseState, by_value=True)
    version = fields.Integer(metadata={"description": "Send it with the next step"})
    deadline_on = fields.Date(allow_none=True)
    deadline_provisional = fields.Boolean()
    warning = fields.Function(lambda c: getattr(c, "warning_now", None))
    allowed_actions = fields.Function(lambda c: getattr(c, "allowed_now", []))


class SubmittedSchema(CaseDetailSchema):
    query_code = fields.String(metadata={"description": "Give to the applicant; shown once"})
