"""Certificates and revocations along the administrative tree (DESIGN.md, "Identity and trust").

The hub is configured with one trust root: the province's code and public key.  The province
certifies its own operating key with it (a self-issued certificate), then every parent
certifies its children: a city's certificate is signed by a key of the province, a county's
by a key of its city, a township's by a key of its county.  Rotation is a new certificate for
a new key; the old key stays valid until its ``not_after`` or its revocation.  A revocation is
signed by a key of the subject's parent or of any further ancestor and voids the key from its
``effective_at`` on, together with every certificate that key signed.

A certificate is ``{"certificate": {...}, "sig": ...}`` and a revocation
``{"revocation": {...}, "sig": ...}``; ``sig`` is Ed25519 over the RFC 8785 JSON of the
document without ``sig``, so the outer name keeps a signature of one from passing for the
other.

:class:`~schemas.trust.TrustStore` (:mod:`schemas.trust`) holds what has been verified.
Everything it is given is checked on the way in, including a whole registry from the hub: the
hub relays trust, it never vouches.
Refusals are :class:`TrustError` with one of these codes:

``malformed``          not a certificate or revocation document
``identity_mismatch``  level, kind, parent or key id do not match the code or the key
``wrong_root``         a registry for another root
``no_chain``           the subject is outside the root's tree, or nothing certifies it
``not_parent``         a certificate issued by anyone but the subject's parent
``not_ancestor``       a revocation issued by anyone but an ancestor of the subject
``unknown_issuer``     no certificate of the issuer holds the signing key
``unknown_key``        no certificate of the node holds the key asked for
``bad_signature``      the signature does not verify
``not_yet_valid``      a certificate of the chain starts after the time asked about
``expired``            a certificate of the chain ended at or before the time asked about
``revoked``            a key of the chain is revoked at or before the time asked about
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from schemas import keys
from schemas.canonical import CanonicalError
from schemas.certificate_messages import (
    CertificateDocumentSchema,
    CertificateSchema,
    RevocationDocumentSchema,
    RevocationSchema,
)
from schemas.divisions import CountyKind, Level, parent_of
from schemas.divisions import validate_identity as division_identity_problems
from schemas.errors import TongbanError
from schemas.fastcanon import canonical


class TrustError(TongbanError, ValueError):
    """A certificate, revocation, registry or key refused; ``code`` is listed above."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details)
        self.code = code


@dataclasses.dataclass(frozen=True)
class Certificate:
    """A verified certificate; ``document`` is the signed document as received."""

    subject: str
    level: Level
    kind: CountyKind | None
    parent: str | None
    public_key_b64: str
    key_id: str
    not_before: dt.datetime
    not_after: dt.datetime
    serial: int
    issuer: str
    issuer_key_id: str
    document: dict[str, Any] = dataclasses.field(compare=False, hash=False, repr=False)
    public_key: Ed25519PublicKey = dataclasses.field(compare=False, hash=False, repr=False)

    @property
    def self_issued(self) -> bool:
        return self.issuer == self.subject


@dataclasses.dataclass(frozen=True)
class Revocation:
    """A verified revocation of ``subject``'s key ``key_id`` from ``effective_at`` on."""

    subject: str
    key_id: str
    effective_at: dt.datetime
    reason: str
    serial: int
    issuer: str
    issuer_key_id: str
    document: dict[str, Any] = dataclasses.field(compare=False, hash=False, repr=False)


# -- issuing --------------------------------------------------------------------------------


