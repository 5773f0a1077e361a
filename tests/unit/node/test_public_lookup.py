"""The public case lookup and the database-backed rate limiter (both databases)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from node.api import public
from node.auth.permissions import Role
from node.feedback.ratelimit import RateLimit, hit, window_start
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api, matter_payload

APPLICANT = {"applicant_name": "欧阳娜娜", "applicant_id_number": "11010519491231002X",
             "applicant_phone": "13812345678"}


def open_desk(catalog_base: Api, make_user: Callable[..., Api]) -> dict[str, Api]:
    """Matter 11450981MB0001 of SC at window W01; a clerk and an approver of SC, a supervisor."""
    assert catalog_base.post("/api/v1/matters", matter_payload()).status_code == 201
    return {
        "admin": catalog_base,
        "clerk": make_user(Role.CLERK, username="clerk1", department="SC"),
        "approver": make_user(Role.APPROVER, username="approver1", department="SC"),
        "supervisor": make_user(Role.SUPERVISOR, username="super1"),
    }


def submit(clerk: Api, **extra: Any) -> dict[str, Any]:
    """A new case; the answer carries the applicant's query code."""
    response = clerk.post("/api/v1/cases",
                          {"matter_code": "11450981MB0001", **APPLICANT, **extra})
    assert response.status_code == 201, response.json
    return response.json  # type: ignore[no-any-return]


def complete_case(desk: dict[str, Api], case_id: int) -> dict[str, Any]:
    """Accept, review (a non-public step), approve and complete a case."""
    clerk, approver = desk["clerk"], desk["approver"]
    assert clerk.post(f"/api/v1/cases/{case_id}/accept", {}).status_code == 200
    assert approver.post(f"/api/v1/cases/{case_id}/start-review", {}).status_code == 200
    assert approver.post(f"/api/v1/cases/{case_id}/approve", {}).status_code == 200
    completed = clerk.post(f"/api/v1/cases/{case_id}/complete", {})
    assert completed.status_code == 200, completed.json
    return completed.json  # type: ignore[no-any-return]


def set_public_limit(app: Flask, per_minute: int) -> None:
    app.config["TONGBAN"] = replace(app.config["TONGBAN"], lookup_attempts_per_minute=per_minute)


@pytest.fixture
def desk(catalog_base: Api, make_user: Callable[..., Api], app: Flask) -> dict[str, Api]:
    set_public_limit(app, 1000)  # the limit itself is tested below
    return open_desk(catalog_base, make_user)


def test_lookup_shows_masked_name_and_public_steps_only(desk, anonymous: Api) -> None:
    case = submit(desk["clerk"])
    complete_case(desk, case["id"])
    response = anonymous.get(f"/api/v1/public/cases/{case['number']}?code={case['query_code']}")
    assert response.status_code == 200, response.json
    found = response.json
    assert found["number"] == case["number"]
    assert found["state"] == "completed"
    assert found["matter"] == {"code": "11450981MB0001", "name": "食品经营许可证核发"}
    assert found["applicant_name"] == "欧***"
    assert None not in (found["accepted_on"], found["deadline_on"], found["completed_on"])
    assert found["received_on"] == case["received_on"]
    assert found["evaluation"] is None
    assert [s["action"] for s in found["history"]] == ["submit", "accept", "approve", "complete"]
    assert all(set(step) == {"at", "action", "to_state", "note"} for step in found["history"])
    # only a deadline moved by the calendar carries a note; no other step's reason is shown
    assert [step["note"] for step in found["history"]] == [None] * 4
    assert found["history"][-1]["to_state"] == "completed"
    body = response.get_data(as_text=True)
    for secret in ("欧阳娜娜", "11010519491231002X", "13812345678", "clerk1", "approver1"):
        assert secret not in body


def test_query_code_is_case_insensitive_and_required(desk, anonymous: Api) -> None:
    case = submit(desk["clerk"])
    loose = anonymous.get(
        f"/api/v1/public/cases/{case['number']}?code=%20{case['query_code'].lower()}%20"
    )
    assert loose.status_code == 200
    missing = anonymous.get(f"/api/v1/public/cases/{case['number']}")
    assert missing.status_code == 422
    assert "code" in missing.json["error"]["details"]["fields"]


