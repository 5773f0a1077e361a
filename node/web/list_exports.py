"""The supervision office's lists as spreadsheets (CSV or XLSX) for circulating: yellow and
red cases, complaints, bad-rating rectifications.  Chinese headings, names not codes, personal
data masked as on the pages, every cell inert (schemas/runtime/spreadsheet.py): a complaint's
text or an applicant's name starting with ``=`` is never a live formula."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from node.web.labels import (
    CASE_STATES,
    COMPLAINT_STATES,
    EVALUATION_LEVELS,
    RECTIFICATION_STATES,
    WARNINGS,
)
from schemas.personal import mask_name, mask_phone
from schemas.runtime.spreadsheet import Sheet

_SHANGHAI = ZoneInfo("Asia/Shanghai")


def _value(enum_value: Any) -> str:
    return str(getattr(enum_value, "value", enum_value) or "")


def warning_sheet(cases: Sequence[Any]) -> Sheet:
    rows = [[
        c.number, c.matter.name, mask_name(c.applicant_name),
        c.department.name if c.department else "", c.window.name if c.window else "",
        c.owner.display_name if c.owner else "", c.accepted_on, c.deadline_on,
        CASE_STATES.get(_value(c.state), _value(c.state)),
        WARNINGS.get(_value(c.warning_now), _value(c.warning_now)),
    ] for c in cases]
    return Sheet("黄红牌办件", ["办件编号", "事项", "申请人", "部门", "窗口", "经办人",
                              "受理日期", "办结期限", "状态", "预警"], rows)


def complaint_sheet(complaints: Sequence[Any]) -> Sheet:
    rows = [[
        c.number, c.case.number if c.case else "", c.window.name if c.window else "",
        c.staff_code or "", c.staff_member.name if c.staff_member else
        ("（未登记）" if c.staff_code else ""),
        c.content, mask_phone(c.contact_phone) if c.contact_phone else "",
        c.received_at.astimezone(_SHANGHAI).strftime("%Y-%m-%d %H:%M"), c.due_on,
        "是" if c.overdue_now else "否",
        COMPLAINT_STATES.get(_value(c.state), _value(c.state)), c.resolution or "",
    ] for c in complaints]
    return Sheet("投诉", ["编号", "办件编号", "窗口", "工作人员工号", "工作人员", "投诉内容",
                         "联系电话", "受理时间", "办结期限", "是否超期", "状态", "处理结果"],
                 rows)


def rectification_sheet(rectifications: Sequence[Any]) -> Sheet:
    rows = [[
        r.id, r.evaluation.case.number, r.evaluation.case.matter.name,
        EVALUATION_LEVELS.get(_value(r.evaluation.level), _value(r.evaluation.level)),
        r.evaluation.comment or "", r.due_on, "是" if r.overdue_now else "否",
        RECTIFICATION_STATES.get(_value(r.state), _value(r.state)), r.note or "",
    ] for r in rectifications]
    return Sheet("差评整改", ["序号", "办件编号", "事项", "评价", "评价意见", "整改期限",
                             "是否超期", "状态", "整改情况"], rows)


SHEETS: dict[str, Callable[[Sequence[Any]], Sheet]] = {
    "warnings": warning_sheet, "complaints": complaint_sheet,
    "rectifications": rectification_sheet,
}
