"""A small federation of real processes that the fault scenarios break on purpose.

A hub and the chain province 450000 → city 450900 → county-level city 450981 → township
450981101, each node with its own home and SQLite database; the hub on SQLite, or on a
PostgreSQL URL given.  Processes are started in their own session so that a SIGKILL takes a
gunicorn master and its workers together, as a crash of the machine's process would.  Every
wait is bounded; everything started is killed when the cluster's ExitStack closes.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

from node.config import node_settings
from node.metadata import load_all_models
from node.sync.keys import load_node_key
from node.sync.outbox import SigningOutbox
from schemas.runtime.database import Database
from tests.faults.ports import free_port
from tests.integration.conftest import (
    STOP_TIMEOUT,
    TONGBAN,
    run_tongban,
    served_env,
)
from tests.integration.federation import _output, _public_key, ok_here
from tests.unit.node.conftest import matter_payload

PROVINCE, CITY, COUNTY, TOWNSHIP = "450000", "450900", "450981", "450981101"
HOMES = {PROVINCE: "p", CITY: "c", COUNTY: "k", TOWNSHIP: "t"}
PASSWORD = "fault-suite-pass-9"
SHARED = "11450000MB0001"  # a county-level matter the township and the county both hold

# quick, small and patient: batches of 10 so that a push or pull takes many round trips (a
# kill lands in the middle), a short backoff so that the suite converges in seconds, and an
# idle long poll of 1 s (mail is answered as it arrives, whatever the poll's length): a worker
# stopped with SIGTERM waits for its pull thread to leave the poll (up to 5 s with 5 s polls)
FAST_SYNC = {
    "push_batch_size": 10,
    "pull_batch_size": 10,
    "sync_interval_seconds": 2,
    "push_watch_seconds": 0.1,
    "pull_wait_seconds": 1.0,
    "sync_backoff_base_seconds": 0.2,
    "sync_backoff_cap_seconds": 1.0,
    "hub_timeout_seconds": 10,
}


def wait_until(condition: Callable[[], Any], timeout: float, what: str,
               interval: float = 0.05) -> Any:
    """Poll ``condition`` until it is truthy (its value) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    return str(value).lower() if isinstance(value, bool) else str(value)


def kill_group(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    """Signal a process started in its own session together with its children."""
    kill_groups([process], sig)


def kill_groups(processes: list[subprocess.Popen[bytes]], sig: int = signal.SIGKILL) -> None:
    """Signal processes started in their own sessions, each with its children, all first and
    then each waited for (SIGKILL to a group still there after ``STOP_TIMEOUT``)."""
    for process in processes:
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
    deadline = time.monotonic() + STOP_TIMEOUT
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)


