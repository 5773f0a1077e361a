"""The center's working calendar over its database: the national schedule of each year, local
overrides and deadline explanations.

Where a year's schedule comes from, in order (``GET /api/v1/calendar/years``): the one the
province published and this node adopted (node/calendar/publishing.py), or one imported here
from the notice's file; else ``chinese_calendar``'s data; else none (weekends only, deadlines
provisional) unless an administrator confirmed "weekends only" for the year.  Local overrides
win over all of them.  Every change of the calendar recomputes the open cases it can affect
in the same transaction, through the :class:`DeadlineRecompute` the composition root hands in
(node/cases/recompute.py's ``recompute_open_cases``: the calendar never imports the cases).

Plain Python over a SQLAlchemy session (no Flask). The service flushes, never commits: the caller
owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from calendar import monthrange
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from node.audit.chain import AuditLog
from node.caches import CALENDAR, VersionedCache
from node.calendar.models import (
    CalendarOverride,
    CalendarSchedule,
    CalendarScheduleDay,
    ScheduleDayKind,
    ScheduleSource,
)
from node.calendar.schedules import ScheduleDocument
from node.calendar.workdays import (
    DayStatus,
    DeadlineExplanation,
    LocalOverride,
    Suspension,
    WorkingCalendar,
    YearSchedule,
    holiday_data_covers,
    holiday_data_years,
    to_shanghai_date,
)
from schemas.errors import Conflict, NotFound, ValidationFailed
from schemas.i18n import _
from schemas.runtime.database import utcnow

# /healthz and the admin banner speak up this many days before a year without data begins
WARNING_HORIZON = dt.timedelta(days=60)
# the working calendar of this process (one entry), dropped when the calendar counter moves
CALENDARS: VersionedCache[WorkingCalendar] = VersionedCache(CALENDAR, size=1)
SCHEDULE_CAUSE = "节假日安排调整"
OVERRIDE_CAUSE = "本中心工作日调整"


class DeadlineReport(Protocol):
    """What a recompute of open deadlines did (node/cases/recompute.py ``RecomputeReport``)."""

    @property
    def moved(self) -> Sequence[Any]: ...

    @property
    def released(self) -> int: ...

    def as_dict(self) -> dict[str, Any]: ...


class DeadlineRecompute(Protocol):
    """Recomputes, in the caller's transaction, the deadline of every open case a change of
    the calendar can reach (``changed`` days; ``None``: every day of the year in ``data``).
    The composition root (node/composition.py) passes node/cases/recompute.py's
    ``recompute_open_cases``."""

    def __call__(
        self, session: Session, calendar: WorkingCalendar, *,
        changed: Sequence[dt.date] | None, cause: str, actor: str, role: str,
        data: dict[str, Any], before: WorkingCalendar | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> DeadlineReport: ...


@dataclass(frozen=True)
class YearInfo:
    """One year of ``GET /api/v1/calendar/years``."""

    year: int
    source: ScheduleSource
    version: int | None = None
    reference: str = ""
    publisher: str | None = None
    holidays: int = 0
    worked_weekend_days: int = 0
    adopted_at: dt.datetime | None = None
    adopted_by: str | None = None

    @property
    def has_data(self) -> bool:
        return self.source is not ScheduleSource.NONE


@dataclass
class ScheduleChange:
    """What an import, an adoption or a confirmation did."""

    year: int
    changed: bool
    source: ScheduleSource
    version: int
    reason: str = ""  # why nothing changed
    recompute: DeadlineReport | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"year": self.year, "changed": self.changed, "source": self.source.value,
                "version": self.version, "reason": self.reason,
                "cases": self.recompute.as_dict() if self.recompute else None}


def package_counts(year: int) -> tuple[int, int]:
    """Holidays and worked weekend days of ``year`` in chinese_calendar's data."""
    holidays = sum(1 for day in chinese_calendar.holidays if day.year == year)
    workdays = sum(1 for day in chinese_calendar.workdays
                   if day.year == year and day.weekday() >= 5)
    return holidays, workdays


