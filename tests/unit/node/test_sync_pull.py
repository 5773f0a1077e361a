"""Pull: verify with the cached registry, store once, apply per sender in seq order."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from node.ports import HubUnavailable, SyncError
from node.sync.models import (
    InboxEnvelope,
    InboxState,
    RefusedEnvelope,
    SenderProgress,
    SyncStatus,
)
from node.sync.reports import is_addressed_to
from node.sync.service import SyncService
from schemas.envelope import Envelope, Kind
from schemas.runtime.database import Database
from tests.unit.node.test_sync_fakes import (
    CITY,
    COUNTY,
    OTHER_COUNTY,
    PROVINCE,
    FakeClock,
    FakeHub,
    Federation,
    clock,
    federation,
    sync_db,
)

__all__ = ["clock", "federation", "sync_db"]


class Recorder:
    """A directive handler that records what it applied, in order."""

    def __init__(self) -> None:
        self.applied: list[tuple[str, int]] = []

    def __call__(self, _session: Session, envelope: Envelope) -> None:
        self.applied.append((envelope.sender, envelope.seq))


def _service(db: Database, hub: FakeHub, clock: FakeClock, federation: Federation,
             recorder: Recorder | None = None, **kwargs: Any) -> SyncService:
    handlers = {Kind.DIRECTIVE: recorder} if recorder else None
    return SyncService(db, hub, code=COUNTY, root_public_key=federation.root_public_key,
                       clock=clock, handlers=handlers, **kwargs)


def _inbox(db: Database) -> dict[tuple[str, int], InboxState]:
    with db.unit_of_work(write=False) as session:
        return {(row.sender, row.seq): row.state for row in session.scalars(
            select(InboxEnvelope))}


def _refused(db: Database) -> list[tuple[str | None, str]]:
    with db.unit_of_work(write=False) as session:
        return [(row.envelope_id, row.code) for row in session.scalars(
            select(RefusedEnvelope).order_by(RefusedEnvelope.id))]


def test_out_of_order_envelopes_are_held_until_the_gap_fills_then_applied_in_order(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    service = _service(sync_db, hub, clock, federation, recorder)
    first, second, third, fourth = (federation.envelope(CITY, seq=n) for n in (1, 2, 3, 4))
    for envelope in (first, third, fourth):
        hub.deliver(envelope.to_wire())
    report = service.pull()
    assert (report.received, report.applied, report.held) == (3, 1, 1)
    assert recorder.applied == [(CITY, 1)]
    assert _inbox(sync_db) == {(CITY, 1): InboxState.APPLIED, (CITY, 3): InboxState.HELD,
                               (CITY, 4): InboxState.HELD}
    assert hub.acked == 3
    hub.deliver(second.to_wire())
    report = service.pull()
    assert recorder.applied == [(CITY, 1), (CITY, 2), (CITY, 3), (CITY, 4)]
    assert set(_inbox(sync_db).values()) == {InboxState.APPLIED}
    with sync_db.unit_of_work(write=False) as session:
        progress = session.get(SenderProgress, CITY)
        status = session.get(SyncStatus, 1)
        assert progress is not None
        assert progress.last_applied_seq == 4
        assert status is not None
        assert (status.mailbox_cursor, status.last_pull_at) == (4, clock())


def test_senders_are_ordered_independently(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    hub.deliver(federation.envelope(CITY, seq=1).to_wire())
    hub.deliver(federation.envelope(CITY, seq=3).to_wire())
    hub.deliver(federation.envelope(PROVINCE, seq=7, to=COUNTY).to_wire())
    _service(sync_db, hub, clock, federation, recorder).pull()
    assert sorted(recorder.applied) == [(PROVINCE, 7), (CITY, 1)]


def test_a_gap_that_never_fills_is_skipped_after_the_hold_time(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    # a sender's seq counts everything it sends: what went to others never comes here
    hub, recorder = FakeHub(federation.registry()), Recorder()
    service = _service(sync_db, hub, clock, federation, recorder)
    hub.deliver(federation.envelope(CITY, seq=1).to_wire())
    hub.deliver(federation.envelope(CITY, seq=5).to_wire())
    service.pull()
    assert recorder.applied == [(CITY, 1)]
    clock.advance(minutes=61)
    service.pull()
    assert recorder.applied == [(CITY, 1), (CITY, 5)]


def test_a_gap_the_hub_says_went_elsewhere_is_not_waited_for(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    service = _service(sync_db, hub, clock, federation, recorder)
    hub.deliver(federation.envelope(CITY, seq=1).to_wire(), prev_seq=0)
    hub.deliver(federation.envelope(CITY, seq=5).to_wire(), prev_seq=1)  # 2-4 went to others
    hub.deliver(federation.envelope(CITY, seq=9).to_wire(), prev_seq=7)  # 7 is missing here

    report = service.pull()

    assert recorder.applied == [(CITY, 1), (CITY, 5)]
    assert report.held == 1
    hub.deliver(federation.envelope(CITY, seq=7).to_wire(), prev_seq=5)
    service.pull()
    assert recorder.applied == [(CITY, 1), (CITY, 5), (CITY, 7), (CITY, 9)]


@pytest.mark.parametrize("bogus", [-1, 5, 9, True, "3", None])
def test_a_prev_seq_that_cannot_be_right_is_ignored(
    sync_db: Database, federation: Federation, clock: FakeClock, bogus: Any
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    service = _service(sync_db, hub, clock, federation, recorder)
    hub.deliver(federation.envelope(CITY, seq=1).to_wire())
    hub.mailbox.append({"cursor": 2, "envelope": federation.envelope(CITY, seq=5).to_wire(),
                        "prev_seq": bogus})

    service.pull()

    assert recorder.applied == [(CITY, 1)]  # held: the gap is waited for as before


def test_a_duplicate_delivery_is_stored_and_applied_once(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    service = _service(sync_db, hub, clock, federation, recorder)
    envelope = federation.envelope(CITY, seq=1)
    hub.deliver(envelope.to_wire())
    hub.deliver(envelope.to_wire())
    report = service.pull()
    assert (report.received, report.duplicate, report.applied) == (1, 1, 1)
    hub.deliver(envelope.to_wire())
    report = service.pull()
    assert (report.received, report.duplicate, report.applied) == (0, 1, 0)
    service.apply_held()  # applying again changes nothing
    assert recorder.applied == [(CITY, 1)]
    assert _inbox(sync_db) == {(CITY, 1): InboxState.APPLIED}


def test_a_replayed_seq_under_a_new_id_is_not_applied(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    service = _service(sync_db, hub, clock, federation, recorder)
    hub.deliver(federation.envelope(CITY, seq=1).to_wire())
    service.pull()
    hub.deliver(federation.envelope(CITY, seq=1, text="again").to_wire())
    report = service.pull()
    assert (report.received, report.applied, report.failed) == (1, 0, 1)
    assert recorder.applied == [(CITY, 1)]


@pytest.mark.parametrize("tamper", ["body", "signature", "sender_key"])
def test_a_tampered_envelope_is_refused_recorded_and_never_applied(
    sync_db: Database, federation: Federation, clock: FakeClock, tamper: str
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    envelope = federation.envelope(CITY, seq=1)
    wire = copy.deepcopy(envelope.to_wire())  # to_wire shares the body with the envelope
    if tamper == "body":
        wire["body"]["text"] = "改过的内容"
    elif tamper == "signature":
        other = federation.envelope(CITY, seq=1)
        wire["sig"] = other.sig
    else:  # signed by the other county's key, claiming to be the city
        forged = dataclasses.replace(envelope, key_id=federation.envelope(OTHER_COUNTY).key_id)
        wire = forged.to_wire()
    hub.deliver(wire)
    report = _service(sync_db, hub, clock, federation, recorder).pull()
    assert (report.received, report.refused, report.applied) == (0, 1, 0)
    assert recorder.applied == []
    assert _inbox(sync_db) == {}
    refused = _refused(sync_db)
    assert len(refused) == 1
    assert refused[0][0] == envelope.id
    assert refused[0][1] in {"bad_signature", "unknown_key"}
    # the genuine copy still gets through afterwards
    hub.deliver(envelope.to_wire())
    _service(sync_db, hub, clock, federation, recorder).pull()
    assert recorder.applied == [(CITY, 1)]


def test_malformed_and_misrouted_items_are_refused(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    hub.deliver({"v": 1, "id": "nonsense"})
    elsewhere = federation.envelope(CITY, seq=1, to=OTHER_COUNTY)
    hub.deliver(elsewhere.to_wire())
    report = _service(sync_db, hub, clock, federation, recorder).pull()
    assert report.refused == 2
    assert _refused(sync_db) == [("nonsense", "malformed"), (elsewhere.id, "misrouted")]
    assert recorder.applied == []


def test_the_cached_registry_verifies_while_the_hub_registry_is_down(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    hub.deliver(federation.envelope(CITY, seq=1).to_wire())
    _service(sync_db, hub, clock, federation, recorder).pull()
    assert hub.registry_fetches == 1

    class RegistryDown(FakeHub):
        def fetch_registry(self) -> dict[str, Any]:
            raise HubUnavailable("registry unavailable")

    later = RegistryDown()
    later.mailbox = list(hub.mailbox)
    later.deliver(federation.envelope(CITY, seq=2).to_wire())
    # a fresh service (a restarted worker) has only the database's cache
    _service(sync_db, later, clock, federation, recorder).pull()
    assert recorder.applied == [(CITY, 1), (CITY, 2)]


def test_an_envelope_is_kept_not_refused_when_the_registry_cannot_be_fetched(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    # found by the fault suite: a relay cutting the registry's answer made the first
    # envelope of a node with no cached registry a permanent refusal -- lost
    class RegistryDown(FakeHub):
        def fetch_registry(self) -> dict[str, Any]:
            raise HubUnavailable("registry unavailable")

    down, recorder = RegistryDown(), Recorder()
    down.deliver(federation.envelope(CITY, seq=1).to_wire())
    with pytest.raises(SyncError):
        _service(sync_db, down, clock, federation, recorder).pull()
    assert _refused(sync_db) == []
    assert _inbox(sync_db) == {}

    hub = FakeHub(federation.registry())
    hub.mailbox = list(down.mailbox)
    _service(sync_db, hub, clock, federation, recorder).pull()
    assert recorder.applied == [(CITY, 1)]


def test_an_unknown_sender_key_triggers_one_registry_refresh(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    service = _service(sync_db, hub, clock, federation, recorder)
    hub.deliver(federation.envelope(CITY, seq=1).to_wire())
    service.pull()
    # the city rotates its key: the new certificate is in the hub's newer registry only
    from schemas.keys import generate_private_key
    from tests.unit.node.test_sync_fakes import certify

    federation.keys[CITY] = generate_private_key()
    certify(federation.store, PROVINCE, federation.keys[PROVINCE], CITY, "city", None,
            federation.keys[CITY])
    hub.registry = federation.registry()
    hub.deliver(federation.envelope(CITY, seq=2).to_wire())
    service.pull()
    assert recorder.applied == [(CITY, 1), (CITY, 2)]
    assert hub.registry_fetches == 2


def test_a_refusing_handler_marks_the_envelope_failed_and_the_sender_moves_on(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    applied: list[int] = []

    def handler(session: Session, envelope: Envelope) -> None:
        if envelope.seq == 1:
            raise SyncError("no such case here")
        applied.append(envelope.seq)

    hub = FakeHub(federation.registry())
    for seq in (1, 2):
        hub.deliver(federation.envelope(CITY, seq=seq).to_wire())
    SyncService(sync_db, hub, code=COUNTY, root_public_key=federation.root_public_key,
                clock=clock, handlers={Kind.DIRECTIVE: handler}).pull()
    assert applied == [2]
    assert _inbox(sync_db) == {(CITY, 1): InboxState.FAILED, (CITY, 2): InboxState.APPLIED}


def test_pull_on_a_network_error_is_recorded_and_raised(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub = FakeHub(federation.registry())
    hub.down = True
    with pytest.raises(HubUnavailable):
        _service(sync_db, hub, clock, federation).pull()
    with sync_db.unit_of_work(write=False) as session:
        status = session.get(SyncStatus, 1)
        assert status is not None
        assert status.last_pull_at is None
        assert (status.last_error or "").startswith("pull:")


def test_the_root_key_is_pinned_from_the_first_registry_when_not_configured(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    hub.deliver(federation.envelope(CITY, seq=1).to_wire())
    SyncService(sync_db, hub, code=COUNTY, clock=clock,
                handlers={Kind.DIRECTIVE: recorder}).pull()
    assert recorder.applied == [(CITY, 1)]
    with sync_db.unit_of_work(write=False) as session:
        status = session.get(SyncStatus, 1)
        assert status is not None
        assert status.root_public_key == federation.root_public_key


def test_fan_out_addresses_every_descendant() -> None:
    federation_ = __import__("tests.unit.node.test_sync_fakes", fromlist=["x"]).make_federation()
    publish = federation_.envelope(CITY, seq=1)
    assert is_addressed_to(publish, COUNTY)
    subtree = dataclasses.replace(publish, to=f"{CITY}/*")
    assert is_addressed_to(subtree, COUNTY)
    assert is_addressed_to(subtree, "450981100")  # a township below
    assert not is_addressed_to(subtree, CITY)
    assert not is_addressed_to(subtree, "450100")
