"""The hub application: factory, health, OpenAPI and errors."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from flask import Flask

from hub import create_app
from hub.models import Base


@pytest.fixture
def hub_app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {"database_url": database_url, "secret_key": secrets.token_urlsafe(32), "testing": True}
    )
    db = app.extensions["tongban_db"]
    Base.metadata.create_all(db.engine)
    yield app
    db.dispose()


def test_healthz_reports_database_and_registry(hub_app: Flask) -> None:
    response = hub_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "service": "hub", "database": "ok", "nodes": 0,
                             "trust_root": None, "mailbox_waiters": 0,
                             "warnings": ["trust root not configured"]}


def test_openapi_and_json_errors(hub_app: Flask) -> None:
    client = hub_app.test_client()
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    assert spec.json["info"]["title"] == "tongban hub"
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json["error"]["code"] == "not_found"


def test_without_a_trust_root_the_hub_refuses_envelopes(hub_app: Flask) -> None:
    client = hub_app.test_client()
    for response in (client.post("/api/v1/envelopes", json={"envelopes": []}),
                     client.get("/api/v1/registry")):
        assert response.status_code == 503
        assert response.json["error"]["code"] == "trust_root_not_configured"


def test_an_exhausted_connection_pool_answers_busy_not_an_internal_error(
        hub_app: Flask) -> None:
    """Every connection busy for the pool's timeout is an overload: 503 with Retry-After,
    which a node's sync client retries with backoff."""
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    def exhausted() -> None:
        raise PoolTimeout("QueuePool limit of size 5 overflow 10 reached")

    hub_app.add_url_rule("/test-only/exhausted", "exhausted", exhausted)
    response = hub_app.test_client().get("/test-only/exhausted")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "hub_busy"
    assert response.headers["Retry-After"] == "5"
