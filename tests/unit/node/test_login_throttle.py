"""Failed logins at the node (API and page): nobody is locked out by strangers, an unknown
username answers exactly like a known one, and the owner and the administrators are told
(最近有 N 次失败登录).  The throttle's counting itself: tests/unit/schemas/test_throttle.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

import schemas.runtime.login as login_module
from node.auth.permissions import Role
from schemas.runtime.database import Database
from tests.unit.node.conftest import PASSWORD, Api
from tests.unit.node.test_web import CSRF

STRANGER = "203.0.113.9"


def api_login(client: FlaskClient, username: str, password: str,
              address: str = STRANGER) -> Any:
    return client.post("/api/v1/auth/login", json={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def page_login(client: FlaskClient, username: str, password: str,
               address: str = STRANGER) -> Any:
    page = client.get("/staff/login", environ_base={"REMOTE_ADDR": address})
    token = CSRF.search(page.get_data(as_text=True)).group(1)  # type: ignore[union-attr]
    return client.post("/staff/login", data={"username": username, "password": password,
                                             "csrf_token": token},
                       environ_base={"REMOTE_ADDR": address})


def _comparable(response: Any) -> tuple[int, Any, dict[str, str]]:
    headers = {k: v for k, v in response.headers.items() if k != "X-Request-Id"}
    return response.status_code, response.get_json(), headers


@pytest.fixture
def clerk(make_user: Callable[..., Api]) -> Api:
    return make_user(Role.CLERK, username="clerk-a")


@pytest.fixture
def frozen(app: Flask) -> dt.datetime:
    """The node's clock stands still (waits are then exactly comparable)."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    app.extensions["node_clock"] = lambda: now
    return now


def test_a_known_and_an_unknown_username_answer_identically(
        client: FlaskClient, clerk: Api, frozen: dt.datetime) -> None:
    """Same status, body and headers: for a wrong password (401) and, after five failures
    each from their own address, for the wait (429)."""
    known = api_login(client, "clerk-a", "wrong-password-1", "203.0.113.1")
    unknown = api_login(client, "nobody-here", "wrong-password-1", "203.0.113.2")
    assert known.status_code == 401
    assert _comparable(known) == _comparable(unknown)
    for _ in range(4):
        api_login(client, "clerk-a", "wrong-password-1", "203.0.113.1")
        api_login(client, "nobody-here", "wrong-password-1", "203.0.113.2")
    known = api_login(client, "clerk-a", PASSWORD, "203.0.113.1")
    unknown = api_login(client, "nobody-here", PASSWORD, "203.0.113.2")
    assert known.status_code == 429
    assert _comparable(known) == _comparable(unknown)
    assert known.headers["Retry-After"] == "30"


@pytest.fixture
def work(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[str]]]:
    """Records the SQL statements and the Argon2 verifications of what runs meanwhile."""
    seen: dict[str, list[str]] = {"sql": [], "verify": []}

    def statement(_conn: Any, _cursor: Any, text: str, *_args: Any) -> None:
        seen["sql"].append(" ".join(text.split()))

    real_verify = login_module.verify_password

    def verify(password_hash: str, password: str) -> bool:
        seen["verify"].append("dummy" if password_hash == login_module.dummy_hash()
                              else "account")
        return real_verify(password_hash, password)

    monkeypatch.setattr(login_module, "verify_password", verify)
    event.listen(db.engine, "before_cursor_execute", statement)
    yield seen
    event.remove(db.engine, "before_cursor_execute", statement)


def test_a_known_and_an_unknown_username_cost_the_same_work(
        client: FlaskClient, clerk: Api, admin: Api, work: dict[str, list[str]]) -> None:
    """Timing: the same statements in the same order and one Argon2 verification each (a
    dummy hash for the name nobody has), whether the account exists, is disabled or not."""
    runs = {}
    assert admin.patch("/api/v1/users/clerk-a", {"active": True}).status_code == 200
    for name, username, password in (("wrong password", "clerk-a", "wrong-password-1"),
                                     ("unknown", "nobody-here", "wrong-password-1")):
        work["sql"].clear()
        work["verify"].clear()
        assert api_login(client, username, password).status_code == 401
        runs[name] = (list(work["sql"]), list(work["verify"]))
    assert admin.patch("/api/v1/users/clerk-a", {"active": False}).status_code == 200
    work["sql"].clear()
    work["verify"].clear()
    assert api_login(client, "clerk-a", PASSWORD).status_code == 401
    runs["disabled, right password"] = (list(work["sql"]), list(work["verify"]))

    statements = {name: sql for name, (sql, _v) in runs.items()}
    assert statements["wrong password"] == statements["unknown"] \
        == statements["disabled, right password"]
    assert any(s.startswith("INSERT INTO login_attempts") for s in statements["unknown"])
    assert [v for _s, v in runs.values()] == [["account"], ["dummy"], ["account"]]


