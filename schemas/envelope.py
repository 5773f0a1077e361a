"""The signed envelope every message between centers travels in (DESIGN.md, "The envelope").

On the wire::

    {"v": 1, "id": "<uuid>", "kind": "summary", "from": "450981", "to": "hub", "seq": 42,
     "ts": "2026-11-29T12:00:00+08:00", "key_id": "…", "body": {…}, "sig": "<base64url>"}

``sig`` is Ed25519 over the RFC 8785 canonical JSON of the envelope without ``sig``
(:func:`schemas.fastcanon.canonical`), in base64url without padding.  Whoever relays an
envelope can change nothing in it unnoticed, the hub included.

:func:`parse_envelope` is strict, because a signature only protects what both sides read the
same way: the exact key set, exact types, one spelling of the id, an offset on every time.
Every refusal is an :class:`EnvelopeError` whose ``code`` says what kind of problem it is:

``too_large``       more than :data:`MAX_ENVELOPE_BYTES` of JSON text, or of canonical JSON
                    when it arrives as an already decoded object
``malformed``       not UTF-8, not JSON, not an object, or a field of the envelope is wrong
``too_deep``        nested deeper than :data:`MAX_DEPTH` levels
``unknown_version`` ``v`` is an integer other than :data:`ENVELOPE_VERSION`
``unknown_kind``    ``kind`` is not one of :class:`Kind`
``float_in_body``   a float anywhere in the body (tongban carries integers only)
``bad_body``        the body breaks its kind's schema (``details["fields"]`` says where)
``bad_signature``   the signature does not verify with the sender's key
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import re
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from schemas.canonical import MAX_SAFE_INTEGER, CanonicalError
from schemas.fastcanon import canonical, canonical_in_domain
from schemas.keys import KeyFormatError, b64url_decode, key_id, sign_b64, verify_b64
from schemas.kinds import (
    ADDRESSING,
    CODE_PATTERN,
    ENVELOPE_VERSION,
    HUB,
    KEY_ID_PATTERN,
    MAX_DEPTH,
    MAX_ENVELOPE_BYTES,
    SIGNATURE_LENGTH,
    SIGNATURE_PATTERN,
    TIMESTAMP_PATTERN,
    UUID_PATTERN,
    WIRE_KEYS,
    Addressing,
    EnvelopeError,
    Kind,
)
from schemas.messages import check_sender, validate_body

_UNREAD = object()
_CODE = re.compile(CODE_PATTERN)
_UUID = re.compile(UUID_PATTERN)
_KEY_ID = re.compile(KEY_ID_PATTERN)
_SIGNATURE = re.compile(SIGNATURE_PATTERN)
_TIMESTAMP = re.compile(TIMESTAMP_PATTERN)


@dataclasses.dataclass(frozen=True)
class Envelope:
    """One signed message; ``sender`` is the wire's ``from`` (a Python keyword)."""

    v: int
    id: str
    kind: Kind
    sender: str
    to: str
    seq: int
    ts: str
    key_id: str
    body: dict[str, Any] = dataclasses.field(hash=False)
    sig: str

    def _unsigned_wire(self) -> dict[str, Any]:
        return {
            "v": self.v,
            "id": self.id,
            # the plain value: fastcanon's fast path takes exact str only
            "kind": self.kind.value,
            "from": self.sender,
            "to": self.to,
            "seq": self.seq,
            "ts": self.ts,
            "key_id": self.key_id,
            "body": self.body,
        }

    def to_wire(self) -> dict[str, Any]:
        """The JSON object of the wire format, with ``from`` and ``sig``."""
        wire = self._unsigned_wire()
        wire["sig"] = self.sig
        return wire

    def unsigned_bytes(self) -> bytes:
        """The bytes the signature covers: canonical JSON of the wire object without ``sig``
        (computed once per envelope: verifying and storing it both need them)."""
        return self._unsigned

    @functools.cached_property
    def _unsigned(self) -> bytes:
        try:
            return canonical(self._unsigned_wire())
        except CanonicalError as exc:
            raise EnvelopeError("malformed", f"not canonical JSON: {exc}") from exc

    def wire_bytes(self) -> bytes:
        """The envelope as canonical JSON text, ``sig`` included, ready to send.

        Keys sort as ``body, from, id, key_id, kind, seq, sig, to, ts, v``, so the signed
        bytes end in ``,"to":…,"ts":…,"v":1}`` and ``sig`` goes just before that tail:
        the wire is spliced from :meth:`unsigned_bytes` instead of encoded a second time.
        """
        unsigned = self.unsigned_bytes()
        tail = b'"to":%s,"ts":%s,"v":%d}' % (
            orjson.dumps(self.to), orjson.dumps(self.ts), self.v)
        if type(self.v) is int and unsigned.endswith(b"," + tail):
            head = unsigned[:-len(tail)]
            return head + b'"sig":' + orjson.dumps(self.sig) + b"," + tail
        try:
            return canonical(self.to_wire())
        except CanonicalError as exc:
            raise EnvelopeError("malformed", f"not canonical JSON: {exc}") from exc

    @property
    def timestamp(self) -> dt.datetime:
        """``ts`` as an aware datetime."""
        return dt.datetime.fromisoformat(self.ts)

    @property
    def fanout_root(self) -> str | None:
        """For ``to`` = ``"<code>/*"``, the code whose descendants receive it; else None."""
        return self.to[:-2] if self.to.endswith("/*") else None


