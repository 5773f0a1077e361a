"""Rankings over real HTTP: a hub and a province → city → two counties → township chain of
real processes; every node sends its month summary with the real worker code and pushes it
with ``tongban node sync-now``; the city's staff ask their own node (``tongban node serve``)
for a league table, which the node gets from the hub (``tongban hub serve``) with a signed
request; a hub staff account made by ``tongban hub create-user`` asks the hub directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from schemas.periods import Period
from tests.integration.conftest import free_port
from tests.integration.federation import (
    BEILIU,
    CITY,
    HOMES,
    PASSWORD,
    PROVINCE,
    RONG,
    TOWNSHIP,
    Template,
    copy_template,
    create_user_here,
    ok_here,
    serve_federation,
)

# one worker runs the whole module (`make test`: --dist loadgroup): its tests build on the
# state the ones before them left, and its federation is copied once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("rankings_federation")]


@dataclass
class Federation:
    work: Path
    hub: str
    city_node: str
    month: str


@pytest.fixture(scope="module")
def federation(federation_template: Template, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Federation]:
    """The standard federation (tests/integration/federation.py): 北流 and its township
    send their month summaries, 容县 never reports; the city's node serves a viewer."""
    work = tmp_path_factory.mktemp("rankings")
    hub_port = free_port()
    with ExitStack() as stack:
        copy_template(federation_template, work, stack,
                      dict.fromkeys(HOMES, f"http://127.0.0.1:{hub_port}"))
        create_user_here("node", "create-user", "--home", HOMES[CITY], "--username", "leader",
                         "--role", "viewer", "--password", PASSWORD, cwd=work)
        hub, bases = serve_federation(work, stack, hub_port, [CITY])
        for code in (BEILIU, TOWNSHIP):  # Rong never reports
            ok_here("node", "send-summaries", "--home", HOMES[code], cwd=work)
            pushed = ok_here("node", "sync-now", "--home", HOMES[code], cwd=work).stdout
            assert "0 rejected" in pushed, pushed
        node = bases[CITY]
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
        month = Period.month(today.year, today.month).label
        yield Federation(work, hub, node, month)


def _login(base: str, path: str) -> dict[str, str]:
    username = "leader" if path.startswith("/api/v1/auth") else "yulin"
    response = requests.post(f"{base}{path}", json={"username": username,
                                                    "password": PASSWORD}, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_city_staff_get_the_league_table_from_their_node(federation: Federation) -> None:
    headers = _login(federation.city_node, "/api/v1/auth/login")

    response = requests.get(
        f"{federation.city_node}/api/v1/rankings/league",
        params={"period": federation.month, "metric": "completed", "peers": "all"},
        headers=headers, timeout=30)

    assert response.status_code == 200, response.text
    table = response.json()
    assert table["scope"] == CITY
    assert table["level"] == "county"
    (group,) = table["groups"]
    assert [(r["node"], r["rank"], r["status"], r["value"]) for r in group["rows"]] == [
        (BEILIU, 1, "ranked", 0), (RONG, None, "not_reported", None)]
    assert group["rows"][0]["name"]  # the node's name, from its summary


def test_a_scope_above_the_node_is_refused_over_http(federation: Federation) -> None:
    headers = _login(federation.city_node, "/api/v1/auth/login")

    response = requests.get(f"{federation.city_node}/api/v1/rankings/league",
                            params={"scope": PROVINCE, "period": federation.month,
                                    "metric": "completed", "level": "county"},
                            headers=headers, timeout=30)

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "outside_scope"


def test_completeness_and_xlsx_through_the_node(federation: Federation) -> None:
    headers = _login(federation.city_node, "/api/v1/auth/login")

    completeness = requests.get(f"{federation.city_node}/api/v1/rankings/completeness",
                                params={"period": federation.month}, headers=headers,
                                timeout=30).json()
    rows = {row["node"]: row for row in completeness["nodes"]}
    assert set(rows) == {BEILIU, RONG, TOWNSHIP}
    assert rows[BEILIU]["status"] == "pending"  # the month is still running
    assert rows[BEILIU]["summary_seq"] is not None
    assert rows[BEILIU]["last_seen_at"]
    assert rows[RONG]["summary_versions"] == 0
    assert rows[RONG]["latest_seq"] is None

    xlsx = requests.get(f"{federation.city_node}/api/v1/rankings/league",
                        params={"period": federation.month, "metric": "on_time_rate",
                                "format": "xlsx"}, headers=headers, timeout=30)
    assert xlsx.status_code == 200
    assert xlsx.headers["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert xlsx.content[:2] == b"PK"


def test_hub_staff_account_from_the_cli(federation: Federation) -> None:
    headers = _login(federation.hub, "/api/v1/staff/login")

    rollup = requests.get(f"{federation.hub}/api/v1/rankings/rollup",
                          params={"scope": CITY, "period": federation.month},
                          headers=headers, timeout=30)
    assert rollup.status_code == 200, rollup.text
    assert rollup.json()["nodes"] == [BEILIU, TOWNSHIP]

    wider = requests.get(f"{federation.hub}/api/v1/rankings/rollup",
                         params={"scope": PROVINCE, "period": federation.month},
                         headers=headers, timeout=30)
    assert wider.status_code == 403
    assert wider.json()["error"]["code"] == "outside_scope"
