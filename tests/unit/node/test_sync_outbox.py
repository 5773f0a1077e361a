"""The outbox: an envelope exists iff its change commits; push marks sent, dead or pending."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from node.ports import HubUnavailable
from node.sync.models import OutboxEnvelope, OutboxState, SyncStatus
from node.sync.outbox import emit
from node.sync.service import SyncService
from node.sync.status import status_report
from schemas.envelope import EnvelopeError, Kind, parse_envelope, verify_envelope
from schemas.runtime.database import Database
from tests.unit.node.test_sync_fakes import (
    COUNTY,
    FakeClock,
    FakeHub,
    Federation,
    clock,
    federation,
    sync_db,
)

__all__ = ["clock", "federation", "sync_db"]

BODY = {"directive_id": "12345678-1234-4234-8234-123456789abc", "state": "done",
        "text": "已整改", "replied_by": "admin"}


class Rollback(Exception):
    pass


def _emit(db: Database, federation: Federation, clock: FakeClock, to: str = "450900") -> str:
    with db.unit_of_work() as session:
        envelope = emit(session, kind=Kind.DIRECTIVE_REPLY, to=to, body=BODY, sender=COUNTY,
                        private_key=federation.keys[COUNTY], now=clock())
    return envelope.id


def _rows(db: Database) -> list[OutboxEnvelope]:
    with db.unit_of_work(write=False) as session:
        return list(session.scalars(select(OutboxEnvelope).order_by(OutboxEnvelope.seq)))


def test_emit_in_a_rolled_back_transaction_leaves_nothing(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    def change_that_fails() -> None:
        with sync_db.unit_of_work() as session:
            emit(session, kind=Kind.DIRECTIVE_REPLY, to="450900", body=BODY, sender=COUNTY,
                 private_key=federation.keys[COUNTY], now=clock())
            raise Rollback

    with pytest.raises(Rollback):
        change_that_fails()
    assert _rows(sync_db) == []
    # the seq was rolled back with it: the next committed envelope is seq 1
    _emit(sync_db, federation, clock)
    assert [row.seq for row in _rows(sync_db)] == [1]


def test_emit_in_a_committed_transaction_queues_one_signed_envelope_with_the_next_seq(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    first = _emit(sync_db, federation, clock)
    second = _emit(sync_db, federation, clock)
    rows = _rows(sync_db)
    assert [(row.id, row.seq, row.state) for row in rows] == [
        (first, 1, OutboxState.PENDING), (second, 2, OutboxState.PENDING)]
    envelope = parse_envelope(rows[1].wire)
    verify_envelope(envelope, federation.keys[COUNTY].public_key())
    assert (envelope.kind, envelope.sender, envelope.to, envelope.seq) == (
        Kind.DIRECTIVE_REPLY, COUNTY, "450900", 2)


def test_emit_refuses_a_bad_body_and_the_transaction_stays_usable(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    with pytest.raises(EnvelopeError) as caught, sync_db.unit_of_work() as session:
        emit(session, kind=Kind.DIRECTIVE_REPLY, to="450900", body={**BODY, "state": 1.5},
             sender=COUNTY, private_key=federation.keys[COUNTY], now=clock())
    assert caught.value.code == "float_in_body"
    assert _rows(sync_db) == []


def _service(db: Database, hub: FakeHub, clock: FakeClock, batch: int = 2) -> SyncService:
    return SyncService(db, hub, code=COUNTY, clock=clock, push_batch_size=batch)


def test_push_sends_in_seq_order_in_batches_accepted_and_duplicate_become_sent(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    ids = [_emit(sync_db, federation, clock) for _ in range(3)]
    hub = FakeHub()
    hub.received[ids[1]] = {}  # the hub already has the second (an earlier push's answer lost)
    report = _service(sync_db, hub, clock).push()
    assert hub.posted_batches == [ids[:2], ids[2:]]
    assert (report.sent, report.duplicate, report.dead, report.pending) == (2, 1, 0, 0)
    rows = _rows(sync_db)
    assert {row.state for row in rows} == {OutboxState.SENT}
    assert all(row.sent_at == clock() and row.attempts == 1 for row in rows)
    # pushing again sends nothing
    assert _service(sync_db, hub, clock).push().sent == 0
    assert len(hub.posted_batches) == 2


def test_push_puts_a_rejected_envelope_on_the_dead_letter_list_with_the_hubs_reason(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    good, bad = _emit(sync_db, federation, clock), _emit(sync_db, federation, clock)
    hub = FakeHub()
    hub.reject[bad] = "revoked"
    report = _service(sync_db, hub, clock).push()
    assert (report.sent, report.dead) == (1, 1)
    states = {row.id: (row.state, row.hub_reason, row.last_error) for row in _rows(sync_db)}
    assert states[good] == (OutboxState.SENT, None, None)
    assert states[bad] == (OutboxState.DEAD, "revoked", "refused: revoked")
    # a dead letter is not pushed again
    _service(sync_db, hub, clock).push()
    assert hub.posted_batches == [[good, bad]]


def test_push_on_a_network_error_leaves_envelopes_pending_and_counts_attempts(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    ids = [_emit(sync_db, federation, clock) for _ in range(2)]
    hub = FakeHub()
    hub.down = True
    service = _service(sync_db, hub, clock)
    for _ in range(2):
        with pytest.raises(HubUnavailable):
            service.push()
    rows = _rows(sync_db)
    assert [(row.state, row.attempts) for row in rows] == [(OutboxState.PENDING, 2)] * 2
    assert all("fake hub is down" in (row.last_error or "") for row in rows)
    with sync_db.unit_of_work(write=False) as session:
        status = session.get(SyncStatus, 1)
        assert status is not None
        assert status.last_push_at is None
        assert "fake hub is down" in (status.last_error or "")
        clock.advance(seconds=90)
        report = status_report(session, clock())
    assert (report["pending_count"], report["oldest_pending_age_seconds"]) == (2, 90)
    hub.down = False
    assert service.push().sent == 2
    assert [row.id for row in _rows(sync_db) if row.state is OutboxState.SENT] == ids
    assert [row.attempts for row in _rows(sync_db)] == [3, 3]
