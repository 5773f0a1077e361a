"""The node's HTTP API: thin flask-smorest views over the services."""

from __future__ import annotations

from flask_smorest import Api


def register_blueprints(api: Api) -> None:
    from node.api import auth, catalog, guide, users

    for module in (auth, users, catalog, guide):
        api.register_blueprint(module.blp)
