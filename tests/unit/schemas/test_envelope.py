"""The signed envelope (schemas/envelope.py): signing, strict parsing, verification, and every
refusal with its code."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import enum
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from jsonschema import Draft202012Validator

from schemas import keys
from schemas.envelope import (
    ENVELOPE_VERSION,
    MAX_DEPTH,
    MAX_ENVELOPE_BYTES,
    WIRE_KEYS,
    Envelope,
    EnvelopeError,
    Kind,
    parse_envelope,
    sign_envelope,
    verify_envelope,
)
from schemas.errors import TongbanError
from schemas.messages import JSON_SCHEMAS
from tests.unit.schemas.test_messages import (
    VALID,
    case_update_body,
    catalog_publish_body,
    fixed_key,
    summary_body,
)

COUNTY = "450981"
TOWNSHIP = "450981101"
ADDRESS = {
    Kind.SUMMARY: "hub", Kind.CERT: "hub", Kind.REVOKE: "hub",
    Kind.CATALOG_PUBLISH: "450000/*", Kind.CALENDAR_PUBLISH: "450000/*",
}


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return fixed_key(11)


def signed(key: Ed25519PrivateKey, **overrides: Any) -> Envelope:
    arguments: dict[str, Any] = {
        "kind": Kind.CASE_UPDATE, "sender": COUNTY, "to": TOWNSHIP, "seq": 42,
        "body": case_update_body(), "private_key": key,
        "ts": dt.datetime(2026, 11, 29, 12, tzinfo=dt.timezone(dt.timedelta(hours=8))),
    }
    return sign_envelope(**arguments | overrides)


def wire(key: Ed25519PrivateKey, **changes: Any) -> dict[str, Any]:
    """A signed envelope's wire object with ``changes`` applied (None deletes a key)."""
    document = signed(key).to_wire()
    for name, value in changes.items():
        if value is None:
            del document[name]
        else:
            document[name] = value
    return document


def refused(data: Any) -> EnvelopeError:
    with pytest.raises(EnvelopeError) as caught:
        parse_envelope(data)
    return caught.value


# -- round trips --------------------------------------------------------------------------------


def test_sign_parse_verify_round_trip(key: Ed25519PrivateKey) -> None:
    envelope = signed(key)
    assert envelope.v == ENVELOPE_VERSION
    assert envelope.key_id == keys.key_id(key.public_key())
    assert envelope.ts == "2026-11-29T12:00:00+08:00"
    uuid.UUID(envelope.id)
    received = parse_envelope(envelope.wire_bytes())
    assert received == envelope
    assert received.body == envelope.body
    verify_envelope(received, key.public_key())


def test_the_wire_format_is_designs(key: Ed25519PrivateKey) -> None:
    envelope = signed(key)
    document = envelope.to_wire()
    assert list(document) == ["v", "id", "kind", "from", "to", "seq", "ts", "key_id", "body",
                              "sig"]
    assert document["from"] == COUNTY
    assert document["kind"] == "case.update"
    assert type(document["kind"]) is str
    assert len(document["sig"]) == 86
    assert envelope.wire_bytes() == rfc8785.dumps(document)
    without_sig = {name: value for name, value in document.items() if name != "sig"}
    assert envelope.unsigned_bytes() == rfc8785.dumps(without_sig)
    assert keys.verify_b64(key.public_key(), rfc8785.dumps(without_sig), document["sig"])


def test_text_object_and_bytes_all_parse(key: Ed25519PrivateKey) -> None:
    envelope = signed(key)
    as_text = json.dumps(envelope.to_wire(), ensure_ascii=False, indent=2)
    assert parse_envelope(as_text) == envelope
    assert parse_envelope(as_text.encode()) == envelope
    assert parse_envelope(bytearray(as_text.encode())) == envelope
    assert parse_envelope(envelope.to_wire()) == envelope


def test_a_parsed_object_is_a_copy(key: Ed25519PrivateKey) -> None:
    document = signed(key).to_wire()
    envelope = parse_envelope(document)
    document["body"]["note"] = "changed afterwards"
    verify_envelope(envelope, key.public_key())


