"""Higher-level staff's pages (city and province nodes): league tables with bar charts,
reporting completeness, trends as line charts, the composite index with its methodology, and
tables to export. Every question goes to the hub signed as this node (node.rankings); when
the hub cannot be reached, the last answer kept is shown with the time it was fetched."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any
from urllib.parse import quote

import orjson
from flask import (
    Response,
    after_this_request,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.datastructures import MultiDict

from node.auth.permissions import Permission
from node.composition import current_settings
from node.ports import HubUnavailable
from node.rankings.cache import Answer, CachedRankings
from node.web.core import can, center, download, staff_page, today, web_blueprint
from node.web.labels import (
    AUDIT_REFUSALS,
    RANKINGS_FIELD_NAMES,
    RANKINGS_REFUSALS,
    metric_name,
)
from node.web.methodology_form import (
    DIRECTIONS,
    MAX_COMPONENTS_ON_FORM,
    form_problems,
    hub_problems,
    methodology_document,
    methodology_labels,
    methodology_values,
    saved_choices,
)
from node.web.services import rankings_hub
from schemas.commitment import DEFAULT_SAMPLE_SIZE
from schemas.envelope import CODE_PATTERN
from schemas.i18n import _
from schemas.methodologies import methodology_label, methodology_prefix
from schemas.metrics import ALL_METRICS
from schemas.periods import (
    REPORTS_LATE_AFTER_DAYS,
    Period,
    chinese_month_day,
    last_month_due,
)
from schemas.runtime.database import Database, mark_writing, utcnow
from schemas.runtime.spreadsheet import inert_download
from schemas.runtime.webapp import current_session

bp = web_blueprint("web_rankings", "/staff/rankings")
log = logging.getLogger("tongban.node.rankings")

COMPLETENESS_QUERY = ("scope", "period", "level", "late_after_days")
AUDITED_NODE = re.compile(f"({CODE_PATTERN})")
EXPORTABLE = frozenset({"league", "completeness", "composite"})
NORMALISATIONS = {"min_max": _("极差标准化（0 至 1）"),
                  "z_score": _("标准分（与平均值相差几个标准差）")}


def _hub_configured() -> bool:
    return bool(current_settings().hub_url)


def _ask(method: str, what: str, query: list[tuple[str, str]], body: bytes = b"", *,
         kept_first: bool = True) -> Answer:
    """The hub's answer for a page.  A question answered before is shown at once from the
    kept answer, and asked again once the page has been sent (so the next view is fresh,
    and a hub that is down or slow never holds the page); a new question waits for the hub.
    ``kept_first=False`` (the list of saved methodologies being edited) asks the hub first
    and shows the kept answer only when it cannot be reached.
    """
    if not _hub_configured():
        return Answer(503, None, None, stale=True,
                      unreachable_reason=_("本节点未配置枢纽地址"))
    session = current_session()
    cache = CachedRankings(session, rankings_hub())
    if request.method in ("GET", "HEAD"):
        kept = cache.kept(method, what, query, body) if kept_first else None
        if kept is not None:
            last = cache.last_asked(method, what, query, body)
            if last is None or utcnow() - last >= REFRESH_AFTER:
                _refresh_after_the_page(method, what, query, body)
            return kept
        # A good answer is kept for later, so this transaction writes (SQLite: BEGIN
        # IMMEDIATE). The login check has already read in a plain transaction, which cannot
        # be upgraded: end it (it wrote nothing) and begin the writing one. A form's POST
        # began writing from its start (schemas.runtime.webapp.current_session).
        session.commit()
        mark_writing(session)
    return cache.ask(method, what, query, body)


# a kept answer is asked for again when the page showing it is sent, unless it was asked
# for this recently (a page reloaded in a loop asks the hub once)
REFRESH_AFTER = dt.timedelta(seconds=10)


def _refresh_after_the_page(method: str, what: str, query: list[tuple[str, str]],
                            body: bytes) -> None:
    """Ask the hub again once the response has been sent (its own transaction)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def refresh() -> None:
        with app.app_context():
            db: Database = app.extensions["tongban_db"]
            with db.unit_of_work() as session:
                CachedRankings(session, rankings_hub()).refresh(method, what, query, body)

    @after_this_request
    def _schedule(response: Response) -> Response:
        response.call_on_close(refresh)
        return response


def _this_month() -> str:
    now = today()
    return Period.month(now.year, now.month).label


