"""docs/api.md lists every endpoint the hub serves, with the method, as the app routes it."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"
INTERNAL = {"/api/v1/vendor/<path:filename>"}  # the Swagger UI's own files


def test_every_hub_route_is_documented(hub_app: Flask) -> None:
    text = DOC.read_text(encoding="utf-8")
    hub_section = text[text.index("## The hub's HTTP API"):]
    shared = text[text.index("## Outside the blueprints"):text.index("## auth")]
    routes = [(method, re.sub(r"<(?:[^:>]+:)?([^>(]+)(?:\([^)]*\))?>", r"<\1>", rule.rule))
              for rule in hub_app.url_map.iter_rules() if rule.rule not in INTERNAL
              for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})]
    assert len(routes) >= 20
    missing = [f"{method} {path}" for method, path in routes
               if f"`{method} {path}`" not in hub_section + shared]
    assert missing == []
