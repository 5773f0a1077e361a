"""Pushes at the same time through two hub processes on one PostgreSQL (READ COMMITTED, the
production database): a request's nonce is accepted once, an envelope is logged and applied
once, and a batch that met an envelope another transaction was logging judges its audit
anchors against what that transaction committed (docs/scale.md, "Hub ingest": the previous
anchor is read in the log INSERT's RETURNING, and read afresh after such a wait).

SQLite is skipped: there every writing transaction takes the database lock up front, so two
pushes never overlap."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, select, text

from hub.relay.mailboxes import MAILBOX_LOCK_STATEMENT, mailbox_buckets
from hub.relay.models import (
    AuditAnchor,
    EnvelopeRecord,
    MailboxItem,
    RequestNonce,
    SummaryRecord,
)
from schemas.envelope import Kind
from schemas.runtime.database import utcnow
from tests.unit.hub.conftest import MakeHub
from tests.unit.hub.federation import CITY, COUNTY, TOWNSHIP, TOWNSHIP2, Node, count, enroll
from tests.unit.schemas.test_messages import case_update_body, summary_body

THREADS = 8
JOIN_TIMEOUT = 60


@pytest.fixture
def hubs(make_hub: MakeHub, database_url: str) -> tuple[Flask, Flask]:
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises writers: two pushes never overlap")
    return make_hub(), make_hub()


def anchored(node: Node, entries: int) -> dict[str, Any]:
    body = summary_body() | {"audit": {
        "entries": entries, "head": hashlib.sha256(f"entry {entries}".encode()).hexdigest(),
        "restore": None}}
    return node.envelope(Kind.SUMMARY, "hub", body)


def at_once(calls: list[Any]) -> list[Any]:
    """Run every call in its own thread, released together; their answers in order."""
    start = threading.Barrier(len(calls))
    answers: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    return answers


def warm(hubs: tuple[Flask, Flask], *below: str) -> Node:
    """The county enrolled (and ``below`` it), and each process keeping its trust store."""
    county = enroll(hubs[0].test_client(), CITY, COUNTY, *below)[COUNTY]
    for app in hubs:
        here = Node(app.test_client(), COUNTY)
        here._seq = county._seq  # one county, one seq, two hubs
        assert here.results(anchored(here, 0))[0]["status"] == "accepted"
    return county


def test_one_request_sent_at_once_to_both_processes_is_accepted_once(
    hubs: tuple[Flask, Flask],
) -> None:
    county = warm(hubs)
    wires = [anchored(county, entries) for entries in range(1, 11)]
    body = json.dumps({"envelopes": wires}).encode()
    headers = county.signed_headers("POST", "/api/v1/envelopes", body)
    nonces = count(hubs[0], RequestNonce)

    answers = at_once([
        lambda app=hubs[i % 2]: app.test_client().post(
            "/api/v1/envelopes", data=body, headers=headers, content_type="application/json")
        for i in range(THREADS)])

    codes = Counter(a.status_code if a.status_code == 200 else a.json["error"]["code"]
                    for a in answers)
    assert codes == {200: 1, "replayed_nonce": THREADS - 1}
    assert count(hubs[0], RequestNonce) == nonces + 1
    assert count(hubs[0], SummaryRecord) == 2 + 10


def test_the_same_envelopes_pushed_at_once_are_applied_once(hubs: tuple[Flask, Flask]) -> None:
    county = warm(hubs)
    wires = [anchored(county, entries) for entries in range(1, 11)]
    pushers = [Node(hubs[i % 2].test_client(), COUNTY) for i in range(THREADS)]

    answers = at_once([lambda pusher=pusher: pusher.results(*wires) for pusher in pushers])

    statuses = Counter((r["id"], r["status"]) for results in answers for r in results)
    for wire in wires:
        assert statuses[(wire["id"], "accepted")] == 1
        assert statuses[(wire["id"], "duplicate")] == THREADS - 1
    assert count(hubs[0], SummaryRecord) == 2 + 10
    with hubs[0].extensions["tongban_db"].sessions() as session:
        anchors = session.execute(select(AuditAnchor.entries, AuditAnchor.previous_entries)
                                  .where(AuditAnchor.entries > 0)
                                  .order_by(AuditAnchor.seq)).all()
    assert [tuple(a) for a in anchors] == [(n, n - 1) for n in range(1, 11)]


def test_a_batch_that_waited_for_another_judges_its_anchors_after_it(
    hubs: tuple[Flask, Flask],
) -> None:
    """Another transaction logs the batch's first envelope and anchors it, and commits only
    while the push waits on that envelope: the rest of the batch is judged against that
    anchor, not against the one before it."""
    county = warm(hubs)
    wires = [anchored(county, entries) for entries in range(1, 6)]
    first = wires[0]
    db = hubs[0].extensions["tongban_db"]
    now = utcnow()
    with db.engine.connect() as other:
        other.execute(insert(EnvelopeRecord).values(
            id=first["id"], sender=COUNTY, seq=first["seq"], kind="summary", to="hub",
            ts=first["ts"], received_at=now, wire=json.dumps(first)))
        other.execute(insert(AuditAnchor).values(
            node=COUNTY, seq=first["seq"], envelope_id=first["id"], entries=1,
            head=first["body"]["audit"]["head"], restore=None, received_at=now, verdict="ok",
            previous_entries=0))
        answers = []
        pusher = threading.Thread(target=lambda: answers.append(
            Node(hubs[1].test_client(), COUNTY).results(*wires)))
        pusher.start()
        deadline = time.monotonic() + JOIN_TIMEOUT
        while not _waiting_on_a_lock(db, other):
            assert time.monotonic() < deadline, "the push never waited on the envelope"
            time.sleep(0.05)
        other.commit()
        pusher.join(JOIN_TIMEOUT)
    [results] = answers
    assert [r["status"] for r in results] == ["duplicate"] + ["accepted"] * 4
    with db.sessions() as session:
        anchors = session.execute(select(AuditAnchor.entries, AuditAnchor.verdict,
                                         AuditAnchor.previous_entries)
                                  .where(AuditAnchor.entries > 0)
                                  .order_by(AuditAnchor.seq)).all()
    assert [tuple(a) for a in anchors] == [(1, "ok", 0)] + [(n, "ok", n - 1) for n in range(2, 6)]


def _waiting_on_a_lock(db: Any, holder: Any) -> bool:
    """Whether a session waits on a lock ``holder``'s transaction holds."""
    pid = holder.connection.dbapi_connection.info.backend_pid
    with db.engine.connect() as probe:
        return bool(probe.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE :holder = ANY(pg_blocking_pids(pid))"),
            {"holder": pid}))


