"""The working-day calendar: national schedules by year (import, publish, "weekends only"),
days of a month, local overrides and deadline explanations."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import current_app, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate

from node.api.security import current_user, staff_required
from node.auth.permissions import Permission
from node.calendar.publishing import publish_calendar
from node.calendar.schedules import read_json_schedule, read_schedule
from node.calendar.schemas import FIRST_DAY, LAST_DAY, OverrideBodySchema
from node.calendar.service import CalendarService
from node.calendar.workdays import SkippedDay, Suspension
from node.composition import NodeServices, current_settings
from schemas.divisions import Level, level_of
from schemas.errors import ErrorSchema, NotFound, ValidationFailed
from schemas.i18n import _
from schemas.runtime.webapp import Blueprint, accepts_bodies, current_session

blp = Blueprint(
    "calendar",
    __name__,
    url_prefix="/api/v1/calendar",
    description="Working days (national holidays, 调休 and local overrides) and deadlines",
)

# Dates far from today are input mistakes; the bounds also keep deadline arithmetic in range.
MAX_PROMISED_DAYS = 3650
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _year() -> validate.Range:
    return validate.Range(FIRST_DAY.year, LAST_DAY.year)


def _day_in_range() -> validate.Range:
    return validate.Range(FIRST_DAY, LAST_DAY)


# -- schemas --------------------------------------------------------------------------------------


class HolidayNameSchema(Schema):
    english = fields.String()
    chinese = fields.String()


class DayStatusSchema(Schema):
    date = fields.Date()
    working = fields.Boolean()
    reason = fields.String(
        metadata={
            "description": "workday, weekend, public_holiday, adjusted_workday (调休上班), "
            "local_closure, local_workday, unknown_year_weekend or unknown_year_workday"
        }
    )
    description = fields.String()
    holiday = fields.Nested(HolidayNameSchema, allow_none=True)
    note = fields.String(metadata={"description": "The local override's reason"})


class MonthArgs(Schema):
    year = fields.Integer(required=True, validate=_year())
    month = fields.Integer(required=True, validate=validate.Range(1, 12))


class OverrideListArgs(Schema):
    year = fields.Integer(validate=_year())


class OverrideSchema(Schema):
    day = fields.Date()
    working = fields.Boolean()
    reason = fields.String()
    created_at = fields.DateTime()
    created_by = fields.String()


class SuspensionSpan(fields.Field[Suspension]):
    """``2026-10-09..2026-10-15`` (stopped on the 9th, resumed on the 15th) or
    ``2026-10-09..`` (still suspended: counted as if it resumed today)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Suspension:
        if not isinstance(value, str):
            raise ValidationError(_("a suspension is START..END or START.. as text"))
        text = value
        start_text, dots, end_text = text.partition("..")
        try:
            if not dots or not _ISO_DAY.match(start_text) or (
                    end_text and not _ISO_DAY.match(end_text)):
                raise ValueError(text)
            start = dt.date.fromisoformat(start_text)
            end = dt.date.fromisoformat(end_text) if end_text else None
        except ValueError:
            raise ValidationError(
                f"a suspension is START..END or START.. (dates YYYY-MM-DD), not {text!r}"
            ) from None
        for day in (start, end):
            if day is not None and not FIRST_DAY <= day <= LAST_DAY:
                raise ValidationError(
                    _("the dates must lie between %(first)s and %(last)s",
                      first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat()))
        if end is not None and end < start:
            raise ValidationError(
                _("a suspension cannot end (%(end)s) before it starts (%(start)s)",
                  end=end.isoformat(), start=start.isoformat()))
        return Suspension(start, end)


class DeadlineArgs(Schema):
    accepted_on = fields.Date(required=True, validate=_day_in_range())
    days = fields.Integer(
        required=True,
        validate=validate.Range(0, MAX_PROMISED_DAYS),
        metadata={"description": "Promised working days (0: an immediate matter)"},
    )
    suspended = fields.List(
        SuspensionSpan(), load_default=list, validate=validate.Length(max=50),
        metadata={"description": "Repeatable: a suspension (Art. 45) as START..END (END is "
                  "the resume date) or START.. while still suspended"})
    extension_days = fields.Integer(
        load_default=0, validate=validate.Range(0, MAX_PROMISED_DAYS),
        metadata={"description": "An Art. 42 extension, in working days after the promise"})
    today = fields.Date(
        validate=_day_in_range(),
        metadata={"description": "The day an open suspension is counted to (default: today)"})


class YearSchema(Schema):
    year = fields.Integer()
    source = fields.String(attribute="source.value", metadata={
        "description": "published (by the province, adopted here), imported (here), "
                       "weekends_only (confirmed by an administrator), package "
                       "(chinese_calendar's data) or none (weekends only, provisional)"})
    version = fields.Integer(allow_none=True)
    reference = fields.String(metadata={"description": "The notice the schedule comes from"})
    publisher = fields.String(allow_none=True)
    holidays = fields.Integer()
    worked_weekend_days = fields.Integer()
    has_data = fields.Boolean()
    adopted_at = fields.DateTime(allow_none=True)
    adopted_by = fields.String(allow_none=True)