def _common(default_period: str | None = None) -> dict[str, Any]:
    scope = request.args.get("scope", "").strip() or current_settings().code
    return {
        "scope": scope,
        "period": request.args.get("period", "").strip() or default_period or _this_month(),
        "metrics": {key: metric_name(key) for key in ALL_METRICS},
    }


def _last_due() -> str:
    """The last month whose reports are due (the deadline the completeness form names)."""
    text = request.args.get("late_after_days", "").strip()
    days = int(text) if text.isdigit() and int(text) <= 366 else REPORTS_LATE_AFTER_DAYS
    return last_month_due(today(), days).label


def lower_centers_at_a_glance(code: str) -> dict[str, Any]:
    """A higher center's home page (node/web/home.py): the centers below ranked by cases
    completed this month (the first five), and who has not reported the last month due, as
    the league and completeness pages read them from the hub (or their kept answers)."""
    league = _ask("GET", "league", [("scope", code), ("period", _this_month()),
                                    ("metric", "completed")])
    due = _last_due()
    reported = _ask("GET", "completeness", [("scope", code), ("period", due)])
    ranked = [r for g in (league.document or {}).get("groups", []) for r in g.get("rows", [])
              if r.get("status") == "ranked"] if league.status == 200 else []
    missing = [n for n in (reported.document or {}).get("nodes", [])
               if n.get("status") == "missing"] if reported.status == 200 else []
    return {"top": sorted(ranked, key=lambda r: r.get("rank") or 0)[:5],
            "missing": missing, "due": due,
            "hub_error": (_hub_error(league) or _hub_error(reported)
                          or league.unreachable_reason or reported.unreachable_reason)}


def running_label(period: str, as_of: str | None) -> str:
    """``2026-12（截至 12月6日）`` for a running period (the hub's ``as_of``), else the label."""
    if not as_of:
        return period
    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        return period
    return _("%(period)s（截至 %(chinese_month_day)s）",
             period=period, chinese_month_day=chinese_month_day(day))


def _query(names: tuple[str, ...], defaults: dict[str, str]) -> list[tuple[str, str]]:
    query = []
    for name in names:
        value = request.args.get(name, "").strip() or defaults.get(name, "")
        if value:
            query.append((name, value))
    return query


def _hub_error(answer: Answer) -> str | None:
    """The hub's refusal (403 outside_scope, 422 with the bad fields …) in one line: its
    reason by its code, the bad fields by the form's labels; never the error's code, the
    fields' API names or a reason that lists codes (marshmallow's choices)."""
    if answer.status == 200 or answer.document is None:
        return None
    error = answer.document.get("error", {}) if isinstance(answer.document, dict) else {}
    error = error if isinstance(error, dict) else {}
    fields = (error.get("details") or {}).get("fields") or {}
    if isinstance(fields, dict) and fields:
        said = []
        for key, reasons in fields.items():
            label = RANKINGS_FIELD_NAMES.get(str(key).split(".")[0], _("查询条件"))
            reason = "，".join(map(str, reasons if isinstance(reasons, list) else [reasons]))
            said.append(f"{label}：{reason}" if reason and not _LATIN.search(reason)
                        else str(_("%(label)s：不是可选的值", label=label)))
        return str(_("枢纽拒绝了该查询：%(reasons)s", reasons="；".join(said)))
    reason = RANKINGS_REFUSALS.get(str(error.get("code", ""))) or _(
        "请检查查询条件后重试（枢纽答复 %(status)s）", status=answer.status)
    return str(_("枢纽拒绝了该查询：%(reasons)s", reasons=reason))


_LATIN = re.compile(r"[A-Za-z]")


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
            "title": metric_name(answer.document.get("metric") or dict(query)["metric"]),
            "names": [r.get("name") or r["node"] for r in rows],
            # basis points as a percentage, 分 as 元
            "values": [(r["value"] / 100 if unit in ("basis_points", "fen", "hundredths")
                        else r["value"]) for r in rows],
            "unit": {"basis_points": "%", "fen": _("元"), "hundredths": _("次")}.get(unit or "",
                                                                                  ""),
        }
    return _page("web/staff/rankings/league.html", answer, chart_data=chart,
                 args=dict(query), **context)


