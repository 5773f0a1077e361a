"""Hub staff logins go through the same throttle as the node's (schemas/runtime/throttle.py): the
attacking address waits, the owner's usual place does not, an unknown username answers
exactly like a known one, and the owner and administrators are told of failed logins."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask import Flask

from hub.staff.models import StaffRole
from hub.staff.service import StaffService
from schemas.errors import ValidationFailed
from tests.unit.hub.conftest import MakeHub

PASSWORD = "hub-staff-pass-1"
STRANGER, OFFICE = "203.0.113.9", "10.1.1.10"


def account(app: Flask, username: str, role: StaffRole = StaffRole.VIEWER) -> None:
    with app.extensions["tongban_db"].unit_of_work() as session:
        StaffService(session).create_account(username=username, password=PASSWORD,
                                             scope="450900", role=role)


def login(app: Flask, username: str, password: str, address: str = STRANGER) -> Any:
    return app.test_client().post("/api/v1/staff/login",
                                  json={"username": username, "password": password},
                                  environ_base={"REMOTE_ADDR": address})


def _comparable(response: Any) -> tuple[int, Any, dict[str, str]]:
    return (response.status_code, response.get_json(),
            {k: v for k, v in response.headers.items() if k != "X-Request-Id"})


def frozen(make_hub: MakeHub) -> Flask:
    app = make_hub()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    app.extensions["hub_clock"] = lambda: now
    return app


def test_strangers_wait_the_owner_does_not_and_unknown_names_look_the_same(
        make_hub: MakeHub) -> None:
    app = frozen(make_hub)
    account(app, "yulin")
    assert login(app, "yulin", PASSWORD, OFFICE).status_code == 200
    known = [login(app, "yulin", "wrong-password-1", "203.0.113.1") for _ in range(5)]
    unknown = [login(app, "ghost", "wrong-password-1", "203.0.113.2") for _ in range(5)]
    assert [_comparable(k) for k in known] == [_comparable(u) for u in unknown]
    assert known[0].status_code == 401
    waiting = login(app, "yulin", PASSWORD, "203.0.113.1")
    assert _comparable(waiting) == _comparable(login(app, "ghost", PASSWORD, "203.0.113.2"))
    assert waiting.status_code == 429
    assert waiting.headers["Retry-After"] == "30"
    assert login(app, "yulin", PASSWORD, OFFICE).status_code == 200


def test_the_owner_and_the_admin_are_told(make_hub: MakeHub) -> None:
    app = make_hub()
    account(app, "yulin")
    account(app, "chief", StaffRole.ADMIN)
    for _ in range(3):
        login(app, "yulin", "wrong-password-1")
    login(app, "ghost", "wrong-password-1")
    owner = login(app, "yulin", PASSWORD, OFFICE).get_json()["failed_logins"]
    assert owner == {"own": 3, "accounts": [], "unknown_usernames": 0}
    chief = login(app, "chief", PASSWORD, OFFICE).get_json()["failed_logins"]
    assert chief["own"] == 0
    assert [(a["username"], a["count"]) for a in chief["accounts"]] == [("yulin", 3)]
    assert chief["unknown_usernames"] == 1


def test_a_common_password_is_refused_for_hub_staff_too(make_hub: MakeHub) -> None:
    app = make_hub()
    with app.extensions["tongban_db"].unit_of_work() as session, \
            pytest.raises(ValidationFailed) as refused:
        StaffService(session).create_account(username="weak", password="qwerty12345",
                                             scope="450900")
    assert "常用的密码" in refused.value.details["fields"]["password"][0]
