"""import-linter's contract type for feature packages, whose list is derived, never kept.

``type = "features"`` forbids ``forbidden_modules`` to every child of each ``containers``
package except its ``edges`` (the web, the sync layer, the composition roots …), directly or
through other modules.  A new feature package is covered the day it is created; an edge that
names no module is refused, so the list of edges cannot go stale either.  The contracts are in
pyproject.toml (``[tool.importlinter]``) and run by ``make lint`` (``lint-imports``).
"""

from __future__ import annotations

from typing import Any

import grimp
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.domain import fields
from importlinter.domain.contract import ContractCheck
from importlinter.domain.imports import ModuleExpression


class EdgeNotFound(ValueError):
    """An edge names no child of its container (a typo, or a module since moved)."""


class FeaturesContract(ForbiddenContract):
    """Every child of ``containers`` but ``edges`` imports none of ``forbidden_modules``."""

    type_name = "features"

    containers = fields.SetField(subfield=fields.StringField())
    edges = fields.SetField(subfield=fields.StringField())
    source_modules = fields.SetField(subfield=fields.ModuleExpressionField(), required=False)

    def features(self, graph: grimp.ImportGraph) -> list[str]:
        """The derived source modules: each container's children that are not edges."""
        edges: set[str] = set(self.edges)  # type: ignore[call-overload]
        children: set[str] = set()
        for container in sorted(self.containers):  # type: ignore[call-overload]
            children |= graph.find_children(container)
        missing = sorted(edges - children)
        if missing:
            raise EdgeNotFound(f"edges that name no module: {', '.join(missing)}")
        return sorted(children - edges)

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        self.source_modules: Any = {ModuleExpression(m) for m in self.features(graph)}
        return super().check(graph, verbose)
