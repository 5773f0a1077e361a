"""The calendar's years over HTTP: listing, import (JSON and XLSX upload), the "weekends
only" confirmation, /healthz degraded, the deadline endpoint with suspensions and an
extension (the case explanation's computation), the admin banner and page, and the public
lookup's provisional mark — with the app's injected clock, never the machine's date."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.service import CalendarService
from node.cases.actors import Actor
from node.cases.service import Application, CaseService
from node.cases.warnings import WarningPolicy
from schemas.runtime.database import Database
from tests.unit.node.conftest import PASSWORD, Api, Clock
from tests.unit.node.test_calendar_schedules import xlsx

DEMO_2027 = Path(__file__).resolve().parents[3] / "deploy" / "demo" / "holidays-2027-demo.json"
YEARS = "/api/v1/calendar/years"


@pytest.fixture
def clock(app: Flask) -> Iterator[Clock]:
    """The app's clock for this test (the app is lent to later tests: it is put back)."""
    clock = Clock(dt.date(2026, 12, 6))
    before = app.extensions["tongban_clock"]
    app.extensions["tongban_clock"] = clock
    yield clock
    app.extensions["tongban_clock"] = before


def import_json(api: Api, document: Any, year: int = 2027) -> Any:
    return api.post(f"{YEARS}/{year}/import", json=document)


def demo() -> dict[str, Any]:
    return json.loads(DEMO_2027.read_text(encoding="utf-8"))


def test_years_say_where_each_schedule_comes_from(admin: Api, clock: Clock) -> None:
    years = {y["year"]: y for y in admin.get(YEARS).json}
    assert years[2026]["source"] == "package"
    assert years[2026]["holidays"] > 20
    assert years[2027] == years[2027] | {"source": "none", "has_data": False, "holidays": 0}

    response = import_json(admin, demo())
    assert response.status_code == 200, response.json
    assert response.json["changed"] is True
    assert response.json["cases"] == {"examined": 0, "moved": 0, "released": 0,
                                      "notice_windows_moved": 0}
    years = {y["year"]: y for y in admin.get(YEARS).json}
    assert years[2027] | {"adopted_at": None} == {
        "year": 2027, "source": "imported", "version": 1, "reference": demo()["source"],
        "publisher": None, "holidays": 33, "worked_weekend_days": 5, "has_data": True,
        "adopted_at": None, "adopted_by": years[2027]["adopted_by"]}
    held = admin.get(f"{YEARS}/2027").json
    assert held["days"][0] == {"date": "2027-01-01", "kind": "holiday", "name": "元旦"}
    assert import_json(admin, demo()).json["changed"] is False
    assert admin.get(f"{YEARS}/2028").status_code == 404


def test_a_bad_import_answers_every_row_and_changes_nothing(admin: Api, clock: Clock) -> None:
    document = demo()
    document["days"][2]["date"] = "2026-12-31"
    document["days"][3]["kind"] = "workday"  # 5 Feb 2027 is a Friday: refused
    document["days"][4]["kind"] = "workday"  # 6 Feb 2027 is a Saturday: fine
    response = import_json(admin, document)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"
    rows = {(r["row"], r["field"]) for r in response.json["error"]["details"]["rows"]}
    assert rows == {(3, "date"), (4, "kind")}
    assert {y["year"]: y["source"] for y in admin.get(YEARS).json}[2027] == "none"
    assert import_json(admin, demo(), year=2028).status_code == 422


def test_an_xlsx_upload_imports_a_year(admin: Api, clock: Clock) -> None:
    workbook = xlsx([("2027-01-01", "休", "元旦"), ("2027-02-20", "班", "春节")])
    response = admin.post(f"{YEARS}/2027/import", data={
        "file": (io.BytesIO(workbook), "2027.xlsx"), "source": "国办发明电"},
        content_type="multipart/form-data", json=None)
    assert response.status_code == 200, response.json
    days = admin.get("/api/v1/calendar/days?year=2027&month=1").json
    assert days[0]["reason"] == "public_holiday"
    assert days[0]["holiday"] == {"english": "New Year's Day", "chinese": "元旦"}


