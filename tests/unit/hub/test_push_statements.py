"""How many statements a push of summaries sends to the database (issue 15, item 4;
docs/scale.md, "Hub ingest"): on PostgreSQL each is a round trip.  The count is pinned here so
that it cannot grow back unnoticed: a push of ten anchored summaries was seven statements and
the commit; it is four (the nonce's INSERT reads the registry version, the log's INSERT the
previous audit anchor and the registered name) and the commit.

Not seen by ``before_cursor_execute``, and the same before and after: psycopg's BEGIN and
the pool's pre-ping at checkout (PostgreSQL), the COMMIT (counted here by the engine's
``commit`` event)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, select

from hub.models import RegisteredNode
from hub.relay.models import AuditAnchor, RequestNonce, SummaryRecord
from schemas.envelope import Kind
from schemas.runtime.database import utcnow
from tests.unit.hub.conftest import MakeHub
from tests.unit.hub.federation import CITY, COUNTY, PROVINCE, Node, count, enroll, revocation
from tests.unit.schemas.test_messages import summary_body

BATCH = 10
NAME = "北流市政务服务中心"

# the statements of a push of anchored summaries, by how each begins
PUSH = {
    "sqlite": ["BEGIN IMMEDIATE", "INSERT INTO request_nonces", "INSERT INTO envelope_log",
               "INSERT INTO summaries", "INSERT INTO audit_anchors"],
    "postgresql": ["INSERT INTO request_nonces", "INSERT INTO envelope_log",
                   "INSERT INTO summaries", "INSERT INTO audit_anchors"],
}
RENAME = "UPDATE nodes SET name"


@pytest.fixture
def county(hub_app: Flask) -> Node:
    return enroll(hub_app.test_client(), CITY, COUNTY)[COUNTY]


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every statement the app's engine sends meanwhile (whitespace folded), and a
    ``COMMIT`` for each commit."""
    sent: list[str] = []

    def executed(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(" ".join(statement.split()))

    def committed(_conn: Any) -> None:
        sent.append("COMMIT")

    engine = app.extensions["tongban_db"].engine
    event.listen(engine, "before_cursor_execute", executed)
    event.listen(engine, "commit", committed)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", executed)
        event.remove(engine, "commit", committed)


def anchored(node: Node, entries: int, name: str = NAME) -> dict[str, Any]:
    body = summary_body()
    body["node"]["name"] = name
    body["audit"] = {"entries": entries,
                     "head": hashlib.sha256(f"entry {entries}".encode()).hexdigest(),
                     "restore": None}
    return node.envelope(Kind.SUMMARY, "hub", body)


def push(app: Flask, node: Node, first: int, name: str = NAME) -> list[str]:
    """Push ``BATCH`` summaries anchoring ``first`` … entries; the statements it sent."""
    wires = [anchored(node, entries, name) for entries in range(first, first + BATCH)]
    with statements(app) as sent:
        results = node.results(*wires)
    assert [r["status"] for r in results] == ["accepted"] * BATCH
    return sent


def begins(sent: list[str], expected: list[str]) -> bool:
    return len(sent) == len(expected) and all(
        statement.startswith(start) for statement, start in zip(sent, expected, strict=True))


def listing(sent: list[str]) -> str:
    return "statements sent:\n" + "\n".join(f"  {s[:100]}" for s in sent)


def dialect(app: Flask) -> str:
    name: str = app.extensions["tongban_db"].engine.dialect.name
    return name


def test_a_push_of_summaries_is_a_fixed_number_of_statements(
    hub_app: Flask, county: Node
) -> None:
    push(hub_app, county, 1)  # the process's store loaded, the nonces pruned, the name kept
    sent = push(hub_app, county, 11)

    expected = [*PUSH[dialect(hub_app)], "COMMIT"]
    assert begins(sent, expected), listing(sent)
    # all of it stored, the anchors judged against the previous push's last one
    assert count(hub_app, SummaryRecord) == 2 * BATCH
    with hub_app.extensions["tongban_db"].sessions() as session:
        anchors = session.execute(
            select(AuditAnchor.entries, AuditAnchor.verdict, AuditAnchor.previous_entries)
            .order_by(AuditAnchor.seq)).all()
    assert [tuple(a) for a in anchors] == (
        [(1, "first", None)] + [(n, "ok", n - 1) for n in range(2, 2 * BATCH + 1)])


def test_a_push_compiles_no_statement_once_one_of_its_size_was_sent(
    hub_app: Flask, county: Node
) -> None:
    """Every statement of a push comes from SQLAlchemy's compiled cache: the log's INSERT of
    the batch built with ``.values([...])`` was compiled anew for every push (≈ 1 ms an
    envelope in cProfile, docs/scale.md, "Hub ingest"); its rows are parameters now."""
    push(hub_app, county, 1)
    push(hub_app, county, 11)  # the first of each statement compiled: the cache holds them
    hits: list[tuple[str, str]] = []

    def executed(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any,
                 _many: bool) -> None:
        hits.append((" ".join(statement.split())[:40], context.cache_hit.name))

    engine = hub_app.extensions["tongban_db"].engine
    event.listen(engine, "before_cursor_execute", executed)
    try:
        push(hub_app, county, 21)
    finally:
        event.remove(engine, "before_cursor_execute", executed)
    sent = [(name, cached) for name, cached in hits if not name.startswith("BEGIN")]
    assert begins([name for name, _ in sent],
                  [start for start in PUSH[dialect(hub_app)] if not start.startswith("BEGIN")])
    assert all(cached == "CACHE_HIT" for _, cached in sent), sent


def test_a_summary_with_a_new_name_costs_one_update(hub_app: Flask, county: Node) -> None:
    push(hub_app, county, 1)
    sent = push(hub_app, county, 11, name=f"{NAME}（新址）")

    expected = [*PUSH[dialect(hub_app)], RENAME, "COMMIT"]
    assert begins(sent, expected), listing(sent)
    with hub_app.extensions["tongban_db"].sessions() as session:
        assert session.get(RegisteredNode, COUNTY).name == f"{NAME}（新址）"  # type: ignore[union-attr]
    # the same name again: no UPDATE
    assert begins(push(hub_app, county, 21, name=f"{NAME}（新址）"),
                  [*PUSH[dialect(hub_app)], "COMMIT"])


def test_an_anchor_going_back_across_pushes_is_an_anomaly(hub_app: Flask, county: Node) -> None:
    """The previous anchor, read in the log INSERT's RETURNING, is the previous push's."""
    push(hub_app, county, 21)
    sent = push(hub_app, county, 1)
    assert begins(sent, [*PUSH[dialect(hub_app)], "COMMIT"]), listing(sent)
    with hub_app.extensions["tongban_db"].sessions() as session:
        first_of_second = session.execute(
            select(AuditAnchor.verdict, AuditAnchor.previous_entries)
            .where(AuditAnchor.entries == 1)).one()
    assert tuple(first_of_second) == ("anomaly", 30)


def test_a_request_is_judged_again_when_the_registry_moved_under_the_kept_store(
    make_hub: MakeHub,
) -> None:
    """The request is checked against the store this process keeps and the version read
    by the nonce's statement: a revocation another process stored meanwhile refuses it,
    and the nonce is not kept."""
    first, second = make_hub(), make_hub()
    nodes = enroll(first.test_client())
    county_here = Node(second.test_client(), COUNTY)
    push(second, county_here, 1)  # the second process keeps a store with the county's key
    province = nodes[PROVINCE]
    past = revocation(COUNTY, issuer=PROVINCE, effective_at=utcnow() - dt.timedelta(minutes=1))
    [result] = province.results(province.envelope(Kind.REVOKE, "hub", {"revocation": past}))
    assert result["status"] == "accepted"
    nonces = count(first, RequestNonce)

    response = county_here.push(anchored(county_here, 11))

    assert response.status_code == 401, response.json
    assert response.json["error"]["code"] == "revoked_key"
    assert count(first, RequestNonce) == nonces
    assert count(first, SummaryRecord) == BATCH
