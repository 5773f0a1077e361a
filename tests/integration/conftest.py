"""Helpers for tests that run the real ``tongban`` command and its servers on loopback.

Every process started here is bounded in time and stopped in teardown, even when the test
fails half-way.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests

if TYPE_CHECKING:
    from tests.integration.federation import Template

# the console script of the interpreter running the tests (the project's .venv)
TONGBAN = str(Path(sys.executable).with_name("tongban"))
REPO = Path(__file__).resolve().parents[2]
COMMAND_TIMEOUT = 60  # seconds for a command that should just do its job and exit
START_TIMEOUT = 30  # seconds for a server to answer /healthz
STOP_TIMEOUT = 20  # seconds for a server to stop after SIGTERM or SIGINT


def clean_env() -> dict[str, str]:
    """The environment without tongban settings, so that only the arguments configure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env["PYTHONUNBUFFERED"] = "1"
    return env


# A served process stopped at a test's end has nothing in flight: gunicorn's graceful stop
# (schemas/runtime/serving.py, 10 s) need not wait, and a gevent hub with an idle kept-alive
# connection or a node's open long poll waited all of it (18.5 s for a hub with one idle
# connection on the loaded machine, 2026-12-07). Production keeps its setting.
GRACEFUL_TIMEOUT = "1"


def served_env() -> dict[str, str]:
    """:func:`clean_env` for a server the tests start and stop: a 1 s graceful stop."""
    return {**clean_env(), "TONGBAN_GUNICORN_GRACEFUL_TIMEOUT": GRACEFUL_TIMEOUT}


# Ports for the servers tests start. A port found free and then bound by a server a moment
# later could be taken in between by another xdist worker (or by the kernel, for a client's
# ephemeral port): so each worker hands out ports only from a block of its own, below the
# kernel's ephemeral range (32768-60999 on Linux), each port once per run and only when it can
# be bound and nobody answers on it. The blocks of one run start at an offset drawn from the
# run's id, so that two runs on one machine rarely share a block either.
PORT_FLOOR, PORT_CEILING, PORT_BLOCK = 10_000, 32_000, 1_000


@functools.cache
def _port_block() -> tuple[int, int]:
    """This worker's block of ports: [start, end)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    blocks = (PORT_CEILING - PORT_FLOOR) // PORT_BLOCK
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"{os.getpid()}"
    offset = int(hashlib.sha256(run.encode()).hexdigest(), 16) % blocks
    block = (offset + (int(worker) if worker.isdigit() else 0)) % blocks
    start = PORT_FLOOR + block * PORT_BLOCK
    return start, start + PORT_BLOCK


@functools.cache
def _ports() -> Iterator[int]:
    return itertools.count(_port_block()[0])


def free_port() -> int:
    """A loopback port of this worker's block that nobody listens on or holds."""
    return free_port_range(1)


def free_port_range(count: int) -> int:
    """The first of ``count`` consecutive loopback ports of this worker's block that nobody
    listens on or holds; each is handed out once per run."""
    _start, end = _port_block()
    while True:
        base = next(_ports())
        if base + count > end:
            pytest.fail(f"this worker's ports ({_start}-{end - 1}) are used up")
        if all(port_is_closed(base + i) and bindable(base + i) for i in range(count)):
            for _ in range(count - 1):
                next(_ports())
            return base


def bindable(port: int) -> bool:
    """Whether this process could bind ``port`` on the loopback (nobody holds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_is_closed(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1)
        try:
            probe.connect(("127.0.0.1", port))
        except OSError:
            return True
    return False


def run_tongban(
    *args: str, cwd: Path, timeout: float = COMMAND_TIMEOUT, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``tongban ARGS`` to completion and capture its output (``env``: default
    :func:`clean_env`)."""
    return subprocess.run(
        [TONGBAN, *args], cwd=cwd, env=env or clean_env(), capture_output=True, text=True,
        timeout=timeout, check=False, stdin=subprocess.DEVNULL,
    )


def invoke_tongban(*args: str, cwd: Path, input: str | None = None,
                   ) -> subprocess.CompletedProcess[str]:
    """``tongban ARGS`` run in this process with Click's runner (no interpreter to start),
    in ``cwd`` and without tongban settings in the environment, like :func:`run_tongban`."""
    from click.testing import CliRunner

    from deploy.cli import main

    runner = CliRunner(env={name: None for name in os.environ if name.startswith("TONGBAN_")})
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        result = runner.invoke(main, list(args), input=input, catch_exceptions=False,
                               prog_name="tongban")
    finally:
        os.chdir(previous)
    return subprocess.CompletedProcess([TONGBAN, *args], result.exit_code, result.stdout,
                                       result.stderr)


