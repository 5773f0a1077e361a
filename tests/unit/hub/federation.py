"""A test federation talking to a hub app: keys, certificates, signed requests, envelopes.

Province 450000 (root key and a separate operating key), city 450900 with county-level city
450981 (townships 450981101 and 450981102) and district 450902, and another city 450100.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from schemas import keys
from schemas.certificates import issue_certificate, issue_revocation
from schemas.divisions import parent_of
from schemas.envelope import Kind, sign_envelope
from schemas.request_signing import sign_request
from schemas.runtime.database import utcnow

PROVINCE, CITY, COUNTY, SIBLING, TOWNSHIP, TOWNSHIP2, OTHER_CITY = (
    "450000", "450900", "450981", "450902", "450981101", "450981102", "450100")
IDENTITY = {PROVINCE: ("province", None), CITY: ("city", None),
            COUNTY: ("county", "county_city"), SIBLING: ("county", "district"),
            TOWNSHIP: ("township", None), TOWNSHIP2: ("township", None),
            OTHER_CITY: ("city", None)}
# parents before children: the order enrolment must follow
ENROLMENT_ORDER = (CITY, OTHER_CITY, COUNTY, SIBLING, TOWNSHIP, TOWNSHIP2)


def fixed_key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


ROOT_KEY = fixed_key(100)
KEYS = {PROVINCE: fixed_key(1), CITY: fixed_key(2), COUNTY: fixed_key(3),
        SIBLING: fixed_key(4), TOWNSHIP: fixed_key(5), OTHER_CITY: fixed_key(6),
        TOWNSHIP2: fixed_key(7)}
STRANGER_KEY = fixed_key(99)
_serials = itertools.count(1)


def b64(private: Ed25519PrivateKey) -> str:
    return keys.public_key_b64(private.public_key())


def kid(private: Ed25519PrivateKey) -> str:
    return keys.key_id(private.public_key())


def certificate(
    subject: str,
    *,
    subject_key: Ed25519PrivateKey | None = None,
    issuer: str | None = None,
    issuer_key: Ed25519PrivateKey | None = None,
) -> dict[str, Any]:
    """``subject``'s certificate, issued by its parent (or ``issuer``), valid around now."""
    issuer = issuer or parent_of(subject) or subject
    if issuer_key is None:
        issuer_key = ROOT_KEY if issuer == subject == PROVINCE else KEYS[issuer]
    level, kind = IDENTITY[subject]
    now = utcnow()
    return issue_certificate(
        issuer_code=issuer, issuer_key=issuer_key, subject=subject, level=level, kind=kind,
        parent=parent_of(subject), public_key_b64=b64(subject_key or KEYS[subject]),
        not_before=now - dt.timedelta(days=1), not_after=now + dt.timedelta(days=365),
        serial=next(_serials))


def revocation(subject: str, *, issuer: str, effective_at: dt.datetime) -> dict[str, Any]:
    return issue_revocation(
        issuer_code=issuer, issuer_key=KEYS[issuer], subject=subject,
        key_id=kid(KEYS[subject]), effective_at=effective_at, reason="key compromised",
        serial=next(_serials))


class Node:
    """One center's side of the conversation with the hub."""

    def __init__(self, client: FlaskClient, code: str, key: Ed25519PrivateKey | None = None):
        self.client = client
        self.code = code
        self.key = key or KEYS[code]
        self._seq = itertools.count(1)

    def envelope(self, kind: Kind | str, to: str, body: dict[str, Any], *,
                 key: Ed25519PrivateKey | None = None, sender: str | None = None,
                 seq: int | None = None) -> dict[str, Any]:
        return sign_envelope(
            kind=kind, sender=sender or self.code, to=to,
            seq=next(self._seq) if seq is None else seq, body=body,
            private_key=key or self.key,
        ).to_wire()

    def signed_headers(self, method: str, path: str, body: bytes, *,
                       key: Ed25519PrivateKey | None = None, node: str | None = None,
                       now: dt.datetime | None = None) -> dict[str, str]:
        return sign_request(method=method, path=path, body=body, node=node or self.code,
                            private_key=key or self.key, now=now or utcnow())

    def call(self, method: str, path: str, document: Any = None, *, raw: bytes | None = None,
             content_type: str = "application/json", **signing: Any) -> Any:
        if raw is not None:
            body = raw
        elif document is not None:
            body = json.dumps(document, ensure_ascii=False).encode("utf-8")
        else:
            body = b""
        headers = self.signed_headers(method, path, body, **signing)
        return self.client.open(path, method=method, data=body, headers=headers,
                                content_type=content_type if body else None)

    def push(self, *wires: dict[str, Any], **signing: Any) -> Any:
        return self.call("POST", "/api/v1/envelopes", {"envelopes": list(wires)}, **signing)

    def results(self, *wires: dict[str, Any], **signing: Any) -> list[dict[str, Any]]:
        response = self.push(*wires, **signing)
        assert response.status_code == 200, response.json
        return response.json["results"]

    def mailbox(self, query: str = "") -> Any:
        return self.call("GET", "/api/v1/mailbox" + (f"?{query}" if query else ""))


def enroll(client: FlaskClient, *codes: str) -> dict[str, Node]:
    """Enroll the province (its self-certificate, pushed under the root key) and then
    ``codes`` (default: everyone), each certificate pushed by the subject's parent."""
    nodes = {code: Node(client, code) for code in IDENTITY}
    province = nodes[PROVINCE]
    statuses = province.results(
        province.envelope(Kind.CERT, "hub", {"certificate": certificate(PROVINCE)}),
        key=ROOT_KEY)
    assert [s["status"] for s in statuses] == ["accepted"], statuses
    for code in codes or ENROLMENT_ORDER:
        parent = nodes[parent_of(code) or PROVINCE]
        statuses = parent.results(
            parent.envelope(Kind.CERT, "hub", {"certificate": certificate(code)}))
        assert [s["status"] for s in statuses] == ["accepted"], statuses
    return nodes


def count(app: Flask, model: Any, *where: Any) -> int:
    db = app.extensions["tongban_db"]
    with db.sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0
