"""Directives (督办): issue one to a descendant center, answer one from an ancestor."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from node.api.security import current_user, staff_required
from node.auth.permissions import Permission
from node.composition import NodeServices
from node.directives.schemas import (
    DirectiveListArgs,
    DirectiveSchema,
    IssueSchema,
    ReplySchema,
)
from node.directives.service import DirectiveService, entry
from node.forms import CursorArgs, cursor_page, cursor_page_of
from schemas.runtime.webapp import Blueprint, current_session

blp = Blueprint(
    "directives", __name__, url_prefix="/api/v1/directives",
    description="Directives (督办) to descendant centers and from ancestor ones",
)


class DirectivePageArgs(DirectiveListArgs, CursorArgs):
    """The list's filters and its page (node/listing.py)."""


# -- views ----------------------------------------------------------------------------------


def directive_service() -> DirectiveService:
    return NodeServices.of_app(current_app.extensions).directives(current_session())


@blp.route("")
class Directives(MethodView):
    @staff_required(Permission.SUPERVISION_READ)
    @blp.arguments(DirectivePageArgs, location="query")
    @blp.response(200, cursor_page_of(DirectiveSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Directives issued here (outgoing) and received here (incoming), newest first,
        with their state and whether they are overdue. Paged by cursor (docs/api.md)."""
        page = directive_service().search(
            direction=args["direction"], state=args["state"], cursor=args.get("cursor"),
            before=args.get("before"), per_page=args["per_page"])
        return cursor_page(page, list(page.items), args["per_page"])

    @staff_required(Permission.SUPERVISION_MANAGE)
    @blp.arguments(IssueSchema)
    @blp.response(201, DirectiveSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Issue a directive about a case, a metric or in free text to a center below this
        one; it travels as a signed ``directive`` envelope."""
        service = directive_service()
        directive = service.issue(
            current_user().username, data["target"], data["subject"].value, data["text"],
            data["due_on"], case_number=data["case_number"], metric=data["metric"],
        )
        return entry(directive, service.today())


@blp.route("/<uuid:directive_id>/reply")
class DirectiveReply(MethodView):
    @staff_required(Permission.SUPERVISION_MANAGE)
    @blp.arguments(ReplySchema)
    @blp.response(200, DirectiveSchema)
    def post(self, data: dict[str, Any], directive_id: Any) -> Any:
        """Answer a directive received from a center above: acknowledged, in progress, done
        or disputed; the reply travels back as ``directive.reply``."""
        service = directive_service()
        directive = service.reply(str(directive_id), data["state"], data["text"],
                                  current_user().username)
        return entry(directive, service.today())
