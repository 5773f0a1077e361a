"""The hub's composition root: its services, built from its settings once per process.

Each process kind builds one :class:`HubServices` when it starts — the web app in
:func:`hub.app.create_app` (``app.extensions["tongban_hub"]``, with the mailbox bell its long
polls wait on), each command of ``tongban hub`` that works on the database (hub/cli.py,
hub/commands/) — and asks it for what it works with.  What a service needs beyond its session
and the time — the trust root, the login policy, the audits' answer time, this process's
verified trust store, the registry and the audits an ingest records in (hub/ports.py) — is
handed to it here, once; the views and commands build no service themselves.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from hub.audits.service import AuditService, IngestAudits
from hub.metadata import load_all_models
from hub.rankings.service import Principal, RankingService
from hub.registry.service import Records, TrustCache
from hub.relay.service import Ingest, NoncePruner
from hub.relay.wakeup import MailboxBell
from hub.settings import HubSettings
from hub.staff.service import StaffService
from schemas.runtime.database import Database, utcnow
from schemas.runtime.login import LoginPolicy
from schemas.trust import TrustStore

Clock = Callable[[], dt.datetime]


class HubServices:
    """The hub's services, composed once per process; each method builds a service on the
    caller's session (the caller owns the transaction)."""

    EXTENSION = "tongban_hub"

    def __init__(self, settings: HubSettings, db: Database, *,
                 bell: MailboxBell | None = None) -> None:
        load_all_models()
        self.settings = settings
        self.db = db
        # the web process's waiters on mailboxes (None in a command)
        self.bell = bell
        # this process's verified trust store, brought up to the stored registry version
        self.trust_cache = TrustCache(settings.root_code, settings.root_public_key)
        # prunes the request nonces at most once a minute (a push's two round trips)
        self.nonce_pruner = NoncePruner()
        self.login_policy = LoginPolicy()
        # what an ingest records in the registry and the audits (hub/ports.py): the relay
        # imports neither
        self.registry_records = Records()
        self.ingest_audits = IngestAudits()

    @classmethod
    def from_settings(cls, settings: HubSettings) -> HubServices:
        """A command's services, on a database of its own (:meth:`close` it)."""
        return cls(settings, Database(settings.database_url))

    @classmethod
    def of_app(cls, extensions: Mapping[str, Any]) -> HubServices:
        """The web process's services, which :func:`hub.app.create_app` keeps in its
        ``extensions`` (views pass ``current_app.extensions``)."""
        services = extensions[cls.EXTENSION]
        if not isinstance(services, cls):  # pragma: no cover - create_app puts them there
            raise TypeError(f"app.extensions[{cls.EXTENSION!r}] is not a HubServices")
        return services

    def close(self) -> None:
        """Release the database's connections (a command's, when it is done)."""
        self.db.dispose()

    # -- features ---------------------------------------------------------------------------

    def staff(self, session: Session, clock: Clock = utcnow) -> StaffService:
        """Hub staff accounts bound to a scope, their logins and tokens."""
        return StaffService(session, self.login_policy, clock)

    def rankings(self, session: Session, principal: Principal, now: dt.datetime
                 ) -> RankingService:
        """League tables, indices and exports as ``principal`` may see them."""
        return RankingService(session, principal, now)

    def audits(self, session: Session, now: dt.datetime) -> AuditService:
        """Sampled audits of summaries, answered within the settings' time."""
        return AuditService(session, now, self.settings.audit_answer_seconds)

    def ingest(self, session: Session, *, caller: str, now: dt.datetime,
               store: TrustStore) -> Ingest:
        """One batch of envelopes from ``caller``, verified against ``store`` and what the
        registry holds by the time it is needed."""
        return Ingest(session, caller=caller, now=now,
                      load_store=lambda: self.trust_cache.current(session).view(),
                      registry=self.registry_records, audits=self.ingest_audits,
                      store=store)

    def trust_store(self, session: Session) -> TrustStore:
        """A request's view of this process's trust store, up to the stored registry version
        (what a batch adds on trust stays in the view until it commits)."""
        return self.trust_cache.current(session).view()


__all__ = ["HubServices", "current_settings"]


def current_settings() -> HubSettings:
    """The settings of the hub app serving this request (``app.config["TONGBAN"]``, which a
    test may replace: never a copy kept elsewhere).  Here, beside :meth:`HubServices.of_app`,
    for the views: hub/config.py stays free of Flask for the commands."""
    settings: HubSettings = current_app.config["TONGBAN"]
    return settings