def parse_envelope(data: bytes | bytearray | str | Mapping[str, Any], *,
                   owned: bool = False) -> Envelope:
    """Check ``data`` (JSON text or an already decoded object) and return its envelope.

    Verifies the shape and the body, not the signature: look the sender's key up (by
    ``from`` and ``key_id``) and call :func:`verify_envelope`.  Raises :class:`EnvelopeError`.
    A decoded object is copied, unless ``owned``: the caller hands over a dict orjson
    decoded, which nothing changes afterwards (the hub's request body), and the envelope
    keeps it as it is when the flat pass admits it.
    """
    document: Any = _UNREAD
    checked = False  # the flat pass found the whole document within every limit
    if isinstance(data, bytes | bytearray):
        document = _decode(bytes(data))
    elif isinstance(data, str):
        try:
            encoded = data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise EnvelopeError("malformed", "the envelope text is not valid Unicode") from exc
        document = _decode(encoded)
    elif type(data) is dict and _plainly_within_limits(data):
        # decoded JSON already (the hub's request body): exact JSON types only and within
        # every limit, so no recursive scan is needed, and orjson copies it in C (it refuses
        # lone surrogates, which then take the slow path below and are named); an owned
        # document came from orjson, which decodes none, and needs no copy
        if owned:
            document, checked = data, True
        else:
            with contextlib.suppress(orjson.JSONEncodeError):
                document = orjson.loads(orjson.dumps(data))
                checked = True
    if document is _UNREAD and isinstance(data, Mapping):
        # a copy in plain dicts and lists: the caller's object may change or be a custom type
        _scan_depth(data, "", 1)
        document = _plain(data)
    elif document is _UNREAD:
        raise EnvelopeError("malformed", f"an envelope is JSON text or an object, not "
                                         f"{type(data).__name__}")
    if not isinstance(document, dict):
        raise EnvelopeError("malformed", "an envelope is a JSON object")
    # Decoded text holds only exact JSON types and no lone surrogates (orjson refuses them),
    # so one flat pass usually settles it; the recursive scans run to name what is wrong.
    checked = checked or (not isinstance(data, Mapping) and _plainly_within_limits(document))
    if not checked:
        _scan_depth(document, "", 1)
        body = document.get("body")
        if isinstance(body, dict):
            _scan_body(body, "body", 2)
    kind = _check_document(document, signed=True)
    envelope = Envelope(v=document["v"], id=document["id"], kind=kind, sender=document["from"],
                        to=document["to"], seq=document["seq"], ts=document["ts"],
                        key_id=document["key_id"], body=document["body"], sig=document["sig"])
    if checked:  # within fastcanon's domain, as the flat pass proved: no second walk
        envelope.__dict__["_unsigned"] = canonical_in_domain(envelope._unsigned_wire())
    # The limit holds for the envelope's canonical JSON, whatever form it came in: JSON text
    # was measured before decoding; a decoded object (the hub's request body, a mailbox item)
    # is measured here. The canonical bytes are computed once and cached: verifying the
    # signature and storing the envelope use them too, so this costs nothing extra there.
    size = len(envelope.unsigned_bytes()) + len(',"sig":""') + len(envelope.sig)
    if size > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(
            "too_large",
            f"the envelope has {size} bytes as canonical JSON; at most {MAX_ENVELOPE_BYTES} "
            "are accepted",
            {"size": size, "limit": MAX_ENVELOPE_BYTES},
        )
    return envelope


