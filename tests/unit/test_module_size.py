"""No product module grows past 600 lines (issue 18: cohesive modules a newcomer can read).

A module that outgrows the limit is split by what its parts are about, as node/cases/service.py
(reading, transitions, submission) and node/catalog/exchange.py (problems, JSON, XLSX) were.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_PACKAGES = ("node", "hub", "schemas", "deploy")
MAX_LINES = 600


def _line_count(path: Path) -> int:
    with path.open("rb") as file:
        return sum(1 for _ in file)


def oversized_modules(root: Path, limit: int = MAX_LINES) -> dict[str, int]:
    """Every Python module under the product packages with more than ``limit`` lines."""
    found = {}
    for package in PRODUCT_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            lines = _line_count(path)
            if lines > limit:
                found[path.relative_to(root).as_posix()] = lines
    return found


def test_no_product_module_is_over_600_lines() -> None:
    assert oversized_modules(ROOT) == {}


def test_an_oversized_module_is_found(tmp_path: Path) -> None:
    (tmp_path / "node").mkdir()
    (tmp_path / "node" / "short.py").write_text("x = 1\n" * MAX_LINES)
    (tmp_path / "node" / "long.py").write_text("x = 1\n" * (MAX_LINES + 1))
    assert oversized_modules(tmp_path) == {"node/long.py": MAX_LINES + 1}


def test_the_product_packages_are_counted() -> None:
    counted = {package: len(list((ROOT / package).rglob("*.py"))) for package in PRODUCT_PACKAGES}
    assert all(counted.values()), counted
