"""``tongban demo``: a hub and the Beiliu node started, used over HTTP, and stopped by a signal."""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import re
import signal
import socket
import stat
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import text

from node.config import node_settings
from schemas.runtime.database import Database
from schemas.runtime.passwords import verify_password
from tests.demo_federation import DemoCheck
from tests.integration.conftest import (
    STOP_TIMEOUT,
    TONGBAN,
    free_port,
    free_port_range,
    gunicorn_masters,
    kill_process_group,
    port_is_closed,
    run_tongban,
    served_env,
    stop_process,
)

pytestmark = pytest.mark.slow
# under pytest-xdist (--dist loadgroup, pyproject.toml) the tests of one module-scoped demo
# folder run on one worker, which builds it once; the --check report's test runs beside the
# browser tests that serve the same session federation (tests/browser/conftest.py)
DEMO_RUN = pytest.mark.xdist_group("demo-run")
DEMO_CHECK = pytest.mark.xdist_group("demo-federation")

START_TIMEOUT = 600  # seconds until the demo prints its URLs (23 centers set up and started)
RUNNING = "Press Ctrl-C to stop."
SMALL = ("--months", "1", "--scale", "0.02", "--no-workers")  # the whole federation, few cases
CODES = ["450000", "450900", "450902", "450903", "450921", "450922", "450923", "450924",
         "450981", "450902001", "450902002", "450903101", "450903102", "450921101",
         "450921102", "450922101", "450922102", "450923101", "450923102", "450924101",
         "450924102", "450981101", "450981102"]


