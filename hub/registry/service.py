"""The trust store, rebuilt from the database, and recording what it accepts.

The hub keeps no trust in memory between requests: every request and every batch builds its
:class:`TrustStore` from the stored documents, so any number of hub processes agree.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.models import RegisteredNode
from hub.registry.models import StoredCertificate, StoredRevocation
from schemas.certificates import Certificate, Revocation, TrustError, TrustStore
from schemas.database import insert_if_missing, utcnow
from schemas.errors import TongbanError
from schemas.fastcanon import canonical
from schemas.keys import public_key_b64

log = logging.getLogger("tongban.hub.registry")


class TrustRootMissing(TongbanError):
    """No trust root is configured: the hub can accept nothing yet."""

    code = "trust_root_not_configured"


def fingerprint(document: dict[str, Any]) -> str:
    """SHA-256 (hex) of a document's canonical JSON: one stored row per document."""
    return hashlib.sha256(canonical(document)).hexdigest()


def load_trust_store(session: Session, root_code: str, root_public_key: str) -> TrustStore:
    """A trust store of every stored certificate and revocation under the configured root.

    A stored document that no longer verifies (the root was changed) is left out, and logged.
    """
    if not root_code or not root_public_key:
        raise TrustRootMissing(
            "The hub has no trust root; run `tongban hub trust-root` with the province's code "
            "and root public key."
        )
    store = TrustStore(root_code, root_public_key)
    for row in session.scalars(select(StoredCertificate).order_by(StoredCertificate.id)):
        _add(store.add_certificate, row.document, f"certificate {row.id} of {row.subject}")
    for revocation in session.scalars(select(StoredRevocation).order_by(StoredRevocation.id)):
        _add(store.add_revocation, revocation.document,
             f"revocation {revocation.id} of {revocation.subject}")
    return store


def registry_version(session: Session) -> tuple[int, ...]:
    """What identifies the stored certificates and revocations (both are append-only): their
    counts and highest ids, read from the primary keys alone."""
    found: list[int] = []
    for model in (StoredCertificate, StoredRevocation):
        count, highest = session.execute(
            select(func.count(), func.max(model.id)).select_from(model)).one()
        found += [count or 0, highest or 0]
    return tuple(found)


def _add(add: Any, document: str, what: str) -> None:
    try:
        add(orjson.loads(document))
    except TrustError as exc:
        log.warning("stored %s does not verify under the configured root: %s", what, exc)


def record_certificate(session: Session, certificate: Certificate) -> None:
    """Store a verified certificate (once) and enroll or update its subject in the registry."""
    insert_if_missing(session, StoredCertificate, {
        "fingerprint": fingerprint(certificate.document),
        "subject": certificate.subject,
        "key_id": certificate.key_id,
        "serial": certificate.serial,
        "issuer": certificate.issuer,
        "document": orjson.dumps(certificate.document).decode("utf-8"),
        "not_before": certificate.not_before,
        "not_after": certificate.not_after,
        "received_at": utcnow(),
    }, ["fingerprint"])
    node = session.get(RegisteredNode, certificate.subject)
    if node is None:
        insert_if_missing(session, RegisteredNode, {
            "code": certificate.subject,
            "name": None,
            "level": certificate.level,
            "kind": certificate.kind,
            "parent_code": certificate.parent,
            "registered_at": utcnow(),
        }, ["code"])
    else:
        node.level, node.kind, node.parent_code = (
            certificate.level, certificate.kind, certificate.parent)
    session.flush()


def record_revocation(session: Session, revocation: Revocation) -> None:
    """Store a verified revocation (once)."""
    insert_if_missing(session, StoredRevocation, {
        "fingerprint": fingerprint(revocation.document),
        "subject": revocation.subject,
        "key_id": revocation.key_id,
        "issuer": revocation.issuer,
        "document": orjson.dumps(revocation.document).decode("utf-8"),
        "effective_at": revocation.effective_at,
        "received_at": utcnow(),
    }, ["fingerprint"])


def registry_document(store: TrustStore) -> dict[str, Any]:
    """What ``GET /api/v1/registry`` answers: :meth:`TrustStore.to_registry` with two more
    keys, ``root_code`` and ``root_public_key``.

    A node drops those two and hands the rest to :meth:`TrustStore.from_registry` with the
    root it was itself configured with (the hub's word for the root key is only a hint).
    """
    return {
        **store.to_registry(),
        "root_code": store.root_code,
        "root_public_key": public_key_b64(store.root_key),
    }
