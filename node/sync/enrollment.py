"""Certificates and revocations this node issues, queued to the hub as ``cert``/``revoke``.

The province self-enrolls (its root certificate is signed by its own key, the trust root the
hub is configured with); every other node is enrolled by its parent; a revocation may come
from the subject's parent or any further ancestor.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from node.numbers import next_number
from node.sync.errors import EnrollmentError
from node.sync.outbox import emit
from schemas.certificates import issue_certificate, issue_revocation
from schemas.divisions import DivisionCodeError, Level, is_ancestor, level_of, parent_of
from schemas.envelope import HUB, Kind
from schemas.keys import public_key_b64
from schemas.request_signing import MAX_SKEW

SERIAL_COUNTER = "certificate-serial"
# A certificate is valid from this long before it is issued: a new node whose clock runs slow
# by up to the skew the hub accepts for requests signs envelopes dated before its enrolment,
# and receivers would otherwise find no certificate valid at their ``ts``
# (``key_not_yet_valid``).  Certificates are found by key id, so the overlap with an older key
# of the same node is harmless.
BACKDATE = MAX_SKEW


def enroll_self(
    session: Session, *, code: str, private_key: Ed25519PrivateKey, now: dt.datetime, days: int
) -> dict[str, Any]:
    """The province's own root certificate, self-issued with its key; queued to the hub."""
    if level_of(code) is not Level.PROVINCE:
        raise EnrollmentError(f"only a province enrolls itself; {code} is enrolled by its parent",
                              {"code": code})
    document = issue_certificate(
        issuer_code=code, issuer_key=private_key, subject=code, level=Level.PROVINCE,
        kind=None, parent=None, public_key_b64=public_key_b64(private_key.public_key()),
        not_before=now - BACKDATE, not_after=now + dt.timedelta(days=days),
        serial=next_number(session, SERIAL_COUNTER),
    )
    emit(session, kind=Kind.CERT, to=HUB, body={"certificate": document}, sender=code,
         private_key=private_key, now=now)
    return document


def enroll_child(
    session: Session,
    *,
    code: str,
    private_key: Ed25519PrivateKey,
    child: str,
    kind: str | None,
    child_public_key: str,
    now: dt.datetime,
    days: int,
) -> dict[str, Any]:
    """Sign ``child``'s certificate as its parent and queue it to the hub in one transaction.

    Raises :class:`EnrollmentError` when this node is not the child's parent and
    :class:`schemas.certificates.TrustError` / ``KeyFormatError`` for a bad identity or key.
    """
    try:
        level = level_of(child)
    except DivisionCodeError as exc:
        raise EnrollmentError(str(exc), {"code": child}) from exc
    if parent_of(child) != code:
        raise EnrollmentError(
            f"{code} is not the parent of {child} (its parent is {parent_of(child)})",
            {"code": child, "parent": parent_of(child)},
        )
    document = issue_certificate(
        issuer_code=code, issuer_key=private_key, subject=child, level=level, kind=kind or None,
        parent=code, public_key_b64=child_public_key, not_before=now - BACKDATE,
        not_after=now + dt.timedelta(days=days), serial=next_number(session, SERIAL_COUNTER),
    )
    emit(session, kind=Kind.CERT, to=HUB, body={"certificate": document}, sender=code,
         private_key=private_key, now=now)
    return document


def revoke(
    session: Session,
    *,
    code: str,
    private_key: Ed25519PrivateKey,
    subject: str,
    subject_key_id: str,
    effective_at: dt.datetime,
    reason: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """Revoke a descendant's key from ``effective_at`` on and queue it to the hub."""
    try:
        level_of(subject)
    except DivisionCodeError as exc:
        raise EnrollmentError(str(exc), {"code": subject}) from exc
    if not is_ancestor(code, subject):
        raise EnrollmentError(f"{code} is not an ancestor of {subject}: it cannot revoke its keys",
                              {"code": subject})
    document = issue_revocation(
        issuer_code=code, issuer_key=private_key, subject=subject, key_id=subject_key_id,
        effective_at=effective_at, reason=reason, serial=next_number(session, SERIAL_COUNTER),
    )
    emit(session, kind=Kind.REVOKE, to=HUB, body={"revocation": document}, sender=code,
         private_key=private_key, now=now)
    return document