def test_an_owned_object_is_kept_without_a_copy_and_judged_the_same(
    key: Ed25519PrivateKey,
) -> None:
    """The hub hands over what orjson decoded (``owned``): no copy, the same envelope, its
    canonical bytes computed before anything could change, every refusal as without."""
    document = json.loads(json.dumps(signed(key).to_wire()))
    envelope = parse_envelope(document, owned=True)
    assert envelope.body is document["body"]
    assert envelope == parse_envelope(json.loads(json.dumps(document)))
    verify_envelope(envelope, key.public_key())
    for bad, code in [({**document, "v": 2}, "unknown_version"),
                      ({**document, "body": {**document["body"], "x": 1.5}}, "float_in_body"),
                      ({**document, "seq": 2**60}, "malformed")]:
        with pytest.raises(EnvelopeError) as owned:
            parse_envelope(bad, owned=True)
        with pytest.raises(EnvelopeError) as copied:
            parse_envelope(bad)
        assert owned.value.code == code
        assert (owned.value.code, owned.value.message) == (copied.value.code,
                                                           copied.value.message)


@pytest.mark.parametrize(
    ("kind", "make"),
    [pytest.param(kind, makers[0], id=kind.value) for kind, makers in VALID.items()],
)
def test_every_kind_signs_parses_and_matches_its_published_schemas(
    key: Ed25519PrivateKey, kind: Kind, make: Callable[[], dict[str, Any]]
) -> None:
    envelope = signed(key, kind=kind, body=make(), to=ADDRESS.get(kind, TOWNSHIP))
    received = parse_envelope(envelope.wire_bytes())
    verify_envelope(received, key.public_key())
    document = json.loads(envelope.wire_bytes())
    assert not list(Draft202012Validator(JSON_SCHEMAS["envelope"]).iter_errors(document))
    assert not list(Draft202012Validator(JSON_SCHEMAS[kind.value]).iter_errors(document["body"]))


def test_defaults_are_now_and_a_random_id(key: Ed25519PrivateKey) -> None:
    before = dt.datetime.now(dt.UTC)
    first = signed(key, ts=None)
    second = signed(key, ts=None)
    assert first.id != second.id
    assert before - dt.timedelta(seconds=1) <= first.timestamp <= dt.datetime.now(dt.UTC)
    assert first.timestamp.tzinfo is not None


def test_explicit_id_and_text_time(key: Ed25519PrivateKey) -> None:
    fixed = uuid.UUID("0b6f2f6e-3c0e-4f64-9a43-1b1c2f3f4e5d")
    envelope = signed(key, id=fixed, ts="2026-11-29T04:00:00Z")
    assert envelope.id == str(fixed)
    assert envelope.timestamp == dt.datetime(2026, 11, 29, 4, tzinfo=dt.UTC)
    assert signed(key, id=str(fixed)).id == str(fixed)


def test_tuples_and_enums_in_a_body_are_sent_as_json(key: Ed25519PrivateKey) -> None:
    class Category(enum.StrEnum):
        LICENCE = "administrative_licence"

    body = catalog_publish_body()
    body["matters"][0]["category"] = Category.LICENCE
    body["matters"] = tuple(body["matters"])
    envelope = signed(key, kind=Kind.CATALOG_PUBLISH, to="450000/*", body=body)
    assert type(envelope.body["matters"]) is list
    assert type(envelope.body["matters"][0]["category"]) is str
    assert parse_envelope(envelope.wire_bytes()) == envelope
    assert envelope.fanout_root == "450000"
    assert signed(key).fanout_root is None


# -- signatures ---------------------------------------------------------------------------------