def test_wrong_code_and_unknown_number_answer_alike(desk, anonymous: Api) -> None:
    case = submit(desk["clerk"])
    wrong_code = anonymous.get(f"/api/v1/public/cases/{case['number']}?code=AAAAAAAA")
    unknown = anonymous.get("/api/v1/public/cases/450981-2000-9999999?code=AAAAAAAA")
    right_code_wrong_case = anonymous.get(
        f"/api/v1/public/cases/450981-2000-9999999?code={case['query_code']}"
    )
    assert wrong_code.status_code == unknown.status_code == 404
    assert wrong_code.json == unknown.json == right_code_wrong_case.json
    assert wrong_code.json["error"]["code"] == "not_found"
    assert wrong_code.json["error"]["details"] == {}


# -- the rate limiter -----------------------------------------------------------------------


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.datetime], None]:
    """Pin the limiter's clock so that a test never straddles two windows."""

    def set_now(moment: dt.datetime) -> None:
        monkeypatch.setattr(public, "utcnow", lambda: moment)

    return set_now


def test_lookups_are_limited_per_address(
    catalog_base: Api, make_user, app: Flask, client, frozen_now
) -> None:
    desk = open_desk(catalog_base, make_user)
    case = submit(desk["clerk"])
    set_public_limit(app, 3)
    start = dt.datetime(2026, 3, 2, 1, 30, 15, tzinfo=dt.UTC)
    frozen_now(start)
    path = f"/api/v1/public/cases/{case['number']}?code=WRONGONE"
    mallory = {"REMOTE_ADDR": "203.0.113.7"}
    # failed attempts count too (their error answers roll back everything else)
    for _ in range(3):
        assert client.get(path, environ_base=mallory).status_code == 404
    refused = client.get(f"/api/v1/public/cases/{case['number']}?code={case['query_code']}",
                         environ_base=mallory)
    assert refused.status_code == 429
    assert refused.json["error"]["code"] == "too_many_attempts"
    assert refused.headers["Retry-After"] == "45"
    assert refused.json["error"]["details"] == {"retry_after_seconds": 45}
    # the public POSTs share the budget
    blocked = client.post("/api/v1/public/complaints", json={"window_code": "W01",
                          "content": "态度差"}, environ_base=mallory)
    assert blocked.status_code == 429
    # another address is unaffected
    alice = client.get(f"/api/v1/public/cases/{case['number']}?code={case['query_code']}",
                       environ_base={"REMOTE_ADDR": "198.51.100.23"})
    assert alice.status_code == 200
    # the next minute opens again, and the finished window's rows are swept
    frozen_now(start + dt.timedelta(seconds=45))
    again = client.get(f"/api/v1/public/cases/{case['number']}?code={case['query_code']}",
                       environ_base=mallory)
    assert again.status_code == 200
    db: Database = app.extensions["tongban_db"]
    with db.unit_of_work() as session:
        rows = session.scalars(select(RateLimit)).all()
        assert [(r.key, r.count) for r in rows] == [("public:203.0.113.7", 1)]


def test_window_start_and_retry_after(db: Database) -> None:
    moment = dt.datetime(2026, 3, 2, 9, 59, 59, 500000, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert window_start(moment) == dt.datetime(2026, 3, 2, 1, 59, tzinfo=dt.UTC)
    with db.unit_of_work() as session:
        first = hit(session, "k", limit=1, now=moment)
        second = hit(session, "k", limit=1, now=moment)
    assert (first.allowed, first.count, first.retry_after_seconds) == (True, 1, 1)
    assert (second.allowed, second.count) == (False, 2)
    with pytest.raises(ValueError, match="timezone-aware"):
        window_start(dt.datetime(2026, 3, 2))  # noqa: DTZ001 - the point of the test
    with db.unit_of_work() as session, pytest.raises(ValueError, match="key"):
        hit(session, "", limit=1, now=moment)


def test_concurrent_attempts_are_all_counted(db: Database) -> None:
    """Each worker process has its own connection: the upsert must not lose increments."""
    now = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)
    with db.unit_of_work() as session:  # create the table's first row outside the race
        hit(session, "warm-up", limit=100, now=now)
    attempts, limit = 16, 5
    decisions: list[bool] = []
    barrier = threading.Barrier(attempts)
    errors: list[BaseException] = []

    def attempt() -> None:
        try:
            barrier.wait()
            with db.unit_of_work() as session:
                decisions.append(hit(session, "public:192.0.2.1", limit=limit, now=now).allowed)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(decisions) == [False] * (attempts - limit) + [True] * limit
    with db.unit_of_work() as session:
        total = session.scalar(
            select(func.sum(RateLimit.count)).where(RateLimit.key == "public:192.0.2.1")
        )
    assert total == attempts
