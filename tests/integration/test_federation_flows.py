"""Every flow of the signed sync between real processes: a hub and four nodes — province
450000, city 450900, county-level city 450981 and township 450981101 — each with its own home
and SQLite database, served by gunicorn and synced by ``tongban node sync-now`` over HTTP.

- catalog publishing: the province's standard catalog reaches the township;
- forwarding (上报): township → county with a file, progress and result back, delivery;
- three-level linkage (三级联动): township → county → city, the result relayed back down;
- a forward the county cannot take comes back with a reason and is re-routed to the city;
- a directive (督办) from the province to the township and its reply;
- every node's signed summary at the hub, readable by an ancestor.

The hub runs on PostgreSQL when ``TONGBAN_TEST_PG`` is set (as under ``.ci/run``), otherwise
on SQLite.  The module runs on a copy of the standard federation, built once per run and shared
(tests/integration/federation.py); the tests run in file order, each flow building on the
synced state the ones before it left.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest
import requests

from schemas.keys import load_private_key
from schemas.request_signing import sign_request
from tests.integration import federation
from tests.integration.conftest import (
    TONGBAN,
    free_port,
    run_tongban,
    served_env,
    stop_processes,
    wait_for_all_health,
    wait_for_health,
)
from tests.integration.federation import (
    Api,
    Template,
    _output,
    copy_template,
    ok_here,
    serve_nodes,
)
from tests.unit.node.conftest import matter_payload

pytestmark = pytest.mark.slow

PROVINCE, CITY, COUNTY, TOWNSHIP = (federation.PROVINCE, federation.CITY, federation.BEILIU,
                                    federation.TOWNSHIP)
NODES = {code: federation.HOMES[code] for code in (PROVINCE, CITY, COUNTY, TOWNSHIP)}
PASSWORD = "federation-pass-9"
SHARED = "11450000MB0001"  # a matter every node below the province holds
CITY_ONLY = "11450900MB0009"  # held by the township and the city, not by the county
STANDARD = "11450000STD0001"  # published by the province
FILE = b"%PDF-1.4\n" + "营业执照扫描件".encode() + bytes(range(256)) * 40  # a PDF by its bytes


class HubProcess:
    """One ``tongban hub serve`` on the shared hub home, which a test may stop and start."""

    def __init__(self, work: Path, port: int, name: str) -> None:
        self.work, self.port, self.name = work, port, name
        self.url = f"http://127.0.0.1:{port}"
        self.log = work / f"hub-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.launch()
        self.wait()

    def launch(self) -> None:
        """Start the process without waiting for it to answer (:meth:`wait`)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [TONGBAN, "hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", "1"], cwd=self.work, env=served_env(), stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait(self) -> None:
        """Until the started process answers ``/healthz``."""
        assert self.process is not None
        wait_for_health(f"{self.url}/healthz", self.process, self.log)

    def stop(self) -> None:
        """Stopped as the module's teardown stops it (killed once its master has logged
        that it is shutting down: stop_processes); nothing here reads its exit code."""
        _stop_hubs([self])


def _stop_hubs(hubs: Iterable[HubProcess]) -> None:
    """Every hub process still running stopped side by side (each killed once its master has
    logged that it is shutting down: stop_processes)."""
    running = [hub for hub in hubs if hub.process is not None]
    stop_processes([hub.process for hub in running if hub.process is not None],
                   logs={hub.process: hub.log for hub in running if hub.process is not None})
    for hub in running:
        hub.process = None


@dataclass
class Federation:
    work: Path
    hub: str
    homes: dict[str, str]
    bases: dict[str, str] = field(default_factory=dict)
    staff: dict[tuple[str, str], Api] = field(default_factory=dict)
    hubs: dict[str, HubProcess] = field(default_factory=dict)
    served_by: dict[str, str] = field(default_factory=dict)

    def sync(self, *codes: str) -> None:
        for code in codes:
            result = ok_here("node", "sync-now", "--home", self.homes[code], cwd=self.work)
            assert result.returncode == 0, _output(result)
            assert "0 rejected" in result.stdout, result.stdout
            assert "0 refused" in result.stdout, result.stdout
            assert " 0 failed" in result.stdout, result.stdout

    def api(self, code: str, role: str) -> Api:
        return self.staff[(code, role)]

    def case_from(self, code: str, origin_number: str) -> dict[str, Any]:
        """The case at ``code`` linked to the origin case ``origin_number``."""
        listed = self.api(code, "admin").ok("GET", "/api/v1/cases?per_page=100")["items"]
        found = [c for c in listed
                 if c["origin"] and c["origin"]["case_number"] == origin_number]
        assert len(found) == 1, f"{code} holds {len(found)} cases from {origin_number}"
        return self.api(code, "admin").ok("GET", f"/api/v1/cases/{found[0]['id']}")


