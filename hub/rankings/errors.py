"""The rankings' domain errors (statuses come from schemas.runtime.webapp: 403, 404, 422)."""

from __future__ import annotations

from schemas.errors import Forbidden, NotFound


class OutsideScope(Forbidden):
    """The caller asked about a scope that is neither its own nor below it."""

    code = "outside_scope"


class UnknownScope(NotFound):
    """The scope (or node) is not in the hub's registry."""

    code = "unknown_scope"


class UnknownMethodology(NotFound):
    code = "unknown_methodology"


class NotAllowed(Forbidden):
    """The caller's role may not do this (e.g. a viewer saving a methodology)."""

    code = "role_not_allowed"
