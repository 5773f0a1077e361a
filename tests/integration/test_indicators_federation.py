"""Today's national indicators ranked at the hub, between real processes: a hub and a
province → city → two counties chain (北流市 450981, 容县 450921).  Each county's staff
build their catalog and work cases over their node's HTTP API (``tongban node serve``) — a
visit to the hall recorded by the window at 北流, an online case without one at 容县 —, the
counties send their signed month summaries (``tongban node send-summaries`` and
``sync-now``), and a hub staff account of the city ranks them (``tongban hub serve``):
平均跑动次数 fewest first without an order given, 承诺时限压缩率 largest first, the city's
roll-up adding numerators and denominators, and the CSV export reading 1.00, not 100.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from schemas.periods import Period
from tests.integration.conftest import free_port
from tests.integration.federation import (
    BEILIU,
    CITY,
    HOMES,
    PASSWORD,
    RONG,
    Template,
    copy_template,
    hub_staff_headers,
    ok_here,
    serve_hub,
    serve_nodes,
    staff_api,
)
from tests.unit.node.conftest import matter_payload

# one worker runs the whole module (`make test`: --dist loadgroup): its tests build on the
# state the ones before them left, and its federation is copied once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("indicators_federation")]


@dataclass
class Federation:
    work: Path
    hub: str
    month: str


def _work_cases(base: str, code: str) -> None:
    """北流: matter M (20 legal, 5 promised days), a window case visited once more (2 visits).
    容县: M and an immediate matter NOW (20, 0) not applied for online; an online case of M
    completed without a visit (0 visits)."""
    admin = staff_api(base, "admin")
    admin.ok("POST", "/api/v1/departments", {"code": "SC", "name": "市场监督管理局"}, 201)
    admin.ok("POST", "/api/v1/windows", {"code": "W01", "name": "市场监管窗口",
                                         "location": "一楼", "department_codes": ["SC"]}, 201)
    admin.ok("POST", "/api/v1/matters", matter_payload(code="M"), 201)
    if code == RONG:
        admin.ok("POST", "/api/v1/matters", matter_payload(
            code="NOW", handling_type="immediate", promised_limit_days=0, online=False), 201)
    for role in ("clerk", "approver"):
        admin.ok("POST", "/api/v1/users", {"username": f"{role}1", "role": role,
                                           "department_code": "SC", "password": PASSWORD},
                 201)
    clerk, approver = staff_api(base, "clerk1"), staff_api(base, "approver1")
    channel = "window" if code == BEILIU else "online"
    case = clerk.ok("POST", "/api/v1/cases", {"matter_code": "M", "applicant_name": "张三",
                                              "channel": channel}, 201)
    path = f"/api/v1/cases/{case['id']}"
    if code == BEILIU:
        clerk.ok("POST", f"{path}/visit", {"reason": "补交原件"})
    clerk.ok("POST", f"{path}/accept")
    approver.ok("POST", f"{path}/approve")
    clerk.ok("POST", f"{path}/complete")


@pytest.fixture(scope="module")
def federation(federation_template: Template, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Federation]:
    """A copy of the standard federation (tests/integration/federation.py): the two counties
    work their cases and send their month summaries; the township never reports."""
    work = tmp_path_factory.mktemp("indicators")
    hub_port = free_port()
    with ExitStack() as stack:
        copy_template(federation_template, work, stack,
                      dict.fromkeys(HOMES, f"http://127.0.0.1:{hub_port}"))
        hub = serve_hub(work, stack, hub_port)
        with ExitStack() as nodes:
            bases = serve_nodes(work, nodes, (BEILIU, RONG))
            for code, base in bases.items():
                _work_cases(base, code)
        for code in (BEILIU, RONG):
            ok_here("node", "send-summaries", "--home", HOMES[code], cwd=work)
            pushed = ok_here("node", "sync-now", "--home", HOMES[code], cwd=work).stdout
            assert "0 rejected" in pushed, pushed
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
        yield Federation(work, hub, Period.month(today.year, today.month).label)


def _hub_staff(federation: Federation) -> dict[str, str]:
    return hub_staff_headers(federation.hub)


def _league(federation: Federation, metric: str, **extra: str) -> Any:
    answer = requests.get(f"{federation.hub}/api/v1/rankings/league",
                          params={"scope": CITY, "period": federation.month, "metric": metric,
                                  "peers": "all", **extra},
                          headers=_hub_staff(federation), timeout=30)
    assert answer.status_code == 200, answer.text
    return answer


def _rows(table: dict[str, Any]) -> list[tuple[str, int | None, Any, Any, Any]]:
    (group,) = table["groups"]
    return [(r["node"], r["rank"], r["value"], r["numerator"], r["denominator"])
            for r in group["rows"]]


def test_the_counties_are_ranked_on_the_national_indicators(federation: Federation) -> None:
    visits = _league(federation, "average_visits").json()
    assert visits["order"] == "asc"  # lower is better: the fewest visits rank first
    assert visits["unit"] == "hundredths"
    assert _rows(visits) == [(RONG, 1, 0, 0, 1), (BEILIU, 2, 200, 2, 1)]
    once = _league(federation, "at_most_once_rate").json()
    assert once["order"] == "desc"
    assert _rows(once) == [(RONG, 1, 10000, 1, 1), (BEILIU, 2, 0, 0, 1)]
    online = _league(federation, "fully_online_rate").json()
    assert _rows(online) == [(RONG, 1, 10000, 1, 1), (BEILIU, 2, 0, 0, 1)]
    compression = _league(federation, "limit_compression_rate").json()
    # 容县: (15 + 20) ÷ 40; 北流: 15 ÷ 20
    assert _rows(compression) == [(RONG, 1, 8750, 35, 40), (BEILIU, 2, 7500, 15, 20)]
    share = _league(federation, "immediate_share").json()
    assert _rows(share) == [(RONG, 1, 5000, 1, 2), (BEILIU, 2, 0, 0, 1)]
    reachable = _league(federation, "online_available_rate").json()
    assert _rows(reachable) == [(BEILIU, 1, 10000, 1, 1), (RONG, 2, 5000, 1, 2)]
    # an order given overrides the metric's direction
    most = _league(federation, "average_visits", order="desc").json()
    assert [row[0] for row in _rows(most)] == [BEILIU, RONG]


def test_the_city_rollup_and_the_export_read_as_people_read_them(
    federation: Federation,
) -> None:
    rollup = requests.get(f"{federation.hub}/api/v1/rankings/rollup",
                          params={"scope": CITY, "period": federation.month},
                          headers=_hub_staff(federation), timeout=30)
    assert rollup.status_code == 200, rollup.text
    metrics = rollup.json()["metrics"]
    assert rollup.json()["nodes"] == sorted([RONG, BEILIU])
    # 2 visits over 2 cases: 1.00 visit a case; numerators and denominators added
    assert {k: metrics["average_visits"][k] for k in ("value", "numerator", "denominator")} \
        == {"value": 100, "numerator": 2, "denominator": 2}
    assert metrics["average_visits"]["name"] == "平均跑动次数"
    assert metrics["limit_compression_rate"]["value"] == 8333  # 50 ÷ 60
    sheet = _league(federation, "average_visits", format="csv").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(sheet)))
    values = {row[3]: row for row in rows[1:] if len(row) > 8}
    assert values[BEILIU][8] == "2.00"
    assert values[RONG][8] == "0.00"
