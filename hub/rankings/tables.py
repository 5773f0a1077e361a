"""League tables and composite indices as pure functions over figures (no database here).

Competition ranking ("1224"): peers with equal values share a rank and the next rank skips,
so a rank always says how many peers did strictly better.  Nodes without a value are listed
after the ranked ones, with a status saying why, never dropped.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hub.rankings.store import Figure, NodeInfo, Reported
from schemas.divisions import CountyKind, Level
from schemas.i18n import _
from schemas.metrics import Direction

K = TypeVar("K", bound=Hashable)

SCORE_DIGITS = 6  # composite scores are compared and shown at this precision


class Order(enum.StrEnum):
    DESC = "desc"  # larger is better (rank 1 has the largest value)
    ASC = "asc"


class Peers(enum.StrEnum):
    BULLETIN = "bulletin"  # county level: 县（市） (counties and county-level cities) and 城区
    KIND = "kind"  # county level: districts, counties and county-level cities apart
    ALL = "all"  # every node of the level together


class PeerGroup(enum.StrEnum):
    """The peer groups a table is split into (county level; other levels have one group)."""

    DISTRICT = "district"  # 市辖区 (kind), or 城区 (bulletin): the districts
    COUNTY = "county"
    COUNTY_CITY = "county_city"
    COUNTIES_AND_CITIES = "counties_and_cities"  # 县（市）: counties and county-level cities


class Status(enum.StrEnum):
    RANKED = "ranked"
    NOT_REPORTED = "not_reported"  # no summary for the period
    NO_VALUE = "no_value"  # a summary, but the metric is missing or undefined (0 denominator)
    SOLE_PEER = "sole_peer"  # composite: the only one of its group with every value (不参与排名)


class Normalisation(enum.StrEnum):
    MIN_MAX = "min_max"
    Z_SCORE = "z_score"


def competition_ranks(values: Iterable[tuple[K, float]], order: Order) -> dict[K, int]:
    """Rank 1 for the best value; ties share a rank, and the next rank skips (1, 2, 2, 4)."""
    ordered = sorted(values, key=lambda item: item[1], reverse=order is Order.DESC)
    ranks: dict[K, int] = {}
    previous: float | None = None
    rank = 0
    for position, (key, value) in enumerate(ordered, start=1):
        if value != previous:
            rank, previous = position, value
        ranks[key] = rank
    return ranks


def peer_key(node: NodeInfo, peers: Peers) -> PeerGroup | None:
    """The peer group ``node`` is ranked in (None: the level's single group).

    ``bulletin`` groups as the province's bulletins do: 县（市）, counties and county-level
    cities together ("在75个县（市）中排名第1位"), and 城区, the districts ("24个城区").
    """
    if node.level is not Level.COUNTY or node.kind is None or peers is Peers.ALL:
        return None
    if peers is Peers.KIND:
        return PeerGroup(node.kind.value)
    return PeerGroup.DISTRICT if node.kind is CountyKind.DISTRICT \
        else PeerGroup.COUNTIES_AND_CITIES


@dataclass(slots=True)
class Row:
    node: NodeInfo
    status: Status
    name: str | None = None
    value: float | None = None
    figure: Figure | None = None
    rank: int | None = None
    previous_rank: int | None = None
    previous_value: float | None = None
    components: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rank_change(self) -> int | None:
        """Places gained since the previous period (negative: places lost)."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def value_change(self) -> float | None:
        if self.value is None or self.previous_value is None:
            return None
        change = self.value - self.previous_value
        return round(change, SCORE_DIGITS) if isinstance(change, float) else change


@dataclass
class Group:
    level: Level
    key: PeerGroup | None  # None: every kind together (or a level without kinds)
    rows: list[Row]

    @property
    def kind(self) -> CountyKind | None:
        """The one county-level kind of the group's members, if they are of one kind."""
        if self.key is None or self.key is PeerGroup.COUNTIES_AND_CITIES:
            return None
        return CountyKind(self.key.value)

    @property
    def ranked(self) -> int:
        """The N of "rank r of N": how many peers have a rank."""
        return sum(1 for row in self.rows if row.rank is not None)


def _groups(nodes: Sequence[NodeInfo], peers: Peers) -> dict[PeerGroup | None, list[NodeInfo]]:
    groups: dict[PeerGroup | None, list[NodeInfo]] = {}
    for node in nodes:
        groups.setdefault(peer_key(node, peers), []).append(node)
    return dict(sorted(groups.items(), key=lambda item: str(item[0] or "")))


def _finish(level: Level, kind: PeerGroup | None, rows: list[Row],
            values: Mapping[str, float], order: Order) -> Group:
    ranks = competition_ranks(values.items(), order)
    for row in rows:
        row.rank = ranks.get(row.node.code)
    rows.sort(key=lambda row: (row.rank is None, row.rank or 0, row.node.code))
    return Group(level, kind, rows)


def league(nodes: Sequence[NodeInfo], level: Level, reported: Mapping[str, Reported],
           metric: str, order: Order, peers: Peers) -> list[Group]:
    """One ranked group per peer group of ``nodes`` on ``metric``'s value."""
    groups = []
    for kind, members in _groups(nodes, peers).items():
        rows, values = [], {}
        for node in members:
            found = reported.get(node.code)
            if found is None:
                rows.append(Row(node, Status.NOT_REPORTED))
                continue
            figure = found.figures.get(metric)
            value = figure.value if figure is not None else None
            rows.append(Row(node, Status.RANKED if value is not None else Status.NO_VALUE,
                            name=found.name, value=value, figure=figure))
            if value is not None:
                values[node.code] = value
        groups.append(_finish(level, kind, rows, values, order))
    return groups


def league_ranks(nodes: Sequence[NodeInfo], reported: Mapping[str, float], order: Order,
                 peers: Peers) -> dict[str, tuple[int | None, Any]]:
    """Each node's rank and value among its peers given each node's value (only those two,
    for the previous period's column: the same peer groups, no rows built)."""
    found: dict[str, tuple[int | None, Any]] = {}
    for members in _groups(nodes, peers).values():
        values = {n.code: reported[n.code] for n in members if n.code in reported}
        ranks = competition_ranks(values.items(), order)
        found.update((code, (ranks[code], value)) for code, value in values.items())
    return found


def with_previous(current: list[Group],
                  previous: Mapping[str, tuple[int | None, Any]]) -> list[Group]:
    """``current`` with each node's rank and value of the previous period."""
    for group in current:
        for row in group.rows:
            old = previous.get(row.node.code)
            if old is not None:
                row.previous_rank, row.previous_value = old
    return current


def previous_of(groups: list[Group]) -> dict[str, tuple[int | None, Any]]:
    """Rank and value of every row of a (previous period's) table."""
    return {row.node.code: (row.rank, row.value) for group in groups for row in group.rows}


# -- composite index ------------------------------------------------------------------------


@dataclass(frozen=True)
class Component:
    metric: str
    weight: float
    direction: Direction = Direction.HIGHER_BETTER

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "weight": self.weight, "direction": self.direction.value}


