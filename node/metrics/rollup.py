"""Keeping the daily roll-ups fresh and summing them.

A day's figures are final once computed after the day ended.  The worker's job stores them
(:func:`refresh`); reading a period (:func:`period_counts`) never writes: days that are not
final yet are computed from the raw tables on the fly.  The few rules that change a past
day's figures (a deemed acceptance dated back to receipt, a rating declared void) call
:func:`node.rollups.invalidate`.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import cast

from sqlalchemy import Delete, Insert, Table, bindparam, delete, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from node.calendar.workdays import to_shanghai_date
from node.metrics.daily import daily_counts
from node.metrics.definitions import DAILY_KEYS
from node.metrics.models import DailyFigure
from node.metrics.patterns import PatternPolicy
from node.metrics.state import open_cases
from node.rollups import DailyRollup
from schemas.runtime.database import shanghai_date

STATE_KEYS = ("open_at_end", "overdue_open")


def policy_label(window_days: int) -> str:
    return f"two_headed_window_days={window_days}"


def is_month_end(day: dt.date) -> bool:
    return (day + dt.timedelta(days=1)).day == 1


FIGURES = cast(Table, DailyFigure.__table__)
ROLLUPS = cast(Table, DailyRollup.__table__)


def stale_days(
    session: Session,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    window_days: int = PatternPolicy.two_headed_window_days,
) -> list[dt.date]:
    """Days of ``[start, end]`` up to today whose roll-up is missing, not final, or computed
    with other settings."""
    today = to_shanghai_date(now)
    last = min(end, today)
    if last < start:
        return []
    policy = policy_label(window_days)
    final = {
        day
        for day, computed_at, computed_with in session.execute(
            select(ROLLUPS.c.day, ROLLUPS.c.computed_at, ROLLUPS.c.policy).where(
                ROLLUPS.c.day >= start, ROLLUPS.c.day <= last
            )
        )
        if to_shanghai_date(computed_at) > day and computed_with == policy
    }
    days = []
    day = start
    while day <= last:
        if day not in final:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def refresh(
    session: Session,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    window_days: int = PatternPolicy.two_headed_window_days,
) -> int:
    """Recompute the stale days of ``[start, end]``; returns how many were computed.

    A month's last day also stores the state at its end (open and overdue cases).  The
    figures are written with Core statements on the tables (no ORM unit of work): the old
    figures of the days deleted, the new ones inserted in one ``executemany``, and the days'
    roll-up marks upserted in one statement.
    """
    days = stale_days(session, start, end, now, window_days)
    if not days:
        return 0
    computed = daily_counts(session, days[0], days[-1], window_days)
    for day in days:
        if is_month_end(day) and day < to_shanghai_date(now):
            computed[day] = {**computed[day], **open_cases(session, day)}
    wanted = set(days)
    session.execute(_delete_figures(), {"days": days})
    rows = [
        {"day": day, "key": key, "value": value}
        for day, values in computed.items()
        if day in wanted
        for key, value in values.items()
        if value
    ]
    if rows:
        session.execute(_insert_figures(), rows)
    policy = policy_label(window_days)
    session.execute(
        _mark_computed(session.get_bind().dialect.name),
        [{"day": d, "computed_at": now, "policy": policy} for d in days],
    )
    return len(days)


@functools.cache
def _delete_figures() -> Delete:
    return delete(FIGURES).where(FIGURES.c.day.in_(bindparam("days", expanding=True)))


@functools.cache
def _insert_figures() -> Insert:
    return insert(FIGURES)


@functools.cache
def _mark_computed(dialect: str) -> Insert:
    """``INSERT … ON CONFLICT (day) DO UPDATE``: the day's mark, replacing an older one."""
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(ROLLUPS)
    return statement.on_conflict_do_update(
        index_elements=[ROLLUPS.c.day],
        set_={"computed_at": statement.excluded.computed_at,
              "policy": statement.excluded.policy},
    )


def final_sums(
    session: Session,
    start: dt.date,
    end: dt.date,
    window_days: int = PatternPolicy.two_headed_window_days,
) -> dict[str, int]:
    """The stored counts of the final days of ``[start, end]`` added up."""
    policy = policy_label(window_days)
    rows = session.execute(
        select(DailyFigure.key, func.sum(DailyFigure.value))
        .join(DailyRollup, DailyRollup.day == DailyFigure.day)
        .where(
            DailyFigure.day >= start,
            DailyFigure.day <= end,
            DailyFigure.key.in_(DAILY_KEYS),
            shanghai_date(DailyRollup.computed_at) > DailyRollup.day,
            DailyRollup.policy == policy,
        )
        .group_by(DailyFigure.key)
    )
    return {key: int(total) for key, total in rows}


def state_at_end(
    session: Session,
    day: dt.date,
    now: dt.datetime,
    window_days: int = PatternPolicy.two_headed_window_days,
) -> dict[str, int]:
    """Open and overdue cases at the end of ``day``: stored with a final month-end roll-up,
    otherwise counted from the cases."""
    if day < to_shanghai_date(now) and day not in stale_days(session, day, day, now, window_days):
        rows = session.execute(
            select(DailyFigure.key, DailyFigure.value).where(
                DailyFigure.day == day, DailyFigure.key.in_(STATE_KEYS)
            )
        )
        stored = {row.key: row.value for row in rows}
        if is_month_end(day):
            return {key: int(stored.get(key, 0)) for key in STATE_KEYS}
    return open_cases(session, day)


def period_counts(
    session: Session,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    window_days: int = PatternPolicy.two_headed_window_days,
) -> dict[str, int]:
    """Every daily count of ``[start, end]`` added up: final days from the roll-ups, the
    others (today, days never rolled up) computed from the raw tables.  Reads only."""
    totals = dict.fromkeys(DAILY_KEYS, 0)
    for key, value in final_sums(session, start, end, window_days).items():
        totals[key] = totals.get(key, 0) + value
    stale = stale_days(session, start, end, now, window_days)
    if stale:
        wanted = set(stale)
        for day, values in daily_counts(session, stale[0], stale[-1], window_days).items():
            if day in wanted:
                for key, value in values.items():
                    totals[key] += value
    return totals
