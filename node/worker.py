"""``tongban node worker``: the one process that runs the node's scheduled jobs (its services
come from the composition root, node/composition.py).

APScheduler runs here only, never in a web worker.  Jobs: push and pull (with backoff after
failures), the case deadline jobs and roll-up refresh (as ``tongban node run-jobs``), the
summaries of the current month and, in the first days of a month, of the previous one, and
once a day the calendar check (a warning for each year without national holiday data from
sixty days before it begins).

Beside the scheduler, two threads move envelopes at once instead of every
``sync_interval_seconds``: the **push-now watch** looks at the outbox every
``push_watch_seconds`` (one indexed row read) and pushes whatever is pending, and the
**pull loop** long-polls the hub's mailbox (``GET /api/v1/mailbox?wait=…``), so an envelope
addressed to this node is pulled and applied as soon as the hub has it.  All three share one
backoff: while the hub cannot be reached, nobody knocks on it before the delay has passed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.audit.chain import AuditLog
from node.calendar.service import CalendarService
from node.calendar.workdays import to_shanghai_date
from node.composition import NodeServices
from node.metrics.rollup import refresh
from node.metrics.service import MetricsService
from node.metrics.summary import as_of
from node.ports import SyncError
from node.settings import NodeSettings
from node.sync.audits import AuditJob, AuditSource
from node.sync.backoff import Backoff, backoff_delay
from node.sync.outbox import emit
from node.sync.reports import PullReport, sync_status
from node.sync.service import SyncService
from node.verification.service import commit, keep
from schemas.envelope import HUB, Kind
from schemas.periods import Period
from schemas.runtime.database import Database, utcnow

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
    db: Database, settings: NodeSettings, key: Ed25519PrivateKey,
    clock: Callable[[], dt.datetime] = utcnow,
) -> list[str]:
    """Queue a signed ``summary`` for each period of :func:`summary_periods`, each carrying
    the audit chain's head and its commitment to the cases counted (whose leaves are kept for
    audits); one transaction each, so a failing period does not hold back the
    other."""
    now = clock()
    sent = []
    for period in summary_periods(to_shanghai_date(now)):
        with db.unit_of_work() as session:
            metrics = MetricsService.for_settings(session, settings)
            metrics.clock = lambda: now  # the figures and the commitment of the same moment
            body = metrics.summary(period)
            # the audit head, anchored at the hub (docs/sync.md, "Audit anchors")
            body["audit"] = AuditLog(session).anchor()
            # the commitment to the case records the figures count (docs/verification.md)
            commitment = commit(session, period, as_of(period, now))
            body["commitment"] = commitment.body
            envelope = emit(session, kind=Kind.SUMMARY, to=HUB, body=body,
                            sender=settings.code, private_key=key, now=now)
            keep(session, commitment, envelope.id, envelope.seq)
        sent.append(period.label)
    return sent


def check_calendar(db: Database, clock: Callable[[], dt.datetime] = utcnow) -> list[int]:
    """Log a warning naming each year without national holiday data from today to sixty days
    ahead (its deadlines are provisional); returns those years.

    The warning is logged once a Shanghai day, whichever process checks (the worker's daily
    job, each worker start, every ``run-jobs`` a cron may run every few minutes): the day of
    the last warning is kept in the sync status row.
    """
    with db.unit_of_work() as session:
        missing = CalendarService(session, clock=clock).missing_years()
        if not missing:
            return []
        status = sync_status(session)
        today = to_shanghai_date(clock())
        warned_today = status.calendar_warned_on == today
        status.calendar_warned_on = today
    if not warned_today:
        log.warning("calendar: no national holiday schedule for %s: deadlines there count "
                    "weekends only and are provisional; import or publish it "
                    "(tongban node calendar-import / publish-calendar)",
                    ", ".join(map(str, missing)))
    return missing


def refresh_registry(service: SyncService) -> None:
    """The hourly refresh of the cached registry and the centers' names."""
    try:
        service.refresh_registry()
    except SyncError as exc:
        log.warning("registry and names not refreshed: %s", exc.message)


