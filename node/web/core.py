"""What every page of the web interface shares: session login, permission checks, CSRF,
form parsing and the mapping of domain errors to messages on the page.

Staff log in with the same :class:`~node.auth.service.AuthService` as the API: a login issues
the same kind of token, kept in Flask's signed session cookie, so that expiry, revocation,
lockout and disabling an account work for pages exactly as for the API.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypedDict, TypeVar, cast
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError, CSRFProtect
from marshmallow import Schema, ValidationError, fields
from werkzeug.datastructures import MultiDict

from node.auth.models import User
from node.auth.permissions import ROLE_PERMISSIONS, Permission, allows
from node.auth.service import AuthService
from node.calendar.workdays import to_shanghai_date
from node.cases import materials
from node.cases.materials import CheckedFile, MaterialRule
from node.catalog.models import MaterialForm
from node.composition import NodeServices, current_settings
from node.listing import position
from node.sync.names import center_names, centers_below
from node.web.labels import center_label
from schemas import names
from schemas.divisions import DivisionCodeError, level_of, lineage, province_of
from schemas.errors import TongbanError, Unauthorized, ValidationFailed
from schemas.i18n import _
from schemas.runtime.database import utcnow
from schemas.runtime.webapp import current_session

F = TypeVar("F", bound=Callable[..., Any])
_Input = TypeVar("_Input")

csrf = CSRFProtect()
FORM_TYPES = frozenset(
    {"application/json", "application/x-www-form-urlencoded", "multipart/form-data"}
)
SESSION_TOKEN = "staff_token"  # noqa: S105 - the session key's name, not a secret


def web_blueprint(name: str, url_prefix: str | None = None) -> Blueprint:
    """A blueprint of pages: every unsafe request must carry the form's CSRF token."""
    blueprint = Blueprint(name, __name__, url_prefix=url_prefix)

    @blueprint.before_request
    def _check_csrf() -> None:
        view = current_app.view_functions.get(request.endpoint or "")
        if getattr(view, "upload_form", False):  # before the form is read
            request.max_content_length = current_settings().upload_request_max_bytes
        csrf.protect()

    @blueprint.errorhandler(CSRFError)
    def _csrf_refused(exc: CSRFError) -> tuple[str, int]:
        return render_template(
            "web/error.html", status=400, title=_("表单已失效"),
            message=_("表单的安全校验未通过（缺少或过期的 CSRF 令牌）。"
                    "请返回上一页，刷新后重新提交。"),
        ), 400

    return blueprint


def upload_form(view: F) -> F:
    """Mark a page whose form carries material files: its requests may carry the case's files
    and room (NodeSettings.upload_request_max_bytes), every other one max_content_length."""
    view.upload_form = True  # type: ignore[attr-defined]
    return view


def auth_service() -> AuthService:
    # tests may set another clock (as the hub's hub_clock)
    return NodeServices.of_app(current_app.extensions).auth(
        current_session(), current_app.extensions.get("node_clock", utcnow))


def web_session_commit() -> None:
    """Keep what was written so far even though the page answers with an error status."""
    current_session().commit()


def signed_in_user() -> User | None:
    """The staff user of this browser session, if its token is still live."""
    if "web_user" in g:
        return cast(User | None, g.web_user)
    token = session.get(SESSION_TOKEN)
    user = None
    if token:
        try:
            user, _row = auth_service().authenticate(token)
        except Unauthorized:
            session.pop(SESSION_TOKEN, None)
    g.web_user = user
    return user


def staff_page(permission: Permission) -> Callable[[F], F]:
    """The page needs a signed-in user whose role holds ``permission`` (else the login page,
    or 403 with the reason)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = signed_in_user()
            if user is None:
                return redirect(url_for("web_auth.login", next=request.full_path.rstrip("?")))
            if not allows(user.role, permission):
                return render_template(
                    "web/error.html", status=403, title=_("无权访问"),
                    message=_("您的角色（%(role_names)s）没有此操作的权限。",
                              role_names=ROLE_NAMES[user.role]),
                ), 403
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorator


def current_staff() -> User:
    user = signed_in_user()
    if user is None:  # staff_page ran first
        abort(401)
    return user


def can(permission: Permission) -> bool:
    user = signed_in_user()
    return user is not None and allows(user.role, permission)


ROLE_NAMES = names.ROLE_NAMES


def home_for(user: User) -> str:
    """The page a user starts on after login: their role's home page."""
    return url_for("web_home.home")  # every role's own home page (node/web/home.py)


def permissions_of(user: User | None) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[user.role] if user is not None else frozenset()


