"""What the relay's ingest needs from the registry and the audits, handed in by the root.

The relay owns the envelope log and the summaries; the registry and the audits read them
(``hub.relay.models``), so the relay never imports either back.  An accepted ``cert`` or
``revoke`` is recorded through :class:`RegistryRecords`, a summary refused for its commitment
and an ``audit.response`` through :class:`AuditAnswers`.  The composition root
(:class:`hub.composition.HubServices`) hands the implementations
(:class:`hub.registry.service.Records`, :class:`hub.audits.service.IngestAudits`) to each
:class:`hub.relay.service.Ingest`, the way ``node/ports.py`` keeps the node's features off its
sync layer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from sqlalchemy.orm import Session

from schemas.certificates import Certificate, Revocation
from schemas.envelope import Envelope


class AuditRefused(Exception):
    """Why an ``audit.response`` envelope is refused at ingest (``reason`` for its answer)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


RecordAnswer = Callable[[dt.datetime], None]
"""Judges an accepted ``audit.response`` once its envelope is logged (the hub's time)."""


class RegistryRecords(Protocol):
    """Stores what an accepted envelope adds to the registry, in the caller's transaction."""

    def certificate(self, session: Session, certificate: Certificate) -> None:
        """Store a verified certificate (once) and enroll or update its subject."""
        ...

    def revocation(self, session: Session, revocation: Revocation) -> None:
        """Store a verified revocation (once)."""
        ...

    def envelope(self, session: Session, envelope_id: str, kind: str) -> None:
        """Note an accepted ``cert`` or ``revoke`` envelope (already logged), after the
        certificate or revocation it carries."""
        ...

    def names(self, session: Session, names: Mapping[str, str | None]) -> None:
        """Keep each center's name as its own signed summary gives it (``{code: name}``)."""
        ...


class AuditAnswers(Protocol):
    """The audits' part of an ingest, in the caller's transaction."""

    def answered(self, session: Session, envelope: Envelope) -> RecordAnswer:
        """Check an ``audit.response`` against the open audit it answers (raising
        :class:`AuditRefused`), and return what judges it once it is logged."""
        ...

    def refused(self, session: Session, envelope: Envelope, problems: list[dict[str, Any]],
                now: dt.datetime) -> None:
        """Keep why a summary was refused for its commitment (once per envelope)."""
        ...
