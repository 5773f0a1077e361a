"""The sync layer's scheduled jobs: push and pull (with backoff after failures), the hourly
refresh of the registry and the centers' names, and, over the hub's HTTP API, the answers to
the hub's audits.  Declared to the composition root by :func:`scheduled_jobs`; the worker
(node/worker.py) schedules them with every feature's.
"""

from __future__ import annotations

import datetime as dt
import logging

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.ports import ScheduledJob, SyncError
from node.settings import NodeSettings
from node.sync.audits import AuditJob, AuditSource
from node.sync.backoff import Backoff
from node.sync.reports import PullReport
from node.sync.service import SyncService
from schemas.runtime.database import Database

log = logging.getLogger("tongban.sync.worker")  # the worker's log

REGISTRY_HOURS = 1


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


def refresh_registry(service: SyncService) -> None:
    """The hourly refresh of the cached registry and the centers' names."""
    try:
        service.refresh_registry()
    except SyncError as exc:
        log.warning("registry and names not refreshed: %s", exc.message)


def scheduled_jobs(db: Database, settings: NodeSettings, key: Ed25519PrivateKey,
                   service: SyncService, backoff: Backoff) -> list[ScheduledJob]:
    """Sync every ``sync_interval_seconds`` (only pushing when the pull loop reads the mailbox:
    ``pull_wait_seconds`` > 0), the registry hourly, and the audits' answers as often as sync
    when the transport is the hub's HTTP API (it lists the node's audits)."""
    every = dt.timedelta(seconds=settings.sync_interval_seconds)
    pulls = not settings.pull_wait_seconds > 0
    jobs = [
        ScheduledJob("sync", "push and pull", every, SyncJob(service, backoff, pull=pulls)),
        ScheduledJob("registry", "registry and centers' names",
                     dt.timedelta(hours=REGISTRY_HOURS), lambda: refresh_registry(service)),
    ]
    transport = service.transport
    if isinstance(transport, AuditSource):
        jobs.append(ScheduledJob("audits", "answer audits", every,
                                 AuditJob(db, settings, key, transport, service)))
    return jobs


__all__ = ["REGISTRY_HOURS", "SyncJob", "refresh_registry", "scheduled_jobs"]
