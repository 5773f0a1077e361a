"""Trusting senders: an envelope's signature checked against the registry this node holds,
refreshed from the hub when a key or chain is not known yet, pinned to the province's root.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import cast

import orjson
from sqlalchemy.orm import Session

from node.ports import SyncError
from node.sync.names import store_names
from node.sync.registry import (
    REGISTRY_EXTRA_KEYS,
    RegistryChanges,
    refresh_registry,
    registry_without_extras,
)
from node.sync.reports import sync_status, wire_text
from node.sync.transport import HubTransport
from schemas.certificates import TrustError
from schemas.envelope import Envelope, verify_envelope
from schemas.runtime.database import Database
from schemas.trust import TrustStore

log = logging.getLogger("tongban.sync")

# a registry refresh may help when the sender's key or its chain is not (yet) known here
REFRESHABLE_TRUST_CODES = frozenset({"unknown_key", "no_chain", "unknown_issuer"})


class RegistryTrust:
    """The trust part of :class:`~node.sync.service.SyncService`: verify, refresh, pin."""

    db: Database
    transport: HubTransport
    code: str
    root_code: str
    root_public_key: str
    clock: Callable[[], dt.datetime]
    _trust: TrustStore | None


    def _verify(self, session: Session, envelope: Envelope) -> None:
        """Check the sender's signature with the cached registry; refresh it once if the
        sender's key is unknown here.  Raises TrustError or EnvelopeError (the envelope is
        refused), or SyncError when the registry it needs cannot be fetched now: that is
        the network's fault, not the envelope's, so the pull stops before this item and the
        next one tries again (refusing it would lose it)."""
        trust = self._trust or self._cached_trust(session)
        if trust is None:
            trust = self._refresh_trust(session)
            if trust is None:
                raise TrustError("unknown_key", "the hub's registry is refused: cannot verify "
                                 "senders")
        try:
            key = trust.key_for(envelope.sender, envelope.key_id, envelope.timestamp)
        except TrustError as exc:
            if exc.code not in REFRESHABLE_TRUST_CODES:
                raise
            refreshed = self._refresh_trust(session, sender=envelope.sender)
            if refreshed is None:
                raise
            key = refreshed.key_for(envelope.sender, envelope.key_id, envelope.timestamp)
        verify_envelope(envelope, key)

    def _root_key(self, session: Session, offered: str | None) -> str | None:
        if self.root_public_key:
            return self.root_public_key
        status = sync_status(session)
        if status.root_public_key is None and offered:
            status.root_public_key = offered  # trust on first use, pinned from now on
        return status.root_public_key

    def _cached_trust(self, session: Session) -> TrustStore | None:
        status = sync_status(session)
        root_key = self._root_key(session, None)
        if status.registry_json is None or root_key is None:
            return None
        document = registry_without_extras(orjson.loads(status.registry_json))
        self._trust = TrustStore.from_registry(document, self.root_code, root_key)
        return self._trust

    def _refresh_trust(self, session: Session, sender: str | None = None) -> TrustStore | None:
        """Fetch, verify and cache the hub's registry; None (cache kept) when the hub's
        registry does not verify.  Raises SyncError when it cannot be fetched.

        A transport that can fetch a part of it (node.sync.registry) brings only this
        node's part of the tree and only what changed since the cached copy."""
        if hasattr(self.transport, "fetch_registry_changes"):
            return self._refresh_registry_part(session, sender)
        try:
            document = self.transport.fetch_registry()
        except SyncError as exc:
            log.warning("registry not refreshed: %s", exc.message)
            raise SyncError(f"the registry needed to verify a sender cannot be fetched: "
                            f"{exc.message}") from exc
        registry = {k: v for k, v in document.items() if k not in REGISTRY_EXTRA_KEYS}
        root_key = self._root_key(session, document.get("root_public_key"))
        if root_key is None:
            return None
        try:
            trust = TrustStore.from_registry(registry, self.root_code, root_key)
        except TrustError as exc:
            log.warning("the hub's registry is refused, keeping the cached one: %s", exc.message)
            return None
        status = sync_status(session)
        status.registry_json = wire_text(registry)
        status.registry_fetched_at = self.clock()
        store_names(session, document.get("names"), self.clock())
        self._trust = trust
        return trust

    def _refresh_registry_part(self, session: Session, sender: str | None) -> TrustStore | None:
        status = sync_status(session)
        cached = orjson.loads(status.registry_json) if status.registry_json else None
        store = self._trust
        if store is None and cached is not None:
            store = self._cached_trust(session)
        try:
            refreshed = refresh_registry(
                cast(RegistryChanges, self.transport),  # it has fetch_registry_changes
                code=self.code, root_code=self.root_code,
                root_key=lambda offered: self._root_key(session, offered),
                cached=cached, store=store, sender=sender)
        except SyncError as exc:
            log.warning("registry not refreshed: %s", exc.message)
            raise SyncError(f"the registry needed to verify a sender cannot be fetched: "
                            f"{exc.message}") from exc
        if refreshed is None:
            return None
        status.registry_json = wire_text(refreshed.document)
        status.registry_fetched_at = self.clock()
        store_names(session, refreshed.names, self.clock())
        self._trust = refreshed.store
        return refreshed.store

    def refresh_registry(self) -> TrustStore | None:
        """Bring the cached registry and the centers' names up to the hub's (the worker's
        hourly job): a center enrolled or renamed since shows by its name.  Raises
        SyncError when the hub cannot be reached."""
        with self.db.unit_of_work() as session:
            return self._refresh_trust(session)
