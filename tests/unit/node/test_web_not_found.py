"""Every URL has a real answer: an unknown page is a Chinese 404 page for a browser and the
API's JSON error for the API and for clients that do not ask for HTML; ``/staff`` goes to the
role's first page; the favicon is served."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from node.auth.permissions import Role
from tests.unit.node.test_web import log_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize("path", ["/staff/nothing-here", "/staff/cases/nope/deeper",
                                  "/no-such-page", "/guide/x/y/z", "/static/web/none.css"])
def test_an_unknown_page_is_a_chinese_404_page_for_a_browser(client: FlaskClient,
                                                              path: str) -> None:
    response = client.get(path, headers=BROWSER)

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "<h1>页面不存在</h1>" in text
    assert '<html lang="zh-CN">' in text
    assert "error" not in text.lower().split("<body>", 1)[1].replace("errors", "")
    assert "Not Found" not in text
    # the way back is a plain link: a javascript: one would be blocked by the CSP
    assert "javascript:" not in text
    assert 'href="/"' in text


def test_the_api_and_non_browser_clients_keep_the_json_error(client: FlaskClient) -> None:
    for path, headers in (("/api/v1/nothing-here", BROWSER),  # the API: JSON, whatever asked
                          ("/no-such-page", {}),  # no Accept
                          ("/no-such-page", {"Accept": "*/*"}),  # curl
                          ("/no-such-page", {"Accept": "application/json"})):
        response = client.get(path, headers=headers)
        assert response.status_code == 404, path
        assert response.json["error"]["code"] == "not_found", (path, headers)
        assert set(response.json["error"]) == {"code", "message", "details"}
    method = client.put("/api/v1/guide/matters", headers=BROWSER)
    assert (method.status_code, method.json["error"]["code"]) == (405, "method_not_allowed")


def test_a_page_asked_with_the_wrong_method_is_a_chinese_page(client: FlaskClient) -> None:
    response = client.delete("/staff/login", headers=BROWSER)
    assert response.status_code == 405
    assert "无法这样访问此页面" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/staff", "/staff/"])
def test_staff_goes_to_the_login_page_then_to_the_roles_home(
        client: FlaskClient, desk: Any, make_user: Any, path: str) -> None:
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/login")

    make_user(Role.SUPERVISOR, username="watch")
    assert log_in(client, "watch").status_code == 302
    response = client.get(path, headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/staff/home")
    assert client.get(response.headers["Location"]).status_code == 200


def test_the_favicon_is_served_and_linked(client: FlaskClient) -> None:
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    icon.close()
    home = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" href="/favicon.ico">' in home
