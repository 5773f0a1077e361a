"""Schemathesis against the node's and the hub's own OpenAPI documents.

Every operation of each document is called with inputs generated from its schema (valid and
not), by a signed-in administrator on the node and an unsigned caller on the hub (whose
node-facing endpoints must then refuse cleanly).  No answer is a 5xx, and every error is the
documented shape ``{"error": {"code", "message", "details"}}``.  Runs on SQLite: the
PostgreSQL half of the suite covers the same views' SQL.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub import create_app as create_hub
from hub.models import Base as HubBase
from node import create_app as create_node
from node.auth.permissions import Role
from node.models import Base as NodeBase
from schemas.runtime.database import Database
from tests.conftest import node_config
from tests.unit.hub.federation import PROVINCE, ROOT_KEY, b64
from tests.unit.node.conftest import password_hash

EXAMPLES = int(os.environ.get("TONGBAN_FUZZ_EXAMPLES", "10"))
SKIP_METHODS = {"options", "head"}


def _check(response: Any, where: str) -> None:
    assert response.status_code < 500, f"{where}: {response.status_code} {response.text[:500]}"
    if response.status_code >= 400 and response.headers.get("Content-Type", "").startswith(
            "application/json"):
        error = response.json().get("error")
        assert isinstance(error, dict), f"{where}: {response.text[:300]}"
        assert set(error) >= {"code", "message", "details"}, f"{where}: {error}"
        assert isinstance(error["code"], str)
        assert isinstance(error["message"], str)


def _fuzz(app: Flask, headers: dict[str, str]) -> int:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.method.lower() in SKIP_METHODS:
            continue
        calls += _fuzz_operation(operation, headers)
    return calls


def _fuzz_operation(operation: Any, headers: dict[str, str]) -> int:
    where = f"{operation.method.upper()} {operation.path}"
    calls = 0

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.data())
    def run(data: st.DataObject) -> None:
        nonlocal calls
        case = data.draw(operation.as_strategy())
        response = case.call(headers=headers)
        calls += 1
        _check(response, f"{where} {case.path_parameters} {case.query} {case.body!r:.200}")

    run()
    return calls


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'fuzz.db'}"


@pytest.fixture
def node_app(sqlite_url: str) -> Iterator[Flask]:
    app = create_node(node_config(sqlite_url, max_content_length=64 * 1024))
    db: Database = app.extensions["tongban_db"]
    NodeBase.metadata.create_all(db.engine)
    yield app
    db.dispose()


def _admin_token(app: Flask) -> str:
    from node.auth.models import ApiToken, User
    from node.auth.service import token_digest

    token = secrets.token_urlsafe(32)
    db: Database = app.extensions["tongban_db"]
    with db.unit_of_work() as session:
        user = User(username="fuzzadmin", display_name="fuzz", role=Role.ADMIN,
                    department=None, password_hash=password_hash(), active=True)
        session.add(user)
        session.flush()
        session.add(ApiToken(user_id=user.id, token_hash=token_digest(token),
                             expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)))
    return token


def test_the_node_api_never_answers_5xx_and_errors_keep_their_shape(node_app: Flask) -> None:
    calls = _fuzz(node_app, {"Authorization": f"Bearer {_admin_token(node_app)}"})
    assert calls > 100


def test_the_hub_api_never_answers_5xx_and_errors_keep_their_shape(sqlite_url: str,
                                                                  tmp_path: Path) -> None:
    app = create_hub({"database_url": sqlite_url, "secret_key": secrets.token_urlsafe(32),
                      "home": str(tmp_path), "root_code": PROVINCE,
                      "root_public_key": b64(ROOT_KEY)})
    db: Database = app.extensions["tongban_db"]
    HubBase.metadata.create_all(db.engine)
    try:
        calls = _fuzz(app, {})
    finally:
        db.dispose()
    assert calls > 20
