"""Authentication and authorization of staff requests, checked in one place.

Every staff view is decorated with ``@staff_required(Permission.X)``: the decorator reads the
bearer token, loads the user and checks the role's permission before the view runs, and
records the requirement in the OpenAPI document.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import current_app, g, request

from node.auth.models import ApiToken, User
from node.auth.permissions import Permission
from node.auth.service import AuthService
from node.composition import NodeServices
from schemas.errors import Unauthorized
from schemas.i18n import _
from schemas.runtime.database import utcnow
from schemas.runtime.webapp import current_session

F = TypeVar("F", bound=Callable[..., Any])


def auth_service() -> AuthService:
    # tests may set another clock (as the hub's hub_clock)
    return NodeServices.of_app(current_app.extensions).auth(
        current_session(), current_app.extensions.get("node_clock", utcnow))


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(_("This endpoint needs a staff token: send 'Authorization: Bearer …'."))
    return token.strip()


def staff_required(permission: Permission) -> Callable[[F], F]:
    """Require a live token whose user's role holds ``permission``."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            service = auth_service()
            user, token = service.authenticate(_bearer_token())
            service.require(user, permission)
            g.user, g.token = user, token
            return view(*args, **kwargs)

        doc = wrapper.__dict__.setdefault("_apidoc", {})
        doc.setdefault("manual_doc", {}).update(
            {"security": [{"bearerAuth": []}], "x-permission": permission.value}
        )
        return cast(F, wrapper)

    return decorator


def current_user() -> User:
    return cast(User, g.user)


def current_token() -> ApiToken:
    return cast(ApiToken, g.token)
