"""The fault suite (`make faults`): real processes on loopback, broken on purpose.

These scenarios take minutes, kill processes and, in one of them, restart a PostgreSQL
server, so the ordinary test run does not collect them: ``make faults`` sets
``TONGBAN_FAULTS=1`` and runs this folder alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

if os.environ.get("TONGBAN_FAULTS") != "1":
    collect_ignore_glob = ["test_*.py"]

# where to write the figures as JSON, when set (make faults: var/faults-report.json)
REPORT = os.environ.get("TONGBAN_FAULTS_REPORT", "")
_figures: dict[str, Any] = {}


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The federation of tests.faults.cluster built once (hub on SQLite); each scenario
    runs on its own copy."""
    from tests.faults.cluster import build

    work = tmp_path_factory.mktemp("template")
    build(work)
    return work


@pytest.fixture
def report() -> Any:
    """Record a figure of a scenario (printed at the end, and written to the report file)."""

    def record(name: str, value: Any) -> None:
        _figures[name] = value

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _figures:
        return
    terminalreporter.section("fault suite figures")
    for name, value in sorted(_figures.items()):
        terminalreporter.write_line(f"{name}: {value}")
    if REPORT:
        Path(REPORT).parent.mkdir(parents=True, exist_ok=True)
        Path(REPORT).write_text(json.dumps(_figures, indent=1, ensure_ascii=False) + "\n",
                      encoding="utf-8")
