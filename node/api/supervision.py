"""Electronic supervision (电子监察, 效能监察): warnings, complaints and rectifications."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from node.api.cases import actor, case_rows_page, case_service
from node.api.public import feedback_service
from node.api.security import current_user, staff_required
from node.auth.permissions import Permission, allows
from node.cases.reading import ListOrder
from node.cases.schemas import CaseSummarySchema
from node.cases.warnings import Warning
from node.catalog.schemas import Ref
from node.feedback.models import (
    ComplaintState,
    EvaluationLevel,
    RectificationState,
)
from node.feedback.schemas import (
    ComplaintResolveArgs,
    RectificationExtendArgs,
    RectificationNoteArgs,
    RectificationReasonArgs,
)
from node.feedback.states import RectificationAction, allowed_rectification_actions
from node.feedback.views import present_complaint, present_rectification
from node.forms import CursorArgs, cursor_page, cursor_page_of
from schemas.personal import mask_phone
from schemas.runtime.webapp import Blueprint

blp = Blueprint(
    "supervision", __name__, url_prefix="/api/v1/supervision",
    description="Electronic supervision (电子监察): warnings, complaints, rectifications",
)

SUPERVISED_COLOURS = (Warning.YELLOW, Warning.RED)


# -- schemas --------------------------------------------------------------------------------


class SupervisionWarningArgs(CursorArgs):
    colour = fields.List(
        fields.Enum(Warning, by_value=True,
                    validate=validate.OneOf(SUPERVISED_COLOURS)),
        load_default=list,
        metadata={"description": "yellow and/or red (repeatable); both when absent"},
    )
    department = fields.String(validate=validate.Length(1, 32))
    window = fields.String(validate=validate.Length(1, 32))
    clerk = fields.String(validate=validate.Length(1, 64))


class SupervisionOverdueArgs(CursorArgs):
    overdue = fields.Boolean(
        load_default=None, allow_none=True,
        metadata={"description": "true: only past their deadline and still open; false: the rest"},
    )


class ComplaintListArgs(SupervisionOverdueArgs):
    state = fields.List(fields.Enum(ComplaintState, by_value=True), load_default=list)


class RectificationListArgs(SupervisionOverdueArgs):
    state = fields.List(fields.Enum(RectificationState, by_value=True), load_default=list)


class ComplaintSchema(Schema):
    """A complaint in a list: the contact phone masked."""

    number = fields.String()
    state = fields.Enum(ComplaintState, by_value=True)
    case_number = fields.Function(lambda c: c.case.number if c.case else None)
    window = fields.Nested(Ref, allow_none=True)
    staff_code = fields.String(allow_none=True, metadata={
        "description": "the 工号 the complainant gave (kept even when no staff record has it)"})
    staff_name = fields.Function(lambda c: c.staff_member.name if c.staff_member else None)
    staff_known = fields.Function(lambda c: c.staff_member is not None)
    clerk = fields.Function(lambda c: c.clerk.username if c.clerk else None, metadata={
        "description": "the staff account linked to that staff record, if any"})
    content = fields.String()
    contact_phone = fields.Function(
        lambda c: mask_phone(c.contact_phone) if c.contact_phone else None
    )
    received_at = fields.DateTime()
    due_on = fields.Date()
    overdue = fields.Function(lambda c: getattr(c, "overdue_now", False))
    resolution = fields.String(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolved_in_time = fields.Function(lambda c: getattr(c, "in_time_now", None))
    sent_to = fields.String(allow_none=True, metadata={
        "description": "the center the complaint was sent to: its case was decided there, "
                       "which resolves it (the resolution comes back here)"})
    received_from = fields.String(allow_none=True, metadata={
        "description": "the center below the complaint came from (its case was sent up "
                       "here); the resolution goes back there"})


class ComplaintDetailSchema(ComplaintSchema):
    """One complaint: the phone in full for a supervisor who handles it (to call back), masked
    for read-only roles."""

    contact_phone = fields.Function(
        lambda c: c.contact_phone
        if getattr(c, "phone_visible", False) or not c.contact_phone
        else mask_phone(c.contact_phone)
    )


class RectificationSchema(Schema):
    id = fields.Integer()
    case_number = fields.String(attribute="evaluation.case.number")
    matter = fields.Nested(Ref, attribute="evaluation.case.matter")
    department = fields.Nested(Ref, attribute="evaluation.case.department")
    level = fields.Enum(EvaluationLevel, by_value=True, attribute="evaluation.level")
    comment = fields.String(attribute="evaluation.comment", allow_none=True)
    rated_at = fields.DateTime(attribute="evaluation.at")
    rating_void = fields.Boolean(attribute="evaluation.void")
    state = fields.Enum(RectificationState, by_value=True)
    opened_at = fields.DateTime()
    due_on = fields.Date()
    overdue = fields.Function(lambda r: getattr(r, "overdue_now", False))
    extended = fields.Boolean()
    extension_days = fields.Integer(allow_none=True)
    extension_reason = fields.String(allow_none=True)
    dispute_reason = fields.String(allow_none=True)
    void_reason = fields.String(allow_none=True)
    cannot_rectify_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    followed_up_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    rectified_in_time = fields.Function(lambda r: getattr(r, "in_time_now", None))
    allowed_actions = fields.Function(
        lambda r: allowed_rectification_actions(r.state, extended=r.extended)
    )


# -- warnings -------------------------------------------------------------------------------


@blp.route("/warnings")
class Warnings(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.arguments(SupervisionWarningArgs, location="query")
    @blp.response(200, cursor_page_of(CaseSummarySchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Every yellow and red case (电子监察), the earliest deadline first.

        Filterable by colour, department, window and clerk; colours are computed from each
        deadline and the working calendar when asked, never stored. Paged by cursor.
        """
        service = case_service()
        page = service.search(
            warnings=args["colour"] or SUPERVISED_COLOURS,
            department_code=args.get("department"), window_code=args.get("window"),
            owner=args.get("clerk"), order=ListOrder.DEADLINE, cursor=args.get("cursor"),
            before=args.get("before"), per_page=args["per_page"],
        )
        return case_rows_page(service, page, args["per_page"])


