"""A node's staff ask the hub for rankings through the node's API: the node signs the request
as itself and hands back the hub's answer (the hub runs in-process here; the integration
suite does the same over real HTTP)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient

from node import create_app as create_node
from node.auth.inputs import NewUser
from node.auth.permissions import Role
from node.auth.service import AuthService
from node.composition import NodeServices
from node.models import Base as NodeBase
from node.sync.rankings import RankingsClient
from schemas.keys import write_private_key
from schemas.runtime.login import LoginPolicy
from tests.conftest import NODE_IDENTITY
from tests.unit.hub.conftest import MakeHub
from tests.unit.hub.rank_federation import (
    BEILIU,
    KEYS,
    LUCHUAN,
    RONG,
    TOWN_A,
    TOWN_B,
    YULIN,
    RankFederation,
    count,
)

PERIOD = "2026-10"
PASSWORD = "node-viewer-pass-3"


class InProcessHub:
    """``requests.Session.request`` answered by the hub app's test client."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.calls: list[tuple[str, str]] = []

    def request(self, method: str, url: str, *, data: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: Any = None) -> Any:
        assert timeout is not None  # every call is bounded
        parts = urlsplit(url)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        self.calls.append((method, target))
        answer = self.client.open(target, method=method, data=data, headers=headers)
        return SimpleNamespace(status_code=answer.status_code, headers=answer.headers,
                               content=answer.data)


class Unreachable:
    def request(self, method: str, url: str, **_: Any) -> Any:
        raise requests.ConnectionError("connection refused")


@pytest.fixture
def fed(make_hub: MakeHub) -> RankFederation:
    federation = RankFederation(make_hub())
    for code, value in {TOWN_A: 7, TOWN_B: 9, RONG: 3, LUCHUAN: 4}.items():
        federation.report(code, PERIOD, {"completed": count(value)})
    return federation


@pytest.fixture
def node_app(tmp_path: Path, fed: RankFederation) -> Iterator[Flask]:
    """Beiliu's node (code 450981) with Beiliu's enrolled key, talking to the test hub."""
    assert NODE_IDENTITY["code"] == BEILIU
    key_file = tmp_path / "beiliu.pem"
    write_private_key(key_file, KEYS[BEILIU])
    app = create_node({**NODE_IDENTITY, "database_url": f"sqlite:///{tmp_path / 'node.db'}",
                       "secret_key": secrets.token_urlsafe(32), "private_key_file": str(key_file),
                       "testing": True, "hub_url": "http://hub.test"})
    db = app.extensions["tongban_db"]
    NodeBase.metadata.create_all(db.engine)
    NodeServices.of_app(app.extensions).rankings_hub = RankingsClient(
        "http://hub.test", BEILIU, KEYS[BEILIU], session=InProcessHub(fed.app.test_client()),
        clock=lambda: fed.now)
    yield app
    db.dispose()


def token(app: Flask, role: Role) -> dict[str, str]:
    policy = LoginPolicy(dt.timedelta(hours=1), max_failed_logins=5,
                        lockout=dt.timedelta(minutes=5))
    with app.extensions["tongban_db"].unit_of_work() as session:
        service = AuthService(session, policy)
        service.create_user(NewUser(username=role.value, role=role, password=PASSWORD,
                                    department_code=None))
        issued = service.login(role.value, PASSWORD)
    return {"Authorization": f"Bearer {issued.token}"}


def test_viewer_gets_the_league_table_of_its_own_subtree(node_app: Flask) -> None:
    client = node_app.test_client()

    response = client.get(f"/api/v1/rankings/league?period={PERIOD}&metric=completed",
                          headers=token(node_app, Role.VIEWER))

    assert response.status_code == 200, response.json
    assert response.json["scope"] == BEILIU  # the node's own code by default
    (group,) = response.json["groups"]
    assert [(r["node"], r["rank"], r["value"]) for r in group["rows"]] == [
        (TOWN_B, 1, 9), (TOWN_A, 2, 7)]


def test_a_sibling_scope_is_refused_with_the_hubs_code(node_app: Flask) -> None:
    client = node_app.test_client()

    response = client.get(f"/api/v1/rankings/league?scope={YULIN}&period={PERIOD}"
                          "&metric=completed", headers=token(node_app, Role.SUPERVISOR))

    assert response.status_code == 403
    assert response.json["error"]["code"] == "outside_scope"


def test_bad_input_comes_back_as_the_hubs_validation_error(node_app: Flask) -> None:
    client = node_app.test_client()
    response = client.get("/api/v1/rankings/league?period=2026-10&metric=nope",
                          headers=token(node_app, Role.VIEWER))
    assert response.status_code == 422
    assert "metric" in response.json["error"]["details"]["fields"]


def test_exports_and_composite_pass_through(node_app: Flask) -> None:
    client = node_app.test_client()
    headers = token(node_app, Role.ADMIN)

    csv_answer = client.get(f"/api/v1/rankings/rollup?period={PERIOD}&format=csv",
                            headers=headers)
    assert csv_answer.status_code == 200
    assert csv_answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in csv_answer.headers["Content-Disposition"]
    assert "办结数" in csv_answer.data.decode("utf-8")

    table = client.post("/api/v1/rankings/composite", headers=headers, json={
        "period": PERIOD, "methodology": {"normalisation": "min_max", "components": [
            {"metric": "completed", "weight": 1}]}})
    assert table.status_code == 200, table.json
    assert table.json["methodology"]["normalisation"] == "min_max"
    assert [r["node"] for r in table.json["groups"][0]["rows"]] == [TOWN_B, TOWN_A]


def test_roles_without_supervision_read_and_anonymous_are_refused(node_app: Flask) -> None:
    client = node_app.test_client()
    assert client.get("/api/v1/rankings/league?period=2026-10&metric=completed"
                      ).status_code == 401
    # an approver has no supervision.read
    from node.catalog.service import CatalogService

    with node_app.extensions["tongban_db"].unit_of_work() as session:
        CatalogService(session).create_department("GA", "公安局")
    policy = LoginPolicy(dt.timedelta(hours=1), max_failed_logins=5,
                        lockout=dt.timedelta(minutes=5))
    with node_app.extensions["tongban_db"].unit_of_work() as session:
        service = AuthService(session, policy)
        service.create_user(NewUser(username="appr", role=Role.APPROVER, password=PASSWORD,
                                    department_code="GA"))
        issued = service.login("appr", PASSWORD)
    refused = client.get("/api/v1/rankings/league?period=2026-10&metric=completed",
                         headers={"Authorization": f"Bearer {issued.token}"})
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden"


def test_an_unreachable_hub_is_a_502(node_app: Flask) -> None:
    NodeServices.of_app(node_app.extensions).rankings_hub = RankingsClient(
        "http://hub.test", BEILIU, KEYS[BEILIU], session=Unreachable())
    response = node_app.test_client().get(
        "/api/v1/rankings/league?period=2026-10&metric=completed",
        headers=token(node_app, Role.VIEWER))
    assert response.status_code == 502
    assert response.json["error"]["code"] == "hub_unavailable"
