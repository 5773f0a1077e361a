"""``tongban demo``: a hub and the Beiliu node started, used over HTTP, and stopped by a signal."""

from __future__ import annotations

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

import pytest
import requests

from tests.integration.conftest import (
    STOP_TIMEOUT,
    TONGBAN,
    clean_env,
    free_port,
    gunicorn_masters,
    kill_process_group,
    port_is_closed,
    run_tongban,
    stop_process,
)

pytestmark = pytest.mark.slow

START_TIMEOUT = 90  # seconds until the demo prints its URLs
RUNNING = "Press Ctrl-C to stop."


class DemoProcess:
    """``tongban demo`` running in the background, its output read line by line."""

    def __init__(self, work: Path, hub_port: int, node_port: int, *extra: str) -> None:
        self.work = work
        self.hub_url = f"http://127.0.0.1:{hub_port}"
        self.node_url = f"http://127.0.0.1:{node_port}"
        self.ports = (hub_port, node_port)
        self.process = subprocess.Popen(
            [TONGBAN, "demo", "--dir", str(work), "--hub-port", str(hub_port),
             "--node-port", str(node_port), "--workers", "1", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            text=True, env=clean_env(),
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

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
        for log in ("hub.log", "node.log"):
            for pid in gunicorn_masters(self.work / "logs" / log):
                kill_process_group(pid)  # no-op for servers the demo stopped itself
        assert self.process.stdout is not None
        self.process.stdout.close()


@pytest.fixture
def start_demo(tmp_path: Path) -> Iterator[Callable]:
    started: list[DemoProcess] = []

    def start(*extra: str, work: Path | None = None) -> DemoProcess:
        demo = DemoProcess(work or tmp_path / "demo", free_port(), free_port(), *extra)
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


def _guide(node_url: str) -> dict:
    response = requests.get(f"{node_url}/api/v1/guide/matters", params={"per_page": 100},
                            timeout=10)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_demo_serves_hub_and_node_until_sigint(start_demo: Callable) -> None:
    demo = start_demo()
    output = demo.read_until(RUNNING)

    for url in (f"{demo.hub_url}/healthz", f"{demo.node_url}/healthz",
                f"{demo.node_url}/api/v1/docs", f"{demo.node_url}/api/v1/guide/matters"):
        assert url in output
    hub = requests.get(f"{demo.hub_url}/healthz", timeout=10).json()
    node = requests.get(f"{demo.node_url}/healthz", timeout=10).json()
    docs = requests.get(f"{demo.node_url}/api/v1/docs", timeout=10)
    guide = _guide(demo.node_url)
    logins = {
        username: _login(demo.node_url, username, _printed_password(output, username))
        for username in ("admin", "clerk", "supervisor")
    }
    roles = {
        username: requests.get(
            f"{demo.node_url}/api/v1/auth/me",
            headers={"Authorization": f"Bearer {response.json()['token']}"}, timeout=10,
        ).json()["role"]
        for username, response in logins.items()
        if response.status_code == 200
    }

    assert hub["status"] == "ok"
    assert hub["service"] == "hub"
    assert node["status"] == "ok"
    assert node["code"] == "450981"
    assert node["name"] == "北流市政务服务中心"
    assert docs.status_code == 200
    assert guide["total"] >= 10
    matters = guide["items"]
    assert {m["handling_type"] for m in matters} == {"immediate", "promised"}
    assert any(m["notify_and_commit"] for m in matters)
    assert any(not m["entered"] and m["window"] is None for m in matters)
    assert all(m["materials"] and m["legal_basis"] for m in matters)
    assert {m["department"]["name"] for m in matters} >= {
        "公安局", "市场监督管理局", "自然资源局", "住房和城乡建设局", "卫生健康局"
    }
    assert roles == {"admin": "admin", "clerk": "clerk", "supervisor": "supervisor"}
    assert stat.S_IMODE((demo.work / "logins.json").stat().st_mode) == 0o600

    demo.process.send_signal(signal.SIGINT)

    assert demo.wait(timeout=20) == 0, demo.output
    assert "stopped." in demo.output
    assert all(port_is_closed(port) for port in demo.ports)


def test_second_run_reuses_the_folder(start_demo: Callable, tmp_path: Path) -> None:
    work = tmp_path / "reused"
    first = start_demo("--exit-after-start", work=work)
    assert first.wait(timeout=START_TIMEOUT) == 0, first.output
    added = re.search(r"catalog: added .*?(\d+) matters", first.output)
    assert added, first.output
    logins = json.loads((work / "logins.json").read_text())

    second = start_demo(work=work)
    output = second.read_until(RUNNING)
    guide = _guide(second.node_url)
    login = _login(second.node_url, "admin", logins["admin"])
    second.process.send_signal(signal.SIGTERM)

    assert second.wait(timeout=20) == 0, second.output
    assert "(reused)" in output
    assert "left as it is" in output
    assert json.loads((work / "logins.json").read_text()) == logins
    assert _printed_password(output, "admin") == logins["admin"]
    assert login.status_code == 200, login.text
    assert guide["total"] == int(added.group(1))
    assert all(port_is_closed(port) for port in second.ports)


def test_demo_exits_non_zero_when_a_server_dies(start_demo: Callable) -> None:
    demo = start_demo()
    demo.read_until(RUNNING)
    [node_master] = gunicorn_masters(demo.work / "logs" / "node.log")

    os.killpg(node_master, signal.SIGKILL)

    assert demo.wait(timeout=20) != 0
    assert "node server exited" in demo.output
    assert all(port_is_closed(port) for port in demo.ports)


def test_demo_refuses_one_port_for_both_servers(tmp_path: Path) -> None:
    port = str(free_port())

    result = run_tongban(
        "demo", "--dir", str(tmp_path / "demo"), "--hub-port", port, "--node-port", port,
        cwd=tmp_path,
    )

    assert result.returncode != 0
    assert "different ports" in result.stderr


def test_demo_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        result = run_tongban(
            "demo", "--dir", str(tmp_path / "demo"), "--hub-port", str(free_port()),
            "--node-port", str(port), cwd=tmp_path,
        )

    assert result.returncode != 0
    assert f"port {port}" in result.stderr
    assert "--node-port" in result.stderr
