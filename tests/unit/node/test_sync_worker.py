"""Backoff with jitter, the worker's sync job and summary periods, and its scheduler."""

from __future__ import annotations

import datetime as dt
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from node.composition import NodeServices
from node.metrics.jobs import send_summaries, summary_periods
from node.ports import DuplicateJob, JobRegistry, ScheduledJob
from node.settings import NodeSettings
from node.sync.backoff import BACKOFF_CAP_SECONDS, Backoff, backoff_delay
from node.sync.jobs import SyncJob
from node.sync.models import OutboxEnvelope
from node.sync.outbox import SigningOutbox
from node.sync.service import SyncService
from node.worker import build_scheduler
from schemas.envelope import Kind, parse_envelope
from schemas.keys import generate_private_key
from schemas.runtime.database import Database
from tests.conftest import NODE_IDENTITY
from tests.unit.node.test_sync_fakes import (
    COUNTY,
    FakeClock,
    FakeHub,
    clock,
    sync_db,
)

__all__ = ["clock", "sync_db"]


def test_backoff_grows_exponentially_and_is_capped() -> None:
    ceilings = [backoff_delay(n, rand=lambda: 1.0) for n in range(1, 12)]
    assert ceilings[:4] == [5.0, 10.0, 20.0, 40.0]
    assert ceilings == sorted(ceilings)
    assert max(ceilings) == BACKOFF_CAP_SECONDS
    assert backoff_delay(10_000, rand=lambda: 1.0) == BACKOFF_CAP_SECONDS
    assert backoff_delay(0) == 0.0


def test_backoff_is_fully_jittered() -> None:
    delays = [backoff_delay(6) for _ in range(200)]
    assert all(0.0 <= delay <= 160.0 for delay in delays)
    assert len(set(delays)) > 150  # spread out, not in step
    assert min(delays) < 40.0 < max(delays)
    assert backoff_delay(3, rand=lambda: 0.5) == 10.0


def test_backoff_state_skips_runs_until_the_delay_has_passed(clock: FakeClock) -> None:
    backoff = Backoff(clock, delay=lambda failures: 10.0 * failures)
    assert backoff.ready()
    assert backoff.failed() == 10.0
    assert not backoff.ready()
    clock.advance(seconds=10)
    assert backoff.ready()
    assert backoff.failed() == 20.0
    backoff.succeeded()
    assert (backoff.ready(), backoff.failures) == (True, 0)


def test_the_sync_job_backs_off_while_the_hub_is_down(sync_db: Database,
                                                      clock: FakeClock) -> None:
    hub = FakeHub()
    hub.down = True
    service = SyncService(sync_db, hub, code=COUNTY, clock=clock)
    job = SyncJob(service, Backoff(clock, delay=lambda failures: 60.0))
    job()
    assert job.backoff.failures == 1
    job()  # too early: not even tried
    assert job.backoff.failures == 1
    clock.advance(seconds=61)
    hub.down = False
    job()
    assert job.backoff.failures == 0


@pytest.mark.parametrize(("today", "labels"), [
    (dt.date(2026, 12, 3), ["2026-11", "2026-12"]),
    (dt.date(2026, 12, 5), ["2026-11", "2026-12"]),
    (dt.date(2026, 12, 6), ["2026-12"]),
    (dt.date(2027, 1, 1), ["2026-12", "2027-01"]),
])
def test_summary_periods(today: dt.date, labels: list[str]) -> None:
    assert [period.label for period in summary_periods(today)] == labels


def _settings(database_url: str) -> NodeSettings:
    from node.config import node_settings

    return node_settings({**NODE_IDENTITY, "database_url": database_url, "secret_key": "k" * 32})


def test_send_summaries_queues_signed_summaries_in_seq_order(sync_db: Database) -> None:
    settings = _settings(sync_db.url)
    key = generate_private_key()
    moment = dt.datetime(2026, 12, 2, 4, 0, tzinfo=dt.UTC)
    assert send_summaries(sync_db, settings, SigningOutbox(COUNTY, key),
                          clock=lambda: moment) == ["2026-11", "2026-12"]
    with sync_db.unit_of_work(write=False) as session:
        rows = list(session.scalars(select(OutboxEnvelope).order_by(OutboxEnvelope.seq)))
    envelopes = [parse_envelope(row.wire) for row in rows]
    assert [(e.seq, e.kind, e.to, e.sender) for e in envelopes] == [
        (1, Kind.SUMMARY, "hub", COUNTY), (2, Kind.SUMMARY, "hub", COUNTY)]


