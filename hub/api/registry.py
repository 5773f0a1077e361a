"""Public reading: the registry of certificates and revocations, and the message schemas."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from hub.api.auth import request_store
from hub.registry.service import registry_document
from schemas.messages import JSON_SCHEMAS

blp = Blueprint("registry", __name__, url_prefix="/api/v1",
                description="The published registry and message schemas (no signature needed).")


class RegistryResponseSchema(Schema):
    root = fields.String(required=True)
    certificates = fields.List(fields.Raw(), required=True)
    revocations = fields.List(fields.Raw(), required=True)
    issued_at = fields.String(required=True)
    serial = fields.Integer(required=True)
    root_code = fields.String(required=True)
    root_public_key = fields.String(required=True, metadata={
        "description": "The trust root key: raw Ed25519 in base64url without padding."})


@blp.route("/registry")
class Registry(MethodView):
    @blp.response(200, RegistryResponseSchema)
    def get(self) -> dict[str, Any]:
        """Every certificate and revocation the hub holds, for nodes to verify each other.

        Without ``root_code`` and ``root_public_key`` the answer is a registry document for
        ``TrustStore.from_registry``.

        The hub relays trust and never vouches: each node re-verifies the registry against
        the root it was itself configured with.
        """
        return registry_document(request_store())


@blp.route("/schemas")
class Schemas(MethodView):
    @blp.response(200)
    def get(self) -> dict[str, Any]:
        """The JSON Schema of the envelope and of every kind's body."""
        return JSON_SCHEMAS
