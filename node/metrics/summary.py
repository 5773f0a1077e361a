"""A center's figures for a period: the body of the signed ``summary`` envelope.

Counts come from the daily roll-ups (summed), states at the period's end from indexed
queries, rates are recomputed from their numerator and denominator.  No personal data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from node.calendar.workdays import to_shanghai_date
from node.catalog.models import HandlingType, Matter, StaffMember, StaffType
from node.metrics.patterns import PatternPolicy
from node.metrics.rollup import period_counts, state_at_end
from node.settings import NodeSettings
from schemas.metrics import (
    COUNTS,
    DERIVED_COUNTS,
    MONTHLY_AVERAGE,
    POWERS,
    RATES,
    Unit,
    ratio_value,
)
from schemas.periods import Period
from schemas.summary import SUMMARY_SCHEMA_ID, SUMMARY_VERSION


@dataclass(frozen=True)
class NodeIdentity:
    code: str
    name: str
    level: str
    kind: str | None
    parent_code: str | None

    @classmethod
    def from_settings(cls, settings: NodeSettings) -> NodeIdentity:
        return cls(
            settings.code, settings.name, settings.level,
            settings.kind or None, settings.parent_code or None,
        )


def as_of(period: Period, now: dt.datetime) -> dt.date:
    """The day whose end the period's state figures describe (today for a running period)."""
    return min(period.end, to_shanghai_date(now))


def catalog_counts(session: Session) -> dict[str, int]:
    """Should-enter, entered and per-power authorized matters, and the matters offered with
    their limits, 即办 and 网上可办 (the catalog as it is now)."""
    active = Matter.retired_at.is_(None)
    entered = and_(active, Matter.entered.is_(True))

    def total(column: Any) -> Any:
        return func.coalesce(func.sum(column).filter(active), 0)

    columns = {
        "matters_offered": func.count().filter(active),
        "matters_legal_days": total(Matter.legal_limit_days),
        "matters_promised_days": total(Matter.promised_limit_days),
        "matters_days_saved": total(Matter.legal_limit_days - Matter.promised_limit_days),
        "matters_immediate": func.count().filter(
            and_(active, Matter.handling_type == HandlingType.IMMEDIATE)),
        "matters_online": func.count().filter(and_(active, Matter.online.is_(True))),
        "matters_should_enter": func.count().filter(and_(active, Matter.should_enter.is_(True))),
        "matters_entered": func.count().filter(entered),
        "matters_entered_of_should": func.count().filter(
            and_(entered, Matter.should_enter.is_(True))
        ),
        **{
            f"authorized_{p}": func.count().filter(
                and_(entered, getattr(Matter, f"power_{p}").is_(True))
            )
            for p in POWERS
        },
    }
    row = session.execute(select(*(c.label(k) for k, c in columns.items()))).one()
    return {k: int(getattr(row, k)) for k in columns}


def staff_counts(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(StaffMember.staff_type, func.count(StaffMember.id))
        .where(StaffMember.active.is_(True))
        .group_by(StaffMember.staff_type)
    )
    found = {StaffType(kind): n for kind, n in rows}
    return {f"staff_{kind.value}": int(found.get(kind, 0)) for kind in StaffType}


def compute_counts(
    session: Session, period: Period, now: dt.datetime, policy: PatternPolicy
) -> dict[str, int]:
    """Every count of the period (daily sums and states at its end)."""
    window = policy.two_headed_window_days
    counts = period_counts(session, period.start, period.end, now, window)
    counts.update(state_at_end(session, as_of(period, now), now, window))
    counts.update(catalog_counts(session))
    counts.update(staff_counts(session))
    return counts


def metric_entries(counts: Mapping[str, int], months: int) -> dict[str, dict[str, Any]]:
    """The ``metrics`` object: counts as values, rates with numerator and denominator."""
    values = dict(counts)
    for key, (first, second) in DERIVED_COUNTS.items():
        values[key] = values[first] + values[second]
    metrics: dict[str, dict[str, Any]] = {
        m.key: {"unit": m.unit.value, "value": values[m.key]} for m in COUNTS
    }
    for rate in RATES:
        assert rate.numerator  # noqa: S101 - every rate names both
        assert rate.denominator  # noqa: S101
        entry: dict[str, Any] = {
            "unit": rate.unit.value,
            "numerator": values[rate.numerator],
            "denominator": values[rate.denominator],
        }
        value = ratio_value(rate.unit, entry["numerator"], entry["denominator"])
        if value is not None:
            entry["value"] = value
        metrics[rate.key] = entry
    completed = values["completed"]
    metrics[MONTHLY_AVERAGE.key] = {
        "unit": Unit.PER_MONTH.value,
        "numerator": completed,
        "denominator": months,
        "value": (completed * 2 + months) // (months * 2),
    }
    return metrics


def summarize(
    session: Session,
    node: NodeIdentity,
    period: Period,
    now: dt.datetime,
    policy: PatternPolicy,
) -> dict[str, Any]:
    """The summary document of ``node`` for ``period`` as computed at ``now``."""
    counts = compute_counts(session, period, now, policy)
    return {
        "schema": SUMMARY_SCHEMA_ID,
        "version": SUMMARY_VERSION,
        "node": {
            "code": node.code, "name": node.name, "level": node.level,
            "kind": node.kind, "parent": node.parent_code,
        },
        "period": {
            "kind": period.kind.value, "label": period.label,
            "start": period.start.isoformat(), "end": period.end.isoformat(),
        },
        "computed_at": now.astimezone(dt.UTC).isoformat(timespec="seconds"),
        "final": to_shanghai_date(now) > period.end,
        "metrics": metric_entries(counts, period.months),
        "catalog": {
            "should_enter": counts["matters_should_enter"],
            "entered": counts["matters_entered"],
            "entered_of_should": counts["matters_entered_of_should"],
            "authorized": {p: counts[f"authorized_{p}"] for p in POWERS},
        },
    }
