"""Nodes waiting on their mailboxes cost the hub no thread (docs/scale.md, "Serving model").

Real ``tongban hub serve`` processes on loopback, enrolled nodes signing their requests as the
sync worker does (node.sync.client.HttpHubTransport):

- one hub worker holds 50 long polls while ``/healthz`` and a push are answered among them
  (the health answer itself counts the waiting requests), and the push wakes its addressee
  at once; the same hub served by gthread with 4 threads does not answer ``/healthz`` while
  the 50 wait — the failure the gevent worker removes;
- a long poll held by one hub process is woken by a push accepted by another process on the
  same PostgreSQL (LISTEN/NOTIFY), well before its wait ends.

The hub runs on PostgreSQL when ``TONGBAN_TEST_PG`` is set, otherwise on SQLite (the
cross-process test needs PostgreSQL: SQLite has no notification channel).
"""

from __future__ import annotations

import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from sqlalchemy import create_engine, text

from node.sync.client import HttpHubTransport
from schemas.keys import public_key_b64
from tests.bench.enrolment import PROVINCE, Federation, enroll, signed_forward, small_province
from tests.conftest import PG_URL
from tests.integration.conftest import (
    TONGBAN,
    free_port,
    run_tongban,
    served_env,
    stop_process,
    stop_processes,
    wait_for_all_health,
    wait_for_health,
)

pytestmark = pytest.mark.slow

WAITERS = 50
WAIT_SECONDS = 10.0


