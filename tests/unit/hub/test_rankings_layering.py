"""The rankings' domain modules stay plain Python, and the hub's metric table matches the
node's metric definitions (keys, units and Chinese headings), so every summary metric can be
ranked and added up the right way."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.rankings.metrics import METRICS
from node.metrics.definitions import ALL_METRICS

ROOT = Path(__file__).resolve().parents[3]
DOMAIN_MODULES = ["hub.rankings.service", "hub.rankings.store", "hub.rankings.tables",
                  "hub.rankings.metrics", "hub.rankings.export", "hub.rankings.documents",
                  "hub.staff.service"]


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_rankings_domain_module_imports_no_web_or_http(module: str) -> None:
    probe = (f"import sys, {module}; "
             "print(','.join(sorted(m for m in ('flask', 'flask_smorest', 'requests') "
             "if m in sys.modules)))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            cwd=ROOT, timeout=60, check=True)
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"


def test_the_hub_knows_every_node_metric_with_its_unit_and_heading() -> None:
    node = {key: (metric.unit.value, metric.name) for key, metric in ALL_METRICS.items()}
    hub = {key: (metric.unit.value, metric.name) for key, metric in METRICS.items()}
    assert hub == node


def test_every_metric_has_a_chinese_heading() -> None:
    for metric in METRICS.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in metric.name), metric.key
