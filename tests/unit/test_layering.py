"""DESIGN.md's layering: domain modules import neither Flask nor requests; schemas/ imports
neither node/ nor hub/; hub/ and node/ never import each other."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

DOMAIN_MODULES = [
    "node.cases.states",
    "node.cases.authorization",
    "node.cases.service",
    "node.cases.reading",
    "node.cases.transitions",
    "node.cases.warnings",
    "node.calendar.workdays",
    "node.calendar.service",
    "node.calendar.schedules",
    "node.calendar.publishing",
    "node.cases.recompute",
    "node.catalog.service",
    "node.catalog.exchange",
    "node.catalog.problems",
    "node.catalog.schemas",
    "node.catalog.workbook",
    "node.auth.service",
    "node.audit.chain",
    "node.metrics.assessment",
    "node.metrics.assessment_workbook",
    "node.metrics.summary",
    "node.metrics.rollup",
    "node.metrics.daily",
    "node.metrics.patterns",
    "node.metrics.service",
    "node.feedback.service",
    "node.feedback.states",
    "node.cases.factory",
    "node.sync.service",
    "node.sync.trust",
    "node.sync.status",
    "node.sync.outbox",
    "node.sync.enrollment",
]


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_domain_module_imports_no_web_or_http(module: str) -> None:
    probe = (
        f"import sys, {module}; "
        "bad = sorted(m for m in ('flask', 'flask_smorest', 'requests') if m in sys.modules); "
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add((str(path.relative_to(ROOT)), node.module.split(".")[0]))
            elif isinstance(node, ast.Import):
                found.update(
                    (str(path.relative_to(ROOT)), a.name.split(".")[0]) for a in node.names
                )
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [("schemas", {"node", "hub"}), ("hub", {"node"}), ("node", {"hub"})],
)
def test_package_boundaries(package: str, forbidden: set[str]) -> None:
    offenders = sorted(
        f"{path} imports {top}" for path, top in _imports(package) if top in forbidden
    )
    assert offenders == []
