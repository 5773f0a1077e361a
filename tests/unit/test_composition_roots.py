"""The edges (commands, views, app factories, the worker) build no service themselves: they
take each from the composition root (node/composition.py, hub/composition.py), where the
settings' policies and the ports are wired once.  A command that builds, say, an
``AuthService`` with a policy of its own is the drift this catches."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDGES = (
    "node/cli.py", "node/commands", "node/web", "node/api", "node/app.py", "node/worker.py",
    "node/backup.py", "hub/cli.py", "hub/commands", "hub/api", "hub/app.py", "hub/backup.py",
)


def _modules() -> list[Path]:
    found: list[Path] = []
    for edge in EDGES:
        path = ROOT / edge
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


def _services_built(source: str) -> list[str]:
    """Each call of a name ending in ``Service`` (a feature's service class), by line."""
    built = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            name = (node.func.id if isinstance(node.func, ast.Name)
                    else node.func.attr if isinstance(node.func, ast.Attribute) else "")
            if name.endswith("Service"):
                built.append(f"{node.lineno}: {name}(…)")
    return built


def test_the_scan_sees_a_service_built_in_place() -> None:
    assert _services_built("from x import AuthService\nAuthService(session, policy)\n") == [
        "2: AuthService(…)"]
    assert _services_built("services.auth(session)\nNodeServices(settings, key)\n") == []


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_an_edge_builds_no_service_itself(path: Path) -> None:
    assert _services_built(path.read_text(encoding="utf-8")) == []