def sign_envelope(
    *,
    kind: Kind | str,
    sender: str,
    to: str,
    seq: int,
    body: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    ts: dt.datetime | str | None = None,
    id: uuid.UUID | str | None = None,
) -> Envelope:
    """Build and sign an envelope from ``sender`` (a division code) to ``to``.

    Everything is checked before anything is signed: a float anywhere in the body refuses it
    with code ``float_in_body`` naming the path (e.g. ``body.metrics.rate.value``); the body
    must pass its kind's schema and the envelope every rule :func:`parse_envelope` applies,
    size included.  ``ts`` defaults to now (UTC), ``id`` to a new random UUID.
    """
    envelope_kind = _as_kind(kind)
    if not isinstance(body, Mapping):
        raise EnvelopeError("bad_body", "a body is a JSON object",
                            {"fields": {"body": ["not an object"]}})
    _scan_depth(body, "body", 2)
    _scan_body(body, "body", 2)
    # The receiver sees exactly the JSON: tuples become lists, enums their values.
    plain_body = orjson.loads(canonical(body))
    if ts is None:
        timestamp = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    elif isinstance(ts, dt.datetime):
        if ts.tzinfo is None or ts.utcoffset() is None:
            raise EnvelopeError("malformed", "ts must be timezone-aware",
                                {"fields": {"ts": ["naive datetime"]}})
        timestamp = ts.isoformat()
    else:
        timestamp = ts
    envelope = Envelope(
        v=ENVELOPE_VERSION,
        id=str(uuid.uuid4()) if id is None else str(id),
        kind=envelope_kind,
        sender=sender,
        to=to,
        seq=seq,
        ts=timestamp,
        key_id=key_id(private_key.public_key()),
        body=plain_body,
        sig="",
    )
    _check_document(envelope._unsigned_wire(), signed=False)
    unsigned = envelope.unsigned_bytes()
    # the receiver would refuse it, so never sign it: ,"sig":"<86 characters>" adds 95 bytes
    size = len(unsigned) + len(',"sig":""') + SIGNATURE_LENGTH
    if size > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(
            "too_large",
            f"the envelope would have {size} bytes; at most {MAX_ENVELOPE_BYTES} are accepted",
            {"size": size, "limit": MAX_ENVELOPE_BYTES},
        )
    return dataclasses.replace(envelope, sig=sign_b64(private_key, unsigned))


def verify_envelope(envelope: Envelope, public_key: Ed25519PublicKey) -> None:
    """Raise ``EnvelopeError("bad_signature")`` unless ``public_key`` signed ``envelope``."""
    if key_id(public_key) != envelope.key_id:
        raise EnvelopeError(
            "bad_signature",
            f"the envelope names key {envelope.key_id}, not the key given ({key_id(public_key)})",
            {"key_id": envelope.key_id},
        )
    if not verify_b64(public_key, envelope.unsigned_bytes(), envelope.sig):
        raise EnvelopeError(
            "bad_signature",
            f"the signature of envelope {envelope.id} from {envelope.sender} does not verify "
            f"with key {envelope.key_id}",
            {"id": envelope.id, "from": envelope.sender, "key_id": envelope.key_id},
        )


# -- checks ---------------------------------------------------------------------------------


