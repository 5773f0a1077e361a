"""Consolidated figures for a scope: league tables, composite indices, reporting completeness,
roll-ups and trends.  Plain Python over a session; who may ask is decided here too.

A *scope* is a division code; it covers that node and every node below it.  A node may ask
about its own scope or any scope below it, and so may a hub staff account bound to a scope.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.audits import service as audits
from hub.rankings import store
from hub.rankings.errors import NotAllowed, OutsideScope, UnknownMethodology, UnknownScope
from hub.rankings.models import SavedMethodology
from hub.rankings.store import Figure, NodeInfo
from hub.rankings.tables import (
    Component,
    Group,
    Methodology,
    Normalisation,
    Order,
    Peers,
    composite,
    league,
    league_ranks,
    previous_of,
    with_previous,
)
from hub.relay import anchors
from schemas.divisions import CountyKind, Level, is_within
from schemas.errors import ValidationFailed
from schemas.i18n import _
from schemas.methodologies import methodology_prefix, title_problems
from schemas.metrics import ALL_METRICS, Direction, Unit, per_month, rate_basis_points, ratio_value
from schemas.names import LEVEL_NAMES, PERIOD_KIND_NAMES, center_text, name_of
from schemas.periods import (
    REPORTS_LATE_AFTER_DAYS,
    Period,
    PeriodError,
    reports_overdue_from,
    running_as_of,
)

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
LEVELS = (Level.PROVINCE, Level.CITY, Level.COUNTY, Level.TOWNSHIP)
DEFAULT_LATE_AFTER_DAYS = REPORTS_LATE_AFTER_DAYS  # sent more days after the close: late
MAX_TREND_PERIODS = 120
MAX_COMPONENTS = 20
METHODOLOGY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


# -- who asks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who asks: a node (signed request) or a hub staff account bound to a scope."""

    kind: str  # "node" | "staff"
    scope: str  # the node's own code, or the staff account's scope
    name: str
    may_manage: bool = False  # may save methodologies

    def describe(self) -> str:
        if self.kind == "node":
            return _("中心 %(name)s", name=self.name)
        return _("枢纽工作人员账号 %(name)s", name=self.name)


def authorize_scope(principal: Principal, scope: str) -> None:
    """A principal may read ``scope`` when it is the principal's own scope or below it."""
    if not is_within(principal.scope, scope):
        raise OutsideScope(
            _("%(scope)s is outside the scope of %(who)s (%(allowed)s).",
              scope=scope, who=principal.describe(), allowed=principal.scope),
            {"scope": scope, "allowed_scope": principal.scope},
        )


def authorize_manage(principal: Principal, name: str) -> None:
    """Hub staff admins save any methodology; a node saves only under its own code (e.g.
    ``450900.bulletin``), so that no center replaces another's (or the hub's) methodology."""
    if principal.kind == "node":
        prefix = methodology_prefix(principal.scope)
        if name.startswith(prefix) and len(name) > len(prefix):
            return
        raise NotAllowed(
            _("The %(who)s saves methodologies only under its own code (%(prefix)s…).",
              who=principal.describe(), prefix=prefix),
            {"role": "node", "name": name, "prefix": prefix})
    if not principal.may_manage:
        raise NotAllowed(_("The %(who)s may not save methodologies.", who=principal.describe()),
                         {"role": "viewer"})


# -- answers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Table:
    scope: NodeInfo
    period: Period
    previous: Period
    level: Level
    peers: Peers
    order: Order
    metric: str | None
    groups: list[Group]
    methodology: Methodology | None = None
    as_of: dt.date | None = None  # the period is running: its figures go up to this day


def _period(label: str, field: str = "period") -> Period:
    try:
        return Period.parse(label)
    except PeriodError as exc:
        raise ValidationFailed({field: [str(exc)]}) from exc


def check_metric(metric: str, field: str = "metric") -> str:
    if metric not in ALL_METRICS:
        raise ValidationFailed({field: [_("unknown metric %(repr)s; see GET "
                                          "/api/v1/rankings/metrics",
                                          repr=repr(metric))]})
    return metric


