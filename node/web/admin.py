"""The center administrator's pages: catalog (matters, departments, windows, staff), user
accounts, XLSX import with the row errors, and the sync status; the calendar's pages join this
blueprint from :mod:`node.web.admin_calendar`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar

from flask import flash, redirect, render_template, request, url_for
from marshmallow import Schema, ValidationError, fields
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
from node.catalog.items import MATTER_SCALARS
from node.catalog.models import Matter, MatterMaterial
from node.catalog.schemas import (
    DepartmentPatchSchema,
    DepartmentSchema,
    MatterPatchSchema,
    MatterSchema,
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
    problems_of,
    staff_page,
    web_blueprint,
)
from node.web.services import catalog, catalog_exchange
from schemas.errors import NotFound, TongbanError, ValidationFailed
from schemas.i18n import _
from schemas.message_parts import FILE_TYPES, MATERIAL_MAX_FILE_BYTES
from schemas.metrics import POWERS
from schemas.runtime.database import utcnow
from schemas.runtime.spreadsheet import XLSX_MEDIA_TYPE, fen_from_yuan
from schemas.runtime.webapp import current_session

bp = web_blueprint("web_admin", "/staff/admin")


def failed_page(template: str, exc: TongbanError, **context: Any) -> tuple[str, int]:
    current_session().rollback()
    return render_template(template, errors=problems_of(exc), form=request.form,
                           **context), 422


# -- matters --------------------------------------------------------------------------------


def _matters_context() -> dict[str, Any]:
    items, total = catalog().search_matters(include_retired=True, per_page=100)
    return {"matters": items, "total": total, "departments": catalog().list_departments(),
            "windows": catalog().list_windows(), "powers": POWERS,
            "matter_labels": MATTER_LABELS, "file_types": FILE_TYPES,
            "node_file_mb": current_settings().upload_max_file_bytes / MEGABYTE}


@bp.get("")
@staff_page(Permission.CATALOG_MANAGE)
def matters() -> Any:
    blank = MultiDict({"should_enter": "on", "online": "on", "fee_amount_yuan": "0.00"})
    return render_template("web/staff/admin/matters.html", errors={}, form=blank,
                           **_matters_context())


MATTER_LABELS = {
    "code": _("事项编码"),
    "name": _("事项名称"),
    "category": _("事项类型"),
    "department_code": _("实施部门"),
    "window_code": _("办理窗口"),
    "handling_level": _("办理层级"),
    "handling_type": _("办件类型"),
    "legal_limit_days": _("法定时限"),
    "promised_limit_days": _("承诺时限"),
    "fee_amount_fen": _("收费金额"),
    "fee_amount_yuan": _("收费金额"),
    "powers": _("窗口授权"),
    "materials": _("申报材料"),
    "legal_basis": _("设立依据"),
    "conditions": _("申请条件"),
    "procedure": _("办理程序"),
    "fee_basis": _("收费依据"),
    "fee_standard": _("收费标准"),
    "complaint_channel": _("投诉渠道"),
    "window_authority": _("窗口权限说明"),
    "entered": _("已进中心"),
    "should_enter": _("应进中心"),
    "online": _("网上可办"),
    "service_address": _("办理地点"),
    "office_hours": _("办公时间"),
    "enquiry_phone": _("咨询电话"),
    "complaint_phone": _("监督投诉电话"),
    "tongban_scope": _("通办范围"),
    "competence": _("管辖规则"),
}
MATTER_FLAGS = ("notify_and_commit", "deemed_approval", "should_enter", "entered", "online")


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


def _matter_input(form: MultiDict[str, str], existing: Matter | None) -> dict[str, Any]:
    """A matter's form as MatterSchema reads it.

    Every field on the form is sent, so that clearing a text field clears it; a blank number
    is refused rather than left unchanged. A ticked box is present, an unticked one absent.
    One material per line: a line naming a material the matter already has keeps that
    material's form, copies and note.
    """
    data: dict[str, Any] = {}
    for name, schema_field in MatterSchema().load_fields.items():
        key = schema_field.data_key or name
        if key in ("materials", "powers", "fee_amount_fen", *MATTER_FLAGS) or key not in form:
            continue
        raw = form.get(key, "")
        if isinstance(schema_field, fields.Integer):
            if not raw.strip():
                raise ValidationFailed({key: [_("请填写整数")]})
            data[key] = _integer(raw.strip())
        else:
            data[key] = raw.strip() if key in ("code", "name") else raw
    if "fee_amount_yuan" in form:
        data["fee_amount_fen"] = yuan_to_fen(form.get("fee_amount_yuan", ""), "fee_amount_yuan")
    for flag in MATTER_FLAGS:
        data[flag] = flag in form
    data["powers"] = {p: f"power_{p}" in form for p in POWERS}
    data["window_code"] = data.get("window_code") or None
    kept = {m.name: m for m in existing.materials} if existing is not None else {}
    materials: list[dict[str, Any]] = []
    for line in form.get("materials", "").splitlines():
        name = line.strip()
        if not name:
            continue
        item: dict[str, Any] = {"name": name}
        if name in kept:
            old = kept[name]
            item.update(required=old.required, form=old.form.value, copies=old.copies,
                        note=old.note, **_material_rule(form, old))
        materials.append(item)
    data["materials"] = materials
    return data


def _material_rule(form: MultiDict[str, str], old: MatterMaterial) -> dict[str, Any]:
    """A kept material's file rule from its row of the form (``rule-<position>-…``; the size in
    MB, blank: the node's), or as it was when the form has no row for it."""
    key = f"rule-{old.position}"
    if f"{key}-shown" not in form:
        return {"electronic_accepted": old.electronic_accepted, "file_types": old.file_types,
                "max_file_bytes": old.max_file_bytes}
    size = form.get(f"{key}-max_mb", "").strip()
    max_bytes: Any = None
    if size:
        try:
            max_bytes = round(float(size) * MEGABYTE)
        except ValueError:
            reason = _("%(material)s：单个文件上限请填写以 MB 为单位的数字", material=old.name)
            raise ValidationFailed({"materials": [reason]}) from None
        if not 0 < max_bytes <= MATERIAL_MAX_FILE_BYTES:
            raise ValidationFailed({"materials": [
                _("%(material)s：单个文件上限须大于 0 且不超过 %(most)s MB", material=old.name,
                  most=MATERIAL_MAX_FILE_BYTES // MEGABYTE)]})
    return {"electronic_accepted": f"{key}-electronic" in form,
            "file_types": [kind for kind in FILE_TYPES if f"{key}-type-{kind}" in form],
            "max_file_bytes": max_bytes}


def material_rule_rows(matter: Matter) -> list[dict[str, Any]]:
    """The edit page's rows of the matter's materials' file rules (the size in MB)."""
    return [{"position": m.position, "name": m.name, "electronic": m.electronic_accepted,
             "types": m.file_types,
             "max_mb": f"{m.max_file_bytes / MEGABYTE:g}" if m.max_file_bytes else ""}
            for m in matter.materials]


def _matter_values(matter: Matter) -> MultiDict[str, str]:
    """A matter as its edit form shows it (the same keys the form sends)."""
    values: MultiDict[str, str] = MultiDict()
    for key in MATTER_SCALARS:
        value = getattr(matter, key)
        if key in MATTER_FLAGS:
            if value:
                values[key] = "on"
        else:
            values[key] = str(value.value if hasattr(value, "value") else value)
    values.pop("fee_amount_fen", None)
    values["fee_amount_yuan"] = fen_to_yuan_text(matter.fee_amount_fen)
    values["department_code"] = matter.department.code
    values["window_code"] = matter.window.code if matter.window else ""
    for power, held in matter.powers.items():
        if held:
            values[f"power_{power}"] = "on"
    values["materials"] = "\n".join(m.name for m in matter.materials)
    return values


@bp.post("/matters")
@staff_page(Permission.CATALOG_MANAGE)
def create_matter() -> Any:
    """Add a matter: the form's fields, the boxes ticked, one material per line."""
    template = "web/staff/admin/matters.html"
    try:
        data = _matter_input(request.form, None)
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
        return render_template(template, errors={}, form=_matter_values(matter), **context)
    try:
        data = _matter_input(request.form, matter)
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


def yuan_to_fen(text: str, key: str) -> int:
    """An amount typed in 元 (``20``, ``20.5``, ``1,640.00``) as 分 for the API; a clear
    message naming the field for anything else."""
    try:
        return fen_from_yuan(text)
    except ValueError as exc:
        raise ValidationFailed({key: [str(exc)]}) from exc


def fen_to_yuan_text(fen: int | None) -> str:
    """分 as the 元 a form shows, ``1640.00``."""
    return f"{Decimal(fen or 0) / 100:.2f}"


def _integer(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text  # the schema names the field


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
            raise ValidationFailed({"action": [_("retire 或 reinstate")]})
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
            raise ValidationFailed({"what": [_("department、window 或 staff")]})
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
    return download(body, XLSX_MEDIA_TYPE, f"catalog-{code}.xlsx")


# -- sync ------------------------------------------------------------------------------------


@bp.get("/sync")
@staff_page(Permission.CATALOG_MANAGE)
def sync() -> Any:
    """The node's sync with the hub: backlog, last push and pull, dead letters."""
    return render_template("web/staff/admin/sync.html",
                           status=status_report(current_session(), utcnow()),
                           hub_url=current_settings().hub_url)
