"""Each role's home page (首页, the landing after login) and the navigation's badge: what is
new and what waits, with the lists one click away (node/home.py reads the figures)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, g, render_template
from sqlalchemy import func, select

from node.auth.models import User
from node.auth.permissions import Permission, Role, allows
from node.cases.scopes import viewer_of, visible_cases
from node.cases.service import CaseService
from node.composition import NodeServices, current_settings
from node.home import (
    COLOURS,
    AdminHome,
    Awaiting,
    awaiting,
    clerk_home,
    department_home,
    supervisor_home,
)
from node.sync.status import status_report
from node.web.core import (
    auth_service,
    current_staff,
    missing_calendar_years,
    staff_page,
    web_blueprint,
)
from node.web.rankings import lower_centers_at_a_glance
from node.web.services import metrics_service
from schemas.i18n import _
from schemas.metrics import NATIONAL_INDICATORS
from schemas.periods import Period
from schemas.runtime.database import utcnow
from schemas.runtime.webapp import current_session

bp = web_blueprint("web_home", "/staff")

COLOUR_NAMES = {"green": _("正常"), "yellow": _("黄灯预警"), "red": _("红灯超期")}


def _service() -> CaseService:
    return NodeServices.of_app(current_app.extensions).cases(
        current_session(), current_app.extensions["tongban_clock"])


def awaiting_for(user: User | None) -> Awaiting | None:
    """The badge of the signed-in user, read once a request (every page shows it)."""
    if user is None:
        return None
    if "tongban_awaiting" not in g:
        g.tongban_awaiting = awaiting(current_session(), user,
                                      visible_cases(viewer_of(user)))
    found: Awaiting = g.tongban_awaiting
    return found


def colour_chart(title: str, counts: dict[str, int]) -> dict[str, Any]:
    """A bar chart's data (node/static/web/charts.js) of cases by warning colour."""
    # str(): the chart's JSON holds the texts in the request's language (tojson would write
    # a message's default text)
    return {"title": str(title), "unit": str(_("件")),
            "names": [str(COLOUR_NAMES[c.value]) for c in COLOURS],
            "values": [counts[c.value] for c in COLOURS]}


def admin_home(now: dt.datetime) -> AdminHome:
    session = current_session()
    failures = auth_service().logins.throttle.failures_by_username_since(now - dt.timedelta(days=1))
    names: dict[str, str] = {}
    for username, name in session.execute(select(User.username, User.display_name).where(
            User.username.in_([f.username for f in failures]))):
        names[username] = name
    return AdminHome(
        missing_years=missing_calendar_years(current_app),
        sync=status_report(session, now),
        disabled_users=int(session.scalar(select(func.count()).select_from(User)
                                          .where(User.active.is_(False))) or 0),
        # people by name; names nobody has are counted together (never shown: they are
        # whatever someone typed)
        failed_logins=[(names[f.username], f.count) for f in failures if f.username in names]
        + ([(str(_("不存在的用户名")), sum(f.count for f in failures if f.username not in names))]
           if any(f.username not in names for f in failures) else []),
    )


def national_indicators(today: dt.date) -> list[tuple[str, dict[str, Any]]]:
    """This month's national efficiency indicators of the center (up to today), as the
    summary sent upward carries them (docs/metrics.md)."""
    metrics = metrics_service().summary(Period.month(today.year, today.month))["metrics"]
    return [(key, metrics[key]) for key in NATIONAL_INDICATORS]


@bp.get("/home")
@staff_page(Permission.CASES_READ)
def home() -> Any:
    """首页: what waits for the user, then their role's figures."""
    user = current_staff()
    service = _service()
    scope = visible_cases(viewer_of(user))
    context: dict[str, Any] = {"awaiting": awaiting_for(user), "role": user.role.value}
    if allows(user.role, Permission.CASES_HANDLE):
        clerk = clerk_home(service, user, scope)
        context["clerk"] = clerk
        context["clerk_chart"] = colour_chart(_("我的在办件预警"), clerk.mine)
    if user.role is Role.APPROVER:
        queue = department_home(service, user)
        context["queue"] = queue
        context["queue_chart"] = colour_chart(_("本部门待审批件预警"), queue)
    if user.role is Role.SUPERVISOR:
        supervision = supervisor_home(service, service.today())
        context["supervision"] = supervision
        context["indicators"] = national_indicators(service.today())
        context["figures_chart"] = {
            "title": str(_("收件与办结")), "unit": str(_("件")),
            "names": [str(_("%(label)s收件", label=f.label)) for f in supervision.figures]
            + [str(_("%(label)s办结", label=f.label)) for f in supervision.figures],
            "values": [f.received for f in supervision.figures]
            + [f.completed for f in supervision.figures]}
    if user.role is Role.VIEWER:
        context["below"] = lower_centers_at_a_glance(current_settings().code)
    if user.role is Role.ADMIN:
        context["admin"] = admin_home(utcnow())
    return render_template("web/staff/home.html", **context)