TAMPERINGS: dict[str, Callable[[Envelope], Envelope]] = {
    "id": lambda e: dataclasses.replace(e, id=str(uuid.uuid4())),
    "kind": lambda e: dataclasses.replace(e, kind=Kind.DIRECTIVE_REPLY),
    "from": lambda e: dataclasses.replace(e, sender="450982"),
    "to": lambda e: dataclasses.replace(e, to="450981102"),
    "seq": lambda e: dataclasses.replace(e, seq=e.seq + 1),
    "ts": lambda e: dataclasses.replace(e, ts="2026-11-29T12:00:01+08:00"),
    "body value": lambda e: dataclasses.replace(e, body=e.body | {"state": "approved"}),
    "body key added": lambda e: dataclasses.replace(e, body=e.body | {"extra": 1}),
    "nested body value": lambda e: dataclasses.replace(e, body=e.body | {
        "origin": e.body["origin"] | {"case_number": "OTHER"}}),
    "version": lambda e: dataclasses.replace(e, v=2),
    "signature": lambda e: dataclasses.replace(
        e, sig=keys.sign_b64(fixed_key(11), b"something else")),
}


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_any_changed_field_breaks_the_signature(
    key: Ed25519PrivateKey, tamper: Callable[[Envelope], Envelope]
) -> None:
    with pytest.raises(EnvelopeError) as caught:
        verify_envelope(tamper(signed(key)), key.public_key())
    assert caught.value.code == "bad_signature"


def test_a_tampered_body_on_the_wire_parses_but_does_not_verify(key: Ed25519PrivateKey) -> None:
    text = signed(key).wire_bytes().replace(b'"in_review"', b'"suspended"')
    envelope = parse_envelope(text)  # still a well-formed envelope
    assert envelope.body["state"] == "suspended"
    with pytest.raises(EnvelopeError, match="does not verify") as caught:
        verify_envelope(envelope, key.public_key())
    assert caught.value.code == "bad_signature"
    assert caught.value.details["from"] == COUNTY


def test_a_wrong_key_is_refused(key: Ed25519PrivateKey) -> None:
    envelope = signed(key)
    with pytest.raises(EnvelopeError, match="names key") as caught:
        verify_envelope(envelope, fixed_key(12).public_key())
    assert caught.value.code == "bad_signature"
    # even when the key id is forged to match the wrong key
    other = fixed_key(12).public_key()
    forged = dataclasses.replace(envelope, key_id=keys.key_id(other))
    with pytest.raises(EnvelopeError, match="does not verify"):
        verify_envelope(forged, other)


def test_an_unsigned_envelope_does_not_verify(key: Ed25519PrivateKey) -> None:
    envelope = dataclasses.replace(signed(key), sig="A" * 86)
    with pytest.raises(EnvelopeError) as caught:
        verify_envelope(envelope, key.public_key())
    assert caught.value.code == "bad_signature"


# -- version and kind -----------------------------------------------------------------------------


def test_an_unknown_version_is_refused_clearly(key: Ed25519PrivateKey) -> None:
    # a future version may change any other field, so the version is judged first
    error = refused(wire(key, v=2, body=[], extra="x"))
    assert error.code == "unknown_version"
    assert "version 2 is not supported" in str(error)
    assert "version 1" in str(error)
    assert refused(wire(key, v="1")).code == "malformed"
    assert refused(wire(key, v=True)).code == "malformed"
    assert refused(wire(key, v=None)).code == "malformed"


def test_an_unknown_kind_is_refused_clearly(key: Ed25519PrivateKey) -> None:
    error = refused(wire(key, kind="case.delete"))
    assert error.code == "unknown_kind"
    assert "'case.delete'" in str(error)
    assert "case.forward" in str(error)  # says which kinds there are
    assert refused(wire(key, kind=3)).code == "malformed"
    with pytest.raises(EnvelopeError) as caught:
        signed(key, kind="case.delete")
    assert caught.value.code == "unknown_kind"


# -- shapes ---------------------------------------------------------------------------------------

