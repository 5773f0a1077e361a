"""Figures for the API: a period's summary beside the previous period's, and the definitions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from node.calendar.workdays import to_shanghai_date
from node.metrics.patterns import PatternPolicy
from node.metrics.summary import NodeIdentity, summarize
from node.settings import NodeSettings
from schemas.metrics import ALL_METRICS
from schemas.periods import Period
from schemas.runtime.database import utcnow


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
    def for_settings(cls, session: Session, settings: NodeSettings) -> MetricsService:
        return cls(
            session,
            NodeIdentity.from_settings(settings),
            PatternPolicy(two_headed_window_days=settings.two_headed_window_days),
        )

    def summary(self, period: Period) -> dict[str, Any]:
        return summarize(self.session, self.node, period, self.clock(), self.policy)

    def figures(self, period: Period) -> dict[str, Any]:
        """The period's summary, the previous period's metrics and the change of each value.

        While ``period`` runs its figures cover only the days up to today, so they are set
        beside the same days of the previous period (1 to 6 November beside 1 to 6 December),
        never a whole period: ``previous.same_days`` says so, and ``previous.period`` gives
        the days compared.
        """
        current = self.summary(period)
        before = period.previous()
        today = to_shanghai_date(self.clock())
        running = period.start <= today <= period.end
        if running:
            elapsed = (today - period.start).days
            before = Period(before.start, min(before.start + dt.timedelta(days=elapsed),
                                              before.end), before.kind)
        previous = self.summary(before)
        changes: dict[str, int] = {}
        for key, entry in current["metrics"].items():
            before = previous["metrics"].get(key, {})
            if "value" in entry and "value" in before:
                changes[key] = entry["value"] - before["value"]
        return {
            "summary": current,
            "as_of": today if running else None,
            "previous": {"period": previous["period"], "metrics": previous["metrics"],
                         "same_days": running},
            "changes": changes,
        }


def definitions() -> list[dict[str, Any]]:
    """Every metric with its unit, Chinese name, definition and formula."""
    return [
        {
            "key": m.key, "unit": m.unit.value, "name": m.name, "definition": m.definition,
            "numerator": m.numerator, "denominator": m.denominator,
            "summed_daily": m.daily, "direction": m.direction.value,
        }
        for m in ALL_METRICS.values()
    ]
