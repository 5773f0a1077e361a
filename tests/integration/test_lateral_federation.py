"""通办 (代收代办) between real processes: a hub and five nodes — province 450000, city 玉林
450900, the sibling counties 北流 450981 and 容县 450921, and 北流's township 450981101 —
each with its own home and SQLite database, served by gunicorn and synced by
``tongban node sync-now`` over HTTP.

- sibling counties: 北流 receives a case for 容县 (户籍 容县), sends it sideways; 容县 decides;
  the result comes back with 容县's number linked; 北流 delivers it by post, and 容县 sees
  北流's 办结 and 送达;
- across the tree: 北流's township receives for 容县; 容县 returns it for a missing material
  (退回), the township sends it again with the material, 容县 approves, the township records
  the applicant's visit for the result and delivers at its hall (both steps reach 容县);
- refusals: a matter that is not 通办, an addressee that is not competent (at the sender), and
  a competent center whose catalog does not hold the matter as 通办 (it sends the case back);
- counted once: every node's month summary, and the city's roll-up at the hub (the visits to
  both receiving halls counted with the cases at 容县).

The module's federation is a copy of the standard one, enrolled and synced once per run
(tests/integration/federation.py), with processes of its own; the tests run in file order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from schemas.periods import Period
from schemas.personal import id_check_digit
from tests.integration.conftest import free_port
from tests.integration.federation import (
    BEILIU,
    CITY,
    HOMES,
    PASSWORD,
    PROVINCE,
    RONG,
    TOWNSHIP,
    Api,
    Federation,
    Template,
    act,
    copy_template,
    hub_staff_headers,
    ok_here,
    serve_federation,
    staff_api,
)
from tests.unit.node.conftest import matter_payload

# one worker runs the whole module (`make test`: --dist loadgroup): its tests build on the
# state the ones before them left, and its federation is copied once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lateral_federation")]

STAFF_NAMES = {"clerk": "李明", "approver": "陈静"}
TONGBAN = "11450000TB0001"  # 全省通办, competent by the applicant's 户籍
PLAIN = "11450000MB0001"  # not 通办
PDF = b"%PDF-1.4 " + "户口簿复印件".encode() + bytes(range(256)) * 4  # a PDF by its content


def _id(prefix: str, serial: int) -> str:
    body = f"{prefix}19800101{serial:03d}"
    return body + id_check_digit(body)


@dataclass
class Lateral(Federation):
    month: str = ""


def _staff(fed: Lateral, code: str) -> None:
    base = fed.bases[code]
    admin = staff_api(base, "admin")
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
        fed.staff[(code, role)] = staff_api(base, f"{role}1")


@pytest.fixture(scope="module")
def fed(federation_template: Template, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Lateral]:
    """A copy of the standard federation (tests/integration/federation.py), every node
    served, each with the 户政 window and its staff."""
    work = tmp_path_factory.mktemp("lateral")
    hub_port = free_port()
    with ExitStack() as stack:
        copy_template(federation_template, work, stack,
                      dict.fromkeys(HOMES, f"http://127.0.0.1:{hub_port}"))
        hub, bases = serve_federation(work, stack, hub_port, HOMES)
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
        fed = Lateral(work, hub, month=Period.month(today.year, today.month).label)
        fed.bases = bases
        for code in HOMES:
            _staff(fed, code)
        yield fed


def _accepted_case(fed: Lateral, code: str, matter: str, id_number: str
                   ) -> dict[str, Any]:
    clerk = fed.api(code, "clerk")
    case = clerk.ok("POST", "/api/v1/cases", {
        "matter_code": matter, "applicant_name": "韦小宝", "applicant_id_number": id_number,
        "applicant_phone": "13800138000"}, 201)
    clerk.ok("POST", f"/api/v1/cases/{case['id']}/accept", {"version": case["version"]})
    return clerk.ok("GET", f"/api/v1/cases/{case['id']}")  # type: ignore[no-any-return]


def _act(api: Api, case: dict[str, Any], action: str, status: int = 200, **body: Any
         ) -> dict[str, Any]:
    return act(api, case, action, status, **body)


# -- sibling counties: 北流 receives for 容县 -----------------------------------------------------


@pytest.fixture(scope="module")
def sibling(fed: Lateral) -> dict[str, Any]:
    case = _accepted_case(fed, BEILIU, TONGBAN, _id(RONG, 1))
    moved = _act(fed.api(BEILIU, "clerk"), case, "forward", to=RONG, note="申请人在北流务工")
    assert (moved["state"], moved["tongban_role"]) == ("forwarded", "received")
    fed.sync(BEILIU, RONG)
    return moved


def test_the_competent_sibling_opens_the_case_as_its_own(
    fed: Lateral, sibling: dict[str, Any]
) -> None:
    there = fed.case_from(RONG, sibling["number"])
    assert there["origin"] == {"node": BEILIU, "case_number": sibling["number"]}
    assert (there["received_from"], there["tongban_role"], there["tongban_division"]) == (
        BEILIU, "accepted", RONG)
    assert there["state"] == "accepted"
    assert there["deadline_on"] == sibling["deadline_on"]  # one clock across both centers
    assert there["number"].startswith(f"{RONG}-")


def test_the_competent_sibling_sees_beilius_steps_by_its_name(
    fed: Lateral, sibling: dict[str, Any]
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
    fed: Lateral, sibling: dict[str, Any]
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
    fed.sync(BEILIU, RONG)  # 北流's 办结 and 送达 reach 容县: both see the whole history
    there = fed.case_from(RONG, sibling["number"])
    assert [(e["center"], e["action"]) for e in there["events"][-2:]] == [
        (BEILIU, "complete"), (BEILIU, "deliver")]
    assert "EMS1234567890" in there["events"][-1]["reason"]


# -- across the tree: 北流's township receives for 容县, a return for a missing material --------


@pytest.fixture(scope="module")
def across(fed: Lateral) -> dict[str, Any]:
    case = _accepted_case(fed, TOWNSHIP, TONGBAN, _id(RONG, 2))
    _act(fed.api(TOWNSHIP, "clerk"), case, "forward", to=RONG)
    fed.sync(TOWNSHIP, RONG)
    there = fed.case_from(RONG, case["number"])
    assert (there["received_from"], there["tongban_role"]) == (TOWNSHIP, "accepted")
    _act(fed.api(RONG, "approver"), there, "return", reason="缺少户口簿复印件，请补正后再报")
    fed.sync(RONG, TOWNSHIP)
    return case


def test_the_return_for_a_missing_material_reaches_the_township(
    fed: Lateral, across: dict[str, Any]
) -> None:
    home = fed.api(TOWNSHIP, "clerk").ok("GET", f"/api/v1/cases/{across['id']}")
    assert home["state"] == "accepted"
    assert home["tongban_role"] is None  # back here: counted here until it goes again
    assert "缺少户口簿复印件" in home["events"][-1]["reason"]


def test_sent_again_with_the_material_it_is_approved_and_delivered_at_the_township(
    fed: Lateral, across: dict[str, Any]
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
    completed = _act(clerk, home, "complete")
    # the applicant comes to the township's hall for the result: a visit after the case was
    # sent, which goes to 容县 and counts there with the case (the summaries below)
    visited = _act(clerk, completed, "visit", reason="领取结果")
    delivered = _act(clerk, visited, "deliver", method="hall")
    assert delivered["state"] == "delivered"
    fed.sync(TOWNSHIP, RONG)
    there = fed.case_from(RONG, across["number"], state="completed")
    assert [(e["center"], e["action"]) for e in there["events"][-3:]] == [
        (TOWNSHIP, "complete"), (TOWNSHIP, "visit"), (TOWNSHIP, "deliver")]
    assert there["events"][-2]["reason"] == "领取结果"


# -- refusals -----------------------------------------------------------------------------------


def test_a_matter_that_is_not_tongban_is_refused_at_the_receiving_center(
    fed: Lateral
) -> None:
    case = _accepted_case(fed, BEILIU, PLAIN, _id(RONG, 3))
    refused = _act(fed.api(BEILIU, "clerk"), case, "forward", status=422, to=RONG)
    assert refused["error"]["code"] == "not_tongban"
    assert "不是通办事项" in str(refused["error"]["details"]["fields"]["to"])


def test_an_addressee_that_is_not_competent_is_refused(fed: Lateral) -> None:
    case = _accepted_case(fed, BEILIU, TONGBAN, _id(BEILIU, 4))  # 户籍 北流 itself
    refused = _act(fed.api(BEILIU, "clerk"), case, "forward", status=422, to=RONG)
    assert refused["error"]["code"] == "not_competent"
    assert "没有管辖权" in str(refused["error"]["details"]["fields"]["to"])
    state = fed.api(BEILIU, "clerk").ok("GET", f"/api/v1/cases/{case['id']}")["state"]
    assert state == "accepted"


def test_the_competent_center_sends_back_a_matter_it_does_not_hold_as_tongban(
    fed: Lateral
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
def summaries(fed: Lateral, sibling: dict[str, Any], across: dict[str, Any]
              ) -> dict[str, dict[str, Any]]:
    for code, home in HOMES.items():
        ok_here("node", "send-summaries", "--home", home, cwd=fed.work)
        fed.sync(code)
    headers = hub_staff_headers(fed.hub)
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
    fed: Lateral, summaries: dict[str, dict[str, Any]]
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
    assert totals["completed_here"] == 2  # taken there as the competent center
    # the receipts in person at 北流 and at the township, and the township's visit for the
    # result after it sent the case (it reached 容县 with the township's next steps)
    assert totals["visits"] == 3
    rows = {row["node"]: row for group in summaries["league"]["groups"]
            for row in group["rows"]}
    assert rows[RONG]["value"] == 2
    assert rows[BEILIU]["value"] == 0
