"""The worker answers the hub's audits on its own (the job; the answer itself is the
verification feature's, node/verification/service.py), without staff (docs/verification.md).

Each run lists this node's open audits at the hub (``GET /api/v1/audits/pending``, signed),
builds each answer from the leaves the audited summary committed to and the cases' current
records (node.verification.service.answer), queues it as a signed ``audit.response`` in the
outbox (one transaction per audit) and pushes at once.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol, runtime_checkable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from node.ports import SyncError
from node.settings import NodeSettings
from node.sync.outbox import emit
from node.verification.service import answer
from schemas.envelope import HUB, EnvelopeError, Kind
from schemas.errors import NotFound, ValidationFailed
from schemas.runtime.database import Database

log = logging.getLogger("tongban.verification")


@runtime_checkable
class AuditSource(Protocol):
    def fetch_audits(self) -> list[dict[str, Any]]:
        """This node's audits waiting for an answer: ``[{id, summary, seed, indexes}]``."""


class Pusher(Protocol):
    def push(self) -> Any: ...


class AuditJob:
    """List open audits, answer each once, push (a job of the worker's scheduler)."""

    def __init__(self, db: Database, settings: NodeSettings, key: Ed25519PrivateKey,
                 source: AuditSource, pusher: Pusher) -> None:
        self.db = db
        self.code = settings.code
        self.key = key
        self.source = source
        self.pusher = pusher
        self.answered: set[str] = set()  # queued by this process (the hub closes them)

    def __call__(self) -> int:
        try:
            audits = self.source.fetch_audits()
        except SyncError as exc:
            log.warning("audits not listed: %s", exc.message)
            return 0
        queued = 0
        for audit in audits:
            audit_id = str(audit.get("id"))
            if audit_id in self.answered:
                continue
            try:
                with self.db.unit_of_work() as session:
                    body = answer(session, audit)
                    emit(session, kind=Kind.AUDIT_RESPONSE, to=HUB, body=body,
                         sender=self.code, private_key=self.key)
            except (NotFound, ValidationFailed, EnvelopeError) as exc:
                log.warning("audit %s not answered: %s", audit_id, exc)
                continue
            self.answered.add(audit_id)
            queued += 1
        if queued:
            log.info("audits: %d answered", queued)
            try:
                self.pusher.push()
            except SyncError as exc:
                log.warning("audit answers queued, push failed: %s", exc.message)
        return queued
