"""The node's HTTP API: thin flask-smorest views over the services."""

from __future__ import annotations

from flask_smorest import Api

from node.api import (
    assessment,
    auth,
    bundles,
    calendar,
    cases,
    catalog,
    directives,
    exchange,
    guide,
    metrics,
    public,
    rankings,
    supervision,
    sync,
    users,
)


def register_blueprints(api: Api) -> None:
    modules = (auth, users, catalog, guide, exchange, calendar, cases, bundles, public,
               supervision, metrics,
               assessment, sync, directives, rankings)
    for module in modules:
        api.register_blueprint(module.blp)
