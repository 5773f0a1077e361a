# ruff: noqa: T201 - a command-line report: print is the output
"""Count the suite's assertions, to show a change tests no less: ``assert`` statements and
``pytest.raises`` / ``pytest.fail`` / ``pytest.warns`` calls and Playwright's ``expect(...)``
assertions (which wait for the page, where ``assert locator.is_visible()`` does not), in all
and per folder of tests/ (benchmarks left out).  ``python -m tests.count_assertions [DIR]``
prints one JSON document; with ``pytest --collect-only -q`` it gives issue 17's before and
after (docs/performance.md)."""

from __future__ import annotations

import ast
import json
import sys
from collections import Counter
from pathlib import Path

CHECK_CALLS = {"raises", "fail", "warns"}


def count(root: Path) -> dict[str, int]:
    totals: Counter[str] = Counter()
    for path in sorted(root.rglob("*.py")):
        if "bench" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        part = path.relative_to(root).parts[0] if len(path.relative_to(root).parts) > 1 else "."
        for node in ast.walk(tree):
            if isinstance(node, ast.Assert):
                totals["assert"] += 1
                totals[f"assert:{part}"] += 1
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in CHECK_CALLS and isinstance(node.func.value, ast.Name)
                  and node.func.value.id == "pytest"):
                totals[f"pytest.{node.func.attr}"] += 1
            elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Call)
                  and isinstance(node.value.func, ast.Name) and node.value.func.id == "expect"
                  and node.attr.startswith(("to_", "not_to_"))):
                totals["expect"] += 1
                totals[f"expect:{part}"] += 1
    return dict(sorted(totals.items()))


if __name__ == "__main__":
    print(json.dumps(count(Path(sys.argv[1] if len(sys.argv) > 1 else "tests")), indent=1))