class DemoProcess:
    """``tongban demo`` running in the background, its output read line by line."""

    def __init__(self, work: Path, hub_port: int, base_port: int, *extra: str) -> None:
        self.work = work
        self.hub_url = f"http://127.0.0.1:{hub_port}"
        self.base_port = base_port
        self.process = subprocess.Popen(
            [TONGBAN, "demo", "--dir", str(work), "--hub-port", str(hub_port),
             "--base-port", str(base_port), "--workers", "1", *SMALL, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, env=served_env(),  # its servers stopped with a short graceful stop
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def node_url(self, code: str) -> str:
        return f"http://127.0.0.1:{self.base_port + CODES.index(code)}"

    @property
    def ports(self) -> list[int]:
        return [int(self.hub_url.rsplit(":", 1)[1]),
                *(self.base_port + i for i in range(len(CODES)))]

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def read_until(self, marker: str, timeout: float = START_TIMEOUT) -> str:
        """Collect output until a line contains ``marker``; fail on timeout or exit."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                pytest.fail(f"no {marker!r} within {timeout} s:\n{self.output}")
            try:
                line = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                code = self.process.wait()
                pytest.fail(f"demo exited ({code}) before {marker!r}:\n{self.output}")
            self.lines.append(line)
            if marker in line:
                return self.output

    def wait(self, timeout: float = STOP_TIMEOUT) -> int:
        code = self.process.wait(timeout=timeout)
        self._drain()
        return code

    def _drain(self) -> None:
        self._reader.join(timeout=5)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                break
            if line is not None:
                self.lines.append(line)

    def close(self) -> None:
        """Stop the demo (and, should it fail to, its servers) and release the pipe."""
        stop_process(self.process, signal.SIGTERM)
        self._drain()
        for log in (self.work / "logs").glob("*.log"):
            for pid in gunicorn_masters(log):
                kill_process_group(pid)  # no-op for servers the demo stopped itself
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def start_demo(tmp_path: Path) -> Iterator[Callable]:
    started: list[DemoProcess] = []

    def start(*extra: str, work: Path | None = None) -> DemoProcess:
        demo = DemoProcess(work or tmp_path / "demo", free_port(), free_port_range(len(CODES)),
                           *extra)
        started.append(demo)
        return demo

    yield start
    for demo in started:
        demo.close()


def _printed_password(output: str, username: str) -> str:
    match = re.search(rf"^\s+{username}\s+(\S+)\s", output, re.MULTILINE)
    assert match, f"no login printed for {username}:\n{output}"
    return match.group(1)


def _login(node_url: str, username: str, password: str) -> requests.Response:
    return requests.post(
        f"{node_url}/api/v1/auth/login", json={"username": username, "password": password},
        timeout=10,
    )


def _get(url: str, token: str | None = None, **params: object) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = requests.get(url, params=params, headers=headers, timeout=20)
    assert response.status_code == 200, f"{url}: {response.text}"
    return response.json()  # type: ignore[no-any-return]


@DEMO_CHECK
def test_demo_check_verifies_every_flow(demo_check: DemoCheck) -> None:
    """What CI runs: the smaller federation, every flow checked, one JSON report (the
    federation is the session's, which the browser tests then serve: tests/demo_federation.py)."""
    result, base = demo_check.result, demo_check.base_port

    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["nodes"] == 6
    assert set(report["checks"]) == {"catalog_publish", "calendar", "forward_result",
                                     "bundle", "tongban_lateral", "directive_reply",
                                     "summaries_at_hub",
                                     "league_table", "indicators", "ranking_time",
                                     "forward_time"}
    assert all(check["ok"] for check in report["checks"].values()), report
    # the two figures the demo promises (reported, not asserted against their goals here)
    assert report["ranking_ms"] > 0
    assert report["forward_s"] > 0
    assert "stopped." in result.stderr
    assert re.search(r"^ready in \d+\.\d s \(homes ", result.stderr, re.MULTILINE)
    assert all(port_is_closed(base + i) for i in range(6))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A demo folder built once (``--exit-after-start``): later runs reuse it."""
    work = tmp_path_factory.mktemp("demo") / "federation"
    demo = DemoProcess(work, free_port(), free_port_range(len(CODES)), "--exit-after-start")
    try:
        assert demo.wait(timeout=START_TIMEOUT) == 0, demo.output
    finally:
        demo.close()
    return work, demo.output


@DEMO_RUN
def test_the_first_run_builds_the_federation(built: tuple[Path, str]) -> None:
    work, output = built

    assert "(new)" in output
    assert "enrolled: 22 centers enrolled by their parents" in output
    assert re.search(r"history: \d+ cases", output)
    # each phase prints its time; the past cases' bar counted every case it had announced
    made = re.search(r"^history: (\d+) cases \(\d+\.\d s\)$", output, re.MULTILINE)
    assert made, output
    assert re.search(rf"months of cases .*\b{made.group(1)}/{made.group(1)}\b", output)
    assert re.search(r"^ready in \d+\.\d s \(homes .*history \d+\.\d s", output, re.MULTILINE)
    assert "forwarded today" in output
    assert "signed summaries at the hub" in output
    # the city's composite methodology, saved at the hub under its Chinese title
    assert "methodology: 450900 saved 「季度综合评价」 version 1 (450900.quarterly)" in output
    assert stat.S_IMODE((work / "logins.json").stat().st_mode) == 0o600


@DEMO_RUN
def test_every_center_stores_the_one_hash_of_each_login(built: tuple[Path, str]) -> None:
    """Each login is the same on every center: the demo hashes its password once for all 23
    (deploy/demo/federation.py ``create_users``), and that hash checks the password printed
    and kept in logins.json, and no other."""
    work = built[0]
    logins = json.loads((work / "logins.json").read_text())
    stored: dict[str, set[str]] = {username: set() for username in logins}
    for code in CODES:
        db = Database(node_settings({"home": str(work / f"node-{code}")}).database_url)
        try:
            with db.engine.connect() as connection:
                rows = connection.execute(text("SELECT username, password_hash FROM users"))
                for username, password_hash in rows:
                    stored[username].add(password_hash)
        finally:
            db.dispose()

    assert set(stored) == {"admin", "clerk", "approver", "supervisor", "viewer"}
    assert all(len(hashes) == 1 for hashes in stored.values()), stored
    for username, [password_hash] in stored.items():
        assert verify_password(password_hash, logins[username]), username
    assert not verify_password(stored["admin"].copy().pop(), logins["clerk"])


@DEMO_RUN
def test_a_second_run_reuses_the_folder_and_serves_every_center_until_sigint(
    start_demo: Callable, built: tuple[Path, str]
) -> None:
    work = built[0]
    logins = json.loads((work / "logins.json").read_text())
    demo = start_demo(work=work)
    output = demo.read_until(RUNNING)

    assert "(reused)" in output
    assert "history:" not in output  # nothing is set up twice
    assert "enrolled:" not in output
    assert _printed_password(output, "admin") == logins["admin"]
    for code in CODES:
        assert demo.node_url(code) in output
        assert _get(f"{demo.node_url(code)}/healthz")["code"] == code
    assert _get(f"{demo.hub_url}/healthz")["service"] == "hub"
    beiliu = demo.node_url("450981")
    roles = {}
    for username in ("admin", "clerk", "approver", "supervisor", "viewer"):
        login = _login(beiliu, username, _printed_password(output, username))
        assert login.status_code == 200, login.text
        roles[username] = _get(f"{beiliu}/api/v1/auth/me", login.json()["token"])["role"]
    assert roles == {name: name for name in roles}
    viewer = _login(demo.node_url("450900"), "viewer", logins["viewer"]).json()["token"]
    period = dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    table = _get(f"{demo.node_url('450900')}/api/v1/rankings/league", viewer,
                 period=period, metric="completed", level="county", peers="all")
    ranked = [row for group in table["groups"] for row in group["rows"]
              if row["status"] == "ranked"]
    assert len(ranked) == 7
    guide = requests.get(f"{demo.node_url('450981101')}/api/v1/guide/matters",
                         params={"per_page": 100}, timeout=20)
    assert guide.status_code == 200, guide.text
    # the province's standard catalog reached the township: its eleven matters and the four
    # of 新生儿出生一件事 (deploy/demo/catalog.py MATTERS, BIRTH_MATTERS)
    assert guide.json()["total"] == len(guide.json()["items"]) == 15

    demo.process.send_signal(signal.SIGINT)

    assert demo.wait(timeout=120) == 0, demo.output
    assert "stopped." in demo.output
    assert all(port_is_closed(port) for port in demo.ports)


@DEMO_RUN
def test_demo_exits_non_zero_when_a_server_dies(
    start_demo: Callable, built: tuple[Path, str]
) -> None:
    demo = start_demo(work=built[0])
    demo.read_until(RUNNING)
    [node_master] = gunicorn_masters(demo.work / "logs" / "node-450981.log")[-1:]

    os.killpg(node_master, signal.SIGKILL)

    assert demo.wait(timeout=120) != 0
    assert "node 450981 server exited" in demo.output
    assert all(port_is_closed(port) for port in demo.ports)


def test_demo_refuses_overlapping_ports(tmp_path: Path) -> None:
    port = free_port()

    result = run_tongban(
        "demo", "--dir", str(tmp_path / "demo"), "--hub-port", str(port + 3),
        "--base-port", str(port), cwd=tmp_path,
    )

    assert result.returncode != 0
    assert "--hub-port" in result.stderr


def test_demo_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = run_tongban(
            "demo", "--dir", str(tmp_path / "demo"), "--hub-port", str(free_port()),
            "--base-port", str(port), cwd=tmp_path,
        )

    assert result.returncode != 0
    assert f"port {port}" in result.stderr
    assert "--base-port" in result.stderr