def known_centers() -> dict[str, str]:
    """``{code: name}`` of the centers this node knows by name (the registry's names, and
    its own name from its settings), read once a request."""
    if "known_centers" not in g:
        names = center_names(current_session())
        settings = current_settings()
        if settings.name:
            names[settings.code] = settings.name
        g.known_centers = names
    return cast(dict[str, str], g.known_centers)


def center(code: Any, name: str | None = None) -> str:
    """A center as the pages show it: its name (``name`` when the answer gives one, else the
    registry's) with its code beside it (labels.center_label)."""
    if name and code:
        return center_label(code, {str(code): name})
    return center_label(code, known_centers())


def upper_centers() -> list[tuple[str, str]]:
    """``(code, label)`` of the centers above this one, nearest first: the picker of 上报."""
    return [(code, center(code)) for code in lineage(current_settings().code)[1:]]


def tongban_centers(level: str) -> list[tuple[str, str]]:
    """``(code, label)`` of the named centers of this province at ``level`` (a 通办 matter's
    handling level), other than this one: the picker of the competent center (代收转办)."""
    own = current_settings().code
    found = []
    for code in sorted(known_centers()):
        try:
            same_level = level_of(code).value == level
        except DivisionCodeError:
            continue
        if same_level and code != own and province_of(code) == province_of(own):
            found.append((code, center(code)))
    return found


def scope_centers() -> list[tuple[str, str]]:
    """``(code, label)`` of this center and the named centers below it: the scope picker."""
    own = current_settings().code
    return [(own, center(own))] + [(code, center(code))
                                   for code, _name in centers_below(current_session(), own)]


class Turn(TypedDict):
    """Where a list's page starts: the keyword arguments of the list's search."""

    cursor: str | None
    before: str | None


def page_turn(kinds: Sequence[type] = (dt.date, int), prefix: str = "") -> Turn:
    """The page's ``?cursor=`` (下一页) or ``?before=`` (上一页) as the list's keyword
    arguments (node/listing.py, the key's ``kinds``); on a page with two lists, each list's
    with its ``prefix`` (``in_cursor``, the pager's ``pager_prefix``).  A link that is not
    ours, or one giving both, shows the first page and says so (``g.pager_problem``, shown by
    web/base.html): the pager's links, web/_pager.html, only ever give ours."""
    cursor = request.args.get(f"{prefix}cursor") or None
    before = request.args.get(f"{prefix}before") or None
    try:
        position(cursor, before, kinds)
    except ValidationFailed:
        g.pager_problem = True
        return Turn(cursor=None, before=None)
    return Turn(cursor=cursor, before=before)


def today() -> dt.date:
    return to_shanghai_date(utcnow())


def missing_calendar_years(app: Flask) -> list[int]:
    """Years without national holiday data from today to sixty days ahead (the banner on an
    administrator's pages: 2027年国家节假日安排尚未导入或下发)."""
    return NodeServices.of_app(app.extensions).calendar_reader(
        current_session(), clock=app.extensions["tongban_clock"]).missing_years()


# -- forms ----------------------------------------------------------------------------------


def form_data(schema: Schema, source: MultiDict[str, str] | None = None) -> dict[str, Any]:
    """The submitted form as the input ``schema`` reads it: lists from repeated fields (or a
    textarea's lines), numbers as numbers when they parse, empty fields left out."""
    form = source if source is not None else request.form
    data: dict[str, Any] = {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        if isinstance(field, fields.List):
            values = [v.strip() for v in form.getlist(key) for v in v.splitlines()]
            values = [v for v in values if v]
            if isinstance(field.inner, fields.Integer):
                data[key] = [_number(v) for v in values]
            elif values or key in form:
                data[key] = values
            continue
        if isinstance(field, fields.Boolean):
            if key in form:
                data[key] = form.get(key) in ("on", "true", "1", "yes")
            continue
        raw = form.get(key)
        if raw is None or raw.strip() == "":
            continue
        data[key] = _number(raw.strip()) if isinstance(field, fields.Integer) else raw
    return data


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text


def load_form(schema: Schema, source: MultiDict[str, str] | None = None) -> dict[str, Any]:
    """Parse and validate the form with ``schema``; problems raise ValidationFailed."""
    try:
        return cast(dict[str, Any], schema.load(form_data(schema, source)))
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"form": exc.messages}
        raise ValidationFailed(cast(dict[str, Any], messages)) from exc


def load_input(schema: Schema, kind: type[_Input],
               source: MultiDict[str, str] | None = None) -> _Input:
    """The form loaded by ``schema`` as the service's typed input its ``@post_load`` makes;
    problems raise ValidationFailed."""
    try:
        loaded = schema.load(form_data(schema, source))
    except ValidationError as exc:
        messages = exc.messages if isinstance(exc.messages, dict) else {"form": exc.messages}
        raise ValidationFailed(cast(dict[str, Any], messages)) from exc
    if not isinstance(loaded, kind):  # pragma: no cover - a schema without its @post_load
        raise TypeError(f"{type(schema).__name__} loads {type(loaded).__name__}, not {kind}")
    return loaded


