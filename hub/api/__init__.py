"""The hub's HTTP API: thin views over hub.registry and hub.relay."""

from __future__ import annotations

from flask import Flask

from hub.api.audits import blp as audits_blp
from hub.api.rankings import blp as rankings_blp
from hub.api.registry import blp as registry_blp
from hub.api.relay import blp as relay_blp
from hub.api.staff import blp as staff_blp
from schemas.runtime.webapp import Api


def init_api(app: Flask, api: Api) -> None:
    """Register the hub's blueprints."""
    api.register_blueprint(registry_blp)
    api.register_blueprint(relay_blp)
    api.register_blueprint(rankings_blp)
    api.register_blueprint(staff_blp)
    api.register_blueprint(audits_blp)
