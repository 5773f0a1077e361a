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
from schemas.i18n import _
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
    return Sheet(
        _("黄红牌办件"),
        [
            _("办件编号"),
            _("事项"),
            _("申请人"),
            _("部门"),
            _("窗口"),
            _("经办人"),
            _("受理日期"),
            _("办结期限"),
            _("状态"),
            _("预警"),
        ],
        rows,
    )


def complaint_sheet(complaints: Sequence[Any]) -> Sheet:
    rows = [[
        c.number, c.case.number if c.case else "", c.window.name if c.window else "",
        c.staff_code or "", c.staff_member.name if c.staff_member else
        (_("（未登记）") if c.staff_code else ""),
        c.content, mask_phone(c.contact_phone) if c.contact_phone else "",
        c.received_at.astimezone(_SHANGHAI).strftime("%Y-%m-%d %H:%M"), c.due_on,
        _("是") if c.overdue_now else _("否"),
        COMPLAINT_STATES.get(_value(c.state), _value(c.state)), c.resolution or "",
    ] for c in complaints]
    return Sheet(
        _("投诉"),
        [
            _("编号"),
            _("办件编号"),
            _("窗口"),
            _("工作人员工号"),
            _("工作人员"),
            _("投诉内容"),
            _("联系电话"),
            _("受理时间"),
            _("办结期限"),
            _("是否超期"),
            _("状态"),
            _("处理结果"),
        ],
        rows,
    )


def rectification_sheet(rectifications: Sequence[Any]) -> Sheet:
    rows = [[
        r.id, r.evaluation.case.number, r.evaluation.case.matter.name,
        EVALUATION_LEVELS.get(_value(r.evaluation.level), _value(r.evaluation.level)),
        r.evaluation.comment or "", r.due_on, _("是") if r.overdue_now else _("否"),
        RECTIFICATION_STATES.get(_value(r.state), _value(r.state)), r.note or "",
    ] for r in rectifications]
    return Sheet(
        _("差评整改"),
        [
            _("序号"),
            _("办件编号"),
            _("事项"),
            _("评价"),
            _("评价意见"),
            _("整改期限"),
            _("是否超期"),
            _("状态"),
            _("整改情况"),
        ],
        rows,
    )


SHEETS: dict[str, Callable[[Sequence[Any]], Sheet]] = {
    "warnings": warning_sheet, "complaints": complaint_sheet,
    "rectifications": rectification_sheet,
}
