"""Per-process caches invalidated by a version row (issue 17): two apps on one database stand
for two processes of a node (each keeps its own cache); a change committed through one is seen
by the other on its next request, and a change rolled back moves nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from node import create_app
from node.auth.service import TOKENS
from node.caches import AUTH, CALENDAR, bump, versions
from node.calendar.service import CALENDARS
from schemas.runtime.database import Database
from tests.conftest import node_config
from tests.unit.node.conftest import Api


@pytest.fixture
def other(database_url: str) -> Iterator[Flask]:
    """A second app on the test's database: another process of the same node."""
    second = create_app(node_config(database_url))
    yield second
    second.extensions["tongban_db"].dispose()


def on(app: Flask, api: Api) -> Api:
    return Api(app.test_client(), api.token)


def test_a_revoked_token_is_refused_at_once_by_the_other_process(
    desk: dict[str, Api], other: Flask
) -> None:
    there = on(other, desk["clerk"])
    assert there.get("/api/v1/auth/me").status_code == 200
    loads = TOKENS.loads
    assert there.get("/api/v1/auth/me").status_code == 200
    assert TOKENS.loads == loads, "the second request read the token again"

    assert desk["clerk"].post("/api/v1/auth/logout").status_code == 204
    refused = there.get("/api/v1/auth/me")
    assert refused.status_code == 401, refused.json


def test_a_disabled_account_and_a_changed_role_are_seen_by_the_other_process(
    desk: dict[str, Api], other: Flask
) -> None:
    approver = on(other, desk["approver"])
    assert approver.get("/api/v1/auth/me").json["role"] == "approver"
    changed = desk["admin"].patch("/api/v1/users/approver1", {"role": "supervisor"})
    assert changed.status_code == 200, changed.json
    assert approver.get("/api/v1/auth/me").json["role"] == "supervisor"

    clerk = on(other, desk["clerk2"])
    assert clerk.get("/api/v1/auth/me").status_code == 200
    assert desk["admin"].patch("/api/v1/users/clerk2", {"active": False}).status_code == 200
    assert clerk.get("/api/v1/auth/me").status_code == 401


def test_a_local_closure_moves_the_next_deadline_in_the_other_process(
    desk: dict[str, Api], other: Flask
) -> None:
    clerk = on(other, desk["clerk"])

    def accepted_deadline() -> str:
        case = clerk.post("/api/v1/cases", {"matter_code": "11450981MB0001",
                                            "applicant_name": "张三"}).json
        step = clerk.post(f"/api/v1/cases/{case['id']}/accept", {"version": case["version"]})
        assert step.status_code == 200, step.json
        return step.json["deadline_on"]  # type: ignore[no-any-return]

    first = accepted_deadline()
    loads = CALENDARS.loads
    assert accepted_deadline() == first
    assert CALENDARS.loads == loads, "the calendar was read again though nothing changed"

    closed = desk["admin"].request("PUT", f"/api/v1/calendar/overrides/{first}",
                                   json={"working": False, "reason": "停电停止办公"})
    assert closed.status_code == 200, closed.json
    assert accepted_deadline() > first


def test_a_counter_moves_with_the_commit_only(db: Database) -> None:
    with db.sessions() as session:
        before = versions(session)
    with db.sessions() as session:
        bump(session, CALENDAR)
        assert versions(session)[CALENDAR] == before[CALENDAR] + 1  # its own change
        session.rollback()
    with db.sessions() as session:
        assert versions(session) == before
    with db.unit_of_work() as session:
        bump(session, AUTH, CALENDAR)
    with db.sessions() as session:
        assert versions(session) == {**before, AUTH: before[AUTH] + 1,
                                     CALENDAR: before[CALENDAR] + 1}


def test_a_changed_or_retired_matter_is_seen_by_the_other_process(
    desk: dict[str, Api], other: Flask
) -> None:
    from node.cases.service import MATTERS

    clerk = on(other, desk["clerk"])
    body = {"matter_code": "11450981MB0001", "applicant_name": "张三"}
    first = clerk.post("/api/v1/cases", body)
    assert first.status_code == 201, first.json
    loads = MATTERS.loads
    again = clerk.post("/api/v1/cases", body).json
    assert again["promised_days"] == first.json["promised_days"]
    assert MATTERS.loads == loads, "the matter was read again though nothing changed"

    shorter = first.json["promised_days"] - 1
    changed = desk["admin"].patch("/api/v1/matters/11450981MB0001",
                                  {"promised_limit_days": shorter})
    assert changed.status_code == 200, changed.json
    assert clerk.post("/api/v1/cases", body).json["promised_days"] == shorter

    assert desk["admin"].post("/api/v1/matters/11450981MB0001/retire").status_code == 200
    refused = clerk.post("/api/v1/cases", body)
    assert refused.status_code == 422, refused.json
    assert "matter_code" in refused.json["error"]["details"]["fields"]