# -- complaints -----------------------------------------------------------------------------


@blp.route("/complaints")
class Complaints(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.arguments(ComplaintListArgs, location="query")
    @blp.response(200, cursor_page_of(ComplaintSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Complaints (投诉) by state and overdue flag.

        The earliest deadline comes first; contact phones are masked. Paged by cursor.
        """
        service = feedback_service()
        page = service.search_complaints(
            states=args["state"], overdue=args["overdue"],
            cursor=args.get("cursor"), before=args.get("before"), per_page=args["per_page"],
        )
        return cursor_page(page, [present_complaint(service, c) for c in page.items],
                           args["per_page"])


@blp.route("/complaints/<number>")
class ComplaintItem(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.response(200, ComplaintDetailSchema)
    def get(self, number: str) -> Any:
        """One complaint; the complainant's phone in full only for supervisors who handle
        complaints (viewers see it masked)."""
        service = feedback_service()
        return present_complaint(
            service, service.complaint(number),
            phone_visible=allows(current_user().role, Permission.SUPERVISION_MANAGE))


@blp.route("/complaints/<number>/resolve")
class ComplaintResolve(MethodView):
    @staff_required(Permission.SUPERVISION_MANAGE)
    @blp.arguments(ComplaintResolveArgs)
    @blp.response(200, ComplaintDetailSchema)
    def post(self, data: dict[str, Any], number: str) -> Any:
        """Resolve a complaint with the written resolution.

        Records whether it was resolved by its deadline. A resolved complaint cannot be
        resolved again (409).
        """
        service = feedback_service()
        complaint = service.complaint(number, for_update=True)
        service.resolve_complaint(complaint, actor(), resolution=data["resolution"])
        return present_complaint(service, complaint)


# -- rectifications -------------------------------------------------------------------------


@blp.route("/rectifications")
class Rectifications(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.arguments(RectificationListArgs, location="query")
    @blp.response(200, cursor_page_of(RectificationSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Rectifications of bad ratings (整改) by state and overdue flag.

        The earliest deadline comes first. Paged by cursor.
        """
        service = feedback_service()
        page = service.search_rectifications(
            states=args["state"], overdue=args["overdue"],
            cursor=args.get("cursor"), before=args.get("before"), per_page=args["per_page"],
        )
        return cursor_page(page, [present_rectification(service, r) for r in page.items],
                           args["per_page"])


@blp.route("/rectifications/<int(max=2147483647):rectification_id>")
class RectificationItem(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.response(200, RectificationSchema)
    def get(self, rectification_id: int) -> Any:
        """One rectification with the rating behind it and the actions allowed now."""
        service = feedback_service()
        return present_rectification(service, service.rectification(rectification_id))


def _action(
    action: RectificationAction,
    args_schema: type[Schema] | None,
    take: Callable[[dict[str, Any]], dict[str, Any]],
    doc: str,
) -> None:
    """Register ``POST /rectifications/<id>/<action>`` (underscores as hyphens)."""

    def post(self: MethodView, *call_args: Any, **kwargs: Any) -> Any:
        data: dict[str, Any] = call_args[0] if call_args else {}
        service = feedback_service()
        rectification = service.rectification(kwargs["rectification_id"], for_update=True)
        service.act_on_rectification(rectification, action, actor(), **take(data))
        return present_rectification(service, rectification)

    post.__doc__ = doc
    post.__name__ = "post"
    view = blp.response(200, RectificationSchema)(post)
    if args_schema is not None:
        view = blp.arguments(args_schema)(view)
    view = staff_required(Permission.SUPERVISION_MANAGE)(view)
    name = action.value.replace("_", "-")
    view_class = type(
        f"Rectification{action.value.title().replace('_', '')}", (MethodView,), {"post": view}
    )
    blp.route(f"/rectifications/<int(max=2147483647):rectification_id>/{name}")(view_class)


def _no_text(_data: dict[str, Any]) -> dict[str, Any]:
    return {}


def _reason(data: dict[str, Any]) -> dict[str, Any]:
    return {"text": data["reason"]}


_action(RectificationAction.START, None, _no_text,
        "The department starts rectifying (整改中).")
_action(RectificationAction.COMPLETE, RectificationNoteArgs,
        lambda d: {"text": d["note"], "followed_up": d["followed_up"]},
        "Rectification done, with a note of what was done and whether the applicant was "
        "called back (回访, ``followed_up``); records whether it was in time.")
_action(RectificationAction.DISPUTE, RectificationReasonArgs, _reason,
        "Dispute the rating as invalid (申诉): it goes to the invalid-rating review.")
_action(RectificationAction.UPHOLD, None, _no_text,
        "The review finds the rating valid: the rectification is pending again.")
_action(RectificationAction.INVALIDATE, RectificationReasonArgs, _reason,
        "The review finds the rating invalid: it no longer counts, nothing to rectify.")
_action(RectificationAction.CANNOT_RECTIFY, RectificationReasonArgs, _reason,
        "The matter cannot be rectified, with the reason.")
_action(RectificationAction.EXTEND, RectificationExtendArgs,
        lambda d: {"text": d["reason"], "days": d["days"]},
        "Extend the deadline by some working days (延期), once, with the reason.")