@dataclass
class Cluster:
    work: Path
    stack: ExitStack
    hub_port: int
    hub_database_url: str
    hub_process: subprocess.Popen[bytes] | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    bases: dict[str, str] = field(default_factory=dict)
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)
    _logs: int = 0

    # -- processes --------------------------------------------------------------------------

    @property
    def hub(self) -> str:
        return f"http://127.0.0.1:{self.hub_port}"

    def spawn(self, *args: str, log: str) -> subprocess.Popen[bytes]:
        """``tongban ARGS`` in its own session, output in ``<work>/<log>.<n>.log``."""
        self._logs += 1
        path = self.work / f"{log}.{self._logs}.log"
        with path.open("wb") as out:
            process = subprocess.Popen(
                [TONGBAN, *args], cwd=self.work, env=served_env(), stdout=out,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        process.log_path = path  # type: ignore[attr-defined]
        self.processes.append(process)
        return process

    def start_hub(self, workers: int = 2) -> subprocess.Popen[bytes]:
        process = self.spawn("hub", "serve", "--home", "hub", "--bind",
                             f"127.0.0.1:{self.hub_port}", "--workers", str(workers), log="hub")
        self.wait_healthy(self.hub, process)
        self.hub_process = process
        return process

    def kill_hub(self, sig: int = signal.SIGKILL) -> None:
        assert self.hub_process is not None
        kill_group(self.hub_process, sig)
        self.hub_process = None

    def wait_healthy(self, base: str, process: subprocess.Popen[bytes],
                     timeout: float = 30) -> None:
        def healthy() -> bool:
            if process.poll() is not None:
                raise AssertionError(f"{process.args} exited with {process.returncode}:\n"
                                     f"{self.log_of(process)}")
            with suppress(requests.RequestException):
                return requests.get(f"{base}/healthz", timeout=2).status_code == 200
            return False

        wait_until(healthy, timeout, f"{base}/healthz", interval=0.1)

    def log_of(self, process: subprocess.Popen[bytes]) -> str:
        path: Path = process.log_path  # type: ignore[attr-defined]
        return path.read_text(errors="replace")[-4000:]

    def start_worker(self, code: str) -> subprocess.Popen[bytes]:
        return self.spawn("node", "worker", "--home", HOMES[code], log=f"worker-{code}")

    def serve_node(self, code: str) -> None:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = self.spawn("node", "serve", "--home", HOMES[code], "--bind",
                             f"127.0.0.1:{port}", "--workers", "2", log=f"node-{code}")
        self.wait_healthy(base, process)
        self.bases[code] = base

    def stop_all(self, sig: int = signal.SIGKILL) -> None:
        """Every process still running signalled at once (with its children), then waited
        for.  A scenario's processes are killed when it ends: it has read everything it
        checks, and its copy of the federation is thrown away (a SIGTERM let the hub's
        gunicorn and each worker's long poll finish, one process after the other)."""
        kill_groups([process for process in self.processes if process.poll() is None], sig)

    def sync(self, code: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``tongban node sync-now`` once (it may fail while something is broken)."""
        return run_tongban("node", "sync-now", "--home", HOMES[code], cwd=self.work,
                           timeout=timeout)

    def sync_ok(self, code: str) -> str:
        result = self.sync(code)
        assert result.returncode == 0, _output(result)
        return result.stdout

    # -- configuration ------------------------------------------------------------------------

    def configure(self, code: str, **settings: Any) -> None:
        """Set node settings in its tongban.toml (keys already there are replaced)."""
        path = self.work / HOMES[code] / "tongban.toml"
        kept = [line for line in path.read_text(encoding="utf-8").splitlines()
                if line.split("=", 1)[0].strip() not in settings]
        kept += [f"{key} = {_toml(value)}" for key, value in settings.items()]
        path.write_text("\n".join(kept) + "\n", encoding="utf-8")

    # -- databases ----------------------------------------------------------------------------

    def node_db(self, code: str) -> Database:
        load_all_models()
        db = Database(f"sqlite:///{self.work / HOMES[code] / 'node.db'}")
        self.stack.callback(db.dispose)
        return db

    def node_rows(self, code: str, sql: str, **params: Any) -> list[Any]:
        engine = create_engine(f"sqlite:///{self.work / HOMES[code] / 'node.db'}")
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql), params))
        finally:
            engine.dispose()

    def hub_rows(self, sql: str, **params: Any) -> list[Any]:
        engine = create_engine(self.hub_database_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql), params))
        finally:
            engine.dispose()

    def hub_count(self, sender: str, kind: str) -> int:
        return int(self.hub_rows("SELECT count(*) FROM envelope_log WHERE sender = :s "
                                 "AND kind = :k", s=sender, k=kind)[0][0])

    def pending(self, code: str) -> int:
        return int(self.node_rows(code, "SELECT count(*) FROM sync_outbox "
                                        "WHERE state = 'pending'")[0][0])

    # -- work ---------------------------------------------------------------------------------

    def issue_directives(self, issuer: str, target: str, count: int, label: str) -> list[str]:
        """``count`` directives from ``issuer`` to ``target``, numbered in their text, each
        in its own transaction as the API would (the same service, without HTTP)."""
        from node.directives.service import DirectiveService
        from node.sync.names import RegistryCenterNames

        settings = node_settings({"home": str(self.work / HOMES[issuer])})
        key = load_node_key(settings)
        db = self.node_db(issuer)
        due = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=10)
        ids = []
        for number in range(count):
            with db.unit_of_work() as session:
                directive = DirectiveService(session, outbox=SigningOutbox(issuer, key),
                                             names=RegistryCenterNames(issuer, "")).issue(
                    "fault-suite", target, "text", f"{label}-{number:05d}", due)
                ids.append(directive.directive_id)
        return ids

    def incoming_directives(self, code: str, label: str) -> list[str]:
        """The texts of the directives ``code`` received with ``label``, in the order they
        were applied (row id)."""
        rows = self.node_rows(code, "SELECT text FROM directives WHERE direction = 'incoming' "
                                    "AND text LIKE :label ORDER BY id", label=f"{label}-%")
        return [row[0] for row in rows]

    # -- staff through the web API ----------------------------------------------------------

    def login(self, code: str, username: str) -> str:
        response = requests.post(f"{self.bases[code]}/api/v1/auth/login",
                                 json={"username": username, "password": PASSWORD}, timeout=20)
        assert response.status_code == 200, response.text
        return str(response.json()["token"])

    def call(self, code: str, role: str, method: str, path: str, body: Any = None,
             status: int = 200) -> Any:
        token = self.tokens[(code, role)]
        response = requests.request(method, self.bases[code] + path, json=body,
                                    headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        return response.json()

    def staff(self, code: str) -> None:
        """Department SC, window W01, the shared county-level matter, a clerk and an admin."""
        self.tokens[(code, "admin")] = self.login(code, "admin")
        self.call(code, "admin", "POST", "/api/v1/departments",
                  {"code": "SC", "name": "市场监督管理局"}, 201)
        self.call(code, "admin", "POST", "/api/v1/windows",
                  {"code": "W01", "name": "市场监管窗口", "location": "一楼",
                   "department_codes": ["SC"]}, 201)
        self.call(code, "admin", "POST", "/api/v1/matters",
                  matter_payload(code=SHARED, handling_level="county"), 201)
        self.call(code, "admin", "POST", "/api/v1/users",
                  {"username": "clerk1", "role": "clerk", "department_code": "SC",
                   "password": PASSWORD}, 201)
        self.tokens[(code, "clerk")] = self.login(code, "clerk1")

    def forward_case(self, code: str, name: str) -> dict[str, Any]:
        """A case received, accepted and forwarded to the parent through the web API."""
        case = self.call(code, "clerk", "POST", "/api/v1/cases", {
            "matter_code": SHARED, "applicant_name": name,
            "applicant_id_number": "11010519491231002X", "applicant_phone": "13800138000"},
            201)
        case = self.call(code, "clerk", "POST", f"/api/v1/cases/{case['id']}/accept",
                         {"version": case["version"]})
        moved = self.call(code, "clerk", "POST", f"/api/v1/cases/{case['id']}/forward",
                          {"version": case["version"]})
        assert moved["state"] == "forwarded", moved
        return moved  # type: ignore[no-any-return]

    def linked_origins(self, code: str) -> list[str]:
        """Origin case numbers of the cases ``code`` opened from forwards, in opening order."""
        rows = self.node_rows(code, "SELECT origin_case_number FROM cases "
                                    "WHERE origin_case_number IS NOT NULL ORDER BY id")
        return [row[0] for row in rows]


def build(work: Path, *, hub_database_url: str | None = None) -> None:
    """Build the federation in ``work``: enrolled, certificates at the hub, registry cached
    at the county and the township; the hub stopped again.  The set-up's commands run in
    this process (the scenarios run theirs as processes); the hub is a process."""
    init = ["hub", "init", "--home", "hub"]
    if hub_database_url:
        init += ["--database-url", hub_database_url]
    ok_here(*init, cwd=work)
    for code, home in HOMES.items():
        ok_here("node", "init", "--home", home, "--code", code,
                *(("--kind", "county_city") if code == COUNTY else ()), cwd=work)
    keys = {code: _public_key(work / home) for code, home in HOMES.items()}
    ok_here("node", "enroll-self", "--home", HOMES[PROVINCE], cwd=work)
    ok_here("hub", "trust-root", "--home", "hub", "--code", PROVINCE,
            "--public-key", keys[PROVINCE][0], cwd=work)
    for home in HOMES.values():
        ok_here("node", "create-user", "--home", home, "--username", "admin", "--role",
                "admin", "--password", PASSWORD, cwd=work)
    with ExitStack() as stack:
        fed = Cluster(work, stack, free_port(),
                      hub_database_url or f"sqlite:///{work / 'hub' / 'hub.db'}")
        stack.callback(fed.stop_all, signal.SIGTERM)  # the template is copied: stopped cleanly
        for code in HOMES:
            fed.configure(code, hub_url=fed.hub, **FAST_SYNC)
        fed.start_hub()

        def sync(code: str) -> None:
            synced = ok_here("node", "sync-now", "--home", HOMES[code], cwd=work)
            assert "0 rejected" in synced.stdout, synced.stdout

        sync(PROVINCE)
        for parent, child in ((PROVINCE, CITY), (CITY, COUNTY), (COUNTY, TOWNSHIP)):
            ok_here("node", "enroll-child", "--home", HOMES[parent], "--code", child,
                    *(("--kind", "county_city") if child == COUNTY else ()),
                    "--public-key", keys[child][0], cwd=work)
            sync(parent)
        for code in (COUNTY, TOWNSHIP):  # registry cached, cursors at the start
            sync(code)


@contextmanager
def cluster(work: Path, template: Path, *, settings: dict[str, Any] | None = None,
            hub_database_url: str | None = None) -> Iterator[Cluster]:
    """A copy of the federation built in ``template``, in ``work``, with its hub running on
    a fresh port (and the node settings given).  A hub on PostgreSQL is built in place
    (``template`` is then ``work`` itself)."""
    if template != work:
        shutil.copytree(template, work, dirs_exist_ok=True)
    with ExitStack() as stack:
        fed = Cluster(work, stack, free_port(),
                      hub_database_url or f"sqlite:///{work / 'hub' / 'hub.db'}")
        stack.callback(fed.stop_all)
        for code in HOMES:
            fed.configure(code, hub_url=fed.hub, **{**FAST_SYNC, **(settings or {})})
        fed.start_hub()
        yield fed
