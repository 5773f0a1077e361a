"""``tongban node worker``: the one process that runs the node's scheduled jobs.

APScheduler runs here only, never in a web worker.  Jobs: push and pull (with backoff after
failures), the case deadline jobs and roll-up refresh (as ``tongban node run-jobs``), and the
summaries of the current month and, in the first days of a month, of the previous one.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
from collections.abc import Callable, Mapping
from types import FrameType
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.calendar.workdays import to_shanghai_date
from node.sync.errors import SyncError
from node.sync.outbox import emit
from node.sync.service import Backoff, SyncService
from schemas.database import Database, utcnow
from schemas.envelope import HUB, Kind
from schemas.periods import Period

log = logging.getLogger("tongban.sync.worker")

CASE_JOBS_MINUTES = 15
ROLLUP_LOOKBACK_DAYS = 366
# a month's summary keeps being refreshed for this many days after it closes
PREVIOUS_MONTH_DAYS = 5


def summary_periods(today: dt.date) -> list[Period]:
    """The months whose summary to send today: this one, and the last one early in a month."""
    current = Period.month(today.year, today.month)
    if today.day <= PREVIOUS_MONTH_DAYS:
        return [current.previous(), current]
    return [current]


def send_summaries(
    db: Database, settings: Mapping[str, Any], key: Ed25519PrivateKey,
    clock: Callable[[], dt.datetime] = utcnow,
) -> list[str]:
    """Queue a signed ``summary`` for each period of :func:`summary_periods`; one transaction
    each, so a failing period does not hold back the other."""
    from node.metrics.service import MetricsService

    now = clock()
    sent = []
    for period in summary_periods(to_shanghai_date(now)):
        with db.unit_of_work() as session:
            body = MetricsService.for_settings(session, settings).summary(period)
            emit(session, kind=Kind.SUMMARY, to=HUB, body=body, sender=settings["code"],
                 private_key=key, now=now)
        sent.append(period.label)
    return sent


def run_case_jobs(
    db: Database, settings: Mapping[str, Any], key: Ed25519PrivateKey
) -> None:
    """What ``tongban node run-jobs`` does: deemed acceptance and approval, then roll-ups."""
    from node.cases.factory import case_service_for
    from node.metrics.rollup import refresh

    with db.unit_of_work() as session:
        service = case_service_for(session, settings, key)
        accepted = service.deem_accept_overdue()
        approved = service.deem_approve_overdue()
    with db.unit_of_work() as session:
        now = utcnow()
        start = to_shanghai_date(now) - dt.timedelta(days=ROLLUP_LOOKBACK_DAYS)
        rolled = refresh(session, start, to_shanghai_date(now), now)
    log.info("case jobs: deemed accepted %d, deemed approved %d, roll-ups %d",
             len(accepted), len(approved), rolled)


class SyncJob:
    """Push then pull, skipping runs while backing off after failures."""

    def __init__(self, service: SyncService, backoff: Backoff | None = None) -> None:
        self.service = service
        self.backoff = backoff or Backoff()

    def __call__(self) -> None:
        if not self.backoff.ready():
            return
        try:
            pushed = self.service.push()
            pulled = self.service.pull()
        except SyncError as exc:
            delay = self.backoff.failed()
            log.warning("sync failed (%d in a row), next try in %.0f s: %s",
                        self.backoff.failures, delay, exc.message)
            return
        self.backoff.succeeded()
        log.info("sync: sent %d, dead %d, pending %d; received %d, applied %d, held %d",
                 pushed.sent + pushed.duplicate, pushed.dead, pushed.pending,
                 pulled.received, pulled.applied, pulled.held)


def build_scheduler(
    db: Database, settings: Mapping[str, Any], key: Ed25519PrivateKey, service: SyncService
) -> BlockingScheduler:
    """The worker's scheduler with its jobs (not started)."""
    scheduler = BlockingScheduler(timezone="Asia/Shanghai")
    now = dt.datetime.now(dt.UTC)
    common = {"max_instances": 1, "coalesce": True, "next_run_time": now}
    scheduler.add_job(SyncJob(service), "interval", id="sync", name="push and pull",
                      seconds=int(settings["sync_interval_seconds"]), **common)
    scheduler.add_job(run_case_jobs, "interval", args=(db, settings, key), id="case-jobs",
                      name="deadline jobs and roll-ups", minutes=CASE_JOBS_MINUTES, **common)
    scheduler.add_job(send_summaries, "interval", args=(db, settings, key), id="summaries",
                      name="summaries", minutes=int(settings["summary_refresh_minutes"]),
                      **common)
    return scheduler


def run_worker(scheduler: BlockingScheduler) -> None:
    """Run until SIGTERM or SIGINT, then stop after the running jobs finish."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker stopping on signal %d", signum)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()
