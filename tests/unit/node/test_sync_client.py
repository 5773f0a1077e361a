"""The hub transport: both implementations conform; the HTTP one signs, times out, maps errors."""

from __future__ import annotations

import datetime as dt
import inspect
import socket
import threading
from http.client import RemoteDisconnected
from typing import Any

import orjson
import pytest
import requests
from requests.adapters import BaseAdapter
from urllib3.exceptions import ProtocolError

from node.ports import HubUnavailable
from node.sync.client import HttpHubTransport
from node.sync.errors import HubRefused
from node.sync.transport import HubTransport
from schemas.keys import generate_private_key, key_id
from schemas.request_signing import (
    SIGNATURE_INPUT,
    check_signed_request,
    read_signed_headers,
)
from tests.unit.node.test_sync_fakes import COUNTY, FakeHub

NOW = dt.datetime(2026, 11, 29, 4, 0, tzinfo=dt.UTC)


class Recording(BaseAdapter):
    """A requests adapter that answers from a script and records what was sent."""

    def __init__(self, answers: list[Any]) -> None:
        super().__init__()
        self.answers = answers
        self.sent: list[tuple[requests.PreparedRequest, dict[str, Any]]] = []

    def send(  # type: ignore[override]  # only what requests passes by keyword
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        self.sent.append((request, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, payload = answer
        response = requests.Response()
        response.status_code = status
        response._content = orjson.dumps(payload)
        response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


def _transport(answers: list[Any]) -> tuple[HttpHubTransport, Recording, Any]:
    key = generate_private_key()
    session = requests.Session()
    adapter = Recording(answers)
    session.mount("http://", adapter)
    transport = HttpHubTransport("http://hub.test:9000/", COUNTY, key, timeout=7.5,
                                 session=session, clock=lambda: NOW)
    return transport, adapter, key


@pytest.mark.parametrize("implementation", [HttpHubTransport, FakeHub])
def test_both_transports_conform_to_the_protocol(implementation: type) -> None:
    instance = (implementation("http://hub", COUNTY, generate_private_key())
                if implementation is HttpHubTransport else implementation())
    assert isinstance(instance, HubTransport)
    for name in ("post_envelopes", "fetch_mailbox", "ack", "fetch_registry"):
        wanted = inspect.signature(getattr(HubTransport, name))
        given = inspect.signature(getattr(implementation, name))
        assert list(given.parameters) == list(wanted.parameters), name


def test_every_call_is_signed_with_a_timeout() -> None:
    results = [{"id": "x", "status": "accepted"}]
    transport, adapter, key = _transport([
        (200, {"results": results}),
        (200, {"items": [{"cursor": 3, "envelope": {}}]}),
        (200, {}),
        (200, {"root": "450000"}),
    ])
    assert transport.post_envelopes([{"id": "x"}]) == results
    assert transport.fetch_mailbox(2, 50) == [{"cursor": 3, "envelope": {}}]
    transport.ack(3)
    assert transport.fetch_registry() == {"root": "450000"}
    (post, _), (get, _), (ack, _), (registry, _) = adapter.sent
    assert all(kw["timeout"] == 7.5 for _, kw in adapter.sent)
    assert post.url == "http://hub.test:9000/api/v1/envelopes"
    assert orjson.loads(post.body or b"") == {"envelopes": [{"id": "x"}]}
    assert get.url == "http://hub.test:9000/api/v1/mailbox?after=2&limit=50"
    assert orjson.loads(ack.body or b"") == {"cursor": 3}
    for request, path in ((post, "/api/v1/envelopes"), (get, "/api/v1/mailbox?after=2&limit=50"),
                          (ack, "/api/v1/mailbox/ack")):
        headers = dict(request.headers)
        signed = read_signed_headers(headers)
        assert (signed.node, signed.key_id) == (COUNTY, key_id(key.public_key()))
        body = request.body if isinstance(request.body, bytes) else b""
        check_signed_request(signed, method=request.method or "", path=path, body=body,
                             headers=headers, public_key=key.public_key(), now=NOW)
    assert SIGNATURE_INPUT not in registry.headers  # the registry is public


@pytest.mark.parametrize(("answer", "error"), [
    (requests.ConnectionError("refused"), HubUnavailable),
    (requests.Timeout("slow"), HubUnavailable),
    ((503, {"error": {"code": "down", "message": "maintenance"}}), HubUnavailable),
    ((429, {"error": {"code": "slow_down", "message": "too many"}}), HubUnavailable),
    ((401, {"error": {"code": "unauthorized", "message": "stale time"}}), HubRefused),
])
def test_failures_map_to_retryable_or_refused(answer: Any, error: type[Exception]) -> None:
    transport, _, _ = _transport([answer])
    with pytest.raises(error) as caught:
        transport.fetch_mailbox(0, 10)
    if isinstance(caught.value, HubRefused):
        assert caught.value.status == 401
        assert "stale time" in caught.value.message


def _closed_under_it() -> requests.ConnectionError:
    """What requests raises when the hub closed the kept-alive connection it reused."""
    return requests.ConnectionError(ProtocolError(
        "Connection aborted.", RemoteDisconnected("Remote end closed connection without response")))


def test_an_idempotent_request_on_a_connection_closed_under_it_is_sent_once_more() -> None:
    results = [{"id": "x", "status": "accepted"}]
    transport, adapter, key = _transport([
        _closed_under_it(), (200, {"items": []}),
        _closed_under_it(), (200, {"results": results}),
        _closed_under_it(), (200, {}),
    ])
    assert transport.fetch_mailbox(0, 10) == []
    assert transport.post_envelopes([{"id": "x"}]) == results  # the hub logs it once
    transport.ack(3)
    assert [request.method for request, _ in adapter.sent] == ["GET", "GET", "POST", "POST",
                                                               "POST", "POST"]
    # each attempt signed afresh: the hub may have stored the first one's nonce
    first, second = (read_signed_headers(dict(request.headers)) for request, _ in adapter.sent[:2])
    assert first.nonce != second.nonce
    check_signed_request(second, method="GET", path="/api/v1/mailbox?after=0&limit=10",
                         body=b"", headers=dict(adapter.sent[1][0].headers),
                         public_key=key.public_key(), now=NOW)


def test_only_once_and_only_when_the_connection_was_closed_under_it() -> None:
    # twice in a row: the second failure is the hub's state, for the worker's backoff
    transport, adapter, _ = _transport([_closed_under_it(), _closed_under_it()])
    with pytest.raises(HubUnavailable):
        transport.fetch_mailbox(0, 10)
    assert len(adapter.sent) == 2
    # a refused connection or a timeout: not here
    for failure in (requests.ConnectionError("refused"), requests.ReadTimeout("slow")):
        transport, adapter, _ = _transport([failure, (200, {"items": []})])
        with pytest.raises(HubUnavailable):
            transport.fetch_mailbox(0, 10)
        assert len(adapter.sent) == 1
    # a POST that is not idempotent (opening an audit) is never sent twice
    transport, adapter, _ = _transport([_closed_under_it(), (200, {"id": "a"})])
    with pytest.raises(HubUnavailable):
        transport.open_audit("450981", "2026-11", 5)
    assert len(adapter.sent) == 1


def test_a_kept_alive_connection_the_server_closed_is_retried_on_a_new_one() -> None:
    """A real socket: the server answers the first request with keep-alive and closes the
    connection when the second arrives on it, as a hub at the end of its keep-alive does."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    connections: list[int] = []
    answer = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
              b"Content-Length: 12\r\nConnection: keep-alive\r\n\r\n{\"items\":[]}")

    def serve() -> None:
        for number in range(2):
            connection, _ = listener.accept()
            connections.append(number)
            with connection:
                connection.recv(65536)
                connection.sendall(answer)
                if number == 0:  # the second request on the first connection: closed
                    connection.recv(65536)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    transport = HttpHubTransport(f"http://127.0.0.1:{port}", COUNTY, generate_private_key(),
                                 timeout=5)
    try:
        assert transport.fetch_mailbox(0, 10) == []
        assert transport.fetch_mailbox(0, 10) == []  # reused, closed under it, sent again
        server.join(timeout=5)
        assert connections == [0, 1]
    finally:
        transport.close()
        listener.close()
