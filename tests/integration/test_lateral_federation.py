"""通办 (代收代办) between real processes: a hub and five nodes — province 450000, city 玉林
450900, the sibling counties 北流 450981 and 容县 450921, and 北流's township 450981101 —
each with its own home and SQLite database, served by gunicorn and synced by
``tongban node sync-now`` over HTTP.

- sibling counties: 北流 receives a case for 容县 (户籍 容县), sends it sideways; 容县 decides;
  the result comes back with 容县's number linked; 北流 delivers it by post;
- across the tree: 北流's township receives for 容县; 容县 returns it for a missing material
  (退回), the township sends it again with the material, 容县 approves, the township delivers;
- refusals: a matter that is not 通办, an addressee that is not competent (at the sender), and
  a competent center whose catalog does not hold the matter as 通办 (it sends the case back);
- counted once: every node's month summary, and the city's roll-up at the hub.

The federation is built once for the module; the tests run in file order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from schemas.keys import load_private_key, public_key_b64
from schemas.periods import Period
from schemas.personal import id_check_digit
from tests.integration.conftest import free_port, run_tongban, serving, wait_for_health
from tests.integration.federation import _ok, _output
from tests.integration.test_federation_flows import Api
from tests.unit.node.conftest import matter_payload

pytestmark = pytest.mark.slow

PROVINCE, CITY, BEILIU, RONG, TOWNSHIP = "450000", "450900", "450981", "450921", "450981101"
HOMES = {PROVINCE: "p", CITY: "c", BEILIU: "b", RONG: "r", TOWNSHIP: "t"}
KINDS = {BEILIU: "county_city", RONG: "county"}
PASSWORD = "lateral-pass-9"
STAFF_NAMES = {"clerk": "李明", "approver": "陈静"}
TONGBAN = "11450000TB0001"  # 全省通办, competent by the applicant's 户籍
PLAIN = "11450000MB0001"  # not 通办
PDF = b"%PDF-1.4 " + "户口簿复印件".encode() + bytes(range(256)) * 4  # a PDF by its content


def _id(prefix: str, serial: int) -> str:
    body = f"{prefix}19800101{serial:03d}"
    return body + id_check_digit(body)


@dataclass
class Federation:
    work: Path
    hub: str
    month: str
    bases: dict[str, str] = field(default_factory=dict)
    staff: dict[tuple[str, str], Api] = field(default_factory=dict)

    def sync(self, *codes: str) -> None:
        for code in codes:
            result = run_tongban("node", "sync-now", "--home", HOMES[code], cwd=self.work)
            assert result.returncode == 0, _output(result)
            assert "0 rejected" in result.stdout, result.stdout
            assert "0 refused" in result.stdout, result.stdout
            assert " 0 failed" in result.stdout, result.stdout

    def api(self, code: str, role: str) -> Api:
        return self.staff[(code, role)]

    def case_from(self, code: str, origin_number: str, state: str | None = None
                  ) -> dict[str, Any]:
        """The case at ``code`` linked to the origin case (the newest, in ``state``)."""
        listed = self.api(code, "admin").ok("GET", "/api/v1/cases?per_page=100")["items"]
        found = [c for c in listed if c["origin"] and c["origin"]["case_number"] == origin_number
                 and (state is None or c["state"] == state)]
        assert found, f"{code} holds no case from {origin_number} in {state}"
        newest = max(found, key=lambda c: c["id"])
        return self.api(code, "admin").ok("GET", f"/api/v1/cases/{newest['id']}")  # type: ignore[no-any-return]


def _login(base: str, username: str) -> str:
    response = requests.post(f"{base}/api/v1/auth/login",
                             json={"username": username, "password": PASSWORD}, timeout=20)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def _staff(fed: Federation, code: str) -> None:
    base = fed.bases[code]
    admin = Api(base, _login(base, "admin"))
    fed.staff[(code, "admin")] = admin
    admin.ok("POST", "/api/v1/departments", {"code": "SC", "name": "公安局"}, 201)
    admin.ok("POST", "/api/v1/windows", {"code": "W01", "name": "户政窗口",
                                         "location": "一楼", "department_codes": ["SC"]}, 201)
    if code not in (PROVINCE, CITY):
        admin.ok("POST", "/api/v1/matters", matter_payload(
            code=TONGBAN, name="户口迁移登记", tongban_scope="province",
            competence="household"), 201)
        admin.ok("POST", "/api/v1/matters", matter_payload(code=PLAIN), 201)
    for role in ("clerk", "approver"):
        admin.ok("POST", "/api/v1/users", {"username": f"{role}1", "role": role,
                                           "display_name": f"{HOMES[code]}{STAFF_NAMES[role]}",
                                           "department_code": "SC", "password": PASSWORD},
                 201)
        fed.staff[(code, role)] = Api(base, _login(base, f"{role}1"))


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    work = tmp_path_factory.mktemp("lateral")
    with ExitStack() as stack:
        # one after the other: each bounded on its own, whatever else the machine runs
        _ok("hub", "init", "--home", "hub", cwd=work)
        for code, home in HOMES.items():
            _ok("node", "init", "--home", home, "--code", code,
                *(("--kind", KINDS[code]) if code in KINDS else ()), cwd=work)
        keys = {code: public_key_b64(load_private_key(work / home / "node_key.pem")
                                     .public_key()) for code, home in HOMES.items()}
        _ok("node", "enroll-self", "--home", HOMES[PROVINCE], cwd=work)
        _ok("hub", "trust-root", "--home", "hub", "--code", PROVINCE, "--public-key",
            keys[PROVINCE], cwd=work)
        _ok("hub", "create-user", "--home", "hub", "--username", "yulin", "--scope", CITY,
            "--password", PASSWORD, cwd=work)
        hub_port = free_port()
        hub = f"http://127.0.0.1:{hub_port}"
        for home in HOMES.values():
            with (work / home / "tongban.toml").open("a", encoding="utf-8") as config:
                config.write(f'hub_url = "{hub}"\n')
            _ok("node", "create-user", "--home", home, "--username", "admin", "--role",
                "admin", "--password", PASSWORD, cwd=work)
        hub_process = stack.enter_context(serving(
            "hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{hub_port}", "--workers",
            "1", cwd=work, log=work / "hub.log"))
        wait_for_health(f"{hub}/healthz", hub_process, work / "hub.log")
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
        fed = Federation(work, hub, Period.month(today.year, today.month).label)
        fed.sync(PROVINCE)
        for parent, child in ((PROVINCE, CITY), (CITY, BEILIU), (CITY, RONG),
                              (BEILIU, TOWNSHIP)):
            _ok("node", "enroll-child", "--home", HOMES[parent], "--code", child,
                *(("--kind", KINDS[child]) if child in KINDS else ()),
                "--public-key", keys[child], cwd=work)
            fed.sync(parent)
        for code, home in HOMES.items():
            port = free_port()
            fed.bases[code] = f"http://127.0.0.1:{port}"
            log = work / f"{home}.log"
            node = stack.enter_context(serving(
                "node", "serve", "--home", home, "--bind", f"127.0.0.1:{port}",
                "--workers", "1", cwd=work, log=log))
            wait_for_health(f"{fed.bases[code]}/healthz", node, log)
        for code in HOMES:
            _staff(fed, code)
        yield fed


def _accepted_case(fed: Federation, code: str, matter: str, id_number: str
                   ) -> dict[str, Any]:
    clerk = fed.api(code, "clerk")
    case = clerk.ok("POST", "/api/v1/cases", {
        "matter_code": matter, "applicant_name": "韦小宝", "applicant_id_number": id_number,
        "applicant_phone": "13800138000"}, 201)
    clerk.ok("POST", f"/api/v1/cases/{case['id']}/accept", {"version": case["version"]})
    return clerk.ok("GET", f"/api/v1/cases/{case['id']}")  # type: ignore[no-any-return]


def _act(api: Api, case: dict[str, Any], action: str, status: int = 200, **body: Any
         ) -> dict[str, Any]:
    fresh = api.ok("GET", f"/api/v1/cases/{case['id']}")
    answer = api.ok("POST", f"/api/v1/cases/{case['id']}/{action}",
                    {"version": fresh["version"], **body}, status)
    if status != 200:
        return answer  # type: ignore[no-any-return]
    return api.ok("GET", f"/api/v1/cases/{case['id']}")  # type: ignore[no-any-return]


# -- sibling counties: 北流 receives for 容县 -----------------------------------------------------


@pytest.fixture(scope="module")
def sibling(fed: Federation) -> dict[str, Any]:
    case = _accepted_case(fed, BEILIU, TONGBAN, _id(RONG, 1))
    moved = _act(fed.api(BEILIU, "clerk"), case, "forward", to=RONG, note="申请人在北流务工")
    assert (moved["state"], moved["tongban_role"]) == ("forwarded", "received")
    fed.sync(BEILIU, RONG)
    return moved


def test_the_competent_sibling_opens_the_case_as_its_own(
    fed: Federation, sibling: dict[str, Any]
) -> None:
    there = fed.case_from(RONG, sibling["number"])
    assert there["origin"] == {"node": BEILIU, "case_number": sibling["number"]}
    assert (there["received_from"], there["tongban_role"], there["tongban_division"]) == (
        BEILIU, "accepted", RONG)
    assert there["state"] == "accepted"
    assert there["deadline_on"] == sibling["deadline_on"]  # one clock across both centers
    assert there["number"].startswith(f"{RONG}-")


def test_the_competent_sibling_sees_beilius_steps_by_its_name(
    fed: Federation, sibling: dict[str, Any]
) -> None:
    there = fed.case_from(RONG, sibling["number"])
    theirs = [(e["center"], e["action"], e["by"]) for e in there["events"] if e["center"]]
    clerk = f"{HOMES[BEILIU]}李明（窗口工作人员）"
    assert theirs == [(BEILIU, "submit", clerk), (BEILIU, "accept", clerk),
                      (BEILIU, "forward", clerk)]
    assert there["events"][2]["reason"] == "申请人在北流务工"  # the forward's note
    assert there["events"][3]["center"] is None  # then the arrival here: this center's own
    assert "clerk1" not in str(theirs)


def test_the_decision_comes_back_linked_and_beiliu_delivers_by_post(
    fed: Federation, sibling: dict[str, Any]
) -> None:
    there = fed.case_from(RONG, sibling["number"])
    decided = _act(fed.api(RONG, "approver"), there, "approve", reason="符合迁移条件")
    assert decided["state"] == "completed"  # decided here: 办结, the result goes back
    fed.sync(RONG, BEILIU)

    home = fed.api(BEILIU, "clerk").ok("GET", f"/api/v1/cases/{sibling['id']}")
    assert home["state"] == "approved"
    assert home["forwarded_number"] == there["number"]  # the competent center's number
    notes = [e["reason"] or "" for e in home["events"] if e["action"] == "upstream_update"]
    assert any(note.startswith(f"{RONG}：") for note in notes), notes  # 容县's own steps
    completed = _act(fed.api(BEILIU, "clerk"), home, "complete")
    delivered = _act(fed.api(BEILIU, "clerk"), completed, "deliver", method="post",
                     tracking_number="EMS1234567890")
    assert (delivered["state"], delivered["delivery_method"], delivered["delivery_tracking"]) \
        == ("delivered", "post", "EMS1234567890")


# -- across the tree: 北流's township receives for 容县, a return for a missing material --------


@pytest.fixture(scope="module")
def across(fed: Federation) -> dict[str, Any]:
    case = _accepted_case(fed, TOWNSHIP, TONGBAN, _id(RONG, 2))
    _act(fed.api(TOWNSHIP, "clerk"), case, "forward", to=RONG)
    fed.sync(TOWNSHIP, RONG)
    there = fed.case_from(RONG, case["number"])
    assert (there["received_from"], there["tongban_role"]) == (TOWNSHIP, "accepted")
    _act(fed.api(RONG, "approver"), there, "return", reason="缺少户口簿复印件，请补正后再报")
    fed.sync(RONG, TOWNSHIP)
    return case


def test_the_return_for_a_missing_material_reaches_the_township(
    fed: Federation, across: dict[str, Any]
) -> None:
    home = fed.api(TOWNSHIP, "clerk").ok("GET", f"/api/v1/cases/{across['id']}")
    assert home["state"] == "accepted"
    assert home["tongban_role"] is None  # back here: counted here until it goes again
    assert "缺少户口簿复印件" in home["events"][-1]["reason"]


def test_sent_again_with_the_material_it_is_approved_and_delivered_at_the_township(
    fed: Federation, across: dict[str, Any]
) -> None:
    clerk = fed.api(TOWNSHIP, "clerk")
    clerk.ok("POST", f"/api/v1/cases/{across['id']}/attachments", status=201,
             files={"file": ("户口簿.pdf", PDF, "application/pdf")})
    _act(clerk, across, "forward", to=RONG, note="已补正户口簿复印件")
    fed.sync(TOWNSHIP, RONG)
    there = fed.case_from(RONG, across["number"], state="accepted")
    assert [a["name"] for a in there["attachments"]] == ["户口簿.pdf"]
    _act(fed.api(RONG, "approver"), there, "approve")
    fed.sync(RONG, TOWNSHIP)

    home = clerk.ok("GET", f"/api/v1/cases/{across['id']}")
    assert (home["state"], home["forwarded_number"]) == ("approved", there["number"])
    delivered = _act(clerk, _act(clerk, home, "complete"), "deliver", method="hall")
    assert delivered["state"] == "delivered"


# -- refusals -----------------------------------------------------------------------------------


def test_a_matter_that_is_not_tongban_is_refused_at_the_receiving_center(
    fed: Federation
) -> None:
    case = _accepted_case(fed, BEILIU, PLAIN, _id(RONG, 3))
    refused = _act(fed.api(BEILIU, "clerk"), case, "forward", status=422, to=RONG)
    assert refused["error"]["code"] == "not_tongban"
    assert "不是通办事项" in str(refused["error"]["details"]["fields"]["to"])


def test_an_addressee_that_is_not_competent_is_refused(fed: Federation) -> None:
    case = _accepted_case(fed, BEILIU, TONGBAN, _id(BEILIU, 4))  # 户籍 北流 itself
    refused = _act(fed.api(BEILIU, "clerk"), case, "forward", status=422, to=RONG)
    assert refused["error"]["code"] == "not_competent"
    assert "没有管辖权" in str(refused["error"]["details"]["fields"]["to"])
    state = fed.api(BEILIU, "clerk").ok("GET", f"/api/v1/cases/{case['id']}")["state"]
    assert state == "accepted"


def test_the_competent_center_sends_back_a_matter_it_does_not_hold_as_tongban(
    fed: Federation
) -> None:
    rong_admin = fed.api(RONG, "admin")
    changed = requests.patch(f"{fed.bases[RONG]}/api/v1/matters/{TONGBAN}",
                             json={"tongban_scope": "none"}, headers=rong_admin.headers,
                             timeout=20)
    assert changed.status_code == 200, changed.text
    try:
        case = _accepted_case(fed, BEILIU, TONGBAN, _id(RONG, 5))
        _act(fed.api(BEILIU, "clerk"), case, "forward", to=RONG)
        fed.sync(BEILIU, RONG, RONG, BEILIU)  # 容县 answers on its next sync
        home = fed.api(BEILIU, "clerk").ok("GET", f"/api/v1/cases/{case['id']}")
        assert (home["state"], home["tongban_role"]) == ("accepted", None)
        assert "不是通办事项" in home["events"][-1]["reason"]
        listed = rong_admin.ok("GET", "/api/v1/cases?per_page=100")["items"]
        assert not [c for c in listed
                    if c["origin"] and c["origin"]["case_number"] == case["number"]]
    finally:
        requests.patch(f"{fed.bases[RONG]}/api/v1/matters/{TONGBAN}",
                       json={"tongban_scope": "province"}, headers=rong_admin.headers,
                       timeout=20)


# -- counted once ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def summaries(fed: Federation, sibling: dict[str, Any], across: dict[str, Any]
              ) -> dict[str, dict[str, Any]]:
    for code, home in HOMES.items():
        _ok("node", "send-summaries", "--home", home, cwd=fed.work)
        fed.sync(code)
    token = requests.post(f"{fed.hub}/api/v1/staff/login",
                          json={"username": "yulin", "password": PASSWORD}, timeout=20)
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['token']}"}
    rollup = requests.get(f"{fed.hub}/api/v1/rankings/rollup",
                          params={"scope": CITY, "period": fed.month}, headers=headers,
                          timeout=30)
    assert rollup.status_code == 200, rollup.text
    league = requests.get(f"{fed.hub}/api/v1/rankings/league",
                          params={"scope": CITY, "period": fed.month, "level": "county",
                                  "metric": "tongban_accepted", "peers": "all"},
                          headers=headers, timeout=30)
    assert league.status_code == 200, league.text
    return {"rollup": rollup.json(), "league": league.json()}


def test_each_case_is_counted_once_at_the_deciding_center(
    fed: Federation, summaries: dict[str, dict[str, Any]]
) -> None:
    totals = {key: value["value"] for key, value in summaries["rollup"]["metrics"].items()
              if "value" in value}
    # applications received in the month, each once: at 北流 the refused PLAIN and 北流's own
    # 户籍 case, the case 容县 sent back (counted at 北流 again); at 容县 the two it took
    # (the township's return and its second forward are one case there: the returned one is
    # not counted); nothing at the township, which only received for 容县
    assert totals["received"] == 5
    assert totals["tongban_received"] == 2  # 北流's sibling case, the township's second forward
    assert totals["tongban_accepted"] == 2
    assert totals["completed"] == 2  # both decided at 容县, never again where delivered
    rows = {row["node"]: row for group in summaries["league"]["groups"]
            for row in group["rows"]}
    assert rows[RONG]["value"] == 2
    assert rows[BEILIU]["value"] == 0
