"""Rankings over real HTTP: a hub and a province → city → two counties → township chain of
real processes; every node sends its month summary with the real worker code and pushes it
with ``tongban node sync-now``; the city's staff ask their own node (``tongban node serve``)
for a league table, which the node gets from the hub (``tongban hub serve``) with a signed
request; a hub staff account made by ``tongban hub create-user`` asks the hub directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from schemas.keys import load_private_key, public_key_b64
from schemas.periods import Period
from tests.integration.conftest import free_port, serving, wait_for_health
from tests.integration.federation import _ok

pytestmark = pytest.mark.slow

PROVINCE, CITY, BEILIU, RONG, TOWNSHIP = "450000", "450900", "450981", "450921", "450981101"
HOMES = {PROVINCE: "p", CITY: "c", BEILIU: "k", RONG: "r", TOWNSHIP: "t"}
KINDS = {BEILIU: "county_city", RONG: "county"}
PASSWORD = "rankings-pass-9"


@dataclass
class Federation:
    work: Path
    hub: str
    city_node: str
    month: str


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    work = tmp_path_factory.mktemp("rankings")
    _ok("hub", "init", "--home", "hub", cwd=work)
    for code, home in HOMES.items():
        kind = ("--kind", KINDS[code]) if code in KINDS else ()
        _ok("node", "init", "--home", home, "--code", code, *kind, cwd=work)
    keys = {code: public_key_b64(load_private_key(work / home / "node_key.pem").public_key())
            for code, home in HOMES.items()}
    _ok("node", "enroll-self", "--home", HOMES[PROVINCE], cwd=work)
    _ok("hub", "trust-root", "--home", "hub", "--code", PROVINCE, "--public-key",
        keys[PROVINCE], cwd=work)
    _ok("hub", "create-user", "--home", "hub", "--username", "yulin", "--scope", CITY,
        "--password", PASSWORD, cwd=work)
    hub_port, node_port = free_port(), free_port()
    hub = f"http://127.0.0.1:{hub_port}"
    for home in HOMES.values():
        with (work / home / "tongban.toml").open("a", encoding="utf-8") as config:
            config.write(f'hub_url = "{hub}"\n')
    _ok("node", "create-user", "--home", HOMES[CITY], "--username", "leader", "--role",
        "viewer", "--password", PASSWORD, cwd=work)

    with serving("hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{hub_port}",
                 "--workers", "1", cwd=work, log=work / "hub.log") as hub_process:
        wait_for_health(f"{hub}/healthz", hub_process, work / "hub.log")
        _ok("node", "sync-now", "--home", HOMES[PROVINCE], cwd=work)
        for parent, child in ((PROVINCE, CITY), (CITY, BEILIU), (CITY, RONG),
                              (BEILIU, TOWNSHIP)):
            kind = ("--kind", KINDS[child]) if child in KINDS else ()
            _ok("node", "enroll-child", "--home", HOMES[parent], "--code", child, *kind,
                "--public-key", keys[child], cwd=work)
            _ok("node", "sync-now", "--home", HOMES[parent], cwd=work)
        for code in (BEILIU, TOWNSHIP):  # Rong never reports
            _ok("node", "send-summaries", "--home", HOMES[code], cwd=work)
            pushed = _ok("node", "sync-now", "--home", HOMES[code], cwd=work).stdout
            assert "0 rejected" in pushed, pushed
        node = f"http://127.0.0.1:{node_port}"
        with serving("node", "serve", "--home", HOMES[CITY], "--bind",
                     f"127.0.0.1:{node_port}", "--workers", "1", cwd=work,
                     log=work / "node.log") as node_process:
            wait_for_health(f"{node}/healthz", node_process, work / "node.log")
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
