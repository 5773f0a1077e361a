"""Every kind of answer of the hub carries the security headers (schemas/runtime/webapp.py), and
its API docs page holds no inline script."""

from __future__ import annotations

from flask import Flask

from tests.unit.node.test_security_headers import assert_no_inline_code, assert_secured


def test_every_kind_of_hub_answer_is_secured(hub_app: Flask) -> None:
    client = hub_app.test_client()
    answers = {
        "health": client.get("/healthz"),
        "OpenAPI": client.get("/api/v1/openapi.json"),
        "API docs page": client.get("/api/v1/docs"),
        "docs script": client.get("/api/v1/vendor/swagger-ui/tongban-docs.js"),
        "API 404": client.get("/api/v1/no-such-thing"),
        "unsigned request": client.get("/api/v1/mailbox"),
        "staff login refused": client.post("/api/v1/staff/login",
                                           json={"username": "x", "password": "y"}),
    }
    for what, response in answers.items():
        assert response.status_code < 500, what
        assert_secured(response, what)
        if response.mimetype == "text/html":
            assert_no_inline_code(response.get_data(as_text=True), what)
        response.close()

