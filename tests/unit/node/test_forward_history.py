"""A forwarded case carries its history so far (``case.forward``'s ``history``): the center
it arrives at shows the other center's steps by that center's name, once."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from node.auth.models import User
from schemas.case_messages import HISTORY_MAX
from schemas.envelope import EnvelopeError, Kind
from schemas.messages import validate_body
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_forwarding import (
    HERE,
    TOWNSHIP,
    _accepted,
    _apply,
    _cases,
    _forward_body,
    _from,
    _outbox,
)
from tests.unit.node.test_web import log_in

STEPS = [
    {"at": "2026-11-23T09:00:00+08:00", "center": TOWNSHIP, "action": "submit",
     "by": "张三（窗口工作人员）", "note": None},
    {"at": "2026-11-23T10:00:00+08:00", "center": TOWNSHIP, "action": "accept",
     "by": "张三（窗口工作人员）", "note": "材料齐全"},
]


def test_the_forward_schema_takes_the_history_or_none() -> None:
    validate_body(Kind.CASE_FORWARD, _forward_body())  # an older sender: no history
    validate_body(Kind.CASE_FORWARD, _forward_body(history=STEPS))


@pytest.mark.parametrize("bad", [
    [{**STEPS[0], "by": ""}],
    [{**STEPS[0], "center": "abc"}],
    [{**STEPS[0], "username": "clerk1"}],
    [STEPS[0]] * (HISTORY_MAX + 1),
])
def test_a_bad_or_too_long_history_is_refused(bad: list[dict[str, Any]]) -> None:
    with pytest.raises(EnvelopeError):
        validate_body(Kind.CASE_FORWARD, _forward_body(history=bad))


def test_a_forward_sends_the_history_by_display_name(desk: dict[str, Api], db: Database) -> None:
    with db.unit_of_work() as session:
        session.execute(update(User).where(User.username == "clerk1")
                        .values(display_name="李明"))
    case = _accepted(desk)
    moved = desk["clerk"].post(f"/api/v1/cases/{case['id']}/forward",
                               {"version": case["version"], "note": "请上级办理"})
    assert moved.status_code == 200, moved.json
    [sent] = _outbox(db)
    validate_body(Kind.CASE_FORWARD, sent.body)
    history = sent.body["history"]
    assert [step["action"] for step in history] == ["submit", "accept", "forward"]
    assert {step["center"] for step in history} == {HERE}
    assert {step["by"] for step in history} == {"李明（窗口工作人员）"}
    assert "clerk1" not in str(history)
    assert history[-1]["note"] == "请上级办理"


def test_the_history_is_stored_once_and_shown_by_the_centers_name(
    app: Flask, desk: dict[str, Api], db: Database, client: FlaskClient
) -> None:
    envelope = _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body(history=copy.deepcopy(STEPS)))
    _apply(app, db, envelope)
    _apply(app, db, envelope)  # delivered again

    [case] = _cases(db)
    document = desk["clerk"].get(f"/api/v1/cases/{case.id}").json
    events = document["events"]
    assert [(e["center"], e["action"], e["by"]) for e in events[:2]] == [
        (TOWNSHIP, "submit", "张三（窗口工作人员）"), (TOWNSHIP, "accept", "张三（窗口工作人员）")]
    assert events[1]["reason"] == "材料齐全"
    assert len(events) == 3
    assert events[2]["center"] is None  # the arrival, this center's own
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)

    assert log_in(client, "clerk1").status_code == 302
    page = client.get(f"/staff/cases/{case.id}").get_data(as_text=True)
    history = page[page.index("办理过程"):]
    assert f"（{TOWNSHIP}）：张三（窗口工作人员）受理" in history
    assert "材料齐全" in history
