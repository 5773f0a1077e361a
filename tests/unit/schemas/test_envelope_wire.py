"""The wire of an envelope is spliced from its signed bytes (canonical JSON computed once on
the hub's hot path): byte for byte what encoding the whole wire object gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.envelope import Kind, parse_envelope, sign_envelope
from schemas.fastcanon import canonical
from tests.unit.schemas.test_envelope import ADDRESS, TOWNSHIP
from tests.unit.schemas.test_messages import VALID

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.mark.parametrize(
    ("kind", "make"),
    [pytest.param(kind, make, id=f"{kind.value}-{make.__name__}")
     for kind, makers in VALID.items() for make in makers],
)
def test_the_spliced_wire_is_the_canonical_wire(
    kind: Kind, make: Callable[[], dict[str, Any]]
) -> None:
    envelope = sign_envelope(kind=kind, sender="450981", to=ADDRESS.get(kind, TOWNSHIP),
                             seq=7, body=make(), private_key=KEY)
    assert envelope.wire_bytes() == canonical(envelope.to_wire())
    again = parse_envelope(envelope.wire_bytes())
    assert again.wire_bytes() == envelope.wire_bytes()
    assert again.unsigned_bytes() == envelope.unsigned_bytes()


@settings(max_examples=200, deadline=None)
@given(seq=st.integers(1, 2**53 - 1),
       ts=st.sampled_from(["2026-12-06T10:00:00+08:00", "2026-12-06T02:00:00.123456Z",
                           "2026-12-06T02:00:00-05:30"]),
       note=st.text(max_size=40))
def test_the_splice_holds_for_any_seq_time_and_text(seq: int, ts: str, note: str) -> None:
    body = VALID[Kind.CASE_UPDATE][0]()
    body["note"] = note
    envelope = sign_envelope(kind=Kind.CASE_UPDATE, sender="450981", to=TOWNSHIP, seq=seq,
                             ts=ts, body=body, private_key=KEY)
    assert envelope.wire_bytes() == canonical(envelope.to_wire())
