"""The center administrator's pages: catalog (matters, departments, windows, staff), user
accounts, XLSX import with the row errors, and the sync status; the calendar's pages join this
blueprint from :mod:`node.web.admin_calendar`."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import flash, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError
from werkzeug.datastructures import MultiDict

from node.auth.inputs import NewUser, UserChanges
from node.auth.permissions import Permission
from node.catalog.inputs import (
    MatterChanges,
    NewMatter,
    NewStaffMember,
    StaffChanges,
    WindowChanges,
)
from node.catalog.schemas import (
    DepartmentPatchSchema,
    DepartmentSchema,
    MatterPatchSchema,
    NewMatterSchema,
    NewStaffMemberSchema,
    StaffMemberPatchSchema,
    WindowPatchSchema,
    WindowSchema,
)
from node.catalog.workbook import MEGABYTE, read_workbook, write_workbook
from node.composition import current_settings
from node.forms import NewUserSchema, UserPatchSchema
from node.sync.status import status_report
from node.web.core import (
    auth_service,
    current_staff,
    download,
    form_data,
    load_form,
    page_turn,
    problems_of,
    staff_page,
    web_blueprint,
)
from node.web.matter_form import (
    MATTER_LABELS,
    material_rule_rows,
    matter_input,
    matter_values,
)
from node.web.services import catalog, catalog_exchange
from schemas.errors import NotFound, TongbanError, ValidationFailed
from schemas.i18n import _
from schemas.message_parts import FILE_TYPES
from schemas.metrics import POWERS
from schemas.runtime.database import utcnow
from schemas.runtime.spreadsheet import XLSX_MEDIA_TYPE
from schemas.runtime.webapp import current_session

bp = web_blueprint("web_admin", "/staff/admin")
MATTERS_PAGE = 100  # matters per page of the catalog administration


def failed_page(template: str, exc: TongbanError, **context: Any) -> tuple[str, int]:
    current_session().rollback()
    return render_template(template, errors=problems_of(exc), form=request.form,
                           **context), 422


# -- matters --------------------------------------------------------------------------------


def _matters_context() -> dict[str, Any]:
    """The matter list (a keyset page, searched by ``?q=``) and the new matter form's choices."""
    query = request.args.get("q", "").strip()[:100]
    page = catalog().search_matters(query=query or None, include_retired=True,
                                    **page_turn((str,)), per_page=MATTERS_PAGE)
    return {"matters": page.items, "page": page, "q": query,
            "departments": catalog().list_departments(),
            "windows": catalog().list_windows(), "powers": POWERS,
            "matter_labels": MATTER_LABELS, "file_types": FILE_TYPES,
            "node_file_mb": current_settings().upload_max_file_bytes / MEGABYTE}


@bp.get("")
@staff_page(Permission.CATALOG_MANAGE)
def matters() -> Any:
    blank = MultiDict({"should_enter": "on", "online": "on", "fee_amount_yuan": "0.00"})
    return render_template("web/staff/admin/matters.html", errors={}, form=blank,
                           **_matters_context())


_Loaded = TypeVar("_Loaded")


def _load(schema: Schema, data: dict[str, Any], kind: type[_Loaded]) -> _Loaded:
    """``data`` loaded by ``schema`` as ``kind``: the service's typed input its ``@post_load``
    makes, or the ``dict`` of a schema without one."""
    try:
        loaded = schema.load(data)
    except ValidationError as exc:
        raise ValidationFailed(exc.messages if isinstance(exc.messages, dict)
                               else {"": exc.messages}) from exc
    if not isinstance(loaded, kind):
        raise TypeError(f"{type(schema).__name__} loads {type(loaded).__name__}, not {kind}")
    return loaded


