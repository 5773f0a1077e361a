"""An independent client: a request signed from RFC 9421 and RFC 9530 by hand.

Nothing of tongban's signing code is used here: the signature base is written out as RFC 9421
§2.5 builds it, signed with ``cryptography``'s Ed25519 directly, the Content-Digest computed
with ``hashlib``.  The hub accepts it; each tampered copy is refused with its own code.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import Flask

from hub.relay.models import EnvelopeRecord, RequestNonce
from schemas.envelope import Kind
from schemas.runtime.database import utcnow
from tests.unit.hub.federation import COUNTY, KEYS, TOWNSHIP, Node, count, enroll
from tests.unit.schemas.test_messages import case_update_body


def sf_bytes(data: bytes) -> str:
    """An RFC 8941 byte sequence: base64 between colons."""
    return ":" + base64.b64encode(data).decode("ascii") + ":"


def rfc_key_id(key: Ed25519PrivateKey) -> str:
    """The registry's key id, from its definition: SHA-256 of the raw public key, 16 hex."""
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def by_hand(method: str, path: str, query: str, body: bytes, *, node: str = COUNTY,
            key: Ed25519PrivateKey | None = None, created: int | None = None,
            expires: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """The three headers of RFC 9421 §3.1 and RFC 9530 §2, built by hand."""
    key = key or KEYS[node]
    created = int(utcnow().timestamp()) if created is None else created
    expires = created + 300 if expires is None else expires
    nonce = nonce or secrets.token_urlsafe(18)
    headers: dict[str, str] = {}
    components = '"@method" "@path" "@query"'
    lines = [f'"@method": {method}', f'"@path": {path}', f'"@query": ?{query}']
    if body:
        headers["Content-Digest"] = "sha-256=" + sf_bytes(hashlib.sha256(body).digest())
        components += ' "content-digest"'
        lines.append(f'"content-digest": {headers["Content-Digest"]}')
    params = (f'({components});created={created};expires={expires};'
              f'nonce="{nonce}";keyid="{node}:{rfc_key_id(key)}";alg="ed25519"')
    lines.append(f'"@signature-params": {params}')
    base = "\n".join(lines).encode("ascii")  # §2.5: no newline after the last line
    headers["Signature-Input"] = f"req={params}"
    headers["Signature"] = "req=" + sf_bytes(key.sign(base))
    return headers


@pytest.fixture
def nodes(hub_app: Flask) -> dict[str, Node]:
    return enroll(hub_app.test_client())


def send(app: Flask, method: str, path: str, query: str, body: bytes,
         headers: dict[str, str]) -> Any:
    return app.test_client().open(path + (f"?{query}" if query else ""), method=method,
                                  data=body, headers=headers,
                                  content_type="application/json" if body else None)


def refused(response: Any, code: str) -> None:
    assert response.status_code == 401, response.json
    assert response.json["error"]["code"] == code
    assert response.json["error"]["details"]["reason"] == code


def test_the_signature_base_matches_the_rfc_example_layout() -> None:
    """The hand-built base is the RFC's layout, byte for byte (RFC 9421 §2.5)."""
    headers = by_hand("POST", "/api/v1/envelopes", "", b'{"envelopes": []}',
                      created=1796558400, nonce="n" * 24)
    assert headers["Content-Digest"] == "sha-256=:fSe7Ake/O+MOBAINkk5sh0+9U2Z0z/0mRmpm1CtRNjk=:"
    assert headers["Signature-Input"] == (
        'req=("@method" "@path" "@query" "content-digest");created=1796558400;'
        f'expires=1796558700;nonce="{"n" * 24}";keyid="450981:{rfc_key_id(KEYS[COUNTY])}";'
        'alg="ed25519"')


def test_a_hand_signed_push_and_read_are_accepted(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    wire = nodes[COUNTY].envelope(Kind.CASE_UPDATE, TOWNSHIP, case_update_body())
    body = json.dumps({"envelopes": [wire]}).encode()
    answer = send(hub_app, "POST", "/api/v1/envelopes", "", body,
                  by_hand("POST", "/api/v1/envelopes", "", body))
    assert answer.status_code == 200, answer.json
    assert answer.json["results"][0]["status"] == "accepted"
    assert count(hub_app, EnvelopeRecord, EnvelopeRecord.id == wire["id"]) == 1
    # a GET without a body and with a query: no Content-Digest
    query = "after=0&limit=5"
    mailbox = send(hub_app, "GET", "/api/v1/mailbox", query, b"",
                   by_hand("GET", "/api/v1/mailbox", query, b"", node=TOWNSHIP))
    assert mailbox.status_code == 200, mailbox.json
    assert [item["envelope"]["id"] for item in mailbox.json["items"]][-1] == wire["id"]


def ack_body(cursor: int) -> bytes:
    return json.dumps({"cursor": cursor}).encode()


ACK = "/api/v1/mailbox/ack"


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        # the method changed on the way (signed as PUT, sent as POST)
        (lambda h: ("POST", ACK, "", ack_body(0),
                    by_hand("PUT", ACK, "", ack_body(0), node=TOWNSHIP)), "bad_signature"),
        # another path, or a query added
        (lambda h: ("POST", "/api/v1/envelopes", "", ack_body(0), h), "bad_signature"),
        (lambda h: ("POST", ACK, "x=1", ack_body(0), h), "bad_signature"),
        # another body under the signed digest
        (lambda h: ("POST", ACK, "", ack_body(1), h), "digest_mismatch"),
        # another body with its own digest, which the signature does not cover
        (lambda h: ("POST", ACK, "", ack_body(1), {
            **h, "Content-Digest": "sha-256=" + sf_bytes(hashlib.sha256(ack_body(1)).digest())}),
         "bad_signature"),
        # the digest removed from what is covered
        (lambda h: ("POST", ACK, "", ack_body(0), {
            **h, "Signature-Input": h["Signature-Input"].replace(' "content-digest"', "")}),
         "missing_component"),
    ],
)
def test_a_tampered_request_is_refused_and_changes_nothing(
    hub_app: Flask, nodes: dict[str, Node], tamper: Any, code: str
) -> None:
    headers = by_hand("POST", ACK, "", ack_body(0), node=TOWNSHIP)
    nonces = count(hub_app, RequestNonce)
    method, path, query, body, sent = tamper(headers)
    refused(send(hub_app, method, path, query, body, sent), code)
    assert count(hub_app, RequestNonce) == nonces
    # the untouched request still goes through
    assert send(hub_app, "POST", ACK, "", ack_body(0), headers).status_code == 200


