"""Login, logout and the current user."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView

from node.api.security import auth_service, current_token, current_user, staff_required
from node.auth.permissions import Permission
from node.forms import LoginSchema, TokenSchema, UserSchema
from schemas.errors import Unauthorized
from schemas.runtime.webapp import Blueprint, current_session

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Staff login")


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, credentials: dict[str, Any]) -> Any:
        """Log in with username and password; returns a bearer token.

        Failed logins are throttled per client address and per account with growing delays
        (429 with Retry-After); an unknown username answers exactly like a wrong password.
        ``failed_logins`` tells how many failed logins the account had since its previous
        login (administrators: also every other account's).
        """
        try:
            issued = auth_service().login(credentials["username"], credentials["password"],
                                          request.remote_addr or "")
        except Unauthorized:
            current_session().commit()  # keep the recorded failure despite the error answer
            raise
        return {"token": issued.token, "expires_at": issued.expires_at, "user": issued.user,
                "failed_logins": issued.notice}


@blp.route("/logout")
class Logout(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.response(204)
    def post(self) -> None:
        """Revoke the token used for this request."""
        auth_service().logout(current_token())


@blp.route("/me")
class Me(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.response(200, UserSchema)
    def get(self) -> Any:
        """The logged-in user."""
        return current_user()
