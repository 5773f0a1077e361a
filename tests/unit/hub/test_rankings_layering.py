"""The hub's metric table matches the node's metric definitions (keys, units and Chinese
headings), so every summary metric can be ranked and added up the right way.  (That the
rankings' modules stay plain Python is an import contract: pyproject.toml.)"""

from __future__ import annotations

from hub.rankings.metrics import METRICS
from node.metrics.definitions import ALL_METRICS


def test_the_hub_knows_every_node_metric_with_its_unit_and_heading() -> None:
    node = {key: (metric.unit.value, metric.name) for key, metric in ALL_METRICS.items()}
    hub = {key: (metric.unit.value, metric.name) for key, metric in METRICS.items()}
    assert hub == node


def test_every_metric_has_a_chinese_heading() -> None:
    for metric in METRICS.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in metric.name), metric.key
