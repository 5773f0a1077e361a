"""The center administrator's pages: catalog (matters, departments, windows, staff), user
accounts, calendar overrides, XLSX import with the row errors, and the sync status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from node.api.calendar import FIRST_DAY, LAST_DAY, OverrideBodySchema, calendar_service
from node.api.catalog import catalog
from node.api.exchange import exchange
from node.api.schemas import (
    DepartmentSchema,
    MatterSchema,
    StaffMemberSchema,
    UserSchema,
    WindowSchema,
)
from node.auth.permissions import Permission
from node.catalog.exchange import XLSX_MEDIA_TYPE, read_workbook, write_workbook
from node.catalog.models import POWERS
from node.sync.service import status_report
from node.web.core import (
    current_staff,
    download,
    form_data,
    load_form,
    problems_of,
    staff_page,
    today,
    web_blueprint,
)
from schemas.database import utcnow
from schemas.errors import TongbanError, ValidationFailed
from schemas.webapp import current_session

bp = web_blueprint("web_admin", "/staff/admin")


def _failed(template: str, exc: TongbanError, **context: Any) -> tuple[str, int]:
    current_session().rollback()
    return render_template(template, errors=problems_of(exc), form=request.form,
                           **context), 422


# -- matters --------------------------------------------------------------------------------


def _matters_context() -> dict[str, Any]:
    items, total = catalog().search_matters(include_retired=True, per_page=100)
    return {"matters": items, "total": total, "departments": catalog().list_departments(),
            "windows": catalog().list_windows(), "powers": POWERS}


@bp.get("")
@staff_page(Permission.CATALOG_MANAGE)
def matters() -> Any:
    return render_template("web/staff/admin/matters.html", errors={}, form={},
                           **_matters_context())


@bp.post("/matters")
@staff_page(Permission.CATALOG_MANAGE)
def create_matter() -> Any:
    """Add a matter: the form's fields, the powers ticked, one material per line."""
    template = "web/staff/admin/matters.html"
    form = MultiDict(request.form)
    try:
        data = form_data(MatterSchema(), form)
        data.pop("materials", None)
        data["powers"] = {p: f"power_{p}" in request.form for p in POWERS}
        data["materials"] = [{"name": line.strip()} for line in
                             request.form.get("materials", "").splitlines() if line.strip()]
        if data.get("window_code") in (None, ""):
            data["window_code"] = None
        from marshmallow import ValidationError

        try:
            loaded = MatterSchema().load(data)
        except ValidationError as exc:
            raise ValidationFailed(exc.messages if isinstance(exc.messages, dict)
                                   else {"": exc.messages}) from exc
        matter = catalog().create_matter(loaded)
    except TongbanError as exc:
        return _failed(template, exc, **_matters_context())
    flash(f"事项 {matter.name} 已添加。")
    return redirect(url_for("web_admin.matters"))


@bp.post("/matters/<code>/<action>")
@staff_page(Permission.CATALOG_MANAGE)
def matter_action(code: str, action: str) -> Any:
    try:
        if action == "retire":
            catalog().retire_matter(code)
        elif action == "reinstate":
            catalog().reinstate_matter(code)
        else:
            raise ValidationFailed({"action": ["retire 或 reinstate"]})
    except TongbanError as exc:
        return _failed("web/staff/admin/matters.html", exc, **_matters_context())
    flash("已更新。")
    return redirect(url_for("web_admin.matters"))


# -- departments, windows, staff -------------------------------------------------------------


def _organisation_context() -> dict[str, Any]:
    return {"departments": catalog().list_departments(include_retired=True),
            "windows": catalog().list_windows(include_retired=True),
            "staff_members": catalog().list_staff(include_inactive=True),
            "active_departments": catalog().list_departments(),
            "active_windows": catalog().list_windows()}


@bp.get("/organisation")
@staff_page(Permission.CATALOG_MANAGE)
def organisation() -> Any:
    return render_template("web/staff/admin/organisation.html", errors={}, form={},
                           **_organisation_context())


@bp.post("/organisation/<what>")
@staff_page(Permission.CATALOG_MANAGE)
def add_organisation(what: str) -> Any:
    template = "web/staff/admin/organisation.html"
    service = catalog()
    try:
        if what == "department":
            data = load_form(DepartmentSchema())
            service.create_department(data["code"], data["name"])
        elif what == "window":
            data = load_form(WindowSchema())
            service.create_window(data["code"], data["name"], data["location"],
                                  data["department_codes"])
        elif what == "staff":
            data = load_form(StaffMemberSchema())
            service.create_staff_member(data)
        else:
            raise ValidationFailed({"what": ["department、window 或 staff"]})
    except TongbanError as exc:
        return _failed(template, exc, **_organisation_context())
    flash("已添加。")
    return redirect(url_for("web_admin.organisation"))