@dataclass(frozen=True)
class Methodology:
    """How a composite score is made; returned with every composite table."""

    components: tuple[Component, ...]
    normalisation: Normalisation
    name: str | None = None
    version: int | None = None
    description: str = ""
    title: str | None = None  # the name people read (schemas/methodologies.py)

    @property
    def metrics(self) -> list[str]:
        return [c.metric for c in self.components]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "version": self.version, "title": self.title,
            "description": self.description,
            "normalisation": self.normalisation.value,
            "components": [c.to_json() for c in self.components],
            "formula": FORMULA[self.normalisation],
            "rules": list(RULES),
        }

    @classmethod
    def from_json(cls, document: Mapping[str, Any], *, name: str | None = None,
                  version: int | None = None) -> Methodology:
        return cls(
            tuple(Component(c["metric"], float(c["weight"]),
                            Direction(c.get("direction", Direction.HIGHER_BETTER)))
                  for c in document["components"]),
            Normalisation(document["normalisation"]),
            name=name if name is not None else document.get("name"),
            version=version if version is not None else document.get("version"),
            description=document.get("description") or "",
            title=document.get("title") or None,
        )


FORMULA = {
    Normalisation.MIN_MAX: (
        _("综合得分 = Σ（权重 × n）÷ Σ权重；n 为指标的标准化值："
        "n =（v − 最小值）÷（最大值 − 最小值），v 为该中心的指标值，"
        "最小值、最大值取同类组内参评中心的"
        "（越小越好的指标：n =（最大值 − v）÷（最大值 − 最小值）），n 在 0 到 1 之间；"
        "同类组内各中心数值相同时 n = 1（满分）")),
    Normalisation.Z_SCORE: (
        _("综合得分 = Σ（权重 × n）÷ Σ权重；n 为指标的标准分：n =（v − 平均值）÷ 标准差，"
        "平均值与标准差（总体标准差）按同类组内参评中心计算"
        "（越小越好的指标：取 −n）；同类组内各中心数值相同时 n = 0（即平均水平）")),
}

