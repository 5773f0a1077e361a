"""Figures for the API: a period's summary beside the previous period's, and the definitions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.orm import Session

from node.metrics.definitions import ALL_METRICS
from node.metrics.patterns import PatternPolicy
from node.metrics.summary import NodeIdentity, summarize
from schemas.database import utcnow
from schemas.periods import Period


class MetricsService:
    def __init__(
        self,
        session: Session,
        node: NodeIdentity,
        policy: PatternPolicy,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.session = session
        self.node = node
        self.policy = policy
        self.clock = clock

    @classmethod
    def for_settings(cls, session: Session, settings: Mapping[str, Any]) -> MetricsService:
        return cls(
            session,
            NodeIdentity.from_settings(settings),
            PatternPolicy(two_headed_window_days=settings["two_headed_window_days"]),
        )

    def summary(self, period: Period) -> dict[str, Any]:
        return summarize(self.session, self.node, period, self.clock(), self.policy)

    def figures(self, period: Period) -> dict[str, Any]:
        """The period's summary, the previous period's metrics and the change of each value."""
        current = self.summary(period)
        previous = self.summary(period.previous())
        changes: dict[str, int] = {}
        for key, entry in current["metrics"].items():
            before = previous["metrics"].get(key, {})
            if "value" in entry and "value" in before:
                changes[key] = entry["value"] - before["value"]
        return {
            "summary": current,
            "previous": {"period": previous["period"], "metrics": previous["metrics"]},
            "changes": changes,
        }


def definitions() -> list[dict[str, Any]]:
    """Every metric with its unit, Chinese name, definition and formula."""
    return [
        {
            "key": m.key, "unit": m.unit.value, "name": m.name, "definition": m.definition,
            "numerator": m.numerator, "denominator": m.denominator,
            "summed_daily": m.daily,
        }
        for m in ALL_METRICS.values()
    ]
