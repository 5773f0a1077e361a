"""calendar.publish at the nodes: the province signs a year it imported, a descendant adopts
it when it pulls (newest version wins whatever the order), and a schedule from anyone but
the province is refused with ``not_trust_root``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from node.calendar.models import CalendarSchedule, ScheduleSource
from node.calendar.publishing import envelope_handlers, publish_calendar
from node.calendar.schedules import read_json_schedule
from node.calendar.service import CalendarService
from node.cases.recompute import recompute_open_cases
from node.sync.models import InboxEnvelope, InboxState, OutboxEnvelope
from node.sync.outbox import SigningOutbox
from node.sync.service import SyncService
from schemas.envelope import Envelope, Kind, parse_envelope, sign_envelope
from schemas.errors import Conflict
from schemas.runtime.database import Database
from tests.unit.node.test_calendar_schedules import changing
from tests.unit.node.test_sync_fakes import (
    CITY,
    COUNTY,
    PROVINCE,
    T0,
    FakeClock,
    FakeHub,
    Federation,
    clock,
    federation,
    sync_db,
)

__all__ = ["clock", "federation", "sync_db"]

DEMO_2027 = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "holidays-2027-demo.json"


def body(version: int, **changes: Any) -> dict[str, Any]:
    document = json.loads(DEMO_2027.read_text(encoding="utf-8"))
    document.update({"version": version, "published_at": T0.isoformat(), **changes})
    return document


def signed(federation: Federation, sender: str, version: int, seq: int, **changes: Any
           ) -> Envelope:
    return sign_envelope(kind=Kind.CALENDAR_PUBLISH, sender=sender, to=f"{sender}/*", seq=seq,
                         body=body(version, **changes), private_key=federation.keys[sender],
                         ts=T0)


def service(db: Database, hub: FakeHub, clock: FakeClock, federation: Federation
            ) -> SyncService:
    return SyncService(db, hub, code=COUNTY, root_public_key=federation.root_public_key,
                       clock=clock, handlers=envelope_handlers(COUNTY, recompute_open_cases, clock))


def held_2027(db: Database) -> tuple[ScheduleSource, int, str] | None:
    with db.sessions() as session:
        row = session.get(CalendarSchedule, 2027)
        return (row.source, row.version, row.publisher or "") if row else None


def test_the_province_publishes_only_a_year_it_imported(sync_db: Database) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    with sync_db.unit_of_work() as session, pytest.raises(Conflict, match="尚未导入"):
        publish_calendar(session, outbox=SigningOutbox(PROVINCE, key), year=2027, actor="admin")
    with sync_db.unit_of_work() as session, pytest.raises(Conflict, match="省级"):
        publish_calendar(session, outbox=SigningOutbox(CITY, key), year=2027, actor="admin")
    with sync_db.unit_of_work() as session:
        changing(session).import_schedule(
            read_json_schedule(DEMO_2027.read_bytes(), 2027), "admin", province=True)
        envelope_id = publish_calendar(session, outbox=SigningOutbox(PROVINCE, key),
                                       year=2027, actor="admin")
    with sync_db.sessions() as session:
        row = session.get(OutboxEnvelope, envelope_id)
        assert row is not None
        envelope = parse_envelope(row.wire)
    assert (envelope.kind, envelope.to) == (Kind.CALENDAR_PUBLISH, "450000/*")
    assert envelope.body["version"] == 1
    assert len(envelope.body["days"]) == 38


def test_a_descendant_adopts_the_newest_version_whatever_order_they_arrive_in(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub = FakeHub(federation.registry())
    sync = service(sync_db, hub, clock, federation)
    assert sync.handlers[Kind.CALENDAR_PUBLISH].__name__ == "adopt_published_calendar"
    newer = signed(federation, PROVINCE, 2, seq=1)
    older = signed(federation, PROVINCE, 1, seq=2, days=body(1)["days"][:3])
    hub.deliver(newer.to_wire())
    hub.deliver(older.to_wire(), prev_seq=1)
    report = sync.pull()
    assert report.applied == 2
    assert held_2027(sync_db) == (ScheduleSource.PUBLISHED, 2, PROVINCE)
    with sync_db.sessions() as session:
        days = CalendarService(session).schedule(2027)
        assert days is not None
        assert len(days.days) == 38  # not the three days of version 1
    # the same version again changes nothing; a newer one replaces it
    hub.deliver(signed(federation, PROVINCE, 3, seq=3, source="国办发明电〔2026〕更正").to_wire(),
                prev_seq=2)
    sync.pull()
    assert held_2027(sync_db) == (ScheduleSource.PUBLISHED, 3, PROVINCE)


def test_a_local_import_gives_way_to_the_province_and_cannot_replace_it(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    with sync_db.unit_of_work() as session:
        changing(session).import_schedule(
            read_json_schedule(DEMO_2027.read_bytes(), 2027), "admin")
    assert held_2027(sync_db) == (ScheduleSource.IMPORTED, 1, "")
    hub = FakeHub(federation.registry())
    hub.deliver(signed(federation, PROVINCE, 1, seq=1).to_wire())
    service(sync_db, hub, clock, federation).pull()
    assert held_2027(sync_db) == (ScheduleSource.PUBLISHED, 1, PROVINCE)
    with sync_db.unit_of_work() as session, pytest.raises(Conflict, match="省级下发"):
        changing(session).import_schedule(
            read_json_schedule(DEMO_2027.read_bytes(), 2027), "admin")


def test_a_schedule_from_the_city_is_refused_as_not_trust_root(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub = FakeHub(federation.registry())
    from_city = signed(federation, CITY, 5, seq=1)
    hub.deliver(from_city.to_wire())
    report = service(sync_db, hub, clock, federation).pull()
    assert (report.applied, report.failed) == (0, 1)
    with sync_db.sessions() as session:
        row = session.scalar(select(InboxEnvelope).where(InboxEnvelope.id == from_city.id))
        assert row is not None
        assert row.state is InboxState.FAILED
        assert "only the province 450000 (the trust root)" in (row.error or "")
    assert held_2027(sync_db) is None
