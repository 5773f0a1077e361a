"""Which days' figures are rolled up (``daily_rollups``), and forgetting a day whose figures
changed after the fact.

Below every feature, like node/caches.py: a case accepted with a past date, a deadline moved by
a calendar change, a bad rating disputed — each forgets the roll-ups of the days it changed,
and node/metrics/rollup.py computes them again.  The features need not import node.metrics
(which reads their tables) to say so.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import Date, String, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from node.models import Base
from schemas.runtime.database import Timestamp


class DailyRollup(Base):
    """When a day's figures were computed; a day computed after it ended is final."""

    __tablename__ = "daily_rollups"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    computed_at: Mapped[Timestamp]
    # the settings the day was computed with (the 两头受理 window): other settings, not final
    policy: Mapped[str] = mapped_column(String(64), default="")


def invalidate(session: Session, days: Iterable[dt.date]) -> None:
    """Forget the roll-ups of ``days``: their figures changed after the fact."""
    days = list(days)
    if days:
        session.execute(delete(DailyRollup).where(DailyRollup.day.in_(days)))


__all__ = ["DailyRollup", "invalidate"]
