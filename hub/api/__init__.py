"""The hub's HTTP API: thin views over hub.registry and hub.relay."""

from __future__ import annotations

from flask import Flask, current_app

from hub.settings import HubSettings
from schemas.runtime.webapp import Api


def current_settings() -> HubSettings:
    """The settings of the hub app serving this request (hub.config.hub_settings built them;
    not in hub.config, which the commands import before they run: it stays free of Flask)."""
    settings: HubSettings = current_app.config["TONGBAN"]
    return settings


def init_api(app: Flask, api: Api) -> None:
    """Register the hub's blueprints."""
    from hub.api.audits import blp as audits_blp
    from hub.api.rankings import blp as rankings_blp
    from hub.api.registry import blp as registry_blp
    from hub.api.relay import blp as relay_blp
    from hub.api.staff import blp as staff_blp

    api.register_blueprint(registry_blp)
    api.register_blueprint(relay_blp)
    api.register_blueprint(rankings_blp)
    api.register_blueprint(staff_blp)
    api.register_blueprint(audits_blp)
