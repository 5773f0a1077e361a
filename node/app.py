"""The node application factory."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from node.api import register_blueprints
from node.composition import NodeServices, calendar_reader, current_settings
from node.config import check_private_database, node_settings
from node.metadata import load_all_models
from node.models import Base
from node.sync.keys import load_node_key
from node.sync.status import health as sync_health
from node.web import init_app as init_pages
from schemas.runtime.database import Database, utcnow
from schemas.runtime.logs import configure_logging
from schemas.runtime.webapp import init_web

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build a node's web application from defaults, TOML file, environment and ``config``."""
    settings = node_settings(config)
    node_key = load_node_key(settings)  # a node refuses to start without its key
    check_private_database(settings)  # … or with a database others may read
    configure_logging(settings.log_level)
    load_all_models()
    app = Flask("node", static_folder=None)
    app.extensions["tongban_node_key"] = node_key
    # the composition root of the web process: every view gets its services from here
    app.extensions[NodeServices.EXTENSION] = NodeServices(settings, node_key)
    app.config.update(
        TONGBAN=settings,
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_content_length,
        TESTING=settings.testing,
    )
    db = Database(settings.database_url)

    # the clock of what the pages and /healthz say about dates (tests set their own)
    app.extensions["tongban_clock"] = utcnow

    def identity(session: Session) -> dict[str, Any]:
        current = current_settings()
        details: dict[str, Any] = {
            "code": current.code, "name": current.name, "level": current.level}
        # degraded from sixty days before a year without national holiday data begins
        missing = calendar_reader(session, clock=app.extensions["tongban_clock"]).missing_years()
        details["calendar"] = {"status": "degraded" if missing else "ok",
                               "years_without_data": missing}
        if missing:
            details["status"] = "degraded"
        details["sync"] = sync_health(session)
        return details

    api = init_web(
        app, db, title=f"tongban node {settings.code}", service="node", health_details=identity,
        proxy_hops=settings.proxy_hops,
    )
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    register_blueprints(api)
    init_pages(app, api)
    logging.getLogger("tongban").debug("node %s app created", settings.code)
    return app


__all__ = ["MIGRATIONS", "Base", "create_app"]
