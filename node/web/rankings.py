"""Higher-level staff's pages (city and province nodes): league tables with bar charts,
reporting completeness, trends as line charts, the composite index with its methodology, and
tables to export. Every question goes to the hub signed as this node (node.rankings); when
the hub cannot be reached, the last answer kept is shown with the time it was fetched."""

from __future__ import annotations

from typing import Any

import orjson
from flask import current_app, render_template, request

from node.api.rankings import rankings_client
from node.auth.permissions import Permission
from node.metrics.definitions import ALL_METRICS
from node.rankings.cache import Answer, CachedRankings
from node.rankings.client import HubUnreachable
from node.web.core import download, staff_page, today, web_blueprint
from node.web.labels import metric_name
from schemas.database import mark_writing
from schemas.periods import Period
from schemas.webapp import current_session

bp = web_blueprint("web_rankings", "/staff/rankings")

EXPORTABLE = frozenset({"league", "completeness", "composite"})
NORMALISATIONS = {"min_max": "极差标准化（min-max）", "z_score": "标准分（z-score）"}


def _hub_configured() -> bool:
    return bool(current_app.config["TONGBAN"].get("hub_url"))


def _ask(method: str, what: str, query: list[tuple[str, str]], body: bytes = b"") -> Answer:
    if not _hub_configured():
        return Answer(503, None, None, stale=True,
                      unreachable_reason="本节点未配置枢纽地址（hub_url）")
    session = current_session()
    mark_writing(session)  # a good answer is kept for later
    return CachedRankings(session, rankings_client()).ask(method, what, query, body)


def _this_month() -> str:
    now = today()
    return Period.month(now.year, now.month).label


def _common() -> dict[str, Any]:
    scope = request.args.get("scope", "").strip() or current_app.config["TONGBAN"]["code"]
    return {
        "scope": scope,
        "period": request.args.get("period", "").strip() or _this_month(),
        "metrics": {key: m.name for key, m in ALL_METRICS.items()},
    }


def _query(names: tuple[str, ...], defaults: dict[str, str]) -> list[tuple[str, str]]:
    query = []
    for name in names:
        value = request.args.get(name, "").strip() or defaults.get(name, "")
        if value:
            query.append((name, value))
    return query


def _hub_error(answer: Answer) -> str | None:
    """The hub's refusal (403 outside_scope, 422 with the bad fields …) in one line."""
    if answer.status == 200 or answer.document is None:
        return None
    error = answer.document.get("error", {}) if isinstance(answer.document, dict) else {}
    fields = (error.get("details") or {}).get("fields") or {}
    detail = "；".join(f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}"
                      for k, v in fields.items())
    lead = f"枢纽拒绝了该查询（{answer.status} {error.get('code', '')}）"
    return f"{lead}：{error.get('message', '')}" + (f"（{detail}）" if detail else "")


def _page(template: str, answer: Answer, **context: Any) -> Any:
    document = answer.document if answer.status == 200 else None
    return render_template(template, answer=answer, document=document,
                           hub_error=_hub_error(answer), **context)


@bp.get("")
@staff_page(Permission.SUPERVISION_READ)
def league() -> Any:
    """排名: a league table of the centers below, one metric, peers ranked by kind."""
    context = _common()
    defaults = {"scope": context["scope"], "period": context["period"], "metric": "completed"}
    query = _query(("scope", "period", "metric", "level", "peers", "kind", "order"), defaults)
    answer = _ask("GET", "league", query)
    chart = None
    if answer.status == 200 and answer.document:
        rows = [r for g in answer.document.get("groups", []) for r in g.get("rows", [])
                if r.get("status") == "ranked"]
        unit = answer.document.get("unit")
        chart = {
            "title": answer.document.get("metric_name") or metric_name(dict(query)["metric"]),
            "names": [r.get("name") or r["node"] for r in rows],
            "values": [(r["value"] / 100 if unit == "basis_points" else r["value"])
                       for r in rows],
            "unit": "%" if unit == "basis_points" else "",
        }
    return _page("web/staff/rankings/league.html", answer, chart_data=chart,
                 args=dict(query), **context)


@bp.get("/completeness")
@staff_page(Permission.SUPERVISION_READ)
def completeness() -> Any:
    """报送情况: which centers below sent the period's summary, on time, late or not at all."""
    context = _common()
    query = _query(("scope", "period", "level", "late_after_days"),
                   {"scope": context["scope"], "period": context["period"]})
    return _page("web/staff/rankings/completeness.html", _ask("GET", "completeness", query),
                 args=dict(query), **context)


