"""The certificate and revocation documents (what :mod:`schemas.certificates` signs) and the
``cert`` and ``revoke`` envelope bodies that carry them: a marshmallow schema and a published JSON
Schema each (see :mod:`schemas.messages`).
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validates_schema

from schemas.kinds import (
    KEY_ID_PATTERN,
    SIGNATURE_PATTERN,
    Kind,
)
from schemas.message_parts import (
    COUNTY_KINDS,
    JS_CODE,
    JS_KEY_ID,
    JS_TIMESTAMP,
    LEVELS,
    PUBLIC_KEY_PATTERN,
    REASON_MAX,
    FullMatch,
    Timestamp,
    code_field,
    int_field,
    js_document,
    js_int,
    js_nullable,
    js_object,
    js_pattern,
    js_string,
    one_of,
    text_field,
)


def _key_id_field() -> fields.String:
    return fields.String(required=True, validate=FullMatch(
        KEY_ID_PATTERN, "16 lowercase hex digits."))


def _signature_field() -> fields.String:
    return fields.String(required=True, validate=FullMatch(
        SIGNATURE_PATTERN, "An Ed25519 signature in base64url without padding."))


class CertificateSchema(Schema):
    """A parent's statement that ``public_key`` is ``subject``'s key for a period."""

    subject = code_field()
    level = one_of(LEVELS)
    kind = one_of(COUNTY_KINDS, allow_none=True)
    parent = code_field(allow_none=True)
    public_key = fields.String(required=True, validate=FullMatch(
        PUBLIC_KEY_PATTERN, "An Ed25519 public key in base64url without padding."))
    key_id = _key_id_field()
    not_before = Timestamp(required=True)
    not_after = Timestamp(required=True)
    serial = int_field(1)
    issuer = code_field()
    issuer_key_id = _key_id_field()

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data["not_after"] <= data["not_before"]:
            raise ValidationError("not_after is not after not_before", "not_after")


class CertificateDocumentSchema(Schema):
    certificate = fields.Nested(CertificateSchema, required=True)
    sig = _signature_field()


class RevocationSchema(Schema):
    """An ancestor's statement that ``subject``'s key ``key_id`` is void from ``effective_at``."""

    subject = code_field()
    key_id = _key_id_field()
    effective_at = Timestamp(required=True)
    reason = text_field(REASON_MAX, 1)
    serial = int_field(1)
    issuer = code_field()
    issuer_key_id = _key_id_field()


class RevocationDocumentSchema(Schema):
    revocation = fields.Nested(RevocationSchema, required=True)
    sig = _signature_field()


JS_SIGNATURE = {"type": "string", "pattern": js_pattern(SIGNATURE_PATTERN)}

CERTIFICATE_JSON_SCHEMA = js_object({
    "certificate": js_object({
        "subject": JS_CODE,
        "level": {"enum": list(LEVELS)},
        "kind": {"enum": [*COUNTY_KINDS, None]},
        "parent": js_nullable(JS_CODE),
        "public_key": {"type": "string", "pattern": js_pattern(PUBLIC_KEY_PATTERN)},
        "key_id": JS_KEY_ID,
        "not_before": JS_TIMESTAMP,
        "not_after": JS_TIMESTAMP,
        "serial": js_int(1),
        "issuer": JS_CODE,
        "issuer_key_id": JS_KEY_ID,
    }),
    "sig": JS_SIGNATURE,
})

REVOCATION_JSON_SCHEMA = js_object({
    "revocation": js_object({
        "subject": JS_CODE,
        "key_id": JS_KEY_ID,
        "effective_at": JS_TIMESTAMP,
        "reason": js_string(REASON_MAX, 1),
        "serial": js_int(1),
        "issuer": JS_CODE,
        "issuer_key_id": JS_KEY_ID,
    }),
    "sig": JS_SIGNATURE,
})


class CertBodySchema(Schema):
    """Enrolment or rotation: a certificate for the hub to verify and publish."""

    certificate = fields.Nested(CertificateDocumentSchema, required=True)


class RevokeBodySchema(Schema):
    """A revocation for the hub to verify and publish."""

    revocation = fields.Nested(RevocationDocumentSchema, required=True)


CERT_JSON_SCHEMA = js_document(
    Kind.CERT, "tongban cert body",
    js_object({"certificate": CERTIFICATE_JSON_SCHEMA}),
    "The certificate document is signed by its issuer over the RFC 8785 JSON of "
    '{"certificate": …}. Also: not_after is after not_before.',
)

REVOKE_JSON_SCHEMA = js_document(
    Kind.REVOKE, "tongban revoke body",
    js_object({"revocation": REVOCATION_JSON_SCHEMA}),
    "The revocation document is signed by an ancestor of its subject over the RFC 8785 JSON "
    'of {"revocation": …}.',
)