class RankingService:
    """Answers about one scope, for one principal, at one time."""

    def __init__(self, session: Session, principal: Principal, now: dt.datetime) -> None:
        self.session = session
        self.principal = principal
        self.now = now

    def running_as_of(self, period: Period) -> dt.date | None:
        """Today (Asia/Shanghai) when ``period`` is still running: its figures are partial."""
        return running_as_of(period, self.now.astimezone(SHANGHAI).date())

    def _scope(self, code: str) -> NodeInfo:
        authorize_scope(self.principal, code)
        found = store.registered(self.session, code)
        if found is None:
            # a center the registry does not hold has no name to give (issue 19)
            raise UnknownScope(_("%(code)s is not a registered node.",
                                 code=center_text(code, None)),
                               {"scope": code})
        return found

    @staticmethod
    def _level(scope: NodeInfo, level: Level | None) -> Level:
        position = LEVELS.index(scope.level)
        if level is None:
            if scope.level is Level.TOWNSHIP:
                raise ValidationFailed({"level": [_("a township has no nodes below it to rank")]})
            return LEVELS[position + 1]
        if LEVELS.index(level) <= position:
            raise ValidationFailed({"level": [_("must be below the scope's level (%(value)s)",
                                                value=name_of(LEVEL_NAMES, scope.level))]})
        return level

    def _members(self, scope: NodeInfo, level: Level, kind: CountyKind | None) -> list[NodeInfo]:
        if kind is not None and level is not Level.COUNTY:
            raise ValidationFailed({"kind": [_("only county-level nodes have a kind")]})
        nodes = store.nodes_in_scope(self.session, scope.code, level)
        return [n for n in nodes if kind is None or n.kind is kind]

    # -- league tables ----------------------------------------------------------------------

    def league_table(self, *, scope: str, period: str, metric: str, level: Level | None = None,
                     order: Order | None = None, peers: Peers = Peers.BULLETIN,
                     kind: CountyKind | None = None) -> Table:
        """Nodes of ``level`` in ``scope`` ranked on ``metric`` among their peers, with the
        change since the previous period; nodes without a summary listed as not ranked.
        Without an ``order``, the metric's direction decides (平均跑动次数: the fewest first)."""
        check_metric(metric)
        if order is None:
            order = (Order.ASC if ALL_METRICS[metric].direction is Direction.LOWER_BETTER
                     else Order.DESC)
        current = _period(period)
        node = self._scope(scope)
        level = self._level(node, level)
        members = self._members(node, level, kind)

        previous = current.previous()
        reported = store.newest_figures(self.session, node.code, current.label, [metric])
        before = store.newest_values(self.session, node.code, previous.label, metric)
        groups = with_previous(league(members, level, reported, metric, order, peers),
                               league_ranks(members, before, order, peers))
        return Table(node, current, previous, level, peers, order, metric, groups,
                     as_of=self.running_as_of(current))

    def composite_table(self, *, scope: str, period: str, methodology: Methodology,
                        level: Level | None = None, peers: Peers = Peers.BULLETIN,
                        kind: CountyKind | None = None) -> Table:
        """Nodes ranked on a weighted score of normalised metrics (larger is better)."""
        current = _period(period)
        node = self._scope(scope)
        level = self._level(node, level)
        members = self._members(node, level, kind)

        def table(label: str) -> list[Group]:
            reported = store.newest_figures(self.session, node.code, label,
                                            methodology.metrics)
            return composite(members, level, reported, methodology, peers)

        previous = current.previous()
        groups = with_previous(table(current.label), previous_of(table(previous.label)))
        return Table(node, current, previous, level, peers, Order.DESC, None, groups,
                     methodology, as_of=self.running_as_of(current))

    def verification(self, *, scope: str, period: str) -> dict[str, str | None]:
        """Each node of ``scope``'s subtree with a check of its ``period`` figures: ``refused``
        (a summary refused for its commitment), else ``uncommitted`` (its newest summary
        carries no commitment), else its newest audit's state (passed, failed, unanswered,
        pending); docs/verification.md."""
        current = _period(period)
        node = self._scope(scope)
        found = audits.standing(self.session, *store.code_range(node.code), current.label,
                                self.now)
        return {code: audits.verdict(entry) for code, entry in found.items()}

    # -- methodologies ----------------------------------------------------------------------

    def methodology(self, name: str) -> Methodology:
        row = self.session.scalar(select(SavedMethodology).where(SavedMethodology.name == name))
        if row is None:
            raise UnknownMethodology(_("No saved methodology %(repr)s.", repr=repr(name)),
                                     {"name": name})
        return Methodology.from_json(orjson.loads(row.document), name=row.name,
                                     version=row.version)

    def methodologies(self) -> list[Methodology]:
        rows = self.session.scalars(select(SavedMethodology).order_by(SavedMethodology.name))
        return [Methodology.from_json(orjson.loads(r.document), name=r.name, version=r.version)
                for r in rows]

    def save_methodology(self, name: str, methodology: Methodology) -> Methodology:
        """Create or replace a named methodology; its version grows by one each time."""
        authorize_manage(self.principal, name)
        if not METHODOLOGY_NAME.fullmatch(name):
            raise ValidationFailed({"name": [_("1 to 64 letters, digits, '_', '.' or '-', "
                                             "starting with a letter or digit")]})
        document = {k: v for k, v in methodology.to_json().items()
                    if k in ("title", "description", "normalisation", "components")
                    and (k != "title" or v is not None)}
        row = self.session.scalar(select(SavedMethodology).where(SavedMethodology.name == name))
        if row is None:
            row = SavedMethodology(name=name, version=1, document="", updated_at=self.now,
                                   updated_by=self.principal.name)
            self.session.add(row)
        else:
            row.version += 1
            row.updated_at, row.updated_by = self.now, self.principal.name
        row.document = orjson.dumps(document).decode("utf-8")
        self.session.flush()
        return Methodology.from_json(document, name=name, version=row.version)

    # -- completeness -----------------------------------------------------------------------

    def completeness(self, *, scope: str, period: str, level: Level | None = None,
                     late_after_days: int = DEFAULT_LATE_AFTER_DAYS) -> dict[str, Any]:
        """Who of the scope sent the period's final summary on time, late, or not at all.

        A summary is *final* when the node computed it after the period closed.  On time:
        the first final version reached the hub by the end of the ``late_after_days``-th day
        after the period's last day (Asia/Shanghai); late: after that; ``provisional``: only
        figures computed while the period ran; ``pending``: nothing final yet, but not due;
        ``missing``: nothing final and the deadline has passed.

        Each node also carries its ``audit`` standing from the anchors of its signed
        summaries (hub/relay/anchors.py): ``anomaly`` (审计链异常: its anchored count went
        back, or its head changed under the same count, with no restore announced) or
        ``restored`` (已从备份恢复), None when neither happened; and its ``verification``
        (hub/audits/service.py, docs/verification.md): the newest sampled audit of the period's
        summary, ``status`` passed (数据核验：通过) | failed (未通过) | unanswered (未应答) |
        pending with its findings, ``refused`` when the hub refused one of its summaries
        of the period because the figures disagree with the commitment, and ``uncommitted``
        when its newest summary carries no commitment (未提交承诺); None when none applies.
        """
        current = _period(period)
        node = self._scope(scope)
        if level is not None:
            self._level(node, level)
        deadline = dt.datetime.combine(reports_overdue_from(current, late_after_days),
                                       dt.time(), SHANGHAI)
        expected = store.nodes_in_scope(self.session, node.code, level, include_scope=False)
        came = store.arrivals(self.session, node.code, current.label)
        seen = store.last_seen(self.session, node.code)
        audit = anchors.flags(self.session, *store.code_range(node.code))
        verified = audits.standing(self.session, *store.code_range(node.code), current.label,
                                   self.now)
        rows = []
        counts = dict.fromkeys(("on_time", "late", "provisional", "pending", "missing"), 0)
        for member in expected:
            arrival = came.get(member.code)
            status = _arrival_status(arrival, deadline, self.now)
            counts[status] += 1
            last = seen.get(member.code)
            rows.append({
                "node": member.code, "name": member.name, "level": member.level.value,
                "kind": member.kind.value if member.kind else None, "parent": member.parent,
                "status": status,
                "first_final_at": arrival.first_final_at if arrival else None,
                "first_received_at": arrival.first_at if arrival else None,
                "summary_seq": arrival.newest_seq if arrival else None,
                "summary_versions": arrival.versions if arrival else 0,
                "last_seen_at": last[0] if last else None,
                "latest_seq": last[1] if last else None,
                "audit": audit.get(member.code),
                "verification": verified.get(member.code),
            })
        total = len(expected)
        reported = counts["on_time"] + counts["late"]
        codes = [member.code for member in expected if member.code in audit]
        return {
            "scope": node.code, "period": current.label, "level": level.value if level else None,
            "late_after_days": late_after_days, "deadline": deadline,
            "expected": total, **counts,
            "completeness_rate": rate_basis_points(reported, total),
            "timeliness_rate": rate_basis_points(counts["on_time"], total),
            "audit_anomalies": sum(1 for code in codes
                                   if audit[code]["status"] == anchors.ANOMALY),
            "audit_restores": sum(1 for code in codes
                                  if audit[code]["status"] == anchors.RESTORED),
            "verification_failures": sum(
                1 for member in expected if (found := verified.get(member.code))
                and audits.verdict(found) in audits.FAILINGS),
            "nodes": rows,
        }

    # -- roll-ups and trends ----------------------------------------------------------------

    def rollup(self, *, scope: str, period: str) -> dict[str, Any]:
        """Totals of the scope's subtree (the scope's own center included): counts summed,
        rates recomputed from summed numerators and denominators.

        Every case is counted once: ``received`` counts a case only at the center where it
        was received (not where it was forwarded to), ``completed`` only at the center that
        decided it, so adding up centers never counts a forwarded case twice.
        """
        current = _period(period)
        node = self._scope(scope)
        expected = store.nodes_in_scope(self.session, node.code)
        bodies = store.newest_bodies(self.session, node.code, current.label)
        members = {n.code for n in expected}
        reporting = sorted(code for code in bodies if code in members)
        metrics: dict[str, dict[str, Any]] = {}
        keys = sorted({key for code in reporting for key in bodies[code]["metrics"]})
        for key in keys:
            figures = [Figure.from_json(bodies[code]["metrics"].get(key)) for code in reporting]
            total = add_up([f for f in figures if f is not None], current.months)
            if total is not None:
                info = ALL_METRICS.get(key)
                metrics[key] = {"name": info.name if info else key, **total}
        return {
            "scope": node.code, "period": current.label, "expected": len(expected),
            "reporting": len(reporting), "nodes": reporting,
            "missing": sorted(members - set(reporting)), "metrics": metrics,
        }

    def trend(self, *, metric: str, start: str, end: str, node: str | None = None,
              scope: str | None = None) -> dict[str, Any]:
        """One metric over a range of periods, for one node or added up over a scope."""
        check_metric(metric)
        if (node is None) == (scope is None):
            raise ValidationFailed({"node": [_("give either node or scope")],
                                    "scope": [_("give either node or scope")]})
        first, last = _period(start, "from"), _period(end, "to")
        if first.kind is not last.kind:
            raise ValidationFailed({"to": [_("must be a %(value)s like 'from'",
                                             value=PERIOD_KIND_NAMES[first.kind])]})
        if last < first:
            raise ValidationFailed({"to": [_("must not come before 'from'")]})
        periods = [last]
        while periods[-1] != first:
            periods.append(periods[-1].previous())
            if len(periods) > MAX_TREND_PERIODS:
                raise ValidationFailed({"from": [_("at most %(max_trend_periods)s periods",
                                                   max_trend_periods=MAX_TREND_PERIODS)]})
        periods.reverse()
        code = node or scope or ""
        target = self._scope(code)
        members = {n.code for n in store.nodes_in_scope(self.session, code)} if scope else {code}
        points = []
        for period in periods:
            reported = store.newest_figures(self.session, code, period.label, [metric])
            figures = [r.figures[metric] for c, r in reported.items() if c in members]
            total = add_up([f for f in figures if f is not None], period.months)
            points.append({"period": period.label, "as_of": self.running_as_of(period),
                           "reporting": sum(1 for c in reported if c in members),
                           **(total or {"unit": ALL_METRICS[metric].unit.value, "value": None,
                                        "numerator": None, "denominator": None})})
        return {"metric": metric, "name": ALL_METRICS[metric].name,
                "node": code if node else None, "scope": code if scope else None,
                "level": target.level.value, "points": points}


