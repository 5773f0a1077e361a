"""Audit anchors at the hub (issue 16, item 9): every summary's audit head is kept, judged
against the node's anchor before it, served to the node itself only, and a node whose anchored
count went back or whose head changed under the same count is flagged on its ancestors'
completeness page (审计链异常), unless it announced a restore (已从备份恢复)."""

from __future__ import annotations

import dataclasses
import hashlib
import uuid
from typing import Any

import pytest
from flask import Flask

from hub.relay.anchors import ANOMALY, FIRST, OK, RESTORED, Head, judge
from hub.relay.models import AuditAnchor, SummaryRecord
from schemas.envelope import Kind, sign_envelope
from schemas.keys import sign_b64
from tests.unit.hub.federation import CITY, COUNTY, PROVINCE, SIBLING, TOWNSHIP, Node, count, enroll
from tests.unit.schemas.test_messages import summary_body

PERIOD = "2026-11"


@pytest.fixture
def nodes(hub_app: Flask) -> dict[str, Node]:
    return enroll(hub_app.test_client())


def head(n: int, salt: str = "") -> str:
    return hashlib.sha256(f"entry {n}{salt}".encode()).hexdigest()


def anchored_summary(node: Node, entries: int, *, salt: str = "",
                     restore: str | None = None) -> dict[str, Any]:
    body = summary_body() | {"audit": {"entries": entries, "head": head(entries, salt),
                                       "restore": restore}}
    return node.envelope(Kind.SUMMARY, "hub", body)


def send(node: Node, *wires: dict[str, Any]) -> None:
    assert [r["status"] for r in node.results(*wires)] == ["accepted"] * len(wires)


def completeness(node: Node, scope: str = CITY) -> dict[str, Any]:
    response = node.call("GET", f"/api/v1/rankings/completeness?scope={scope}&period={PERIOD}")
    assert response.status_code == 200, response.json
    return response.json  # type: ignore[no-any-return]


def standing(answer: dict[str, Any], code: str) -> dict[str, Any] | None:
    (row,) = [row for row in answer["nodes"] if row["node"] == code]
    return row["audit"]  # type: ignore[no-any-return]


def test_the_verdicts() -> None:
    ten, twelve = Head(10, head(10), None), Head(12, head(12), None)
    assert judge(None, ten) == FIRST
    assert judge(ten, twelve) == OK
    assert judge(ten, ten) == OK
    assert judge(twelve, ten) == ANOMALY  # truncated, the head rewound
    assert judge(ten, Head(10, head(10, "rewritten"), None)) == ANOMALY
    restored = Head(5, head(5), str(uuid.uuid4()))
    assert judge(twelve, restored) == RESTORED
    assert judge(restored, Head(4, head(4), restored.restore)) == ANOMALY  # same restore


