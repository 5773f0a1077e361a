"""The hub's PostgreSQL restarted while a node pushes: the hub answers errors while the
database is away (5xx, which the node retries with backoff), then recovers by itself — the
same hub processes, no restart of their own (``pool_pre_ping`` replaces the pool's dead
connections) — and every envelope is delivered exactly once.

The scenario runs its own PostgreSQL server (initdb in a temporary folder, on a free port),
so that restarting it disturbs no other test using the machine's server.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.cluster import COUNTY, TOWNSHIP, Cluster, build, cluster, kill_group, wait_until
from tests.faults.ports import free_port
from tests.faults.test_crashes import _expect_delivered_once

pytestmark = pytest.mark.slow

N = 200


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


class PrivatePostgres:
    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="tongban-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        shutil.chown(self.folder, "postgres", "postgres")
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres",
                          "--no-sync", "-E", "UTF8")
        self.start()
        self._as_postgres("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U",
                          "postgres", "hub")

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/hub"

    def _as_postgres(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if shutil.which("runuser"):
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120,
                       cwd=self.folder)

    def _ctl(self, action: str, *extra: str) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "pg.log"),
                          "-w", "-t", "60", "-o",
                          f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1",
                          action, *extra)

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture
def postgres() -> Iterator[PrivatePostgres]:
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("no PostgreSQL server binaries in /usr/lib/postgresql")
    server = PrivatePostgres(bindir)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fed(tmp_path: Path, postgres: PrivatePostgres) -> Iterator[Cluster]:
    work = tmp_path / "fed"
    work.mkdir()
    build(work, hub_database_url=postgres.url)
    with cluster(work, work, hub_database_url=postgres.url) as built:
        yield built


def test_hub_recovers_from_a_postgres_restart_under_load(
    fed: Cluster, postgres: PrivatePostgres, report: object
) -> None:
    assert fed.hub_process is not None
    hub_pid = fed.hub_process.pid
    fed.issue_directives(COUNTY, TOWNSHIP, N, "pgrestart")
    worker = fed.start_worker(COUNTY)
    wait_until(lambda: fed.hub_count(COUNTY, "directive") or None, 60,
               "the first pushed batch", interval=0.01)
    postgres.restart()
    at_restart = fed.hub_count(COUNTY, "directive")
    wait_until(lambda: fed.pending(COUNTY) == 0, 120, "the county's outbox to drain",
               interval=0.1)
    kill_group(worker, 15)
    report("pg_restart_logged_before", at_restart)  # type: ignore[operator]
    assert at_restart < N, "the restart came after the push had finished"
    assert fed.hub_process is not None
    assert fed.hub_process.pid == hub_pid
    assert fed.hub_process.poll() is None  # the same hub, never restarted
    fed.sync_ok(TOWNSHIP)
    _expect_delivered_once(fed, "pgrestart", N)