def _login(base: str, username: str) -> str:
    response = requests.post(f"{base}/api/v1/auth/login",
                             json={"username": username, "password": PASSWORD}, timeout=20)
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def _staff(fed: Federation, code: str) -> None:
    """Department SC, window W01, the node's matters, and an admin, clerk and approver."""
    base = fed.bases[code]
    admin = Api(base, _login(base, "admin"))
    fed.staff[(code, "admin")] = admin
    admin.ok("POST", "/api/v1/departments", {"code": "SC", "name": "市场监督管理局"}, 201)
    admin.ok("POST", "/api/v1/windows", {"code": "W01", "name": "市场监管窗口",
                                         "location": "一楼", "department_codes": ["SC"]}, 201)
    matters = {PROVINCE: [STANDARD], CITY: [SHARED, CITY_ONLY], COUNTY: [SHARED],
               TOWNSHIP: [SHARED, CITY_ONLY]}[code]
    for matter in matters:
        level = "city" if matter == CITY_ONLY else "county"
        admin.ok("POST", "/api/v1/matters",
                 matter_payload(code=matter, handling_level=level), 201)
    for role in ("clerk", "approver"):
        admin.ok("POST", "/api/v1/users", {"username": f"{role}1", "role": role,
                                           "department_code": "SC", "password": PASSWORD},
                 201)
        fed.staff[(code, role)] = Api(base, _login(base, f"{role}1"))


@pytest.fixture(scope="module")
def fed(federation_template: Template, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Federation]:
    """A copy of the standard federation (tests/integration/federation.py: its province,
    city, 北流 and township, enrolled and synced, each with an admin; 容县 is not copied) with
    two hub processes on the copy's one hub database: the province and the county talk to the
    first, the city and the township to the second."""
    work = tmp_path_factory.mktemp("flows")
    ports = {"a": free_port(), "b": free_port()}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    served_by = {PROVINCE: "a", COUNTY: "a", CITY: "b", TOWNSHIP: "b"}
    with ExitStack() as stack:
        copy_template(federation_template, work, stack,
                      {code: urls[served_by[code]] for code in NODES}, codes=NODES)
        hubs = {name: HubProcess(work, port, name) for name, port in ports.items()}
        stack.callback(_stop_hubs, hubs.values())
        for hub_process in hubs.values():  # started together, then waited for
            hub_process.launch()
        wait_for_all_health((f"{hub.url}/healthz", hub.process, hub.log)
                            for hub in hubs.values() if hub.process is not None)
        fed = Federation(work, urls["a"], dict(NODES), hubs=hubs, served_by=served_by)
        fed.bases = serve_nodes(work, stack, NODES)
        for code in NODES:
            _staff(fed, code)
        yield fed


def _accepted_case(fed: Federation, code: str, matter: str, name: str) -> dict[str, Any]:
    clerk = fed.api(code, "clerk")
    case = clerk.ok("POST", "/api/v1/cases", {
        "matter_code": matter, "applicant_name": name,
        "applicant_id_number": "11010519491231002X", "applicant_phone": "13800138000"}, 201)
    accepted = clerk.ok("POST", f"/api/v1/cases/{case['id']}/accept",
                        {"version": case["version"]})
    return {**_file_after(clerk, accepted), "query_code": case["query_code"]}


def _file_after(api: Api, step: dict[str, Any]) -> dict[str, Any]:
    """A step answers with the case's state and version; the whole file is a GET."""
    file: dict[str, Any] = api.ok("GET", f"/api/v1/cases/{step['id']}")
    assert (file["state"], file["version"]) == (step["state"], step["version"]), (file, step)
    return file


def _act(api: Api, case: dict[str, Any], action: str, **body: Any) -> dict[str, Any]:
    fresh = api.ok("GET", f"/api/v1/cases/{case['id']}")
    step = api.ok("POST", f"/api/v1/cases/{case['id']}/{action}",
                  {"version": fresh["version"], **body})
    return _file_after(api, step)


def _actions(case: dict[str, Any]) -> list[str]:
    return [event["action"] for event in case["events"]]


