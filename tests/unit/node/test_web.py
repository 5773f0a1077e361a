"""The web pages with Flask's test client: login, CSRF, permissions and every page rendering
(the browser tests in tests/browser click through the same pages in Chromium)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.unit.node.conftest import PASSWORD, Api

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def log_in(client: FlaskClient, username: str) -> Any:
    token = csrf_of(client, "/staff/login")
    return client.post("/staff/login", data={"username": username, "password": PASSWORD,
                                             "csrf_token": token})


def test_citizen_pages_render_without_login(client: FlaskClient, desk: dict[str, Api]) -> None:
    for path in ("/", "/guide", "/guide?q=食品", "/guide/11450981MB0001",
                 "/guide/11450981MB0001/apply", "/lookup", "/complaint", "/board"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'lang="zh-CN"' in response.get_data(as_text=True)


def test_a_form_without_the_csrf_token_is_refused(client: FlaskClient,
                                                  desk: dict[str, Api]) -> None:
    response = client.post("/complaint", data={"content": "排队太久", "window_code": "W01"})

    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_the_json_api_needs_no_csrf_token(client: FlaskClient, desk: dict[str, Api]) -> None:
    response = client.post("/api/v1/public/complaints",
                           json={"content": "排队太久", "window_code": "W01"})

    assert response.status_code == 201


def test_staff_pages_need_a_login(client: FlaskClient, desk: dict[str, Api]) -> None:
    response = client.get("/staff/desk")

    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_wrong_password_and_role_without_permission(client: FlaskClient,
                                                    desk: dict[str, Api]) -> None:
    token = csrf_of(client, "/staff/login")
    wrong = client.post("/staff/login", data={"username": "clerk1", "password": "nope",
                                              "csrf_token": token})
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.get_data(as_text=True)

    assert log_in(client, "approver1").status_code == 302
    assert client.get("/staff/desk").status_code == 403
    assert client.get("/staff/admin").status_code == 403


@pytest.mark.parametrize(("username", "paths"), [
    ("clerk1", ["/staff/desk", "/staff/desk/new", "/staff/desk/new?matter_code=NC1"]),
    ("approver1", ["/staff/department"]),
    ("super1", ["/staff/supervision", "/staff/supervision/complaints",
                "/staff/supervision/rectifications", "/staff/supervision/figures",
                "/staff/supervision/assessment", "/staff/supervision/patterns",
                "/staff/supervision/directives", "/staff/rankings"]),
])
def test_each_role_sees_its_pages(client: FlaskClient, desk: dict[str, Api], username: str,
                                  paths: list[str]) -> None:
    assert log_in(client, username).status_code == 302
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:2000])


def test_admin_pages(client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    from node.auth.permissions import Role

    make_user(Role.ADMIN, username="boss")
    assert log_in(client, "boss").status_code == 302
    for path in ("/staff/admin", "/staff/admin/organisation", "/staff/admin/users",
                 "/staff/admin/calendar", "/staff/admin/import", "/staff/admin/sync",
                 "/staff/admin/export.xlsx"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:2000])


def test_clerk_takes_accepts_and_the_case_file_shows_actions(
        client: FlaskClient, desk: dict[str, Api]) -> None:
    log_in(client, "clerk1")
    token = csrf_of(client, "/staff/desk/new?matter_code=11450981MB0001")
    taken = client.post("/staff/desk/new", data={
        "csrf_token": token, "matter_code": "11450981MB0001", "applicant_name": "张三",
        "applicant_phone": "13800138000"})
    assert taken.status_code == 302, taken.get_data(as_text=True)[:3000]
    case_page = client.get(taken.headers["Location"])
    text = case_page.get_data(as_text=True)
    assert "已收件" in text
    assert "受理" in text

    case_path = taken.headers["Location"].split("?")[0]
    version = re.search(r'name="version" value="(\d+)"', text).group(1)  # type: ignore[union-attr]
    accepted = client.post(f"{case_path}/accept", data={"csrf_token": token,
                                                        "version": version})
    assert accepted.status_code == 302
    assert "已受理" in client.get(case_path).get_data(as_text=True)

    stale = client.post(f"{case_path}/accept", data={"csrf_token": token, "version": version})
    assert stale.status_code == 422


def test_bad_input_shows_the_errors_and_changes_nothing(client: FlaskClient,
                                                       desk: dict[str, Api]) -> None:
    token = csrf_of(client, "/guide/11450981MB0001/apply")
    response = client.post("/guide/11450981MB0001/apply", data={
        "csrf_token": token, "applicant_name": "李四", "applicant_phone": "12",
        "applicant_id_number": "123"})

    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'role="alert"' in text
    assert "身份证号码" in text
