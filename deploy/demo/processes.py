"""The demo's processes: starting ``tongban`` servers and workers, waiting for them, stopping
them; and the work folder's private files."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import click
import requests

from hub.config import DEFAULTS as HUB_DEFAULTS
from node.config import DEFAULTS as NODE_DEFAULTS

LOOPBACK = "127.0.0.1"
HEALTH_TIMEOUT = 90.0  # seconds a server gets to answer /healthz after it starts
STOP_TIMEOUT = 15.0  # seconds a process gets to stop after SIGTERM before it is killed
POLL_INTERVAL = 0.25


# -- errors -----------------------------------------------------------------------------------


class DemoError(click.ClickException):
    """Something stopped the demo from starting; the children are stopped before it shows."""


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived while the demo was still starting."""


class ChildDied(Exception):
    def __init__(self, child: Child) -> None:
        super().__init__(f"the {child.name} server exited with code {child.process.returncode}")
        self.child = child


# -- the work folder --------------------------------------------------------------------------


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by its owner only (mode 0600)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(temporary, path)


def new_password() -> str:
    # the "tb-" prefix keeps it mixed (letters, digits, symbols) as the password rules require
    return "tb-" + secrets.token_urlsafe(12)


SETTING_VARIABLES = frozenset(
    {"TONGBAN_CONFIG"} | {f"TONGBAN_{key.upper()}" for key in (*NODE_DEFAULTS, *HUB_DEFAULTS)}
)


def scrub_environment() -> list[str]:
    """Drop ``TONGBAN_*`` settings: they would point both servers at one home or database."""
    removed = sorted(key for key in os.environ if key in SETTING_VARIABLES)
    for key in removed:
        del os.environ[key]
    return removed


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # gunicorn binds with SO_REUSEADDR too, so a port in TIME_WAIT counts as free
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


# -- the server processes ---------------------------------------------------------------------


def tongban_command() -> list[str]:
    script = Path(sys.executable).with_name("tongban")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from deploy.cli import main; main()"]


@dataclass
class Child:
    """One ``tongban … serve`` process (a gunicorn master and its workers)."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    base_url: str

    @classmethod
    def start(cls, name: str, args: list[str], log_path: Path, base_url: str) -> Child:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with log_path.open("ab") as log:
            stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            log.write(f"\n=== tongban demo started {name} at {stamp} ===\n".encode())
            log.flush()
            process = subprocess.Popen(
                [*tongban_command(), *args],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                # its own process group: Ctrl-C reaches only the demo, which stops the servers
                start_new_session=True,
            )
        return cls(name, process, log_path, base_url)

    def exited(self) -> bool:
        return self.process.poll() is not None

    def terminate(self) -> None:
        if not self.exited():
            self.process.terminate()  # gunicorn's graceful shutdown

    def wait_or_kill(self, timeout: float) -> None:
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # the master and its workers; it may have ended between the timeout and the kill
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"(cannot read {self.log_path}: {exc})"
        return "\n".join(text.splitlines()[-lines:])


def stop_all(children: Iterable[Child], out: TextIO | None = None) -> None:
    children = list(children)
    if not children:
        return
    names = [c.name for c in children]
    label = " and ".join(names) if len(names) <= 3 else f"{len(names)} processes"
    click.echo(f"stopping {label} …", file=out)
    for child in children:
        child.terminate()
    for child in children:
        child.wait_or_kill(STOP_TIMEOUT)
    click.echo("stopped.", file=out)


def wait_healthy(child: Child, stop: threading.Event, http: requests.Session) -> dict[str, Any]:
    """Poll the child's ``/healthz`` until it answers ok; fail if the child dies or stalls."""
    url = f"{child.base_url}/healthz"
    deadline = time.monotonic() + HEALTH_TIMEOUT
    while time.monotonic() < deadline:
        if stop.is_set():
            raise Interrupted
        if child.exited():
            raise ChildDied(child)
        try:
            response = http.get(url, timeout=2)
            if response.status_code == 200:
                health: dict[str, Any] = response.json()
                return health
        except requests.RequestException:
            pass  # not listening yet: gunicorn is still booting
        stop.wait(POLL_INTERVAL)
    raise DemoError(
        f"the {child.name} did not answer {url} within {HEALTH_TIMEOUT:.0f} s; "
        f"see {child.log_path}"
    )


