"""The cases' scheduled job: deemed acceptance and approval (Art. 32, 告知承诺), then the
daily roll-ups of the last year's days that are not final yet (node/rollups.py).

Run every :data:`CASE_JOBS_MINUTES` minutes by the worker and once by ``tongban node
run-jobs``; declared to the composition root by :func:`scheduled_jobs`.  The roll-ups belong
to the metrics, which stand above the cases: the composition root hands their refresh in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from node.calendar.workdays import to_shanghai_date
from node.cases.service import CaseService
from node.ports import ScheduledJob
from schemas.runtime.database import Database, utcnow

log = logging.getLogger("tongban.sync.worker")  # the worker's log

CASE_JOBS_MINUTES = 15
ROLLUP_LOOKBACK_DAYS = 366

RollupRefresh = Callable[[Session, dt.date, dt.date, dt.datetime], int]
"""Computes the daily roll-ups from one day to another that are not final yet; returns how many
(node/metrics/rollup.py ``refresh``)."""


@dataclasses.dataclass(frozen=True)
class CaseJobsReport:
    """What one run of the case jobs did: the numbers of the cases deemed accepted and
    approved, and how many daily roll-ups were computed."""

    accepted: list[str]
    approved: list[str]
    rolled: int


def run_case_jobs(db: Database, cases: Callable[[Session], CaseService],
                  rollups: RollupRefresh) -> CaseJobsReport:
    """Deemed acceptance and approval, then the roll-ups of the last year's days; one
    transaction each."""
    with db.unit_of_work() as session:
        service = cases(session)
        accepted = service.deem_accept_overdue()
        approved = service.deem_approve_overdue()
    with db.unit_of_work() as session:
        now = utcnow()
        start = to_shanghai_date(now) - dt.timedelta(days=ROLLUP_LOOKBACK_DAYS)
        rolled = rollups(session, start, to_shanghai_date(now), now)
    log.info("case jobs: deemed accepted %d, deemed approved %d, roll-ups %d",
             len(accepted), len(approved), rolled)
    return CaseJobsReport(accepted, approved, rolled)


def scheduled_jobs(db: Database, cases: Callable[[Session], CaseService],
                   rollups: RollupRefresh) -> list[ScheduledJob]:
    return [ScheduledJob("case-jobs", "deadline jobs and roll-ups",
                         dt.timedelta(minutes=CASE_JOBS_MINUTES),
                         lambda: run_case_jobs(db, cases, rollups))]


__all__ = ["CASE_JOBS_MINUTES", "ROLLUP_LOOKBACK_DAYS", "CaseJobsReport", "RollupRefresh",
           "run_case_jobs", "scheduled_jobs"]
