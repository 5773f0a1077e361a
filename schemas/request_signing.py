"""Signed HTTP requests from a node to the hub: RFC 9421 HTTP Message Signatures.

The profile (docs/sync.md, "Requests to the hub"), so that anyone can write a client from the
RFCs alone:

- algorithm Ed25519 (``alg="ed25519"``), the node's own key; ``keyid`` is
  ``"<division code>:<key id>"`` (the key id as in the registry: the first 16 hex digits of
  SHA-256 of the raw public key), so the hub finds the key in the registry;
- covered components ``"@method" "@path" "@query"`` and, when the request has a body,
  ``"content-digest"``: an RFC 9530 ``Content-Digest`` with ``sha-256`` of the body;
- parameters ``created`` and ``expires`` (UNIX seconds; the node signs ``expires`` five
  minutes after ``created``), ``nonce`` (16 to 64 characters, never used twice), ``keyid``
  and ``alg``; exactly one signature.

The hub refuses a ``created`` more than five minutes away from its own clock, an ``expires``
that has passed, and a nonce it has seen (nonces live in the hub's database, so every hub
process agrees).  The signature base is built and verified by ``http-message-signatures``;
this module fixes the profile and names each refusal.  There is no other way in for a node.
The former ``X-Tongban-*`` headers are refused with ``old_signature_format``.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from http_message_signatures.exceptions import HTTPMessageSignaturesException

from schemas.errors import Unauthorized
from schemas.keys import key_id as key_id_of

MAX_SKEW = dt.timedelta(minutes=5)
ALGORITHM = "ed25519"
LABEL = "tongban"
SIGNATURE_INPUT = "Signature-Input"
SIGNATURE = "Signature"
CONTENT_DIGEST = "Content-Digest"
COVERED = ("@method", "@path", "@query")
COVERED_WITH_BODY = (*COVERED, "content-digest")
# the headers of the signing string used before RFC 9421: refused by name
OLD_HEADERS = ("X-Tongban-Signature", "X-Tongban-Node", "X-Tongban-Key")
# any origin: neither @authority nor @scheme is covered (the hub sits behind nginx, which may
# rewrite both); the resolver only needs an absolute URL to find the path and the query in
ORIGIN = "http://hub"
KEYID_PATTERN = re.compile(r"^(?P<node>[0-9]{6}|[0-9]{9}):(?P<key>[0-9a-f]{16})$")
PARAMETERS = frozenset({"alg", "created", "expires", "keyid", "nonce"})


class RequestAuthError(Unauthorized):
    """A signed request that cannot be accepted; ``code`` says why."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message, {"reason": code})
        self.code = code


@dataclass
class _Message:
    """What the RFC 9421 library reads of a request: method, absolute URL, headers."""

    method: str
    url: str
    headers: dict[str, str]


class _OneKey(HTTPSignatureKeyResolver):
    def __init__(self, keyid: str, private: Ed25519PrivateKey | None = None,
                 public: Ed25519PublicKey | None = None) -> None:
        self.keyid, self.private, self.public = keyid, private, public

    def resolve_private_key(self, key_id: str) -> Ed25519PrivateKey:
        if key_id != self.keyid or self.private is None:
            raise KeyError(key_id)
        return self.private

    def resolve_public_key(self, key_id: str) -> Ed25519PublicKey | None:
        return self.public if key_id == self.keyid else None


class _Verifier(HTTPMessageVerifier):
    """The library's verifier with the time checks left to :func:`check_signed_request`,
    which uses the hub's clock (the library would use the machine's)."""

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        return None


def request_keyid(node: str, public_key: Ed25519PublicKey) -> str:
    """The ``keyid`` a node signs with: its code and its key id."""
    return f"{node}:{key_id_of(public_key)}"


