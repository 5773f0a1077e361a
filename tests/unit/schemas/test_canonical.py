"""Canonical JSON: RFC 8785 bytes, and the refusals that keep tongban's domain float-free."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict
from typing import Any

import pytest
import rfc8785

from schemas.canonical import CanonicalError, canonical_bytes


def test_keys_are_sorted_and_whitespace_removed() -> None:
    assert canonical_bytes({"b": 1, "a": 2, "A": 3, "aa": 4, "_": 5}) == (
        b'{"A":3,"_":5,"a":2,"aa":4,"b":1}'
    )


def test_order_of_insertion_does_not_matter() -> None:
    forwards = OrderedDict([("from", "450981"), ("to", "hub"), ("seq", 42)])
    backwards = OrderedDict(reversed(list(forwards.items())))
    assert canonical_bytes(forwards) == canonical_bytes(backwards)
    assert canonical_bytes(forwards) == b'{"from":"450981","seq":42,"to":"hub"}'


def test_unicode_string_values_are_utf8_unescaped() -> None:
    encoded = canonical_bytes({"name": "北流市政务服务中心", "emoji": "✓", "quote": 'a"b\\c\n'})
    assert encoded == (
        '{"emoji":"✓","name":"北流市政务服务中心","quote":"a\\"b\\\\c\\n"}'.encode()
    )
    assert json.loads(encoded) == {
        "name": "北流市政务服务中心", "emoji": "✓", "quote": 'a"b\\c\n'
    }


def test_control_characters_are_escaped_as_rfc8785_says() -> None:
    assert canonical_bytes(["\u0001\t\u001f"]) == b'["\\u0001\\t\\u001f"]'


def test_scalars() -> None:
    assert canonical_bytes({"t": True, "f": False, "n": None, "i": -7, "z": 0}) == (
        b'{"f":false,"i":-7,"n":null,"t":true,"z":0}'
    )


def test_nested_lists_and_dicts() -> None:
    body = {
        "metrics": {"on_time": {"num": 95, "den": 100, "bp": 9500}, "cases": 100},
        "items": [{"z": 1, "a": [3, 2, 1]}, [], {}, ("tuple", "as", "list")],
    }
    assert canonical_bytes(body) == (
        b'{"items":[{"a":[3,2,1],"z":1},[],{},["tuple","as","list"]],'
        b'"metrics":{"cases":100,"on_time":{"bp":9500,"den":100,"num":95}}}'
    )


def test_matches_the_reference_encoder_on_the_domain() -> None:
    value = {"v": 1, "kind": "summary", "body": {"name": "北流", "counts": [1, -2, "二"]}}
    assert canonical_bytes(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (1.5, ""),
        ({"rate": 0.95}, "rate"),
        ({"body": {"metrics": {"rate": 0.0}}}, "body.metrics.rate"),
        ({"body": {"items": [1, {"share": 1e3}]}}, "body.items[1].share"),
        ([[1, 2.0]], "[0][1]"),
        ({"x": float("nan")}, "x"),
    ],
)
def test_floats_are_refused_with_their_path(value: Any, path: str) -> None:
    with pytest.raises(CanonicalError) as caught:
        canonical_bytes(value)
    assert caught.value.path == path
    assert "float" in str(caught.value)
    assert str(caught.value).startswith(path or "the top-level value")


def test_canonical_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"body\.metrics\.rate: float"):
        canonical_bytes({"body": {"metrics": {"rate": 12.5}}})


@pytest.mark.parametrize(
    ("value", "path"),
    [
        ({"名称": "x"}, "名称"),
        ({"body": {"matter": {"café": 1}}}, "body.matter.café"),
        ({"list": [{"ok": 1, "ñ": 2}]}, "list[0].ñ"),
    ],
)
def test_non_ascii_keys_are_refused_with_their_path(value: Any, path: str) -> None:
    with pytest.raises(CanonicalError, match="keys must be ASCII") as caught:
        canonical_bytes(value)
    assert caught.value.path == path


def test_non_string_keys_and_foreign_types_are_refused() -> None:
    with pytest.raises(CanonicalError, match="not a string") as caught:
        canonical_bytes({"body": {1: "one"}})
    assert caught.value.path == "body"
    with pytest.raises(CanonicalError, match="bytes is not a JSON type") as caught:
        canonical_bytes({"blob": b"raw"})
    assert caught.value.path == "blob"


def test_integers_beyond_the_exact_json_range_are_refused() -> None:
    assert canonical_bytes([2**53 - 1, -(2**53 - 1)]) == b"[9007199254740991,-9007199254740991]"
    with pytest.raises(CanonicalError, match="outside") as caught:
        canonical_bytes({"fen": [0, 2**53]})
    assert caught.value.path == "fen[1]"


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(CanonicalError, match="UTF-8"):
        canonical_bytes({"name": "\ud800"})


def test_string_and_int_enums_encode_as_their_values() -> None:
    class State(enum.StrEnum):
        ACCEPTED = "accepted"

    class Level(enum.IntEnum):
        HIGH = 3

    assert canonical_bytes({"state": State.ACCEPTED, "level": Level.HIGH}) == (
        b'{"level":3,"state":"accepted"}'
    )


@pytest.mark.parametrize(
    "value",
    [
        {},
        [],
        "",
        {"a": {"b": {"c": [1, [2, [3, {"d": None}]]]}}},
        {"name": "张三", "reason": "材料不全\n请补正", "b": True, "n": -(2**53 - 1)},
    ],
)
def test_canonical_form_is_idempotent(value: Any) -> None:
    once = canonical_bytes(value)
    assert canonical_bytes(json.loads(once)) == once
    assert json.loads(once) == json.loads(json.dumps(value))