@bp.get("/trend")
@staff_page(Permission.SUPERVISION_READ)
def trend() -> Any:
    """趋势: one metric month by month for a center or the whole scope."""
    context = _common()
    now = today()
    first = Period.month(now.year - 1 if now.month < 6 else now.year,
                         (now.month - 5 - 1) % 12 + 1).label
    defaults = {"metric": "completed", "from": first, "to": _this_month()}
    query = _query(("metric", "from", "to"), defaults)
    target = request.args.get("node", "").strip()
    query.insert(0, ("node", target) if target else ("scope", context["scope"]))
    answer = _ask("GET", "trend", query)
    chart = None
    if answer.status == 200 and answer.document:
        points = answer.document.get("points", [])
        basis = any(p.get("unit") == "basis_points" for p in points)
        chart = {
            "title": answer.document.get("name") or metric_name(dict(query)["metric"]),
            "names": [p["period"] for p in points],
            "values": [(p["value"] / 100 if basis and p["value"] is not None else p["value"])
                       for p in points],
            "unit": "%" if basis else "",
        }
    return _page("web/staff/rankings/trend.html", answer, chart_data=chart, args=dict(query),
                 node=target, **context)


def _composite_body(context: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    """The composite question from the form: a saved methodology by name, or up to three
    components with weights and directions."""
    body: dict[str, Any] = {"scope": context["scope"], "period": context["period"]}
    for name in ("level", "peers", "kind"):
        if request.args.get(name):
            body[name] = request.args[name]
    saved = request.args.get("methodology", "").strip()
    if saved:
        body["methodology"] = saved
    else:
        components = []
        for index in range(1, 4):
            metric = request.args.get(f"metric{index}", "").strip()
            if not metric:
                continue
            weight_text = request.args.get(f"weight{index}", "1").strip() or "1"
            try:
                weight: float | str = float(weight_text)
            except ValueError:
                weight = weight_text  # the hub names the bad field
            components.append({"metric": metric, "weight": weight,
                               "direction": request.args.get(f"direction{index}",
                                                             "higher_better")})
        if not components:
            components = [{"metric": "completed", "weight": 2},
                          {"metric": "on_time_rate", "weight": 1}]
        body["methodology"] = {
            "normalisation": request.args.get("normalisation", "min_max"),
            "description": request.args.get("description", "").strip() or "综合指数",
            "components": components,
        }
    return body, orjson.dumps(body)


@bp.get("/composite")
@staff_page(Permission.SUPERVISION_READ)
def composite() -> Any:
    """综合指数: a weighted score of normalised metrics, shown with its methodology."""
    context = _common()
    body, raw = _composite_body(context)
    answer = _ask("POST", "composite", [], raw)
    saved = _ask("GET", "methodologies", [])
    names = []
    if saved.status == 200 and isinstance(saved.document, dict | list):
        items = saved.document.get("items", []) if isinstance(saved.document, dict) \
            else saved.document
        names = [m.get("name") for m in items if isinstance(m, dict)]
    return _page("web/staff/rankings/composite.html", answer, question=body,
                 saved_names=names, normalisations=NORMALISATIONS, args=request.args,
                 **context)


@bp.get("/export")
@staff_page(Permission.SUPERVISION_READ)
def export() -> Any:
    """A table as XLSX or CSV with Chinese headings, straight from the hub."""
    what = request.args.get("what", "league")
    fmt = request.args.get("format", "xlsx")
    if what not in EXPORTABLE or fmt not in ("xlsx", "csv") or not _hub_configured():
        return render_template("web/error.html", status=422, title="无法导出",
                               message="请选择排名表、报送情况或综合指数，"
                                       "格式为 xlsx 或 csv。"), 422
    query = [(k, v) for k, v in request.args.items(multi=True) if k not in ("what", "format")]
    query.append(("format", fmt))
    if "scope" not in request.args:
        query.insert(0, ("scope", current_app.config["TONGBAN"]["code"]))
    method, body = "GET", b""
    if what == "composite":
        context = _common()
        document, _raw = _composite_body(context)
        document["format"] = fmt
        method, body, query = "POST", orjson.dumps(document), []
    try:
        found = rankings_client().ask(method, what, query, body)
    except HubUnreachable as exc:
        return render_template("web/error.html", status=502, title="无法连接枢纽",
                               message=f"导出需要连接枢纽，目前无法连接：{exc.message}"), 502
    if found.status != 200:
        return render_template("web/error.html", status=found.status, title="枢纽拒绝导出",
                               message=found.body.decode("utf-8", "replace")[:500]), found.status
    mimetype = found.content_type.split(";")[0]
    return download(found.body, mimetype, f"{what}-{request.args.get('period', '')}.{fmt}")
