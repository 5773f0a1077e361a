"""The hub application factory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.config import hub_settings
from hub.models import RegisteredNode
from schemas.database import Database
from schemas.logs import configure_logging
from schemas.webapp import init_web

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the hub's web application from defaults, TOML file, environment and ``config``."""
    settings = hub_settings(config)
    configure_logging(settings["log_level"])
    app = Flask("hub", static_folder=None)
    app.config.update(
        TONGBAN=settings,
        SECRET_KEY=settings["secret_key"],
        MAX_CONTENT_LENGTH=settings["max_content_length"],
        TESTING=settings["testing"],
    )
    db = Database(settings["database_url"])

    def registry_size(session: Session) -> dict[str, Any]:
        return {"nodes": session.scalar(select(func.count()).select_from(RegisteredNode))}

    init_web(app, db, title="tongban hub", service="hub", health_details=registry_size)
    return app
