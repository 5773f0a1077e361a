"""The figures API (node/api/metrics.py) through the Flask test client, on both databases:
figures with the previous period and the changes, the summary, the definitions, the
failure-pattern lists, who may read them, and bad periods.

The cases are worked through CaseService at November 2026 dates (the API itself reads the
real clock, so every case is dated on or before 12 November 2026: the figures below hold on
any day from then on).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from node.auth.permissions import Role
from node.cases.models import PaymentPlace
from schemas.metrics import ALL_METRICS
from schemas.periods import Period
from schemas.runtime.database import Database
from schemas.summary import SummarySchema
from tests.unit.node.conftest import Api, matter_payload
from tests.unit.node.test_metrics_golden import Desk, d, id_number

FIGURES = "/api/v1/metrics/figures"
SUMMARY = "/api/v1/metrics/summary"
DEFINITIONS = "/api/v1/metrics/definitions"
PATTERNS = "/api/v1/metrics/patterns"
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def center(catalog_base: Api, make_user: Callable[..., Api], db: Database) -> dict[str, Any]:
    """Matters M1 (entered), NOTIN (not entered) and FEE; staff of every role; cases:

    October: R (window, rejected 28 Oct).
    November: B (completed the day it was accepted, 2 Nov); LATE (accepted 2 Nov, due 9 Nov,
    completed 12 Nov); OUT1 and OUT2 (department office, entered matter: 体外循环, 3 and 4 Nov);
    IN (department office, matter not entered, 3 Nov); X1 window 4 Nov and X2 online 5 Nov of
    one applicant (两头受理: X2); FEE (50 yuan paid outside the center 6 Nov, completed 6 Nov).
    """
    admin = catalog_base
    for payload in (
        matter_payload(),
        matter_payload(code="NOTIN", entered=False,
                       powers=dict.fromkeys(matter_payload()["powers"], False)),
        matter_payload(code="FEE", fee_amount_fen=5000, fee_basis="依据", fee_standard="50元"),
    ):
        response = admin.post("/api/v1/matters", payload)
        assert response.status_code == 201, response.json
    users = {
        "admin": admin,
        "clerk": make_user(Role.CLERK, username="clerk1", department="SC"),
        "approver": make_user(Role.APPROVER, username="approver1", department="SC"),
        "supervisor": make_user(Role.SUPERVISOR, username="super1"),
        "viewer": make_user(Role.VIEWER, username="viewer1"),
    }
    desk = Desk(db, clerk="clerk1", approver="approver1")
    desk.at(d(10, 28))
    desk.submit("R")
    desk.reject("R")
    desk.at(d(11, 2))
    for key in ("B", "LATE"):
        desk.submit(key)
        desk.accept(key)
    desk.approve("B")
    desk.complete("B")
    desk.at(d(11, 3))
    desk.submit("OUT1", "department_office", id_serial=5)
    desk.submit("IN", "department_office", matter="NOTIN")
    desk.at(d(11, 4))
    desk.submit("OUT2", "department_office")
    desk.submit("X1", id_serial=7)
    desk.at(d(11, 5))
    desk.submit("X2", "online", id_serial=7)
    desk.at(d(11, 6))
    desk.submit("FEE", matter="FEE")
    desk.accept("FEE")
    desk.approve("FEE")
    desk.pay("FEE", 5000, PaymentPlace.ELSEWHERE)
    desk.complete("FEE")
    desk.at(d(11, 12))
    desk.approve("LATE")
    desk.complete("LATE")
    return {**users, "desk": desk}


def numbers(response: Any) -> list[str]:
    return [item["number"] for item in response.json["items"]]


def test_figures_with_previous_period_and_changes(center: dict[str, Any]) -> None:
    response = center["supervisor"].get(f"{FIGURES}?period=2026-11")
    assert response.status_code == 200, response.json
    body = response.json
    assert set(body) == {"summary", "as_of", "previous", "changes"}
    assert body["as_of"] is None  # November has ended
    summary, previous, changes = body["summary"], body["previous"], body["changes"]
    assert SummarySchema().validate(summary) == {}
    assert summary["period"]["label"] == "2026-11"
    assert previous["period"] == {"kind": "month", "label": "2026-10",
                                  "start": "2026-10-01", "end": "2026-10-31"}
    metrics = {k: v.get("value") for k, v in summary["metrics"].items()}
    assert metrics["received"] == 8  # B LATE OUT1 IN OUT2 X1 X2 FEE
    assert metrics["received_department_office"] == 3
    assert metrics["outside_center"] == 2  # OUT1 OUT2
    assert metrics["completed"] == 3  # B FEE LATE
    assert metrics["completed_late"] == 1  # LATE
    assert metrics["completed_same_day"] == 2  # B FEE
    assert metrics["two_headed"] == 1  # X2
    assert metrics["fees_elsewhere_fen"] == 5000
    assert summary["metrics"]["on_time_rate"] == {
        "unit": "basis_points", "numerator": 2, "denominator": 3, "value": 6667}
    assert previous["metrics"]["received"]["value"] == 1  # R
    assert previous["metrics"]["rejected"]["value"] == 1
    assert "value" not in previous["metrics"]["on_time_rate"]  # nothing completed in October
    assert changes["received"] == 7
    assert changes["rejected"] == -1
    assert changes["completed"] == 3
    assert "on_time_rate" not in changes  # no value to compare with
    assert changes["entry_rate"] == 0  # the catalog as it is now, both times
    assert set(changes) <= set(ALL_METRICS)


def test_a_running_month_is_set_beside_the_same_days_of_the_month_before(
        center: dict[str, Any], db: Database, app: Any) -> None:
    import datetime as dt

    from node.metrics.service import MetricsService

    # 3 December, 10:00 in Beijing: December runs; its figures go up to the 3rd
    at = dt.datetime(2026, 12, 3, 2, 0, tzinfo=dt.UTC)
    with db.sessions() as session:
        service = MetricsService.for_settings(session, app.config["TONGBAN"])
        service.clock = lambda: at
        found = service.figures(Period.month(2026, 12))
        whole = service.figures(Period.month(2026, 11))

    assert found["as_of"] == dt.date(2026, 12, 3)
    assert found["previous"]["same_days"] is True
    assert (found["previous"]["period"]["start"], found["previous"]["period"]["end"]) == (
        "2026-11-01", "2026-11-03")
    # 1 to 3 November: B completed (2 Nov); the whole month completed three (B, FEE, LATE)
    assert found["previous"]["metrics"]["completed"]["value"] == 1
    assert found["previous"]["metrics"]["received"]["value"] == 4  # B LATE OUT1 IN
    assert found["changes"]["completed"] == -1  # 0 so far in December, against 1
    # an ended month beside the whole month before
    assert whole["as_of"] is None
    assert whole["previous"]["same_days"] is False
    assert whole["previous"]["period"]["end"] == "2026-10-31"


def test_supervision_roles_read_figures_and_patterns(center: dict[str, Any]) -> None:
    for role in ("supervisor", "viewer", "admin"):
        api = center[role]
        assert api.get(f"{FIGURES}?period=2026-11").status_code == 200, role
        assert api.get(f"{FIGURES}?period=2026-Q4").status_code == 200, role
        assert api.get(f"{PATTERNS}/outside_center?period=2026-11").status_code == 200, role


def test_window_staff_and_anonymous_are_refused(center: dict[str, Any], anonymous: Api) -> None:
    for path in (f"{FIGURES}?period=2026-11", f"{SUMMARY}?period=2026-11",
                 f"{PATTERNS}/two_headed?period=2026-11"):
        for role in ("clerk", "approver"):
            response = center[role].get(path)
            assert response.status_code == 403, (path, role)
            assert response.json["error"]["code"] == "forbidden"
        response = anonymous.get(path)
        assert response.status_code == 401, path
        assert response.json["error"]["code"] == "unauthorized"
        # authentication comes first: a bad period tells an anonymous caller nothing
        assert anonymous.get(path.replace("2026-11", "abc")).status_code == 401


def test_summary_is_the_document_sent_upward(center: dict[str, Any]) -> None:
    response = center["supervisor"].get(f"{SUMMARY}?period=2026-11")
    assert response.status_code == 200
    summary = response.json
    assert SummarySchema().validate(summary) == {}
    assert summary["schema"] == "tongban.summary"
    assert summary["node"]["code"] == "450981"
    assert set(summary["metrics"]) == set(ALL_METRICS)
    figures = center["supervisor"].get(f"{FIGURES}?period=2026-11").json["summary"]
    assert figures["metrics"] == summary["metrics"]
    quarter = center["supervisor"].get(f"{SUMMARY}?period=2026-Q4").json
    assert quarter["period"]["kind"] == "quarter"
    assert quarter["metrics"]["received"]["value"] == 9  # R + November's 8
    day = center["supervisor"].get(f"{SUMMARY}?period=2026-11-03").json
    assert day["metrics"]["outside_center"]["value"] == 1  # OUT1


def test_no_personal_data_in_figures(center: dict[str, Any], db: Database) -> None:
    from sqlalchemy import select

    from node.cases.models import Case

    with db.sessions() as session:
        rows = session.execute(
            select(Case.applicant_name, Case.applicant_id_number, Case.applicant_phone)
        ).all()
    personal = {v for row in rows for v in row if v}
    assert len(personal) == 3 * 9 - 1  # X1 and X2 share an ID number
    for path in (f"{FIGURES}?period=2026-11", f"{FIGURES}?period=2026"):
        response = center["supervisor"].get(path)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert [v for v in personal if v in text] == []


def test_bad_period_is_a_422_naming_period(center: dict[str, Any]) -> None:
    for label in ("2026-13", "abc", "2026-Q5", "1999", "2026-02-30", " "):
        for path in (FIGURES, SUMMARY, f"{PATTERNS}/completed_late"):
            response = center["supervisor"].get(path, query_string={"period": label})
            assert response.status_code == 422, (path, label)
            error = response.json["error"]
            assert error["code"] == "validation_failed"
            assert list(error["details"]["fields"]) == ["period"]
    for query in ({}, {"period": "2026-11-01-x"}):  # missing; longer than 10 characters
        response = center["supervisor"].get(FIGURES, query_string=query)
        assert response.status_code == 422
        assert "period" in response.json["error"]["details"]["fields"]


@pytest.mark.parametrize("label", ["2000", "2000-Q1"])
def test_figures_of_the_first_year(center: dict[str, Any], label: str) -> None:
    response = center["supervisor"].get(f"{FIGURES}?period={label}")
    assert response.status_code == 200


def test_definitions(center: dict[str, Any], anonymous: Api) -> None:
    response = center["clerk"].get(DEFINITIONS)  # every staff member may read them
    assert response.status_code == 200
    listed = response.json
    assert [m["key"] for m in listed] == list(ALL_METRICS)
    for metric in listed:
        definition = ALL_METRICS[metric["key"]]
        assert CJK.search(metric["name"]), metric
        assert metric["name"] == definition.name
        assert metric["unit"] == definition.unit.value
        assert metric["definition"]
        assert metric["summed_daily"] is definition.daily
        assert metric["direction"] == definition.direction.value
        if metric["unit"] in ("basis_points", "per_month", "hundredths"):
            assert metric["numerator"], metric
            assert metric["denominator"], metric
        else:
            assert metric["numerator"] is metric["denominator"] is None
    by_key = {m["key"]: m for m in listed}
    assert by_key["on_time_rate"]["name"] == "按时办结率"
    assert by_key["same_day_rate"]["name"] == "日结率"
    assert by_key["entry_rate"]["name"] == "进驻率"
    assert by_key["completed_monthly_average"]["name"] == "月均办结"
    assert anonymous.get(DEFINITIONS).status_code == 401


def test_pattern_lists(center: dict[str, Any]) -> None:
    desk: Desk = center["desk"]
    supervisor = center["supervisor"]

    def listed(pattern: str, period: str = "2026-11", **extra: Any) -> Any:
        response = supervisor.get(f"{PATTERNS}/{pattern}",
                                  query_string={"period": period, **extra})
        assert response.status_code == 200, response.json
        return response

    number = {key: ref.number for key, ref in desk.cases.items()}
    outside = listed("outside_center")
    assert (outside.json["total"], outside.json["total_exact"]) == (2, True)
    assert numbers(outside) == [number["OUT2"], number["OUT1"]]  # newest first
    assert numbers(listed("two_headed")) == [number["X2"]]
    assert numbers(listed("completed_late")) == [number["LATE"]]
    assert numbers(listed("fees_elsewhere")) == [number["FEE"]]
    for pattern in ("outside_center", "two_headed", "completed_late", "fees_elsewhere"):
        assert listed(pattern, "2026-10").json["total"] == 0
    assert numbers(listed("outside_center", "2026-11-04")) == [number["OUT2"]]
    first = listed("outside_center", per_page=1)
    assert numbers(first) == [number["OUT2"]]
    assert (first.json["total"], first.json["per_page"]) == (2, 1)
    last = listed("outside_center", per_page=1, cursor=first.json["next_cursor"])
    assert numbers(last) == [number["OUT1"]]
    assert last.json["next_cursor"] is None  # the last page
    for bad in ("nonsense", "WyJ4Il0"):  # not base64 JSON; ["x"], not an id
        refused = supervisor.get(f"{PATTERNS}/outside_center",
                                 query_string={"period": "2026-11", "cursor": bad})
        assert refused.status_code == 422
        assert list(refused.json["error"]["details"]["fields"]) == ["cursor"]
    numbered = supervisor.get(f"{PATTERNS}/outside_center",
                              query_string={"period": "2026-11", "page": 2})
    assert list(numbered.json["error"]["details"]["fields"]) == ["page"]


def test_pattern_lists_mask_personal_data(center: dict[str, Any]) -> None:
    response = center["supervisor"].get(f"{PATTERNS}/outside_center?period=2026-11")
    full_id, phone = id_number(5), "13900000004"  # OUT1 was the desk's fourth case
    number = center["desk"].cases["OUT1"].number
    item = next(i for i in response.json["items"] if i["number"] == number)
    assert item["applicant_id_number"] == full_id[:6] + "********" + full_id[-4:]
    assert item["applicant_phone"] == "139****0004"
    text = json.dumps(response.json, ensure_ascii=False)
    assert full_id not in text
    assert phone not in text
    # the applicant's name is shown in full to supervision, as in every staff case list
    assert item["applicant_name"] == "申请人OUT1号"


def test_unknown_pattern_is_a_422(center: dict[str, Any]) -> None:
    response = center["supervisor"].get(f"{PATTERNS}/steps_added?period=2026-11")
    assert response.status_code == 422
    fields = response.json["error"]["details"]["fields"]
    assert list(fields) == ["pattern"]
    assert "outside_center" in fields["pattern"][0]
