"""The envelope's vocabulary, below every other wire module: its version and limits, the
patterns of its fields, the kinds with their addressing, and :class:`EnvelopeError`.

The envelope itself (schemas/envelope.py) checks each body against its kind's schema
(schemas/messages.py), and the message schemas name the kinds and patterns: both read them
from here, so neither imports the other in a circle.  schemas/envelope.py re-exports all of
it, the names every caller uses.
"""

from __future__ import annotations

import enum
from typing import Any

from schemas.errors import TongbanError

ENVELOPE_VERSION = 1
MAX_ENVELOPE_BYTES = 1024 * 1024
# Objects and arrays nested at most this deep: the envelope object is level 1, its body 2,
# and the deepest body (catalog.publish: matters, a matter, materials, a material) reaches 6;
# 32 leaves room to grow while bounding what a hostile document costs to walk.
MAX_DEPTH = 32
HUB = "hub"

WIRE_KEYS = ("v", "id", "kind", "from", "to", "seq", "ts", "key_id", "body", "sig")

# The wire's patterns, shared with the JSON Schemas of schemas/messages.py.  ASCII classes
# only, so ECMA-262 and Python read them alike; Python applies them with fullmatch.
CODE_PATTERN = "[0-9]{6}|[0-9]{9}"
UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
KEY_ID_PATTERN = "[0-9a-f]{16}"
SIGNATURE_LENGTH = 86  # 64 bytes in unpadded base64url
SIGNATURE_PATTERN = f"[A-Za-z0-9_-]{{{SIGNATURE_LENGTH}}}"
# RFC 3339: a full date, a time with seconds, an optional fraction and a required offset
TIMESTAMP_PATTERN = (
    "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,6})?"
    "(Z|[+-][0-9]{2}:[0-9]{2})"
)

class Kind(enum.StrEnum):
    """What an envelope carries; each kind has its own body schema (schemas/messages.py)."""

    SUMMARY = "summary"
    CASE_FORWARD = "case.forward"
    CASE_RESULT = "case.result"
    CASE_UPDATE = "case.update"
    DIRECTIVE = "directive"
    DIRECTIVE_REPLY = "directive.reply"
    COMPLAINT_FORWARD = "complaint.forward"
    COMPLAINT_REPLY = "complaint.reply"
    CATALOG_PUBLISH = "catalog.publish"
    CALENDAR_PUBLISH = "calendar.publish"
    CERT = "cert"
    REVOKE = "revoke"
    AUDIT_RESPONSE = "audit.response"


class Addressing(enum.StrEnum):
    """The shape of ``to`` a kind takes."""

    HUB = "hub"  # "hub": for the hub itself (summaries, certificates, revocations, audits)
    NODE = "node"  # one division code
    SUBTREE = "subtree"  # "<code>/*": every descendant of the code


ADDRESSING: dict[Kind, Addressing] = {
    Kind.SUMMARY: Addressing.HUB,
    Kind.CASE_FORWARD: Addressing.NODE,
    Kind.CASE_RESULT: Addressing.NODE,
    Kind.CASE_UPDATE: Addressing.NODE,
    Kind.DIRECTIVE: Addressing.NODE,
    Kind.DIRECTIVE_REPLY: Addressing.NODE,
    Kind.COMPLAINT_FORWARD: Addressing.NODE, Kind.COMPLAINT_REPLY: Addressing.NODE,
    Kind.CATALOG_PUBLISH: Addressing.SUBTREE,
    Kind.CALENDAR_PUBLISH: Addressing.SUBTREE,
    Kind.CERT: Addressing.HUB,
    Kind.REVOKE: Addressing.HUB,
    Kind.AUDIT_RESPONSE: Addressing.HUB,
}


class EnvelopeError(TongbanError, ValueError):
    """An envelope or body refused; ``code`` is one of those in the module docstring."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message, details)
        self.code = code


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
    "EnvelopeError",
    "Kind",
]
