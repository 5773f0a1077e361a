"""The center's working calendar over its database: local overrides and deadline explanations.

Plain Python over a SQLAlchemy session (no Flask). The service flushes, never commits: the caller
owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.calendar.models import CalendarOverride
from node.calendar.workdays import (
    DayStatus,
    DeadlineExplanation,
    LocalOverride,
    Suspension,
    WorkingCalendar,
)
from schemas.database import utcnow
from schemas.errors import NotFound, ValidationFailed


class CalendarService:
    """Local overrides of the national calendar, and the calendar they make."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def calendar(self) -> WorkingCalendar:
        """The national calendar with every local override of this center applied."""
        rows = self.session.scalars(select(CalendarOverride)).all()
        return WorkingCalendar(
            {row.day: LocalOverride(working=row.working, reason=row.reason) for row in rows}
        )

    def list_overrides(self, year: int | None = None) -> Sequence[CalendarOverride]:
        """The local overrides, by date; only those of ``year`` when given."""
        query = select(CalendarOverride).order_by(CalendarOverride.day)
        if year is not None:
            query = query.where(
                CalendarOverride.day >= dt.date(year, 1, 1),
                CalendarOverride.day <= dt.date(year, 12, 31),
            )
        return self.session.scalars(query).all()

    def set_override(
        self, day: dt.date, working: bool, reason: str, actor: str
    ) -> CalendarOverride:
        """Declare ``day`` open or closed locally, replacing an earlier decision for that day.

        ``created_at`` and ``created_by`` record the decision now in force.
        """
        reason = reason.strip()
        if not reason:
            raise ValidationFailed({"reason": ["a local override needs a reason"]})
        override = self.session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
        if override is None:
            override = CalendarOverride(day=day)
            self.session.add(override)
        override.working = working
        override.reason = reason
        override.created_at = utcnow()
        override.created_by = actor
        self.session.flush()
        return override

    def remove_override(self, day: dt.date) -> None:
        """Drop the local decision for ``day``: the national calendar applies again."""
        override = self.session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
        if override is None:
            raise NotFound(f"No local override on {day.isoformat()}.", {"day": day.isoformat()})
        self.session.delete(override)
        self.session.flush()

    def month(self, year: int, month: int) -> list[DayStatus]:
        """Every day of a month with whether the center works and why."""
        problems: dict[str, list[str]] = {}
        if not dt.MINYEAR <= year <= dt.MAXYEAR:
            problems["year"] = [f"a year is a number from {dt.MINYEAR} to {dt.MAXYEAR}"]
        if not 1 <= month <= 12:
            problems["month"] = ["a month is a number from 1 to 12"]
        if problems:
            raise ValidationFailed(problems)
        calendar = self.calendar()
        return [
            calendar.day_status(dt.date(year, month, day))
            for day in range(1, monthrange(year, month)[1] + 1)
        ]

    def explain_deadline(
        self,
        accepted_on: dt.date,
        promised_days: int,
        suspensions: Sequence[Suspension] = (),
        today: dt.date | None = None,
    ) -> DeadlineExplanation:
        """The deadline of ``promised_days`` working days from ``accepted_on``, explained."""
        return self.calendar().explain(accepted_on, promised_days, suspensions, today=today)