def iso_time(value: dt.datetime, name: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.isoformat()


def _signed(name: str, body: dict[str, Any], issuer_key: Ed25519PrivateKey) -> dict[str, Any]:
    return {name: body, "sig": keys.sign_b64(issuer_key, canonical({name: body}))}


def issue_certificate(
    *,
    issuer_code: str,
    issuer_key: Ed25519PrivateKey,
    subject: str,
    level: Level | str,
    kind: CountyKind | str | None,
    parent: str | None,
    public_key_b64: str,
    not_before: dt.datetime,
    not_after: dt.datetime,
    serial: int,
) -> dict[str, Any]:
    """Sign a certificate for ``subject``'s key with ``issuer_key`` (a key of ``issuer_code``).

    The province self-issues its own: ``issuer_code == subject``, level province, parent None,
    signed with the trust root key.  The document must be well formed and its identity match
    its code (else :class:`TrustError`); whether the issuer may vouch for the subject is for
    the :class:`TrustStore` that receives it to judge.
    """
    public_key = keys.public_key_from_b64(public_key_b64)
    body = {
        "subject": subject,
        "level": Level(level).value,
        "kind": None if kind is None else CountyKind(kind).value,
        "parent": parent,
        "public_key": public_key_b64,
        "key_id": keys.key_id(public_key),
        "not_before": iso_time(not_before, "not_before"),
        "not_after": iso_time(not_after, "not_after"),
        "serial": serial,
        "issuer": issuer_code,
        "issuer_key_id": keys.key_id(issuer_key.public_key()),
    }
    _check_shape(CertificateSchema, body, "certificate")
    _check_identity(body)
    return _signed("certificate", body, issuer_key)


def issue_revocation(
    *,
    issuer_code: str,
    issuer_key: Ed25519PrivateKey,
    subject: str,
    key_id: str,
    effective_at: dt.datetime,
    reason: str,
    serial: int,
) -> dict[str, Any]:
    """Sign a revocation of ``subject``'s key ``key_id``, effective from ``effective_at``.

    ``issuer_code`` must be an ancestor of ``subject`` for any trust store to accept it.
    """
    body = {
        "subject": subject,
        "key_id": key_id,
        "effective_at": iso_time(effective_at, "effective_at"),
        "reason": reason,
        "serial": serial,
        "issuer": issuer_code,
        "issuer_key_id": keys.key_id(issuer_key.public_key()),
    }
    _check_shape(RevocationSchema, body, "revocation")
    return _signed("revocation", body, issuer_key)


# -- checking documents ---------------------------------------------------------------------


def _check_shape(schema: type[Any], document: Any, what: str) -> None:
    if not isinstance(document, Mapping):
        raise TrustError("malformed", f"a {what} is a JSON object")
    errors = schema().validate(document)
    if errors:
        raise TrustError(
            "malformed",
            f"not a valid {what}: {', '.join(sorted(map(str, errors)))}",
            {"fields": _json_keys(errors)},
        )


def _json_keys(errors: Any) -> Any:
    if isinstance(errors, Mapping):
        return {str(key): _json_keys(value) for key, value in errors.items()}
    if isinstance(errors, list):
        return [_json_keys(item) for item in errors]
    return errors


def _check_identity(body: Mapping[str, Any]) -> None:
    subject = body["subject"]
    problems = division_identity_problems(subject, body["level"], body["kind"])
    if body["parent"] != parent_of(subject):
        problems.append(f"the parent of {subject} is {parent_of(subject)}, not {body['parent']}")
    if problems:
        raise TrustError("identity_mismatch", f"certificate of {subject}: {'; '.join(problems)}",
                         {"subject": subject, "problems": problems})


def signed_payload(name: str, document: Mapping[str, Any]) -> bytes:
    try:
        return canonical({name: document[name]})
    except CanonicalError as exc:
        raise TrustError("malformed", f"the {name} is not canonical JSON: {exc}") from exc


def _plain_copy(document: Mapping[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(dict(document))


def parse_certificate(document: Any) -> Certificate:
    """The :class:`Certificate` a document states (shape and identity checked, not trust)."""
    _check_shape(CertificateDocumentSchema, document, "certificate document")
    body = document["certificate"]
    _check_identity(body)
    try:
        public_key = keys.public_key_from_b64(body["public_key"])
    except ValueError as exc:
        raise TrustError("malformed", f"certificate of {body['subject']}: the public key is "
                         f"not an Ed25519 key ({exc})", {"subject": body["subject"]}) from exc
    if keys.key_id(public_key) != body["key_id"]:
        raise TrustError(
            "identity_mismatch",
            f"certificate of {body['subject']}: key_id {body['key_id']} is not the id of its "
            f"public key ({keys.key_id(public_key)})",
            {"subject": body["subject"]},
        )
    return Certificate(
        subject=body["subject"],
        level=Level(body["level"]),
        kind=None if body["kind"] is None else CountyKind(body["kind"]),
        parent=body["parent"],
        public_key_b64=body["public_key"],
        key_id=body["key_id"],
        not_before=dt.datetime.fromisoformat(body["not_before"]),
        not_after=dt.datetime.fromisoformat(body["not_after"]),
        serial=body["serial"],
        issuer=body["issuer"],
        issuer_key_id=body["issuer_key_id"],
        document=_plain_copy(document),
        public_key=public_key,
    )


def stored_certificate(document: Mapping[str, Any]) -> Certificate:
    """The :class:`Certificate` of a document this side verified and stored itself (the
    hub's database): no shape check and no copy — a document that lacks a field is refused
    ``malformed`` all the same, and ``document`` is kept as given (freshly decoded)."""
    try:
        body = document["certificate"]
        kind = body["kind"]
        return Certificate(
            subject=body["subject"],
            level=Level(body["level"]),
            kind=None if kind is None else CountyKind(kind),
            parent=body["parent"],
            public_key_b64=body["public_key"],
            key_id=body["key_id"],
            not_before=dt.datetime.fromisoformat(body["not_before"]),
            not_after=dt.datetime.fromisoformat(body["not_after"]),
            serial=body["serial"],
            issuer=body["issuer"],
            issuer_key_id=body["issuer_key_id"],
            document=dict(document),
            public_key=keys.public_key_from_b64(body["public_key"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise TrustError("malformed", f"a stored certificate is not one: {exc!r}") from exc


def parse_revocation(document: Any) -> Revocation:
    """The :class:`Revocation` a document states (shape checked, not trust)."""
    _check_shape(RevocationDocumentSchema, document, "revocation document")
    body = document["revocation"]
    return Revocation(
        subject=body["subject"],
        key_id=body["key_id"],
        effective_at=dt.datetime.fromisoformat(body["effective_at"]),
        reason=body["reason"],
        serial=body["serial"],
        issuer=body["issuer"],
        issuer_key_id=body["issuer_key_id"],
        document=_plain_copy(document),
    )



def require_aware(at: dt.datetime) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("a trust decision needs a timezone-aware time")
