"""Every kind of answer of the node and the hub carries the security headers
(schemas/runtime/webapp.py), and no page holds inline script or style, which the
Content-Security-Policy would block."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from schemas.runtime.webapp import SECURITY_HEADERS
from tests.unit.node.conftest import Api
from tests.unit.node.test_web import log_in

TEMPLATES = Path(__file__).resolve().parents[3] / "node" / "templates"
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
EVENT_ATTRIBUTE = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE = re.compile(r"<style\b|\sstyle\s*=", re.I)


def assert_secured(response: Any, what: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (what, name, response.headers.get(name))
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def assert_no_inline_code(html: str, what: str) -> None:
    assert not INLINE_SCRIPT.search(html), (what, INLINE_SCRIPT.search(html))
    assert not EVENT_ATTRIBUTE.search(html), (what, EVENT_ATTRIBUTE.search(html))
    assert not STYLE.search(html), (what, STYLE.search(html))


def test_no_template_holds_inline_script_or_style() -> None:
    for template in TEMPLATES.rglob("*.html"):
        assert_no_inline_code(template.read_text(encoding="utf-8"), str(template))


def test_every_kind_of_node_answer_is_secured(app: Flask, client: FlaskClient,
                                              desk: dict[str, Api]) -> None:
    clerk = desk["clerk"]
    case = clerk.post("/api/v1/cases", {"matter_code": "11450981MB0001",
                                        "applicant_name": "张三"}).get_json()
    notice = clerk.post(f"/api/v1/cases/{case['id']}/notices",
                        {"material_positions": [1]}).get_json()
    anonymous: dict[str, Any] = {
        "citizen page": client.get("/"),
        "citizen form": client.get("/complaint"),
        "login page": client.get("/staff/login"),
        "redirect to login": client.get("/staff/desk"),
        "page not found": client.get("/guide/NO-SUCH-MATTER"),
        "static file": client.get("/static/web/tongban.css"),
        "vendored script": client.get("/static/vendor/echarts/echarts.min.js"),
        "health": client.get("/healthz"),
        "API JSON": client.get("/api/v1/guide/matters"),
        "API error": client.get("/api/v1/cases"),
        "API 404": client.get("/api/v1/no-such-thing"),
        "API 405": client.delete("/api/v1/guide/matters"),
        "API 415": client.post("/api/v1/auth/login", data="x", content_type="text/plain"),
        "OpenAPI": client.get("/api/v1/openapi.json"),
        "API docs page": client.get("/api/v1/docs"),
        "printable notice (API)": clerk.get(
            f"/api/v1/cases/{case['id']}/notices/{notice['number']}"),
    }
    staff = app.test_client()
    assert log_in(staff, "clerk1").status_code == 302
    signed_in = {
        "staff page": staff.get("/staff/desk"),
        "case file": staff.get(f"/staff/cases/{case['id']}"),
        "printable notice (page)": staff.get(
            f"/staff/cases/{case['id']}/notices/{notice['number']}"),
        "forbidden page": staff.get("/staff/admin"),
    }
    downloads = {"XLSX download": desk["admin"].get("/api/v1/catalog/export?format=xlsx")}
    for what, response in {**anonymous, **signed_in, **downloads}.items():
        assert response.status_code < 500, what
        assert_secured(response, what)
        if response.mimetype == "text/html":
            assert_no_inline_code(response.get_data(as_text=True), what)
        response.close()