# -- catalog publishing ---------------------------------------------------------------------


def test_the_provinces_catalog_reaches_the_township(fed: Federation) -> None:
    published = ok_here("node", "publish-catalog", "--home", fed.homes[PROVINCE], cwd=fed.work)
    assert "catalog.publish queued" in published.stdout, published.stdout
    fed.sync(PROVINCE, CITY, COUNTY, TOWNSHIP)

    for code in (CITY, COUNTY, TOWNSHIP):
        matter = fed.api(code, "admin").ok("GET", f"/api/v1/matters/{STANDARD}")
        assert matter["name"] == "食品经营许可证核发"
        assert matter["promised_limit_days"] == 5


# -- township → county, with a file --------------------------------------------------------


@pytest.fixture(scope="module")
def forwarded(fed: Federation) -> dict[str, Any]:
    clerk = fed.api(TOWNSHIP, "clerk")
    case = _accepted_case(fed, TOWNSHIP, SHARED, "张三")
    stored = clerk.ok("POST", f"/api/v1/cases/{case['id']}/attachments", status=201,
                      files={"file": ("营业执照.pdf", FILE, "application/pdf")})
    assert stored["sha256"] == hashlib.sha256(FILE).hexdigest()
    moved = _act(clerk, case, "forward", note="县级审批事项，上报审批")
    assert moved["state"] == "forwarded"
    assert moved["forwarded_to"] == COUNTY
    fed.sync(TOWNSHIP, COUNTY)
    return moved


def test_the_county_opens_a_linked_case_with_the_origins_clock(
    fed: Federation, forwarded: dict[str, Any]
) -> None:
    there = fed.case_from(COUNTY, forwarded["number"])

    assert there["origin"] == {"node": TOWNSHIP, "case_number": forwarded["number"]}
    assert there["received_from"] == TOWNSHIP
    assert there["chain"] == [TOWNSHIP]
    assert there["state"] == "accepted"
    assert there["accepted_on"] == forwarded["accepted_on"]
    assert there["deadline_on"] == forwarded["deadline_on"]
    assert there["applicant_id_number"] == "11010519491231002X"
    assert there["number"] != forwarded["number"]


def test_the_file_arrives_with_the_same_bytes(
    fed: Federation, forwarded: dict[str, Any]
) -> None:
    there = fed.case_from(COUNTY, forwarded["number"])
    (attachment,) = there["attachments"]
    assert attachment["fetched"] is True
    assert attachment["name"] == "营业执照.pdf"
    response = fed.api(COUNTY, "approver").get(
        f"/api/v1/cases/{there['id']}/attachments/{attachment['sha256']}")
    assert response.status_code == 200
    assert response.content == FILE


@pytest.fixture(scope="module")
def decided(fed: Federation, forwarded: dict[str, Any]) -> dict[str, Any]:
    approver = fed.api(COUNTY, "approver")
    there = fed.case_from(COUNTY, forwarded["number"])
    _act(approver, there, "start-review")
    done = _act(approver, there, "approve", reason="材料齐全，准予许可")
    fed.sync(COUNTY, TOWNSHIP)
    return done


def test_the_deciding_county_completes_the_case_and_counts_it(
    decided: dict[str, Any],
) -> None:
    assert decided["state"] == "completed"
    assert decided["completed_on"] is not None


def test_progress_and_result_reach_the_township(
    fed: Federation, forwarded: dict[str, Any], decided: dict[str, Any]
) -> None:
    home = fed.api(TOWNSHIP, "clerk").ok("GET", f"/api/v1/cases/{forwarded['id']}")

    assert home["state"] == "approved"
    assert home["forwarded_to"] == COUNTY
    actions = _actions(home)
    assert actions.count("upstream_update") == 2  # received, in review
    assert actions[-1] == "receive_approval"
    notes = " ".join(e["reason"] or "" for e in home["events"])
    assert "已接收" in notes
    assert "in_review" in notes


def test_the_township_delivers_the_result(
    fed: Federation, forwarded: dict[str, Any], decided: dict[str, Any]
) -> None:
    clerk = fed.api(TOWNSHIP, "clerk")
    completed = _act(clerk, forwarded, "complete")
    delivered = _act(clerk, completed, "deliver")
    assert delivered["state"] == "delivered"