@bp.post("/matters")
@staff_page(Permission.CATALOG_MANAGE)
def create_matter() -> Any:
    """Add a matter: the form's fields, the boxes ticked, one material per line."""
    template = "web/staff/admin/matters.html"
    try:
        data = matter_input(request.form, None)
        matter = catalog().create_matter(_load(NewMatterSchema(), data, NewMatter))
    except TongbanError as exc:
        return failed_page(template, exc, **_matters_context())
    flash(_("事项 %(name)s 已添加。", name=matter.name))
    return redirect(url_for("web_admin.matters"))


@bp.route("/matters/<code>/edit", methods=["GET", "POST"])
@staff_page(Permission.CATALOG_MANAGE)
def edit_matter(code: str) -> Any:
    """Change a matter (as PATCH /api/v1/matters/<code>): the form comes filled in."""
    template = "web/staff/admin/matter_edit.html"
    service = catalog()
    try:
        matter = service.matter(code)
    except NotFound:
        return _not_found(_("没有编码为 %(code)s 的事项。", code=code))
    context = {"matter": matter, "rule_rows": material_rule_rows(matter), **_matters_context()}
    if request.method == "GET":
        return render_template(template, errors={}, form=matter_values(matter), **context)
    try:
        data = matter_input(request.form, matter)
        data.pop("code", None)
        service.update_matter(code, _load(MatterPatchSchema(), data, MatterChanges))
    except TongbanError as exc:
        current_session().rollback()
        matter = service.matter(code)
        context = {"matter": matter, "rule_rows": material_rule_rows(matter),
                   **_matters_context()}
        return render_template(template, errors=problems_of(exc), form=request.form,
                               **context), 422
    flash(_("事项 %(name)s 已保存。", name=matter.name))
    return redirect(url_for("web_admin.matters"))


def _not_found(message: str) -> tuple[str, int]:
    return render_template("web/error.html", status=404, title=_("未找到"), message=message), 404


@bp.post("/matters/<code>/<action>")
@staff_page(Permission.CATALOG_MANAGE)
def matter_action(code: str, action: str) -> Any:
    try:
        if action == "retire":
            catalog().retire_matter(code)
        elif action == "reinstate":
            catalog().reinstate_matter(code)
        else:
            raise ValidationFailed({"action": [_("请选择停用或恢复")]})
    except TongbanError as exc:
        return failed_page("web/staff/admin/matters.html", exc, **_matters_context())
    flash(_("已更新。"))
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
            schema = NewStaffMemberSchema()
            service.create_staff_member(_load(schema, form_data(schema), NewStaffMember))
        else:
            raise ValidationFailed({"what": [_("请选择部门、窗口或工作人员")]})
    except TongbanError as exc:
        return failed_page(template, exc, **_organisation_context())
    flash(_("已添加。"))
    return redirect(url_for("web_admin.organisation"))


ORGANISATION_LABELS = {
    "code": _("代码"), "name": _("名称"), "location": _("位置"), "department_codes": _("进驻部门"),
    "staff_type": _("人员类型"), "department_code": _("部门"), "window_code": _("窗口"),
    "position": _("岗位"), "active": _("在岗"),
}


def _organisation_edit(what: str, code: str) -> tuple[Any, MultiDict[str, str]]:
    """The record to edit and its values as the edit form shows them."""
    service = catalog()
    values: MultiDict[str, str] = MultiDict()
    record: Any
    if what == "department":
        record = service.department(code)
        values["name"] = record.name
    elif what == "window":
        record = service.window(code)
        values.update({"name": record.name, "location": record.location})
        for department in record.departments:
            values.add("department_codes", department.code)
    elif what == "staff":
        record = service.staff_member(code)
        values.update({"name": record.name, "staff_type": record.staff_type.value,
                       "department_code": record.department.code if record.department else "",
                       "window_code": record.window.code if record.window else "",
                       "position": record.position})
        if record.active:
            values["active"] = "on"
    else:
        raise NotFound(_("no %(what)s", what=what))
    return record, values


