"""Every metric the hub ranks (the one table of schemas/metrics.py, which the node computes)
has a Chinese heading.  (That the rankings' modules stay plain Python is an import contract:
pyproject.toml.)"""

from __future__ import annotations

from schemas.metrics import ALL_METRICS


def test_every_metric_has_a_chinese_heading() -> None:
    for metric in ALL_METRICS.values():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in metric.name), metric.key
