"""GET /api/v1/sync/status and /dead-letters: administrators only."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from node.auth.permissions import Role
from node.sync.models import OutboxState
from node.sync.outbox import emit
from node.sync.service import SyncService
from schemas.envelope import Kind
from schemas.keys import generate_private_key
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_sync_fakes import FakeClock, FakeHub

BODY = {"directive_id": "12345678-1234-4234-8234-123456789abc", "state": "done",
        "text": "已整改", "replied_by": "admin"}


@pytest.mark.parametrize("path", ["/api/v1/sync/status", "/api/v1/sync/dead-letters"])
def test_only_administrators_see_sync(
    make_user: Callable[..., Api], anonymous: Api, path: str
) -> None:
    assert make_user(Role.ADMIN).get(path).status_code == 200
    assert make_user(Role.CLERK).get(path).status_code == 403
    assert anonymous.get(path).status_code == 401


def test_status_shows_backlog_and_dead_letters(admin: Api, db: Database) -> None:
    key = generate_private_key()
    created = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
    ids = []
    for _ in range(3):
        with db.unit_of_work() as session:
            ids.append(emit(session, kind=Kind.DIRECTIVE_REPLY, to="450900", body=BODY,
                            sender="450981", private_key=key, now=created).id)
    empty = admin.get("/api/v1/sync/status").json
    assert empty["pending_count"] == 3
    assert 599 <= empty["oldest_pending_age_seconds"] <= 660
    assert (empty["last_push_at"], empty["dead_letters"]) == (None, [])

    hub = FakeHub()
    hub.reject[ids[0]] = "bad_signature"
    clock = FakeClock(dt.datetime.now(dt.UTC))
    SyncService(db, hub, code="450981", clock=clock, push_batch_size=2).push()
    status = admin.get("/api/v1/sync/status").json
    assert status["pending_count"] == 0
    assert status["oldest_pending_age_seconds"] is None
    assert dt.datetime.fromisoformat(status["last_push_at"]) == clock()
    (dead,) = status["dead_letters"]
    assert (dead["id"], dead["kind"], dead["to"], dead["reason"]) == (
        ids[0], "directive.reply", "450900", "bad_signature")
    assert dead["at"] is not None
    listed = admin.get("/api/v1/sync/dead-letters").json
    assert [item["id"] for item in listed] == [ids[0]]
    assert OutboxState.DEAD.value == "dead"
