"""Each role's home page (首页, where login lands) and the navigation's badge (node/home.py,
node/web/home.py), with Flask's test client on both databases; tests/browser/test_pages.py
walks the same pages in Chromium."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from node.auth.permissions import Role
from node.cases.models import Case
from schemas.envelope import Kind
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_forwarding import TOWNSHIP, _accepted, _apply, _forward_body, _from
from tests.unit.node.test_web import log_in

BADGE = re.compile(r'id="nav-badge"[^>]*>(\d+)</span>')


def page_of(client: FlaskClient, username: str) -> str:
    landed = log_in(client, username)
    assert landed.status_code == 302
    assert landed.headers["Location"] == "/staff/home"
    response = client.get("/staff/home")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def badge(page: str) -> int | None:
    found = BADGE.search(page)
    return int(found.group(1)) if found else None


@pytest.mark.parametrize(("role", "username", "sections", "absent"), [
    (Role.CLERK, "clerk1", ["home-clerk", "chart-mine"], ["home-supervisor", "home-admin"]),
    (Role.APPROVER, "approver1", ["home-approver", "chart-queue"], ["home-clerk"]),
    (Role.SUPERVISOR, "super1", ["home-supervisor", "chart-figures", "figures-table"],
     ["home-clerk", "home-admin"]),
    (Role.VIEWER, "watcher", ["home-viewer", "viewer-top", "viewer-missing"],
     ["home-supervisor"]),
    (Role.ADMIN, "boss", ["home-admin", "admin-sync", "admin-calendar"], ["home-clerk"]),
])
def test_every_role_lands_on_its_own_home_page(
    client: FlaskClient, desk: dict[str, Api], make_user: Any, role: Role, username: str,
    sections: list[str], absent: list[str],
) -> None:
    if username in ("watcher", "boss"):
        make_user(role, username=username)
    page = page_of(client, username)
    for section in sections:
        assert f'id="{section}"' in page, section
    for section in absent:
        assert f'id="{section}"' not in page, section
    assert "echarts.min.js" in page
    assert "暂无待办事项" in page
    assert badge(page) is None  # nothing waits yet


def test_the_clerks_cases_by_colour_and_the_online_applications_waiting(
    client: FlaskClient, desk: dict[str, Api],
) -> None:
    _accepted(desk)  # the clerk's own case, accepted today: green
    online = desk["clerk2"].post("/api/v1/cases", {
        "matter_code": "11450981MB0001", "applicant_name": "王五", "channel": "online",
        "applicant_phone": "13900139000"})
    assert online.status_code == 201, online.json
    page = page_of(client, "clerk1")
    mine = re.search(r'id="clerk-mine">([^<]*)<', page).group(1)  # type: ignore[union-attr]
    assert mine.startswith("正常 1 件，黄灯预警 0 件，红灯超期 0 件")
    assert '"values": [1, 0, 0]' in page or '"values":[1,0,0]' in page  # the chart's data


def test_the_department_queue_is_counted_by_colour_without_loading_its_cases(
    client: FlaskClient, desk: dict[str, Api],
) -> None:
    """The approver's chart counts the department's open cases (node/home.py by_colour): the
    page loads none of them (a department of a large center holds thousands)."""
    _accepted(desk)
    _accepted(desk)
    loaded: list[Case] = []

    def on_load(target: Case, context: Any) -> None:
        loaded.append(target)

    log_in(client, "approver1")
    event.listen(Case, "load", on_load)
    try:
        response = client.get("/staff/home")
    finally:
        event.remove(Case, "load", on_load)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    counts = re.search(r'id="queue-counts">([^<]*)<', page).group(1)  # type: ignore[union-attr]
    assert counts.startswith("正常 2 件，黄灯预警 0 件，红灯超期 0 件")
    assert loaded == []


def test_the_badge_counts_cases_from_below_complaints_and_leads_to_their_lists(
    client: FlaskClient, desk: dict[str, Api], app: Flask, db: Database,
) -> None:
    _apply(app, db, _from(TOWNSHIP, Kind.CASE_FORWARD, _forward_body()))
    complaint = client.post("/api/v1/public/complaints",
                            json={"content": "排队太久", "window_code": "W01"})
    assert complaint.status_code == 201, complaint.json

    clerk = page_of(client, "clerk1")
    assert badge(clerk) == 1  # the department's case from below; complaints are not theirs
    assert 'id="awaiting-forwarded"' in clerk
    assert 'id="awaiting-complaints"' not in clerk
    link = re.search(r'id="awaiting-forwarded"><a href="([^"]+)"', clerk).group(1)  # type: ignore[union-attr]
    listed = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert "李四" in listed  # the list is one click away
    client.post("/staff/logout", data={"csrf_token": re.search(
        r'name="csrf_token" value="([^"]+)"', clerk).group(1)})  # type: ignore[union-attr]

    supervisor = page_of(client, "super1")
    assert badge(supervisor) == 2
    assert re.search(r'id="awaiting-complaints"><a href="/staff/supervision/complaints'
                     r'\?state=received">投诉待办结 1 件', supervisor)
    assert "下级报送待办理 1 件" in supervisor
    assert "投诉待办结 1 件，其中已超期 0 件" in supervisor  # the supervisor's section
    # the badge is on every staff page, not only the home page
    assert badge(client.get("/staff/supervision").get_data(as_text=True)) == 2


def test_the_home_page_reads_english_when_asked(client: FlaskClient, desk: dict[str, Api]) -> None:
    """Every text of the home page comes from the message catalog: Chinese by default, English
    with Accept-Language: en (no Chinese left in the clerk's sections)."""
    page = page_of(client, "clerk1")
    assert "窗口工作" in page
    assert "我的在办件" in page
    english = client.get("/staff/home", headers={"Accept-Language": "en"})
    assert english.status_code == 200
    text = english.get_data(as_text=True)
    for english_text in ("Window work", "My running cases", "Nothing awaits you."):
        assert english_text in text
    section = text.split('id="home-clerk"', 1)[1].split("</section>", 1)[0]
    assert not re.search(r"[\u4e00-\u9fff]", section), section
