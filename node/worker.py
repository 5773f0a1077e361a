"""``tongban node worker``: the one process that runs the node's scheduled jobs (its services
come from the composition root, node/composition.py).

APScheduler runs here only, never in a web worker.  The jobs are the features' own, each
declared with its interval in the feature's ``scheduled_jobs`` and collected by
:meth:`node.composition.NodeServices.scheduled_jobs`: push and pull, the registry's refresh
and the audits' answers (node/sync/jobs.py), the case deadline jobs and roll-up refresh
(node/cases/jobs.py, as ``tongban node run-jobs``), the summaries of the current month and,
early in a month, of the previous one (node/metrics/jobs.py), and once a day the calendar
check (node/calendar/jobs.py).  The worker schedules what is declared.

Beside the scheduler, two threads move envelopes at once instead of every
``sync_interval_seconds``: the **push-now watch** looks at the outbox every
``push_watch_seconds`` (one indexed row read) and pushes whatever is pending, and the
**pull loop** long-polls the hub's mailbox (``GET /api/v1/mailbox?wait=…``), so an envelope
addressed to this node is pulled and applied as soon as the hub has it.  All three share one
backoff: while the hub cannot be reached, nobody knocks on it before the delay has passed.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from apscheduler.schedulers.blocking import BlockingScheduler
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.composition import NodeServices
from node.ports import SyncError
from node.settings import NodeSettings
from node.sync.backoff import Backoff, backoff_delay
from node.sync.service import SyncService
from schemas.runtime.database import Database

log = logging.getLogger("tongban.sync.worker")


def sync_backoff(settings: NodeSettings) -> Backoff:
    """The worker's backoff, with the base and cap of the settings."""
    base = settings.sync_backoff_base_seconds
    cap = settings.sync_backoff_cap_seconds
    return Backoff(delay=lambda failures: backoff_delay(failures, base=base, cap=cap))


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
    """The worker's scheduler with every job the features declare to the composition root
    (:meth:`NodeServices.scheduled_jobs`), each at its interval (not started)."""
    scheduler = BlockingScheduler(timezone="Asia/Shanghai")
    now = dt.datetime.now(dt.UTC)
    declared = NodeServices(settings, key).scheduled_jobs(
        db, service, backoff or sync_backoff(settings))
    for job in declared.jobs():
        scheduler.add_job(job.run, "interval", id=job.name, name=job.title,
                          seconds=job.every.total_seconds(), max_instances=1, coalesce=True,
                          next_run_time=now)
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
