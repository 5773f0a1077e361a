"""No poison messages (issue 16, item 10): an envelope a node cannot read or apply is set aside
as a dead letter with its reason, the mailbox is acknowledged past it, and the rest of the mail
goes on, in order per sender; the status API, the admin's sync page and /healthz show it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import orjson
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from node.auth.permissions import Role
from node.sync.models import InboxEnvelope, InboxState, RefusedEnvelope, SyncStatus
from node.sync.service import SyncService
from schemas.envelope import Envelope, Kind
from schemas.runtime.database import Database
from tests.oversized import oversized_catalog_publish
from tests.page_scan import page_problems
from tests.unit.node.conftest import Api
from tests.unit.node.test_pages_read_chinese import name_everyone
from tests.unit.node.test_sync_fakes import (
    CITY,
    COUNTY,
    T0,
    FakeClock,
    FakeHub,
    Federation,
    clock,
    federation,
    sync_db,
)
from tests.unit.node.test_web import log_in

__all__ = ["clock", "federation", "sync_db"]


class Recorder:
    def __init__(self) -> None:
        self.applied: list[tuple[str, int]] = []

    def __call__(self, _session: Session, envelope: Envelope) -> None:
        self.applied.append((envelope.sender, envelope.seq))


def _service(db: Database, hub: FakeHub, clock: FakeClock, federation: Federation,
             recorder: Recorder, **handlers: Any) -> SyncService:
    return SyncService(db, hub, code=COUNTY, root_public_key=federation.root_public_key,
                       clock=clock, handlers={Kind.DIRECTIVE: recorder, **handlers})


def _poison(federation: Federation, seq: int) -> Envelope:
    federation.seqs[CITY] = max(seq, federation.seqs.get(CITY, 0))
    return oversized_catalog_publish(federation.keys[CITY], sender=CITY, seq=seq, ts=T0)


def _status(db: Database) -> SyncStatus:
    with db.unit_of_work(write=False) as session:
        status = session.get(SyncStatus, 1)
        assert status is not None
        session.expunge(status)
        return status


def test_an_oversized_mailbox_item_is_set_aside_and_later_mail_applies(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    hub, recorder = FakeHub(federation.registry()), Recorder()
    service = _service(sync_db, hub, clock, federation, recorder)
    hub.deliver(federation.envelope(CITY, seq=1).to_wire())
    service.pull()  # the city is known here: its next envelope must follow seq 1
    poison = _poison(federation, seq=2)
    hub.deliver(poison.to_wire(), prev_seq=1)
    hub.deliver(federation.envelope(CITY, seq=3).to_wire(), prev_seq=2)
    report = service.pull()
    assert (report.refused, report.applied, report.held) == (1, 1, 0)
    assert recorder.applied == [(CITY, 1), (CITY, 3)]  # no hour-long wait for seq 2
    assert hub.acked == 3
    with sync_db.unit_of_work(write=False) as session:
        (letter,) = session.scalars(select(RefusedEnvelope))
        assert (letter.envelope_id, letter.sender, letter.kind, letter.seq, letter.code) == (
            poison.id, CITY, "catalog.publish", 2, "too_large")
        assert "1048576" in letter.message
    last_error = _status(sync_db).last_error or ""
    assert "too_large" in last_error
    assert poison.id in last_error
    # the next pull is quiet: nothing is retried
    assert service.pull().refused == 0


def test_an_unreadable_envelope_in_the_inbox_is_set_aside_and_the_sync_goes_on(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    """An inbox row that an older version stored under looser limits (issue 16: every
    sync-now then exited 1 with too_large and later mail stayed held)."""
    hub, recorder = FakeHub(federation.registry()), Recorder()
    service = _service(sync_db, hub, clock, federation, recorder)
    hub.deliver(federation.envelope(CITY, seq=1).to_wire())
    service.pull()
    poison = _poison(federation, seq=2)
    with sync_db.unit_of_work() as session:
        session.add(InboxEnvelope(
            id=poison.id, sender=CITY, seq=2, kind="catalog.publish",
            wire=orjson.dumps(poison.to_wire()).decode(), state=InboxState.HELD,
            mailbox_cursor=2, prev_seq=1, received_at=clock()))
    later = federation.envelope(CITY, seq=3)
    hub.deliver(poison.to_wire(), prev_seq=1)  # the hub's copy of it is refused on receipt
    hub.deliver(later.to_wire(), prev_seq=2)
    report = service.pull()  # raised EnvelopeError before
    assert report.applied == 1
    assert recorder.applied == [(CITY, 1), (CITY, 3)]
    with sync_db.unit_of_work(write=False) as session:
        row = session.get(InboxEnvelope, poison.id)
        assert row is not None
        assert row.state is InboxState.FAILED
        assert (row.error or "").startswith("too_large: ")
    assert "too_large" in (_status(sync_db).last_error or "")


def test_a_handler_that_breaks_on_one_envelope_does_not_stop_the_others(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    applied: list[int] = []

    def brittle(_session: Session, envelope: Envelope) -> None:
        if envelope.seq == 2:
            raise KeyError("matters")  # a bug meeting an odd body: not a TongbanError
        applied.append(envelope.seq)

    hub = FakeHub(federation.registry())
    for seq in (1, 2, 3):
        hub.deliver(federation.envelope(CITY, seq=seq).to_wire())
    report = SyncService(sync_db, hub, code=COUNTY, root_public_key=federation.root_public_key,
                         clock=clock, handlers={Kind.DIRECTIVE: brittle}).pull()
    assert applied == [1, 3]
    assert (report.applied, report.failed) == (2, 1)
    assert "handler_error: KeyError" in (_status(sync_db).last_error or "")


# -- what an administrator sees ------------------------------------------------------------


def _poison_the_app(db: Database, federation: Federation) -> tuple[Envelope, Envelope]:
    clock = FakeClock(dt.datetime.now(dt.UTC))
    hub, recorder = FakeHub(federation.registry()), Recorder()
    poison = _poison(federation, seq=1)
    later = federation.envelope(CITY, seq=2)
    hub.deliver(poison.to_wire())
    hub.deliver(later.to_wire(), prev_seq=1)
    _service(db, hub, clock, federation, recorder).pull()
    assert recorder.applied == [(CITY, 2)]
    return poison, later


def test_the_status_api_lists_the_dead_letter_and_the_last_error(
    admin: Api, db: Database, federation: Federation
) -> None:
    clean = admin.get("/api/v1/sync/status").json
    assert (clean["dead_letter_count"], clean["incoming_dead_letters"]) == (0, [])
    poison, _later = _poison_the_app(db, federation)
    status = admin.get("/api/v1/sync/status").json
    assert status["dead_letter_count"] == 1
    (letter,) = status["incoming_dead_letters"]
    assert (letter["id"], letter["sender"], letter["kind"], letter["stage"],
            letter["reason"]) == (poison.id, CITY, "catalog.publish", "receive", "too_large")
    assert letter["at"] is not None
    assert "too_large" in status["last_error"]
    assert status["last_error_at"] is not None


def test_healthz_shows_dead_letters_and_the_last_error(
    client: FlaskClient, db: Database, federation: Federation
) -> None:
    before = client.get("/healthz").json["sync"]
    assert before == {"dead_letters": 0, "last_error": None, "last_error_at": None}
    poison, _later = _poison_the_app(db, federation)
    after = client.get("/healthz").json
    assert after["sync"]["dead_letters"] == 1
    assert poison.id in after["sync"]["last_error"]
    assert after["sync"]["last_error_at"] is not None


def test_the_admin_sync_page_shows_the_dead_letter_in_chinese(
    client: FlaskClient, db: Database, federation: Federation,
    make_user: Callable[..., Api],
) -> None:
    make_user(Role.ADMIN, username="boss")
    assert log_in(client, "boss").status_code == 302
    empty = client.get("/staff/admin/sync").get_data(as_text=True)
    assert '<div class="value" id="dead-letter-count">0</div>' in empty
    assert '<p id="last-error">无。</p>' in empty
    _poison_the_app(db, federation)
    page = client.get("/staff/admin/sync").get_data(as_text=True)
    assert '<div class="value" id="dead-letter-count">1</div>' in page
    assert "死信" in page
    assert "最近错误" in page
    assert "事项目录发布" in page
    assert "超过大小限制（1 MB）" in page
    assert 'id="last-error">' in page
    # the wire's reason is said in Chinese by its code, the sender by its name; the code and
    # the English text stay in the status API and /healthz (the tests above)
    assert "从枢纽接收失败（超过大小限制（1 MB））" in page
    assert f"未登记名称的中心（{CITY}）" in page
    assert "too_large" not in page
    name_everyone(db)
    assert page_problems(client.get("/staff/admin/sync").get_data(as_text=True)) == []


def test_an_english_wire_reason_reaches_no_page(
    client: FlaskClient, db: Database, make_user: Callable[..., Api],
) -> None:
    """A push the hub refused: the admin's pages say what failed and why in Chinese (the
    reason's code mapped), never the hub's English sentence, its address or the key's id."""
    with db.unit_of_work() as session:
        status = session.get(SyncStatus, 1) or SyncStatus(id=1)
        session.add(status)
        status.last_error = ("push: the hub refused POST /api/v1/envelopes (401 unknown_key): "
                             "no certificate of 450000 holds key 9add6d8cdcc84598")
        status.last_error_at = dt.datetime.now(dt.UTC)
    make_user(Role.ADMIN, username="boss")
    name_everyone(db)
    assert log_in(client, "boss").status_code == 302
    page = client.get("/staff/admin/sync").get_data(as_text=True)
    assert "向枢纽上传失败（发件方密钥未知）" in page
    assert page_problems(page) == [], page_problems(page)
    home = client.get("/staff/admin").get_data(as_text=True)
    assert page_problems(home) == [], page_problems(home)
