"""How the node computes the summary's metrics (schemas/metrics.py declares them): the counts
summed from daily figures, and the helper denominators that are no metric of their own."""

from __future__ import annotations

from schemas.metrics import COUNTS

DAILY_KEYS: tuple[str, ...] = tuple(m.key for m in COUNTS if m.daily)
