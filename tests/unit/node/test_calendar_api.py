"""The calendar API: days, local overrides and deadline explanations, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from node.auth.permissions import Role
from node.calendar.models import CalendarOverride
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api

DEADLINE = "/api/v1/calendar/deadline?accepted_on=2025-03-03&days=5"


def count_overrides(db: Database) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count(CalendarOverride.id))) or 0


def put(api: Api, day: str, body: Any) -> Any:
    return api.request("PUT", f"/api/v1/calendar/overrides/{day}", json=body)


def delete(api: Api, day: str) -> Any:
    return api.request("DELETE", f"/api/v1/calendar/overrides/{day}")


def test_local_closure_moves_the_deadline(admin: Api, db: Database) -> None:
    before = admin.get(DEADLINE)
    assert before.status_code == 200, before.json
    assert before.json["deadline_on"] == "2025-03-10"

    response = put(admin, "2025-03-05", {"working": False, "reason": "台风停止办公"})
    assert response.status_code == 200, response.json
    assert response.json["day"] == "2025-03-05"
    assert response.json["working"] is False
    assert response.json["created_by"] == admin.get("/api/v1/auth/me").json["username"]

    after = admin.get(DEADLINE).json
    assert after["deadline_on"] == "2025-03-11"
    assert after["counted_days"] == [
        "2025-03-04", "2025-03-06", "2025-03-07", "2025-03-10", "2025-03-11"
    ]
    closure = next(d for d in after["skipped_days"] if d["date"] == "2025-03-05")
    assert closure["reason"] == "local_closure"
    assert "台风停止办公" in closure["description"]

    month = admin.get("/api/v1/calendar/days?year=2025&month=3").json
    assert len(month) == 31
    fifth = month[4]
    assert fifth == {
        "date": "2025-03-05", "working": False, "reason": "local_closure",
        "description": "closed locally: 台风停止办公", "holiday": None, "note": "台风停止办公",
    }

    # a second PUT replaces the decision for the same day
    reopened = put(admin, "2025-03-05", {"working": True, "reason": "恢复办公"})
    assert reopened.status_code == 200
    assert count_overrides(db) == 1
    listed = admin.get("/api/v1/calendar/overrides?year=2025").json
    assert [(o["day"], o["working"], o["reason"]) for o in listed] == [
        ("2025-03-05", True, "恢复办公")
    ]
    assert admin.get("/api/v1/calendar/overrides?year=2024").json == []

    assert delete(admin, "2025-03-05").status_code == 204
    assert admin.get(DEADLINE).json["deadline_on"] == "2025-03-10"
    assert count_overrides(db) == 0


def test_month_shows_holidays_and_adjusted_working_days(admin: Api) -> None:
    days = admin.get("/api/v1/calendar/days?year=2026&month=10").json
    by_date = {d["date"]: d for d in days}
    national_day = by_date["2026-10-01"]
    assert national_day["working"] is False
    assert national_day["reason"] == "public_holiday"
    assert national_day["holiday"] == {"english": "National Day", "chinese": "国庆节"}
    adjusted = by_date["2026-10-10"]  # a Saturday worked (调休)
    assert (adjusted["working"], adjusted["reason"]) == (True, "adjusted_workday")
    assert by_date["2026-10-08"]["reason"] == "workday"


def test_deadline_explains_holidays_and_unknown_years(admin: Api) -> None:
    holiday = admin.get("/api/v1/calendar/deadline?accepted_on=2025-10-03&days=0").json
    assert holiday["deadline_on"] == "2025-10-09"
    assert holiday["accepted_on_status"]["reason"] == "public_holiday"
    assert holiday["base_date"] == "2025-10-03"
    assert holiday["suspensions"] == []
    unknown = admin.get("/api/v1/calendar/deadline?accepted_on=2035-01-01&days=5").json
    assert unknown["deadline_on"] == "2035-01-08"
    assert unknown["warnings"]
    assert "2035" in unknown["warnings"][0]


def test_clerk_reads_but_cannot_change_the_calendar(
    make_user: Callable[..., Api], db: Database
) -> None:
    clerk = make_user(Role.CLERK)
    assert clerk.get("/api/v1/calendar/days?year=2025&month=10").status_code == 200
    assert clerk.get("/api/v1/calendar/overrides").status_code == 200
    assert clerk.get(DEADLINE).status_code == 200
    denied = put(clerk, "2025-03-05", {"working": False, "reason": "x"})
    assert denied.status_code == 403
    assert denied.json["error"]["code"] == "forbidden"
    assert delete(clerk, "2025-03-05").status_code == 403
    assert count_overrides(db) == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/calendar/days?year=2025&month=10"),
        ("GET", "/api/v1/calendar/overrides"),
        ("GET", DEADLINE),
        ("PUT", "/api/v1/calendar/overrides/2025-03-05"),
        ("DELETE", "/api/v1/calendar/overrides/2025-03-05"),
    ],
)
def test_anonymous_is_unauthorized(anonymous: Api, method: str, path: str) -> None:
    response = anonymous.request(method, path, json={"working": False, "reason": "x"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("day", ["2025-13-01", "2025-02-30", "20250305", "tomorrow", "1999-12-31"])
def test_bad_date_in_path_is_a_named_validation_error(
    admin: Api, db: Database, day: str
) -> None:
    for response in (put(admin, day, {"working": False, "reason": "x"}), delete(admin, day)):
        assert response.status_code == 422
        error = response.json["error"]
        assert error["code"] == "validation_failed"
        assert set(error["details"]["fields"]) == {"day"}
    assert count_overrides(db) == 0


def test_bad_body_and_query_are_named(admin: Api, db: Database) -> None:
    body = put(admin, "2025-03-05", {"working": "sometimes", "colour": "red"})
    assert body.status_code == 422
    assert set(body.json["error"]["details"]["fields"]) == {"working", "reason", "colour"}
    blank = put(admin, "2025-03-05", {"working": False, "reason": "  "})
    assert blank.status_code == 422
    assert set(blank.json["error"]["details"]["fields"]) == {"reason"}
    assert count_overrides(db) == 0

    query = admin.get("/api/v1/calendar/deadline?accepted_on=2025-02-30&days=-1")
    assert query.status_code == 422
    assert query.json["error"]["details"]["location"] == "query"
    assert set(query.json["error"]["details"]["fields"]) == {"accepted_on", "days"}
    month = admin.get("/api/v1/calendar/days?year=2025&month=13")
    assert month.status_code == 422
    assert set(month.json["error"]["details"]["fields"]) == {"month"}
    assert admin.get("/api/v1/calendar/days?month=3").status_code == 422


def test_deleting_a_missing_override_is_not_found(admin: Api) -> None:
    response = delete(admin, "2025-03-05")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert response.json["error"]["details"] == {"day": "2025-03-05"}


def test_calendar_is_documented_in_openapi(anonymous: Api) -> None:
    spec = anonymous.get("/api/v1/openapi.json").json
    deadline = spec["paths"]["/api/v1/calendar/deadline"]["get"]
    assert deadline["x-permission"] == "catalog.read"
    assert "working days" in deadline["summary"]
    assert "Day 0 is the acceptance date" in deadline["description"]
    put_doc = spec["paths"]["/api/v1/calendar/overrides/{day}"]["put"]
    assert put_doc["x-permission"] == "catalog.manage"
