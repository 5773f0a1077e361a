"""League tables and other answers as the spreadsheets a province circulates: CSV (UTF-8 with
a byte-order mark, so that spreadsheet programs read the Chinese) and XLSX, with Chinese
headings; a composite table's methodology goes on its own sheet ("方法说明")."""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.i18n import _
from schemas.methodologies import methodology_label
from schemas.metrics import ALL_METRICS, Unit, shown_name
from schemas.periods import chinese_month_day
from schemas.runtime.spreadsheet import Fixed, LocalTime, Money, Rate, Sheet, csv_bytes, xlsx_bytes

STATUS_NAMES = {
    "ranked": _("已排名"), "not_reported": _("未报送"), "no_value": _("无数据"),
    "sole_peer": _("不参与排名（同类仅 1 个）"),
    "on_time": _("按时报送"), "late": _("逾期报送"), "provisional": _("仅报送期中数据"),
    "pending": _("未到期"), "missing": _("未报送"),
}
KIND_NAMES = {
    "district": _("市辖区"),
    "county": _("县"),
    "county_city": _("县级市"),
    None: _("全部"),
}
# peer groups: as KIND_NAMES, but the bulletins' two groups are 县（市） and 城区
BULLETIN_GROUP_NAMES = {"counties_and_cities": _("县（市）"), "district": _("城区")}
LEVEL_NAMES = {
    "province": _("省"),
    "city": _("市"),
    "county": _("县级"),
    "township": _("乡镇（街道）"),
}
DIRECTION_NAMES = {"higher_better": _("越大越好"), "lower_better": _("越小越好")}
UNIT_NAMES = {"count": _("件"), "fen": _("元"), "basis_points": "%", "per_month": _("件/月"),
              "hundredths": _("次/件")}
SCORE_PLACES = 4  # a composite score or a normalised value: 0.6444


def figure(unit: str | None, value: Any) -> Any:
    """A figure as people read it (schemas/runtime/spreadsheet.py's typed cells): a rate as a
    percentage, money in 元; basis points and 分 never reach a sheet."""
    if unit == Unit.BASIS_POINTS.value:
        return Rate(value)
    if unit == Unit.FEN.value:
        return Money(value)
    if unit == Unit.HUNDREDTHS.value:  # 平均跑动次数: 109 → 1.09
        return Fixed(None if value is None else int(value) / 100, 2)
    if isinstance(value, float):
        return Fixed(value, 2)
    return value


def metric_figure(metric: str, value: Any) -> Any:
    info = ALL_METRICS.get(metric)
    return figure(info.unit.value if info else None, value)


def heading(metric: str) -> str:
    """A metric's heading; money is shown in 元 (its wire name says 分)."""
    return shown_name(ALL_METRICS[metric])


NORMALISATION_NAMES = {"min_max": _("极差标准化（0 至 1）"),
                       "z_score": _("标准分（与平均值相差几个标准差）")}


def table_sheets(answer: dict[str, Any]) -> list[Sheet]:
    """The sheets of a league or composite table answer (the JSON the API returns)."""
    methodology = answer.get("methodology")
    value_heading = _("综合得分") if methodology else heading(answer["metric"])
    headings = [
        _("同类组"),
        _("名次"),
        _("参评数"),
        _("节点代码"),
        _("名称"),
        _("类别"),
        _("上级代码"),
        _("状态"),
        value_heading,
        _("分子"),
        _("分母"),
        _("上期名次"),
        _("名次变化"),
        _("上期数值"),
        _("数值变化"),
        _("数据核验"),
    ]
    components = methodology["components"] if methodology else []
    for component in components:
        name = heading(component["metric"])
        headings += [_("%(name)s（原值）", name=name), _("%(name)s（标准化）", name=name)]

    def shown(value: Any) -> Any:
        return Fixed(value, SCORE_PLACES) if methodology else metric_figure(
            answer["metric"], value)

    rows = []
    for group in answer["groups"]:
        for row in group["rows"]:
            cells = [
                group_name(answer.get("peers"), group.get("group")), row["rank"], group["of"],
                row["node"], row["name"] or _("未登记名称的中心"),
                KIND_NAMES.get(row["kind"], "") if row["kind"] else "",
                row["parent"], STATUS_NAMES[row["status"]], shown(row["value"]),
                row["numerator"], row["denominator"], row["previous_rank"], row["rank_change"],
                shown(row["previous_value"]), shown(row["value_change"]),
                VERIFICATION_NAMES[row.get("verification")],
            ]
            for component, entry in zip(components,
                                        row.get("components") or [{}] * len(components),
                                        strict=True):
                cells += [metric_figure(component["metric"], entry.get("value")),
                          Fixed(entry.get("normalised"), SCORE_PLACES)]
            rows.append(cells)
    title = _("综合排名") if methodology else _("排名")
    sheets = [Sheet(title, headings, rows)]
    if methodology:
        sheets.append(methodology_sheet(methodology))
    return sheets


def group_name(peers: str | None, group: str | None) -> str:
    """A peer group's Chinese name (县（市）, 城区, 县, …; 全部 for a level's one group)."""
    if peers == "bulletin" and group in BULLETIN_GROUP_NAMES:
        return BULLETIN_GROUP_NAMES[group]
    return KIND_NAMES.get(group, group or "全部")