# the rules every composite table follows, whatever the methodology (shown with the formula)
RULES = (
    _("只在同类组内比较：先分组，再在组内标准化和排名。"),
    _("某项指标缺数据的中心不计算综合得分，列为“无数据”；未报送的列为“未报送”。"),
    _("同类组内有全部指标数据的中心不足 2 个时，不参与排名（同类仅 1 个），不计算得分。"),
    _("得分保留 6 位小数，得分相同者名次并列，下一名次顺延（1、2、2、4）。"),
)

MIN_PEERS = 2  # a composite score compares; alone in its group, a center is not ranked


def normaliser(values: Sequence[float], normalisation: Normalisation,
               direction: Direction) -> Callable[[float], float]:
    """How one component's value becomes its normalised score within the peer group.

    When every peer has the same value, min-max gives each the full score (1): nobody did
    worse; z-score gives each 0, the mean (a z-score has no top).
    """
    sign = 1.0 if direction is Direction.HIGHER_BETTER else -1.0
    if normalisation is Normalisation.MIN_MAX:
        low, high = min(values), max(values)
        if high == low:
            return lambda _v: 1.0
        if sign > 0:
            return lambda v: (v - low) / (high - low)
        return lambda v: (high - v) / (high - low)
    mean = sum(values) / len(values)
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    if sd == 0:
        return lambda _v: 0.0
    return lambda v: sign * (v - mean) / sd


def composite(nodes: Sequence[NodeInfo], level: Level, reported: Mapping[str, Reported],
              methodology: Methodology, peers: Peers) -> list[Group]:
    """One group per peer group, ranked by composite score (larger is better).

    A node is scored only when every component has a value; the others are listed with
    status ``not_reported`` or ``no_value``.  A score says how a center stands against its
    peers, so a center that is the only one of its group with every value is not scored nor
    ranked (``sole_peer``: 不参与排名（同类仅 1 个）).
    """
    total_weight = sum(c.weight for c in methodology.components)
    groups = []
    for kind, members in _groups(nodes, peers).items():
        rows: list[Row] = []
        complete: dict[str, list[float]] = {}
        for node in members:
            found = reported.get(node.code)
            if found is None:
                rows.append(Row(node, Status.NOT_REPORTED))
                continue
            figures = [found.figures.get(m) for m in methodology.metrics]
            values = [f.value if f is not None else None for f in figures]
            row = Row(node, Status.NO_VALUE, name=found.name)
            row.components = [
                {"metric": m, "value": v,
                 "numerator": f.numerator if f else None,
                 "denominator": f.denominator if f else None, "normalised": None}
                for m, v, f in zip(methodology.metrics, values, figures, strict=True)
            ]
            rows.append(row)
            if all(v is not None for v in values):
                complete[node.code] = [float(v) for v in values if v is not None]
        scores: dict[str, float] = {}
        if len(complete) < MIN_PEERS:
            for row in rows:
                if row.node.code in complete:
                    row.status = Status.SOLE_PEER
        else:
            scales = [
                normaliser([vs[i] for vs in complete.values()], methodology.normalisation,
                           component.direction)
                for i, component in enumerate(methodology.components)
            ]
            for row in rows:
                if row.node.code not in complete:
                    continue
                raw = complete[row.node.code]
                normalised = [scale(v) for scale, v in zip(scales, raw, strict=True)]
                for entry, n in zip(row.components, normalised, strict=True):
                    entry["normalised"] = round(n, SCORE_DIGITS)
                score = sum(c.weight * n for c, n in
                            zip(methodology.components, normalised, strict=True)) / total_weight
                row.status = Status.RANKED
                row.value = round(score, SCORE_DIGITS)
                scores[row.node.code] = row.value
        groups.append(_finish(level, kind, rows, scores, Order.DESC))
    return groups