@dataclasses.dataclass(frozen=True)
class CaseJobsReport:
    """What one run of the case jobs did: the numbers of the cases deemed accepted and
    approved, and how many daily roll-ups were computed."""

    accepted: list[str]
    approved: list[str]
    rolled: int


def run_case_jobs(
    db: Database, settings: NodeSettings, key: Ed25519PrivateKey
) -> CaseJobsReport:
    """The case jobs, run by ``tongban node run-jobs`` once and by the worker every 15
    minutes: deemed acceptance and approval, then the roll-ups of the last year's days."""
    with db.unit_of_work() as session:
        service = NodeServices(settings, key).cases(session)
        accepted = service.deem_accept_overdue()
        approved = service.deem_approve_overdue()
    with db.unit_of_work() as session:
        now = utcnow()
        start = to_shanghai_date(now) - dt.timedelta(days=ROLLUP_LOOKBACK_DAYS)
        rolled = refresh(session, start, to_shanghai_date(now), now)
    log.info("case jobs: deemed accepted %d, deemed approved %d, roll-ups %d",
             len(accepted), len(approved), rolled)
    return CaseJobsReport(accepted, approved, rolled)


def sync_backoff(settings: NodeSettings) -> Backoff:
    """The worker's backoff, with the base and cap of the settings."""
    base = settings.sync_backoff_base_seconds
    cap = settings.sync_backoff_cap_seconds
    return Backoff(delay=lambda failures: backoff_delay(failures, base=base, cap=cap))


class SyncJob:
    """Push then pull, skipping runs while backing off after failures.  With ``pull=False``
    (the pull loop reads the mailbox) it only pushes: a safety net beside the watch."""

    def __init__(
        self, service: SyncService, backoff: Backoff | None = None, *, pull: bool = True
    ) -> None:
        self.service = service
        self.backoff = backoff or Backoff()
        self.pull = pull

    def __call__(self) -> None:
        if not self.backoff.ready():
            return
        try:
            pushed = self.service.push()
            pulled = self.service.pull() if self.pull else PullReport()
        except SyncError as exc:
            delay = self.backoff.failed()
            log.warning("sync failed (%d in a row), next try in %.0f s: %s",
                        self.backoff.failures, delay, exc.message)
            return
        self.backoff.succeeded()
        log.info("sync: sent %d, dead %d, pending %d; received %d, applied %d, held %d",
                 pushed.sent + pushed.duplicate, pushed.dead, pushed.pending,
                 pulled.received, pulled.applied, pulled.held)


class Loop:
    """A daemon thread calling ``step`` until stopped; ``step`` returns the seconds to pause.

    An unexpected error in a step is logged with its traceback and the loop goes on after a
    pause: the worker's other jobs keep running, and the next step may well succeed.
    """

    ERROR_PAUSE_SECONDS = 5.0

    def __init__(self, name: str, step: Callable[[], float]) -> None:
        self.name = name
        self.step = step
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float | None = None) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(timeout)

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                pause = self.step()
            except Exception:  # logged with its traceback; the loop goes on
                log.exception("%s: unexpected error", self.name)
                pause = self.ERROR_PAUSE_SECONDS
            if pause > 0:
                self.stopping.wait(pause)


class PushWatch:
    """Push-now: push as soon as the outbox holds something (one step of a :class:`Loop`)."""

    def __init__(self, service: SyncService, backoff: Backoff, interval: float) -> None:
        self.service = service
        self.backoff = backoff
        self.interval = interval

    def __call__(self) -> float:
        if not self.backoff.ready() or not self.service.has_pending():
            return self.interval
        try:
            pushed = self.service.push()
        except SyncError as exc:
            delay = self.backoff.failed()
            log.warning("push failed (%d in a row), next try in %.1f s: %s",
                        self.backoff.failures, delay, exc.message)
            return self.interval
        self.backoff.succeeded()
        log.info("pushed now: sent %d, dead %d, pending %d",
                 pushed.sent + pushed.duplicate, pushed.dead, pushed.pending)
        return self.interval