def test_expired_stale_and_replayed_requests_are_refused(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    now = int(utcnow().timestamp())
    expired = by_hand("GET", "/api/v1/mailbox", "", b"", created=now - 120, expires=now - 60)
    refused(send(hub_app, "GET", "/api/v1/mailbox", "", b"", expired), "expired_signature")
    stale = by_hand("GET", "/api/v1/mailbox", "", b"", created=now - 400, expires=now + 60)
    refused(send(hub_app, "GET", "/api/v1/mailbox", "", b"", stale), "stale_time")
    future = by_hand("GET", "/api/v1/mailbox", "", b"", created=now + 400)
    refused(send(hub_app, "GET", "/api/v1/mailbox", "", b"", future), "stale_time")
    fresh = by_hand("GET", "/api/v1/mailbox", "", b"")
    assert send(hub_app, "GET", "/api/v1/mailbox", "", b"", fresh).status_code == 200
    refused(send(hub_app, "GET", "/api/v1/mailbox", "", b"", fresh), "replayed_nonce")


def test_another_algorithm_or_key_is_refused(hub_app: Flask, nodes: dict[str, Node]) -> None:
    headers = by_hand("GET", "/api/v1/mailbox", "", b"")
    hmac = {**headers, "Signature-Input": headers["Signature-Input"].replace(
        'alg="ed25519"', 'alg="hmac-sha256"')}
    refused(send(hub_app, "GET", "/api/v1/mailbox", "", b"", hmac), "bad_algorithm")
    stranger = Ed25519PrivateKey.generate()
    unknown = by_hand("GET", "/api/v1/mailbox", "", b"", key=stranger)
    refused(send(hub_app, "GET", "/api/v1/mailbox", "", b"", unknown), "unknown_key")
    # the county's key id, another key's signature
    forged = by_hand("GET", "/api/v1/mailbox", "", b"", key=stranger)
    forged["Signature-Input"] = forged["Signature-Input"].replace(
        rfc_key_id(stranger), rfc_key_id(KEYS[COUNTY]))
    refused(send(hub_app, "GET", "/api/v1/mailbox", "", b"", forged), "bad_signature")


def test_the_old_signing_headers_are_refused_by_name(
    hub_app: Flask, nodes: dict[str, Node]
) -> None:
    old = {"X-Tongban-Node": COUNTY, "X-Tongban-Key": rfc_key_id(KEYS[COUNTY]),
           "X-Tongban-Time": dt.datetime.now(dt.UTC).isoformat(),
           "X-Tongban-Nonce": secrets.token_urlsafe(18), "X-Tongban-Signature": "AAAA"}
    response = send(hub_app, "GET", "/api/v1/mailbox", "", b"", old)
    refused(response, "old_signature_format")
    assert "RFC 9421" in response.json["error"]["message"]
