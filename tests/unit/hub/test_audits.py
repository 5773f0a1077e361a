"""Commitments and sampled audits at the hub (issue 21): a summary whose figures are not what
its commitment adds up to is refused and the refusal shown; an ancestor (node or staff) opens
an audit whose seed the node cannot choose; the node's answer is judged from the envelopes
(passed, failed with its findings, 未应答 when it does not come in time); nobody else audits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from hub.audits.models import Audit, CommitmentRefusal
from hub.models import RegisteredNode
from schemas.commitment import audit_seed, leaf_bytes, sample_indexes, sort_key, tallies
from schemas.envelope import Kind
from schemas.merkle import inclusion_proof, leaf_hash, tree_levels
from tests.unit.hub.federation import CITY, COUNTY, SIBLING, TOWNSHIP, Node, count, enroll
from tests.unit.hub.test_rankings import login, staff_account
from tests.unit.schemas.test_merkle import OUTSIDE, leaf
from tests.unit.schemas.test_messages import summary_body

PERIOD = "2026-11"
LEAVES = sorted([
    leaf(f"450981-2026-{i:07d}", "completed", completed="2026-11-05", closed="2026-11-05",
         on_time=i % 3 > 0, same_day=False, deadline="2026-11-05" if i % 3 else "2026-11-04")
    for i in range(1, 41)
] + [leaf(f"450981-2026-{i:07d}", "open") for i in range(41, 53)], key=sort_key)


@pytest.fixture
def nodes(hub_app: Flask) -> dict[str, Node]:
    return enroll(hub_app.test_client())


def committed_summary(leaves: list[dict[str, Any]]) -> tuple[dict[str, Any], list[Any]]:
    levels = tree_levels([leaf_hash(leaf_bytes(x)) for x in leaves])
    counts, by_state = tallies(leaves, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    body = summary_body()
    body["metrics"] = {key: {"unit": "fen" if key.endswith("_fen") else "count", "value": v}
                       for key, v in counts.items()}
    body["commitment"] = {"size": len(leaves), "root": levels[-1][0].hex(),
                          "as_of": "2026-11-30", "tallies": counts, "by_state": by_state}
    return body, levels


def answer_body(audit: dict[str, Any], leaves: list[dict[str, Any]], levels: list[Any],
                summary_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "audit": audit["id"], "summary": summary_id, "seed": audit["seed"],
        "size": len(leaves), "root": levels[-1][0].hex(), "as_of": "2026-11-30",
        "items": [{"index": i, "leaf": leaves[i],
                   "proof": [p.hex() for p in inclusion_proof(levels, i)],
                   "current": leaves[i] | changes} for i in audit["indexes"]],
    }


def send_summary(county: Node, body: dict[str, Any]) -> dict[str, Any]:
    wire = county.envelope(Kind.SUMMARY, "hub", body)
    (result,) = county.results(wire)
    assert result["status"] == "accepted", result
    return wire


def open_audit(auditor: Node, **fields: Any) -> Any:
    return auditor.call("POST", "/api/v1/audits",
                        {"node": COUNTY, "period": PERIOD, **fields})


def verification(city: Node, code: str = COUNTY) -> Any:
    answer = city.call("GET", f"/api/v1/rankings/completeness?scope={CITY}&period={PERIOD}")
    assert answer.status_code == 200, answer.json
    (row,) = [r for r in answer.json["nodes"] if r["node"] == code]
    return row["verification"], answer.json


def test_an_inflated_summary_is_refused_and_shown(hub_app: Flask, nodes: dict[str, Node]) -> None:
    county = nodes[COUNTY]
    body, _ = committed_summary(LEAVES)
    body["metrics"]["completed_on_time"]["value"] += 5
    (result,) = county.results(county.envelope(Kind.SUMMARY, "hub", body))
    assert (result["status"], result["reason"]) == ("rejected", "commitment_mismatch")
    assert "completed_on_time" in result["message"]
    assert count(hub_app, CommitmentRefusal) == 1
    standing, document = verification(nodes[CITY])
    assert standing["refused"]["reason"] == "counts"
    assert standing["refused"]["problems"][0]["field"] == "completed_on_time"
    assert document["verification_failures"] == 1
    # an honest version later clears it
    send_summary(county, committed_summary(LEAVES)[0])
    assert verification(nodes[CITY])[0] is None


def test_dropped_leaves_do_not_add_up(hub_app: Flask, nodes: dict[str, Node]) -> None:
    county = nodes[COUNTY]
    body, _ = committed_summary(LEAVES)
    short, _ = committed_summary(LEAVES[:-3])  # the tree without three open cases
    body["commitment"] |= {"size": short["commitment"]["size"],
                           "root": short["commitment"]["root"]}
    (result,) = county.results(county.envelope(Kind.SUMMARY, "hub", body))
    assert (result["status"], result["reason"]) == ("rejected", "commitment_mismatch")
    assert verification(nodes[CITY])[0]["refused"]["reason"] == "size"


def test_an_audit_passes_and_an_outsider_checks_it(
    hub_app: Flask, nodes: dict[str, Node], tmp_path: Path
) -> None:
    county, city = nodes[COUNTY], nodes[CITY]
    body, levels = committed_summary(LEAVES)
    wire = send_summary(county, body)
    opened = open_audit(city, sample_size=10)
    assert opened.status_code == 201, opened.json
    audit = opened.json
    assert audit["seed"] == audit_seed(audit["request_digest"], audit["log_head"])
    assert audit["request_digest"] == hashlib.sha256(
        json.dumps(audit["request"], sort_keys=True, separators=(",", ":"),
                   ensure_ascii=False).encode()).hexdigest()
    assert audit["indexes"] == sample_indexes(audit["seed"], len(LEAVES), 10)
    assert [d["false_share_bp"] for d in audit["detection"]] == [100, 500, 1000]
    pending = county.call("GET", "/api/v1/audits/pending").json["audits"]
    assert [(p["id"], p["indexes"]) for p in pending] == [(audit["id"], audit["indexes"])]
    response = county.envelope(Kind.AUDIT_RESPONSE, "hub",
                               answer_body(audit, LEAVES, levels, wire["id"]))
    assert county.results(response)[0]["status"] == "accepted"
    done = city.call("GET", f"/api/v1/audits/{audit['id']}").json
    assert (done["state"], done["findings"]) == ("passed", [])
    assert county.call("GET", "/api/v1/audits/pending").json["audits"] == []
    assert verification(city)[0]["status"] == "passed"
    # the same answer again is refused: the audit is closed
    again = county.envelope(Kind.AUDIT_RESPONSE, "hub",
                            answer_body(audit, LEAVES, levels, wire["id"]))
    assert county.results(again)[0]["reason"] == "audit_closed"
    # anyone with the two envelopes checks it again without tongban
    (tmp_path / "s.json").write_text(json.dumps(done["envelopes"]["summary"]))
    (tmp_path / "r.json").write_text(json.dumps(done["envelopes"]["response"]))
    (tmp_path / "a.json").write_text(json.dumps(done))  # the hub's record: request, log head
    outside = subprocess.run([sys.executable, "-I", str(OUTSIDE), str(tmp_path / "s.json"),
                              str(tmp_path / "r.json"), "--audit", str(tmp_path / "a.json")],
                             capture_output=True, text=True, timeout=60, check=False)
    assert outside.returncode == 0, outside.stdout + outside.stderr
    assert "ok    the seed is the request's and the hub's log head's" in outside.stdout
    assert outside.stdout.count("held unchanged") == 10


def test_a_changed_case_and_a_forged_leaf_fail(hub_app: Flask, nodes: dict[str, Node]) -> None:
    county, city = nodes[COUNTY], nodes[CITY]
    body, levels = committed_summary(LEAVES)
    wire = send_summary(county, body)
    audit = open_audit(city, sample_size=5).json
    changed = answer_body(audit, LEAVES, levels, wire["id"], completed="2026-11-01")
    changed["items"][1]["leaf"] = changed["items"][1]["leaf"] | {"fee_fen": 1}  # forged
    assert county.results(county.envelope(Kind.AUDIT_RESPONSE, "hub", changed))[0][
        "status"] == "accepted"
    done = city.call("GET", f"/api/v1/audits/{audit['id']}").json
    reasons = {f["reason"] for f in done["findings"]}
    assert done["state"] == "failed"
    assert {"case_changed", "bad_proof"} <= reasons
    case_changed = next(f for f in done["findings"] if f["reason"] == "case_changed")
    assert "completed" in case_changed["fields"]
    assert verification(city)[0]["status"] == "failed"


def test_no_answer_in_time_is_unanswered(make_hub: Any) -> None:
    app = make_hub(audit_answer_seconds=0)
    nodes = enroll(app.test_client())
    body, _ = committed_summary(LEAVES)
    send_summary(nodes[COUNTY], body)
    assert open_audit(nodes[CITY]).status_code == 201
    standing, _ = verification(nodes[CITY])
    assert standing["status"] == "unanswered"


def test_only_an_ancestor_audits(hub_app: Flask, nodes: dict[str, Node]) -> None:
    body, _ = committed_summary(LEAVES)
    send_summary(nodes[COUNTY], body)
    for outsider in (SIBLING, TOWNSHIP, COUNTY):
        answer = open_audit(nodes[outsider])
        assert answer.status_code == 403, (outsider, answer.json)
        assert answer.json["error"]["code"] == "not_an_ancestor"
    assert count(hub_app, Audit) == 0
    assert open_audit(nodes[CITY], period="2026-10").status_code == 404
    assert open_audit(nodes[CITY], sample_size=0).status_code == 422
    unknown = nodes[COUNTY].envelope(Kind.AUDIT_RESPONSE, "hub", {
        "audit": "0b6f4c1e-3c1b-4d7a-9a55-0c9f6a9d1e11", "summary":
        "0b6f4c1e-3c1b-4d7a-9a55-0c9f6a9d1e12", "seed": "ab" * 32, "size": 1,
        "root": "cd" * 32, "as_of": "2026-11-30", "items": []})
    assert nodes[COUNTY].results(unknown)[0]["reason"] == "unknown_audit"


def test_hub_staff_with_the_scope_audit(hub_app: Flask, nodes: dict[str, Node]) -> None:
    """Hub staff open an audit with their bearer token when their scope holds the node
    (the city's, or the county's own); another county's staff are refused, as is a token
    not given; the staff read the audit they opened."""
    body, _ = committed_summary(LEAVES)
    send_summary(nodes[COUNTY], body)
    staff_account(hub_app, "city-staff", CITY)
    staff_account(hub_app, "sibling-staff", SIBLING)
    client = hub_app.test_client()

    def opened(token: str | None) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return client.post("/api/v1/audits", json={"node": COUNTY, "period": PERIOD,
                                                   "sample_size": 7}, headers=headers)

    city = login(hub_app, "city-staff").json["token"]
    answer = opened(city)
    assert answer.status_code == 201, answer.json
    assert (answer.json["requested_by"], answer.json["sampled"]) == ("staff:city-staff", 7)
    assert answer.json["indexes"] == sample_indexes(answer.json["seed"], len(LEAVES), 7)
    assert len(answer.json["detection"]) == 3
    again = client.get(f"/api/v1/audits/{answer.json['id']}",
                       headers={"Authorization": f"Bearer {city}"})
    assert (again.status_code, again.json["state"]) == (200, "pending")
    refused = opened(login(hub_app, "sibling-staff").json["token"])
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "not_an_ancestor")
    assert opened(None).status_code == 401
    assert count(hub_app, Audit) == 1


def test_a_summary_without_a_commitment_is_flagged(
        hub_app: Flask, nodes: dict[str, Node]) -> None:
    county = nodes[COUNTY]
    bare, _ = committed_summary(LEAVES)
    del bare["commitment"]
    wire = send_summary(county, bare)  # accepted (docs/verification.md: why not refused)
    standing, document = verification(nodes[CITY])
    assert standing == {"status": None, "uncommitted": {"seq": wire["seq"]}}
    assert document["verification_failures"] == 1
    league = nodes[CITY].call("GET", f"/api/v1/rankings/league?scope={CITY}&period={PERIOD}"
                              "&metric=completed&level=county")
    assert league.status_code == 200, league.json
    rows = [r for g in league.json["groups"] for r in g["rows"] if r["node"] == COUNTY]
    assert [r["verification"] for r in rows] == ["uncommitted"]
    # nothing to audit in it
    assert open_audit(nodes[CITY]).json["error"]["code"] == "no_commitment"
    # a version with its commitment clears the flag
    send_summary(county, committed_summary(LEAVES)[0])
    assert verification(nodes[CITY])[0] is None


def test_the_audit_errors_speak_the_readers_language(
        hub_app: Flask, nodes: dict[str, Node]) -> None:
    def opened(caller: Node, language: str | None, **fields: Any) -> Any:
        body = json.dumps({"node": COUNTY, "period": PERIOD, **fields}).encode()
        headers = caller.signed_headers("POST", "/api/v1/audits", body)
        if language:
            headers["Accept-Language"] = language
        return caller.client.open("/api/v1/audits", method="POST", data=body, headers=headers,
                                  content_type="application/json")

    def error(answer: Any) -> tuple[int, str, str]:
        return answer.status_code, answer.json["error"]["code"], answer.json["error"]["message"]

    # the centers by the registry's names, a code beside a name, never alone
    assert error(opened(nodes[CITY], None)) == (
        404, "no_summary", f"没有 未登记名称的中心（{COUNTY}） {PERIOD} 的统计汇总。")
    with hub_app.extensions["tongban_db"].unit_of_work() as session:
        session.get(RegisteredNode, COUNTY).name = "北流市政务服务中心"
        session.get(RegisteredNode, SIBLING).name = "容县政务服务中心"
    assert error(opened(nodes[CITY], None)) == (
        404, "no_summary", f"没有 北流市政务服务中心（{COUNTY}） {PERIOD} 的统计汇总。")
    assert error(opened(nodes[CITY], "en")) == (
        404, "no_summary", f"No summary of 北流市政务服务中心（{COUNTY}） for {PERIOD} is held.")
    assert error(opened(nodes[SIBLING], None)) == (
        403, "not_an_ancestor",
        f"容县政务服务中心（{SIBLING}）不是北流市政务服务中心（{COUNTY}）的上级，"
        "只有上级中心可以核验。")
    assert error(opened(nodes[SIBLING], "en"))[2] == (
        f"容县政务服务中心（{SIBLING}） is not above 北流市政务服务中心（{COUNTY}）: "
        "only an ancestor audits a node")
    bare, _ = committed_summary(LEAVES)
    del bare["commitment"]
    send_summary(nodes[COUNTY], bare)
    assert error(opened(nodes[CITY], None)) == (
        409, "no_commitment", "这份统计汇总未附办件记录承诺，无法核验。")
    assert error(opened(nodes[CITY], "en"))[2] == "That summary carries no commitment to audit."
    too_many = opened(nodes[CITY], None, sample_size=0)
    assert too_many.status_code == 422
    assert too_many.json["error"]["details"]["fields"]["sample_size"] == [
        "须大于或等于 1，且小于或等于 200。"]
    assert count(hub_app, Audit) == 0
