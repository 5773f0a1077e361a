"""A node's mailbox: what was routed to it, read after a cursor and acknowledged."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from hub.relay.models import (
    EnvelopeRecord,
    MailboxCursor,
    MailboxItem,
    MailboxSender,
)
from schemas.envelope import Envelope
from schemas.runtime.database import insert_if_missing

# Serialises the transactions that add rows to the same mailboxes on PostgreSQL, so that a
# mailbox's cursors become visible in the order they were drawn: a reader never skips a row
# committed late.  A node reads only its own mailbox, so the order matters per addressee: the
# lock is taken per bucket of addressees (MAILBOX_LOCK, bucket), all of a batch's at once in
# bucket order (no two batches wait on each other's), once its deliveries are known.  One lock
# for every mailbox made every forward wait for every other one's commit: at 1,000 waiting
# nodes and 20 forwards a second most of the pool waited on it (docs/scale.md, "Fleet").
MAILBOX_LOCK = 7_252_001
MAILBOX_BUCKETS = 64
MAILBOX_LOCK_STATEMENT = text(
    "SELECT count(pg_advisory_xact_lock(CAST(:lock AS integer), bucket)) FROM "
    "(SELECT bucket FROM unnest(CAST(:buckets AS integer[])) AS bucket ORDER BY bucket) AS b"
).bindparams(lock=MAILBOX_LOCK)


def mailbox_buckets(codes: Iterable[str]) -> list[int]:
    """The lock buckets of the mailboxes of ``codes``, in the order they are locked: the
    same in every hub process (CRC-32 of the code, not Python's salted ``hash``)."""
    return sorted({zlib.crc32(code.encode("utf-8")) % MAILBOX_BUCKETS for code in codes})


def put_in_mailboxes(
    session: Session, deliveries: Sequence[tuple[Envelope, Sequence[str]]], now: dt.datetime
) -> set[str]:
    """Add each envelope to its addressees' mailboxes, in order, under the locks of all
    their mailboxes (PostgreSQL), with the previous seq of its sender in each; the codes whose
    mailboxes got rows."""
    codes = {code for _, addressees in deliveries for code in addressees}
    if not codes:
        return codes
    if session.get_bind().dialect.name == "postgresql":
        session.execute(MAILBOX_LOCK_STATEMENT, {"buckets": mailbox_buckets(codes)})
    for envelope, addressees in deliveries:
        _put(session, envelope, list(addressees), now)
    return codes


def _put(session: Session, envelope: Envelope, recipients: list[str], now: dt.datetime) -> None:
    sender, seq = envelope.sender, envelope.seq
    last: dict[str, int] = {row.addressee: row.last_seq for row in session.execute(
        select(MailboxSender.addressee, MailboxSender.last_seq)
        .where(MailboxSender.sender == sender, MailboxSender.addressee.in_(recipients)))}
    session.execute(insert(MailboxItem), [
        {"addressee": code, "envelope_id": envelope.id, "created_at": now,
         "prev_seq": last.get(code, 0)}
        for code in recipients
    ])
    later = [code for code in recipients if code in last and last[code] < seq]
    if later:
        session.execute(
            update(MailboxSender)
            .where(MailboxSender.sender == sender, MailboxSender.addressee.in_(later))
            .values(last_seq=seq))
    new = [code for code in recipients if code not in last]
    if new:
        session.execute(insert(MailboxSender), [
            {"addressee": code, "sender": sender, "last_seq": seq} for code in new])


def acked_cursor(session: Session, node: str) -> int:
    return session.scalar(
        select(MailboxCursor.acked_cursor).where(MailboxCursor.node == node)
    ) or 0


def read_mailbox(
    session: Session, node: str, after: int, limit: int
) -> list[tuple[int, dict[str, Any], int | None]]:
    """``node``'s own mailbox after ``after``, in cursor order: (cursor, wire, prev_seq)."""
    rows = session.execute(
        select(MailboxItem.cursor, EnvelopeRecord.wire, MailboxItem.prev_seq)
        .join(EnvelopeRecord, EnvelopeRecord.id == MailboxItem.envelope_id)
        .where(MailboxItem.addressee == node, MailboxItem.cursor > after)
        .order_by(MailboxItem.cursor)
        .limit(limit)
    )
    return [(cursor, orjson.loads(wire), prev) for cursor, wire, prev in rows]


def acknowledge(session: Session, node: str, cursor: int, now: dt.datetime) -> int | None:
    """Record that ``node`` has applied its mailbox up to ``cursor``; the acknowledged
    cursor never moves backwards.  None when ``cursor`` is beyond the node's mailbox."""
    highest = session.scalar(
        select(func.max(MailboxItem.cursor)).where(MailboxItem.addressee == node)
    ) or 0
    if cursor > highest:
        return None
    insert_if_missing(session, MailboxCursor,
                      {"node": node, "acked_cursor": 0, "updated_at": now}, ["node"])
    session.execute(
        update(MailboxCursor)
        .where(MailboxCursor.node == node, MailboxCursor.acked_cursor < cursor)
        .values(acked_cursor=cursor, updated_at=now)
    )
    return acked_cursor(session, node)
