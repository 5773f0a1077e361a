"""Hub staff sessions: log in with a password for a bearer token, log out, who am I."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from hub.api.auth import hub_clock, services
from hub.staff.models import StaffAccount
from hub.staff.service import StaffService
from schemas.errors import Unauthorized
from schemas.i18n import _
from schemas.runtime.webapp import current_session

blp = Blueprint("staff", __name__, url_prefix="/api/v1/staff",
                description="Hub staff accounts (created with `tongban hub create-user`).")


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=64))
    password = fields.String(required=True, validate=validate.Length(min=1, max=1024),
                             load_only=True)


class AccountSchema(Schema):
    username = fields.String()
    display_name = fields.String()
    role = fields.String()
    scope = fields.String(attribute="scope_code")


class AccountFailuresSchema(Schema):
    username = fields.String()
    count = fields.Integer()
    last_at = fields.AwareDateTime()


class LoginNoticeSchema(Schema):
    own = fields.Integer(metadata={
        "description": "failed logins on this account since its previous login"})
    accounts = fields.List(fields.Nested(AccountFailuresSchema), metadata={
        "description": "administrators: other accounts with failed logins since then"})
    unknown_usernames = fields.Integer(metadata={
        "description": "administrators: failed logins with usernames nobody has"})


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.AwareDateTime(required=True)
    account = fields.Nested(AccountSchema)
    failed_logins = fields.Nested(LoginNoticeSchema)


def _service() -> StaffService:
    return services().staff(current_session(), clock=hub_clock)


def _bearer() -> str:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized(_("Send the staff token: 'Authorization: Bearer …'."))
    return token.strip()


@blp.route("/login")
class Login(MethodView):
    @blp.arguments(LoginSchema)
    @blp.response(200, TokenSchema)
    def post(self, body: dict[str, Any]) -> Any:
        """Exchange a username and password for a bearer token.

        Failed logins are throttled per client address and per account with growing delays
        (429 with Retry-After), as on the node; an unknown username answers exactly like a
        wrong password.  ``failed_logins`` tells the failed logins since the previous login.
        """
        try:
            issued = _service().login(body["username"], body["password"],
                                      request.remote_addr or "")
        except Unauthorized:
            current_session().commit()  # keep the recorded failure despite the error answer
            raise
        return {"token": issued.token, "expires_at": issued.expires_at,
                "account": issued.account, "failed_logins": issued.notice}


@blp.route("/logout")
class Logout(MethodView):
    @blp.response(204)
    def post(self) -> None:
        """Revoke the token this request carries."""
        service = _service()
        _account, token = service.authenticate(_bearer())
        service.logout(token)


@blp.route("/me")
class Me(MethodView):
    @blp.response(200, AccountSchema)
    def get(self) -> StaffAccount:
        """The account the token belongs to, with its role and scope."""
        account, _token = _service().authenticate(_bearer())
        return account
