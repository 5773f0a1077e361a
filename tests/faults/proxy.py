"""A small HTTP relay between nodes and the hub that misbehaves on purpose.

Each request gets its own upstream connection (``Connection: close`` both ways, so that a
connection carries one exchange and the faults follow a fixed cycle).  Modes, in turn:

``pass``   the exchange goes through untouched;
``drop``   the connection is closed before the request reaches the hub;
``lost``   the hub gets the request and answers, the answer is thrown away;
``delay``  the answer is held past the client's timeout, then sent to nobody;
``cut``    half of the answer is sent, then the connection is closed.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from contextlib import suppress

# Each fault follows two passes: a strict pass/fault alternation starved a client whose step
# needs two requests in a row (a pull that must also fetch the registry) whenever its requests
# fell on the same parity — a livelock of the test's own making, seen once in CI.
CYCLE = ("pass", "pass", "drop", "pass", "pass", "lost", "pass", "pass", "delay", "pass", "pass",
         "cut")


def _read_request(client: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = client.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    lines = head.split(b"\r\n")
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = client.recv(65536)
        if not chunk:
            return None
        body += chunk
    kept = [line for line in lines if not line.lower().startswith(b"connection:")]
    return b"\r\n".join([*kept, b"Connection: close"]) + b"\r\n\r\n" + body


class FaultyProxy:
    """Listen on a free loopback port and relay to ``upstream_port`` with faults."""

    def __init__(self, upstream_port: int, delay: float, cycle: tuple[str, ...] = CYCLE):
        self.upstream_port = upstream_port
        self.delay = delay
        self.cycle = cycle
        self.counts: Counter[str] = Counter()
        self._turn = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self._server.settimeout(0.2)
        self.port = int(self._server.getsockname()[1])
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FaultyProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._server.close()

    def _next_mode(self) -> str:
        with self._lock:
            mode = self.cycle[self._turn % len(self.cycle)]
            self._turn += 1
            self.counts[mode] += 1
            return mode

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._exchange, args=(client,), daemon=True).start()

    def _exchange(self, client: socket.socket) -> None:
        with client, suppress(OSError):
            client.settimeout(60)
            request = _read_request(client)
            if request is None:
                return
            mode = self._next_mode()
            if mode == "drop":
                return
            with socket.create_connection(("127.0.0.1", self.upstream_port), 60) as upstream:
                upstream.sendall(request)
                answer = b""
                while chunk := upstream.recv(65536):
                    answer += chunk
            if mode == "lost":
                return
            if mode == "delay":
                time.sleep(self.delay)
            elif mode == "cut":
                answer = answer[: len(answer) // 2]
            client.sendall(answer)