class ScheduleDaySchema(Schema):
    date = fields.Date(attribute="day")
    kind = fields.String(attribute="kind.value")
    name = fields.String()


class ScheduleSchema(Schema):
    year = fields.Integer()
    source = fields.String(attribute="source.value")
    version = fields.Integer()
    reference = fields.String()
    publisher = fields.String(allow_none=True)
    digest = fields.String()
    adopted_at = fields.DateTime()
    adopted_by = fields.String()
    days = fields.List(fields.Nested(ScheduleDaySchema))


class CasesMovedSchema(Schema):
    examined = fields.Integer()
    moved = fields.Integer()
    released = fields.Integer(metadata={"description": "deadlines no longer provisional"})
    notice_windows_moved = fields.Integer()


class ScheduleChangeSchema(Schema):
    year = fields.Integer()
    changed = fields.Boolean()
    source = fields.String()
    version = fields.Integer()
    reason = fields.String()
    cases = fields.Nested(CasesMovedSchema, allow_none=True)


class ConfirmBodySchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 200))


class PublishAnswerSchema(Schema):
    year = fields.Integer()
    envelope_id = fields.String()


def _suspension_kind(day: SkippedDay) -> str | None:
    return day.suspension.kind if day.suspension is not None else None


class SkippedDaySchema(Schema):
    date = fields.Date()
    reason = fields.String(metadata={"description": "The day's reason, or 'suspended'"})
    description = fields.String()
    suspension_kind = fields.Function(_suspension_kind, allow_none=True)


class SuspensionAccountSchema(Schema):
    kind = fields.String(attribute="suspension.kind")
    start = fields.Date(attribute="suspension.start")
    end = fields.Date(attribute="suspension.end", allow_none=True)
    counted_until = fields.Date()
    working_days = fields.Integer()
    pushed_days = fields.Integer()


class DeadlineExplanationSchema(Schema):
    accepted_on = fields.Date()
    accepted_on_status = fields.Nested(DayStatusSchema)
    base_date = fields.Date()
    promised_working_days = fields.Integer()
    deadline_on = fields.Date()
    counted_days = fields.List(fields.Date())
    skipped_days = fields.List(fields.Nested(SkippedDaySchema))
    suspensions = fields.List(fields.Nested(SuspensionAccountSchema))
    suspended_working_days = fields.Integer()
    extension_days = fields.Integer()
    counted_working_days = fields.Integer()
    provisional = fields.Boolean(metadata={
        "description": "暂定: counted over a year without national holiday data"})
    provisional_years = fields.List(fields.Integer())
    warnings = fields.List(fields.String())


# -- views ----------------------------------------------------------------------------------------


def calendar_service() -> CalendarService:
    return NodeServices.of_app(current_app.extensions).calendar(
        current_session(), clock=current_app.extensions["tongban_clock"])


def _checked_year(value: int) -> int:
    if not FIRST_DAY.year <= value <= LAST_DAY.year:
        raise ValidationFailed({"year": [_("a year from %(year)s to %(year2)s",
                                           year=FIRST_DAY.year, year2=LAST_DAY.year)]})
    return value


def _is_province() -> bool:
    return level_of(current_settings().code) is Level.PROVINCE


_IMPORT_BODY = {"content": {
    "application/json": {"schema": {"type": "object", "description": "{year, source, days: "
                                     "[{date, kind: holiday|workday, name}]}"}},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "file": {"type": "string", "format": "binary",
                 "description": "JSON, or XLSX with the columns 日期, 类型 (休/班), 节日"},
        "source": {"type": "string", "description": "the notice's number"}}}},
}}