def test_only_an_admin_imports_or_confirms(make_user: Callable[..., Api], clock: Clock) -> None:
    clerk = make_user(Role.CLERK)
    assert import_json(clerk, demo()).status_code == 403
    assert clerk.post(f"{YEARS}/2027/confirm-weekends-only",
                      json={"reason": "x"}).status_code == 403
    assert clerk.get(YEARS).status_code == 200


def test_healthz_is_degraded_from_sixty_days_before_a_year_without_data(
    client: FlaskClient, admin: Api, clock: Clock
) -> None:
    clock.set(dt.date(2026, 11, 1))  # 2027 begins in 61 days
    assert client.get("/healthz").json["status"] == "ok"
    clock.set(dt.date(2026, 11, 2))
    health = client.get("/healthz").json
    assert health["status"] == "degraded"
    assert health["calendar"] == {"status": "degraded", "years_without_data": [2027]}
    assert import_json(admin, demo()).status_code == 200
    assert client.get("/healthz").json["status"] == "ok"


def test_a_confirmation_makes_a_year_weekends_only(client: FlaskClient, admin: Api,
                                                  clock: Clock) -> None:
    response = admin.post(f"{YEARS}/2027/confirm-weekends-only",
                          json={"reason": "通知尚未发布，经主任批准"})
    assert response.status_code == 200, response.json
    assert response.json["source"] == "weekends_only"
    assert client.get("/healthz").json["status"] == "ok"
    assert admin.post(f"{YEARS}/2026/confirm-weekends-only",
                      json={"reason": "x"}).status_code == 409
    january = admin.get("/api/v1/calendar/days?year=2027&month=1").json
    assert january[0]["reason"] == "workday"  # no longer "unknown_year_workday"


def test_the_deadline_endpoint_takes_suspensions_and_an_extension(admin: Api,
                                                                  clock: Clock) -> None:
    base = "/api/v1/calendar/deadline?accepted_on=2025-03-03&days=5"
    answer = admin.get(f"{base}&suspended=2025-03-05..2025-03-07&extension_days=2").json
    assert answer["deadline_on"] == "2025-03-14"
    assert (answer["promised_working_days"], answer["extension_days"],
            answer["counted_working_days"]) == (5, 2, 7)
    assert answer["suspended_working_days"] == 2
    assert answer["provisional"] is False
    two = admin.get(f"{base}&suspended=2025-03-04..2025-03-05"
                    f"&suspended=2025-03-10..2025-03-11").json
    assert two["suspended_working_days"] == 2
    assert two["deadline_on"] == "2025-03-12"
    still = admin.get(f"{base}&suspended=2025-03-05..&today=2025-03-07").json
    assert still["deadline_on"] == "2025-03-12"
    provisional = admin.get("/api/v1/calendar/deadline?accepted_on=2026-12-06&days=20").json
    assert (provisional["deadline_on"], provisional["provisional"],
            provisional["provisional_years"]) == ("2027-01-01", True, [2027])
    for bad in ("2025-03-05", "2025-03-07..2025-03-05", "x..y"):
        refused = admin.get(f"{base}&suspended={bad}")
        assert refused.status_code == 422, bad
        assert "suspended" in json.dumps(refused.json["error"]["details"])