MALFORMED: dict[str, tuple[dict[str, Any], str]] = {
    "missing id": ({"id": None}, "id"),
    "missing sig": ({"sig": None}, "sig"),
    "missing body": ({"body": None}, "body"),
    "extra key": ({"signature": "x"}, "signature"),
    "id not a string": ({"id": 5}, "id"),
    "id in capitals": ({"id": "0B6F2F6E-3C0E-4F64-9A43-1B1C2F3F4E5D"}, "id"),
    "id without hyphens": ({"id": "0b6f2f6e3c0e4f649a431b1c2f3f4e5d"}, "id"),
    "id in braces": ({"id": "{0b6f2f6e-3c0e-4f64-9a43-1b1c2f3f4e5d}"}, "id"),
    "id not a uuid": ({"id": "not-a-uuid"}, "id"),
    "from the hub": ({"from": "hub"}, "from"),
    "from a short code": ({"from": "45098"}, "from"),
    "from a code with a newline": ({"from": "450981\n"}, "from"),
    "from other digits": ({"from": "٤٥٠٩٨١"}, "from"),
    "to in capitals": ({"to": "HUB"}, "to"),
    "to a short code": ({"to": "45098"}, "to"),
    "to a bad fan-out": ({"to": "450981/**"}, "to"),
    "to a trailing slash": ({"to": "450981/"}, "to"),
    "to a number": ({"to": 450981101}, "to"),
    "seq 0": ({"seq": 0}, "seq"),
    "seq negative": ({"seq": -1}, "seq"),
    "seq as text": ({"seq": "42"}, "seq"),
    "seq as a boolean": ({"seq": True}, "seq"),
    "seq as a float": ({"seq": 42.0}, "seq"),
    "seq beyond 2**53": ({"seq": 2**53}, "seq"),
    "naive ts": ({"ts": "2026-11-29T12:00:00"}, "ts"),
    "ts without seconds": ({"ts": "2026-11-29T12:00+08:00"}, "ts"),
    "ts in basic format": ({"ts": "20261129T120000+0800"}, "ts"),
    "ts with a space": ({"ts": "2026-11-29 12:00:00+08:00"}, "ts"),
    "ts on no real day": ({"ts": "2026-02-30T12:00:00+08:00"}, "ts"),
    "ts as a number": ({"ts": 1_790_000_000}, "ts"),
    "key_id in capitals": ({"key_id": "ABCDEF0123456789"}, "key_id"),
    "key_id too short": ({"key_id": "abcdef"}, "key_id"),
    "body a list": ({"body": []}, "body"),
    "body text": ({"body": "{}"}, "body"),
    "sig padded": ({"sig": "A" * 86 + "=="}, "sig"),
    "sig standard base64": ({"sig": "+" * 86}, "sig"),
    "sig not canonical": ({"sig": "A" * 85 + "B"}, "sig"),
}