class PullLoop:
    """Pull-now: long-poll the mailbox, apply what arrives, poll again (a :class:`Loop` step)."""

    IDLE_SECONDS = 0.2  # the pause between checks while backing off

    def __init__(self, service: SyncService, backoff: Backoff, wait: float) -> None:
        self.service = service
        self.backoff = backoff
        self.wait = wait

    def __call__(self) -> float:
        if not self.backoff.ready():
            return self.IDLE_SECONDS
        try:
            pulled = self.service.pull(wait=self.wait)
        except SyncError as exc:
            delay = self.backoff.failed()
            log.warning("pull failed (%d in a row), next try in %.1f s: %s",
                        self.backoff.failures, delay, exc.message)
            return self.IDLE_SECONDS
        self.backoff.succeeded()
        if pulled.received or pulled.applied:
            log.info("pulled now: received %d, applied %d, held %d",
                     pulled.received, pulled.applied, pulled.held)
        return 0.0


def sync_loops(
    service: SyncService, settings: NodeSettings, backoff: Backoff
) -> list[Loop]:
    """The push-now watch and the long-polling pull loop the settings ask for."""
    loops = []
    watch = settings.push_watch_seconds
    if watch > 0:
        loops.append(Loop("push-now", PushWatch(service, backoff, watch)))
    wait = settings.pull_wait_seconds
    if wait > 0:
        loops.append(Loop("pull-now", PullLoop(service, backoff, wait)))
    return loops


def build_scheduler(
    db: Database, settings: NodeSettings, key: Ed25519PrivateKey, service: SyncService,
    backoff: Backoff | None = None,
) -> BlockingScheduler:
    """The worker's scheduler with its jobs (not started).  When the pull loop runs
    (``pull_wait_seconds`` > 0), the periodic sync job only pushes."""
    scheduler = BlockingScheduler(timezone="Asia/Shanghai")
    now = dt.datetime.now(dt.UTC)
    common = {"max_instances": 1, "coalesce": True, "next_run_time": now}
    pulls = not settings.pull_wait_seconds > 0
    job = SyncJob(service, backoff or sync_backoff(settings), pull=pulls)
    scheduler.add_job(job, "interval", id="sync", name="push and pull",
                      seconds=settings.sync_interval_seconds, **common)
    scheduler.add_job(run_case_jobs, "interval", args=(db, settings, key), id="case-jobs",
                      name="deadline jobs and roll-ups", minutes=CASE_JOBS_MINUTES, **common)
    scheduler.add_job(check_calendar, "interval", args=(db,), id="calendar-check",
                      name="calendar check", days=1, **common)
    scheduler.add_job(refresh_registry, "interval", args=(service,), id="registry",
                      name="registry and centers' names", hours=1, **common)
    scheduler.add_job(send_summaries, "interval", args=(db, settings, key), id="summaries",
                      name="summaries", minutes=settings.summary_refresh_minutes,
                      **common)
    transport = service.transport
    if isinstance(transport, AuditSource):  # the hub's HTTP API lists the node's audits
        scheduler.add_job(AuditJob(db, settings, key, transport, service),
                          "interval", id="audits", name="answer audits",
                          seconds=settings.sync_interval_seconds, **common)
    return scheduler


def run_worker(scheduler: BlockingScheduler, loops: list[Loop] | None = None) -> None:
    """Run until SIGTERM or SIGINT, then stop after the running jobs finish (a long poll in
    progress is abandoned: its thread is a daemon, and what it stored is committed)."""
    loops = loops or []

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("worker stopping on signal %d", signum)
        for loop in loops:
            loop.stopping.set()
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for loop in loops:
        loop.start()
    try:
        scheduler.start()
    finally:
        for loop in loops:
            loop.stop(timeout=5)
