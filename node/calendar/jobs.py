"""The calendar's scheduled job: once a day, a warning naming each year without national
holiday data from today to sixty days ahead (its deadlines are provisional).

Declared to the composition root by :func:`scheduled_jobs`; ``tongban node run-jobs`` runs
the check too.  Where the day of the last warning is kept (the sync status row) is the
composition root's to hand in (:data:`WarnedToday`): the calendar never imports node.sync.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from node.calendar.service import CalendarService
from node.calendar.workdays import to_shanghai_date
from node.ports import ScheduledJob
from schemas.runtime.database import Database, utcnow

log = logging.getLogger("tongban.sync.worker")  # the worker's log

WarnedToday = Callable[[Session, dt.date], bool]
"""Records that the warning is given on a Shanghai day; answers whether it had been already
(node/sync/reports.py ``calendar_warned``)."""


def check_calendar(db: Database, warned_today: WarnedToday,
                   clock: Callable[[], dt.datetime] = utcnow) -> list[int]:
    """Log a warning naming each year without national holiday data from today to sixty days
    ahead (its deadlines are provisional); returns those years.

    The warning is logged once a Shanghai day, whichever process checks (the worker's daily
    job, each worker start, every ``run-jobs`` a cron may run every few minutes).
    """
    with db.unit_of_work() as session:
        missing = CalendarService(session, clock=clock).missing_years()
        if not missing:
            return []
        already = warned_today(session, to_shanghai_date(clock()))
    if not already:
        log.warning("calendar: no national holiday schedule for %s: deadlines there count "
                    "weekends only and are provisional; import or publish it "
                    "(tongban node calendar-import / publish-calendar)",
                    ", ".join(map(str, missing)))
    return missing


def scheduled_jobs(db: Database, warned_today: WarnedToday) -> list[ScheduledJob]:
    return [ScheduledJob("calendar-check", "calendar check", dt.timedelta(days=1),
                         lambda: check_calendar(db, warned_today))]


__all__ = ["WarnedToday", "check_calendar", "scheduled_jobs"]
