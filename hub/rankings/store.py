"""Reading the registry and the newest summaries of a scope, with as little work as possible.

A node's summary for a period may arrive many times; the newest version (highest seq) counts.
League tables extract only the metrics they rank from the stored body, in SQL
(``json_extract`` on SQLite, ``jsonb`` operators on PostgreSQL), so a table over tens of
thousands of nodes never moves whole bodies into Python.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Text, and_, cast, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from hub.models import RegisteredNode
from hub.relay.models import EnvelopeRecord, SummaryRecord
from schemas.divisions import CountyKind, DivisionCodeError, Level, level_of, parent_of


@dataclass(frozen=True)
class NodeInfo:
    code: str
    name: str | None
    level: Level
    kind: CountyKind | None
    parent: str | None


@dataclass(frozen=True)
class Figure:
    """One metric of one node's newest summary: ``value`` is None for an undefined rate."""

    unit: str
    value: int | None
    numerator: int | None
    denominator: int | None

    @classmethod
    def from_json(cls, entry: Any) -> Figure | None:
        if not isinstance(entry, dict) or "unit" not in entry:
            return None
        return cls(entry["unit"], entry.get("value"), entry.get("numerator"),
                   entry.get("denominator"))


@dataclass(frozen=True)
class Reported:
    """A node's newest summary of a period, reduced to what a table needs."""

    node: str
    seq: int
    received_at: dt.datetime
    name: str | None
    figures: dict[str, Figure | None]


def ancestors_of(code: str) -> list[str]:
    """Parent, grandparent, … province."""
    found: list[str] = []
    parent = parent_of(code)
    while parent is not None:
        found.append(parent)
        parent = parent_of(parent)
    return found


def within(scope: str, code: str) -> bool:
    """Whether ``code`` is ``scope`` itself or below it in the administrative tree."""
    try:
        return code == scope or scope in ancestors_of(code)
    except DivisionCodeError:
        return False


def code_range(scope: str) -> tuple[str, str]:
    """Bounds ``[low, high)`` of the codes that can lie in ``scope``'s subtree (a superset:
    :func:`within` has the last word), so that the code indexes do the selecting."""
    level = level_of(scope)
    prefix = {Level.PROVINCE: scope[:2], Level.CITY: scope[:4]}.get(level, scope[:6])
    if level is Level.CITY and scope[2:4] == "90":  # not a real city: no county has it as parent
        prefix = scope
    if level is Level.TOWNSHIP:
        prefix = scope
    return prefix, prefix + ":"  # ':' sorts right after '9'


def in_range(column: Any, scope: str) -> ColumnElement[bool]:
    low, high = code_range(scope)
    return and_(column >= low, column < high)


def registered(session: Session, code: str) -> NodeInfo | None:
    row = session.get(RegisteredNode, code)
    return None if row is None else _info(row)


def nodes_in_scope(session: Session, scope: str, level: Level | None = None,
                   *, include_scope: bool = True) -> list[NodeInfo]:
    """Registered nodes in ``scope``'s subtree (of ``level`` if given), ordered by code."""
    query = select(RegisteredNode).where(in_range(RegisteredNode.code, scope))
    if level is not None:
        query = query.where(RegisteredNode.level == level)
    return [
        _info(row) for row in session.scalars(query.order_by(RegisteredNode.code))
        if within(scope, row.code) and (include_scope or row.code != scope)
    ]


def _info(row: RegisteredNode) -> NodeInfo:
    return NodeInfo(row.code, row.name, Level(row.level), row.kind and CountyKind(row.kind),
                    row.parent_code)


# -- JSON inside the stored body ------------------------------------------------------------


def _json_text(session: Session, *path: str) -> ColumnElement[Any]:
    """The JSON (as text) at ``path`` of a stored summary body."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(cast(SummaryRecord.body, JSONB).op("#>")(literal(list(path), ARRAY(Text))),
                    Text)
    return func.json_extract(SummaryRecord.body, "$." + ".".join(f'"{p}"' for p in path))


def _json_scalar(session: Session, *path: str) -> ColumnElement[Any]:
    """The scalar at ``path`` (as text on PostgreSQL, its SQL value on SQLite)."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(SummaryRecord.body, JSONB).op("#>>")(literal(list(path), ARRAY(Text)))
    return func.json_extract(SummaryRecord.body, "$." + ".".join(f'"{p}"' for p in path))


