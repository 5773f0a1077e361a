"""Today's national indicators through the API and the pages (both databases): a visit to
the hall recorded on the case by the window (登记到厅: one click, one history step, counted
once), a matter that cannot be applied for online (网上可办), a rectification completed
with the applicant called back (回访), and the summary and the supervisor's home page that
carry them.  Every formula on a hand-computed data set: tests/unit/node/test_metrics_golden.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from node.calendar.workdays import shanghai_today
from schemas.metrics import NATIONAL_INDICATORS
from schemas.periods import Period
from tests.unit.node.conftest import Api, matter_payload
from tests.unit.node.test_public_lookup import complete_case, open_desk, set_public_limit, submit
from tests.unit.node.test_web import csrf_of, log_in

RECTIFICATIONS = "/api/v1/supervision/rectifications"


@pytest.fixture
def desk(catalog_base: Api, make_user: Callable[..., Api], app: Flask) -> dict[str, Api]:
    set_public_limit(app, 1000)
    return open_desk(catalog_base, make_user)


def this_month() -> str:
    today = shanghai_today()
    return Period.month(today.year, today.month).label


def metrics(desk: dict[str, Api]) -> dict[str, Any]:
    answer = desk["supervisor"].get(f"/api/v1/metrics/summary?period={this_month()}")
    assert answer.status_code == 200, answer.json
    return answer.json["metrics"]  # type: ignore[no-any-return]


def ratio(entry: dict[str, Any]) -> tuple[int, int, int | None]:
    return entry["numerator"], entry["denominator"], entry.get("value")


def test_a_visit_is_one_click_one_step_of_the_history_and_counted_once(
    desk: dict[str, Api],
) -> None:
    clerk = desk["clerk"]
    case = submit(clerk)  # at the window: the first visit
    online = submit(clerk, channel="online")  # no visit at all
    complete_case(desk, online["id"])
    read = clerk.get(f"/api/v1/cases/{case['id']}").json
    visited = clerk.post(f"/api/v1/cases/{case['id']}/visit",
                         {"version": read["version"], "reason": "补交原件"})
    assert visited.status_code == 200, visited.json
    # the same click sent twice (the page's form resent): the stale version is refused
    again = clerk.post(f"/api/v1/cases/{case['id']}/visit", {"version": read["version"]})
    assert again.status_code == 409, again.json
    history = clerk.get(f"/api/v1/cases/{case['id']}").json
    steps = [e for e in history["events"] if e["action"] == "visit"]
    assert len(steps) == 1
    assert steps[0]["reason"] == "补交原件"
    assert steps[0]["from_state"] == steps[0]["to_state"] == "submitted"  # no state change
    complete_case(desk, case["id"])
    # after completion, collecting the result: a third visit (the window's receipt, 补交, 领取)
    assert clerk.post(f"/api/v1/cases/{case['id']}/visit", {}).status_code == 200
    assert clerk.post(f"/api/v1/cases/{case['id']}/deliver", {}).status_code == 200
    closed = clerk.post(f"/api/v1/cases/{case['id']}/visit", {})
    assert closed.status_code == 409  # delivered: record the visit before delivering
    assert closed.json["error"]["code"] == "invalid_transition"

    found = metrics(desk)
    assert found["completed_here"]["value"] == 2
    assert found["visits"]["value"] == 3  # 3 + 0
    assert found["visited_at_most_once"]["value"] == 1  # the online case
    assert found["fully_online"]["value"] == 1
    assert found["average_visits"] == {"unit": "hundredths", "numerator": 3,
                                       "denominator": 2, "value": 150}  # 1.50 visits
    assert ratio(found["at_most_once_rate"]) == (1, 2, 5000)
    assert ratio(found["fully_online_rate"]) == (1, 2, 5000)


def test_a_matter_not_offered_online_refuses_online_applications(
    desk: dict[str, Api], client: FlaskClient,
) -> None:
    admin, clerk = desk["admin"], desk["clerk"]
    created = admin.post("/api/v1/matters", matter_payload(code="HALL", online=False))
    assert created.status_code == 201, created.json
    assert created.json["online"] is False
    assert admin.get("/api/v1/matters/11450981MB0001").json["online"] is True  # the default
    refused = clerk.post("/api/v1/cases", {"matter_code": "HALL", "applicant_name": "张三",
                                          "channel": "online"})
    assert refused.status_code == 422
    assert "channel" in refused.json["error"]["details"]["fields"]
    assert clerk.post("/api/v1/cases", {"matter_code": "HALL", "applicant_name": "张三"}
                      ).status_code == 201  # at the window
    guide = client.get("/guide/HALL").get_data(as_text=True)
    assert "本事项暂不支持网上申报" in guide
    assert "/guide/HALL/apply" not in guide
    assert client.get("/guide/HALL/apply").status_code == 404
    found = metrics(desk)
    assert ratio(found["online_available_rate"]) == (1, 2, 5000)
    # HALL and the desk's matter: 20 legal days each, 5 promised each
    assert ratio(found["limit_compression_rate"]) == (30, 40, 7500)
    assert ratio(found["immediate_share"]) == (0, 2, 0)


def test_a_rectification_completed_with_a_call_back(
    desk: dict[str, Api], anonymous: Api,
) -> None:
    supervisor = desk["supervisor"]
    rated = []
    for _ in range(2):
        case = submit(desk["clerk"])
        complete_case(desk, case["id"])
        answer = anonymous.post(f"/api/v1/public/cases/{case['number']}/evaluation",
                                {"code": case["query_code"], "level": "dissatisfied"})
        assert answer.status_code == 201, answer.json
        rated.append(case)
    items = supervisor.get(RECTIFICATIONS).json["items"]
    first, second = sorted(items, key=lambda r: r["id"])
    for item, followed_up in ((first, True), (second, False)):
        path = f"{RECTIFICATIONS}/{item['id']}"
        assert supervisor.post(f"{path}/start", {}).status_code == 200
        bad = supervisor.post(f"{path}/complete", {"note": "已整改", "followed_up": "maybe"})
        assert bad.status_code == 422  # not a boolean: nothing changed
        done = supervisor.post(f"{path}/complete",
                               {"note": "已约谈窗口人员并致歉", "followed_up": followed_up})
        assert done.status_code == 200, done.json
        assert (done.json["followed_up_at"] is not None) is followed_up
    found = metrics(desk)
    assert ratio(found["active_evaluation_rate"]) == (2, 2, 10000)
    assert ratio(found["bad_rectified_rate"]) == (2, 2, 10000)
    assert ratio(found["named_bad_followed_up_rate"]) == (1, 2, 5000)


def test_the_supervisors_home_and_the_case_file_show_them(
    desk: dict[str, Api], client: FlaskClient,
) -> None:
    case = submit(desk["clerk"])
    complete_case(desk, case["id"])
    log_in(client, "super1")
    home = client.get("/staff/home").get_data(as_text=True)
    table = home.split('id="indicators-table"', 1)[1].split("</table>", 1)[0]
    for name in ("承诺时限压缩率", "即办件占比", "网上可办率", "全程网办率", "平均跑动次数",
                 "最多跑一次率", "主动评价率", "差评整改率", "实名差评回访整改率"):
        assert name in table, name
    assert table.count("<tr>") == len(NATIONAL_INDICATORS) + 1
    assert "1.00 次" in table  # one case received at the window: one visit
    client.post("/staff/logout", data={"csrf_token": csrf_of(client, "/staff/home")})
    log_in(client, "clerk1")
    page = client.get(f"/staff/cases/{case['id']}").get_data(as_text=True)
    assert 'id="action-visit"' in page
    version = re.search(r'name="version" value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    posted = client.post(f"/staff/cases/{case['id']}/visit",
                         data={"csrf_token": csrf_of(client, f"/staff/cases/{case['id']}"),
                               "version": version, "reason": "领取结果"})
    assert posted.status_code in (302, 303), posted.get_data(as_text=True)[:500]
    page = client.get(f"/staff/cases/{case['id']}").get_data(as_text=True)
    assert "登记到厅（跑动一次）" in page
    assert "领取结果" in page
