"""Keeping the daily roll-ups fresh and summing them.

A day's figures are final once computed after the day ended.  The worker's job stores them
(:func:`refresh`); reading a period (:func:`period_counts`) never writes: days that are not
final yet are computed from the raw tables on the fly.  The few rules that change a past
day's figures (a deemed acceptance dated back to receipt, a rating declared void) call
:func:`invalidate`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from node.calendar.workdays import to_shanghai_date
from node.metrics.daily import daily_counts
from node.metrics.definitions import DAILY_KEYS
from node.metrics.models import DailyFigure, DailyRollup
from schemas.database import shanghai_date


def invalidate(session: Session, days: Iterable[dt.date]) -> None:
    """Forget the roll-ups of ``days``: their figures changed after the fact."""
    days = list(days)
    if days:
        session.execute(delete(DailyRollup).where(DailyRollup.day.in_(days)))


def stale_days(session: Session, start: dt.date, end: dt.date, now: dt.datetime) -> list[dt.date]:
    """Days of ``[start, end]`` up to today whose roll-up is missing or not final."""
    today = to_shanghai_date(now)
    last = min(end, today)
    if last < start:
        return []
    final = {
        day
        for day, computed_at in session.execute(
            select(DailyRollup.day, DailyRollup.computed_at).where(
                DailyRollup.day >= start, DailyRollup.day <= last
            )
        )
        if to_shanghai_date(computed_at) > day
    }
    days = []
    day = start
    while day <= last:
        if day not in final:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def refresh(session: Session, start: dt.date, end: dt.date, now: dt.datetime) -> int:
    """Recompute the stale days of ``[start, end]``; returns how many were computed."""
    days = stale_days(session, start, end, now)
    if not days:
        return 0
    computed = daily_counts(session, days[0], days[-1])
    wanted = set(days)
    session.execute(delete(DailyFigure).where(DailyFigure.day.in_(days)))
    session.execute(delete(DailyRollup).where(DailyRollup.day.in_(days)))
    rows = [
        {"day": day, "key": key, "value": value}
        for day, values in computed.items()
        if day in wanted
        for key, value in values.items()
        if value
    ]
    if rows:
        session.execute(insert(DailyFigure), rows)
    session.execute(insert(DailyRollup), [{"day": d, "computed_at": now} for d in days])
    session.flush()
    return len(days)


def final_sums(session: Session, start: dt.date, end: dt.date) -> dict[str, int]:
    """The stored counts of the final days of ``[start, end]`` added up."""
    rows = session.execute(
        select(DailyFigure.key, func.sum(DailyFigure.value))
        .join(DailyRollup, DailyRollup.day == DailyFigure.day)
        .where(
            DailyFigure.day >= start,
            DailyFigure.day <= end,
            shanghai_date(DailyRollup.computed_at) > DailyRollup.day,
        )
        .group_by(DailyFigure.key)
    )
    return {key: int(total) for key, total in rows}


def period_counts(
    session: Session, start: dt.date, end: dt.date, now: dt.datetime
) -> dict[str, int]:
    """Every daily count of ``[start, end]`` added up: final days from the roll-ups, the
    others (today, days never rolled up) computed from the raw tables.  Reads only."""
    totals = dict.fromkeys(DAILY_KEYS, 0)
    for key, value in final_sums(session, start, end).items():
        totals[key] = totals.get(key, 0) + value
    stale = stale_days(session, start, end, now)
    if stale:
        wanted = set(stale)
        for day, values in daily_counts(session, stale[0], stale[-1]).items():
            if day in wanted:
                for key, value in values.items():
                    totals[key] += value
    return totals