def test_a_growing_chain_is_kept_anchor_by_anchor_and_never_flagged(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    county = nodes[COUNTY]
    send(county, anchored_summary(county, 10))
    send(county, anchored_summary(county, 12), anchored_summary(county, 12))
    assert count(hub_app, AuditAnchor, AuditAnchor.node == COUNTY) == 3
    newest = county.call("GET", "/api/v1/audit/anchor").json
    assert (newest["node"], newest["entries"], newest["head"], newest["verdict"],
            newest["previous_entries"]) == (COUNTY, 12, head(12), OK, 12)
    answer = completeness(nodes[CITY])
    assert standing(answer, COUNTY) is None
    assert (answer["audit_anomalies"], answer["audit_restores"]) == (0, 0)


def test_a_truncated_chain_is_flagged_on_every_ancestors_completeness_page(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    county = nodes[COUNTY]
    send(county, anchored_summary(county, 10), anchored_summary(county, 12))
    send(county, anchored_summary(county, 9))  # entries deleted, the head rewound
    send(county, anchored_summary(county, 15))  # and it goes on: still flagged
    for viewer, scope in ((nodes[CITY], CITY), (nodes[PROVINCE], PROVINCE),
                          (county, COUNTY)):
        answer = completeness(viewer, scope)
        if scope == COUNTY:  # the county's own page lists its townships, not itself
            assert all(row["audit"] is None for row in answer["nodes"])
            continue
        flagged = standing(answer, COUNTY)
        assert flagged is not None
        assert (flagged["status"], flagged["entries"], flagged["previous_entries"]) == (
            ANOMALY, 9, 12)
        assert answer["audit_anomalies"] == 1
        assert standing(answer, SIBLING) is None
    export = nodes[CITY].call(
        "GET", f"/api/v1/rankings/completeness?scope={CITY}&period={PERIOD}&format=csv")
    assert "审计链异常" in export.get_data(as_text=True)


def test_a_head_changed_under_the_same_count_is_flagged(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    county = nodes[COUNTY]
    send(county, anchored_summary(county, 10))
    send(county, anchored_summary(county, 10, salt="rewritten"))
    flagged = standing(completeness(nodes[CITY]), COUNTY)
    assert flagged is not None
    assert (flagged["status"], flagged["entries"], flagged["previous_entries"]) == (
        ANOMALY, 10, 10)


def test_an_announced_restore_of_an_older_backup_is_shown_as_a_restore(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    county = nodes[COUNTY]
    send(county, anchored_summary(county, 10), anchored_summary(county, 12))
    restore = str(uuid.uuid4())
    send(county, anchored_summary(county, 8, restore=restore))
    send(county, anchored_summary(county, 9, restore=restore))
    answer = completeness(nodes[CITY])
    shown = standing(answer, COUNTY)
    assert shown is not None
    assert (shown["status"], shown["entries"], shown["previous_entries"]) == (RESTORED, 8, 12)
    assert (answer["audit_anomalies"], answer["audit_restores"]) == (0, 1)
    # the same restore id cannot cover a later truncation
    send(county, anchored_summary(county, 7, restore=restore))
    assert standing(completeness(nodes[CITY]), COUNTY)["status"] == ANOMALY  # type: ignore[index]


def test_a_node_reads_only_its_own_anchors(hub_app: Flask, nodes: dict[str, Node]) -> None:
    county, township = nodes[COUNTY], nodes[TOWNSHIP]
    missing = county.call("GET", "/api/v1/audit/anchor")
    assert (missing.status_code, missing.json["error"]["code"]) == (404, "not_found")
    send(county, anchored_summary(county, 3))
    assert county.call("GET", f"/api/v1/audit/anchor?node={COUNTY}").json["entries"] == 3
    for asker, whose in ((township, COUNTY), (nodes[CITY], COUNTY), (county, TOWNSHIP)):
        refused = asker.call("GET", f"/api/v1/audit/anchor?node={whose}")
        assert (refused.status_code, refused.json["error"]["code"]) == (403, "outside_subtree")
    unsigned = hub_app.test_client().get("/api/v1/audit/anchor")
    assert unsigned.status_code == 401


def test_summaries_without_an_anchor_are_still_accepted_and_a_bad_anchor_is_rejected(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    county = nodes[COUNTY]
    send(county, county.envelope(Kind.SUMMARY, "hub", summary_body()))  # an older node
    assert count(hub_app, AuditAnchor) == 0
    for audit in ({"entries": 3, "head": "not a hash", "restore": None},
                  {"entries": -1, "head": head(1), "restore": None},
                  {"entries": 3, "head": head(3), "restore": "x"},
                  {"entries": 3, "head": head(3)},
                  {"entries": 3, "head": head(3), "restore": None, "name": "张三"}):
        # signed as a faulty or hostile node would (sign_envelope refuses such a body)
        good = sign_envelope(kind=Kind.SUMMARY, sender=COUNTY, to="hub", seq=100 + len(audit),
                             body=summary_body(), private_key=county.key)
        bad = dataclasses.replace(good, body=summary_body() | {"audit": audit})
        wire = dataclasses.replace(bad, sig=sign_b64(county.key, bad.unsigned_bytes())).to_wire()
        [result] = county.results(wire)
        assert (result["status"], result["reason"]) == ("rejected", "bad_body"), audit
    assert count(hub_app, AuditAnchor) == 0
    assert count(hub_app, SummaryRecord) == 1



def test_the_anchor_before_a_new_one_is_one_probe_of_the_node_seq_index(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    """Judging each summary's anchor must not read all of a node's earlier anchors (a node
    sends one every summary refresh, tens of thousands a year)."""
    from sqlalchemy import text
    from sqlalchemy.dialects import postgresql, sqlite

    from hub.relay.anchors import newest_head_query

    send(nodes[COUNTY], anchored_summary(nodes[COUNTY], 1))
    db = hub_app.extensions["tongban_db"]
    statement = newest_head_query(COUNTY)
    with db.sessions() as session:
        if db.engine.dialect.name == "sqlite":
            sql = str(statement.compile(dialect=sqlite.dialect(),
                                        compile_kwargs={"literal_binds": True}))
            plan = " ".join(str(row[-1]) for row in session.execute(
                text(f"EXPLAIN QUERY PLAN {sql}")))
            assert "TEMP B-TREE" not in plan, plan  # no sort of the node's anchors
        else:
            session.execute(text("SET LOCAL enable_seqscan = off"))
            sql = str(statement.compile(dialect=postgresql.dialect(),
                                        compile_kwargs={"literal_binds": True}))
            plan = " ".join(row[0] for row in session.execute(text(f"EXPLAIN {sql}")))
            assert "Sort" not in plan, plan
    assert "ix_audit_anchors_node_seq" in plan, plan