def _organisation_changes(what: str, code: str, form: MultiDict[str, str]) -> None:
    """Change the record as the edit form says, read by the API's PATCH schema: every field
    is sent, so that an emptied field or an unticked box takes effect."""
    service = catalog()
    if what == "department":
        changed = _load(DepartmentPatchSchema(), {"name": form.get("name", "").strip()}, dict)
        service.update_department(code, name=changed["name"])
    elif what == "window":
        service.update_window(code, _load(WindowPatchSchema(), {
            "name": form.get("name", "").strip(), "location": form.get("location", "").strip(),
            "department_codes": form.getlist("department_codes")}, WindowChanges))
    else:
        service.update_staff_member(code, _load(StaffMemberPatchSchema(partial=True), {
            "name": form.get("name", "").strip(), "staff_type": form.get("staff_type", ""),
            "department_code": form.get("department_code") or None,
            "window_code": form.get("window_code") or None,
            "position": form.get("position", "").strip(), "active": "active" in form},
            StaffChanges))


WHAT_NAMES = {"department": _("部门"), "window": _("窗口"), "staff": _("工作人员")}


@bp.route("/organisation/<what>/<code>/edit", methods=["GET", "POST"])
@staff_page(Permission.CATALOG_MANAGE)
def edit_organisation(what: str, code: str) -> Any:
    """Change a department's name, a window (name, location, departments served) or a staff
    record (as the API's PATCH on each); the form comes filled in."""
    template = "web/staff/admin/organisation_edit.html"
    if what not in WHAT_NAMES:
        return _not_found(_("没有 %(what)s 这类记录。", what=what))
    try:
        record, values = _organisation_edit(what, code)
    except NotFound:
        return _not_found(_("没有代码为 %(code)s 的%(what_names)s。",
                            code=code, what_names=WHAT_NAMES[what]))
    context = {"what": what, "what_name": WHAT_NAMES[what], "record": record,
               "active_departments": catalog().list_departments(),
               "active_windows": catalog().list_windows(),
               "organisation_labels": ORGANISATION_LABELS}
    if request.method == "GET":
        return render_template(template, errors={}, form=values, **context)
    try:
        _organisation_changes(what, code, request.form)
    except TongbanError as exc:
        current_session().rollback()
        context["record"], _values = _organisation_edit(what, code)
        return render_template(template, errors=problems_of(exc), form=request.form,
                               **context), 422
    flash(_("%(what_names)s %(code)s 已保存。", what_names=WHAT_NAMES[what], code=code))
    return redirect(url_for("web_admin.organisation"))


RETIRE_ACTIONS = {"retire": _("撤销"), "reinstate": _("恢复")}


@bp.post("/organisation/<any(department, window):what>/<code>/<any(retire, reinstate):action>")
@staff_page(Permission.CATALOG_MANAGE)
def organisation_action(what: str, code: str, action: str) -> Any:
    """Retire or reinstate a department or a window (as POST /api/v1/<what>s/<code>/<action>);
    a refusal, such as a department that still has active matters, is shown on the page."""
    service = catalog()
    record: Any
    try:
        if what == "department":
            record = (service.retire_department(code) if action == "retire"
                      else service.reinstate_department(code))
        else:
            record = (service.retire_window(code) if action == "retire"
                      else service.reinstate_window(code))
    except TongbanError as exc:
        return failed_page("web/staff/admin/organisation.html", exc, **_organisation_context())
    flash(_("%(what_names)s %(name)s 已%(retire_actions)s。",
            what_names=WHAT_NAMES[what], name=record.name, retire_actions=RETIRE_ACTIONS[action]))
    return redirect(url_for("web_admin.organisation"))


# -- users --------------------------------------------------------------------------------


def _users_context() -> dict[str, Any]:
    return {"users": auth_service().list_users(), "departments": catalog().list_departments(),
            "staff_members": catalog().list_staff()}


@bp.get("/users")
@staff_page(Permission.USERS_MANAGE)
def users() -> Any:
    return render_template("web/staff/admin/users.html", errors={}, form={}, **_users_context())


