"""Attachments as content-addressed blobs: stored once by their SHA-256, readable by the nodes
an envelope listing them was routed to (and by their uploader).
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.relay.models import (
    Blob,
    EnvelopeBlob,
    EnvelopeRecord,
    MailboxItem,
)
from schemas.runtime.database import insert_if_missing


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store_blob(session: Session, sha256: str, data: bytes, uploader: str,
               now: dt.datetime) -> None:
    """Keep a blob (already checked against its name); storing it again changes nothing."""
    insert_if_missing(session, Blob, {
        "sha256": sha256, "size": len(data), "data": data, "uploaded_by": uploader,
        "uploaded_at": now,
    }, ["sha256"])


def readable_blob(session: Session, sha256: str, caller: str) -> Blob | None:
    """The blob if ``caller`` uploaded it or is the sender or an addressee of an envelope
    that lists it; None when it does not exist or is not the caller's to read."""
    blob = session.get(Blob, sha256)
    if blob is None:
        return None
    if blob.uploaded_by == caller:
        return blob
    listing = select(EnvelopeBlob.envelope_id).where(EnvelopeBlob.sha256 == sha256)
    received = session.scalar(
        select(MailboxItem.cursor)
        .where(MailboxItem.addressee == caller, MailboxItem.envelope_id.in_(listing)).limit(1)
    )
    sent = session.scalar(
        select(EnvelopeRecord.id)
        .where(EnvelopeRecord.sender == caller, EnvelopeRecord.id.in_(listing)).limit(1)
    )
    return blob if received is not None or sent is not None else None