# -- three-level linkage ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def linked(fed: Federation, decided: dict[str, Any]) -> dict[str, Any]:
    """Township → county → city; the city decides; the result comes back down the chain."""
    case = _accepted_case(fed, TOWNSHIP, SHARED, "李四")
    _act(fed.api(TOWNSHIP, "clerk"), case, "forward")
    fed.sync(TOWNSHIP, COUNTY)
    at_county = fed.case_from(COUNTY, case["number"])
    _act(fed.api(COUNTY, "clerk"), at_county, "forward", note="需市级审批")
    fed.sync(COUNTY, CITY)
    at_city = fed.case_from(CITY, case["number"])
    _act(fed.api(CITY, "approver"), at_city, "deny", reason="选址不符合规划")
    fed.sync(CITY, COUNTY, COUNTY, TOWNSHIP)
    return case


def test_the_city_sees_the_whole_chain(fed: Federation, linked: dict[str, Any]) -> None:
    at_city = fed.case_from(CITY, linked["number"])

    assert at_city["chain"] == [TOWNSHIP, COUNTY]
    assert at_city["received_from"] == COUNTY
    assert at_city["origin"] == {"node": TOWNSHIP, "case_number": linked["number"]}
    assert at_city["deadline_on"] == linked["deadline_on"]
    assert at_city["state"] == "completed"


def test_the_county_relays_and_keeps_the_case_forwarded(
    fed: Federation, linked: dict[str, Any]
) -> None:
    at_county = fed.case_from(COUNTY, linked["number"])

    assert at_county["state"] == "forwarded"
    assert at_county["forwarded_to"] == CITY
    assert "relay_result" in _actions(at_county)


def test_the_citys_denial_reaches_the_township(
    fed: Federation, linked: dict[str, Any]
) -> None:
    home = fed.api(TOWNSHIP, "clerk").ok("GET", f"/api/v1/cases/{linked['id']}")

    assert home["state"] == "denied"
    assert home["events"][-1]["reason"] == "选址不符合规划"
    notes = " ".join(e["reason"] or "" for e in home["events"])
    assert f"已转报 {CITY}" in notes  # the county's news, relayed


# -- a complaint against a case decided above --------------------------------------------


def test_a_complaint_reaches_the_city_that_decided_and_its_answer_comes_back(
    fed: Federation, linked: dict[str, Any]
) -> None:
    """The applicant complains at the township about the case the city denied: the signed
    complaint.forward goes to the county, which relays it to the city (its case went there);
    the city resolves it and the answer comes back down, for the applicant's lookup."""
    public = f"{fed.bases[TOWNSHIP]}/api/v1/public"
    filed = requests.post(f"{public}/complaints", json={
        "case_number": linked["number"], "code": linked["query_code"],
        "content": "不予许可的理由没有说清楚", "contact_phone": "13800138000"}, timeout=20)
    assert filed.status_code == 201, filed.text
    number = filed.json()["number"]
    here = fed.api(TOWNSHIP, "admin").ok("GET", f"/api/v1/supervision/complaints/{number}")
    assert (here["sent_to"], here["received_from"], here["overdue"]) == (COUNTY, None, False)
    # the township does not resolve what the city handles
    refused = fed.api(TOWNSHIP, "admin").post(
        f"/api/v1/supervision/complaints/{number}/resolve", {"resolution": "已答复"})
    assert refused.status_code == 409, refused.text

    fed.sync(TOWNSHIP, COUNTY, COUNTY, CITY)
    at_county = fed.api(COUNTY, "admin").ok("GET", f"/api/v1/supervision/complaints/{number}")
    assert (at_county["received_from"], at_county["sent_to"]) == (TOWNSHIP, CITY)
    at_city = fed.api(CITY, "admin").ok("GET", f"/api/v1/supervision/complaints/{number}")
    city_case = fed.case_from(CITY, linked["number"])
    assert (at_city["received_from"], at_city["sent_to"]) == (COUNTY, None)
    assert at_city["case_number"] == city_case["number"]
    assert at_city["content"] == "不予许可的理由没有说清楚"
    assert at_city["contact_phone"] == "13800138000"  # in full: the city calls back
    assert at_city["due_on"] == here["due_on"]
    assert at_city["state"] == "received"

    fed.api(CITY, "admin").ok("POST", f"/api/v1/supervision/complaints/{number}/resolve",
                              {"resolution": "已补充说明选址不符合规划的依据"})
    fed.sync(CITY, COUNTY, COUNTY, TOWNSHIP)
    for code in (COUNTY, TOWNSHIP):
        relayed = fed.api(code, "admin").ok("GET", f"/api/v1/supervision/complaints/{number}")
        assert relayed["state"] == "resolved", code
        assert relayed["resolution"] == "已补充说明选址不符合规划的依据"
        assert relayed["resolved_by"] == CITY
    lookup = requests.get(f"{public}/complaints/{number}",
                          params={"code": filed.json()["query_code"]}, timeout=20)
    assert lookup.status_code == 200, lookup.text
    assert lookup.json()["resolution"] == "已补充说明选址不符合规划的依据"
    assert lookup.json()["handled_by"] == CITY


