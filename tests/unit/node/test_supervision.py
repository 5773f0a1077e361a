"""The supervision list of yellow and red cases, and who may see supervision (both databases)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import update

from node.auth.permissions import Role
from node.calendar.workdays import WorkingCalendar, shanghai_today
from node.cases.models import Case
from node.cases.warnings import Warning, WarningPolicy, colour
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api, matter_payload
from tests.unit.node.test_public_lookup import open_desk, set_public_limit, submit

WARNINGS = "/api/v1/supervision/warnings"
PROMISED = 5  # matter_payload's promised working days


@pytest.fixture
def desk(catalog_base: Api, make_user: Callable[..., Api], app: Flask) -> dict[str, Api]:
    """SC's matter and clerks, plus a matter of 住建局 (ZJ) at its own window W02."""
    set_public_limit(app, 1000)
    desk = open_desk(catalog_base, make_user)
    assert catalog_base.post("/api/v1/departments",
                             {"code": "ZJ", "name": "住房和城乡建设局"}).status_code == 201
    assert catalog_base.post("/api/v1/windows", {"code": "W02", "name": "住建窗口",
                                                 "department_codes": ["ZJ"]}).status_code == 201
    zj = matter_payload(code="ZJ0001", name="建筑工程施工许可", department_code="ZJ",
                        window_code="W02")
    assert catalog_base.post("/api/v1/matters", zj).status_code == 201
    desk["clerk2"] = make_user(Role.CLERK, username="clerk2", department="SC")
    return desk


def accepted_on(db: Database, case_id: int, day: dt.date) -> None:
    """Backdate a case's acceptance (and deadline) as if it had been accepted on ``day``."""
    deadline = WorkingCalendar().add_working_days(day, PROMISED)
    with db.unit_of_work() as session:
        session.execute(
            update(Case).where(Case.id == case_id).values(accepted_on=day, deadline_on=deadline)
        )


def day_for(wanted: Warning) -> dt.date:
    """An acceptance date that makes a 5-working-day case ``wanted`` today."""
    today, calendar = shanghai_today(), WorkingCalendar()
    for back in range(60):
        day = today - dt.timedelta(days=back)
        left = calendar.working_days_left(calendar.add_working_days(day, PROMISED), today)
        if colour(left, PROMISED, WarningPolicy()) is wanted:
            return day
    raise AssertionError(f"no acceptance date in the last 60 days gives {wanted}")


def accepted_case(clerk: Api, **extra: Any) -> int:
    case_id: int = submit(clerk, **extra)["id"]
    assert clerk.post(f"/api/v1/cases/{case_id}/accept", {}).status_code == 200
    return case_id


def test_supervision_lists_yellow_and_red_cases(desk, db: Database) -> None:
    clerk, clerk2, supervisor = desk["clerk"], desk["clerk2"], desk["supervisor"]
    red = accepted_case(clerk)
    accepted_on(db, red, shanghai_today() - dt.timedelta(days=30))
    yellow = accepted_case(clerk2)
    accepted_on(db, yellow, day_for(Warning.YELLOW))
    green = accepted_case(clerk)
    accepted_on(db, green, day_for(Warning.GREEN))
    red_zj = accepted_case(clerk, matter_code="ZJ0001")
    accepted_on(db, red_zj, shanghai_today() - dt.timedelta(days=30))
    submit(clerk)  # not accepted: no clock, no colour

    listed = supervisor.get(WARNINGS)
    assert listed.status_code == 200, listed.json
    colours = {c["id"]: c["warning"] for c in listed.json["items"]}
    assert colours == {red: "red", yellow: "yellow", red_zj: "red"}
    assert listed.json["total"] == 3

    only_red = supervisor.get(f"{WARNINGS}?colour=red").json
    assert {c["id"] for c in only_red["items"]} == {red, red_zj}
    both = supervisor.get(f"{WARNINGS}?colour=red&colour=yellow").json
    assert both["total"] == 3
    by_clerk = supervisor.get(f"{WARNINGS}?clerk=clerk2").json
    assert [c["id"] for c in by_clerk["items"]] == [yellow]
    by_department = supervisor.get(f"{WARNINGS}?department=ZJ").json
    assert [c["id"] for c in by_department["items"]] == [red_zj]
    assert by_department["items"][0]["department"]["code"] == "ZJ"
    by_window = supervisor.get(f"{WARNINGS}?window=W01&colour=red").json
    assert [c["id"] for c in by_window["items"]] == [red]
    assert supervisor.get(f"{WARNINGS}?window=W02").json["total"] == 1
    first = supervisor.get(f"{WARNINGS}?per_page=2").json  # the earliest deadline first
    assert [c["id"] for c in first["items"]] == [red, red_zj]
    assert (first["total"], first["total_exact"]) == (3, True)
    paged = supervisor.get(f"{WARNINGS}?per_page=2&cursor={first['next_cursor']}").json
    assert ([c["id"] for c in paged["items"]], paged["total"], paged["next_cursor"]) == (
        [yellow], 3, None)
    assert supervisor.get(f"{WARNINGS}?page=2").status_code == 422  # paged by cursor now
    item = listed.json["items"][0]
    assert item["applicant_phone"] == "138****5678"  # personal data masked in lists


