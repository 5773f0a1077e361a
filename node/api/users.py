"""Administration of staff user accounts."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from node.api.security import auth_service, current_user, staff_required
from node.auth.inputs import NewUser, UserChanges
from node.auth.permissions import Permission
from node.forms import NewUserSchema, UserPatchSchema, UserSchema
from schemas.runtime.webapp import Blueprint

blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="Staff accounts")


@blp.route("")
class Users(MethodView):
    @staff_required(Permission.USERS_READ)
    @blp.response(200, UserSchema(many=True))
    def get(self) -> Any:
        """All staff accounts."""
        return auth_service().list_users()

    @staff_required(Permission.USERS_MANAGE)
    @blp.arguments(NewUserSchema)
    @blp.response(201, UserSchema)
    def post(self, new: NewUser) -> Any:
        """Create a staff account (clerks and approvers belong to a department)."""
        return auth_service().create_user(new)


@blp.route("/<username>")
class UserItem(MethodView):
    @staff_required(Permission.USERS_READ)
    @blp.response(200, UserSchema)
    def get(self, username: str) -> Any:
        """One staff account."""
        return auth_service().user(username)

    @staff_required(Permission.USERS_MANAGE)
    @blp.arguments(UserPatchSchema)
    @blp.response(200, UserSchema)
    def patch(self, changes: UserChanges, username: str) -> Any:
        """Change role, department, display name, password or disable an account.

        Disabling an account or setting its password revokes all its tokens.
        """
        return auth_service().update_user(current_user(), username, changes)


@blp.route("/<username>/revoke-tokens")
class RevokeTokens(MethodView):
    @staff_required(Permission.USERS_MANAGE)
    @blp.response(204)
    def post(self, username: str) -> None:
        """Revoke every live token of an account (e.g. a lost device)."""
        service = auth_service()
        service.revoke_all(service.user(username))
