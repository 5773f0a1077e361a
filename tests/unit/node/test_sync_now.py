"""The worker's push-now watch and long-polling pull loop (node/worker.py)."""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from typing import Any

from node.sync.backoff import Backoff
from node.sync.jobs import SyncJob
from node.sync.outbox import emit
from node.sync.service import SyncService
from node.worker import Loop, PullLoop, PushWatch, build_scheduler, sync_loops
from schemas.envelope import Kind
from schemas.keys import generate_private_key
from schemas.runtime.database import Database
from tests.unit.node.test_sync_fakes import COUNTY, FakeClock, FakeHub, clock, sync_db
from tests.unit.node.test_sync_worker import _settings

__all__ = ["clock", "sync_db"]

KEY = generate_private_key()


def _queue(db: Database) -> None:
    with db.unit_of_work() as session:
        emit(session, kind=Kind.DIRECTIVE, to="450981101", sender=COUNTY, private_key=KEY,
             body={"directive_id": str(uuid.uuid4()), "subject": "text", "case_number": None,
                   "metric": None, "text": "请说明", "due_on": "2026-12-10",
                   "issued_by": "chief"})


def test_the_watch_pushes_only_when_something_is_pending(sync_db: Database,
                                                         clock: FakeClock) -> None:
    hub = FakeHub()
    service = SyncService(sync_db, hub, code=COUNTY, clock=clock)
    watch = PushWatch(service, Backoff(clock, delay=lambda failures: 60.0), interval=0.2)
    assert not service.has_pending()
    assert watch() == 0.2
    assert hub.posted_batches == []
    _queue(sync_db)
    assert service.has_pending()
    watch()
    assert len(hub.posted_batches) == 1
    assert not service.has_pending()


def test_the_watch_waits_out_the_backoff(sync_db: Database, clock: FakeClock) -> None:
    hub = FakeHub()
    hub.down = True
    backoff = Backoff(clock, delay=lambda failures: 60.0)
    watch = PushWatch(SyncService(sync_db, hub, code=COUNTY, clock=clock), backoff, 0.2)
    _queue(sync_db)
    watch()
    assert backoff.failures == 1
    hub.down = False
    watch()  # too early: not tried
    assert hub.posted_batches == []
    clock.advance(seconds=61)
    watch()
    assert len(hub.posted_batches) == 1
    assert backoff.failures == 0


class LongPollHub(FakeHub):
    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait_for_mailbox(self, after: int, limit: int, wait: float) -> list[dict[str, Any]]:
        self.waits.append(wait)
        return self.fetch_mailbox(after, limit)


def test_the_pull_loop_long_polls_and_goes_straight_back(sync_db: Database,
                                                         clock: FakeClock) -> None:
    hub = LongPollHub()
    loop = PullLoop(SyncService(sync_db, hub, code=COUNTY, clock=clock),
                    Backoff(clock), wait=20.0)
    assert loop() == 0.0
    assert hub.waits == [20.0]
    # a transport without long polls is read at once
    plain = PullLoop(SyncService(sync_db, FakeHub(), code=COUNTY, clock=clock),
                     Backoff(clock), wait=20.0)
    assert plain() == 0.0


def test_loops_follow_the_settings_and_the_periodic_job_then_only_pushes(
    sync_db: Database
) -> None:
    service = SyncService(sync_db, FakeHub(), code=COUNTY)
    settings = _settings(sync_db.url)
    both = sync_loops(service, dataclasses.replace(settings, push_watch_seconds=0.2,
                                                   pull_wait_seconds=20.0), Backoff())
    assert [loop.name for loop in both] == ["push-now", "pull-now"]
    assert sync_loops(service, dataclasses.replace(settings, push_watch_seconds=0,
                                                   pull_wait_seconds=0), Backoff()) == []
    scheduler = build_scheduler(sync_db, dataclasses.replace(settings, pull_wait_seconds=20.0),
                                generate_private_key(), service)
    job = scheduler.get_job("sync").func
    assert isinstance(job, SyncJob)
    assert job.pull is False


def test_a_loop_survives_an_unexpected_error_and_stops_when_told() -> None:
    calls: list[int] = []
    ran_again = threading.Event()

    def step() -> float:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        ran_again.set()
        return 0.01

    loop = Loop("test", step)
    loop.ERROR_PAUSE_SECONDS = 0.01
    loop.start()
    assert ran_again.wait(5)
    loop.stop(timeout=5)
    assert not loop.thread.is_alive()
    settled = len(calls)
    time.sleep(0.05)
    assert len(calls) == settled
