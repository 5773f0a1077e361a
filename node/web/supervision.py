"""The supervision office's pages (效能监察): yellow and red cases, complaints, bad-rating
rectifications, the month's figures, staff assessment, failure-pattern lists and directives."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from marshmallow import Schema

from node.auth.permissions import Permission
from node.cases.reading import ListOrder
from node.cases.warnings import Warning
from node.composition import current_settings
from node.directives.schemas import IssueSchema, ReplySchema
from node.feedback.models import ComplaintState, RectificationState
from node.feedback.schemas import (
    ComplaintResolveArgs,
    RectificationExtendArgs,
    RectificationNoteArgs,
    RectificationReasonArgs,
)
from node.feedback.states import RectificationAction, allowed_rectification_actions
from node.feedback.views import present_complaint, present_rectification
from node.metrics.assessment import ModelWindowRule, assess
from node.metrics.assessment_workbook import write_assessment_workbook
from node.metrics.patterns import Pattern, PatternPolicy, pattern_cases
from node.sync.names import centers_below
from node.web.clerk import actor, case_service, with_colours
from node.web.core import (
    current_staff,
    download,
    load_form,
    page_turn,
    problems_of,
    staff_page,
    today,
    web_blueprint,
)
from node.web.list_exports import SHEETS
from node.web.services import directive_service, feedback_service, metrics_service
from schemas.errors import TongbanError, ValidationFailed
from schemas.i18n import _
from schemas.metrics import ALL_METRICS
from schemas.periods import Period, PeriodError
from schemas.runtime.spreadsheet import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, csv_bytes, xlsx_bytes
from schemas.runtime.webapp import current_session

bp = web_blueprint("web_supervision", "/staff/supervision")
LIST_PAGE = 100  # rows per page of the supervision lists


def _month(label: str | None) -> Period:
    """The month asked for (``?period=2026-11``), this month by default."""
    if label:
        try:
            period = Period.parse(label)
        except PeriodError:
            period = None
        if period is not None:
            return period
    now = today()
    return Period.month(now.year, now.month)


def _error_page(template: str, exc: TongbanError, **context: Any) -> tuple[str, int]:
    current_session().rollback()
    return render_template(template, errors=problems_of(exc), **context), 422


@bp.get("")
@staff_page(Permission.SUPERVISION_READ)
def warnings() -> Any:
    """电子监察: every yellow and red case, red first."""
    service = case_service()
    page = service.search(warnings=(Warning.RED, Warning.YELLOW), order=ListOrder.DEADLINE,
                          **page_turn(), per_page=LIST_PAGE)
    listed = with_colours(service, page.items)
    return render_template("web/staff/warnings.html", cases=listed, page=page)


# -- complaints and rectifications ----------------------------------------------------------


def _complaints_page(errors: dict[str, list[str]] | None = None) -> tuple[str, int]:
    service = feedback_service()
    state = request.args.get("state", "received")
    states = [ComplaintState(state)] if state in {s.value for s in ComplaintState} else []
    page = service.search_complaints(states=states, overdue=None, **page_turn(),
                                     per_page=LIST_PAGE)
    return render_template(
        "web/staff/complaints.html",
        complaints=[present_complaint(service, c) for c in page.items],
        page=page, state=state, errors=errors or {}), 422 if errors else 200


@bp.get("/complaints")
@staff_page(Permission.SUPERVISION_READ)
def complaints() -> Any:
    return _complaints_page()


@bp.post("/complaints/<number>/resolve")
@staff_page(Permission.SUPERVISION_MANAGE)
def resolve_complaint(number: str) -> Any:
    service = feedback_service()
    try:
        data = load_form(ComplaintResolveArgs())
        complaint = service.complaint(number, for_update=True)
        service.resolve_complaint(complaint, actor(), resolution=data["resolution"])
    except TongbanError as exc:
        current_session().rollback()
        return _complaints_page({f"{number}.{k}" if k else "": v
                                 for k, v in problems_of(exc).items()})
    flash(_("投诉 %(number)s 已办结。", number=number))
    return redirect(url_for("web_supervision.complaints"))


def _rectifications_page(errors: dict[str, list[str]] | None = None) -> tuple[str, int]:
    service = feedback_service()
    page = service.search_rectifications(states=[], overdue=None, **page_turn(),
                                         per_page=LIST_PAGE)
    listed = [present_rectification(service, r) for r in page.items]
    actions = {r.id: allowed_rectification_actions(r.state, extended=r.extended) for r in listed}
    return render_template("web/staff/rectifications.html", rectifications=listed, page=page,
                           actions=actions, errors=errors or {}), 422 if errors else 200


@bp.get("/rectifications")
@staff_page(Permission.SUPERVISION_READ)
def rectifications() -> Any:
    return _rectifications_page()


_RECTIFICATION_FORMS: dict[str, type[Schema] | None] = {
    "start": None, "uphold": None, "complete": RectificationNoteArgs,
    "dispute": RectificationReasonArgs, "invalidate": RectificationReasonArgs,
    "cannot_rectify": RectificationReasonArgs, "extend": RectificationExtendArgs,
}


@bp.post("/rectifications/<int(max=2147483647):rectification_id>/<action>")
@staff_page(Permission.SUPERVISION_MANAGE)
def act_on_rectification(rectification_id: int, action: str) -> Any:
    if action not in _RECTIFICATION_FORMS:  # an unknown action is not echoed (issue 19)
        return _rectifications_page({"": [_("未知的操作")]})
    service = feedback_service()
    try:
        which = RectificationAction(action)
        schema = _RECTIFICATION_FORMS[which.value]
        data = load_form(schema()) if schema is not None else {}
        arguments: dict[str, Any] = {}
        if "note" in data:
            arguments["text"] = data["note"]
            arguments["followed_up"] = bool(data.get("followed_up"))
        if "reason" in data:
            arguments["text"] = data["reason"]
        if "days" in data:
            arguments["days"] = data["days"]
        rectification = service.rectification(rectification_id, for_update=True)
        service.act_on_rectification(rectification, which, actor(), **arguments)
    except TongbanError as exc:
        current_session().rollback()
        return _rectifications_page({f"{rectification_id}.{k}" if k else "": v
                                     for k, v in problems_of(exc).items()})
    flash(_("整改记录已更新。"))
    return redirect(url_for("web_supervision.rectifications"))


# -- figures, assessment, patterns ----------------------------------------------------------


@bp.get("/figures")
@staff_page(Permission.SUPERVISION_READ)
def figures() -> Any:
    """The month's figures (the summary sent upward) beside the previous month's."""
    period = _month(request.args.get("period"))
    found = metrics_service().figures(period)
    return render_template("web/staff/figures.html", period=period, figures=found,
                           metrics=ALL_METRICS)


def _assessment(period: Period) -> Any:
    settings = current_settings()
    return assess(current_session(), period, ModelWindowRule.from_settings(settings))


@bp.get("/assessment")
@staff_page(Permission.SUPERVISION_READ)
def assessment() -> Any:
    """窗口考核 / 人员考核 with the month's 红旗窗口 and the windows flagged 末位."""
    period = _month(request.args.get("period"))
    try:
        result = _assessment(period).as_dict()
    except ValidationFailed as exc:
        return render_template("web/staff/assessment.html", period=period, result=None,
                               errors=problems_of(exc)), 422
    return render_template("web/staff/assessment.html", period=period, result=result,
                           errors={})