def problems_of(exc: TongbanError) -> dict[str, list[str]]:
    """A domain error as ``{field: [reasons]}`` for the page ("" = about the whole form)."""
    found: dict[str, list[str]] = {}
    for key in ("fields",):
        for field, reasons in (exc.details.get(key) or {}).items():
            found[str(field)] = _flatten(reasons)
    for row in exc.details.get("rows") or []:
        if isinstance(row, Mapping):
            where = _("%(get)s 第 %(get2)s 行 %(get3)s",
                      get=row.get('sheet', ''), get2=row.get('row', ''), get3=row.get('column', ''))
            found.setdefault("rows", []).append(f"{where}：{row.get('reason', '')}")
    if not found:
        found[""] = [translate_message(exc)]
    return found


def _flatten(reasons: Any) -> list[str]:
    if isinstance(reasons, str):
        return [reasons]
    if isinstance(reasons, Mapping):
        return [f"{k}: {r}" for k, v in reasons.items() for r in _flatten(v)]
    if isinstance(reasons, list | tuple):
        return [r for item in reasons for r in _flatten(item)]
    return [str(reasons)]


_CODE_MESSAGES = {
    "not_found": _("未找到。"),
    "forbidden": _("无权进行此操作。"),
    "conflict": _("与现有数据冲突。"),
    "stale_version": _("该记录已被他人修改，请刷新后重试。"),
    "too_many_attempts": _("尝试次数过多，请稍后再试。"),
    "unauthorized": _("用户名或密码错误。"),
}


def translate_message(exc: TongbanError) -> str:
    """The error for the page: a Chinese lead-in by code, the service's own words after it."""
    lead = _CODE_MESSAGES.get(exc.code, "操作未完成。")
    return f"{lead}（{exc.message}）" if exc.message else lead


def form_error_page(template: str, exc: TongbanError, status: int = 422,
                    **context: Any) -> tuple[str, int]:
    """Render ``template`` again with the problems shown; the transaction is rolled back."""
    return render_template(template, errors=problems_of(exc), form=request.form,
                           **context), status


def download(body: bytes, mimetype: str, filename: str) -> Response:
    """An attachment named ``filename``: in Chinese by RFC 5987's ``filename*``, with an
    ASCII ``filename`` (its Latin part) for a client that knows no other."""
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("_.") or "download"
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{plain}"; '
                               f"filename*=UTF-8''{quote(filename, safe='')}"})


def material_files(rule_list: Sequence[MaterialRule], *, max_case_bytes: int,
                   ) -> list[CheckedFile]:
    """The files of the form's material fields (``material-<position>``, several each), every
    one checked by its bytes against its material's rule before anything is stored: a refused
    file raises ValidationFailed and leaves nothing behind (node/cases/materials.py)."""
    uploads = {rule.position: [(f.filename or "", f.read())
                               for f in request.files.getlist(f"material-{rule.position}")
                               if f and f.filename]
               for rule in rule_list}
    checked, problems = materials.check_files(
        rule_list, {p: files for p, files in uploads.items() if files},
        max_case_bytes=max_case_bytes)
    if problems:
        raise ValidationFailed(problems)
    return checked


def ticked_paper(listed: Iterable[tuple[int, str, int]], form_field: str,
                 ) -> list[tuple[int, MaterialForm, int]]:
    """The paper a clerk ticked as received on an intake form: for each material ``(index,
    name, usual copies)`` ticked ``received-<index>``, its form ``<form_field>-<index>`` and
    copies ``copies-<index>``, as ``(index, form, copies)`` (problems raise ValidationFailed
    by the form's ``material-<index>``)."""
    found, problems = [], {}
    for index, name, usual in listed:
        if not request.form.get(f"received-{index}"):
            continue
        copies = request.form.get(f"copies-{index}", "").strip() or str(usual)
        form = request.form.get(f"{form_field}-{index}", "")
        if not copies.isdigit() or not 1 <= int(copies) <= materials.MAX_COPIES:
            problems[f"material-{index}"] = [_("%(material)s：份数须为 1 至 %(most)s",
                                               material=name, most=materials.MAX_COPIES)]
        elif form not in {f.value for f in materials.PAPER_FORMS}:
            problems[f"material-{index}"] = [_(
                "%(material)s：请选择收到的是原件、复印件还是原件及复印件", material=name)]
        else:
            found.append((index, MaterialForm(form), int(copies)))
    if problems:
        raise ValidationFailed(problems)
    return found
