"""SQL and template injection strings in every text field of the catalog and of cases, and
bodies that are too big, too deep or not UTF-8: each is stored verbatim or refused with the
documented error shape, never a 5xx, and nothing is evaluated."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from schemas.runtime.database import Database
from tests.unit.node.conftest import Api, matter_payload

HOSTILE = [
    "'; DROP TABLE cases; --",
    "\" OR 1=1 --",
    "{{ 7*7 }}",
    "{% for x in range(3) %}x{% endfor %}",
    "${7*7}",
    "<script>alert(1)</script>",
    "\u202e倒序\u200b",
    "%s%s%s%n",
]
MATTER_TEXT = ["name", "legal_basis", "procedure", "conditions", "fee_basis", "fee_standard",
               "complaint_channel", "window_authority"]


def _error_shape(response: Any) -> None:
    assert response.status_code < 500, response.data[:300]
    error = response.get_json()["error"]
    assert set(error) >= {"code", "message", "details"}


def _tables_intact(db: Database) -> None:
    with db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM cases")).scalar_one() >= 0
        assert connection.execute(text("SELECT count(*) FROM matters")).scalar_one() >= 0


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_in_every_matter_field_is_kept_verbatim(
    catalog_base: Api, db: Database, hostile: str
) -> None:
    for number, field in enumerate(MATTER_TEXT):
        code = f"11450981HX{number:04d}"
        response = catalog_base.post("/api/v1/matters",
                                     matter_payload(code=code, **{field: hostile}))
        assert response.status_code == 201, (field, response.get_json())
        stored = catalog_base.get(f"/api/v1/matters/{code}").get_json()
        assert stored[field] == hostile, field
    for path, body in (("/api/v1/departments", {"code": "HX", "name": hostile}),
                       ("/api/v1/windows", {"code": "WX", "name": hostile, "location": hostile,
                                            "department_codes": ["SC"]})):
        response = catalog_base.post(path, body)
        if response.status_code != 201:
            _error_shape(response)
    _tables_intact(db)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_in_every_case_field_is_kept_verbatim(
    desk: dict[str, Api], db: Database, hostile: str
) -> None:
    clerk = desk["clerk"]
    response = clerk.post("/api/v1/cases", {
        "matter_code": "11450981MB0001", "applicant_name": hostile, "agent_name": hostile,
        "notes": hostile, "applicant_phone": "13800138000"})
    assert response.status_code == 201, response.get_json()
    case = clerk.get(f"/api/v1/cases/{response.get_json()['id']}").get_json()
    assert (case["applicant_name"], case["agent_name"]) == (hostile, hostile)
    rejected = clerk.post(f"/api/v1/cases/{case['id']}/reject",
                          {"version": case["version"], "reason": hostile})
    assert rejected.status_code == 200, rejected.get_json()
    file = clerk.get(f"/api/v1/cases/{case['id']}").get_json()
    assert file["events"][-1]["reason"] == hostile
    for query in ({"q": hostile}, {"applicant": hostile}, {"state": hostile}):
        found = clerk.get("/api/v1/cases", query_string=query)
        assert found.status_code in (200, 422), found.data[:200]
    _tables_intact(db)


def test_oversized_deep_and_broken_bodies_are_refused_in_shape(desk: dict[str, Api]) -> None:
    clerk = desk["clerk"]
    big = clerk.post("/api/v1/cases", {"matter_code": "11450981MB0001",
                                       "applicant_name": "x" * (128 * 1024)})
    assert big.status_code == 413
    _error_shape(big)
    deep = "[" * 50_000 + "]" * 50_000
    for body in (deep.encode(), b'{"applicant_name": "\xff\xfe"}', b'{"a": 1', b"\x00\x01"):
        response = clerk.request("POST", "/api/v1/cases", data=body,
                                 headers={"Content-Type": "application/json"})
        assert 400 <= response.status_code < 500, (body[:20], response.status_code)
        _error_shape(response)
