"""The fast canonical encoder (schemas/fastcanon.py) against the reference, ``rfc8785``.

DESIGN.md lets the hot path use orjson only where a property test proves it byte-identical to
``rfc8785`` over the message domain; the properties below are that proof: nested objects and
arrays, ASCII keys including control characters, any Unicode text (astral characters, controls,
U+2028/U+2029, noncharacters), integers up to ±(2**53 - 1), booleans and nulls.  They also
check that every such value really takes the fast path, and that anything else (floats first
of all) goes to the reference path and fares exactly as there.

Speed, measured on the development machine (Python 3.11, orjson 3.13, rfc8785 0.1.4) for a
2,289-byte summary envelope (20 rate metrics), best of 5 × 2,000 calls::

    rfc8785.dumps                 143 µs
    schemas.canonical.canonical_bytes  178 µs   (its own domain check, then rfc8785)
    schemas.fastcanon.canonical    13 µs   (11 µs of it the domain check, 2 µs orjson)

so about 11 times faster than ``rfc8785`` and 13 times faster than ``canonical_bytes``, and well
below one Ed25519 verification.  No assertion here depends on timing; to measure again::

    python -m timeit -s "from tests.unit.schemas.test_fastcanon import sample_envelope; \\
        from schemas.fastcanon import canonical; v = sample_envelope()" "canonical(v)"
"""

from __future__ import annotations

import enum
import random
import re
from collections import OrderedDict
from types import MappingProxyType
from typing import Any

import orjson
import pytest
import rfc8785
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from schemas.canonical import MAX_SAFE_INTEGER, CanonicalError, canonical_bytes
from schemas.envelope import (
    Kind,
    _plainly_within_limits,
    parse_envelope,
    sign_envelope,
    verify_envelope,
)
from schemas.fastcanon import canonical, canonical_in_domain, in_message_domain
from schemas.keys import generate_private_key
from tests.bench.enrolment import summary_body
from tests.conftest import examples

# -- the message domain, as strategies ---------------------------------------------------------

# Characters where encoders tend to differ: escapes, controls, the line separators JavaScript
# once treated as newlines, a BOM, noncharacters, the edges of the BMP and of Unicode.
TRICKY_CHARACTERS = [
    *map(chr, range(0x20)), '"', "\\", "/", "\x7f", "\x80", "\xa0", "\u2028", "\u2029",
    "\ufeff", "\ud7ff", "\ue000", "\ufffd", "\ufffe", "\uffff", "\U00010000", "\U0001f600",
    "\U0010ffff", "é", "中", "𠀀",
]
SAFE_INTEGER_EDGES = [0, 1, -1, 2**31, -(2**31), 2**32, 2**53 - 1, -(2**53 - 1), 2**52 + 1]

ascii_keys = st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=8)
texts = st.text() | st.text(alphabet=st.sampled_from(TRICKY_CHARACTERS), max_size=12)
integers = st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER) | st.sampled_from(SAFE_INTEGER_EDGES)
scalars = st.none() | st.booleans() | integers | texts
message_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=6)
    | st.dictionaries(ascii_keys, children, max_size=6),
    max_leaves=60,
)
message_objects = st.dictionaries(ascii_keys, message_values, max_size=8)


@settings(max_examples=examples(1000), deadline=None)
@given(message_values)
def test_fast_path_is_byte_identical_to_rfc8785(value: Any) -> None:
    assert in_message_domain(value)
    assert canonical(value) == rfc8785.dumps(value)


@settings(max_examples=examples(200), deadline=None)
@given(message_objects)
def test_objects_with_many_ascii_keys_sort_alike(value: dict[str, Any]) -> None:
    # key order is where orjson (UTF-8 bytes) and RFC 8785 (UTF-16 units) could part ways
    assert canonical(value) == rfc8785.dumps(value)
    assert canonical(value) == canonical_bytes(value)


@settings(max_examples=examples(300), deadline=None)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=4), max_size=20))
def test_any_text_in_any_position(strings: list[str]) -> None:
    value = {"s": strings, "k": {str(index): text for index, text in enumerate(strings)}}
    assert canonical(value) == rfc8785.dumps(value)


def sample_envelope() -> dict[str, Any]:
    """The 2,289-byte summary envelope the module docstring's timings are for."""
    return {
        "v": 1, "id": "0b6f2f6e-3c0e-4f64-9a43-1b1c2f3f4e5d", "kind": "summary",
        "from": "450981", "to": "hub", "seq": 42, "ts": "2026-11-29T12:00:00+08:00",
        "key_id": "21fe31dfa154a261",
        "body": {
            "schema": "tongban.summary", "version": 1,
            "node": {"code": "450981", "name": "北流市政务服务中心", "level": "county",
                     "kind": "county_city", "parent": "450900"},
            "period": {"kind": "month", "label": "2026-11", "start": "2026-11-01",
                       "end": "2026-11-30"},
            "computed_at": "2026-12-02T02:00:00+00:00", "final": True,
            "metrics": {
                f"metric_{i:02d}": {"unit": "basis_points", "numerator": 10 * i,
                                    "denominator": 12 * i + 1, "value": 8333}
                for i in range(20)
            },
            "catalog": {"should_enter": 650, "entered": 499, "entered_of_should": 499,
                        "authorized": dict.fromkeys(
                            ("accept", "review", "coordinate", "deliver", "litigate", "issue",
                             "approve"), 1)},
        },
    }


def test_a_real_envelope_takes_the_fast_path() -> None:
    envelope = sample_envelope()
    assert in_message_domain(envelope)
    encoded = canonical(envelope)
    assert len(encoded) == 2289
    assert encoded == rfc8785.dumps(envelope)


