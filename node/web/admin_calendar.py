"""The administrator's calendar pages: the national holiday schedules held (imported from JSON or
XLSX, or published by the province, or weekends only as confirmed), the province's publishing,
and the center's own day overrides.

They are pages of the administrator's blueprint (:data:`node.web.admin.bp`), so their
endpoints are ``web_admin.*`` like the rest of the administration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from node.auth.permissions import Permission
from node.calendar.publishing import publish_calendar
from node.calendar.schedules import read_schedule
from node.calendar.schemas import FIRST_DAY, LAST_DAY, OverrideBodySchema
from node.calendar.service import ScheduleChange
from node.cases.history import display_names
from node.composition import NodeServices, current_settings
from node.web.admin import bp, failed_page
from node.web.core import (
    current_staff,
    load_form,
    problems_of,
    staff_page,
    today,
)
from node.web.services import calendar_service
from schemas.divisions import Level, level_of
from schemas.errors import TongbanError, ValidationFailed
from schemas.i18n import _
from schemas.runtime.webapp import current_session


def _calendar_context() -> dict[str, Any]:
    service = calendar_service()
    year = today().year
    overrides = service.list_overrides(None)
    return {"overrides": overrides, "year": year,
            # 登记人 by display name (a deleted account by its username)
            "people": display_names(service.session, [o.created_by for o in overrides]),
            "years": [y for y in service.years() if y.year >= year - 1],
            "missing": service.missing_years(),
            "is_province": level_of(current_settings().code) is Level.PROVINCE}


def _year_of(text: str) -> int:
    try:
        year = int(text.strip())
    except ValueError as exc:
        raise ValidationFailed({"year": [_("请输入年份，例如 2027")]}) from exc
    if not FIRST_DAY.year <= year <= LAST_DAY.year:
        raise ValidationFailed({"year": [_("年份须在 %(year)s 至 %(year2)s 之间",
                                           year=FIRST_DAY.year, year2=LAST_DAY.year)]})
    return year


def _change_message(change: ScheduleChange) -> str:
    if not change.changed:
        return _("%(year)s年的节假日安排与已有的相同，未作更改。", year=change.year)
    cases = change.recompute.as_dict() if change.recompute else {}
    verb = SOURCE_VERBS[change.source.value]
    return _(
        "%(year)s年节假日安排已%(verb)s（第%(version)s版）：复核在办件 %(get)s 件，期限调整 "
        "%(get2)s 件，解除暂定 %(get3)s 件。",
        year=change.year,
        verb=verb,
        version=change.version,
        get=cases.get("examined", 0),
        get2=cases.get("moved", 0),
        get3=cases.get("released", 0),
    )


SOURCE_VERBS = {
    "imported": _("导入"),
    "published": _("采用"),
    "weekends_only": _("确认仅按周末计算"),
}


@bp.post("/calendar/import")
@staff_page(Permission.CATALOG_MANAGE)
def import_schedule() -> Any:
    """Import a year's national schedule (JSON or XLSX: 日期, 类型 休/班, 节日)."""
    upload = request.files.get("file")
    try:
        year = _year_of(request.form.get("year", ""))
        if upload is None or not upload.filename:
            raise ValidationFailed({"file": [_("请选择 JSON 或 XLSX 文件")]})
        document = read_schedule(upload.read(), year, filename=upload.filename,
                                 reference=request.form.get("source", ""))
        change = calendar_service().import_schedule(
            document, current_staff().username,
            province=level_of(current_settings().code) is Level.PROVINCE)
    except TongbanError as exc:
        current_session().rollback()
        return render_template("web/staff/admin/calendar.html", errors=problems_of(exc),
                               form=request.form, rows=exc.details.get("rows") or [],
                               **_calendar_context()), 422
    flash(_change_message(change))
    return redirect(url_for("web_admin.calendar"))


@bp.post("/calendar/confirm")
@staff_page(Permission.CATALOG_MANAGE)
def confirm_weekends_only() -> Any:
    """An administrator's audited word that a year without data counts weekends only."""
    try:
        year = _year_of(request.form.get("year", ""))
        change = calendar_service().confirm_weekends_only(
            year, current_staff().username, request.form.get("reason", ""))
    except TongbanError as exc:
        return failed_page("web/staff/admin/calendar.html", exc, **_calendar_context())
    flash(_change_message(change))
    return redirect(url_for("web_admin.calendar"))


@bp.post("/calendar/publish")
@staff_page(Permission.CATALOG_MANAGE)
def publish_schedule() -> Any:
    """(Province) Sign a year's imported schedule to every center below."""
    try:
        year = _year_of(request.form.get("year", ""))
        publish_calendar(current_session(),
                         outbox=NodeServices.of_app(current_app.extensions).outbox, year=year,
                         actor=current_staff().username,
                         now=current_app.extensions["tongban_clock"]())
    except TongbanError as exc:
        return failed_page("web/staff/admin/calendar.html", exc, **_calendar_context())
    flash(_("%(year)s年节假日安排已签名下发，将随下次同步送达所有下级中心。", year=year))
    return redirect(url_for("web_admin.calendar"))


@bp.get("/calendar")
@staff_page(Permission.CATALOG_MANAGE)
def calendar() -> Any:
    return render_template("web/staff/admin/calendar.html", errors={}, form={},
                           **_calendar_context())


def _day(text: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValidationFailed({"day": [_("请输入日期，格式 YYYY-MM-DD")]}) from exc
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed({"day": [_("日期须在 %(first_day)s 至 %(last_day)s 之间",
                                          first_day=FIRST_DAY, last_day=LAST_DAY)]})
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
        return failed_page("web/staff/admin/calendar.html", exc, **_calendar_context())
    flash(_("%(day)s 已设为%(ifdata)s。",
            day=day, ifdata='办公日' if data['working'] else '非办公日'))
    return redirect(url_for("web_admin.calendar"))


@bp.post("/calendar/<day>/remove")
@staff_page(Permission.CATALOG_MANAGE)
def remove_override(day: str) -> Any:
    try:
        calendar_service().remove_override(_day(day), current_staff().username)
    except TongbanError as exc:
        return failed_page("web/staff/admin/calendar.html", exc, **_calendar_context())
    flash(_("%(day)s 已恢复国家日历。", day=day))
    return redirect(url_for("web_admin.calendar"))
