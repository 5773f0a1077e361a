"""The monthly assessment as an XLSX workbook: the windows, the clerks and the rule applied."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from node.metrics.assessment import (
    DESIGNATION_LABELS,
    Assessment,
    Figures,
    ModelWindowRule,
    Rate,
    Threshold,
)
from schemas.names import center_text
from schemas.runtime.spreadsheet import Fixed, Sheet, new_workbook, workbook_bytes, write_table
from schemas.runtime.spreadsheet import Rate as Percentage


@dataclass(frozen=True)
class _Column:
    heading: str
    width: int
    value: Callable[[Any], Any]


def _percent(rate: Rate) -> Percentage:
    """A rate in a cell shown as a percentage (0.00%); empty when it has no value."""
    return Percentage(rate.value)


def _points(score: int | None) -> Fixed:
    """A score (basis points) on a 0–100 scale, shown with two decimals."""
    return Fixed(None if score is None else score / 100, 2)


def _percent_text(basis_points: int) -> str:
    return f"{basis_points / 100:.2f}%"


def _figure_columns(figures: Callable[[Any], Figures]) -> tuple[_Column, ...]:
    return (
        _Column("办件数", 10, lambda r: figures(r).handled),
        _Column("按时办结", 10, lambda r: figures(r).on_time),
        _Column("按时办结率", 12, lambda r: _percent(figures(r).on_time_rate)),
        _Column("当日办结", 10, lambda r: figures(r).same_day),
        _Column("日结率", 10, lambda r: _percent(figures(r).same_day_rate)),
        _Column("评价数", 10, lambda r: figures(r).ratings),
        _Column("好评", 8, lambda r: figures(r).ratings_good),
        _Column("差评", 8, lambda r: figures(r).ratings_bad),
        _Column("满意率", 10, lambda r: _percent(figures(r).satisfaction_rate)),
        _Column("投诉", 8, lambda r: figures(r).complaints),
        _Column("差评整改办结", 14, lambda r: figures(r).rectifications_closed),
        _Column("按时整改", 10, lambda r: figures(r).rectified_in_time),
    )


def _unmet_text(rule: ModelWindowRule, unmet: Sequence[Threshold]) -> str:
    texts = {
        Threshold.MIN_CASES: f"办件数少于{rule.min_cases}件",
        Threshold.MIN_ON_TIME: f"按时办结率低于{_percent_text(rule.min_on_time_bp)}",
        Threshold.MAX_COMPLAINTS: f"投诉多于{rule.max_complaints}件",
    }
    return "；".join(texts[threshold] for threshold in unmet)


def _window_columns(rule: ModelWindowRule) -> tuple[_Column, ...]:
    return (
        _Column("排名", 8, lambda w: w.standing.rank),
        _Column("窗口编码", 12, lambda w: w.code),
        _Column("窗口名称", 24, lambda w: w.name + ("（已撤销）" if w.retired else "")),
        *_figure_columns(lambda w: w.figures),
        _Column("得分", 10, lambda w: _points(w.standing.score)),
        _Column(
            "评定", 12,
            lambda w: DESIGNATION_LABELS[w.standing.designation] if w.standing.designation else "",
        ),
        _Column("未达条件", 40, lambda w: _unmet_text(rule, w.standing.unmet)),
    )


CLERK_COLUMNS: tuple[_Column, ...] = (
    _Column("用户名", 14, lambda c: c.username),
    _Column("姓名", 12, lambda c: c.name),
    _Column("人员编码", 12, lambda c: c.staff_code or ""),
    _Column("所在窗口", 24, lambda c: c.window_label),
    _Column("所属部门", 24, lambda c: c.department_label),
    *_figure_columns(lambda c: c.figures),
    _Column("得分", 10, lambda c: _points(c.score)),
)


def _table(title: str, columns: Sequence[_Column], rows: Sequence[Any]) -> Sheet:
    values = [[None if value == "" else value for value in (c.value(row) for c in columns)]
              for row in rows]
    return Sheet(title, [c.heading for c in columns], values, [c.width for c in columns])


def _rule_sheet(assessment: Assessment, node_code: str, node_name: str | None) -> Sheet:
    rule, period = assessment.rule, assessment.period
    rows: list[tuple[str, Any]] = [
        ("中心", center_text(node_code, node_name)),
        ("中心代码", node_code),
        ("考核期间", f"{period.label}（{period.start.isoformat()} 至 {period.end.isoformat()}）"),
        ("参评最低办件数", rule.min_cases),
        ("红旗窗口最低按时办结率", _percent_text(rule.min_on_time_bp)),
        ("红旗窗口最多投诉件数", rule.max_complaints),
        ("红旗窗口名额", rule.top),
        ("末位名额", rule.flag_bottom),
        ("权重：按时办结率", rule.weight_on_time),
        ("权重：日结率", rule.weight_same_day),
        ("权重：满意率", rule.weight_satisfaction),
        ("得分", "按时办结率、日结率、满意率的加权平均（满分100）；无评价时满意率及其权重不计"),
        ("评定", "参评窗口按得分由高到低排序（同分按窗口编码）；符合条件的前几名为红旗窗口，"
                 "其余参评窗口中得分最低的为末位"),
    ]
    return Sheet("考核规则", ["项目", "内容"], [list(row) for row in rows], [24, 80])


def write_assessment_workbook(assessment: Assessment, node_code: str,
                              node_name: str | None) -> bytes:
    """The assessment as an XLSX workbook: sheets 窗口考核, 人员考核 and 考核规则, Chinese
    headings, rates as percentages with two decimals, the heading row frozen."""
    workbook = new_workbook()
    for sheet in (_table("窗口考核", _window_columns(assessment.rule), assessment.windows),
                  _table("人员考核", CLERK_COLUMNS, assessment.clerks),
                  _rule_sheet(assessment, node_code, node_name)):
        write_table(workbook.create_sheet(sheet.title), sheet)
    workbook.properties.title = f"窗口和人员考核 {node_code} {assessment.period.label}"
    workbook.properties.creator = "tongban"
    return workbook_bytes(workbook)
