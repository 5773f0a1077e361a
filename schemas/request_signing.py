"""Signed HTTP requests from a node to the hub (in the spirit of RFC 9421).

The calling node signs the method, the path with its query, the SHA-256 of the body, the time
and a nonce with its Ed25519 key.  The hub refuses a time more than five minutes away from
its own clock and a nonce it has seen (nonces live in the hub's database, so every hub
process agrees).  There is no other way in for a node.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from schemas.errors import Unauthorized
from schemas.keys import key_id, sign_b64, verify_b64

MAX_SKEW = dt.timedelta(minutes=5)
HEADER_NODE = "X-Tongban-Node"
HEADER_KEY = "X-Tongban-Key"
HEADER_TIME = "X-Tongban-Time"
HEADER_NONCE = "X-Tongban-Nonce"
HEADER_SIGNATURE = "X-Tongban-Signature"
HEADERS = (HEADER_NODE, HEADER_KEY, HEADER_TIME, HEADER_NONCE, HEADER_SIGNATURE)


class RequestAuthError(Unauthorized):
    """A signed request that cannot be accepted; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, {"reason": code})
        self.code = code


def signing_string(
    method: str, path: str, body: bytes, node: str, key: str, time: str, nonce: str
) -> bytes:
    """What is signed: one line per element, the body by its SHA-256."""
    digest = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, digest, node, key, time, nonce)).encode("utf-8")


def sign_request(
    *,
    method: str,
    path: str,
    body: bytes,
    node: str,
    private_key: Ed25519PrivateKey,
    now: dt.datetime,
) -> dict[str, str]:
    """The headers that authenticate one request (``path`` includes the query string)."""
    key = key_id(private_key.public_key())
    time = now.astimezone(dt.UTC).isoformat(timespec="seconds")
    nonce = secrets.token_urlsafe(18)
    signature = sign_b64(private_key, signing_string(method, path, body, node, key, time, nonce))
    return {
        HEADER_NODE: node,
        HEADER_KEY: key,
        HEADER_TIME: time,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: signature,
    }


@dataclass(frozen=True)
class SignedRequest:
    node: str
    key_id: str
    time: dt.datetime
    time_text: str  # exactly as sent: it is what was signed
    nonce: str
    signature: str


def read_signed_headers(headers: dict[str, str]) -> SignedRequest:
    """The signature headers of a request; RequestAuthError when any is missing or bad."""
    missing = [h for h in HEADERS if not headers.get(h)]
    if missing:
        raise RequestAuthError(
            "unsigned", f"This endpoint needs a signed request; missing {', '.join(missing)}."
        )
    try:
        time = dt.datetime.fromisoformat(headers[HEADER_TIME])
    except ValueError as exc:
        raise RequestAuthError("bad_time", "X-Tongban-Time is not an ISO 8601 time.") from exc
    if time.tzinfo is None:
        raise RequestAuthError("bad_time", "X-Tongban-Time needs a UTC offset.")
    nonce = headers[HEADER_NONCE]
    if not 16 <= len(nonce) <= 64:
        raise RequestAuthError("bad_nonce", "X-Tongban-Nonce must be 16 to 64 characters.")
    return SignedRequest(
        headers[HEADER_NODE], headers[HEADER_KEY], time, headers[HEADER_TIME], nonce,
        headers[HEADER_SIGNATURE],
    )


def check_signed_request(
    signed: SignedRequest,
    *,
    method: str,
    path: str,
    body: bytes,
    public_key: Ed25519PublicKey,
    now: dt.datetime,
) -> None:
    """Verify time window and signature (the nonce's freshness is the caller's: a database)."""
    if abs(now - signed.time) > MAX_SKEW:
        raise RequestAuthError(
            "stale_time",
            f"The request time {signed.time.isoformat()} is more than five minutes away from "
            "the hub's clock.",
        )
    message = signing_string(
        method, path, body, signed.node, signed.key_id, signed.time_text, signed.nonce
    )
    if not verify_b64(public_key, message, signed.signature):
        raise RequestAuthError("bad_signature", "The request signature does not verify.")

