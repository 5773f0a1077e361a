"""The summary job sends a period's summary only when it changed (issue 15, item 1;
docs/scale.md, "Envelope rates"): an unchanged summary is not sent twice, a changed one is, a
new day's is (the commitment carries the day), one the hub refused is sent again, and
``tongban node send-summaries`` sends at once whatever changed."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from node.composition import NodeServices
from node.metrics.jobs import scheduled_jobs, send_summaries
from node.settings import NodeSettings
from node.sync.models import OutboxEnvelope, OutboxState
from node.sync.outbox import SigningOutbox
from schemas.envelope import parse_envelope
from schemas.keys import generate_private_key
from schemas.runtime.database import Database
from tests.conftest import NODE_IDENTITY
from tests.unit.node.test_audit import append_cases
from tests.unit.node.test_sync_fakes import COUNTY, sync_db

__all__ = ["sync_db"]

# 2026-12-10 10:00 and 11:00 in Asia/Shanghai: one working day, past the previous month's days
TEN = dt.datetime(2026, 12, 10, 2, 0, tzinfo=dt.UTC)
ELEVEN = TEN + dt.timedelta(hours=1)
NEXT_DAY = TEN + dt.timedelta(days=1)


def _settings(database_url: str) -> NodeSettings:
    from node.config import node_settings

    return node_settings({**NODE_IDENTITY, "database_url": database_url, "secret_key": "k" * 32})


def _summaries(db: Database) -> list[tuple[int, str, OutboxState]]:
    """(seq, computed_at, state) of each queued summary, in seq order."""
    with db.unit_of_work(write=False) as session:
        rows = list(session.scalars(select(OutboxEnvelope).order_by(OutboxEnvelope.seq)))
    return [(row.seq, parse_envelope(row.wire).body["computed_at"], row.state) for row in rows]


def test_an_unchanged_summary_is_not_sent_twice_and_a_changed_one_is(sync_db: Database) -> None:
    settings = _settings(sync_db.url)
    outbox = SigningOutbox(COUNTY, generate_private_key())

    def job(moment: dt.datetime) -> list[str]:
        return send_summaries(sync_db, settings, outbox, lambda: moment, only_changed=True)

    assert job(TEN) == ["2026-12"]
    assert job(ELEVEN) == []  # nothing changed within the day: nothing for the hub to verify
    assert len(_summaries(sync_db)) == 1
    append_cases(sync_db, 1)  # the audit chain moved: the summary's anchor changed
    assert job(ELEVEN) == ["2026-12"]
    assert job(ELEVEN) == []
    assert job(NEXT_DAY) == ["2026-12"]  # a new day: the commitment's as_of moved
    assert [computed for _, computed, _ in _summaries(sync_db)] == [
        "2026-12-10T02:00:00+00:00", "2026-12-10T03:00:00+00:00", "2026-12-11T02:00:00+00:00"]


def test_a_summary_the_hub_refused_is_sent_again(sync_db: Database) -> None:
    settings = _settings(sync_db.url)
    outbox = SigningOutbox(COUNTY, generate_private_key())
    assert send_summaries(sync_db, settings, outbox, lambda: TEN, only_changed=True) == ["2026-12"]
    with sync_db.unit_of_work() as session:
        session.execute(update(OutboxEnvelope).values(state=OutboxState.DEAD))
    assert send_summaries(sync_db, settings, outbox, lambda: ELEVEN,
                          only_changed=True) == ["2026-12"]
    assert [state for _, _, state in _summaries(sync_db)] == [OutboxState.DEAD,
                                                               OutboxState.PENDING]


def test_a_closing_month_is_sent_final_then_only_when_it_changes(sync_db: Database) -> None:
    settings = _settings(sync_db.url)
    outbox = SigningOutbox(COUNTY, generate_private_key())
    last_day = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)  # 16:00 in Shanghai
    first_day = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)

    def job(moment: dt.datetime) -> list[str]:
        return send_summaries(sync_db, settings, outbox, lambda: moment, only_changed=True)

    assert job(last_day) == ["2026-11"]
    # the first refresh after the month closed: its final version (the completeness page's)
    assert job(first_day) == ["2026-11", "2026-12"]
    assert job(first_day + dt.timedelta(days=1)) == ["2026-12"]  # November's as_of stays put
    with sync_db.unit_of_work(write=False) as session:
        bodies = [parse_envelope(row.wire).body for row in session.scalars(
            select(OutboxEnvelope).order_by(OutboxEnvelope.seq))]
    assert [(b["period"]["label"], b["final"]) for b in bodies] == [
        ("2026-11", False), ("2026-11", True), ("2026-12", False), ("2026-12", False)]


def test_the_worker_job_skips_unchanged_and_the_command_does_not(sync_db: Database) -> None:
    settings = _settings(sync_db.url)
    key = generate_private_key()
    (job,) = scheduled_jobs(sync_db, settings, SigningOutbox(COUNTY, key))
    assert job.every == dt.timedelta(minutes=settings.summary_refresh_minutes)
    first = job.run()
    assert first
    assert job.run() == []  # the worker's job: unchanged, not sent
    # the command an operator runs sends at once, changed or not
    assert NodeServices(settings, key).send_summaries(sync_db) == first
    assert len(_summaries(sync_db)) == 2 * len(first)