def test_the_owner_is_told_of_failed_logins_since_their_last_login(
        client: FlaskClient, clerk: Api) -> None:
    for _ in range(3):
        assert api_login(client, "clerk-a", "wrong-password-1").status_code == 401
    first = api_login(client, "clerk-a", PASSWORD, "10.1.1.10")
    assert first.status_code == 200
    assert first.get_json()["failed_logins"] == {"own": 3, "accounts": [],
                                                 "unknown_usernames": 0}
    again = api_login(client, "clerk-a", PASSWORD, "10.1.1.10")
    assert again.get_json()["failed_logins"]["own"] == 0


def test_administrators_are_told_of_every_accounts_failed_logins_by_name(
        client: FlaskClient, make_user: Callable[..., Api]) -> None:
    make_user(Role.CLERK, username="li.ming")
    make_user(Role.ADMIN, username="chief")
    for _ in range(2):
        api_login(client, "li.ming", "wrong-password-1")
    api_login(client, "ghost", "wrong-password-1")
    answer = api_login(client, "chief", PASSWORD, "10.1.1.10").get_json()["failed_logins"]
    assert answer["own"] == 0
    assert [(a["username"], a["display_name"], a["count"]) for a in answer["accounts"]] == [
        ("li.ming", "li.ming", 2)]
    assert answer["unknown_usernames"] == 1


def test_the_login_page_tells_the_owner_and_the_admin_in_chinese(
        app: Flask, make_user: Callable[..., Api], db: Database) -> None:
    from sqlalchemy import select

    from node.auth.models import User

    make_user(Role.CLERK, username="li.ming")
    make_user(Role.ADMIN, username="chief")
    with db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == "li.ming"))
        assert user is not None
        user.display_name = "李明"
    client = app.test_client()
    for _ in range(2):
        assert page_login(client, "li.ming", "wrong-password-1").status_code == 401
    owner = app.test_client()
    signed_in = page_login(owner, "li.ming", PASSWORD, "10.1.1.10")
    assert signed_in.status_code == 302
    text = owner.get(signed_in.headers["Location"]).get_data(as_text=True)
    assert "最近有 2 次失败登录" in text

    chief = app.test_client()
    signed_in = page_login(chief, "chief", PASSWORD, "10.1.1.11")
    text = chief.get(signed_in.headers["Location"]).get_data(as_text=True)
    assert "其他账号最近有 2 次失败登录：李明 2 次" in text
    assert "li.ming" not in text  # names, not usernames


def test_the_login_page_makes_a_stranger_wait_and_keeps_the_owner_in(
        app: Flask, clerk: Api, frozen: dt.datetime) -> None:
    owner = app.test_client()
    assert page_login(owner, "clerk-a", PASSWORD, "10.1.1.10").status_code == 302
    stranger = app.test_client()
    for _ in range(5):
        assert page_login(stranger, "clerk-a", "wrong-password-1").status_code == 401
    waiting = page_login(stranger, "clerk-a", PASSWORD)
    assert waiting.status_code == 429
    assert waiting.headers["Retry-After"] == "30"
    assert "登录失败次数过多，请 30 秒后再试" in waiting.get_data(as_text=True)
    for _ in range(5):
        page_login(app.test_client(), "nobody-here", "wrong-password-1", "203.0.113.5")
    unknown = page_login(app.test_client(), "nobody-here", PASSWORD, "203.0.113.5")
    assert unknown.status_code == 429
    assert "登录失败次数过多，请 30 秒后再试" in unknown.get_data(as_text=True)
    again = app.test_client()
    assert page_login(again, "clerk-a", PASSWORD, "10.1.1.10").status_code == 302
