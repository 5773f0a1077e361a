"""A node's mailbox: what was routed to it, read after a cursor and acknowledged."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from hub.relay.models import (
    EnvelopeRecord,
    MailboxCursor,
    MailboxItem,
)
from schemas.runtime.database import insert_if_missing


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