def _decode(raw: bytes) -> Any:
    if len(raw) > MAX_ENVELOPE_BYTES:
        raise EnvelopeError(
            "too_large",
            f"the envelope has {len(raw)} bytes; at most {MAX_ENVELOPE_BYTES} are accepted",
            {"size": len(raw), "limit": MAX_ENVELOPE_BYTES},
        )
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EnvelopeError(
            "malformed", f"the envelope is not UTF-8 (byte {exc.start} is invalid)"
        ) from exc
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth" in str(exc) or "recursion" in str(exc):
            raise EnvelopeError(
                "too_deep", f"the envelope is nested deeper than {MAX_DEPTH} levels"
            ) from exc
        raise EnvelopeError("malformed", f"the envelope is not JSON: {exc}") from exc


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _scan_depth(value: Any, path: str, depth: int) -> None:
    """Refuse objects and arrays nested more than MAX_DEPTH deep (``depth`` is ``value``'s,
    counting the envelope object as 1), before anything walks the tree recursively."""
    if isinstance(value, Mapping):
        items: Any = ((_child(path, str(key)), item) for key, item in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{index}]", item) for index, item in enumerate(value))
    else:
        return
    if depth > MAX_DEPTH:
        raise EnvelopeError(
            "too_deep",
            f"{path or 'the envelope'} is nested deeper than {MAX_DEPTH} levels",
            {"path": path, "limit": MAX_DEPTH},
        )
    for item_path, item in items:
        _scan_depth(item, item_path, depth + 1)