@dataclass
class Hub:
    work: Path
    fed: Federation
    next_seq: dict[str, int]
    processes: list[Any] = field(default_factory=list)
    logs: dict[Any, Path] = field(default_factory=dict)
    by_url: dict[str, Any] = field(default_factory=dict)

    def serve(self, *extra: str, poll_seconds: float | None = None) -> str:
        return self.wait(self.launch(*extra, poll_seconds=poll_seconds))

    def launch(self, *extra: str, poll_seconds: float | None = None) -> str:
        """A hub process started, not yet waited for (:meth:`wait`): its URL."""
        port = free_port()
        log = self.work / f"hub-{port}.log"
        env = served_env()  # a 1 s graceful stop: nothing is in flight when it is stopped
        if poll_seconds is not None:
            env["TONGBAN_MAILBOX_POLL_SECONDS"] = str(poll_seconds)
        with log.open("wb") as out:
            process = subprocess.Popen(
                [TONGBAN, "hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{port}",
                 "--workers", "1", *extra], cwd=self.work, env=env, stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        url = f"http://127.0.0.1:{port}"
        self.processes.append(process)
        self.logs[process] = log
        self.by_url[url] = process
        return url

    def wait(self, url: str) -> str:
        """Until the process started for ``url`` answers ``/healthz``; the URL."""
        process = self.by_url[url]
        wait_for_health(f"{url}/healthz", process, self.logs[process])
        return url

    def transport(self, url: str, code: str, timeout: float = 10.0) -> HttpHubTransport:
        return HttpHubTransport(url, code, self.fed.keys[code], timeout=timeout)

    def forward(self, url: str, origin: str, to: str) -> None:
        seq = self.next_seq.get(origin, 1)
        self.next_seq[origin] = seq + 1
        results = self.transport(url, origin).post_envelopes(
            [signed_forward(self.fed, origin, to, seq, seq)])
        assert [r["status"] for r in results] == ["accepted"], results


def _database_args(stack: ExitStack) -> list[str]:
    if not PG_URL:
        return []
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE pid <> pg_backend_pid() AND query LIKE 'LISTEN%'"))
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    stack.callback(drop)
    separator = "&" if "?" in PG_URL else "?"
    return ["--database-url", f"{PG_URL}{separator}options={quote(f'-csearch_path={schema}')}"]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    work = tmp_path_factory.mktemp("waiting")
    with ExitStack() as stack:
        init = run_tongban("hub", "init", "--home", "hub", *_database_args(stack), cwd=work)
        assert init.returncode == 0, init.stderr
        fed = Federation(0, codes=small_province(WAITERS + 4))
        trust = run_tongban("hub", "trust-root", "--home", "hub", "--code", PROVINCE,
                            "--public-key", public_key_b64(fed.root_key.public_key()), cwd=work)
        assert trust.returncode == 0, trust.stderr
        state = Hub(work, fed, {})

        def stop_all() -> None:  # side by side, each killed once its master is done
            stop_processes(state.processes, logs=state.logs)

        stack.callback(stop_all)
        url = state.serve()
        state.next_seq = enroll(url, fed)
        yield state


def _townships(fed: Federation) -> list[str]:
    found = [code for code in fed.codes if len(code) == 9]
    assert len(found) >= WAITERS, "the federation has too few townships"
    return found


def _wait_in_threads(hub: Hub, url: str, codes: list[str], wait: float,
                     answers: dict[str, Any]) -> list[threading.Thread]:
    """A long poll per code, each on its own thread; ``answers[code]`` is its items or the
    exception it ended with, and when it ended."""

    def poll(code: str) -> None:
        started = time.monotonic()
        try:
            items: Any = hub.transport(url, code).wait_for_mailbox(0, 10, wait)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            items = exc
        answers[code] = (items, time.monotonic() - started)

    threads = [threading.Thread(target=poll, args=(code,), daemon=True) for code in codes]
    for thread in threads:
        thread.start()
    return threads


def _waiting(url: str, expected: int, timeout: float = 15.0) -> dict[str, Any]:
    """``/healthz`` once the hub process counts ``expected`` waiting requests."""
    deadline = time.monotonic() + timeout
    health: dict[str, Any] = {}
    while time.monotonic() < deadline:
        health = requests.get(f"{url}/healthz", timeout=5).json()
        if health["mailbox_waiters"] == expected:
            return health
        time.sleep(0.1)
    pytest.fail(f"the hub never counted {expected} waiting requests: {health}")


def test_short_requests_answer_while_fifty_nodes_wait(hub: Hub) -> None:
    url = hub.serve()  # a second process: one gevent worker
    townships = _townships(hub.fed)[:WAITERS]
    answers: dict[str, Any] = {}
    threads = _wait_in_threads(hub, url, townships, WAIT_SECONDS, answers)
    # /healthz answers while all 50 wait, and says so itself
    health = _waiting(url, WAITERS)
    assert health["status"] == "ok"
    for _ in range(5):
        again = requests.get(f"{url}/healthz", timeout=5).json()
        assert again["mailbox_waiters"] == WAITERS
    assert not answers, "a long poll ended before anything was sent to it"

    # a push among them is answered and wakes its addressee's long poll at once: a
    # township's case.forward to its county, which waits as well
    sender = _townships(hub.fed)[WAITERS]
    target = sender[:6]
    county_answers: dict[str, Any] = {}
    county_thread = _wait_in_threads(hub, url, [target], WAIT_SECONDS, county_answers)[0]
    _waiting(url, WAITERS + 1)
    pushed = time.monotonic()
    hub.forward(url, sender, target)
    county_thread.join(timeout=WAIT_SECONDS)
    items, _ = county_answers[target]
    woken_after = time.monotonic() - pushed
    assert not isinstance(items, Exception), items
    assert [item["envelope"]["from"] for item in items] == [sender]
    assert woken_after < WAIT_SECONDS / 2, f"woken only after {woken_after:.1f} s"
    # the 50 others still wait: the push woke nobody else
    assert _waiting(url, WAITERS)["mailbox_waiters"] == WAITERS

    for thread in threads:
        thread.join(timeout=WAIT_SECONDS + 15)
    assert len(answers) == WAITERS
    assert all(items == [] for items, _ in answers.values()), answers


def test_gthread_with_four_threads_starves_behind_the_waiting(hub: Hub) -> None:
    """The control: with threads, 50 waiting nodes take all 4 and /healthz waits for them."""
    url = hub.serve("--worker-class", "gthread", "--threads", "4")
    wait = 6.0
    answers: dict[str, Any] = {}
    threads = _wait_in_threads(hub, url, _townships(hub.fed)[:WAITERS], wait, answers)
    time.sleep(1.5)  # let the first four take the threads
    with pytest.raises(requests.Timeout):
        requests.get(f"{url}/healthz", timeout=2)
    stop_process(hub.processes.pop())  # the queued polls end with the process
    for thread in threads:
        thread.join(timeout=30)


@pytest.mark.skipif(not PG_URL, reason="SQLite has no notification channel between processes")
def test_a_push_to_one_hub_process_wakes_a_long_poll_held_by_another(hub: Hub) -> None:
    # no fallback look within the wait: only a notification can end it early
    waiting_at = hub.launch(poll_seconds=3 * WAIT_SECONDS)  # both started, then waited for
    pushing_to = hub.launch(poll_seconds=3 * WAIT_SECONDS)
    wait_for_all_health((f"{url}/healthz", hub.by_url[url], hub.logs[hub.by_url[url]])
                        for url in (waiting_at, pushing_to))
    sender = _townships(hub.fed)[WAITERS + 1]
    county = sender[:6]
    answers: dict[str, Any] = {}
    thread = _wait_in_threads(hub, waiting_at, [county], WAIT_SECONDS, answers)[0]
    _waiting(waiting_at, 1)
    assert requests.get(f"{pushing_to}/healthz", timeout=5).json()["mailbox_waiters"] == 0
    pushed = time.monotonic()
    hub.forward(pushing_to, sender, county)
    thread.join(timeout=WAIT_SECONDS + 10)
    items, _ = answers[county]
    woken_after = time.monotonic() - pushed
    assert not isinstance(items, Exception), items
    assert [item["envelope"]["from"] for item in items] == [sender]
    assert woken_after < WAIT_SECONDS / 2, f"woken only after {woken_after:.1f} s"