# -- outside the domain: the reference path, refusals included ---------------------------------

_NAME = re.compile(r"[a-z_]+")
float_keys = st.from_regex(_NAME, fullmatch=True).filter(lambda key: len(key) <= 6)
values_with_floats = st.recursive(
    st.none() | st.booleans() | integers | st.text(max_size=4) | st.floats(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(float_keys, children, max_size=4),
    max_leaves=30,
)


def _contains_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(_contains_float(item) for item in value.values())
    if isinstance(value, list):
        return any(_contains_float(item) for item in value)
    return False


def _at(value: Any, path: str) -> Any:
    for key, index in re.findall(r"([a-z_]+)|\[(\d+)\]", path):
        value = value[key] if key else value[int(index)]
    return value


@settings(max_examples=examples(300), deadline=None)
@given(values_with_floats)
def test_floats_anywhere_are_refused_with_their_path(value: Any) -> None:
    assume(_contains_float(value))
    assert not in_message_domain(value)
    with pytest.raises(CanonicalError, match="float") as caught:
        canonical(value)
    assert isinstance(_at(value, caught.value.path), float)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (0.0, ""),
        ({"rate": 0.5}, "rate"),
        ({"metrics": {"on_time": {"value": 98.5}}}, "metrics.on_time.value"),
        ({"items": [1, 2, float("nan")]}, "items[2]"),
        ([{"a": [float("inf")]}], "[0].a[0]"),
    ],
)
def test_float_refusals_name_the_path(value: Any, path: str) -> None:
    with pytest.raises(CanonicalError, match="float") as caught:
        canonical(value)
    assert caught.value.path == path


class State(enum.StrEnum):
    ACCEPTED = "accepted"


class Level(enum.IntEnum):
    HIGH = 3


class Text(str):
    __slots__ = ()


@pytest.mark.parametrize(
    "value",
    [
        {"state": State.ACCEPTED},
        {"level": Level.HIGH},
        {"items": ("a", "tuple")},
        OrderedDict([("b", 1), ("a", 2)]),
        MappingProxyType({"b": 1, "a": {"c": [1, 2]}}),
        {"text": Text("a str subclass")},
        {"nested": [{"deep": [State.ACCEPTED, 1]}]},
    ],
    ids=["str enum", "int enum", "tuple", "ordered dict", "mapping proxy", "str subclass",
         "nested enum"],
)
def test_other_json_like_types_take_the_reference_path(value: Any) -> None:
    assert not in_message_domain(value)
    assert canonical(value) == canonical_bytes(value)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"名称": "x"}, "keys must be ASCII"),
        ({"body": {"café": 1}}, "keys must be ASCII"),
        ({1: "one"}, "not a string"),
        ({"fen": 2**53}, "outside"),
        ([-(2**53)], "outside"),
        ({"name": "\ud800"}, "UTF-8"),
        ({"blob": b"raw"}, "bytes is not a JSON type"),
        ({"set": {1, 2}}, "set is not a JSON type"),
    ],
)
def test_refusals_outside_the_domain_are_the_reference_refusals(value: Any, problem: str) -> None:
    with pytest.raises(CanonicalError, match=problem) as fast:
        canonical(value)
    with pytest.raises(CanonicalError) as reference:
        canonical_bytes(value)
    assert str(fast.value) == str(reference.value)


def test_a_lone_surrogate_passes_the_domain_check_but_orjson_hands_it_over() -> None:
    value = {"name": "ok", "other": "\udfff"}
    assert in_message_domain(value)  # only the encoder can see that the text is not UTF-8
    with pytest.raises(CanonicalError, match="UTF-8"):
        canonical(value)


def test_nesting_beyond_orjsons_limit_still_encodes() -> None:
    value: Any = "leaf"
    for _ in range(300):
        value = [value]
    assert in_message_domain(value)
    assert canonical(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value", [{}, [], "", 0, True, False, None, "中文", [[]], {"": {}}])
def test_trivial_values(value: Any) -> None:
    assert canonical(value) == rfc8785.dumps(value)


# -- the envelope parser's flat pass: what it lets through is in the domain ---------------------

any_keys = st.text(max_size=6)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | texts
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=5)
    | st.dictionaries(any_keys, children, max_size=5),
    max_leaves=40,
)


@settings(max_examples=examples(1000), deadline=None)
@given(st.dictionaries(any_keys, json_values, max_size=6))
def test_what_the_envelope_parsers_flat_pass_admits_encodes_without_a_second_walk(
    value: dict[str, Any],
) -> None:
    """parse_envelope skips canonical()'s domain walk (canonical_in_domain) for a document
    decoded from JSON text that its flat pass admitted: such a document is in the domain, and
    the bytes are the reference's."""
    try:
        decoded = orjson.loads(orjson.dumps(value))
    except orjson.JSONEncodeError:  # a lone surrogate: orjson refuses it when decoding too
        return
    if _plainly_within_limits(decoded):
        assert in_message_domain(decoded)
        assert canonical_in_domain(decoded) == rfc8785.dumps(decoded)


def test_a_parsed_envelope_signs_the_reference_bytes() -> None:
    key = generate_private_key()
    envelope = sign_envelope(kind=Kind.SUMMARY, sender="450981", to="hub", seq=1,
                             body=summary_body("450981", random.Random(3)), private_key=key)
    reference = rfc8785.dumps(envelope._unsigned_wire())
    wire = envelope.to_wire()
    for given_as in (orjson.dumps(wire), wire):  # JSON text, and the hub's decoded body
        parsed = parse_envelope(given_as)
        assert parsed.unsigned_bytes() == reference
        verify_envelope(parsed, key.public_key())
