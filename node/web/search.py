"""The staff case search (办件检索): the filters of ``GET /api/v1/cases`` on a page, paged by
cursor, the result exported as CSV or XLSX (schemas/runtime/spreadsheet.py).  What a user finds
follows their role (node/cases/scopes.py), as in the API."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from marshmallow import ValidationError

from node.auth.permissions import Permission
from node.cases.models import Case
from node.cases.schemas import CaseListArgs
from node.cases.scopes import viewer_of, visible_cases
from node.composition import current_settings
from node.listing import Page
from node.web.clerk import case_service, with_colours
from node.web.core import current_staff, download, staff_page, today, web_blueprint
from node.web.labels import CASE_STATES, CHANNELS, WARNINGS
from schemas.errors import ValidationFailed
from schemas.i18n import _
from schemas.personal import mask_id_number, mask_phone
from schemas.runtime.spreadsheet import (
    CSV_MEDIA_TYPE,
    XLSX_MEDIA_TYPE,
    Sheet,
    csv_bytes,
    xlsx_bytes,
)

bp = web_blueprint("web_search", "/staff")

EXPORT_ROWS = 10_000  # an exported result holds at most this many rows
PER_PAGE = 50
# the page's text fields, in the form's order
TEXT_FILTERS = ("number", "applicant", "id_number", "phone", "handler")
DATE_FILTERS = ("received_from", "received_to", "accepted_from", "accepted_to",
                "closed_from", "closed_to")
# what the page says when a filter's value is refused (the API names the field in English)
PROBLEMS = {
    "number": _("办件编号须完整，或以 * 结尾按前缀查询（如 450981-2026*），* 只能在末尾"),
    "applicant": _("申请人姓名不超过100个字"),
    "id_number": _("请输入完整的18位身份证号码（校验位须正确；不支持部分号码查询）"),
    "phone": _("请输入完整的手机号（11位）或固定电话（如 0775-1234567）"),
    "handler": _("经办人用户名不超过64个字符"),
    "forwarded": _("转办只能选择“上级转入”或“转出”"),
    "sort": _("排序只能按收件日期或办结期限"),
    "cursor": _("翻页位置已失效，请从第一页重新查询"),
    "before": _("翻页位置已失效，请从第一页重新查询"),
}


def _filters() -> dict[str, Any]:
    """The query's filters, checked by the API's own schema; a refused one raises
    :class:`ValidationFailed` naming it."""
    raw: dict[str, Any] = {k: v.strip() for k, v in request.args.items()
                           if k not in ("state", "warning") and v.strip()}
    for many in ("state", "warning"):
        values = [v for v in request.args.getlist(many) if v]
        if values:
            raw[many] = values
    raw["per_page"] = PER_PAGE
    try:
        loaded: dict[str, Any] = CaseListArgs().load(raw)
        return loaded
    except ValidationError as exc:
        fields = exc.messages_dict
        raise ValidationFailed({name: [PROBLEMS.get(name, "输入有误，请检查")]
                                for name in fields}) from None


def _search(args: dict[str, Any], per_page: int, cursor: str | None = None,
            before: str | None = None) -> Page[Case]:
    return case_service().search(
        states=args["state"], matter_code=args.get("matter"),
        department_code=args.get("department"), window_code=args.get("window"),
        owner=args.get("clerk"), channel=args.get("channel"),
        received_from=args.get("received_from"), received_to=args.get("received_to"),
        warnings=args["warning"], number=args.get("number"), applicant=args.get("applicant"),
        id_number=args.get("id_number"), phone=args.get("phone"), handler=args.get("handler"),
        forwarded=args.get("forwarded"), accepted_from=args.get("accepted_from"),
        accepted_to=args.get("accepted_to"), closed_from=args.get("closed_from"),
        closed_to=args.get("closed_to"), order=args["sort"],
        scope=visible_cases(viewer_of(current_staff())), cursor=cursor, before=before,
        per_page=per_page)


@bp.get("/search")
@staff_page(Permission.CASES_READ)
def search() -> Any:
    """办件检索: the form, and the result when a filter is given."""
    context: dict[str, Any] = {"text_filters": TEXT_FILTERS, "date_filters": DATE_FILTERS,
                               "states": CASE_STATES, "channels": CHANNELS,
                               "warnings": WARNINGS, "errors": {}, "page": None, "cases": []}
    try:
        args = _filters()
        page = _search(args, PER_PAGE, args.get("cursor"), args.get("before"))
    except ValidationFailed as exc:  # a filter refused, or a page link not this list's
        context["errors"] = {str(k): [PROBLEMS.get(str(k), "输入有误，请检查")]
                             for k in exc.details["fields"]}
        return render_template("web/staff/search.html", **context), 422
    context.update(page=page, cases=with_colours(case_service(), page.items))
    return render_template("web/staff/search.html", **context)


def result_sheet(cases: list[Any]) -> Sheet:
    """The result as a sheet: Chinese headings, names not codes, ID number and phone masked."""
    rows = [[
        c.number, c.matter.name, c.applicant_name,
        mask_id_number(c.applicant_id_number) if c.applicant_id_number else "",
        mask_phone(c.applicant_phone) if c.applicant_phone else "",
        CHANNELS.get(c.channel.value, c.channel.value),
        c.department.name if c.department else "", c.window.name if c.window else "",
        c.owner.display_name if c.owner else "", c.received_on, c.accepted_on, c.deadline_on,
        c.closed_on, CASE_STATES.get(c.state.value, c.state.value),
        WARNINGS.get(c.warning_now.value, c.warning_now.value) if c.warning_now else "",
    ] for c in cases]
    return Sheet(
        _("办件检索结果"),
        [
            _("办件编号"),
            _("事项"),
            _("申请人"),
            _("身份证号码"),
            _("联系电话"),
            _("渠道"),
            _("部门"),
            _("窗口"),
            _("经办人"),
            _("收件日期"),
            _("受理日期"),
            _("办结期限"),
            _("办结日期"),
            _("状态"),
            _("预警"),
        ],
        rows,
    )


@bp.get("/search.<any(csv, xlsx):fmt>")
@staff_page(Permission.CASES_READ)
def export(fmt: str) -> Any:
    """The search's whole result (up to 10,000 cases) as CSV or XLSX, inert."""
    try:
        args = _filters()
    except ValidationFailed as exc:
        errors = {str(k): v for k, v in exc.details["fields"].items()}
        return render_template("web/staff/search.html", text_filters=TEXT_FILTERS,
                               date_filters=DATE_FILTERS, states=CASE_STATES,
                               channels=CHANNELS, warnings=WARNINGS, errors=errors,
                               page=None, cases=[]), 422
    cases = with_colours(case_service(), _search(args, EXPORT_ROWS).items)
    sheet = result_sheet(cases)
    name = f"{sheet.title}-{current_settings().code}-{today().isoformat()}.{fmt}"
    if fmt == "csv":
        return download(csv_bytes(sheet.headings, sheet.rows), CSV_MEDIA_TYPE, name)
    return download(xlsx_bytes([sheet]), XLSX_MEDIA_TYPE, name)


__all__ = ["bp", "result_sheet"]
