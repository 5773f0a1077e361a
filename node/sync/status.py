"""The node's sync status for people and probes: dead letters both ways, health, the report."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.sync.models import (
    SYNC_STATUS_ID,
    InboxEnvelope,
    InboxState,
    OutboxEnvelope,
    OutboxState,
    RefusedEnvelope,
    SyncStatus,
)

_REASON = re.compile(r"([a-z][a-z_]{0,31}): ")


def dead_letters(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """Envelopes the hub rejected, newest first."""
    rows = session.scalars(
        select(OutboxEnvelope).where(OutboxEnvelope.state == OutboxState.DEAD)
        .order_by(OutboxEnvelope.seq.desc()).limit(limit))
    return [
        {"id": row.id, "seq": row.seq, "kind": row.kind, "to": row.to, "reason": row.hub_reason,
         "message": row.last_error, "at": row.last_attempt_at or row.created_at,
         "attempts": row.attempts}
        for row in rows
    ]


def incoming_dead_letters(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """Mail set aside, newest first: mailbox items refused (unreadable, too large, misrouted,
    not verifiable) and inbox envelopes that could not be applied.  The mailbox was
    acknowledged past each of them and the sender's later envelopes went on."""
    refused = session.execute(
        select(RefusedEnvelope).order_by(RefusedEnvelope.id.desc()).limit(limit)).scalars()
    failed = session.execute(
        select(InboxEnvelope).where(InboxEnvelope.state == InboxState.FAILED)
        .order_by(InboxEnvelope.applied_at.desc()).limit(limit)).scalars()
    letters: list[dict[str, Any]] = [
        {"id": row.envelope_id, "sender": row.sender, "kind": row.kind, "stage": "receive",
         "reason": row.code, "message": row.message, "at": row.received_at}
        for row in refused
    ] + [
        {"id": row.id, "sender": row.sender, "kind": row.kind, "stage": "apply",
         "reason": _reason(row.error),
         "message": row.error, "at": row.applied_at or row.received_at}
        for row in failed
    ]
    letters.sort(key=lambda letter: _aware(cast(dt.datetime, letter["at"])), reverse=True)
    return letters[:limit]


def _reason(error: str | None) -> str:
    """The reason code an inbox error starts with (``too_large: …``), else ``not_applied``
    (a handler's refusal, whose message says why)."""
    found = _REASON.match(error or "")
    return found.group(1) if found else "not_applied"


def _aware(at: dt.datetime) -> dt.datetime:
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


def _counted(statement: Any) -> Any:
    return statement.scalar_subquery()


# built once: /healthz asks it often, and it is the node API benchmark's baseline
_HEALTH = select(
    _counted(select(func.count()).select_from(OutboxEnvelope)
             .where(OutboxEnvelope.state == OutboxState.DEAD)).label("dead"),
    _counted(select(func.count()).select_from(InboxEnvelope)
             .where(InboxEnvelope.state == InboxState.FAILED)).label("failed"),
    _counted(select(func.count()).select_from(RefusedEnvelope)).label("refused"),
    _counted(select(SyncStatus.last_error).where(SyncStatus.id == SYNC_STATUS_ID))
    .label("last_error"),
    _counted(select(SyncStatus.last_error_at).where(SyncStatus.id == SYNC_STATUS_ID))
    .label("last_error_at"),
)


def health(session: Session) -> dict[str, Any]:
    """Sync as ``/healthz`` shows it: how many envelopes were set aside and the last error,
    in one statement (three counts on indexes and the status row)."""
    row = session.execute(_HEALTH).one()
    at = row.last_error_at
    if isinstance(at, str):  # in case a driver hands a subquery's time back as text
        at = dt.datetime.fromisoformat(at)
    return {"dead_letters": int(row.dead or 0) + int(row.failed or 0) + int(row.refused or 0),
            "last_error": row.last_error,
            "last_error_at": _aware(at).isoformat() if at is not None else None}


def status_report(session: Session, now: dt.datetime) -> dict[str, Any]:
    """What an administrator needs to see of sync: last successes, backlog, dead letters."""
    status = session.get(SyncStatus, SYNC_STATUS_ID)
    pending = select(OutboxEnvelope).where(OutboxEnvelope.state == OutboxState.PENDING)
    pending_count = session.scalar(select(func.count()).select_from(pending.subquery())) or 0
    oldest = session.scalar(
        select(func.min(OutboxEnvelope.created_at))
        .where(OutboxEnvelope.state == OutboxState.PENDING))
    held = session.scalar(select(func.count()).select_from(InboxEnvelope)
                          .where(InboxEnvelope.state == InboxState.HELD)) or 0
    failed = session.scalar(select(func.count()).select_from(InboxEnvelope)
                            .where(InboxEnvelope.state == InboxState.FAILED)) or 0
    refused = session.scalar(select(func.count()).select_from(RefusedEnvelope)) or 0
    dead = session.scalar(select(func.count()).select_from(OutboxEnvelope)
                          .where(OutboxEnvelope.state == OutboxState.DEAD)) or 0
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return {
        "last_push_at": status.last_push_at if status else None,
        "last_pull_at": status.last_pull_at if status else None,
        "last_error": status.last_error if status else None,
        "last_error_at": status.last_error_at if status else None,
        "mailbox_cursor": status.mailbox_cursor if status else 0,
        "pending_count": pending_count,
        "oldest_pending_age_seconds": (
            max(0, int((now - oldest).total_seconds())) if oldest is not None else None),
        "inbox_held": held,
        "inbox_failed": failed,
        "refused": refused,
        # every envelope set aside: rejected by the hub, refused on receipt, not applied
        "dead_letter_count": dead + refused + failed,
        "dead_letters": dead_letters(session),
        "incoming_dead_letters": incoming_dead_letters(session),
    }