def test_warning_filters_reject_bad_input(desk) -> None:
    supervisor = desk["supervisor"]
    green = supervisor.get(f"{WARNINGS}?colour=green")
    assert green.status_code == 422
    assert "colour" in green.json["error"]["details"]["fields"]
    assert supervisor.get(f"{WARNINGS}?per_page=0").status_code == 422
    assert supervisor.get("/api/v1/supervision/complaints?overdue=perhaps").status_code == 422
    assert supervisor.get("/api/v1/supervision/rectifications?state=lost").status_code == 422


READS = [WARNINGS, "/api/v1/supervision/complaints", "/api/v1/supervision/rectifications"]


@pytest.mark.parametrize("path", READS)
def test_supervision_reads_by_role(desk, make_user, anonymous: Api, path: str) -> None:
    assert desk["supervisor"].get(path).status_code == 200
    assert make_user(Role.VIEWER).get(path).status_code == 200
    assert make_user(Role.ADMIN).get(path).status_code == 200
    assert desk["clerk"].get(path).status_code == 403
    assert desk["approver"].get(path).status_code == 403
    refused = anonymous.get(path)
    assert refused.status_code == 401
    assert refused.json["error"]["code"] == "unauthorized"


MANAGE = [("/api/v1/supervision/complaints/450981-TS-2026-000001/resolve", {"resolution": "x"}),
          ("/api/v1/supervision/rectifications/1/start", {}),
          ("/api/v1/supervision/rectifications/1/extend", {"reason": "x", "days": 1})]


@pytest.mark.parametrize(("path", "body"), MANAGE)
def test_supervision_actions_by_role(desk, make_user, anonymous: Api, path: str,
                                     body: dict[str, Any]) -> None:
    assert desk["clerk"].post(path, body).status_code == 403
    assert make_user(Role.VIEWER).post(path, body).status_code == 403
    assert anonymous.post(path, body).status_code == 401
    # the supervisor passes the check and reaches the (absent) complaint or rectification
    assert desk["supervisor"].post(path, body).status_code == 404


def test_supervision_is_documented(anonymous: Api) -> None:
    spec = anonymous.get("/api/v1/openapi.json").json
    paths = spec["paths"]
    for path in ("/api/v1/supervision/warnings",
                 "/api/v1/supervision/rectifications/{rectification_id}/cannot-rectify",
                 "/api/v1/public/cases/{number}", "/api/v1/public/complaints"):
        assert path in paths
    resolve = paths["/api/v1/supervision/complaints/{number}/resolve"]["post"]
    assert resolve["x-permission"] == "supervision.manage"
    assert resolve["summary"] == "Resolve a complaint with the written resolution."
    assert "409" in resolve["description"]
    lookup = paths["/api/v1/public/cases/{number}"]["get"]
    assert "security" not in lookup