def _plainly_within_limits(document: dict[str, Any]) -> bool:
    """Whether decoded JSON nests at most MAX_DEPTH deep and holds no float, no non-ASCII
    key and no integer beyond ±(2**53 - 1) — anywhere, the envelope's own fields included."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            return False
        if type(value) is dict:
            for key in value:
                if not key.isascii():
                    return False
            items = value.values()
        else:
            items = value
        for item in items:
            kind = type(item)
            if kind is str or kind is bool or item is None:
                continue
            if kind is dict or kind is list:
                pending.append((item, depth + 1))
            elif kind is not int or not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                return False
    return True


def _body_problem(path: str, problem: str) -> EnvelopeError:
    return EnvelopeError("bad_body", f"{path}: {problem}", {"path": path, "fields": {
        path.removeprefix("body.").removeprefix("body"): [problem]}})


def _scan_body(value: Any, path: str, depth: int) -> None:
    """Refuse what canonical JSON cannot carry, naming the path; floats first and by name."""
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _body_problem(path, "text with a lone surrogate") from None
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise _body_problem(path, f"integer {value} is outside ±(2**53 - 1)")
        return
    if isinstance(value, float):
        raise EnvelopeError(
            "float_in_body",
            f"{path}: float {value!r} is not allowed in a body (use integers, "
            "e.g. basis points with numerator and denominator)",
            {"path": path},
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _body_problem(path, f"object key {key!r} is not a string")
            if not key.isascii():
                raise _body_problem(_child(path, key), "object keys must be ASCII")
            _scan_body(item, _child(path, key), depth + 1)
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _scan_body(item, f"{path}[{index}]", depth + 1)
        return
    raise _body_problem(path, f"{type(value).__name__} is not a JSON type")


def _as_kind(value: Any) -> Kind:
    try:
        return Kind(value)
    except ValueError:
        raise EnvelopeError(
            "unknown_kind",
            f"unknown envelope kind {value!r}; this program knows "
            f"{', '.join(k.value for k in Kind)}",
            {"kind": value if isinstance(value, str) else repr(value)},
        ) from None


def _matches(pattern: re.Pattern[str], value: Any) -> bool:
    return isinstance(value, str) and pattern.fullmatch(value) is not None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _timestamp_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        return "an RFC 3339 timestamp with an offset, e.g. 2026-11-29T12:00:00+08:00"
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return "not a real date and time"
    return None


def _address_problem(kind: Kind, to: Any) -> str | None:
    if not isinstance(to, str):
        return "a string"
    expected = ADDRESSING[kind]
    if to == HUB:
        shape = Addressing.HUB
    elif _CODE.fullmatch(to):
        shape = Addressing.NODE
    elif to.endswith("/*") and _CODE.fullmatch(to[:-2]):
        shape = Addressing.SUBTREE
    else:
        return '"hub", a division code, or "<code>/*"'
    if shape is not expected:
        wanted = {
            Addressing.HUB: '"hub"',
            Addressing.NODE: "one division code",
            Addressing.SUBTREE: '"<code>/*"',
        }[expected]
        return f"a {kind.value} envelope goes to {wanted}"
    return None


def _check_document(document: Mapping[str, Any], *, signed: bool) -> Kind:
    """Check every field of an envelope object and its body; return its kind."""
    if "v" not in document:
        raise EnvelopeError("malformed", "the envelope has no version (v)",
                            {"fields": {"v": ["missing"]}})
    version = document["v"]
    if not _is_int(version):
        raise EnvelopeError("malformed", "the envelope version (v) is not an integer",
                            {"fields": {"v": ["not an integer"]}})
    if version != ENVELOPE_VERSION:
        raise EnvelopeError(
            "unknown_version",
            f"envelope version {version} is not supported; this program reads version "
            f"{ENVELOPE_VERSION}",
            {"v": version, "supported": [ENVELOPE_VERSION]},
        )
    if not isinstance(document.get("kind"), str):
        raise EnvelopeError("malformed", "the envelope kind is missing or not a string",
                            {"fields": {"kind": ["missing or not a string"]}})
    kind = _as_kind(document["kind"])

    expected = set(WIRE_KEYS) if signed else set(WIRE_KEYS) - {"sig"}
    problems: dict[str, list[str]] = {}
    for key in document:
        if key not in expected:
            problems[str(key)] = ["unknown field"]
    for key in sorted(expected - set(document), key=WIRE_KEYS.index):
        problems[key] = ["missing"]

    def check(key: str, problem: str | None) -> None:
        if key in document and problem is not None:
            problems.setdefault(key, []).append(problem)

    check("id", None if _matches(_UUID, document.get("id"))
          else "a UUID in lowercase hex with hyphens")
    check("from", None if _matches(_CODE, document.get("from"))
          else "a 6- or 9-digit division code")
    check("to", _address_problem(kind, document.get("to")))
    seq: Any = document.get("seq")
    check("seq", None if _is_int(seq) and 1 <= seq <= MAX_SAFE_INTEGER
          else "an integer >= 1")
    check("ts", _timestamp_problem(document.get("ts")))
    check("key_id", None if _matches(_KEY_ID, document.get("key_id"))
          else "16 lowercase hex digits")
    check("body", None if isinstance(document.get("body"), Mapping) else "a JSON object")
    if signed:
        check("sig", _signature_problem(document.get("sig")))
    if problems:
        raise EnvelopeError(
            "malformed",
            "the envelope is malformed: " + "; ".join(
                f"{key}: {', '.join(reasons)}" for key, reasons in problems.items()),
            {"fields": problems},
        )

    validate_body(kind, document["body"])
    check_sender(kind, document["from"], document["body"])
    return kind


def _signature_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not _SIGNATURE.fullmatch(value):
        return "an Ed25519 signature in base64url without padding (86 characters)"
    try:
        b64url_decode(value)
    except KeyFormatError:
        return "not in the canonical base64url spelling"
    return None


def _plain(value: Any) -> Any:
    """``value`` with every Mapping a dict and tuple a list."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


__all__ = [
    "ADDRESSING",
    "CODE_PATTERN",
    "ENVELOPE_VERSION",
    "HUB",
    "KEY_ID_PATTERN",
    "MAX_DEPTH",
    "MAX_ENVELOPE_BYTES",
    "SIGNATURE_LENGTH",
    "SIGNATURE_PATTERN",
    "TIMESTAMP_PATTERN",
    "UUID_PATTERN",
    "WIRE_KEYS",
    "Addressing",
    "Envelope",
    "EnvelopeError",
    "Kind",
    "parse_envelope",
    "sign_envelope",
    "verify_envelope",
]