# -- a forward the county cannot take ------------------------------------------------------


@pytest.fixture(scope="module")
def rerouted(fed: Federation, linked: dict[str, Any]) -> dict[str, Any]:
    case = _accepted_case(fed, TOWNSHIP, CITY_ONLY, "王五")
    _act(fed.api(TOWNSHIP, "clerk"), case, "forward")
    fed.sync(TOWNSHIP, COUNTY, COUNTY, TOWNSHIP)
    returned = fed.api(TOWNSHIP, "clerk").ok("GET", f"/api/v1/cases/{case['id']}")
    _act(fed.api(TOWNSHIP, "clerk"), returned, "forward", to=CITY)
    fed.sync(TOWNSHIP, CITY)
    at_city = fed.case_from(CITY, case["number"])
    _act(fed.api(CITY, "approver"), at_city, "approve")
    fed.sync(CITY, TOWNSHIP)
    return {"case": case, "returned": returned}


def test_the_county_returns_a_matter_it_does_not_hold(
    fed: Federation, rerouted: dict[str, Any]
) -> None:
    returned = rerouted["returned"]

    assert returned["state"] == "accepted"
    assert returned["forwarded_to"] is None
    assert returned["events"][-1]["action"] == "receive_return"
    assert CITY_ONLY in returned["events"][-1]["reason"]
    listed = fed.api(COUNTY, "admin").ok("GET", "/api/v1/cases?per_page=100")["items"]
    assert all(c["origin"] is None or c["origin"]["case_number"] != rerouted["case"]["number"]
               for c in listed)


def test_the_rerouted_case_is_decided_by_the_city(
    fed: Federation, rerouted: dict[str, Any]
) -> None:
    home = fed.api(TOWNSHIP, "clerk").ok("GET", f"/api/v1/cases/{rerouted['case']['id']}")

    assert home["state"] == "approved"
    assert home["forwarded_to"] == CITY
    assert fed.case_from(CITY, rerouted["case"]["number"])["chain"] == [TOWNSHIP]


def test_syncing_again_applies_nothing_twice(
    fed: Federation, rerouted: dict[str, Any]
) -> None:
    before = {code: fed.api(code, "admin").ok("GET", "/api/v1/cases?per_page=100")["total"]
              for code in NODES}
    fed.sync(TOWNSHIP, COUNTY, CITY, PROVINCE, TOWNSHIP, COUNTY, CITY)
    after = {code: fed.api(code, "admin").ok("GET", "/api/v1/cases?per_page=100")["total"]
             for code in NODES}
    assert after == before
    assert before == {PROVINCE: 0, CITY: 2, COUNTY: 2, TOWNSHIP: 3}


def test_a_township_keeps_working_while_its_hub_is_down(fed: Federation) -> None:
    """Two hub processes share one database. The township's stops: the township still accepts
    and forwards a case (queued), its sync fails and says why, while the county syncs through
    the other process; once the township's is back, the county gets the case, once."""
    second = fed.hubs[fed.served_by[TOWNSHIP]]
    assert fed.served_by[COUNTY] != fed.served_by[TOWNSHIP]
    second.stop()
    try:
        case = _accepted_case(fed, TOWNSHIP, SHARED, "赵六")
        moved = _act(fed.api(TOWNSHIP, "clerk"), case, "forward")
        failed = run_tongban("node", "sync-now", "--home", fed.homes[TOWNSHIP], cwd=fed.work)
        status = fed.api(TOWNSHIP, "admin").ok("GET", "/api/v1/sync/status")
        fed.sync(COUNTY)  # through the first hub process, which is up
    finally:
        second.start()
    assert moved["state"] == "forwarded"
    assert failed.returncode == 1, _output(failed)
    assert "cannot reach the hub" in failed.stderr
    assert status["pending_count"] == 1
    assert "cannot reach the hub" in status["last_error"]

    fed.sync(TOWNSHIP, COUNTY, TOWNSHIP)

    at_county = fed.case_from(COUNTY, case["number"])
    assert at_county["state"] == "accepted"
    assert fed.api(TOWNSHIP, "admin").ok("GET", "/api/v1/sync/status")["pending_count"] == 0