@bp.get("/completeness")
@staff_page(Permission.SUPERVISION_READ)
def completeness() -> Any:
    """报送情况: which centers below sent the period's summary, on time, late or not at all;
    it opens on the last month whose reports are due (not the running month, which nobody
    can have reported yet)."""
    context = _common(_last_due())
    query = _query(COMPLETENESS_QUERY, {"scope": context["scope"], "period": context["period"]})
    return _page("web/staff/rankings/completeness.html", _ask("GET", "completeness", query),
                 args=dict(query), can_audit=can(Permission.SUPERVISION_MANAGE), **context)


@bp.post("/completeness/audit")
@staff_page(Permission.SUPERVISION_MANAGE)
def open_audit() -> Any:
    """发起数据核验: open a sampled audit of a lower center's newest summary of the period,
    signed as this node (``POST /api/v1/audits``); the center's worker answers on its own and
    the result shows on this page (docs/verification.md)."""
    node, period = request.form.get("node", ""), request.form.get("period", "")
    back: dict[str, Any] = {key: request.form[key].strip() for key in COMPLETENESS_QUERY
                            if request.form.get(key, "").strip()}
    back.setdefault("scope", current_settings().code)
    target = url_for("web_rankings.completeness", **back)
    if not AUDITED_NODE.fullmatch(node) or not period or len(period) > 32:
        flash(_("未发起数据核验：请从报送情况表中选择一个中心。"))
        return redirect(target)
    if not _hub_configured():
        flash(_("本节点未配置枢纽地址，无法发起数据核验。"))
        return redirect(target)
    try:
        found = rankings_hub().open_audit(node, period, DEFAULT_SAMPLE_SIZE)
    except HubUnavailable as exc:
        log.warning("audit not opened: the hub cannot be reached: %s", exc.message)
        flash(_("无法连接上级枢纽，未发起数据核验，请稍后再试。"))
        return redirect(target)
    reply = _json_or_none(found.body)
    named = center(node, request.form.get("name", "").strip() or None)
    if found.status != 201 or not isinstance(reply, dict):
        error = (reply or {}).get("error") if isinstance(reply, dict) else None
        error = error if isinstance(error, dict) else {}
        reason = AUDIT_REFUSALS.get(error.get("code", "")) or error.get("message") or found.status
        flash(_("枢纽未对%(center)s发起数据核验：%(reason)s", center=named, reason=reason))
        return redirect(target)
    chances = _("、").join(
        str(_("假记录占 %(share)s 时查出概率 %(probability)s",
              share=percent(d["false_share_bp"]), probability=percent(d["probability_bp"])))
        for d in reply.get("detection") or [])
    flash(_("已对%(center)s发起 %(period)s 数据核验（第 %(seq)s 版报表，抽查 %(sampled)s 件；"
            "%(chances)s），待其应答。", center=named, period=period,
            seq=reply.get("summary_seq"), sampled=reply.get("sampled"), chances=chances))
    # the page the staff member goes back to shows the new audit, not the answer kept before
    CachedRankings(current_session(), rankings_hub()).refresh(
        "GET", "completeness", [(key, back[key]) for key in COMPLETENESS_QUERY if key in back])
    return redirect(target)


def percent(basis_points: int) -> str:
    return f"{basis_points / 100:.2f}%"


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
        basis = any(p.get("unit") in ("basis_points", "hundredths") for p in points)
        times = any(p.get("unit") == "hundredths" for p in points)
        fen = any(p.get("unit") == "fen" for p in points)
        chart = {
            "title": metric_name(answer.document.get("metric") or dict(query)["metric"]),
            "names": [running_label(p["period"], p.get("as_of")) for p in points],
            "values": [(p["value"] / 100 if (basis or fen) and p["value"] is not None
                        else p["value"]) for p in points],
            "unit": _("次") if times else "%" if basis else _("元") if fen else "",
        }
    return _page("web/staff/rankings/trend.html", answer, chart_data=chart, args=dict(query),
                 node=target, **context)


# what the composite form holds when first opened: shown on the form as it is, and used only
# as shown (never a weighting the form does not show)
COMPOSITE_DEFAULTS = MultiDict([("normalisation", "min_max"), ("metric1", "completed"),
                                ("weight1", "2"), ("direction1", "higher_better"),
                                ("metric2", "on_time_rate"), ("weight2", "1"),
                                ("direction2", "higher_better")])
COMPOSITE_FORM_FIELDS = ("methodology", "normalisation", "metric1", "metric2", "metric3")


def _composite_values() -> MultiDict[str, str]:
    """The composite form's values: as sent, or the defaults when the form was not sent."""
    if any(name in request.args for name in COMPOSITE_FORM_FIELDS):
        return request.args
    values = MultiDict(request.args)
    values.update(COMPOSITE_DEFAULTS)
    return values