@pytest.mark.parametrize(("changes", "field"), MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_envelopes_are_refused_naming_the_field(
    key: Ed25519PrivateKey, changes: dict[str, Any], field: str
) -> None:
    error = refused(wire(key, **changes))
    assert error.code == "malformed"
    assert field in error.details["fields"]
    assert field in str(error)


def test_every_problem_is_named_at_once(key: Ed25519PrivateKey) -> None:
    error = refused(wire(key, seq=0, ts="yesterday", extra=1, sig=None))
    assert set(error.details["fields"]) == {"seq", "ts", "extra", "sig"}


@pytest.mark.parametrize(
    ("kind", "to"),
    [
        (Kind.SUMMARY, COUNTY),
        (Kind.SUMMARY, "450000/*"),
        (Kind.CATALOG_PUBLISH, "hub"),
        (Kind.CATALOG_PUBLISH, "450000"),
        (Kind.CASE_FORWARD, "hub"),
        (Kind.CASE_FORWARD, "450981/*"),
        (Kind.DIRECTIVE, "450981/*"),
        (Kind.CERT, COUNTY),
        (Kind.REVOKE, "450000/*"),
    ],
)
def test_each_kind_goes_to_its_kind_of_address(
    key: Ed25519PrivateKey, kind: Kind, to: str
) -> None:
    with pytest.raises(EnvelopeError) as caught:
        signed(key, kind=kind, to=to, body=VALID[kind][0]())
    assert caught.value.code == "malformed"
    assert "to" in caught.value.details["fields"]


def test_the_published_envelope_schema_says_the_same(key: Ed25519PrivateKey) -> None:
    published = JSON_SCHEMAS["envelope"]
    assert tuple(published["properties"]) == WIRE_KEYS
    assert tuple(published["required"]) == WIRE_KEYS
    validator = Draft202012Validator(published)
    good = json.loads(signed(key).wire_bytes())
    assert not list(validator.iter_errors(good))
    for changes in ({"to": "hub"}, {"to": "450981/*"}, {"seq": 0}, {"v": 2},
                    {"kind": "case.delete"}, {"ts": "2026-11-29T12:00:00"}, {"extra": 1}):
        assert list(validator.iter_errors(good | changes)), changes
    summary = good | {"kind": "summary"}
    assert list(validator.iter_errors(summary))  # a summary goes to the hub
    assert not list(validator.iter_errors(summary | {"to": "hub"}))
    publish = good | {"kind": "catalog.publish", "to": "450000/*"}
    assert not list(validator.iter_errors(publish))


def test_not_an_object_is_malformed() -> None:
    for data in (b"[]", b'"envelope"', b"42", b"null", "[1, 2]"):
        assert refused(data).code == "malformed"
    with pytest.raises(EnvelopeError, match="not int"):
        parse_envelope(42)  # type: ignore[arg-type]


def test_a_body_that_breaks_its_schema_is_bad_body(key: Ed25519PrivateKey) -> None:
    body = case_update_body() | {"state": "lost"}
    error = refused(wire(key, body=body))
    assert error.code == "bad_body"
    assert "state" in error.details["fields"]
    with pytest.raises(EnvelopeError) as caught:
        signed(key, body=body)
    assert caught.value.code == "bad_body"


def test_a_summary_must_come_from_its_own_node(key: Ed25519PrivateKey) -> None:
    signed(key, kind=Kind.SUMMARY, to="hub", body=summary_body())
    with pytest.raises(EnvelopeError) as caught:
        signed(key, kind=Kind.SUMMARY, to="hub", body=summary_body(), sender="450900")
    assert caught.value.code == "bad_body"
    assert caught.value.details["fields"] == {"node": {"code": ["must be the sender, 450900"]}}


# -- floats and other things canonical JSON cannot carry -----------------------------------------


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (case_update_body() | {"score": 0.5}, "body.score"),
        (case_update_body() | {"origin": {"node": TOWNSHIP, "case_number": 1.0}},
         "body.origin.case_number"),
        (summary_body() | {"metrics": {"rate": {"unit": "basis_points", "value": 98.5}}},
         "body.metrics.rate.value"),
        ({"matters": [{"materials": [{"copies": 1}, {"copies": float("nan")}]}]},
         "body.matters[0].materials[1].copies"),
        ({"deep": [[[[float("inf")]]]]}, "body.deep[0][0][0][0]"),
    ],
)
def test_a_float_anywhere_in_a_body_is_refused_at_signing_with_its_path(
    key: Ed25519PrivateKey, body: dict[str, Any], path: str
) -> None:
    with pytest.raises(EnvelopeError) as caught:
        signed(key, body=body)
    assert caught.value.code == "float_in_body"
    assert caught.value.details == {"path": path}
    assert str(caught.value).startswith(f"{path}: float")


def test_a_float_in_a_received_body_is_refused(key: Ed25519PrivateKey) -> None:
    text = signed(key).wire_bytes().replace(b'"note":""', b'"note":"","weight":1.0')
    error = refused(text)
    assert error.code == "float_in_body"
    assert error.details == {"path": "body.weight"}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (case_update_body() | {"备注": "x"}, "keys must be ASCII"),
        (case_update_body() | {"big": 2**53}, "outside"),
        (case_update_body() | {"note": "\ud800"}, "lone surrogate"),
        (case_update_body() | {"when": dt.date(2026, 1, 1)}, "date is not a JSON type"),
        (case_update_body() | {"origin": {1: "x"}}, "not a string"),
    ],
)
def test_what_canonical_json_cannot_carry_is_bad_body(
    key: Ed25519PrivateKey, body: dict[str, Any], problem: str
) -> None:
    with pytest.raises(EnvelopeError, match=problem) as caught:
        signed(key, body=body)
    assert caught.value.code == "bad_body"


def test_a_body_that_is_no_object_is_refused_at_signing(key: Ed25519PrivateKey) -> None:
    with pytest.raises(EnvelopeError) as caught:
        signed(key, body=["not", "an", "object"])
    assert caught.value.code == "bad_body"


