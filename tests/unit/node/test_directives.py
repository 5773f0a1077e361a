"""Directives (督办): issued down the tree in a signed envelope, answered back up."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import node.app as node_app
from node.auth.permissions import Role
from node.directives import models as _directive_models  # noqa: F401 - registers the table
from node.directives.models import Directive, DirectiveDirection, DirectiveState
from node.directives.service import (
    DirectiveRefused,
    DirectiveService,
    directive_reply_handler,
    handle_directive,
)
from node.metadata import load_all_models
from node.models import Base
from node.sync.models import InboxState, OutboxEnvelope
from node.sync.names import RegistryCenterNames
from node.sync.outbox import SigningOutbox
from node.sync.service import SyncService
from schemas.envelope import Envelope, Kind, parse_envelope, sign_envelope, verify_envelope
from schemas.errors import Conflict, Forbidden, NotFound, TongbanError, ValidationFailed
from schemas.runtime.database import Database
from tests.conftest import PG_URL
from tests.databases import Templates
from tests.unit.node.conftest import Api
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

TOWNSHIP = "450981001"
DUE = dt.date(2026, 12, 10)

# the reply handler as the composition root wires it, on the names this test database holds
handle_directive_reply = directive_reply_handler(RegistryCenterNames("", ""))


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def target_db(database_url: str, tmp_path: Path, templates: Templates) -> Iterator[Database]:
    """A second database of the same kind: the target center's, with the node's tables (from
    the template, as the test's own database: tests/databases.py)."""
    with contextlib.ExitStack() as lent:
        if database_url.startswith("sqlite"):
            templates.copy_sqlite("node", tmp_path / "target.db")
            url = f"sqlite:///{tmp_path / 'target.db'}"
        else:
            url = lent.enter_context(templates.postgresql_schema(PG_URL, "node"))
        load_all_models()
        db = Database(url)
        Base.metadata.create_all(db.engine)  # a no-op: the template's tables are there
        yield db
        db.dispose()


def _service(session: Session, federation: Federation, code: str,
             clock: FakeClock) -> DirectiveService:
    return DirectiveService(session, outbox=SigningOutbox(code, federation.keys[code]),
                            names=RegistryCenterNames(code, ""), clock=clock)


def _outbox(db: Database) -> list[Envelope]:
    with db.unit_of_work(write=False) as session:
        return [parse_envelope(orjson.loads(row.wire)) for row in session.scalars(
            select(OutboxEnvelope).order_by(OutboxEnvelope.seq))]


def _issue(db: Database, federation: Federation, clock: FakeClock, target: str = COUNTY,
           issuer: str = CITY, **kwargs: Any) -> str:
    kwargs.setdefault("subject", "text")
    kwargs.setdefault("text", "请说明超时原因")
    with db.unit_of_work() as session:
        directive = _service(session, federation, issuer, clock).issue(
            "cityadmin", target, due_on=DUE, **kwargs)
        return directive.directive_id


def _apply(db: Database, handler: Callable[[Session, Envelope], None],
           envelope: Envelope) -> None:
    with db.unit_of_work() as session:
        handler(session, envelope)


def _rows(db: Database) -> list[dict[str, Any]]:
    with db.unit_of_work(write=False) as session:
        return [{c.name: getattr(row, c.name) for c in Directive.__table__.columns}
                for row in session.scalars(select(Directive).order_by(Directive.id))]


# -- issuing --------------------------------------------------------------------------------


def test_issue_stores_a_sent_row_and_queues_a_signed_envelope_to_the_target(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    directive_id = _issue(sync_db, federation, clock, subject="case",
                          case_number="450981-2026-0000001", text="请加快办理")
    [envelope] = _outbox(sync_db)
    assert (envelope.kind, envelope.sender, envelope.to) == (Kind.DIRECTIVE, CITY, COUNTY)
    assert envelope.body == {
        "directive_id": directive_id, "subject": "case", "case_number": "450981-2026-0000001",
        "metric": None, "text": "请加快办理", "due_on": "2026-12-10", "issued_by": "cityadmin",
    }
    verify_envelope(envelope, federation.keys[CITY].public_key())
    [row] = _rows(sync_db)
    assert row["direction"] is DirectiveDirection.OUTGOING
    assert row["state"] is DirectiveState.SENT
    assert (row["issuer_node"], row["target_node"], row["due_on"]) == (CITY, COUNTY, DUE)
    assert row["issued_at"] == clock()


def test_a_province_may_direct_any_level_below_it(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    _issue(sync_db, federation, clock, target=TOWNSHIP, issuer=PROVINCE, subject="metric",
           metric="on_time_rate", text="")
    [envelope] = _outbox(sync_db)
    assert (envelope.to, envelope.body["metric"]) == (TOWNSHIP, "on_time_rate")


@pytest.mark.parametrize("target", [CITY, PROVINCE, OTHER_COUNTY.replace("21", "99"),
                                    "440300", "not-a-code"])
def test_a_target_not_below_this_node_is_refused_and_nothing_is_emitted(
    sync_db: Database, federation: Federation, clock: FakeClock, target: str
) -> None:
    with pytest.raises(ValidationFailed) as refused, sync_db.unit_of_work() as session:
        # the county is the issuer here: its parent and siblings are not below it
        _service(session, federation, COUNTY, clock).issue(
            "admin", target, "text", "x", DUE)
    assert "target" in refused.value.details["fields"]
    assert _outbox(sync_db) == []
    assert _rows(sync_db) == []


def test_a_body_breaking_the_directive_schema_is_refused_with_its_fields(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _issue(sync_db, federation, clock, subject="case")  # no case number
    assert "case_number" in refused.value.details["fields"]
    with pytest.raises(ValidationFailed) as refused:
        _issue(sync_db, federation, clock, subject="text", text="   ")
    assert "text" in refused.value.details["fields"]
    assert _outbox(sync_db) == []
    assert _rows(sync_db) == []


# -- the round trip -------------------------------------------------------------------------


def test_directive_and_reply_travel_between_two_databases(
    sync_db: Database, target_db: Database, federation: Federation, clock: FakeClock
) -> None:
    directive_id = _issue(sync_db, federation, clock)
    [directive_envelope] = _outbox(sync_db)

    _apply(target_db, handle_directive, directive_envelope)
    [incoming] = _rows(target_db)
    assert incoming["direction"] is DirectiveDirection.INCOMING
    assert incoming["state"] is DirectiveState.RECEIVED
    assert (incoming["directive_id"], incoming["issuer_node"], incoming["target_node"]) == \
        (directive_id, CITY, COUNTY)
    assert (incoming["text"], incoming["issued_by"], incoming["due_on"]) == \
        ("请说明超时原因", "cityadmin", DUE)

    # applying it again changes nothing
    _apply(target_db, handle_directive, directive_envelope)
    assert _rows(target_db) == [incoming]

    clock.advance(hours=2)
    with target_db.unit_of_work() as session:
        _service(session, federation, COUNTY, clock).reply(
            directive_id, "in_progress", "已在整改", "countyadmin")
    [reply_envelope] = _outbox(target_db)
    assert (reply_envelope.kind, reply_envelope.sender, reply_envelope.to) == \
        (Kind.DIRECTIVE_REPLY, COUNTY, CITY)
    assert reply_envelope.body == {"directive_id": directive_id, "state": "in_progress",
                                   "text": "已在整改", "replied_by": "countyadmin"}
    verify_envelope(reply_envelope, federation.keys[COUNTY].public_key())
    assert _rows(target_db)[0]["state"] is DirectiveState.IN_PROGRESS

    _apply(sync_db, handle_directive_reply, reply_envelope)
    [outgoing] = _rows(sync_db)
    assert outgoing["state"] is DirectiveState.IN_PROGRESS
    assert (outgoing["reply_text"], outgoing["replied_by"], outgoing["replied_at"]) == \
        ("已在整改", "countyadmin", clock())
    _apply(sync_db, handle_directive_reply, reply_envelope)  # idempotent
    assert _rows(sync_db) == [outgoing]

    # both sides list it with its state
    with sync_db.unit_of_work(write=False) as session:
        [listed] = _service(session, federation, CITY, clock).list(direction="outgoing")
        assert (listed["state"], listed["overdue"]) == ("in_progress", False)
    with target_db.unit_of_work(write=False) as session:
        [listed] = _service(session, federation, COUNTY, clock).list()
        assert (listed["direction"], listed["state"]) == ("incoming", "in_progress")


def test_the_round_trip_through_the_sync_inbox(
    sync_db: Database, target_db: Database, federation: Federation, clock: FakeClock
) -> None:
    """The handlers wired into SyncService: applied in order, a refusal marks it failed."""
    handlers = {Kind.DIRECTIVE: handle_directive, Kind.DIRECTIVE_REPLY: handle_directive_reply}
    hub = FakeHub(federation.registry())
    _issue(sync_db, federation, clock)
    [envelope] = _outbox(sync_db)
    hub.deliver(envelope.to_wire())
    stranger = federation.envelope(OTHER_COUNTY, to=COUNTY)  # a sibling, not an ancestor
    hub.deliver(stranger.to_wire())
    report = SyncService(target_db, hub, code=COUNTY, root_public_key=federation.root_public_key,
                         clock=clock, handlers=handlers).pull()
    assert (report.applied, report.failed) == (1, 1)
    from node.sync.models import InboxEnvelope

    with target_db.unit_of_work(write=False) as session:
        states = {row.sender: (row.state, row.error) for row in session.scalars(
            select(InboxEnvelope))}
    assert states[CITY] == (InboxState.APPLIED, None)
    assert states[OTHER_COUNTY][0] is InboxState.FAILED
    assert "above" in (states[OTHER_COUNTY][1] or "")
    assert [row["issuer_node"] for row in _rows(target_db)] == [CITY]


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("sender", [OTHER_COUNTY, COUNTY])
def test_a_directive_from_a_non_ancestor_is_refused(
    target_db: Database, federation: Federation, sender: str
) -> None:
    envelope = federation.envelope(sender, to=COUNTY)
    with pytest.raises(DirectiveRefused):
        _apply(target_db, handle_directive, envelope)
    assert _rows(target_db) == []


def test_a_directive_from_a_grandparent_is_accepted(
    target_db: Database, federation: Federation
) -> None:
    _apply(target_db, handle_directive, federation.envelope(PROVINCE, to=COUNTY))
    assert [row["issuer_node"] for row in _rows(target_db)] == [PROVINCE]


def test_a_reused_directive_id_from_another_ancestor_is_refused(
    target_db: Database, federation: Federation
) -> None:
    first = federation.envelope(CITY, to=COUNTY)
    _apply(target_db, handle_directive, first)
    forged = sign_envelope(kind=Kind.DIRECTIVE, sender=PROVINCE, to=COUNTY, seq=1,
                           body=first.body, private_key=federation.keys[PROVINCE])
    with pytest.raises(DirectiveRefused):
        _apply(target_db, handle_directive, forged)


def _reply_envelope(federation: Federation, sender: str, directive_id: str,
                    state: str = "done", to: str = CITY) -> Envelope:
    return sign_envelope(kind=Kind.DIRECTIVE_REPLY, sender=sender, to=to, seq=1,
                         body={"directive_id": directive_id, "state": state, "text": "好",
                               "replied_by": "x"},
                         private_key=federation.keys[sender])


def test_a_reply_from_anyone_but_the_target_or_to_an_unknown_directive_is_refused(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    directive_id = _issue(sync_db, federation, clock)
    with pytest.raises(Forbidden):
        _apply(sync_db, handle_directive_reply,
               _reply_envelope(federation, OTHER_COUNTY, directive_id))
    with pytest.raises(NotFound):
        _apply(sync_db, handle_directive_reply,
               _reply_envelope(federation, COUNTY, str(uuid.uuid4())))
    assert _rows(sync_db)[0]["state"] is DirectiveState.SENT
    assert isinstance(Forbidden("x"), TongbanError)


def test_reply_only_to_an_incoming_directive_and_never_after_done(
    sync_db: Database, target_db: Database, federation: Federation, clock: FakeClock
) -> None:
    directive_id = _issue(sync_db, federation, clock)
    # the issuer cannot answer its own directive
    with pytest.raises(NotFound), sync_db.unit_of_work() as session:
        _service(session, federation, CITY, clock).reply(directive_id, "done", "x", "a")
    [envelope] = _outbox(sync_db)
    _apply(target_db, handle_directive, envelope)
    with pytest.raises(ValidationFailed) as refused, target_db.unit_of_work() as session:
        _service(session, federation, COUNTY, clock).reply(directive_id, "sent", "x", "a")
    assert "state" in refused.value.details["fields"]
    with target_db.unit_of_work() as session:
        _service(session, federation, COUNTY, clock).reply(directive_id, "done", "办结", "a")
    with pytest.raises(Conflict), target_db.unit_of_work() as session:
        _service(session, federation, COUNTY, clock).reply(directive_id, "disputed", "", "a")
    assert len(_outbox(target_db)) == 1


# -- listing and overdue --------------------------------------------------------------------


def test_overdue_is_past_the_due_day_and_not_done(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    first = _issue(sync_db, federation, clock)
    second = _issue(sync_db, federation, clock)

    def listed(**filters: Any) -> dict[str, bool]:
        with sync_db.unit_of_work(write=False) as session:
            return {item["directive_id"]: item["overdue"] for item in _service(
                session, federation, CITY, clock).list(**filters)}

    assert listed() == {first: False, second: False}
    clock.now = dt.datetime(2026, 12, 10, 15, 59, tzinfo=dt.UTC)  # 23:59 on the due day
    assert listed() == {first: False, second: False}
    clock.now = dt.datetime(2026, 12, 10, 16, 0, tzinfo=dt.UTC)  # the next day in Shanghai
    assert listed() == {first: True, second: True}
    _apply(sync_db, handle_directive_reply, _reply_envelope(federation, COUNTY, second))
    assert listed() == {first: True, second: False}
    assert listed(state="done") == {second: False}
    assert listed(state="sent", direction="outgoing") == {first: True}
    assert listed(direction="incoming") == {}


def test_an_older_reply_does_not_overwrite_a_newer_one(
    sync_db: Database, federation: Federation, clock: FakeClock
) -> None:
    directive_id = _issue(sync_db, federation, clock)
    body = {"directive_id": directive_id, "text": "", "replied_by": "x"}
    newer = sign_envelope(kind=Kind.DIRECTIVE_REPLY, sender=COUNTY, to=CITY, seq=2,
                          body={**body, "state": "done"}, private_key=federation.keys[COUNTY],
                          ts=clock() + dt.timedelta(hours=2))
    older = sign_envelope(kind=Kind.DIRECTIVE_REPLY, sender=COUNTY, to=CITY, seq=1,
                          body={**body, "state": "acknowledged"},
                          private_key=federation.keys[COUNTY], ts=clock() + dt.timedelta(hours=1))
    _apply(sync_db, handle_directive_reply, newer)
    _apply(sync_db, handle_directive_reply, older)
    assert _rows(sync_db)[0]["state"] is DirectiveState.DONE


# -- the API, with the blueprint registered by this module's own app fixture ----------------


@pytest.fixture
def app(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """The node app with the directives blueprint added (until the lead wires it in)."""
    from node import create_app
    from node.api import directives as directives_api
    from tests.conftest import node_config

    original = node_app.register_blueprints

    def register(api: Any) -> None:
        original(api)
        with contextlib.suppress(ValueError):  # already registered by register_blueprints
            api.register_blueprint(directives_api.blp)

    monkeypatch.setattr(node_app, "register_blueprints", register)
    app = create_app(node_config(database_url, max_content_length=64 * 1024))
    db: Database = app.extensions["tongban_db"]
    Base.metadata.create_all(db.engine)
    yield app
    db.dispose()


def test_the_api_issues_lists_and_replies(
    app: Flask, db: Database, make_user: Callable[..., Api], federation: Federation
) -> None:
    supervisor, viewer, clerk = (make_user(role) for role in (Role.SUPERVISOR, Role.VIEWER,
                                                              Role.CLERK))
    payload = {"target": TOWNSHIP, "subject": "text", "text": "请整改", "due_on": "2026-12-10"}
    assert clerk.post("/api/v1/directives", json=payload).status_code == 403
    assert viewer.post("/api/v1/directives", json=payload).status_code == 403
    answer = supervisor.post("/api/v1/directives", json=payload)
    assert answer.status_code == 201, answer.get_json()
    issued = answer.get_json()
    assert (issued["direction"], issued["state"], issued["target_node"]) == \
        ("outgoing", "sent", TOWNSHIP)
    refused = supervisor.post("/api/v1/directives", json={**payload, "target": CITY})
    assert refused.status_code == 422
    assert "target" in refused.get_json()["error"]["details"]["fields"]
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(OutboxEnvelope)) == 1

    _apply(db, handle_directive, federation.envelope(CITY, to=COUNTY))
    listed = viewer.get("/api/v1/directives?direction=incoming").get_json()["items"]
    assert [(item["issuer_node"], item["state"]) for item in listed] == [(CITY, "received")]
    incoming_id = listed[0]["directive_id"]
    assert viewer.post(f"/api/v1/directives/{incoming_id}/reply",
                       json={"state": "done", "text": "x"}).status_code == 403
    replied = supervisor.post(f"/api/v1/directives/{incoming_id}/reply",
                              json={"state": "acknowledged", "text": "收到"})
    assert replied.status_code == 200, replied.get_json()
    assert replied.get_json()["state"] == "acknowledged"
    assert supervisor.post(f"/api/v1/directives/{issued['directive_id']}/reply",
                           json={"state": "done", "text": "x"}).status_code == 404
    everything = viewer.get("/api/v1/directives").get_json()["items"]
    assert sorted(item["direction"] for item in everything) == ["incoming", "outgoing"]
    assert viewer.get("/api/v1/directives?state=bogus").status_code == 422
