"""Public reading: the registry of certificates and revocations, and the message schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
from flask import Response
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from hub.api.auth import trust_cache
from hub.registry.service import registry_envelopes, registry_part
from schemas.envelope import CODE_PATTERN
from schemas.keys import public_key_b64
from schemas.messages import JSON_SCHEMAS
from schemas.runtime.database import BIGINT_MAX
from schemas.runtime.webapp import current_session

CHAINS_MAX = 20
ENVELOPES_PAGE_MAX = 500

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
    names = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "``{code: name}`` of the part's centers whose name is known (each "
                       "center's name as its own signed summary gives it): what pages show."})
    cursor = fields.Dict(required=True, metadata={"description": (
        "``{\"certificates\": n, \"revocations\": m}``: ask with certificates_after=n and "
        "revocations_after=m next time to receive only what was stored since.")})


_CURSOR = validate.Range(min=0, max=BIGINT_MAX)


class RegistryQuerySchema(Schema):
    node = fields.String(load_default=None, validate=validate.Regexp(f"^({CODE_PATTERN})$"),
                         metadata={"description": (
                             "Only the documents of this node, its ancestors and its "
                             "descendants: the part of the tree a node hears from.")})
    certificates_after = fields.Integer(load_default=0, validate=_CURSOR)
    revocations_after = fields.Integer(load_default=0, validate=_CURSOR)
    chain = fields.List(
        fields.String(validate=validate.Regexp(f"^({CODE_PATTERN})$")), load_default=list,
        validate=validate.Length(max=CHAINS_MAX), metadata={"description": (
            "Also every document of these nodes and their ancestors, whatever the cursors "
            f"(at most {CHAINS_MAX}): a sender from elsewhere in the province.")})


@blp.route("/registry")
class Registry(MethodView):
    @blp.arguments(RegistryQuerySchema, location="query")
    @blp.response(200, RegistryResponseSchema)
    def get(self, query: dict[str, Any]) -> Response:
        """Certificates and revocations the hub holds, for nodes to verify each other.

        Without parameters, all of them.  A node asks only for its part of the tree
        (``node``) and only for what was stored after the ``cursor`` of its last answer
        (``certificates_after``, ``revocations_after``), plus the chains of senders from
        elsewhere (``chain``), and the ``names`` of the part's centers.  Without
        ``root_code``, ``root_public_key``, ``names`` and ``cursor``
        the answer is a registry document for ``TrustStore.from_registry``.

        The hub relays trust and never vouches: each node re-verifies what it receives
        against the root it was itself configured with.
        """
        store = trust_cache().current(current_session())  # 503 without a trust root
        part = registry_part(
            current_session(), node=query["node"],
            certificates_after=query["certificates_after"],
            revocations_after=query["revocations_after"], chains=query["chain"])
        # the stored documents as stored: no parsing and re-encoding of thousands of them
        document = {
            "root": store.root_code,
            "certificates": [orjson.Fragment(text) for text in part.certificates],
            "revocations": [orjson.Fragment(text) for text in part.revocations],
            "issued_at": dt.datetime.now(dt.UTC).isoformat(),
            "serial": part.version,
            "root_code": store.root_code,
            "root_public_key": public_key_b64(store.root_key),
            "names": part.names,
            "cursor": {"certificates": part.certificates_cursor,
                       "revocations": part.revocations_cursor},
        }
        return Response(orjson.dumps(document), mimetype="application/json")


class RegistryEnvelopesQuerySchema(Schema):
    after = fields.Integer(load_default=0, validate=_CURSOR,
                           metadata={"description": "Envelopes after this position (the "
                                     "``next_after`` of the previous page)."})
    limit = fields.Integer(load_default=100,
                           validate=validate.Range(min=1, max=ENVELOPES_PAGE_MAX))


class RegistryEnvelopeItemSchema(Schema):
    position = fields.Integer(required=True)
    envelope = fields.Raw(required=True, metadata={
        "description": "The ``cert`` or ``revoke`` envelope exactly as its sender signed it."})


class RegistryEnvelopesResponseSchema(Schema):
    items = fields.List(fields.Nested(RegistryEnvelopeItemSchema), required=True)
    next_after = fields.Integer(required=True)
    more = fields.Boolean(required=True)
    root_code = fields.String(required=True)
    root_public_key = fields.String(required=True)


@blp.route("/registry/envelopes")
class RegistryEnvelopes(MethodView):
    @blp.arguments(RegistryEnvelopesQuerySchema, location="query")
    @blp.response(200, RegistryEnvelopesResponseSchema)
    def get(self, query: dict[str, Any]) -> Response:
        """Every ``cert`` and ``revoke`` envelope the hub accepted, as signed, in the order
        stored, a page at a time (keyset: ``after`` = the last ``position`` seen).

        An outside auditor rebuilds the trust tree from these alone: each envelope is
        signed by its sender, and the certificate or revocation it carries by its issuer
        (docs/sync.md, "How certificates and revocations are signed").
        """
        store = trust_cache().current(current_session())  # 503 without a trust root
        page = registry_envelopes(current_session(), after=query["after"],
                                  limit=query["limit"])
        document = {
            "items": [{"position": position, "envelope": orjson.Fragment(wire)}
                      for position, wire in page.items],
            "next_after": page.items[-1][0] if page.items else query["after"],
            "more": page.more,
            "root_code": store.root_code,
            "root_public_key": public_key_b64(store.root_key),
        }
        return Response(orjson.dumps(document), mimetype="application/json")


@blp.route("/schemas")
class Schemas(MethodView):
    @blp.response(200)
    def get(self) -> dict[str, Any]:
        """The JSON Schema of the envelope and of every kind's body."""
        return JSON_SCHEMAS
