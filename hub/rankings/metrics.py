"""The summary metrics the hub ranks and adds up: key, unit and Chinese heading.

The node defines them (node/metrics/definitions.py); the hub only needs each key's unit, to
know how to add it up, and a heading for exports.  A test keeps this table equal to the
node's keys and units.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Unit(enum.StrEnum):
    COUNT = "count"
    FEN = "fen"  # money, 0.01 yuan
    BASIS_POINTS = "basis_points"  # rates: 10000 = 100 %
    PER_MONTH = "per_month"  # monthly averages: numerator ÷ months


@dataclass(frozen=True)
class MetricInfo:
    key: str
    unit: Unit
    name: str  # Chinese heading


POWER_NAMES = {
    "accept": "受理", "review": "审核", "coordinate": "协调处置", "deliver": "办理结果送达",
    "litigate": "应诉代理", "issue": "制证", "approve": "审批",
}

_COUNTS = {
    "received": "收件数", "received_window": "窗口收件", "received_online": "网上申报",
    "received_village_agent": "代办收件", "received_department_office": "部门办公室收件",
    "accepted": "受理数", "deemed_accepted": "视为受理", "completed": "办结数",
    "completed_on_time": "按时办结", "completed_late": "超时办结",
    "completed_same_day": "当日办结", "deemed_approved": "超时默认许可", "rejected": "不予受理",
    "withdrawn": "撤回", "supplement_notices": "一次性告知", "repeat_notices": "重复告知",
    "forwarded_up": "上报数", "received_from_below": "下级报送",
    "returned_with_result": "结果返回", "outside_center": "体外循环",
    "fees_elsewhere_cases": "中心外缴费件数", "evaluations": "评价数", "evaluations_good": "好评数",
    "evaluations_bad": "差评数", "rectifications_closed": "差评整改办结",
    "rectified_in_time": "按时整改", "complaints_received": "投诉受理",
    "complaints_resolved": "投诉办结", "complaints_resolved_in_time": "投诉按时办结",
    "two_headed": "两头受理", "overdue_open": "逾期未办结", "open_at_end": "在办件",
    "staff_civil_servant": "公务员", "staff_public_institution": "事业单位",
    "staff_temporary": "临时工", "matters_should_enter": "应进事项", "matters_entered": "实进事项",
    "matters_entered_of_should": "应进已进",
    **{f"authorized_{p}": f"{name}授权事项" for p, name in POWER_NAMES.items()},
}
_FEES = {"fees_center_fen": "中心收费（分）", "fees_elsewhere_fen": "中心外收费（分）"}
_RATES = {
    "on_time_rate": "按时办结率", "on_time_rate_strict": "按时办结率（含逾期在办）",
    "same_day_rate": "日结率", "entry_rate": "进驻率",
    **{f"authorization_rate_{p}": f"{name}授权率" for p, name in POWER_NAMES.items()},
    "satisfaction_rate": "满意率", "rectified_in_time_rate": "差评按时整改率",
    "complaints_resolved_in_time_rate": "投诉按时办结率", "outside_center_rate": "体外循环率",
}

METRICS: dict[str, MetricInfo] = {
    **{k: MetricInfo(k, Unit.COUNT, n) for k, n in _COUNTS.items()},
    **{k: MetricInfo(k, Unit.FEN, n) for k, n in _FEES.items()},
    **{k: MetricInfo(k, Unit.BASIS_POINTS, n) for k, n in _RATES.items()},
    "completed_monthly_average": MetricInfo(
        "completed_monthly_average", Unit.PER_MONTH, "月均办结"),
}


def rate_basis_points(numerator: int, denominator: int) -> int | None:
    """``numerator ÷ denominator`` in basis points, rounded half up; None when undefined."""
    if denominator <= 0:
        return None
    return (numerator * 10000 * 2 + denominator) // (denominator * 2)


def per_month(numerator: int, months: int) -> int | None:
    """A monthly average, rounded half up (as the node computes it)."""
    if months <= 0:
        return None
    return (numerator * 2 + months) // (months * 2)
