"""The node's composition root: its services, built from its settings and key.

Each process kind builds one :class:`NodeServices` when it starts — the web app in
:func:`node.app.create_app` (``app.extensions["tongban_node"]``), the worker in
:mod:`node.worker`, each command of ``tongban node`` that needs one — and asks it for what it
works with.  Here, and only here, the features are wired together and to the sync layer:

- every feature that sends gets the node's :class:`~node.ports.Outbox` (node.sync's signing
  outbox), never the key or node.sync itself;
- every feature that applies envelopes declares its kinds (``envelope_handlers`` in
  node/cases/forwarding.py, node/catalog/publishing.py, node/calendar/publishing.py,
  node/directives/service.py, node/feedback/travel.py); :meth:`NodeServices.envelope_registry`
  collects them, refusing a kind declared twice, and the sync service dispatches through that
  registry;
- the case service gets its step hooks (forwarding's :class:`TellTheNodeBelow`, the bundles'
  :class:`~node.bundles.service.BundleProgress`, which ends a 一件事 with its last part);
- the calendar service gets the open cases' recompute (node/cases/recompute.py), which every
  change of the calendar runs in its transaction;
- the feedback service gets the complaints' travel (node/feedback/travel.py);
- every feature that wants a job run on a schedule declares it (``scheduled_jobs`` in
  node/cases/jobs.py, node/calendar/jobs.py, node/metrics/jobs.py, node/sync/jobs.py);
  :meth:`NodeServices.scheduled_jobs` collects them, refusing a name declared twice, and the
  worker (node/worker.py) schedules every one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import current_app
from sqlalchemy.orm import Session

from node.auth.service import AuthService
from node.bundles.service import BundleCases, BundleProgress
from node.calendar import jobs as calendar_jobs
from node.calendar import publishing as calendar_publishing
from node.calendar.service import CalendarService
from node.cases import forwarding
from node.cases import jobs as case_jobs
from node.cases.forwarding import Forwarding, TellTheNodeBelow
from node.cases.materials import UploadLimits
from node.cases.recompute import recompute_open_cases
from node.cases.service import CaseService
from node.cases.warnings import WarningPolicy
from node.catalog import publishing as catalog_publishing
from node.catalog.exchange import CatalogExchange
from node.catalog.service import CatalogService
from node.directives import service as directives
from node.directives.service import DirectiveService
from node.feedback import travel as complaint_travel
from node.feedback.service import FeedbackService
from node.feedback.travel import ComplaintTravel
from node.metrics import jobs as metrics_jobs
from node.metrics.rollup import refresh as refresh_rollups
from node.metrics.service import MetricsService
from node.ports import EnvelopeRegistry, JobRegistry
from node.rankings.hub import RankingsHub
from node.settings import NodeSettings
from node.sync import jobs as sync_jobs
from node.sync.backoff import Backoff
from node.sync.names import RegistryCenterNames
from node.sync.outbox import AppliedInbox, SigningOutbox
from node.sync.rankings import RankingsClient
from node.sync.reports import calendar_warned
from node.sync.service import SyncService
from node.sync.transport import HubTransport
from schemas.runtime.database import Database, utcnow
from schemas.runtime.login import LoginPolicy

Clock = Callable[[], dt.datetime]


class NodeServices:
    """One node's services, composed once per process; each method builds a service on the
    caller's session (the caller owns the transaction)."""

    def __init__(self, settings: NodeSettings, private_key: Ed25519PrivateKey) -> None:
        self.settings = settings
        self.code: str = settings.code
        self.private_key = private_key
        self.outbox = SigningOutbox(self.code, private_key)
        self.inbox = AppliedInbox()
        self.upload_limits = UploadLimits(max_file_bytes=settings.upload_max_file_bytes,
                                          max_case_bytes=settings.upload_max_case_bytes)
        self.center_names = RegistryCenterNames(self.code, settings.name)
        self.warning_policy = WarningPolicy(
            yellow_days_left=settings.warning_yellow_days_left,
            yellow_used_percent=settings.warning_yellow_used_percent,
        )
        self.login_policy = login_policy(settings)
        # the hub's rankings as this node: one signed client (one requests.Session) per
        # process, made on first use (:meth:`rankings`); a test may put a hub of its own here
        self.rankings_hub: RankingsHub | None = None

    EXTENSION = "tongban_node"

    @classmethod
    def of_app(cls, extensions: Mapping[str, Any]) -> NodeServices:
        """The web process's services, which :func:`node.app.create_app` keeps in its
        ``extensions`` (views pass ``current_app.extensions``)."""
        services = extensions[cls.EXTENSION]
        if not isinstance(services, cls):  # pragma: no cover - create_app puts them there
            raise TypeError(f"app.extensions[{cls.EXTENSION!r}] is not a NodeServices")
        return services

    # -- features ---------------------------------------------------------------------------

    def auth(self, session: Session, clock: Clock = utcnow) -> AuthService:
        """Staff accounts, logins (with the settings' throttle) and tokens."""
        return AuthService(session, self.login_policy, clock)

    def cases(self, session: Session, clock: Clock = utcnow) -> CaseService:
        """The case service with the node's calendar and warning policy; every step on a case
        from below is told to the node it came from."""
        return CaseService(
            session,
            node_code=self.code,
            calendar=CalendarService(session).cached_calendar(),
            warning_policy=self.warning_policy,
            clock=clock,
            after_step=(TellTheNodeBelow(self.outbox, self.upload_limits, self.center_names),
                        BundleProgress()),
        )

    def bundle_cases(self, session: Session, clock: Clock = utcnow) -> BundleCases:
        """一件事 bundle cases over the case service and its forwarding."""
        cases = self.cases(session, clock)
        return BundleCases(cases, self.forwarding_of(cases))

    def calendar(self, session: Session, clock: Clock = utcnow) -> CalendarService:
        """The calendar service; every change of the calendar recomputes the open cases'
        deadlines in the caller's transaction."""
        return calendar_service(session, clock)

    def calendar_reader(self, session: Session, clock: Clock = utcnow) -> CalendarService:
        """The calendar to read (working days, deadlines, the years without holiday data): a
        change through it is refused, since it cannot recompute the open cases."""
        return calendar_reader(session, clock)

    def catalog(self, session: Session) -> CatalogService:
        """The catalog: departments, windows, staff records, matters."""
        return CatalogService(session)

    def catalog_exchange(self, session: Session) -> CatalogExchange:
        """The catalog's JSON and XLSX export and import."""
        return CatalogExchange(session)

    def feedback(self, session: Session) -> FeedbackService:
        """The public lookup, evaluations, rectifications and complaints of this node, counted
        on the node's working calendar."""
        return FeedbackService(session, node_code=self.code,
                               calendar=CalendarService(session).cached_calendar(),
                               travel=self.complaint_travel(session))

    def metrics(self, session: Session) -> MetricsService:
        """The node's figures, summaries and patterns as its settings configure them."""
        return MetricsService.for_settings(session, self.settings)

    def rankings(self) -> RankingsHub:
        """The hub's rankings, asked as this node (node/rankings/hub.py's port, over the one
        signed client of the hub)."""
        if self.rankings_hub is None:
            self.rankings_hub = RankingsClient(self.settings.hub_url, self.code,
                                               self.private_key)
        return self.rankings_hub

    def forwarding_of(self, cases: CaseService) -> Forwarding:
        """The forwarding side (上报, 退回, case files) of ``cases``."""
        return Forwarding(cases, self.outbox, self.upload_limits, self.center_names)

    def forwarding(self, session: Session, clock: Clock = utcnow) -> Forwarding:
        return self.forwarding_of(self.cases(session, clock))

    def directives(self, session: Session, clock: Clock = utcnow) -> DirectiveService:
        return DirectiveService(session, outbox=self.outbox, names=self.center_names,
                                clock=clock)

    def complaint_travel(self, session: Session, clock: Clock = utcnow) -> ComplaintTravel:
        """Complaints against cases decided elsewhere sent there, resolutions sent back."""
        return ComplaintTravel(session, outbox=self.outbox, names=self.center_names,
                               clock=clock)

    # -- sync -------------------------------------------------------------------------------

    def envelope_registry(self, clock: Clock = utcnow) -> EnvelopeRegistry:
        """Every envelope kind a feature applies at this node, with its handler."""
        registry = EnvelopeRegistry()
        registry.register(forwarding.envelope_handlers(
            lambda session: self.forwarding(session, clock)))
        registry.register(catalog_publishing.envelope_handlers(self.code, self.inbox,
                                                                  self.center_names))
        registry.register(calendar_publishing.envelope_handlers(
            self.code, recompute_open_cases, clock))
        registry.register(directives.envelope_handlers(self.center_names))
        registry.register(complaint_travel.envelope_handlers(
            lambda session: self.complaint_travel(session, clock)))
        return registry

    # -- scheduled jobs ---------------------------------------------------------------------

    def scheduled_jobs(self, db: Database, sync: SyncService, backoff: Backoff) -> JobRegistry:
        """Every job a feature wants the worker to run, with its interval."""
        registry = JobRegistry()
        registry.declare(sync_jobs.scheduled_jobs(db, self.settings, self.private_key, sync,
                                                  backoff))
        registry.declare(case_jobs.scheduled_jobs(db, self.cases, refresh_rollups))
        registry.declare(calendar_jobs.scheduled_jobs(db, calendar_warned))
        registry.declare(metrics_jobs.scheduled_jobs(db, self.settings, self.outbox))
        return registry

    def run_case_jobs(self, db: Database) -> case_jobs.CaseJobsReport:
        """The case jobs once (``tongban node run-jobs``)."""
        return case_jobs.run_case_jobs(db, self.cases, refresh_rollups)

    def check_calendar(self, db: Database, clock: Clock = utcnow) -> list[int]:
        """The calendar check once (``run-jobs``, the worker's start)."""
        return calendar_jobs.check_calendar(db, calendar_warned, clock)

    def send_summaries(self, db: Database, clock: Clock = utcnow) -> list[str]:
        """The signed summaries queued now (``tongban node send-summaries``)."""
        return metrics_jobs.send_summaries(db, self.settings, self.outbox, clock)

    def sync_service(self, db: Database, transport: HubTransport, *, clock: Clock = utcnow,
                     **kwargs: Any) -> SyncService:
        """Push, pull and apply as the node's settings configure them, dispatching each
        envelope to the feature that declared its kind."""
        settings = self.settings
        return SyncService(
            db, transport, code=self.code,
            handlers=self.envelope_registry(clock).handlers(),
            private_key=self.private_key,
            clock=clock,
            root_public_key=settings.root_public_key,
            push_batch_size=settings.push_batch_size,
            pull_batch_size=settings.pull_batch_size,
            gap_hold=dt.timedelta(minutes=settings.sync_gap_hold_minutes),
            **kwargs,
        )


