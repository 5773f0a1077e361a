"""The fault suite (`make faults`): real processes on loopback, broken on purpose.

These scenarios take minutes, kill processes and, in one of them, restart a PostgreSQL
server, so the ordinary test run does not collect them: ``make faults`` sets
``TONGBAN_FAULTS=1`` and runs this folder alone, on two pytest-xdist workers (each scenario
has its own copy of the federation, its own ports and processes; the PostgreSQL scenario its
own server).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("TONGBAN_FAULTS") != "1":
    collect_ignore_glob = ["test_*.py"]

# where to write the figures as JSON, when set (make faults: var/faults-report.json)
REPORT = os.environ.get("TONGBAN_FAULTS_REPORT", "")
# a figure travels in its test's report (user_properties), from an xdist worker to the
# process that prints the summary
FIGURE = "fault_suite_figure"
_figures: dict[str, Any] = {}


def _run_root(factory: pytest.TempPathFactory) -> Path:
    """The folder every worker of this run shares (the run's base folder under xdist)."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The federation of tests.faults.cluster built once per run (hub on SQLite) by the first
    worker that needs it, under a file lock; the other worker waits and reads where it is.
    Each scenario runs on its own copy."""
    from tests.faults.cluster import build

    root = _run_root(tmp_path_factory)
    work = root / "fault-template"
    done = root / "fault-template.built"
    with (root / "fault-template.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not done.exists():
            shutil.rmtree(work, ignore_errors=True)  # what a worker's failed build left
            work.mkdir()
            build(work)
            done.touch()
    return work


@pytest.fixture
def report(request: pytest.FixtureRequest) -> Any:
    """Record a figure of a scenario (printed at the end, and written to the report file)."""

    def record(name: str, value: Any) -> None:
        request.node.user_properties.append((FIGURE, [name, value]))

    return record


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The PostgreSQL scenario first among the fault scenarios: it builds a federation of its
    own (its hub on its own server), so under xdist that build runs while the other worker
    builds the template."""
    places = [n for n, item in enumerate(items) if "tests/faults/" in item.nodeid]
    ours = sorted((items[n] for n in places),
                  key=lambda item: "test_postgres_restart.py" not in item.nodeid)
    for n, item in zip(places, ours, strict=True):
        items[n] = item


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for key, figure in report.user_properties:
        if key == FIGURE:
            name: str = figure[0]  # type: ignore[index]
            _figures[name] = figure[1]  # type: ignore[index]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _figures or hasattr(terminalreporter.config, "workerinput"):
        return  # (an xdist worker's figures are printed by the process that started it)
    terminalreporter.section("fault suite figures")
    for name, value in sorted(_figures.items()):
        terminalreporter.write_line(f"{name}: {value}")
    if REPORT:
        Path(REPORT).parent.mkdir(parents=True, exist_ok=True)
        Path(REPORT).write_text(json.dumps(_figures, indent=1, ensure_ascii=False) + "\n",
                      encoding="utf-8")
