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
from typing import Any, NamedTuple

import orjson
from sqlalchemy import ColumnElement, Text, and_, cast, func, literal, select, true
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Session

from hub.models import RegisteredNode
from hub.relay.models import EnvelopeRecord, SummaryRecord
from schemas.divisions import CountyKind, Level, subtree_prefix

# records built tens of thousands of times per table: named tuples, the cheapest to make


class NodeInfo(NamedTuple):
    code: str
    name: str | None
    level: Level
    kind: CountyKind | None
    parent: str | None


class Figure(NamedTuple):
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


class Reported(NamedTuple):
    """A node's newest summary of a period, reduced to what a table needs."""

    node: str
    seq: int
    name: str | None
    figures: dict[str, Figure | None]


def code_range(scope: str) -> tuple[str, str]:
    """Bounds ``[low, high)`` of the codes of ``scope``'s subtree, so that the code indexes
    do the selecting: a child's code extends its parent's significant prefix (two digits of
    a province, four of a city, six of a county), and a code whose city part is ``90`` (a
    county-level unit under the province) is no city's child."""
    prefix = subtree_prefix(scope)
    return prefix, prefix + ":"  # ':' sorts right after '9'


def in_range(column: Any, scope: str) -> ColumnElement[bool]:
    low, high = code_range(scope)
    return and_(column >= low, column < high)


def registered(session: Session, code: str) -> NodeInfo | None:
    row = session.get(RegisteredNode, code)
    return None if row is None else _info(row)


def nodes_in_scope(session: Session, scope: str, level: Level | None = None,
                   *, include_scope: bool = True) -> list[NodeInfo]:
    """Registered nodes in ``scope``'s subtree (of ``level`` if given), ordered by code.

    The code range is the subtree exactly (a child's code extends its parent's prefix), so
    no row needs a second look; columns, not ORM objects, since a province has 30,000.
    """
    query = select(RegisteredNode.code, RegisteredNode.name, RegisteredNode.level,
                   RegisteredNode.kind, RegisteredNode.parent_code).where(
        in_range(RegisteredNode.code, scope))
    if level is not None:
        query = query.where(RegisteredNode.level == level)
    levels = {member.value: member for member in Level} | {member: member for member in Level}
    kinds: dict[Any, CountyKind | None] = {None: None} | {k.value: k for k in CountyKind} | {
        k: k for k in CountyKind}
    return [
        NodeInfo(code, name, levels[row_level], kinds[kind], parent)
        for code, name, row_level, kind, parent in session.connection().execute(
            query.order_by(RegisteredNode.code))
        if include_scope or code != scope
    ]


def _info(row: RegisteredNode) -> NodeInfo:
    return NodeInfo(row.code, row.name, Level(row.level), row.kind and CountyKind(row.kind),
                    row.parent_code)


# -- JSON inside the stored body ------------------------------------------------------------


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
    its newest summary, and its name.

    The body is parsed once per row: one multi-path ``json_extract`` on SQLite (a JSON
    array), one ``jsonb`` cast in a lateral subquery on PostgreSQL.
    """
    newest = _newest(session, scope, period_label)
    paths = [("metrics", key) for key in metrics] + [("node", "name")]
    picked: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        doc = (select(cast(SummaryRecord.body, JSONB).label("doc")).correlate(SummaryRecord)
               .offset(0).lateral("d"))
        picked = cast(func.jsonb_build_array(
            *(doc.c.doc.op("#>")(literal(list(p), ARRAY(Text))) for p in paths)), Text)
        query = (
            select(SummaryRecord.node, SummaryRecord.seq, picked)
            .join(newest, and_(SummaryRecord.node == newest.c.node,
                               SummaryRecord.seq == newest.c.seq))
            .join(doc, true())
        )
    else:
        picked = func.json_extract(SummaryRecord.body, *(
            "$." + ".".join(f'"{part}"' for part in p) for p in paths))
        query = (
            select(SummaryRecord.node, SummaryRecord.seq, picked)
            .join(newest, and_(SummaryRecord.node == newest.c.node,
                               SummaryRecord.seq == newest.c.seq))
        )
    query = query.where(SummaryRecord.period_label == period_label)
    found: dict[str, Reported] = {}
    loads = orjson.loads
    for node, seq, raw in session.connection().execute(query):
        values = loads(raw)
        figures = {key: Figure.from_json(values[i]) for i, key in enumerate(metrics)}
        found[node] = Reported(node, seq, values[-1], figures)
    return found


def newest_values(session: Session, scope: str, period_label: str,
                  metric: str) -> dict[str, int]:
    """Per node of ``scope``'s subtree: ``metric``'s value in its newest summary of the
    period (nodes without one left out) — all a previous period's column needs."""
    newest = _newest(session, scope, period_label)
    value = _json_scalar(session, "metrics", metric, "value")
    query = (
        select(SummaryRecord.node, value)
        .join(newest, and_(SummaryRecord.node == newest.c.node,
                           SummaryRecord.seq == newest.c.seq))
        .where(SummaryRecord.period_label == period_label)
    )
    return {node: int(found) for node, found in session.connection().execute(query)
            if found is not None}


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