def login_policy(settings: NodeSettings) -> LoginPolicy:
    """The settings' tokens' life and login throttle (:attr:`NodeServices.login_policy`)."""
    return LoginPolicy(
        token_ttl=dt.timedelta(minutes=settings.token_ttl_minutes),
        max_failed_logins=settings.max_failed_logins,
        lockout=dt.timedelta(minutes=settings.lockout_minutes),
    )


def accounts(settings: NodeSettings, session: Session, clock: Clock = utcnow) -> AuthService:
    """Staff accounts under the settings' login policy, wired as :meth:`NodeServices.auth`
    wires them, for ``tongban node create-user``, which needs no key (like the calendar
    commands: an administrator is made before the node enrolls)."""
    return AuthService(session, login_policy(settings), clock)


def calendar_service(session: Session, clock: Clock = utcnow) -> CalendarService:
    """The calendar service wired to recompute the open cases' deadlines on every change: the
    one wiring of :meth:`NodeServices.calendar`, and of the calendar commands, which need no
    key (a node imports its calendar before it has one)."""
    return CalendarService(session, clock=clock, recompute=recompute_open_cases)


def calendar_reader(session: Session, clock: Clock = utcnow) -> CalendarService:
    """The calendar to read only (:meth:`NodeServices.calendar_reader`)."""
    return CalendarService(session, clock=clock)


__all__ = [
    "NodeServices",
    "accounts",
    "calendar_reader",
    "calendar_service",
    "current_settings",
    "login_policy",
]


def current_settings() -> NodeSettings:
    """The settings of the node app serving this request (``app.config["TONGBAN"]``, which a
    test may replace: never a copy kept elsewhere).  Here, beside :meth:`NodeServices.of_app`,
    for the views of node/api and node/web alike: node/config.py, below the features, stays
    free of Flask."""
    settings: NodeSettings = current_app.config["TONGBAN"]
    return settings
