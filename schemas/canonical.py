"""RFC 8785 canonical JSON, restricted to tongban's message domain.

Everything tongban signs or chains (envelopes, audit entries) is hashed over these bytes, so
two parties must produce them identically from equal data. ``rfc8785`` is the reference
encoder; this module adds the rules of DESIGN.md on top of it:

- no floats anywhere: a float's canonical form depends on ECMAScript number formatting that
  other encoders get subtly wrong, and tongban carries rates as integer basis points anyway;
- object keys are ASCII strings, so key order (UTF-16 code units in RFC 8785) is plain byte order;
- integers stay within the range a JSON number represents exactly (±(2**53 - 1)).

String values may hold any Unicode text (names, addresses, reasons in Chinese).
Each refusal raises :class:`CanonicalError` naming the path of the offending value,
e.g. ``body.metrics.rate`` or ``body.items[2].name``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import rfc8785

# RFC 8785 (via I-JSON, RFC 7493) limits integers to those an IEEE 754 double holds exactly.
MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalError(ValueError):
    """A value outside the canonical JSON domain; ``path`` says where it is."""

    def __init__(self, path: str, problem: str) -> None:
        where = path or "the top-level value"
        super().__init__(f"{where}: {problem}")
        self.path = path
        self.problem = problem


def canonical_bytes(obj: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of ``obj``.

    ``obj`` is built from dicts (any ``Mapping``) with ASCII string keys, lists or tuples,
    strings, integers, booleans and ``None``. Floats, non-ASCII or non-string keys, integers
    beyond ±(2**53 - 1) and any other type raise :class:`CanonicalError` with the path.
    """
    normalised = _check(obj, "")
    try:
        return rfc8785.dumps(normalised)
    except rfc8785.CanonicalizationError as exc:
        # _check admits only what rfc8785 encodes, except strings it cannot encode as UTF-8
        # (lone surrogates), which it reports without a path.
        raise CanonicalError("", str(exc)) from exc


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _check(value: Any, path: str) -> Any:
    """Validate ``value`` and return it with every Mapping as a dict and tuple as a list.

    rfc8785 only walks real ``dict`` and ``list`` objects, so other containers are copied.
    """
    # bool before int: bool is an int subclass and must stay a JSON boolean
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise CanonicalError(path, f"integer {value} is outside ±(2**53 - 1)")
        return value
    if isinstance(value, float):
        raise CanonicalError(
            path, f"float {value!r} is not allowed (use integers, e.g. basis points)"
        )
    if isinstance(value, Mapping):
        checked: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CanonicalError(path, f"object key {key!r} is not a string")
            if not key.isascii():
                raise CanonicalError(_child(path, key), "object keys must be ASCII")
            checked[key] = _check(item, _child(path, key))
        return checked
    if isinstance(value, list | tuple):
        return [_check(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise CanonicalError(path, f"{type(value).__name__} is not a JSON type")
