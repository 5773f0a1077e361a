"""The services the pages work with, each from the node's composition root
(:class:`node.composition.NodeServices`, kept in ``app.extensions``) on the request's session:
the pages build no service themselves, and never borrow the API's builders."""

from __future__ import annotations

from flask import current_app

from node.calendar.service import CalendarService
from node.catalog.exchange import CatalogExchange
from node.catalog.service import CatalogService
from node.composition import NodeServices
from node.directives.service import DirectiveService
from node.feedback.service import FeedbackService
from node.metrics.service import MetricsService
from node.rankings.hub import RankingsHub
from schemas.runtime.webapp import current_session


def services() -> NodeServices:
    return NodeServices.of_app(current_app.extensions)


def catalog() -> CatalogService:
    return services().catalog(current_session())


def catalog_exchange() -> CatalogExchange:
    return services().catalog_exchange(current_session())


def calendar_service() -> CalendarService:
    """The calendar on the pages' clock; a change through it moves the open cases' deadlines."""
    return services().calendar(current_session(), clock=current_app.extensions["tongban_clock"])


def feedback_service() -> FeedbackService:
    return services().feedback(current_session())


def metrics_service() -> MetricsService:
    return services().metrics(current_session())


def directive_service() -> DirectiveService:
    return services().directives(current_session())


def rankings_hub() -> RankingsHub:
    """The hub's rankings, asked as this node (one signed client per process)."""
    return services().rankings()


__all__ = [
    "calendar_service",
    "catalog",
    "catalog_exchange",
    "directive_service",
    "feedback_service",
    "metrics_service",
    "rankings_hub",
    "services",
]