def test_the_scheduler_has_the_workers_jobs(sync_db: Database) -> None:
    settings = _settings(sync_db.url)
    service = SyncService(sync_db, FakeHub(), code=COUNTY)
    scheduler = build_scheduler(sync_db, settings, generate_private_key(), service)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"sync", "case-jobs", "summaries", "calendar-check", "registry"}
    assert jobs["sync"].trigger.interval == dt.timedelta(seconds=60)
    assert jobs["registry"].trigger.interval == dt.timedelta(hours=1)
    assert jobs["calendar-check"].trigger.interval == dt.timedelta(days=1)
    assert jobs["summaries"].trigger.interval == dt.timedelta(minutes=60)
    assert not scheduler.running


def test_the_worker_process_is_alone_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    from node.metadata import load_all_models
    from node.models import Base
    from schemas.runtime.settings import write_config_file, write_secret_key

    home = str(tmp_path)
    write_config_file(home, {**NODE_IDENTITY, "hub_url": "http://127.0.0.1:9",
                             "sync_interval_seconds": 1})
    write_secret_key(home)
    load_all_models()
    db = Database(f"sqlite:///{tmp_path / 'node.db'}")
    Base.metadata.create_all(db.engine)
    db.dispose()
    tongban = str(Path(sys.executable).parent / "tongban")
    subprocess.run([tongban, "node", "keygen", "--home", home], check=True, timeout=60,
                   capture_output=True)
    process = subprocess.Popen([tongban, "node", "worker", "--home", home],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "worker: sync every 1 s" in first
        second = subprocess.run([tongban, "node", "worker", "--home", home], timeout=60,
                                check=False, capture_output=True, text=True)
        assert second.returncode == 1  # one worker per node: the second one refuses at once
        assert f"a worker is already running for this node (pid {process.pid}" in second.stderr
        # wait for a sync attempt (the hub is down): the pull loop's or the push's failure (the
        # sync job only pushes while the pull loop reads the mailbox); readline blocks, so the
        # loop ends at the first failure line, which a working worker logs within seconds
        attempted = ""
        while not attempted and time.monotonic() < deadline:
            line = process.stdout.readline()
            if re.search(r"(sync|push|pull) failed \(1 in a row\)", line):
                attempted = line
        assert "cannot reach the hub" in attempted
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert "worker stopped" in output


class _AuditingHub(FakeHub):
    """A transport that lists the node's audits, as the hub's HTTP API does."""

    def fetch_audits(self) -> list[dict[str, object]]:
        return []


@pytest.mark.parametrize("transport", [FakeHub, _AuditingHub])
def test_the_worker_schedules_every_job_the_features_declare(
    sync_db: Database, transport: type[FakeHub]
) -> None:
    settings = _settings(sync_db.url)
    key = generate_private_key()
    service = SyncService(sync_db, transport(), code=COUNTY)
    declared = NodeServices(settings, key).scheduled_jobs(sync_db, service, Backoff()).jobs()
    scheduler = build_scheduler(sync_db, settings, key, service)
    scheduled = {job.id: (job.name, job.trigger.interval) for job in scheduler.get_jobs()}
    assert scheduled == {job.name: (job.title, job.every) for job in declared}
    assert ("audits" in scheduled) is (transport is _AuditingHub)
    # each feature declares its own: the sync layer, the cases, the calendar, the metrics
    assert {"sync", "registry", "case-jobs", "calendar-check", "summaries"} <= set(scheduled)


def test_two_jobs_of_one_name_are_refused() -> None:
    def job(name: str) -> ScheduledJob:
        return ScheduledJob(name, name, dt.timedelta(minutes=1), lambda: None)

    registry = JobRegistry()
    registry.declare([job("sync"), job("summaries")])
    with pytest.raises(DuplicateJob, match="summaries"):
        registry.declare([job("summaries"), job("other")])
    with pytest.raises(DuplicateJob, match="twice: again"):
        registry.declare([job("again"), job("again")])
    assert [j.name for j in registry.jobs()] == ["sync", "summaries"]