def test_naive_and_bad_signing_times_and_ids_are_refused(key: Ed25519PrivateKey) -> None:
    with pytest.raises(EnvelopeError, match="timezone-aware") as caught:
        signed(key, ts=dt.datetime(2026, 11, 29, 12))  # noqa: DTZ001 - the naive time under test
    assert caught.value.code == "malformed"
    with pytest.raises(EnvelopeError) as caught:
        signed(key, id="42")
    assert caught.value.details["fields"] == {"id": ["a UUID in lowercase hex with hyphens"]}
    with pytest.raises(EnvelopeError) as caught:
        signed(key, seq=0)
    assert "seq" in caught.value.details["fields"]


# -- size, depth, encoding ------------------------------------------------------------------------


def _nested(levels: int) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for _ in range(levels - 1):
        body = {"a": body}
    return body


def test_nesting_up_to_the_limit_is_read_and_beyond_is_refused(key: Ed25519PrivateKey) -> None:
    # the envelope object is level 1 and the body level 2
    at_limit = json.dumps(wire(key, body=_nested(MAX_DEPTH - 1)))
    assert refused(at_limit).code == "bad_body"  # read; its body just is no case.update
    beyond = json.dumps(wire(key, body=_nested(MAX_DEPTH)))
    error = refused(beyond)
    assert error.code == "too_deep"
    assert str(MAX_DEPTH) in str(error)


def test_very_deep_text_is_refused_as_too_deep() -> None:
    assert refused(b"[" * 5000 + b"]" * 5000).code == "too_deep"
    assert refused(b'{"v":1,"body":' + b"[" * 100 + b"]" * 100 + b"}").code == "too_deep"


def test_deep_objects_are_refused_without_recursing_forever(key: Ed25519PrivateKey) -> None:
    looped: dict[str, Any] = {}
    looped["self"] = looped
    assert refused(wire(key, body=looped)).code == "too_deep"
    with pytest.raises(EnvelopeError) as caught:
        signed(key, body=looped)
    assert caught.value.code == "too_deep"


def test_oversized_envelopes_are_refused_before_parsing(key: Ed25519PrivateKey) -> None:
    document = wire(key)
    document["body"] = document["body"] | {"note": "x" * MAX_ENVELOPE_BYTES}
    error = refused(json.dumps(document).encode())
    assert error.code == "too_large"
    assert error.details["limit"] == MAX_ENVELOPE_BYTES
    assert refused(b" " * (MAX_ENVELOPE_BYTES + 1)).code == "too_large"
    # just below the cap is fine (whitespace around JSON is allowed)
    text = signed(key).wire_bytes()
    padded = text + b" " * (MAX_ENVELOPE_BYTES - len(text))
    assert parse_envelope(padded) == parse_envelope(text)


def _catalog_of_size(key: Ed25519PrivateKey, size: int) -> dict[str, Any]:
    """A catalog.publish body whose signed envelope has exactly ``size`` bytes."""
    body = catalog_publish_body()
    template = body["matters"][0] | {"legal_basis": ""}
    body["matters"] = [template | {"standard_code": f"S{index:04d}"} for index in range(60)]
    missing = size - len(signed(key, kind=Kind.CATALOG_PUBLISH, to="450000/*",
                                body=body).wire_bytes())
    for matter in body["matters"]:
        take = min(missing, 20_000)  # the longest text a field takes
        matter["legal_basis"] = "x" * take
        missing -= take
    assert missing == 0
    return body


def test_an_envelope_too_large_to_be_accepted_is_never_signed(key: Ed25519PrivateKey) -> None:
    def publish(body: dict[str, Any]) -> Envelope:
        return signed(key, kind=Kind.CATALOG_PUBLISH, to="450000/*", body=body)

    fits = publish(_catalog_of_size(key, MAX_ENVELOPE_BYTES))
    assert len(fits.wire_bytes()) == MAX_ENVELOPE_BYTES
    assert parse_envelope(fits.wire_bytes()) == fits
    with pytest.raises(EnvelopeError) as caught:
        publish(_catalog_of_size(key, MAX_ENVELOPE_BYTES + 1))
    assert caught.value.code == "too_large"
    assert caught.value.details == {"size": MAX_ENVELOPE_BYTES + 1, "limit": MAX_ENVELOPE_BYTES}