def _composite_body(context: dict[str, Any],
                    values: MultiDict[str, str]) -> tuple[dict[str, Any] | None, bytes]:
    """The composite question from the form: a saved methodology by name, or up to three
    components with weights and directions; None when the form names no metric."""
    body: dict[str, Any] = {"scope": context["scope"], "period": context["period"]}
    for name in ("level", "peers", "kind"):
        if values.get(name):
            body[name] = values[name]
    saved = values.get("methodology", "").strip()
    if saved:
        body["methodology"] = saved
        return body, orjson.dumps(body)
    components = []
    for index in range(1, 4):
        metric = values.get(f"metric{index}", "").strip()
        if not metric:
            continue
        weight_text = values.get(f"weight{index}", "1").strip() or "1"
        try:
            weight: float | str = float(weight_text)
        except ValueError:
            weight = weight_text  # the hub names the bad field
        components.append({"metric": metric, "weight": weight,
                           "direction": values.get(f"direction{index}", "higher_better")})
    if not components:
        return None, b""
    body["methodology"] = {
        "normalisation": values.get("normalisation", "min_max"),
        "description": values.get("description", "").strip() or _("综合指数"),
        "components": components,
    }
    return body, orjson.dumps(body)


@bp.get("/composite")
@staff_page(Permission.SUPERVISION_READ)
def composite() -> Any:
    """综合指数: a weighted score of normalised metrics, shown with its methodology."""
    context = _common()
    values = _composite_values()
    body, raw = _composite_body(context, values)
    answer = _ask("POST", "composite", [], raw) if body is not None else Answer(
        422, None, None, stale=False)
    saved = _ask("GET", "methodologies", [])
    choices = []
    if saved.status == 200 and isinstance(saved.document, dict | list):
        items = saved.document.get("items", []) if isinstance(saved.document, dict) \
            else saved.document
        choices = saved_choices(items)
    page = _page("web/staff/rankings/composite.html", answer, question=body,
                 saved_choices=choices, normalisations=NORMALISATIONS, args=values,
                 no_metric=body is None, **context)
    return (page, 422) if body is None else page


# -- saving a composite methodology -----------------------------------------------------------


def _saved_methodologies() -> tuple[Answer, list[dict[str, Any]]]:
    answer = _ask("GET", "methodologies", [], kept_first=False)
    items = answer.document if answer.status == 200 and isinstance(answer.document, list) \
        else []
    return answer, [m for m in items if isinstance(m, dict) and m.get("name")]


@bp.route("/methodologies", methods=["GET", "POST"])
@staff_page(Permission.SUPERVISION_MANAGE)
def methodologies() -> Any:
    """综合指数计算方法: save a composite methodology (metrics, weights, directions,
    normalisation) at the hub under this center's code, or a new version of one; the hub
    checks it as it checks the API's PUT."""
    template = "web/staff/rankings/methodologies.html"
    prefix = methodology_prefix(current_settings().code)
    answer, saved = _saved_methodologies()
    chosen = request.args.get("name", "").strip()
    found = next((m for m in saved if m["name"] == chosen), None)
    form = request.form if request.method == "POST" else methodology_values(found, prefix)
    filled = max((r for r in range(1, MAX_COMPONENTS_ON_FORM + 1) if form.get(f"metric{r}")),
                 default=0)
    rows = min(MAX_COMPONENTS_ON_FORM, max(5, filled + 2))
    context = {"answer": answer, "saved": saved, "prefix": prefix, "chosen": found,
               "rows": rows, "metrics": {k: metric_name(k) for k in ALL_METRICS},
               "normalisations": NORMALISATIONS, "directions": DIRECTIONS,
               "field_labels": methodology_labels(rows), "form": form}
    if request.method == "GET":
        return render_template(template, errors={}, **context)
    document, sent_rows = methodology_document(request.form)
    name = prefix + request.form.get("name", "").strip()
    problems = form_problems(request.form)
    if problems:
        return render_template(template, errors=problems, **context), 422
    if not _hub_configured():
        return render_template(template, errors={"": [_("本节点未配置枢纽地址，"
                                                      "无法保存。")]}, **context), 503
    try:
        found_answer = rankings_hub().ask("PUT", f"methodologies/{quote(name, safe='')}",
                                             [], orjson.dumps(document))
    except HubUnavailable as exc:
        log.warning("methodology not saved: the hub cannot be reached: %s", exc.message)
        return render_template(template, errors={"": [_("无法连接上级枢纽，未保存，请稍后再试。")]},
                               **context), 502
    reply = _json_or_none(found_answer.body)
    if found_answer.status != 200:
        return render_template(template, errors=hub_problems(reply, sent_rows),
                               **context), 422 if found_answer.status == 422 else \
            found_answer.status
    flash(_("计算方法%(label)s已保存。", label=methodology_label(reply))
          if isinstance(reply, dict) else _("计算方法已保存。"))
    return redirect(url_for("web_rankings.methodologies", name=name))


