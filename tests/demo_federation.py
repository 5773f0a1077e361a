"""The demo federation of ``tongban demo --check``, built once per test session and shared:
the integration test checks its report, the browser tests serve its homes again and click
through its data (the ``demo_check`` fixture of tests/conftest.py).

Under pytest-xdist every worker has its own session fixtures, so the first worker that needs
the federation builds it in the run's shared temporary folder, holding a file lock, and
writes down where it is; the others wait on the lock and read that."""

from __future__ import annotations

import fcntl
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.integration.conftest import free_port, free_port_range, run_tongban, served_env

BUILD_TIMEOUT = 600  # seconds for ``tongban demo --check`` on a loaded two-CPU machine
NODES = 6  # province, city, two county-level centers, a township under each


@dataclass(frozen=True)
class DemoCheck:
    """A finished ``tongban demo --check``: its folder, ports, output and JSON report."""

    work: Path
    hub_port: int
    base_port: int
    result: subprocess.CompletedProcess[str]

    @property
    def report(self) -> dict[str, Any]:
        return json.loads(self.result.stdout)  # type: ignore[no-any-return]


def build(parent: Path) -> DemoCheck:
    work = parent / "federation"
    hub_port, base_port = free_port(), free_port_range(NODES)
    result = run_tongban("demo", "--check", "--dir", str(work), "--hub-port", str(hub_port),
                         "--base-port", str(base_port), cwd=parent, timeout=BUILD_TIMEOUT,
                         env=served_env())  # the servers it starts and stops
    return DemoCheck(work, hub_port, base_port, result)


def shared(root: Path) -> DemoCheck:
    """The run's one federation under ``root`` (shared by the workers), built by whichever
    asks first."""
    record = root / "demo-check.json"
    with (root / "demo-check.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if record.exists():
            saved = json.loads(record.read_text(encoding="utf-8"))
            return DemoCheck(Path(saved["work"]), saved["hub_port"], saved["base_port"],
                             subprocess.CompletedProcess(saved["args"], saved["returncode"],
                                                         saved["stdout"], saved["stderr"]))
        (root / "demo-check").mkdir(exist_ok=True)
        built = build(root / "demo-check")
        record.write_text(json.dumps({
            "work": str(built.work), "hub_port": built.hub_port, "base_port": built.base_port,
            "args": built.result.args, "returncode": built.result.returncode,
            "stdout": built.result.stdout, "stderr": built.result.stderr}), encoding="utf-8")
        return built