def _arrival_status(arrival: store.Arrival | None, deadline: dt.datetime,
                    now: dt.datetime) -> str:
    if arrival is not None and arrival.first_final_at is not None:
        return "on_time" if arrival.first_final_at <= deadline else "late"
    if now < deadline:
        return "pending"
    return "provisional" if arrival is not None else "missing"


def add_up(figures: Sequence[Figure], months: int) -> dict[str, Any] | None:
    """The total of one metric over several centers, by its unit."""
    if not figures:
        return None
    unit = figures[0].unit
    same = [f for f in figures if f.unit == unit]
    if unit in (Unit.COUNT, Unit.FEN):
        return {"unit": unit, "value": sum(f.value or 0 for f in same),
                "numerator": None, "denominator": None}
    numerator = sum(f.numerator or 0 for f in same)
    if unit == Unit.PER_MONTH:  # the denominator is the period's months, not a sum
        return {"unit": unit, "value": per_month(numerator, months), "numerator": numerator,
                "denominator": months}
    denominator = sum(f.denominator or 0 for f in same)
    return {"unit": unit, "value": ratio_value(unit, numerator, denominator),
            "numerator": numerator, "denominator": denominator}


def methodology_from_request(document: Mapping[str, Any]) -> Methodology:
    """A methodology from API or CLI input, every problem named by field."""
    problems: dict[str, list[str]] = {}
    components = document.get("components")
    if not isinstance(components, list) or not 1 <= len(components) <= MAX_COMPONENTS:
        problems["components"] = [_("1 to %(most)s components", most=MAX_COMPONENTS)]
        components = []
    parsed: list[Component] = []
    for i, item in enumerate(components):
        where = f"components.{i}"
        if not isinstance(item, Mapping):
            problems[where] = [_("an object with metric, weight and direction")]
            continue
        metric, weight = item.get("metric"), item.get("weight")
        direction = item.get("direction", Direction.HIGHER_BETTER.value)
        if metric not in ALL_METRICS:
            problems[f"{where}.metric"] = [_("unknown metric %(metric)s", metric=repr(metric))]
        if (isinstance(weight, bool) or not isinstance(weight, int | float)
                or not 0 < weight <= 1000):
            problems[f"{where}.weight"] = [_("a number above 0 and at most 1000")]
        if direction not in {d.value for d in Direction}:
            problems[f"{where}.direction"] = [_("higher_better or lower_better")]
        extra = set(item) - {"metric", "weight", "direction"}
        if extra:
            problems[where] = [_("unknown field(s): %(fields)s", fields=", ".join(sorted(extra)))]
        if f"{where}.metric" not in problems and f"{where}.weight" not in problems \
                and f"{where}.direction" not in problems:
            parsed.append(Component(str(metric), float(weight or 0), Direction(direction)))
    metrics = [c.metric for c in parsed]
    if len(set(metrics)) != len(metrics):
        problems.setdefault("components", []).append(_("each metric at most once"))
    normalisation = document.get("normalisation")
    if normalisation not in {n.value for n in Normalisation}:
        problems["normalisation"] = [_("min_max or z_score")]
    description = document.get("description", "")
    if not isinstance(description, str) or len(description) > 2000:
        problems["description"] = [_("text of at most 2000 characters")]
    title, wrong = title_problems(document.get("title"))
    if wrong:
        problems["title"] = wrong
    if problems:
        raise ValidationFailed(problems)
    return Methodology(tuple(parsed), Normalisation(str(normalisation)),
                       description=str(description), title=title)

