"""The web interface: server-rendered pages in Simplified Chinese for citizens and every staff
role, over the same services as the JSON API (docs/web.md).

``init_app`` registers the pages' blueprints, the vendored static files (ECharts, CSS, the
favicon), the Chinese page for an unknown URL and CSRF protection for every form; the JSON
API (bearer tokens, no cookies) is not CSRF-checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, render_template, request, send_from_directory

from node.cases.materials import megabytes
from node.composition import current_settings
from node.settings import NodeSettings
from node.web import (
    admin,
    admin_calendar,  # noqa: F401  (its pages join admin.bp)
    approver,
    auth,
    bundles,
    clerk,
    home,
    public,
    rankings,
    search,
    supervision,
)
from node.web.core import (
    FORM_TYPES,
    center,
    csrf,
    missing_calendar_years,
    permissions_of,
    scope_centers,
    signed_in_user,
    tongban_centers,
    upper_centers,
)
from node.web.labels import (
    FILTERS,
    chinese_date,
    chinese_note,
    count_text,
    local_time,
    lookup_filter,
    metric_name,
    metric_value,
    rate_text,
    score,
    sync_problem,
    times_text,
    yuan,
)
from schemas.i18n import _
from schemas.methodologies import methodology_label
from schemas.personal import mask_id_number, mask_phone
from schemas.runtime.webapp import Api

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"

# what a browser is told when it asks for a page that is not there (or in a way it is not)
ERROR_PAGES = {
    404: (_("页面不存在"), _("您要访问的页面不存在，可能是地址有误或页面已移除。")),
    405: (_("无法这样访问此页面"), _("此页面不接受这种访问方式，请从页面上的链接或按钮进入。")),
}


def init_app(app: Flask, api: Api) -> None:
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)  # checked by the pages' blueprints
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # valid as long as the signed session
    # Flask holds these keys already, so they are set, not defaulted: a cross-site request
    # carries no session; behind TLS (node.config: session_cookie_secure) only HTTPS does
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    settings: NodeSettings = app.config["TONGBAN"]
    app.config["SESSION_COOKIE_SECURE"] = settings.session_cookie_secure
    csrf.init_app(app)

    app.register_blueprint(Blueprint("web_static", __name__, static_folder=str(STATIC_DIR),
                                     static_url_path="/static"))
    blueprints = (auth.bp, home.bp, public.bp, clerk.bp, bundles.bp, approver.bp, search.bp,
                  supervision.bp, rankings.bp, admin.bp)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    @app.get("/favicon.ico", endpoint="web_favicon")
    def _favicon() -> Response:
        return send_from_directory(STATIC_DIR / "web", "favicon.ico",
                                   mimetype="image/vnd.microsoft.icon", max_age=86400)
    # the node refuses bodies an endpoint does not declare (schemas.runtime.webapp): pages read
    # forms
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("web_") and endpoint != "web_static.static":
            view.accepted_body_types = FORM_TYPES  # type: ignore[union-attr]

    for name, table in FILTERS.items():
        app.jinja_env.filters[name] = lookup_filter(table)
    app.jinja_env.filters.update(metric_name=metric_name, metric_value=metric_value,
                                 rate=rate_text, yuan=yuan, times=times_text,
                                 local_time=local_time,
                                 chinese_date=chinese_date, count_text=count_text,
                                 center=center, score=score,
                                 mask_id=mask_id_number, mask_phone=mask_phone,
                                 sync_problem=sync_problem, chinese_note=chinese_note)

    app.jinja_env.filters["running_label"] = rankings.running_label
    app.jinja_env.filters["methodology_label"] = methodology_label
    app.jinja_env.globals.update(upper_centers=upper_centers, scope_centers=scope_centers,
                                 tongban_centers=tongban_centers)

    def query_with(**changes: Any) -> str:
        """This page's query string with ``changes`` (None drops a key): the next-page link."""
        pairs = [(k, v) for k, v in request.args.items(multi=True) if k not in changes]
        pairs += [(k, v) for k, v in changes.items() if v is not None]
        return urlencode(pairs)

    app.jinja_env.globals["query_with"] = query_with
    app.jinja_env.tests["startingwith"] = lambda value, prefix: str(value).startswith(prefix)

    def _error_page(status: int) -> Response:
        if status == 413:  # the request's own limit (an upload form's: NodeSettings)
            title, message = _("提交的内容过大"), _(
                "本次提交的内容超过 %(size)s 的上限，没有保存任何内容：请按各项材料旁的格式和"
                "大小要求压缩或减少文件后重新提交。",
                size=megabytes(request.max_content_length or 0))
        else:
            title, message = ERROR_PAGES[status]
        page = render_template("web/error.html", status=status, title=title, message=message,
                               **_context())
        return Response(page, status=status, mimetype="text/html")

    api.error_page = _error_page

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        if not request.blueprint or not request.blueprint.startswith("web_"):
            return {}
        return _context()

    def _context() -> dict[str, Any]:
        user = signed_in_user()
        perms = {p.value for p in permissions_of(user)}
        return {
            "staff": user,
            "perms": perms,
            # every administrator's pages say which years lack national holiday data
            "calendar_missing_years": missing_calendar_years(app) if user is not None
            and "catalog.manage" in perms else [],
            # the navigation's badge: what awaits the user (node/home.py)
            "awaiting": home.awaiting_for(user),
            "center_name": current_settings().name or current_settings().code,
            "center_level": current_settings().level,
        }
