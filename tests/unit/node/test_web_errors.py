"""Every error answers in the JSON shape of DESIGN.md."""

from __future__ import annotations

import logging

import pytest
from flask import Flask


def assert_error_shape(body: dict, code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_unknown_route_is_json_404(client) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert_error_shape(response.json, "not_found")


def test_wrong_method_is_json_405_listing_allowed(client) -> None:
    response = client.put("/api/v1/guide/matters")
    assert response.status_code == 405
    assert_error_shape(response.json, "method_not_allowed")
    assert "GET" in response.json["error"]["details"]["allowed"]


@pytest.mark.own_app  # adds a route
def test_unexpected_error_is_500_without_stack_trace(app: Flask, caplog) -> None:
    def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/boom", view_func=boom)
    client = app.test_client()
    with caplog.at_level(logging.ERROR, logger="tongban.web"):
        logger = logging.getLogger("tongban")
        logger.propagate = True
        try:
            response = client.get("/boom", headers={"X-Request-Id": "req-12345678"})
        finally:
            logger.propagate = False
    assert response.status_code == 500
    assert_error_shape(response.json, "internal_error")
    assert "secret internal detail" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert response.json["error"]["details"]["request_id"] == "req-12345678"
    assert response.headers["X-Request-Id"] == "req-12345678"
    assert any("req-12345678" in r.getMessage() for r in caplog.records)


def test_every_response_carries_a_request_id(client) -> None:
    response = client.get("/healthz")
    assert len(response.headers["X-Request-Id"]) == 32
    spoofed = client.get("/healthz", headers={"X-Request-Id": "<script>x</script>"})
    assert spoofed.headers["X-Request-Id"] != "<script>x</script>"
    kept = client.get("/healthz", headers={"X-Request-Id": "proxy-abc-123"})
    assert kept.headers["X-Request-Id"] == "proxy-abc-123"


def test_healthz_checks_the_database(client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json["database"] == "ok"
    assert response.json["code"] == "450981"


def test_healthz_reports_an_unreachable_database(app: Flask, db, tmp_path) -> None:
    from schemas.runtime.database import Database

    broken = Database(f"sqlite:///{tmp_path}/missing-dir/x.db")
    app.extensions["tongban_db"] = broken
    # the health check uses the database handed to init_web; swap its engine for a dead one
    db.engine, saved = broken.engine, db.engine
    db.sessions.configure(bind=broken.engine)
    try:
        response = app.test_client().get("/healthz")
    finally:
        db.engine = saved
        db.sessions.configure(bind=saved)
    assert response.status_code == 503
    assert_error_shape(response.json, "database_unavailable")


def test_openapi_document_and_vendored_docs_page(client) -> None:
    spec = client.get("/api/v1/openapi.json")
    assert spec.status_code == 200
    document = spec.json
    assert document["openapi"].startswith("3.")
    assert "/api/v1/matters" in document["paths"]
    post = document["paths"]["/api/v1/matters"]["post"]
    assert post["security"] == [{"bearerAuth": []}]
    assert post["x-permission"] == "catalog.manage"
    assert "Matter" in document["components"]["schemas"]
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "/api/v1/vendor/swagger-ui/swagger-ui-bundle.js" in page
    assert "http" not in page.split("<body>")[0].replace("http-equiv", "")
    bundle = client.get("/api/v1/vendor/swagger-ui/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    bundle.close()


def test_client_address_from_proxy_only_when_configured(database_url: str) -> None:
    from flask import request

    from node import create_app
    from tests.conftest import node_config

    for hops, expected in ((0, "10.0.0.1"), (1, "203.0.113.9")):
        app = create_app(node_config(database_url, proxy_hops=hops))
        app.add_url_rule("/whoami", view_func=lambda: request.remote_addr or "")
        response = app.test_client().get(
            "/whoami",
            headers={"X-Forwarded-For": "203.0.113.9"},
            environ_base={"REMOTE_ADDR": "10.0.0.1"},
        )
        assert response.get_data(as_text=True) == expected
        app.extensions["tongban_db"].dispose()


def test_nul_text_is_refused_but_an_escaped_backslash_is_not(client) -> None:
    nul = client.post("/api/v1/auth/login", data='{"username": "a\\u0000", "password": "x"}',
                      headers={"Content-Type": "application/json"})
    assert nul.status_code == 422
    assert nul.json["error"]["details"]["fields"] == {"body": ["含有 NUL 字符"]}
    text = client.post("/api/v1/auth/login", data='{"username": "a\\\\u0000", "password": "x"}',
                       headers={"Content-Type": "application/json"})
    assert text.status_code == 401  # read as the text a\u0000, an unknown user
