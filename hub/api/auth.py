"""Signed requests: the only way a node gets in (schemas/request_signing.py).

The caller's key must be trusted at the hub's time, the request time within five minutes of
the hub's clock, the signature good and the nonce new — nonces live in the database, in the
request's own transaction, so every hub process agrees.  Refusals are 401 with ``code`` (and
``details.reason``) one of: ``unsigned``, ``bad_time``, ``bad_nonce``, ``not_enrolled``,
``unknown_key``, ``revoked_key``, ``expired_key``, ``key_not_yet_valid``, ``untrusted_key``,
``stale_time``, ``bad_signature``, ``replayed_nonce``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app, g, request

from hub.registry.service import load_trust_store, registry_version
from hub.relay.service import key_reason, remember_nonce
from schemas.certificates import TrustError, TrustStore
from schemas.database import mark_writing, utcnow
from schemas.request_signing import (
    RequestAuthError,
    check_signed_request,
    read_signed_headers,
)
from schemas.webapp import current_session


@dataclass(frozen=True)
class Caller:
    """The node that signed the request, the hub's time of it, and the trust store."""

    node: str
    now: dt.datetime
    store: TrustStore


def hub_clock() -> dt.datetime:
    clock: Callable[[], dt.datetime] = current_app.extensions.get("hub_clock", utcnow)
    return clock()


TRUST_CACHE = "tongban_trust_cache"


def request_store() -> TrustStore:
    """The trust store of this request: a copy of this process's verified store while the
    database holds the same certificates and revocations, rebuilt from it otherwise.

    Rebuilding re-verifies every certificate's signature (about 1,000 of them for a province,
    0.1 s); comparing the registry's version costs two primary-key reads.  The copy keeps what
    a batch adds on trust from reaching the cache before it is committed.
    """
    settings = current_app.config["TONGBAN"]
    session = current_session()
    version = registry_version(session)
    cached = current_app.extensions.get(TRUST_CACHE)
    if cached is None or cached[0] != version:
        store = load_trust_store(session, settings["root_code"], settings["root_public_key"])
        cached = (version, store)
        current_app.extensions[TRUST_CACHE] = cached
    return cached[1].copy()


def signed_path() -> str:
    """The path and query exactly as the node signed them."""
    query = request.query_string.decode("latin-1")
    return request.path + (f"?{query}" if query else "")


def authenticate(*, root_bootstrap: bool = False) -> Caller:
    """Check the request's signature and nonce; the calling node.

    With ``root_bootstrap``, the province may sign with the trust root key itself (before
    any certificate of its operating key is stored, it has no other).
    """
    fresh = "db_session" not in g
    session = current_session()
    if fresh and request.method in ("GET", "HEAD"):
        mark_writing(session)  # the nonce is written even on a read
    store = request_store()
    signed = read_signed_headers(dict(request.headers))
    now = hub_clock()
    public_key: Ed25519PublicKey
    if root_bootstrap and signed.node == store.root_code and signed.key_id == store.root_key_id:
        public_key = store.root_key
    else:
        try:
            public_key = store.key_for(signed.node, signed.key_id, now)
        except TrustError as exc:
            raise RequestAuthError(key_reason(exc), exc.message) from exc
    check_signed_request(
        signed, method=request.method, path=signed_path(),
        body=request.get_data(cache=True), public_key=public_key, now=now,
    )
    if not remember_nonce(session, signed.node, signed.nonce, now):
        raise RequestAuthError("replayed_nonce", "This request's nonce was used before.")
    return Caller(signed.node, now, store)