def methodology_sheet(methodology: dict[str, Any]) -> Sheet:
    """The methodology the table was made with, in Chinese: its title and version (the code
    name only on its own 方法代码 row), every weight (and its share of the whole), direction,
    the normalisation, the formula and the rules."""
    total = sum(float(c["weight"]) for c in methodology["components"]) or 1.0
    rows: list[list[Any]] = [
        [_("名称"), methodology_label(methodology)],
        *([[_("方法代码"), methodology["name"]]] if methodology.get("name") else []),
        [_("版本"), methodology.get("version")],
        [_("说明"), methodology.get("description") or ""],
        [_("标准化方法"), NORMALISATION_NAMES[methodology["normalisation"]]],
        [_("计算公式"), methodology["formula"]],
        *[[_("规则"), rule] for rule in methodology.get("rules") or []],
        [],
        [_("指标名称"), _("权重"), _("权重占比"), _("方向")],
    ]
    rows += [[heading(c["metric"]), c["weight"],
              f"{float(c['weight']) / total:.1%}", DIRECTION_NAMES[c["direction"]]]
             for c in methodology["components"]]
    return Sheet(_("方法说明"), [_("项目"), _("内容")], rows)


AUDIT_NAMES = {"anomaly": _("审计链异常"), "restored": _("已从备份恢复")}
# a node's figures checked against its case records (docs/verification.md), as the pages say
VERIFICATION_NAMES = {
    "passed": _("通过"), "failed": _("未通过"), "unanswered": _("未应答"), "pending": _("待应答"),
    "refused": _("未通过（报表与承诺不符，已拒收）"), "uncommitted": _("未提交承诺"),
    None: _("未核验"),
}


def _verification(standing: dict[str, Any] | None) -> str:
    """The completeness sheet's 数据核验: a refusal or a missing commitment first, then the
    newest audit's state with its sample and the cases it found changed."""
    if not standing:
        return VERIFICATION_NAMES[None]
    parts = [VERIFICATION_NAMES[key] for key in ("refused", "uncommitted") if key in standing]
    if standing.get("status"):
        cases = _("、").join(f["case"] for f in standing.get("findings") or [] if f.get("case"))
        parts.append(_("%(state)s（抽查 %(sampled)s 件，问题办件 %(cases)s）",
                       state=VERIFICATION_NAMES[standing["status"]],
                       sampled=standing["sampled"], cases=cases) if cases else
                     _("%(state)s（抽查 %(sampled)s 件）", state=VERIFICATION_NAMES[
                         standing["status"]], sampled=standing["sampled"]))
    return _("；").join(parts)


def _audit(standing: dict[str, Any] | None) -> str:
    if not standing:
        return _("正常")
    return f"{AUDIT_NAMES[standing['status']]}（{LocalTime(standing['at']).text()}）"


def completeness_sheets(answer: dict[str, Any]) -> list[Sheet]:
    headings = [
        _("节点代码"),
        _("名称"),
        _("层级"),
        _("类别"),
        _("上级代码"),
        _("报送状态"),
        _("首次报送终版时间"),
        _("首次收到时间"),
        _("本期最新序号"),
        _("本期版本数"),
        _("最近联系时间"),
        _("最新序号"),
        _("审计链"),
        _("数据核验"),
    ]
    rows = [[
        row["node"], row.get("name") or _("未登记名称的中心"), LEVEL_NAMES[row["level"]],
        KIND_NAMES.get(row["kind"], "") if row["kind"] else "", row["parent"],
        STATUS_NAMES[row["status"]], LocalTime(row["first_final_at"]),
        LocalTime(row["first_received_at"]), row["summary_seq"], row["summary_versions"],
        LocalTime(row["last_seen_at"]), row["latest_seq"], _audit(row.get("audit")),
        _verification(row.get("verification")),
    ] for row in answer["nodes"]]
    return [Sheet(_("报送情况"), headings, rows)]


def rollup_sheets(answer: dict[str, Any]) -> list[Sheet]:
    headings = [_("指标名称"), _("单位"), _("数值"), _("分子"), _("分母")]
    rows = [[heading(key) if key in ALL_METRICS else m["name"], UNIT_NAMES.get(m["unit"], ""),
             figure(m["unit"], m["value"]), m["numerator"], m["denominator"]]
            for key, m in answer["metrics"].items()]
    return [Sheet(_("汇总"), headings, rows)]


def trend_sheets(answer: dict[str, Any]) -> list[Sheet]:
    headings = [_("期间"), _("报送数"), _("数值"), _("分子"), _("分母")]
    rows = [[period_text(p["period"], p.get("as_of")), p["reporting"],
             figure(p.get("unit"), p["value"]), p["numerator"], p["denominator"]]
            for p in answer["points"]]
    return [Sheet(_("趋势：%(answer)s", answer=answer['name'])[:31], headings, rows)]


def period_text(label: str, as_of: Any) -> str:
    """A period as a sheet names it; a running one says how far its figures reach."""
    if not as_of:
        return label
    day = as_of if isinstance(as_of, dt.date) else dt.date.fromisoformat(str(as_of))
    return _("%(label)s（截至 %(chinese_month_day)s，统计期未结束）",
             label=label, chinese_month_day=chinese_month_day(day))


def to_csv(sheets: list[Sheet]) -> bytes:
    """The first sheet as CSV (the JSON and XLSX answers carry the methodology); inert."""
    return csv_bytes(sheets[0].headings, sheets[0].rows)


def to_xlsx(sheets: list[Sheet]) -> bytes:
    """Every sheet, inert (schemas/runtime/spreadsheet.py: a node's name is never a formula)."""
    return xlsx_bytes(sheets)
