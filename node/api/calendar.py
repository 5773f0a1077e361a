"""The working-day calendar: days of a month, local overrides and deadline explanations."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from node.api.security import current_user, staff_required
from node.auth.permissions import Permission
from node.calendar.service import CalendarService
from node.calendar.workdays import SkippedDay
from schemas.errors import ValidationFailed
from schemas.webapp import current_session

blp = Blueprint(
    "calendar",
    __name__,
    url_prefix="/api/v1/calendar",
    description="Working days (national holidays, 调休 and local overrides) and deadlines",
)

# Dates far from today are input mistakes; the bounds also keep deadline arithmetic in range.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)
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


class OverrideBodySchema(Schema):
    working = fields.Boolean(
        required=True, metadata={"description": "true: open on this day; false: closed"}
    )
    reason = fields.String(required=True, validate=validate.Length(1, 200))


class DeadlineArgs(Schema):
    accepted_on = fields.Date(required=True, validate=_day_in_range())
    days = fields.Integer(
        required=True,
        validate=validate.Range(0, MAX_PROMISED_DAYS),
        metadata={"description": "Promised working days (0: an immediate matter)"},
    )


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
    warnings = fields.List(fields.String())


# -- views ----------------------------------------------------------------------------------------


def calendar_service() -> CalendarService:
    return CalendarService(current_session())


def path_day(value: str) -> dt.date:
    """A ``YYYY-MM-DD`` date from the URL path; anything else is a 422 naming ``day``."""
    try:
        if not _ISO_DAY.match(value):
            raise ValueError(value)
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed({"day": [f"not a date of the form YYYY-MM-DD: {value!r}"]}) from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed({"day": [f"the date must lie between {FIRST_DAY} and {LAST_DAY}"]})
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

        Replaces an earlier decision for the same date. Deadlines computed afterwards count it.
        """
        return calendar_service().set_override(
            path_day(day), data["working"], data["reason"], current_user().username
        )

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(204)
    def delete(self, day: str) -> None:
        """Remove the local decision for a date: the national calendar applies again."""
        calendar_service().remove_override(path_day(day))


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
        The answer lists every counted day, every skipped day with its reason, and warnings
        for years outside the national holiday data (counted as weekends only).
        """
        return calendar_service().explain_deadline(args["accepted_on"], args["days"])
