"""Sync state as data: the outbox, the inbox, refused deliveries and the sync status row.

Every row carries its state as an Enum (stored by value), an attempt count and the last error,
so an administrator can see what is queued, what the hub refused and what was not applied.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.models import Base
from schemas.runtime.database import Timestamp, UTCDateTime, enum_column


class OutboxState(enum.StrEnum):
    PENDING = "pending"  # waiting to be pushed (or retried after a network error)
    SENT = "sent"  # the hub answered accepted or duplicate
    DEAD = "dead"  # the hub rejected it: a dead letter for an administrator


class InboxState(enum.StrEnum):
    HELD = "held"  # verified and stored, waiting for its sender's earlier envelopes
    APPLIED = "applied"
    FAILED = "failed"  # its handler refused it (the error says why); never retried


class OutboxEnvelope(Base):
    """An envelope this node signed, written in the transaction of the change that caused it."""

    __tablename__ = "sync_outbox"
    __table_args__ = (Index("ix_sync_outbox_state_seq", "state", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    to: Mapped[str] = mapped_column(String(16))
    wire: Mapped[str] = mapped_column(Text)
    state: Mapped[OutboxState] = mapped_column(enum_column(OutboxState))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    hub_reason: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[Timestamp]
    last_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class InboxEnvelope(Base):
    """A verified envelope from the mailbox; keyed by envelope id, so a copy is stored once."""

    __tablename__ = "sync_inbox"
    __table_args__ = (Index("ix_sync_inbox_state_sender_seq", "state", "sender", "seq"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))
    wire: Mapped[str] = mapped_column(Text)
    state: Mapped[InboxState] = mapped_column(enum_column(InboxState))
    mailbox_cursor: Mapped[int] = mapped_column(Integer)
    # the hub's seq of the sender's previous envelope to this node (None: not told)
    prev_seq: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[Timestamp]
    applied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


class SenderProgress(Base):
    """The highest seq applied from one sender: the next one applies only after it."""

    __tablename__ = "sync_sender_progress"

    sender: Mapped[str] = mapped_column(String(16), primary_key=True)
    last_applied_seq: Mapped[int] = mapped_column(Integer)


class RefusedEnvelope(Base):
    """A mailbox item that failed parsing (too large, too deep, malformed …), addressing or
    verification: a dead letter, kept with its reason (``code``), never applied; the mailbox
    is acknowledged past it."""

    __tablename__ = "sync_refused"
    __table_args__ = (Index("ix_sync_refused_sender_seq", "sender", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mailbox_cursor: Mapped[int] = mapped_column(Integer)
    envelope_id: Mapped[str | None] = mapped_column(String(64))
    sender: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(32))  # as the item claims it, if any
    # the sender's seq as the item claims it: a later envelope whose prev_seq names it need
    # not wait for it (node.sync.service.SyncService.apply_held)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    code: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    wire: Mapped[str] = mapped_column(Text)
    received_at: Mapped[Timestamp]


SYNC_STATUS_ID = 1


class SyncStatus(Base):
    """One row: when push and pull last succeeded, the mailbox cursor and the cached registry."""

    __tablename__ = "sync_status"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_push_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_pull_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    mailbox_cursor: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # the hub's registry as last fetched, so envelopes verify while the hub is down
    registry_json: Mapped[str | None] = mapped_column(Text)
    registry_fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # the province's key learnt from the first registry when not configured (trust on first use)
    root_public_key: Mapped[str | None] = mapped_column(String(64))
    # the Shanghai day the calendar check last warned of a year without holiday data: it warns
    # once a day, whichever process runs it (the worker's daily job, a worker start, run-jobs)
    calendar_warned_on: Mapped[dt.date | None] = mapped_column(Date)


class CenterName(Base):
    """A center's name from the hub's registry (``names`` of this node's part of the tree):
    the pages show centers by name, with the code beside it (node/sync/names.py)."""

    __tablename__ = "center_names"

    code: Mapped[str] = mapped_column(String(9), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[Timestamp]