def _newest(session: Session, scope: str, period_label: str) -> Any:
    return (
        select(SummaryRecord.node, func.max(SummaryRecord.seq).label("seq"))
        .where(SummaryRecord.period_label == period_label, in_range(SummaryRecord.node, scope))
        .group_by(SummaryRecord.node)
        .subquery()
    )


def newest_figures(session: Session, scope: str, period_label: str,
                   metrics: Sequence[str]) -> dict[str, Reported]:
    """Per node of ``scope``'s subtree that reported ``period_label``: the listed metrics of
    its newest summary."""
    newest = _newest(session, scope, period_label)
    columns = [_json_text(session, "metrics", key).label(f"m{i}")
               for i, key in enumerate(metrics)]
    query = (
        select(SummaryRecord.node, SummaryRecord.seq, SummaryRecord.received_at,
               _json_scalar(session, "node", "name").label("name"), *columns)
        .join(newest, and_(SummaryRecord.node == newest.c.node,
                           SummaryRecord.seq == newest.c.seq))
        .where(SummaryRecord.period_label == period_label)
    )
    found: dict[str, Reported] = {}
    for row in session.execute(query):
        figures = {key: _figure(row[4 + i]) for i, key in enumerate(metrics)}
        found[row[0]] = Reported(row[0], row[1], row[2], row[3], figures)
    return found


def _figure(raw: Any) -> Figure | None:
    if raw is None:
        return None
    return Figure.from_json(orjson.loads(raw) if isinstance(raw, str | bytes) else raw)


def newest_bodies(session: Session, scope: str, period_label: str) -> dict[str, dict[str, Any]]:
    """Whole bodies of the newest summaries of ``scope``'s subtree for a period (roll-ups)."""
    newest = _newest(session, scope, period_label)
    query = (
        select(SummaryRecord.node, SummaryRecord.body)
        .join(newest, and_(SummaryRecord.node == newest.c.node,
                           SummaryRecord.seq == newest.c.seq))
        .where(SummaryRecord.period_label == period_label)
    )
    return {node: orjson.loads(body) for node, body in session.execute(query)}


@dataclass(frozen=True)
class Arrival:
    """When a node's summaries of a period arrived."""

    node: str
    first_final_at: dt.datetime | None  # the first version computed after the period closed
    first_at: dt.datetime
    newest_seq: int
    versions: int


def arrivals(session: Session, scope: str, period_label: str) -> dict[str, Arrival]:
    """Per node of the subtree that sent anything for the period: when, and whether final."""
    final = _json_scalar(session, "final")
    is_final = final.in_(["true"]) if session.get_bind().dialect.name == "postgresql" else (
        final == 1)
    query = (
        select(SummaryRecord.node,
               func.min(SummaryRecord.received_at).filter(is_final),
               func.min(SummaryRecord.received_at),
               func.max(SummaryRecord.seq), func.count())
        .where(SummaryRecord.period_label == period_label, in_range(SummaryRecord.node, scope))
        .group_by(SummaryRecord.node)
    )
    found = {}
    for node, first_final, first, seq, versions in session.execute(query):
        found[node] = Arrival(node, _aware(first_final), _aware(first) or _EPOCH, seq, versions)
    return found


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    # aggregates bypass the column type: SQLite hands back naive UTC
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def last_seen(session: Session, scope: str) -> dict[str, tuple[dt.datetime, int]]:
    """Per sender of the subtree: when the hub last accepted an envelope from it, and the
    highest seq it has sent."""
    query = (
        select(EnvelopeRecord.sender, func.max(EnvelopeRecord.received_at),
               func.max(EnvelopeRecord.seq))
        .where(in_range(EnvelopeRecord.sender, scope))
        .group_by(EnvelopeRecord.sender)
    )
    return {sender: (_aware(at) or _EPOCH, seq)
            for sender, at, seq in session.execute(query)}

