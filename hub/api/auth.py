"""Signed requests (RFC 9421): the only way a node gets in (schemas/request_signing.py).

The caller's key must be trusted at the hub's time, the request time within five minutes of
the hub's clock, the signature good and the nonce new — nonces live in the database, in the
request's own transaction, so every hub process agrees.  Refusals are 401 with ``code`` (and
``details.reason``) one of: ``unsigned``, ``old_signature_format``, ``bad_signature_input``,
``bad_algorithm``, ``bad_time``, ``bad_nonce``, ``not_enrolled``, ``unknown_key``,
``revoked_key``, ``expired_key``, ``key_not_yet_valid``, ``untrusted_key``, ``stale_time``,
``expired_signature``, ``missing_component``, ``bad_signature``, ``digest_mismatch``,
``replayed_nonce``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app, g, request
from sqlalchemy.orm import Session

from hub.composition import HubServices
from hub.registry.service import VERSION_SUBQUERY, TrustCache
from hub.relay.service import key_reason, remember_nonce
from schemas.certificates import TrustError
from schemas.request_signing import (
    RequestAuthError,
    SignedRequest,
    check_signed_request,
    read_signed_headers,
)
from schemas.runtime.database import mark_writing, utcnow
from schemas.runtime.webapp import current_session
from schemas.trust import TrustStore


@dataclass(frozen=True)
class Caller:
    """The node that signed the request, the hub's time of it, and the trust store."""

    node: str
    now: dt.datetime
    store: TrustStore


def hub_clock() -> dt.datetime:
    clock: Callable[[], dt.datetime] = current_app.extensions.get("hub_clock", utcnow)
    return clock()


def services() -> HubServices:
    """The hub's services, built once per process by the composition root."""
    return HubServices.of_app(current_app.extensions)


def trust_cache() -> TrustCache:
    """This process's :class:`TrustCache` (one per app, so per gunicorn worker)."""
    return services().trust_cache


def request_store() -> TrustStore:
    """The trust store of this request: a view of this process's verified store, brought up
    to the stored registry version (one primary-key read when nothing changed).  What a
    batch adds on trust stays in the view, so it never reaches the store before it commits.
    """
    return services().trust_store(current_session())


def signed_path() -> str:
    """The request target as sent (path and query, still percent-encoded): what
    ``@path`` and ``@query`` cover.  Gunicorn and Werkzeug keep it in ``RAW_URI``."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if isinstance(raw, str) and raw.startswith("/"):
        return raw
    query = request.query_string.decode("latin-1")
    return quote(request.script_root + request.path) + (f"?{query}" if query else "")


def authenticate(*, root_bootstrap: bool = False) -> Caller:
    """Check the request's signature and nonce; the calling node.

    With ``root_bootstrap``, the province may sign with the trust root key itself (before
    any certificate of its operating key is stored, it has no other).

    The request is checked against the trust store this process keeps, and the nonce's
    statement reads the registry's version on the way (:func:`remember_nonce`): one round
    trip for both.  When the version moved, or the kept store refuses the request, the
    request is judged again against the store at the stored version, so that the answer is
    what a store read first would have given (docs/scale.md, "Hub ingest").
    """
    fresh = "db_session" not in g
    session = current_session()
    if fresh and request.method in ("GET", "HEAD"):
        mark_writing(session)  # the nonce is written even on a read
    cache = trust_cache()
    cache.require_root()
    signed = read_signed_headers(dict(request.headers))
    now = hub_clock()
    kept = cache.kept()
    if kept is not None:
        store = kept[1].view()
        try:
            _check(signed, store, now, root_bootstrap=root_bootstrap)
        except RequestAuthError:
            pass  # the kept store may be behind: judged on the stored one below
        else:
            version = _remember_nonce(session, signed.node, signed.nonce, now)
            if version == kept[0]:
                return Caller(signed.node, now, store)
            store = cache.current(session, version).view()
            _check(signed, store, now, root_bootstrap=root_bootstrap)
            if version is None:
                raise _replayed()
            return Caller(signed.node, now, store)
    store = request_store()
    _check(signed, store, now, root_bootstrap=root_bootstrap)
    if _remember_nonce(session, signed.node, signed.nonce, now) is None:
        raise _replayed()
    return Caller(signed.node, now, store)


def _remember_nonce(session: Session, node: str, nonce: str, now: dt.datetime) -> int | None:
    """The nonce recorded and the registry's version read, one statement; None: a replay."""
    version = remember_nonce(session, node, nonce, now, VERSION_SUBQUERY)
    return None if version is None else int(version)


def _replayed() -> RequestAuthError:
    return RequestAuthError("replayed_nonce", "This request's nonce was used before.")


def _check(signed: SignedRequest, store: TrustStore, now: dt.datetime, *,
           root_bootstrap: bool) -> None:
    """The request's key is trusted by ``store`` at ``now`` and its signature is good."""
    public_key: Ed25519PublicKey
    if root_bootstrap and signed.node == store.root_code and signed.key_id == store.root_key_id:
        public_key = store.root_key
    else:
        try:
            public_key = store.key_for(signed.node, signed.key_id, now)
        except TrustError as exc:
            raise RequestAuthError(key_reason(exc), exc.message) from exc
    check_signed_request(
        signed, method=request.method, path=signed_path(), body=request.get_data(cache=True),
        headers=dict(request.headers), public_key=public_key, now=now,
    )