def test_a_delivery_waits_only_for_the_uncommitted_deliveries_to_its_mailboxes(
    hubs: tuple[Flask, Flask],
) -> None:
    """Another transaction holds the lock of a township's mailbox (as one that delivered to it
    and has not committed yet): a forward to that mailbox waits for its commit — its cursor,
    drawn later, must not become visible first, or a reader at it would skip the other row —
    while a delivery to a mailbox of another bucket goes through at once (one lock for every
    mailbox made each forward wait for every other one: docs/scale.md, "Fleet")."""
    county = warm(hubs, TOWNSHIP, TOWNSHIP2)
    assert mailbox_buckets([TOWNSHIP]) != mailbox_buckets([TOWNSHIP2])
    db = hubs[0].extensions["tongban_db"]
    pushed: dict[str, list[dict[str, Any]]] = {}

    def push(to: str) -> threading.Thread:
        pusher = Node(hubs[len(pushed) % 2].test_client(), COUNTY)
        pusher._seq = county._seq
        wire = county.envelope(Kind.CASE_UPDATE, to, case_update_body())
        thread = threading.Thread(target=lambda: pushed.__setitem__(to, pusher.results(wire)))
        thread.start()
        return thread

    with db.engine.connect() as other:
        other.execute(MAILBOX_LOCK_STATEMENT, {"buckets": mailbox_buckets([TOWNSHIP])})
        elsewhere = push(TOWNSHIP2)
        elsewhere.join(JOIN_TIMEOUT)
        assert not elsewhere.is_alive()  # another bucket: not held up by the lock
        assert [r["status"] for r in pushed[TOWNSHIP2]] == ["accepted"]
        same = push(TOWNSHIP)
        deadline = time.monotonic() + JOIN_TIMEOUT
        while not _waiting_on_a_lock(db, other):
            assert time.monotonic() < deadline, "the delivery never waited for the mailbox"
            time.sleep(0.05)
        assert TOWNSHIP not in pushed
        assert count(hubs[0], MailboxItem, MailboxItem.addressee == TOWNSHIP) == 0
        other.commit()
        same.join(JOIN_TIMEOUT)
    assert not same.is_alive()
    assert [r["status"] for r in pushed[TOWNSHIP]] == ["accepted"]
    assert count(hubs[0], MailboxItem, MailboxItem.addressee == TOWNSHIP) == 1
