"""Audit anchors: each node's audit head as its signed summaries carried it (issue 16).

A node's audit chain (node/audit/chain.py) makes tampering evident only against a head kept
somewhere its database's owner cannot reach.  Every signed summary carries the head
(``audit``: ``entries``, ``head``, ``restore``; schemas/summary.py) and the hub keeps each one
here, with the envelope's seq, its arrival time and a verdict against the node's anchor before
it (by seq):

``first``     the node's first anchor
``ok``        the count grew, or stayed with the same head
``restored``  the node announced a restore from a backup (a ``restore`` id other than the
              previous anchor's): a count that went back is shown as 已从备份恢复
``anomaly``   the count went back, or the head changed under the same count, with no new
              restore: the chain was truncated or rewritten (审计链异常)

The hub cannot see a rewrite that also added entries: the node's own ``tongban node
verify-audit --against-hub`` checks the entry at the anchored count against the anchored head.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import Select, Table, insert, select
from sqlalchemy.orm import Session

from hub.relay.models import AuditAnchor

FIRST, OK, RESTORED, ANOMALY = "first", "ok", "restored", "anomaly"
FLAGGED = (RESTORED, ANOMALY)


@dataclasses.dataclass(frozen=True)
class Head:
    """What an anchor says about the chain."""

    entries: int
    head: str
    restore: str | None

    @classmethod
    def of_body(cls, body: Mapping[str, Any]) -> Head | None:
        audit = body.get("audit")
        if not isinstance(audit, Mapping):
            return None  # a summary from a node older than anchors
        return cls(int(audit["entries"]), str(audit["head"]), audit.get("restore"))


def judge(previous: Head | None, current: Head) -> str:
    """The verdict on ``current`` after ``previous`` (see the module docstring)."""
    if previous is None:
        return FIRST
    if current.restore is not None and current.restore != previous.restore:
        return RESTORED
    if current.entries < previous.entries:
        return ANOMALY
    if current.entries == previous.entries and current.head != previous.head:
        return ANOMALY
    return OK


@dataclasses.dataclass(frozen=True)
class Arrival:
    """One summary's anchor as it arrives: whose, which envelope, what it says."""

    node: str
    seq: int
    envelope_id: str
    head: Head


def record(session: Session, arrivals: Sequence[Arrival], now: dt.datetime,
           previous: Mapping[str, Head | None] | None = None) -> None:
    """Store ``arrivals`` (envelopes already logged, each once), judged in seq order per
    node against the node's anchor before it: one multi-row INSERT a batch."""
    rows = judged(session, arrivals, now, previous)
    if rows:
        insert_rows(session, rows)


def judged(session: Session, arrivals: Sequence[Arrival], now: dt.datetime,
           previous: Mapping[str, Head | None] | None = None) -> list[dict[str, Any]]:
    """The rows of ``arrivals``, each judged in seq order per node against the node's
    anchor before it: read (one probe per node) unless the caller read it already
    (``previous``: the push path reads it in its log INSERT's RETURNING,
    :func:`previous_head_columns`)."""
    if not arrivals:
        return []
    nodes = sorted({arrival.node for arrival in arrivals})
    heads: dict[str, Head | None] = dict(previous or {})
    heads.update(_newest_heads(session, [node for node in nodes if node not in heads]))
    rows = []
    for arrival in sorted(arrivals, key=lambda a: (a.node, a.seq)):
        before = heads.get(arrival.node)
        rows.append({
            "node": arrival.node, "seq": arrival.seq, "envelope_id": arrival.envelope_id,
            "entries": arrival.head.entries, "head": arrival.head.head,
            "restore": arrival.head.restore, "received_at": now,
            "verdict": judge(before, arrival.head),
            "previous_entries": before.entries if before is not None else None,
        })
        heads[arrival.node] = arrival.head
    return rows


def insert_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert judged rows: a Core executemany of the table (one statement, compiled once
    per process), not the ORM's bulk insert, which leaves out the columns a row has as None
    and so split a batch with and without ``restore`` into two statements."""
    session.execute(insert(cast(Table, AuditAnchor.__table__)), rows)


def previous_head_columns(node: str) -> tuple[Any, Any, Any]:
    """``node``'s newest anchor as three scalar subqueries (entries, head, restore; NULL
    before its first), to ride along in another statement's RETURNING: the push path's
    log INSERT reads the anchor a batch is judged against without a round trip of its own."""
    entries, head, restore = (
        select(column).where(AuditAnchor.node == node)
        .order_by(AuditAnchor.seq.desc()).limit(1).scalar_subquery()
        for column in (AuditAnchor.entries, AuditAnchor.head, AuditAnchor.restore))
    return entries, head, restore


def head_of(entries: int | None, head: str | None, restore: str | None) -> Head | None:
    """The :class:`Head` read by :func:`previous_head_columns` (None: no anchor yet)."""
    if entries is None or head is None:
        return None
    return Head(int(entries), head, restore)


def newest_head_query(node: str) -> Select[int, str, str | None]:
    return (select(AuditAnchor.entries, AuditAnchor.head, AuditAnchor.restore)
            .where(AuditAnchor.node == node).order_by(AuditAnchor.seq.desc()).limit(1))


def _newest_heads(session: Session, nodes: Iterable[str]) -> dict[str, Head]:
    """Each node's anchor of the highest seq: one probe of ``ix_audit_anchors_node_seq`` per
    node (a push batch comes from one node, its caller), however many anchors it has."""
    found = {}
    for node in nodes:
        row = session.execute(newest_head_query(node)).one_or_none()
        if row is not None:
            found[node] = Head(int(row.entries), row.head, row.restore)
    return found


def newest(session: Session, node: str) -> AuditAnchor | None:
    """The node's anchor of the highest seq (None before its first anchored summary)."""
    return session.scalar(select(AuditAnchor).where(AuditAnchor.node == node)
                          .order_by(AuditAnchor.seq.desc()).limit(1))


def as_json(anchor: AuditAnchor) -> dict[str, Any]:
    return {"node": anchor.node, "seq": anchor.seq, "envelope_id": anchor.envelope_id,
            "entries": anchor.entries, "head": anchor.head, "restore": anchor.restore,
            "received_at": anchor.received_at, "verdict": anchor.verdict,
            "previous_entries": anchor.previous_entries}


def flags(session: Session, low: str, high: str) -> dict[str, dict[str, Any]]:
    """Per node with a code in ``[low, high)`` (a subtree, hub.rankings.store.code_range):
    its audit standing.  ``anomaly`` when any of its anchors was judged one (it stays
    flagged: a truncation is history, not a passing state), else ``restored`` when one was
    a restore, with the newest such anchor's time, seq and counts."""
    rows = session.execute(
        select(AuditAnchor.node, AuditAnchor.verdict, AuditAnchor.received_at,
               AuditAnchor.seq, AuditAnchor.entries, AuditAnchor.previous_entries)
        .where(AuditAnchor.verdict.in_(FLAGGED), AuditAnchor.node >= low,
               AuditAnchor.node < high)
        .order_by(AuditAnchor.node, AuditAnchor.seq))
    found: dict[str, dict[str, Any]] = {}
    for node, verdict, at, seq, entries, previous_entries in rows:
        held = found.get(node)
        if held is not None and held["status"] == ANOMALY and verdict != ANOMALY:
            continue
        found[node] = {"status": verdict, "at": at, "seq": seq, "entries": entries,
                       "previous_entries": previous_entries}
    return found
