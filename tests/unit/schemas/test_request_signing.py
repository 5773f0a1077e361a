"""Signed requests (RFC 9421): what verifies and every way one is refused."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from schemas.keys import generate_private_key, key_id
from schemas.request_signing import (
    CONTENT_DIGEST,
    SIGNATURE,
    SIGNATURE_INPUT,
    RequestAuthError,
    check_signed_request,
    read_signed_headers,
    sign_request,
)

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)
PATH = "/api/v1/mailbox?after=3"


def signed(body: bytes = b'{"x": 1}', path: str = PATH, method: str = "POST"):
    key = generate_private_key()
    headers = sign_request(method=method, path=path, body=body, node="450981",
                           private_key=key, now=NOW)
    return key, headers


def check(headers, key, *, method="POST", path=PATH, body=b'{"x": 1}', now=NOW) -> None:
    check_signed_request(read_signed_headers(headers), method=method, path=path, body=body,
                         headers=headers, public_key=key.public_key(), now=now)


def refusal(headers, key, **change) -> str:
    with pytest.raises(RequestAuthError) as caught:
        check(headers, key, **change)
    return caught.value.code


def test_the_headers_follow_the_profile() -> None:
    key, headers = signed()
    assert set(headers) == {SIGNATURE_INPUT, SIGNATURE, CONTENT_DIGEST}
    created = int(NOW.timestamp())
    pattern = (r'^tongban=\("@method" "@path" "@query" "content-digest"\);'
               rf'created={created};keyid="450981:{key_id(key.public_key())}";alg="ed25519";'
               rf'expires={created + 300};nonce="[A-Za-z0-9_-]{{24}}"$')
    assert re.match(pattern, headers[SIGNATURE_INPUT]), headers[SIGNATURE_INPUT]
    assert headers[CONTENT_DIGEST] == "sha-256=:YT/lqmU0Pbsbmr5qusZ3P1yRvWDT8v+34urmnh24sic=:"
    _, bodiless = signed(body=b"", method="GET")
    assert set(bodiless) == {SIGNATURE_INPUT, SIGNATURE}
    assert bodiless[SIGNATURE_INPUT].startswith('tongban=("@method" "@path" "@query");')


def test_a_signed_request_verifies() -> None:
    key, headers = signed()
    check(headers, key)
    check(headers, key, now=NOW + dt.timedelta(minutes=4, seconds=59))
    check(headers, key, now=NOW - dt.timedelta(minutes=4))
    key, headers = signed(body=b"", method="GET")
    check(headers, key, method="GET", body=b"")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"method": "PUT"}, "bad_signature"),
        ({"path": "/api/v1/mailbox?after=4"}, "bad_signature"),
        ({"path": "/api/v1/mailbox/ack?after=3"}, "bad_signature"),
        ({"body": b'{"x": 2}'}, "digest_mismatch"),
        ({"now": NOW + dt.timedelta(minutes=6)}, "stale_time"),
        ({"now": NOW - dt.timedelta(minutes=6)}, "stale_time"),
    ],
)
def test_any_change_is_refused(change, code) -> None:
    key, headers = signed()
    assert refusal(headers, key, **change) == code


def test_a_body_added_to_a_bodiless_request_is_refused() -> None:
    key, headers = signed(body=b"", method="POST")
    assert refusal(headers, key, body=b'{"cursor": 9}') == "missing_component"


def test_a_rewritten_digest_breaks_the_signature() -> None:
    key, headers = signed()
    forged = {**headers, CONTENT_DIGEST: "sha-256=:JPVyYA4VDTIwE4OFqgAGyhuZO0a7Qn90bMaQyY2TJBM=:"}
    assert refusal(forged, key, body=b'{"x": 2}') == "bad_signature"


def test_wrong_key() -> None:
    _, headers = signed()
    assert refusal(headers, generate_private_key()) == "bad_signature"


def test_an_expired_signature_is_refused() -> None:
    key = generate_private_key()
    headers = sign_request(method="GET", path=PATH, body=b"", node="450981", private_key=key,
                           now=NOW)
    short = headers[SIGNATURE_INPUT].replace(f"expires={int(NOW.timestamp()) + 300}",
                                             f"expires={int(NOW.timestamp()) + 60}")
    # re-signing is needed for the shorter expiry to be authentic: see the RFC-by-hand tests;
    # here the time check comes first, so the refusal names the expiry
    assert refusal({**headers, SIGNATURE_INPUT: short}, key, method="GET", body=b"",
                   now=NOW + dt.timedelta(minutes=2)) == "expired_signature"


@pytest.mark.parametrize(
    ("edit", "code"),
    [
        (lambda h: {k: v for k, v in h.items() if k != SIGNATURE}, "unsigned"),
        (lambda h: {k: v for k, v in h.items() if k != SIGNATURE_INPUT}, "unsigned"),
        (lambda h: {"X-Tongban-Node": "450981", "X-Tongban-Signature": "abc"},
         "old_signature_format"),
        (lambda h: {**h, SIGNATURE_INPUT: "not a dictionary ("}, "bad_signature_input"),
        (lambda h: {**h, SIGNATURE_INPUT: h[SIGNATURE_INPUT] + ", other=()"},
         "bad_signature_input"),
        (lambda h: {**h, SIGNATURE_INPUT: h[SIGNATURE_INPUT].replace("tongban=", "sig1=")},
         "bad_signature_input"),
        (lambda h: {**h, SIGNATURE_INPUT: h[SIGNATURE_INPUT].replace('"ed25519"', '"hmac-sha256"')},
         "bad_algorithm"),
        (lambda h: {**h, SIGNATURE_INPUT: re.sub(r';nonce="[^"]*"', "", h[SIGNATURE_INPUT])},
         "bad_signature_input"),
        (lambda h: {**h, SIGNATURE_INPUT: re.sub(r'nonce="[^"]*"', 'nonce="short"',
                                                 h[SIGNATURE_INPUT])}, "bad_nonce"),
        (lambda h: {**h, SIGNATURE_INPUT: re.sub(r"created=\d+", 'created="noon"',
                                                 h[SIGNATURE_INPUT])}, "bad_time"),
        (lambda h: {**h, SIGNATURE_INPUT: re.sub(r"expires=\d+", "expires=1",
                                                 h[SIGNATURE_INPUT])}, "bad_time"),
        (lambda h: {**h, SIGNATURE_INPUT: re.sub(r'keyid="[^"]*"', 'keyid="450981"',
                                                 h[SIGNATURE_INPUT])}, "bad_signature_input"),
    ],
)
def test_missing_or_malformed_headers(edit, code) -> None:
    _, headers = signed()
    with pytest.raises(RequestAuthError) as caught:
        read_signed_headers(edit(headers))
    assert caught.value.code == code


def test_uncovered_method_or_extra_derived_component_is_refused() -> None:
    key, headers = signed()
    no_method = {**headers, SIGNATURE_INPUT: headers[SIGNATURE_INPUT].replace('"@method" ', "")}
    assert refusal(no_method, key) == "missing_component"
    authority = {**headers, SIGNATURE_INPUT: headers[SIGNATURE_INPUT].replace(
        '"@method"', '"@method" "@authority"')}
    assert refusal(authority, key) == "bad_signature_input"


def test_a_tampered_created_breaks_the_signature() -> None:
    key, headers = signed()
    created = int(NOW.timestamp())
    moved = {**headers, SIGNATURE_INPUT: headers[SIGNATURE_INPUT].replace(
        f"created={created}", f"created={created + 1}")}
    assert refusal(moved, key) == "bad_signature"


def test_the_worked_example_of_docs_sync_md() -> None:
    """The example in docs/sync.md is what the node sends (Ed25519 is deterministic)."""
    from pathlib import Path

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.from_private_bytes(bytes([3]) * 32)
    headers = sign_request(method="POST", path="/api/v1/mailbox/ack", body=b'{"cursor":42}',
                           node="450981", private_key=key,
                           now=dt.datetime(2026, 12, 6, 4, 0, tzinfo=dt.UTC),
                           nonce="b3Kq9xZr7TQm2VwL8aHc0fYd")
    doc = (Path(__file__).resolve().parents[3] / "docs" / "sync.md").read_text(encoding="utf-8")
    for name, value in headers.items():
        assert f"\n{name}: {value}\n" in doc, name
    params = headers[SIGNATURE_INPUT].removeprefix("tongban=")
    base = "\n".join(['"@method": POST', '"@path": /api/v1/mailbox/ack', '"@query": ?',
                      f'"content-digest": {headers[CONTENT_DIGEST]}',
                      f'"@signature-params": {params}'])
    assert f"```\n{base}\n```" in doc
    signed_headers = read_signed_headers(headers)
    check_signed_request(signed_headers, method="POST", path="/api/v1/mailbox/ack",
                         body=b'{"cursor":42}', headers=headers, public_key=key.public_key(),
                         now=dt.datetime(2026, 12, 6, 4, 1, tzinfo=dt.UTC))