class CalendarService:
    """The national schedules this node holds, local overrides, and the calendar they make.

    Reading needs only a session.  Changing the calendar (an import, an adoption, a
    confirmation, an override) needs ``recompute``, which the composition root passes
    (:meth:`node.composition.NodeServices.calendar`): the open cases follow every change in
    its transaction, so a service built without it refuses to change anything.
    """

    def __init__(self, session: Session, clock: Callable[[], dt.datetime] = utcnow, *,
                 recompute: DeadlineRecompute | None = None) -> None:
        self.session = session
        self.clock = clock
        self._recompute = recompute

    def _recompute_hook(self) -> DeadlineRecompute:
        """The recompute a change needs, asked for before anything changes."""
        if self._recompute is None:
            raise RuntimeError("this CalendarService only reads: build it with the open cases' "
                               "recompute (NodeServices.calendar) to change the calendar")
        return self._recompute

    def _recompute_open_cases(self, after: WorkingCalendar, *, changed: Sequence[dt.date] | None,
                              cause: str, actor: str, role: str, data: dict[str, Any],
                              before: WorkingCalendar) -> DeadlineReport:
        return self._recompute_hook()(
            self.session, after, changed=changed, cause=cause, actor=actor, role=role,
            data=data, before=before, clock=self.clock)

    def schedules(self) -> dict[int, YearSchedule]:
        """Every year's schedule held here (adopted, imported, or confirmed weekends only)."""
        rows = self.session.scalars(
            select(CalendarSchedule).options(selectinload(CalendarSchedule.days))).all()
        return {
            row.year: YearSchedule(
                row.year,
                holidays={d.day: d.name for d in row.days if d.kind is ScheduleDayKind.HOLIDAY},
                workdays={d.day: d.name for d in row.days if d.kind is ScheduleDayKind.WORKDAY},
                weekends_only=row.source is ScheduleSource.WEEKENDS_ONLY,
            )
            for row in rows
        }

    def cached_calendar(self) -> WorkingCalendar:
        """:meth:`calendar` as this process last read it, while the ``calendar`` counter
        (node/caches.py) has not moved: what a request that does not change the calendar uses."""
        return CALENDARS.get(self.session, "calendar", self.calendar)

    def calendar(self) -> WorkingCalendar:
        """The national calendar with every local override of this center applied."""
        rows = self.session.scalars(select(CalendarOverride)).all()
        return WorkingCalendar(
            {row.day: LocalOverride(working=row.working, reason=row.reason) for row in rows},
            self.schedules(),
        )

    # -- years ---------------------------------------------------------------------------

    def years(self, today: dt.date | None = None) -> list[YearInfo]:
        """From the package's first year to next year (or the last year held), each with
        where its schedule comes from."""
        today = today or to_shanghai_date(self.clock())
        rows = {row.year: row for row in self.session.scalars(
            select(CalendarSchedule).options(selectinload(CalendarSchedule.days)))}
        first, last = holiday_data_years()
        first = min([first, *rows])
        last = max([last, today.year + 1, *rows])
        found = []
        for year in range(first, last + 1):
            row = rows.get(year)
            if row is not None:
                found.append(YearInfo(
                    year, row.source, row.version, row.reference, row.publisher,
                    holidays=sum(1 for d in row.days if d.kind is ScheduleDayKind.HOLIDAY),
                    worked_weekend_days=sum(1 for d in row.days
                                            if d.kind is ScheduleDayKind.WORKDAY),
                    adopted_at=row.adopted_at, adopted_by=row.adopted_by))
            elif holiday_data_covers(year):
                holidays, workdays = package_counts(year)
                found.append(YearInfo(year, ScheduleSource.PACKAGE,
                                      reference=f"chinesecalendar {chinese_calendar.__version__}",
                                      holidays=holidays, worked_weekend_days=workdays))
            else:
                found.append(YearInfo(year, ScheduleSource.NONE))
        return found

    def missing_years(self, today: dt.date | None = None) -> list[int]:
        """Years without data from today to :data:`WARNING_HORIZON` ahead: this year, and
        next year once it is at most sixty days away."""
        today = today or to_shanghai_date(self.clock())
        calendar = self.calendar()
        return list(calendar.years_without_data(today, today + WARNING_HORIZON))

    def schedule(self, year: int) -> CalendarSchedule | None:
        return self.session.scalar(
            select(CalendarSchedule).options(selectinload(CalendarSchedule.days))
            .where(CalendarSchedule.year == year))

    def import_schedule(self, document: ScheduleDocument, actor: str,
                        *, province: bool = False) -> ScheduleChange:
        """Hold ``document`` as its year's schedule (an import at this node).

        The same days again change nothing.  A node below the province may not replace a
        schedule the province published (its own differences are local overrides); the
        province's own imports are what it publishes.
        """
        current = self.schedule(document.year)
        if current is not None and current.source is ScheduleSource.PUBLISHED and not province:
            raise Conflict(
                _("%(year)s年已采用省级下发的节假日安排（第%(version)s版）；本中心的差异请登记为工作日调整。",
                  year=document.year, version=current.version),
                {"year": document.year, "source": current.source.value,
                 "version": current.version})
        if current is not None and current.digest == document.digest \
                and current.source is ScheduleSource.IMPORTED:
            return ScheduleChange(document.year, False, current.source, current.version,
                                  "the same days are held already")
        version = current.version + 1 if current is not None \
            and current.source is ScheduleSource.IMPORTED else 1
        return self._replace(document, ScheduleSource.IMPORTED, version, actor=actor,
                             role="admin", action="calendar.import")

    def adopt_published(self, document: ScheduleDocument, *, version: int, publisher: str,
                        envelope_id: str) -> ScheduleChange:
        """Adopt the province's schedule of a year: it replaces an imported one or a
        "weekends only" confirmation, and a published one of a lower version; an older or
        equal version changes nothing (the newest wins, whatever order they arrive in)."""
        current = self.schedule(document.year)
        if current is not None and current.source is ScheduleSource.PUBLISHED:
            if version < current.version or (version == current.version
                                             and current.digest == document.digest):
                return ScheduleChange(document.year, False, current.source, current.version,
                                      f"version {current.version} is adopted already")
            if version == current.version:
                raise Conflict(
                    _("version %(version)s of %(year)s differs from the one adopted",
                      version=version, year=document.year),
                    {"year": document.year, "version": version})
        return self._replace(document, ScheduleSource.PUBLISHED, version,
                             actor=f"node:{publisher}", role="system", action="calendar.adopt",
                             publisher=publisher, envelope_id=envelope_id)

    def confirm_weekends_only(self, year: int, actor: str, reason: str) -> ScheduleChange:
        """An administrator's explicit word that ``year`` is counted on weekends only: its
        deadlines stop being provisional (audited).  Only for a year without data."""
        reason = reason.strip()
        if not reason:
            raise ValidationFailed({"reason": [_("a confirmation needs a reason")]})
        if self.schedule(year) is not None or holiday_data_covers(year):
            raise Conflict(_("%(year)s年已有国家节假日安排，无需确认仅按周末计算。",
                             year=year), {"year": year})
        document = ScheduleDocument(year, reason, ())
        return self._replace(document, ScheduleSource.WEEKENDS_ONLY, 1, actor=actor,
                             role="admin", action="calendar.confirm_weekends_only")

    def _replace(self, document: ScheduleDocument, source: ScheduleSource, version: int, *,
                 actor: str, role: str, action: str, publisher: str | None = None,
                 envelope_id: str | None = None) -> ScheduleChange:
        self._recompute_hook()
        before = self.calendar()
        current = self.schedule(document.year)
        previous = None
        if current is not None:
            previous = {"source": current.source.value, "version": current.version,
                        "digest": current.digest}
            self.session.delete(current)
            self.session.flush()
        self.session.add(CalendarSchedule(
            year=document.year, source=source, version=version, publisher=publisher,
            reference=document.reference[:200], digest=document.digest,
            envelope_id=envelope_id, adopted_at=self.clock(), adopted_by=actor,
            days=[CalendarScheduleDay(day=d.day, kind=d.kind, name=d.name)
                  for d in document.days]))
        self.session.flush()
        after = self.calendar()
        changed = changed_days(before, after, document.year)
        data = {"year": document.year, "source": source.value, "version": version}
        report = self._recompute_open_cases(
            after, changed=changed, cause=SCHEDULE_CAUSE, actor=actor, role=role, data=data,
            before=before)
        AuditLog(self.session, clock=self.clock).append(
            actor=actor, role=role, action=action, subject_type="calendar",
            subject_id=str(document.year),
            data={**data, "reference": document.reference, "digest": document.digest,
                  "days": len(document.days), "previous": previous,
                  "envelope_id": envelope_id, "changed_days": len(changed),
                  "cases": report.as_dict()})
        return ScheduleChange(document.year, True, source, version, recompute=report)

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
            raise ValidationFailed({"reason": [_("a local override needs a reason")]})
        self._recompute_hook()
        before = self.calendar()
        override = self.session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
        if override is None:
            override = CalendarOverride(day=day)
            self.session.add(override)
        override.working = working
        override.reason = reason
        override.created_at = self.clock()
        override.created_by = actor
        self.session.flush()
        self._after_override(before, day, actor, {"day": day.isoformat(), "working": working,
                                                  "override_reason": reason})
        return override

    def remove_override(self, day: dt.date, actor: str = "system") -> None:
        """Drop the local decision for ``day``: the national calendar applies again."""
        self._recompute_hook()
        override = self.session.scalar(select(CalendarOverride).where(CalendarOverride.day == day))
        if override is None:
            raise NotFound(_("No local override on %(isoformat)s.",
                             isoformat=day.isoformat()), {"day": day.isoformat()})
        before = self.calendar()
        self.session.delete(override)
        self.session.flush()
        self._after_override(before, day, actor, {"day": day.isoformat(), "removed": True})

    def _after_override(self, before: WorkingCalendar, day: dt.date, actor: str,
                        data: dict[str, Any]) -> DeadlineReport:
        """An override added or removed: the open cases it reaches follow, in this
        transaction, and the change is in the audit chain."""
        after = self.calendar()
        report = self._recompute_open_cases(
            after, changed=[day], cause=OVERRIDE_CAUSE, actor=actor, role="admin", data=data,
            before=before)
        AuditLog(self.session, clock=self.clock).append(
            actor=actor, role="admin", action="calendar.override", subject_type="calendar",
            subject_id=day.isoformat(), data={**data, "cases": report.as_dict()})
        return report

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
        extension_days: int = 0,
    ) -> DeadlineExplanation:
        """The deadline of ``promised_days`` working days (plus an Art. 42 extension) from
        ``accepted_on`` with its suspensions, explained: the computation a case's own
        explanation and stored deadline use."""
        return self.calendar().explain(accepted_on, promised_days, suspensions,
                                       today=today or to_shanghai_date(self.clock()),
                                       extension_days=extension_days)


def changed_days(before: WorkingCalendar, after: WorkingCalendar, year: int) -> list[dt.date]:
    """The days of ``year`` whose working status differs between the two calendars."""
    day, end, found = dt.date(year, 1, 1), dt.date(year, 12, 31), []
    while day <= end:
        if before.is_working_day(day) != after.is_working_day(day):
            found.append(day)
        day += dt.timedelta(days=1)
    return found