def stop_process(process: subprocess.Popen[bytes] | subprocess.Popen[str],
                 sig: int = signal.SIGTERM) -> int:
    """Stop a process: the signal, then SIGKILL after ``STOP_TIMEOUT``; its exit code."""
    if process.poll() is None:
        process.send_signal(sig)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


# gunicorn's master logs this once its workers are gone and its sockets closed; what it does
# after is the interpreter's teardown
MASTER_DONE = "Shutting down: Master"


def _masters_done(log: Path) -> int:
    return log.read_text(errors="replace").count(MASTER_DONE) if log.exists() else 0


def stop_processes(processes: Iterable[subprocess.Popen[bytes] | subprocess.Popen[str]],
                   sig: int = signal.SIGTERM,
                   logs: Mapping[subprocess.Popen[Any], Path] | None = None) -> None:
    """Stop processes side by side: each sent ``sig`` first, then each waited for (SIGKILL
    after ``STOP_TIMEOUT``). A served process takes seconds to stop: its gunicorn worker and
    then its master each tear down the app's interpreter after their last log line (4-5 s of
    wall time each on the loaded machine, about 0.5 s of CPU), and stopped one after the
    other, a module's hub and nodes added those up. A server whose ``logs`` entry names its
    log is killed as soon as its master has logged that it is shutting down (its workers
    stopped and reaped, its sockets closed): only the teardown is cut, and nothing the test
    reads is lost. The exit code of such a server is then -9: a test that checks how a server
    exits stops it with :func:`stop_process`."""
    processes = list(processes)
    logs = logs or {}
    done_before = {process: _masters_done(log) for process, log in logs.items()}
    for process in processes:
        if process.poll() is None:
            process.send_signal(sig)
    deadline = time.monotonic() + STOP_TIMEOUT
    waiting = [process for process in processes if process.poll() is None]
    while waiting and time.monotonic() < deadline:
        for process in list(waiting):
            log = logs.get(process)
            if process.poll() is None and log is not None \
                    and _masters_done(log) > done_before[process]:
                process.kill()
                process.wait()
            if process.poll() is not None:
                waiting.remove(process)
        if waiting:
            time.sleep(0.1)
    for process in waiting:
        process.kill()
        process.wait()


def wait_for_health(url: str, process: subprocess.Popen[bytes], log: Path,
                    timeout: float = START_TIMEOUT) -> dict:
    """Poll ``url`` until it answers 200; fail early when the server process exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log.read_text()}")
        with suppress(requests.RequestException):
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return response.json()  # type: ignore[no-any-return]
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer within {timeout} s:\n{log.read_text()}")


def wait_for_all_health(servers: Iterable[tuple[str, subprocess.Popen[bytes], Path]]
                        ) -> list[dict]:
    """:func:`wait_for_health` for servers started together (``(url, process, log)`` each),
    in turn, within one budget of ``START_TIMEOUT`` for each of them: started at once they
    share the machine's cores while they import and migrate (on the loaded two-core machine,
    2026-12-07, a hub and five nodes started together had not all answered within 30 s)."""
    servers = list(servers)
    deadline = time.monotonic() + START_TIMEOUT * len(servers)
    return [wait_for_health(url, process, log,
                            timeout=max(START_TIMEOUT, deadline - time.monotonic()))
            for url, process, log in servers]


@contextmanager
def serving(*args: str, cwd: Path, log: Path, quick_stop: bool = False
            ) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``tongban ARGS`` (a server) with its output in ``log``; stop it on exit (with
    ``quick_stop``, killed once its master has logged that it is shutting down, see
    :func:`stop_processes`)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [TONGBAN, *args], cwd=cwd, env=served_env(), stdout=out,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        yield process
    finally:
        if quick_stop:
            stop_processes([process], logs={process: log})
        else:
            stop_process(process)


_LISTENING = re.compile(r"Listening at: \S+ \((\d+)\)")


def gunicorn_masters(log: Path) -> list[int]:
    """The pids of the gunicorn masters that wrote to ``log``."""
    if not log.exists():
        return []
    return [int(pid) for pid in _LISTENING.findall(log.read_text(errors="replace"))]


def kill_process_group(pid: int) -> None:
    """Kill a server started in its own session (master and workers), if still there."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


@pytest.fixture
def home_dir(tmp_path: Path) -> Path:
    """A working directory for commands, so that default paths never land in the repository."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def federation_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The standard federation built once per run and shared by the xdist workers, for
    modules to copy (tests/integration/federation.py)."""
    from tests.integration.federation import shared_template

    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the run's folder, above each worker's own
    return shared_template(root)
