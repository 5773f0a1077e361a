"""Hostile bytes against the envelope parser and verifier (schemas/envelope.py).

Whatever arrives — random bytes, random JSON, a signed envelope with bytes flipped, inserted
or cut, fields replaced by arbitrary values — the parser either refuses it with an
:class:`EnvelopeError` (a stable code) or yields an envelope that then fails verification,
unless the change left the signed document exactly as it was.  No other exception escapes,
and nothing altered ever verifies.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from schemas.envelope import EnvelopeError, Kind, parse_envelope, sign_envelope, verify_envelope
from schemas.keys import generate_private_key

KEY = generate_private_key()
SIGNED = sign_envelope(kind=Kind.DIRECTIVE, sender="450981", to="450981101", seq=7,
                       body={"directive_id": "0b7c8e9e-5f7a-4c3e-9d55-3f0d5c0e2a11",
                             "subject": "text", "case_number": None, "metric": None,
                             "text": "请说明本月超期件情况", "due_on": "2026-12-10",
                             "issued_by": "chief"},
                       private_key=KEY)
WIRE = SIGNED.to_wire()
RAW = orjson.dumps(WIRE)
FIELDS = sorted(WIRE)
FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=20,
)


def _outcome(data: Any) -> str:
    """'refused' (EnvelopeError at parse), 'forged' (parsed but the signature fails), or
    'same' (parsed and verified: only allowed when the document is the one signed)."""
    try:
        envelope = parse_envelope(data)
    except EnvelopeError as exc:
        code = exc.code
        assert code
        return "refused"
    try:
        verify_envelope(envelope, KEY.public_key())
    except EnvelopeError as exc:
        code = exc.code
        assert code == "bad_signature"
        return "forged"
    assert envelope.to_wire() == WIRE, "an altered envelope verified"
    return "same"


def test_the_original_verifies() -> None:
    assert _outcome(RAW) == "same"


@FUZZ
@given(st.binary(max_size=2048))
def test_random_bytes_are_refused(data: bytes) -> None:
    assert _outcome(data) == "refused"


@FUZZ
@given(json_values)
def test_random_json_is_refused(value: Any) -> None:
    assert _outcome(orjson.dumps(value)) == "refused"


@FUZZ
@given(st.data())
def test_mutated_bytes_never_verify_unless_unchanged(data: st.DataObject) -> None:
    raw = bytearray(RAW)
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.integers(0, len(raw) - 1))
        action = data.draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip":
            raw[where] ^= data.draw(st.integers(1, 255))
        elif action == "insert":
            raw[where:where] = data.draw(st.binary(min_size=1, max_size=8))
        elif action == "delete":
            del raw[where]
        else:
            del raw[where:]
        if not raw:
            break
    assume(bytes(raw) != RAW)
    assert _outcome(bytes(raw)) in {"refused", "forged", "same"}


@FUZZ
@given(st.sampled_from(FIELDS), json_values)
def test_any_field_replaced_is_refused_or_fails_verification(field: str, value: Any) -> None:
    assume(value != WIRE[field])
    assert _outcome({**WIRE, field: value}) in {"refused", "forged"}


@FUZZ
@given(st.sampled_from([f for f in FIELDS if f != "sig"]))
def test_a_missing_field_is_refused(field: str) -> None:
    assert _outcome({k: v for k, v in WIRE.items() if k != field}) == "refused"


@FUZZ
@given(st.text(max_size=30), json_values)
def test_an_extra_field_is_refused(name: str, value: Any) -> None:
    assume(name not in WIRE)
    assert _outcome({**WIRE, name: value}) == "refused"


@FUZZ
@given(st.sampled_from(sorted(WIRE["body"])), json_values)
def test_a_body_field_replaced_never_verifies(field: str, value: Any) -> None:
    assume(value != WIRE["body"][field])
    body = {**WIRE["body"], field: value}
    assert _outcome({**WIRE, "body": body}) in {"refused", "forged"}


def test_invalid_utf8_and_deep_nesting_are_refused() -> None:
    assert _outcome(RAW.replace("请".encode(), b"\xff\xfe\xfd")) == "refused"
    deep: Any = "x"
    for _ in range(200):
        deep = {"a": deep}
    assert _outcome({**WIRE, "body": {**WIRE["body"], "text": deep}}) == "refused"
    assert _outcome(b"[" * 100_000 + b"]" * 100_000) == "refused"
    assert _outcome(b'{"v": 1, "pad": "' + b"x" * (2 * 1024 * 1024) + b'"}') == "refused"