@bp.post("/users")
@staff_page(Permission.USERS_MANAGE)
def create_user() -> Any:
    try:
        schema = NewUserSchema()
        user = auth_service().create_user(_load(schema, form_data(schema), NewUser))
    except TongbanError as exc:
        return failed_page("web/staff/admin/users.html", exc, **_users_context())
    flash(_("账号 %(username)s 已创建。", username=user.username))
    return redirect(url_for("web_admin.users"))


@bp.post("/users/<username>/active")
@staff_page(Permission.USERS_MANAGE)
def set_active(username: str) -> Any:
    try:
        active = request.form.get("active") == "true"
        auth_service().update_user(current_staff(), username, UserChanges(active=active))
    except TongbanError as exc:
        return failed_page("web/staff/admin/users.html", exc, **_users_context())
    flash(_("账号 %(username)s 已%(ifactiveelse)s。",
            username=username, ifactiveelse='启用' if active else '停用'))
    return redirect(url_for("web_admin.users"))


USER_LABELS = {
    "username": _("用户名"),
    "display_name": _("姓名"),
    "role": _("角色"),
    "department_code": _("部门"),
    "staff_code": _("对应工作人员"),
    "password": _("密码"),
    "active": _("启用"),
}


def _user_values(user: Any) -> MultiDict[str, str]:
    values: MultiDict[str, str] = MultiDict({
        "display_name": user.display_name, "role": user.role.value,
        "department_code": user.department.code if user.department else "",
        "staff_code": user.staff_member.code if user.staff_member else ""})
    if user.active:
        values["active"] = "on"
    return values


@bp.route("/users/<username>/edit", methods=["GET", "POST"])
@staff_page(Permission.USERS_MANAGE)
def edit_user(username: str) -> Any:
    """Change an account's name, role, department, staff record, password or status (as PATCH
    /api/v1/users/<username>); a new password or disabling revokes the account's sessions."""
    template = "web/staff/admin/user_edit.html"
    service = auth_service()
    try:
        user = service.user(username)
    except NotFound:
        return _not_found(_("没有用户 %(username)s。", username=username))
    context = {"account": user, "departments": catalog().list_departments(),
               "staff_members": catalog().list_staff(), "user_labels": USER_LABELS}
    if request.method == "GET":
        return render_template(template, errors={}, form=_user_values(user), **context)
    form = request.form
    data: dict[str, Any] = {
        "display_name": form.get("display_name", "").strip(), "role": form.get("role", ""),
        "department_code": form.get("department_code") or None,
        "staff_code": form.get("staff_code") or None, "active": "active" in form}
    if form.get("password"):
        data["password"] = form["password"]
    try:
        service.update_user(current_staff(), username, _load(UserPatchSchema(), data, UserChanges))
    except TongbanError as exc:
        current_session().rollback()
        context["account"] = service.user(username)
        return render_template(template, errors=problems_of(exc), form=form, **context), 422
    flash(_("账号 %(username)s 已保存。", username=username))
    return redirect(url_for("web_admin.users"))


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
            raise ValidationFailed({"file": [_("请选择 XLSX 文件")]})
        report = catalog_exchange().import_document(read_workbook(upload.read())).as_dict()
    except TongbanError as exc:
        current_session().rollback()
        return render_template(template, errors=problems_of(exc), report=None,
                               rows=exc.details.get("rows") or []), 422
    return render_template(template, errors={}, report=report)


@bp.get("/export.xlsx")
@staff_page(Permission.CATALOG_READ)
def export_catalog() -> Any:
    code = current_settings().code
    body = write_workbook(catalog_exchange().export_document(code))
    return download(body, XLSX_MEDIA_TYPE, _("事项目录-%(code)s.xlsx", code=code))


# -- sync ------------------------------------------------------------------------------------


@bp.get("/sync")
@staff_page(Permission.CATALOG_MANAGE)
def sync() -> Any:
    """The node's sync with the hub: backlog, last push and pull, dead letters."""
    return render_template("web/staff/admin/sync.html",
                           status=status_report(current_session(), utcnow()),
                           hub_url=current_settings().hub_url)
