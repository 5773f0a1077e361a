"""What a push or a pull did, the sync state row, and how a wire value is told in a reason."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import orjson
from sqlalchemy.orm import Session

from node.sync.models import (
    SYNC_STATUS_ID,
    SyncStatus,
)
from schemas.divisions import is_ancestor
from schemas.envelope import Envelope


@dataclasses.dataclass
class PushReport:
    sent: int = 0
    duplicate: int = 0
    dead: int = 0
    pending: int = 0


@dataclasses.dataclass
class PullReport:
    received: int = 0
    duplicate: int = 0
    refused: int = 0
    applied: int = 0
    failed: int = 0
    held: int = 0
    files: int = 0  # case files fetched from the hub


def sync_status(session: Session) -> SyncStatus:
    """The status row, created on first use."""
    status = session.get(SyncStatus, SYNC_STATUS_ID)
    if status is None:
        status = SyncStatus(id=SYNC_STATUS_ID, mailbox_cursor=0)
        session.add(status)
        session.flush()
    return status


def calendar_warned(session: Session, today: dt.date) -> bool:
    """Record that the calendar's warning is given on ``today`` (a Shanghai day); answer
    whether it had been already (node/calendar/jobs.py: once a day, whichever process)."""
    status = sync_status(session)
    already = status.calendar_warned_on == today
    status.calendar_warned_on = today
    return already


def wire_text(value: Any) -> str:
    try:
        return orjson.dumps(value).decode("utf-8")
    except TypeError:
        return repr(value)[:10_000]


def is_addressed_to(envelope: Envelope, code: str) -> bool:
    """Whether ``code`` is the envelope's addressee, or a descendant of its fan-out root."""
    root = envelope.fanout_root
    if root is None:
        return envelope.to == code
    return is_ancestor(root, code)
