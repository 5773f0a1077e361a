"""Daily roll-ups: each day's counts, so that a month or a year does not rescan raw cases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from node.models import Base
from schemas.runtime.database import Timestamp


class DailyRollup(Base):
    """When a day's figures were computed; a day computed after it ended is final."""

    __tablename__ = "daily_rollups"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[Timestamp]
    # the settings the day was computed with (the 两头受理 window): other settings, not final
    policy: Mapped[str] = mapped_column(String(64), default="")


class DailyFigure(Base):
    """One count of one day (narrow rows: a new metric needs no migration).

    Besides the daily counts, a month's last day also keeps the state at its end
    (``open_at_end``, ``overdue_open``), so that a month summary need not scan every case.
    """

    __tablename__ = "daily_figures"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