def sign_request(
    *,
    method: str,
    path: str,
    body: bytes,
    node: str,
    private_key: Ed25519PrivateKey,
    now: dt.datetime,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers that authenticate one request (``path`` includes the query string):
    ``Signature-Input``, ``Signature`` and, with a body, ``Content-Digest``."""
    keyid = request_keyid(node, private_key.public_key())
    message = _Message(method.upper(), ORIGIN + path, {})
    signer = HTTPMessageSigner(signature_algorithm=algorithms.ED25519,
                               key_resolver=_OneKey(keyid, private=private_key))
    created = now.astimezone(dt.UTC).replace(microsecond=0)
    signer.sign(message, key_id=keyid, created=created, expires=created + MAX_SKEW,
                nonce=nonce or secrets.token_urlsafe(18), label=LABEL,
                covered_component_ids=COVERED, body=body or None)
    return message.headers


@dataclass(frozen=True)
class SignedRequest:
    """The signature parameters of a request, read but not yet verified."""

    node: str
    key_id: str
    created: dt.datetime
    expires: dt.datetime
    nonce: str
    label: str
    covered: tuple[str, ...]


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _dictionary(value: str, name: str) -> dict[str, Any]:
    try:
        parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise RequestAuthError("bad_signature_input",
                               f"{name} is not an RFC 8941 dictionary.") from exc
    if not isinstance(parsed, dict) or len(parsed) != 1:
        raise RequestAuthError("bad_signature_input",
                               f"{name} must hold exactly one signature.")
    return parsed


def read_signed_headers(headers: Mapping[str, str]) -> SignedRequest:
    """The RFC 9421 signature parameters of a request; RequestAuthError when they are
    missing, malformed or outside the profile (see the module docstring)."""
    signature_input = _header(headers, SIGNATURE_INPUT)
    signature = _header(headers, SIGNATURE)
    if not signature_input or not signature:
        if any(_header(headers, old) for old in OLD_HEADERS):
            raise RequestAuthError(
                "old_signature_format",
                "The X-Tongban-* request signature is no longer accepted: sign requests per "
                "RFC 9421 (Signature-Input, Signature, Content-Digest; docs/sync.md). "
                "Update the node.")
        raise RequestAuthError(
            "unsigned", "This endpoint needs a request signed per RFC 9421; missing "
            + ", ".join(name for name, value in ((SIGNATURE_INPUT, signature_input),
                                                 (SIGNATURE, signature)) if not value) + ".")
    inputs = _dictionary(signature_input, SIGNATURE_INPUT)
    signatures = _dictionary(signature, SIGNATURE)
    label = next(iter(inputs))
    if label not in signatures:
        raise RequestAuthError("bad_signature_input",
                               "Signature-Input and Signature name different labels.")
    members, params = inputs[label]
    if not isinstance(members, list) or not isinstance(signatures[label][0], bytes):
        raise RequestAuthError("bad_signature_input",
                               "Signature-Input must be an inner list, Signature a byte sequence.")
    covered = tuple(member for member, member_params in members
                    if isinstance(member, str) and not member_params)
    if len(covered) != len(members):
        raise RequestAuthError("bad_signature_input",
                               "Every covered component must be a string without parameters.")
    unknown = sorted(set(params) - PARAMETERS)
    missing = sorted(PARAMETERS - set(params))
    if unknown or missing:
        raise RequestAuthError(
            "bad_signature_input",
            "The signature needs exactly the parameters alg, created, expires, keyid and nonce "
            f"(missing: {', '.join(missing) or 'none'}; unknown: {', '.join(unknown) or 'none'}).")
    if params["alg"] != ALGORITHM:
        raise RequestAuthError("bad_algorithm",
                               f'The signature algorithm must be "{ALGORITHM}".')
    keyid = params["keyid"]
    match = KEYID_PATTERN.match(keyid) if isinstance(keyid, str) else None
    if match is None:
        raise RequestAuthError("bad_signature_input",
                               'keyid must be "<division code>:<16 hex digit key id>".')
    nonce = params["nonce"]
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 64:
        raise RequestAuthError("bad_nonce", "The nonce must be a string of 16 to 64 characters.")
    times = []
    for name in ("created", "expires"):
        value = params[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise RequestAuthError("bad_time", f"{name} must be an integer (UNIX seconds).")
        try:
            times.append(dt.datetime.fromtimestamp(value, dt.UTC))
        except (OverflowError, OSError, ValueError) as exc:
            raise RequestAuthError("bad_time", f"{name} is not a time.") from exc
    if times[1] <= times[0]:
        raise RequestAuthError("bad_time", "expires must be after created.")
    return SignedRequest(match["node"], match["key"], times[0], times[1], nonce, label, covered)


def check_signed_request(
    signed: SignedRequest,
    *,
    method: str,
    path: str,
    body: bytes,
    headers: Mapping[str, str],
    public_key: Ed25519PublicKey,
    now: dt.datetime,
) -> None:
    """Verify the time window, the covered components, the signature and the body's digest
    (the nonce's freshness is the caller's: a database).  ``path`` is the request target as
    sent: the path with its query."""
    if abs(now - signed.created) > MAX_SKEW:
        raise RequestAuthError(
            "stale_time",
            f"The request was signed at {signed.created.isoformat()}, more than five minutes "
            "away from the hub's clock.")
    if now > signed.expires:
        raise RequestAuthError("expired_signature",
                               f"The request's signature expired at {signed.expires.isoformat()}.")
    required = COVERED_WITH_BODY if body else COVERED
    missing = [name for name in required if name not in signed.covered]
    if missing:
        raise RequestAuthError("missing_component",
                               f"The signature must cover {', '.join(missing)}.")
    derived = sorted(name for name in signed.covered
                     if name.startswith("@") and name not in COVERED)
    if derived:
        raise RequestAuthError(
            "bad_signature_input",
            f"The hub covers only @method, @path and @query, not {', '.join(derived)}.")
    message = _Message(method, ORIGIN + path, dict(headers))
    keyid = f"{signed.node}:{signed.key_id}"
    verifier = _Verifier(signature_algorithm=algorithms.ED25519,
                         key_resolver=_OneKey(keyid, public=public_key))
    try:
        results = verifier.verify(message, max_age=None)
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        raise RequestAuthError("bad_signature", "The request signature does not verify.") from exc
    try:  # content-digest is covered whenever there is a body (missing_component above)
        ContentDigest.verify_components(results[0].covered_components, body)
    except (InvalidSignature, HTTPMessageSignaturesException) as exc:
        raise RequestAuthError(
            "digest_mismatch", "The body does not match the signed Content-Digest.") from exc
