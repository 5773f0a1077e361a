"""The hub application factory."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, current_app, g, request
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.api import init_api
from hub.composition import HubServices, current_settings
from hub.config import hub_settings
from hub.errors import init_errors
from hub.models import RegisteredNode
from hub.relay.wakeup import MailboxBell
from hub.settings import HubSettings
from schemas.certificates import TrustError
from schemas.runtime.database import Database, utcnow
from schemas.runtime.logs import configure_logging
from schemas.runtime.settings import SettingsError
from schemas.runtime.webapp import init_web
from schemas.trust import TrustStore

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the hub's web application from defaults, TOML file, environment and ``config``."""
    settings = hub_settings(config)
    check_trust_root(settings)
    configure_logging(settings.log_level)
    app = Flask("hub", static_folder=None)
    app.config.update(
        TONGBAN=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        TESTING=settings.testing,
    )
    db = Database(settings.database_url)
    services = HubServices(
        settings, db, bell=MailboxBell(db.engine, poll_seconds=settings.mailbox_poll_seconds))

    def registry_size(session: Session) -> dict[str, Any]:
        serving = HubServices.of_app(current_app.extensions)
        root_code = current_settings().root_code
        details: dict[str, Any] = {
            "nodes": session.scalar(select(func.count()).select_from(RegisteredNode)),
            "trust_root": root_code or None,
            "mailbox_waiters": serving.bell.waiting() if serving.bell is not None else 0,
        }
        if not root_code:
            details["warnings"] = ["trust root not configured"]
        return details

    @app.after_request
    def _server_timing(response: Response) -> Response:
        # registered before init_web's, so it runs after it: after the commit
        timing = g.pop("hub_timing", None)
        if timing is not None:
            response.headers["Server-Timing"] = timing.header(time.perf_counter())
        return response

    api = init_web(app, db, title="tongban hub", service="hub", health_details=registry_size,
                   proxy_hops=settings.proxy_hops)
    app.extensions["hub_clock"] = utcnow  # tests may set another
    app.extensions[HubServices.EXTENSION] = services

    @app.before_request
    def _read_body_first() -> None:
        # Under the gevent worker, reading a socket lets other requests run: read the body
        # before a transaction begins, so that no request waits for more bytes while it
        # holds SQLite's write lock (BEGIN IMMEDIATE) and another blocks on that lock.
        if request.method in ("POST", "PUT", "PATCH"):
            request.get_data(cache=True)

    init_errors(app)
    init_api(app, api)
    return app


def check_trust_root(settings: HubSettings) -> None:
    """Refuse a half-configured or malformed trust root (none at all is allowed: the hub
    then starts but accepts nothing until `tongban hub trust-root` sets one)."""
    code, key = settings.root_code, settings.root_public_key
    if not code and not key:
        return
    if not code or not key:
        raise SettingsError("hub cannot start: set both root_code and root_public_key")
    try:
        TrustStore(code, key)
    except TrustError as exc:
        raise SettingsError(f"hub cannot start: {exc.message}") from exc