EXPORT_ROWS = 10_000  # a list exported holds at most this many rows


@bp.get("/<any(warnings, complaints, rectifications):what>.<any(csv, xlsx):fmt>")
@staff_page(Permission.SUPERVISION_READ)
def list_export(what: str, fmt: str) -> Any:
    """A supervision list as CSV or XLSX, inert (node/web/list_exports.py)."""
    if what == "warnings":
        service = case_service()
        cases = service.search(warnings=(Warning.RED, Warning.YELLOW), order=ListOrder.DEADLINE,
                               per_page=EXPORT_ROWS).items
        listed: list[Any] = with_colours(service, cases)
    elif what == "complaints":
        feedback = feedback_service()
        state = request.args.get("state", "all")
        states = [ComplaintState(state)] if state in {s.value for s in ComplaintState} else []
        items = feedback.search_complaints(states=states, overdue=None,
                                           per_page=EXPORT_ROWS).items
        listed = [present_complaint(feedback, c) for c in items]
    else:
        feedback = feedback_service()
        found = feedback.search_rectifications(states=[], overdue=None,
                                               per_page=EXPORT_ROWS).items
        listed = [present_rectification(feedback, r) for r in found]
    sheet = SHEETS[what](listed)
    name = f"{sheet.title}-{current_settings().code}-{today().isoformat()}.{fmt}"
    if fmt == "csv":
        return download(csv_bytes(sheet.headings, sheet.rows), CSV_MEDIA_TYPE, name)
    return download(xlsx_bytes([sheet]), XLSX_MEDIA_TYPE, name)


