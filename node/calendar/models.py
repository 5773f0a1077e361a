"""A center's local calendar decisions, one row per date."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from node.models import Base
from schemas.database import Timestamp, utcnow


class CalendarOverride(Base):
    """A date on which the center departs from the national calendar: closed or open, and why."""

    __tablename__ = "calendar_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    working: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
