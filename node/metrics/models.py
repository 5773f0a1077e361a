"""Daily roll-ups: each day's counts, so that a month or a year does not rescan raw cases
(which days are rolled up is node/rollups.py's ``daily_rollups``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Date, String
from sqlalchemy.orm import Mapped, mapped_column

from node.models import Base


class DailyFigure(Base):
    """One count of one day (narrow rows: a new metric needs no migration).

    Besides the daily counts, a month's last day also keeps the state at its end
    (``open_at_end``, ``overdue_open``), so that a month summary need not scan every case.
    """

    __tablename__ = "daily_figures"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    key: Mapped[str] = mapped_column(String(48), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)