@bp.get("/assessment.xlsx")
@staff_page(Permission.SUPERVISION_READ)
def assessment_export() -> Any:
    period = _month(request.args.get("period"))
    code = current_settings().code
    body = write_assessment_workbook(_assessment(period), code, current_settings().name)
    return download(body, XLSX_MEDIA_TYPE, _("考核-%(code)s-%(label)s.xlsx",
                                             code=code, label=period.label))


@bp.get("/patterns")
@staff_page(Permission.SUPERVISION_READ)
def patterns() -> Any:
    """The cases behind each failure pattern (体外循环, 两头受理, 超时办结, 前厂后店)."""
    period = _month(request.args.get("period"))
    try:
        which = Pattern(request.args.get("pattern", Pattern.COMPLETED_LATE.value))
    except ValueError:
        which = Pattern.COMPLETED_LATE
    settings = current_settings()
    page = pattern_cases(
        current_session(), which, period.start, period.end,
        PatternPolicy(two_headed_window_days=settings.two_headed_window_days),
        **page_turn((int,)), per_page=LIST_PAGE)
    return render_template("web/staff/patterns.html", period=period, pattern=which,
                           patterns=list(Pattern), page=page,
                           cases=with_colours(case_service(), page.items))


# -- directives ----------------------------------------------------------------------------


def _directives_page(errors: dict[str, list[str]] | None = None,
                     form: Any = None) -> tuple[str, int]:
    service = directive_service()
    # two lists, each keyset-paged by its own links (in_cursor, out_cursor: web/_pager.html)
    incoming = service.search(direction="incoming", **page_turn((dt.datetime, int), "in_"),
                              per_page=LIST_PAGE)
    outgoing = service.search(direction="outgoing", **page_turn((dt.datetime, int), "out_"),
                              per_page=LIST_PAGE)
    return render_template(
        "web/staff/directives.html",
        incoming=incoming.items, incoming_page=incoming,
        outgoing=outgoing.items, outgoing_page=outgoing,
        can_issue=current_settings().level != "township",
        lower_centers=centers_below(current_session(), current_settings().code),
        metrics=ALL_METRICS, errors=errors or {}, form=form or {},
    ), 422 if errors else 200


@bp.get("/directives")
@staff_page(Permission.SUPERVISION_READ)
def directives() -> Any:
    """Directives (督办) received from above with their replies, and those sent below."""
    return _directives_page(form=request.args)


@bp.post("/directives")
@staff_page(Permission.SUPERVISION_MANAGE)
def issue_directive() -> Any:
    """Send a directive to a center below (a signed ``directive`` envelope)."""
    try:
        data = load_form(IssueSchema())
        service = directive_service()
        service.issue(current_staff().username, data["target"], data["subject"].value,
                      data["text"], data["due_on"], case_number=data["case_number"],
                      metric=data["metric"])
    except TongbanError as exc:
        current_session().rollback()
        return _directives_page({f"issue.{k}" if k else "": v
                                 for k, v in problems_of(exc).items()}, request.form)
    flash(_("督办已发出。"))
    return redirect(url_for("web_supervision.directives"))


@bp.post("/directives/<uuid:directive_id>/reply")
@staff_page(Permission.SUPERVISION_MANAGE)
def reply_directive(directive_id: Any) -> Any:
    try:
        data = load_form(ReplySchema())
        directive_service().reply(str(directive_id), data["state"], data["text"],
                                  current_staff().username)
    except TongbanError as exc:
        current_session().rollback()
        return _directives_page({f"reply.{k}" if k else "": v
                                 for k, v in problems_of(exc).items()})
    flash(_("督办回复已发出。"))
    return redirect(url_for("web_supervision.directives"))


__all__ = ["RectificationState", "bp"]