@pytest.mark.parametrize(
    "data",
    [
        b'{"v":1,"note":"\xff"}',
        b'{"v":1,"note":"\xc3"}',
        b'{"v":1,"note":"\xed\xa0\x80"}',  # an encoded surrogate (CESU-8)
        '{"v":1}'.encode("utf-16"),
    ],
    ids=["invalid byte", "truncated sequence", "surrogate", "utf-16"],
)
def test_text_that_is_not_utf8_is_refused(data: bytes) -> None:
    error = refused(data)
    assert error.code == "malformed"
    assert "UTF-8" in str(error)


def test_text_that_is_not_json_is_refused(key: Ed25519PrivateKey) -> None:
    text = signed(key).wire_bytes()
    for broken in (text[:-1], b"\xef\xbb\xbf" + text, text.replace(b":", b"=", 1), b"",
                   b'{"v":1,"seq":NaN}'):
        assert refused(broken).code == "malformed"
    assert refused('{"v": 1, "note": "\ud800"}').code == "malformed"
    assert refused(b'{"v": 1, "note": "\\ud800"}').code == "malformed"


def test_envelope_errors_are_value_errors_and_domain_errors(key: Ed25519PrivateKey) -> None:
    error = refused(wire(key, seq=0))
    assert isinstance(error, ValueError)
    assert isinstance(error, TongbanError)
    assert error.message == str(error)
    json.dumps({"code": error.code, "details": error.details})


def test_wire_bytes_of_a_hand_built_envelope_with_a_float_is_refused(
    key: Ed25519PrivateKey,
) -> None:
    envelope = dataclasses.replace(signed(key), body={"x": 0.5})
    with pytest.raises(EnvelopeError) as caught:
        envelope.wire_bytes()
    assert caught.value.code == "malformed"
    with pytest.raises(EnvelopeError):
        verify_envelope(envelope, key.public_key())


def test_signing_does_not_change_the_callers_body(key: Ed25519PrivateKey) -> None:
    body = case_update_body()
    before = copy.deepcopy(body)
    envelope = signed(key, body=body)
    assert body == before
    body["note"] = "changed"
    verify_envelope(envelope, key.public_key())


# -- the size limit holds for every form an envelope arrives in (issue 16, item 10) ----------


def test_an_oversized_signed_envelope_is_refused_as_a_decoded_object(
    key: Ed25519PrivateKey,
) -> None:
    from tests.oversized import oversized_catalog_publish

    poison = oversized_catalog_publish(key, sender=COUNTY, seq=7)
    document = poison.to_wire()
    # the hub's request body and a mailbox item are decoded objects: measured all the same
    for form in (document, copy.deepcopy(document), poison.wire_bytes(),
                 poison.wire_bytes().decode("utf-8")):
        error = refused(form)
        assert error.code == "too_large"
        assert error.details["limit"] == MAX_ENVELOPE_BYTES
        assert error.details["size"] == len(poison.wire_bytes()) >= 1_440_000


def test_a_decoded_envelope_of_exactly_the_limit_is_read_and_one_byte_more_is_not(
    key: Ed25519PrivateKey,
) -> None:
    def publish(body: dict[str, Any]) -> Envelope:
        return signed(key, kind=Kind.CATALOG_PUBLISH, to="450000/*", body=body)

    fits = publish(_catalog_of_size(key, MAX_ENVELOPE_BYTES))
    assert parse_envelope(fits.to_wire()) == fits
    # a hand-made envelope one byte over, signed all the same (sign_envelope would refuse)
    over = dataclasses.replace(fits, body=fits.body | {"catalog_version": 10})
    over = dataclasses.replace(over, sig=keys.sign_b64(key, over.unsigned_bytes()))
    assert len(over.wire_bytes()) == MAX_ENVELOPE_BYTES + 1
    error = refused(over.to_wire())
    assert error.code == "too_large"
    assert error.details == {"size": MAX_ENVELOPE_BYTES + 1, "limit": MAX_ENVELOPE_BYTES}
