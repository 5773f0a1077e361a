"""A center's calendar data: local decisions (one row per date) and the national schedules
of the years it holds (one row per year, its listed days)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from node.models import Base
from schemas.runtime.database import Timestamp, enum_column, utcnow


class CalendarOverride(Base):
    """A date on which the center departs from the national calendar: closed or open, and why."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    working: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))


class ScheduleSource(enum.StrEnum):
    """Where a year's national schedule comes from (the first three are stored)."""

    PUBLISHED = "published"  # the province's calendar.publish, adopted here
    IMPORTED = "imported"  # the notice imported at this node (JSON or XLSX)
    WEEKENDS_ONLY = "weekends_only"  # no data: an administrator confirmed weekends only
    PACKAGE = "package"  # chinese_calendar's data (never stored)
    NONE = "none"  # nothing: weekends only, deadlines provisional (never stored)


class ScheduleDayKind(enum.StrEnum):
    HOLIDAY = "holiday"  # 休: a public holiday (or a day moved into one)
    WORKDAY = "workday"  # 班: a weekend day worked (调休上班)


class CalendarSchedule(Base):
    """The national schedule of one year this node holds: the one in force, replaced whole
    when a newer one is adopted or imported (the audit chain keeps the history)."""

    __tablename__ = "calendar_schedules"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[ScheduleSource] = mapped_column(enum_column(ScheduleSource))
    # published: the province's version; imported: this node's own count for the year
    version: Mapped[int] = mapped_column(Integer)
    publisher: Mapped[str | None] = mapped_column(String(9))  # the province, when published
    reference: Mapped[str] = mapped_column(String(200))  # the notice (国办发明电〔…〕…号)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the days, canonical
    envelope_id: Mapped[str | None] = mapped_column(String(36))
    adopted_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    adopted_by: Mapped[str] = mapped_column(String(64))

    days: Mapped[list[CalendarScheduleDay]] = relationship(
        back_populates="schedule", order_by="CalendarScheduleDay.day",
        cascade="all, delete-orphan")


class CalendarScheduleDay(Base):
    """One listed day of a year's schedule: a holiday or a 调休 working day, with its name."""

    __tablename__ = "calendar_schedule_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    year: Mapped[int] = mapped_column(ForeignKey("calendar_schedules.year"), index=True)
    kind: Mapped[ScheduleDayKind] = mapped_column(enum_column(ScheduleDayKind))
    name: Mapped[str] = mapped_column(String(64))

    schedule: Mapped[CalendarSchedule] = relationship(back_populates="days")