@blp.route("/years")
class Years(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.response(200, YearSchema(many=True))
    def get(self) -> Any:
        """Each year with where its national schedule comes from: published by the province
        and adopted here, imported here, confirmed "weekends only", the package's data
        (chinese_calendar), or none; with its version and how many holidays and worked
        weekend days (调休) it lists."""
        return calendar_service().years()


@blp.route("/years/<int:year>")
class YearItem(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.response(200, ScheduleSchema)
    def get(self, year: int) -> Any:
        """The schedule of ``year`` this node holds, day by day (404 when it holds none:
        the package's data or nothing applies)."""
        schedule = calendar_service().schedule(_checked_year(year))
        if schedule is None:
            raise NotFound(_("No schedule of %(year)s is held here.", year=year), {"year": year})
        return schedule


@blp.route("/years/<int:year>/import")
@accepts_bodies("multipart/form-data")
class YearImport(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.doc(requestBody=_IMPORT_BODY)
    @blp.response(200, ScheduleChangeSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="Refused: details.rows lists every "
                      "bad row and field (row, field, reason); nothing changed")
    @blp.alt_response(409, schema=ErrorSchema, description="Below the province: the year's "
                      "schedule was published by the province")
    def post(self, year: int) -> Any:
        """Import the national schedule of ``year`` (JSON, or a JSON/XLSX file as the form
        field ``file``): every date in the year, none twice, a workday (班) only on a Saturday
        or Sunday, every day named.  The open cases' deadlines follow in the same transaction
        (each moved case gets an event and an audit entry).  The same days again change
        nothing."""
        year = _checked_year(year)
        if request.mimetype == "multipart/form-data":
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                raise ValidationFailed({"file": [_("send the schedule as the form field 'file'")]})
            document = read_schedule(upload.read(), year, filename=upload.filename,
                                     reference=request.form.get("source", ""))
        else:
            document = read_json_schedule(request.get_data(), year)
        return calendar_service().import_schedule(
            document, current_user().username, province=_is_province()).as_dict()


@blp.route("/years/<int:year>/confirm-weekends-only")
class YearConfirm(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(ConfirmBodySchema)
    @blp.response(200, ScheduleChangeSchema)
    def post(self, data: dict[str, Any], year: int) -> Any:
        """Confirm, with a reason, that ``year`` (which has no national data) is counted on
        weekends only: its provisional deadlines are released for deemed acceptance and
        approval.  Audited; replaced by a schedule imported or published later."""
        return calendar_service().confirm_weekends_only(
            _checked_year(year), current_user().username, data["reason"]).as_dict()


@blp.route("/years/<int:year>/publish")
class YearPublish(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(202, PublishAnswerSchema)
    def post(self, year: int) -> Any:
        """(Province only) Sign the imported schedule of ``year`` as ``calendar.publish`` to
        every descendant; it leaves with the worker's next push."""
        envelope_id = publish_calendar(
            current_session(), outbox=NodeServices.of_app(current_app.extensions).outbox,
            year=_checked_year(year),
            actor=current_user().username, now=current_app.extensions["tongban_clock"]())
        return {"year": year, "envelope_id": envelope_id}


def path_day(value: str) -> dt.date:
    """A ``YYYY-MM-DD`` date from the URL path; anything else is a 422 naming ``day``."""
    try:
        if not _ISO_DAY.match(value):
            raise ValueError(value)
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({"day": [_("not a date of the form YYYY-MM-DD: %(repr)s",
                                          repr=repr(value))]}) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed({"day": [
            _("the date must lie between %(first_day)s and %(last_day)s",
              first_day=FIRST_DAY, last_day=LAST_DAY)]})
    return day


@blp.route("/days")
class Days(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.arguments(MonthArgs, location="query")
    @blp.response(200, DayStatusSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Every day of a month: whether the center works, and why (holiday, 调休, local)."""
        return calendar_service().month(args["year"], args["month"])


@blp.route("/overrides")
class Overrides(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.arguments(OverrideListArgs, location="query")
    @blp.response(200, OverrideSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """The center's local overrides of the national calendar, optionally of one year."""
        return calendar_service().list_overrides(args.get("year"))


@blp.route("/overrides/<day>")
class OverrideItem(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(OverrideBodySchema)
    @blp.response(200, OverrideSchema)
    def put(self, data: dict[str, Any], day: str) -> Any:
        """Open or close the center on a date (``YYYY-MM-DD``) by local decision, with a reason.

        Replaces an earlier decision for the same date.  The open cases it reaches get their
        deadlines recomputed in the same transaction (an event and an audit entry each).
        """
        return calendar_service().set_override(
            path_day(day), data["working"], data["reason"], current_user().username
        )

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(204)
    def delete(self, day: str) -> None:
        """Remove the local decision for a date: the national calendar applies again, and the
        open cases it reaches get their deadlines recomputed."""
        calendar_service().remove_override(path_day(day), current_user().username)


@blp.route("/deadline")
class Deadline(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.arguments(DeadlineArgs, location="query")
    @blp.response(200, DeadlineExplanationSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The deadline of a promise of ``days`` working days from ``accepted_on``, explained.

        Day 0 is the acceptance date; the deadline is the ``days``-th working day after it
        (a case accepted on a closed day starts counting on the next working day; ``days=0``
        is due on the acceptance date, or on the next working day when the center is closed).
        ``suspended`` (repeatable) stops the clock (Art. 45) and ``extension_days`` adds an
        Art. 42 extension, so any combination can be checked without a case: this is the
        computation a case's stored deadline and its explanation use.  The answer lists every
        counted day, every skipped day with its reason, and whether the deadline is
        provisional (暂定: a year without national holiday data, counted as weekends only).
        """
        return calendar_service().explain_deadline(
            args["accepted_on"], args["days"], args["suspended"], today=args.get("today"),
            extension_days=args["extension_days"])
