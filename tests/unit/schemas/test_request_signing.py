"""Signed requests: what verifies and every way one is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.keys import generate_private_key
from schemas.request_signing import (
    HEADER_NONCE,
    HEADER_TIME,
    RequestAuthError,
    check_signed_request,
    read_signed_headers,
    sign_request,
)

NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


def signed(body: bytes = b'{"x": 1}', path: str = "/api/v1/mailbox?after=3"):
    key = generate_private_key()
    headers = sign_request(method="GET", path=path, body=body, node="450981",
                           private_key=key, now=NOW)
    return key, headers


def check(headers, key, *, method="GET", path="/api/v1/mailbox?after=3", body=b'{"x": 1}',
          now=NOW) -> None:
    check_signed_request(read_signed_headers(headers), method=method, path=path, body=body,
                         public_key=key.public_key(), now=now)


def test_a_signed_request_verifies() -> None:
    key, headers = signed()
    check(headers, key)
    check(headers, key, now=NOW + dt.timedelta(minutes=4))


@pytest.mark.parametrize(
    "change",
    [
        {"method": "POST"},
        {"path": "/api/v1/mailbox?after=4"},
        {"body": b'{"x": 2}'},
    ],
)
def test_any_change_breaks_the_signature(change) -> None:
    key, headers = signed()
    with pytest.raises(RequestAuthError) as caught:
        check(headers, key, **change)
    assert caught.value.code == "bad_signature"


def test_wrong_key_and_stale_time() -> None:
    key, headers = signed()
    with pytest.raises(RequestAuthError, match="does not verify"):
        check(headers, generate_private_key())
    with pytest.raises(RequestAuthError) as caught:
        check(headers, key, now=NOW + dt.timedelta(minutes=6))
    assert caught.value.code == "stale_time"


def test_missing_or_bad_headers() -> None:
    key, headers = signed()
    for name in list(headers):
        partial = {k: v for k, v in headers.items() if k != name}
        with pytest.raises(RequestAuthError) as caught:
            read_signed_headers(partial)
        assert caught.value.code == "unsigned"
    with pytest.raises(RequestAuthError) as caught:
        read_signed_headers({**headers, HEADER_TIME: "yesterday"})
    assert caught.value.code == "bad_time"
    with pytest.raises(RequestAuthError) as caught:
        read_signed_headers({**headers, HEADER_NONCE: "short"})
    assert caught.value.code == "bad_nonce"
    tampered_time = {**headers, HEADER_TIME: (NOW + dt.timedelta(seconds=1)).isoformat()}
    with pytest.raises(RequestAuthError) as caught:
        check(tampered_time, key)
    assert caught.value.code == "bad_signature"