def _json_or_none(body: bytes) -> Any:
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return None


@bp.get("/export")
@staff_page(Permission.SUPERVISION_READ)
def export() -> Any:
    """A table as XLSX or CSV with Chinese headings, straight from the hub."""
    what = request.args.get("what", "league")
    fmt = request.args.get("format", "xlsx")
    if what not in EXPORTABLE or fmt not in ("xlsx", "csv") or not _hub_configured():
        return render_template("web/error.html", status=422, title=_("无法导出"),
                               message=_("请选择排名表、报送情况或综合指数，"
                                       "格式为 xlsx 或 csv。")), 422
    context = _common(_last_due() if what == "completeness" else None)
    query = [(k, v) for k, v in request.args.items(multi=True) if k not in ("what", "format")]
    query.append(("format", fmt))
    if "scope" not in request.args:
        query.insert(0, ("scope", context["scope"]))
    if not request.args.get("period", "").strip():
        # the period the page showed, so that the file holds it and is named after it
        query = [(k, v) for k, v in query if k != "period"] + [("period", context["period"])]
    method, body = "GET", b""
    if what == "composite":
        document, _raw = _composite_body(context, _composite_values())
        if document is None:
            return render_template("web/error.html", status=422, title=_("无法导出"),
                                   message=_("请至少选择一个指标，或选择已保存的方法。")), 422
        document["format"] = fmt
        method, body, query = "POST", orjson.dumps(document), []
    try:
        found = rankings_hub().ask(method, what, query, body)
    except HubUnavailable as exc:
        log.warning("export failed: the hub cannot be reached: %s", exc.message)
        return render_template("web/error.html", status=502, title=_("无法连接上级枢纽"),
                               message=_("导出需要连接上级枢纽，目前无法连接，请稍后再试。")), 502
    if found.status != 200:
        # the hub's refusal as the pages say it, never the wire's JSON
        refusal = _hub_error(Answer(found.status, _json_or_none(found.body), None, stale=False))
        return render_template("web/error.html", status=found.status, title=_("枢纽拒绝导出"),
                               message=refusal or _("枢纽未能导出该表，请稍后再试。")), \
            found.status
    mimetype = found.content_type.split(";")[0]
    # inert whatever the hub wrote (schemas/runtime/spreadsheet.py): a name is never a live formula
    return download(inert_download(found.body, found.content_type), mimetype,
                    export_filename(what, request.args, context["scope"], context["period"],
                                    fmt, _saved_label(request.args.get("methodology", ""))))


def _saved_label(name: str) -> str | None:
    """A saved methodology's title and version as its export's name says it (the list of
    saved methodologies the composite page showed); None when none is chosen or found."""
    if not name.strip():
        return None
    _answer, saved = _saved_methodologies()
    found = next((m for m in saved if m["name"] == name.strip()), None)
    return None if found is None else str(methodology_label(found)).replace(" ", "")


_UNSAFE_IN_NAMES = re.compile(r'[\\/:*?"<>|\s]+')


def export_filename(what: str, args: Any, scope: str, period: str, fmt: str,
                    method: str | None = None) -> str:
    """An export named after what it holds: 排名_办结数_450900_2026-11.xlsx,
    报送情况_450900_2026-11.csv, 综合指数_「季度综合评价」第3版_450900_2026-11.xlsx (a saved
    methodology by its title, ``method``; 自定义 for one made on the form)."""
    if what == "league":
        parts = [_("排名"), metric_name(args.get("metric", "completed") or "completed")]
    elif what == "completeness":
        parts = [_("报送情况")]
    else:
        parts = [_("综合指数"), method or args.get("methodology", "").strip() or _("自定义")]
    parts += [scope, period]
    return "_".join(_UNSAFE_IN_NAMES.sub("-", part).strip("-") or "-" for part in parts) \
        + f".{fmt}"