def test_the_case_explanation_and_the_endpoint_agree(
    app: Flask, desk: dict[str, Api], db: Database, clock: Clock
) -> None:
    clerk, approver = desk["clerk"], desk["approver"]
    cid = clerk.post("/api/v1/cases", {"matter_code": "11450981MB0001",
                                       "applicant_name": "张三"}).json["id"]
    assert clerk.post(f"/api/v1/cases/{cid}/accept", {}).status_code == 200
    suspended = approver.post(f"/api/v1/cases/{cid}/suspend", {
        "kind": "site_inspection", "reason": "现场勘查"})
    assert suspended.status_code in (200, 201), suspended.json
    clock.set(dt.date(2026, 12, 9))
    assert approver.post(f"/api/v1/cases/{cid}/resume", {}).status_code == 200
    case = approver.post(f"/api/v1/cases/{cid}/extend", {"days": 3, "reason": "主任批准延期"})
    assert case.status_code == 200, case.json
    case = case.json
    explained = approver.get(f"/api/v1/cases/{cid}/deadline").json
    endpoint = approver.get(
        "/api/v1/calendar/deadline?accepted_on=2026-12-06&days=5"
        "&suspended=2026-12-06..2026-12-09&extension_days=3").json
    assert explained["deadline_on"] == endpoint["deadline_on"] == case["deadline_on"]
    same = ("accepted_on", "promised_working_days", "extension_days", "counted_days",
            "suspended_working_days", "provisional", "warnings")
    assert {k: explained[k] for k in same} == {k: endpoint[k] for k in same}
    # the same days skipped; only the case knows which special procedure stopped the clock
    assert [(d["date"], d["reason"]) for d in explained["skipped_days"]] == [
        (d["date"], d["reason"]) for d in endpoint["skipped_days"]]
    assert [s["kind"] for s in explained["suspensions"]] == ["site_inspection"]


# -- pages --------------------------------------------------------------------------------


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def log_in(client: FlaskClient, username: str) -> str:
    token = CSRF.search(client.get("/staff/login").get_data(as_text=True))
    assert token is not None
    client.post("/staff/login", data={"username": username, "password": PASSWORD,
                                      "csrf_token": token.group(1)})
    page = client.get("/staff/admin/calendar").get_data(as_text=True)
    again = CSRF.search(page)
    assert again is not None
    return again.group(1)


def test_admins_see_the_banner_and_the_calendar_page_says_where_years_come_from(
    client: FlaskClient, make_user: Callable[..., Api], clock: Clock
) -> None:
    make_user(Role.ADMIN, username="chief")
    csrf = log_in(client, "chief")
    page = client.get("/staff/admin/calendar").get_data(as_text=True)
    assert "2027年国家节假日安排尚未导入或下发" in page
    assert "无数据：仅按周末计算（暂定）" in page
    assert "已内置" not in page

    bad = xlsx([("2027-03-03", "班", "春节")])
    refused = client.post("/staff/admin/calendar/import", data={
        "csrf_token": csrf, "year": "2027", "file": (io.BytesIO(bad), "x.xlsx")},
        content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "第 2 行 kind" in refused.get_data(as_text=True)

    done = client.post("/staff/admin/calendar/import", data={
        "csrf_token": csrf, "year": "2027",
        "file": (DEMO_2027.open("rb"), "holidays-2027.json")},
        content_type="multipart/form-data", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "2027年节假日安排已导入（第1版）" in text
    assert "尚未导入或下发" not in text
    assert "本中心导入" in text


def test_the_public_lookup_marks_a_provisional_deadline_and_shows_the_move(
    app: Flask, client: FlaskClient, desk: dict[str, Api], db: Database, clock: Clock
) -> None:
    with db.unit_of_work() as session:
        cases = CaseService(session, node_code="450981",
                            calendar=CalendarService(session, clock=clock).calendar(),
                            warning_policy=WarningPolicy(), clock=clock)
        clerk = Actor.of(session.scalar(select(User).where(User.username == "clerk1")))
        submission = cases.submit(Application(
            matter_code="11450981MB0001",
            channel="window",
            applicant_name="张三",
        ), clerk)
        submission.case.promised_days = 20
        cases.accept(submission.case, clerk)
        number, code = submission.case.number, submission.query_code
    lookup = f"/api/v1/public/cases/{number}?code={code}"
    before = client.get(lookup).json
    assert (before["deadline_on"], before["deadline_provisional"]) == ("2027-01-01", True)
    assert import_json(desk["admin"], demo()).status_code == 200
    after = client.get(lookup).json
    assert (after["deadline_on"], after["deadline_provisional"]) == ("2027-01-04", False)
    assert after["history"][-1]["note"] == (
        "期限因节假日安排调整由 2027-01-01 改为 2027-01-04，不再为暂定")
