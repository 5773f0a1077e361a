"""RFC 8785 canonical JSON, fast, for the values tongban signs on its hot path.

``rfc8785`` (pure Python) costs about as much per envelope as two Ed25519 verifications.
Inside the *message domain* orjson with ``OPT_SORT_KEYS`` writes the very same bytes at a
fraction of the cost (DESIGN.md, "The envelope"); tests/unit/schemas/test_fastcanon.py
proves the identity with a property test and measures the speed-up.

The message domain, checked on every call with exact type tests (subclasses such as enums,
tuples or other mappings take the reference path, whose output for them is the definition):

- ``dict`` whose keys are ASCII ``str``: orjson sorts keys by their UTF-8 bytes, RFC 8785 by
  UTF-16 code units, and the two orders agree on ASCII (they differ for keys mixing astral
  characters with U+E000..U+FFFF);
- ``list``;
- ``str`` (any Unicode text): both escape ``"``, ``\\``, and the controls below U+0020 alike
  (``\\b \\t \\n \\f \\r`` short, the rest as lowercase ``\\u00xx``) and write everything else
  as UTF-8;
- ``int`` with ``|i| <= 2**53 - 1``, ``bool`` and ``None``: both write the plain decimal
  integer, ``true``, ``false``, ``null``.

Floats are never in the domain: they fall back to :func:`schemas.canonical.canonical_bytes`,
which refuses them naming their path, as it refuses everything outside tongban's JSON.
"""

from __future__ import annotations

from typing import Any

import orjson

from schemas.canonical import MAX_SAFE_INTEGER, canonical_bytes

_SORTED = orjson.OPT_SORT_KEYS


def in_message_domain(obj: Any) -> bool:
    """Whether :func:`canonical` encodes ``obj`` with orjson (see the module docstring)."""
    # This walk is most of canonical()'s cost, hence the flat loop over an explicit stack
    # (no call per value, no recursion limit) and the scalar tests written out twice.
    pending = [obj]
    pop, push = pending.pop, pending.append
    while pending:
        value = pop()
        kind = type(value)
        if kind is dict:
            for key in value:
                if type(key) is not str or not key.isascii():
                    return False
            items = value.values()
        elif kind is list:
            items = value
        elif kind is str or kind is bool or value is None:
            continue
        elif kind is int:
            if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
                return False
            continue
        else:
            return False
        for item in items:
            item_kind = type(item)
            if item_kind is str or item_kind is bool or item is None:
                continue
            if item_kind is dict or item_kind is list:
                push(item)
            elif item_kind is int:
                if not -MAX_SAFE_INTEGER <= item <= MAX_SAFE_INTEGER:
                    return False
            else:
                return False
    return True


def canonical(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``obj``, identical to ``canonical_bytes(obj)``.

    Raises :class:`schemas.canonical.CanonicalError` (with the path) for floats, non-ASCII or
    non-string keys, integers beyond ±(2**53 - 1), lone surrogates and non-JSON types.
    """
    if in_message_domain(obj):
        try:
            return orjson.dumps(obj, option=_SORTED)
        except orjson.JSONEncodeError:
            # Lone surrogates, or nesting beyond orjson's limit: the reference encoder
            # either encodes the value or says precisely what is wrong with it.
            return canonical_bytes(obj)
    return canonical_bytes(obj)


def canonical_in_domain(obj: Any) -> bytes:
    """:func:`canonical` of a value the caller has already proved inside the message domain
    (:func:`in_message_domain`'s property: the envelope parser's flat pass over decoded
    JSON), without walking it again; anything else falls back to :func:`canonical`."""
    try:
        return orjson.dumps(obj, option=_SORTED)
    except orjson.JSONEncodeError:
        return canonical(obj)