# -- users --------------------------------------------------------------------------------


def _users_context() -> dict[str, Any]:
    from node.web.core import auth_service

    return {"users": auth_service().list_users(), "departments": catalog().list_departments(),
            "staff_members": catalog().list_staff()}


@bp.get("/users")
@staff_page(Permission.USERS_MANAGE)
def users() -> Any:
    return render_template("web/staff/admin/users.html", errors={}, form={}, **_users_context())


@bp.post("/users")
@staff_page(Permission.USERS_MANAGE)
def create_user() -> Any:
    from node.web.core import auth_service

    try:
        data = load_form(UserSchema())
        user = auth_service().create_user(data)
    except TongbanError as exc:
        return _failed("web/staff/admin/users.html", exc, **_users_context())
    flash(f"账号 {user.username} 已创建。")
    return redirect(url_for("web_admin.users"))


@bp.post("/users/<username>/active")
@staff_page(Permission.USERS_MANAGE)
def set_active(username: str) -> Any:
    from node.web.core import auth_service

    try:
        active = request.form.get("active") == "true"
        auth_service().update_user(current_staff(), username, {"active": active})
    except TongbanError as exc:
        return _failed("web/staff/admin/users.html", exc, **_users_context())
    flash(f"账号 {username} 已{'启用' if active else '停用'}。")
    return redirect(url_for("web_admin.users"))


# -- calendar ------------------------------------------------------------------------------


def _calendar_context() -> dict[str, Any]:
    year = today().year
    return {"overrides": calendar_service().list_overrides(None), "year": year}


@bp.get("/calendar")
@staff_page(Permission.CATALOG_MANAGE)
def calendar() -> Any:
    return render_template("web/staff/admin/calendar.html", errors={}, form={},
                           **_calendar_context())


def _day(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationFailed({"day": ["请输入日期，格式 YYYY-MM-DD"]}) from exc
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed({"day": [f"日期须在 {FIRST_DAY} 至 {LAST_DAY} 之间"]})
    return day


@bp.post("/calendar")
@staff_page(Permission.CATALOG_MANAGE)
def set_override() -> Any:
    """Open or close the center on a date by local decision (调整办公日)."""
    try:
        day = _day(request.form.get("day", ""))
        form = MultiDict(request.form)
        form["working"] = "true" if request.form.get("working") == "true" else "false"
        data = load_form(OverrideBodySchema(), form)
        calendar_service().set_override(day, data["working"], data["reason"],
                                        current_staff().username)
    except TongbanError as exc:
        return _failed("web/staff/admin/calendar.html", exc, **_calendar_context())
    flash(f"{day} 已设为{'办公日' if data['working'] else '非办公日'}。")
    return redirect(url_for("web_admin.calendar"))


@bp.post("/calendar/<day>/remove")
@staff_page(Permission.CATALOG_MANAGE)
def remove_override(day: str) -> Any:
    try:
        calendar_service().remove_override(_day(day))
    except TongbanError as exc:
        return _failed("web/staff/admin/calendar.html", exc, **_calendar_context())
    flash(f"{day} 已恢复国家日历。")
    return redirect(url_for("web_admin.calendar"))


# -- import and export -----------------------------------------------------------------------


@bp.route("/import", methods=["GET", "POST"])
@staff_page(Permission.CATALOG_MANAGE)
def import_catalog() -> Any:
    """Import a catalog workbook: all of it or nothing, every row problem listed."""
    template = "web/staff/admin/import.html"
    if request.method == "GET":
        return render_template(template, errors={}, report=None)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed({"file": ["请选择 XLSX 文件"]})
        report = exchange().import_document(read_workbook(upload.read())).as_dict()
    except TongbanError as exc:
        current_session().rollback()
        return render_template(template, errors=problems_of(exc), report=None,
                               rows=exc.details.get("rows") or []), 422
    return render_template(template, errors={}, report=report)


@bp.get("/export.xlsx")
@staff_page(Permission.CATALOG_READ)
def export_catalog() -> Any:
    code = current_app.config["TONGBAN"]["code"]
    body = write_workbook(exchange().export_document(code))
    return download(body, XLSX_MEDIA_TYPE, f"catalog-{code}.xlsx")


# -- sync ------------------------------------------------------------------------------------


@bp.get("/sync")
@staff_page(Permission.CATALOG_MANAGE)
def sync() -> Any:
    """The node's sync with the hub: backlog, last push and pull, dead letters."""
    return render_template("web/staff/admin/sync.html",
                           status=status_report(current_session(), utcnow()),
                           hub_url=current_app.config["TONGBAN"].get("hub_url"))
