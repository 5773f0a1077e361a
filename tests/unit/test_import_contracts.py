"""The import contracts of pyproject.toml hold (make lint runs them too), and they catch what
they forbid: import-linter run over small packages written here, one clean and one with each
kind of violation — a feature importing the web edge or an HTTP client, directly or through
another module, and a cycle between two subpackages hidden in a function or under
TYPE_CHECKING."""

from __future__ import annotations

import ast
import textwrap
import tomllib
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parents[2]
OK, BROKEN = 0, 1

CONFIG = """\
[tool.importlinter]
root_packages = ["{package}"]
include_external_packages = true
contract_types = ["features: tests.import_contracts.FeaturesContract"]

[[tool.importlinter.contracts]]
name = "features import no edge"
type = "features"
containers = ["{package}"]
edges = {edges}
forbidden_modules = ["{package}.web", "requests"]

[[tool.importlinter.contracts]]
name = "no cycles among the subpackages"
type = "acyclic_siblings"
ancestors = ["{package}"]
depth = 1
"""

CLEAN = {
    "__init__.py": "",
    "orders/__init__.py": "",
    "orders/service.py": "from {package}.stock import service as stock\n",
    "stock/__init__.py": "",
    "stock/service.py": "LEVEL = 1\n",
    "web/__init__.py": "",
    "web/views.py": "import requests\n\nfrom {package}.orders import service\n",
}


def _lint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, package: str,
          changes: dict[str, str], edges: str = '["{package}.web"]') -> int:
    """Write ``package`` (CLEAN with ``changes``) and its contracts; run import-linter."""
    for name, text in {**CLEAN, **changes}.items():
        path = tmp_path / package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).format(package=package), encoding="utf-8")
    config = tmp_path / "contracts.toml"
    config.write_text(CONFIG.format(package=package, edges=edges.format(package=package)),
                      encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(ROOT))
    return lint_imports(config_filename=str(config), no_cache=True, no_logo=True)


def test_the_projects_contracts_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    assert lint_imports(config_filename=str(ROOT / "pyproject.toml"), no_cache=True,
                        no_logo=True) == OK


def test_no_package_of_the_project_may_import_its_subpackages_in_a_cycle() -> None:
    """node, hub and schemas each have their acyclic contract (the hub's relay once imported
    the registry and the audits, which import its models)."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    guarded = {ancestor for contract in config["tool"]["importlinter"]["contracts"]
               if contract["type"] == "acyclic_siblings" and contract.get("depth") == 1
               for ancestor in contract["ancestors"]}
    assert guarded >= {"node", "hub", "schemas"}


def test_a_clean_package_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _lint(tmp_path, monkeypatch, "clean_shop", {}) == OK
    report = capsys.readouterr().out
    assert "features import no edge KEPT" in report
    assert "no cycles among the subpackages KEPT" in report


@pytest.mark.parametrize(("package", "changes"), [
    ("shop_web", {"orders/service.py": "from {package}.web import views\n"}),
    ("shop_http", {"stock/service.py": "import requests\n"}),
    # through another module: orders -> stock -> requests
    ("shop_chain", {"stock/service.py": "from {package}.stock import client\n",
                    "stock/client.py": "import requests\n"}),
    # a feature the contract was never told about is covered all the same
    ("shop_new", {"billing/__init__.py": "", "billing/invoices.py": "import requests\n"}),
], ids=["web-edge", "http-client", "indirect", "new-feature"])
def test_a_feature_importing_an_edge_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    package: str, changes: dict[str, str],
) -> None:
    assert _lint(tmp_path, monkeypatch, package, changes) == BROKEN
    report = capsys.readouterr().out
    assert "features import no edge BROKEN" in report


@pytest.mark.parametrize(("package", "back"), [
    ("cycle_top", "from {package}.orders import service\n"),
    ("cycle_function", """\
        def orders():
            from {package}.orders import service
            return service
        """),
    ("cycle_type_checking", """\
        from typing import TYPE_CHECKING

        if TYPE_CHECKING:
            from {package}.orders import service
        """),
], ids=["module-level", "in-a-function", "under-type-checking"])
def test_a_cycle_between_subpackages_is_caught(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    package: str, back: str,
) -> None:
    assert _lint(tmp_path, monkeypatch, package, {"stock/service.py": back}) == BROKEN
    report = capsys.readouterr().out
    assert "no cycles among the subpackages BROKEN" in report
    assert ".stock -> .orders" in report or ".orders -> .stock" in report


def test_an_edge_that_names_nothing_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _lint(tmp_path, monkeypatch, "stale_shop", {},
                 edges='["{package}.web", "{package}.api"]') != OK
    assert "edges that name no module: stale_shop.api" in capsys.readouterr().out


# where an import of the project may wait inside a function: the commands, which import what
# they use when they run (a quick `tongban` start: tests/unit/test_cli_start.py), the packages'
# lazy create_app (the domain imports without Flask), and the schema check before serving
# (Alembic only when a server starts)
DEFERRING = ("node/cli.py", "node/commands/", "node/backup.py", "node/__init__.py",
             "hub/cli.py", "hub/commands/", "hub/backup.py", "hub/__init__.py",
             "schemas/runtime/cli_support.py")


def _imports_in_functions(source: str) -> list[str]:
    """``line: module`` of each import of node, hub or schemas inside a function."""
    found = []
    for function in ast.walk(ast.parse(source)):
        if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(function):
            names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{node.lineno}: {name}" for name in names
                      if name.split(".")[0] in {"node", "hub", "schemas"}]
    return found


def test_the_scan_sees_an_import_in_a_function() -> None:
    assert _imports_in_functions("def f():\n    from node.cases import service\n") == [
        "2: node.cases"]
    assert _imports_in_functions("from node.cases import service\nimport sqlalchemy\n") == []


def test_no_import_of_the_project_hides_in_a_function_outside_the_commands() -> None:
    """A feature, view or service imports the project at the top, where the contracts see the
    cycle it would make; only the commands and the lazy entry points defer."""
    hidden = {}
    for package in ("node", "hub", "schemas"):
        for path in sorted((ROOT / package).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            if "/migrations/" in name or name.startswith(DEFERRING):
                continue
            found = _imports_in_functions(path.read_text(encoding="utf-8"))
            if found:
                hidden[name] = found
    assert hidden == {}