# -- directives ---------------------------------------------------------------------------------


def test_a_directive_from_the_province_is_answered_by_the_township(fed: Federation) -> None:
    due = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)).isoformat()
    issued = fed.api(PROVINCE, "admin").ok("POST", "/api/v1/directives", {
        "target": TOWNSHIP, "subject": "text", "text": "请说明本月超期件情况", "due_on": due},
        201)
    fed.sync(PROVINCE, TOWNSHIP)
    incoming = fed.api(TOWNSHIP, "admin").ok(
        "GET", "/api/v1/directives?direction=incoming")["items"]
    (received,) = [d for d in incoming if d["directive_id"] == issued["directive_id"]]
    assert received["text"] == "请说明本月超期件情况"
    assert received["issuer_node"] == PROVINCE

    fed.api(TOWNSHIP, "admin").ok(
        "POST", f"/api/v1/directives/{issued['directive_id']}/reply",
        {"state": "done", "text": "已核查，无超期件"})
    fed.sync(TOWNSHIP, PROVINCE)
    outgoing = fed.api(PROVINCE, "admin").ok(
        "GET", "/api/v1/directives?direction=outgoing")["items"]
    (answered,) = [d for d in outgoing if d["directive_id"] == issued["directive_id"]]
    assert answered["state"] == "done"
    assert answered["reply_text"] == "已核查，无超期件"


# -- summaries ------------------------------------------------------------------------------


def _hub_get(fed: Federation, caller: str, path: str) -> requests.Response:
    key = load_private_key(fed.work / fed.homes[caller] / "node_key.pem")
    headers = sign_request(method="GET", path=path, body=b"", node=caller, private_key=key,
                           now=dt.datetime.now(dt.UTC))
    return requests.get(fed.hub + path, headers=headers, timeout=20)


@pytest.fixture(scope="module")
def summarised(fed: Federation, rerouted: dict[str, Any]) -> str:
    for code, home in NODES.items():
        ok_here("node", "send-summaries", "--home", home, cwd=fed.work)
        fed.sync(code)
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    return f"{today.year}-{today.month:02d}"


def test_every_nodes_summary_is_at_the_hub_for_the_province(
    fed: Federation, summarised: str
) -> None:
    bodies = {}
    for code in NODES:
        response = _hub_get(fed, PROVINCE, f"/api/v1/summaries?node={code}&period={summarised}")
        assert response.status_code == 200, response.text
        bodies[code] = response.json()["summary"]
    assert {code: body["node"]["code"] for code, body in bodies.items()} == {
        code: code for code in NODES}
    metrics = {code: body["metrics"] for code, body in bodies.items()}
    forwarded_up = {code: m["forwarded_up"]["value"] for code, m in metrics.items()}
    from_below = {code: m["received_from_below"]["value"] for code, m in metrics.items()}
    # four forwards from the township (the re-routed case counts once), one from the county
    assert forwarded_up[TOWNSHIP] == 4
    assert forwarded_up[COUNTY] == 1
    assert from_below == {PROVINCE: 0, CITY: 2, COUNTY: 3, TOWNSHIP: 0}
    # each decision is counted once, by the center that made it
    completed = {code: m["completed"]["value"] for code, m in metrics.items()}
    assert completed == {PROVINCE: 0, CITY: 2, COUNTY: 1, TOWNSHIP: 0}
    text_of = orjson.dumps(bodies[TOWNSHIP]).decode()
    assert "11010519491231002X" not in text_of
    assert "13800138000" not in text_of


def test_a_township_cannot_read_its_countys_summary(
    fed: Federation, summarised: str
) -> None:
    response = _hub_get(fed, TOWNSHIP, f"/api/v1/summaries?node={COUNTY}&period={summarised}")

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "outside_subtree"


def test_sync_status_shows_nothing_pending_or_dead(fed: Federation, summarised: str) -> None:
    for code in NODES:
        status = fed.api(code, "admin").ok("GET", "/api/v1/sync/status")
        assert status["pending_count"] == 0, (code, status)
        assert status["dead_letters"] == [], (code, status)
