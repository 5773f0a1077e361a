"""Chinese names of the values the pages show (states, actions, channels, kinds …)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from node.catalog.models import POWER_NAMES
from node.metrics.definitions import ALL_METRICS

SHANGHAI = ZoneInfo("Asia/Shanghai")

CASE_STATES = {
    "submitted": "已收件", "supplement_requested": "待补正", "accepted": "已受理",
    "rejected": "不予受理", "in_review": "审核中", "suspended": "挂起（特别程序）",
    "approved": "准予许可", "denied": "不予许可", "completed": "已办结", "delivered": "已送达",
    "withdrawn": "已撤回", "forwarded": "已上报上级", "returned": "已退回",
}

ACTIONS = {
    "submit": "收件", "request_supplement": "一次性告知", "supplement": "补正",
    "accept": "受理", "reject": "不予受理", "commit": "告知承诺",
    "start_review": "开始审核", "suspend": "挂起（特别程序）", "resume": "恢复计时",
    "approve": "准予许可", "deny": "不予许可", "deem_approve": "超时默认许可",
    "deem_accept": "视为受理", "complete": "办结", "deliver": "送达", "withdraw": "撤回",
    "forward": "上报上级", "receive_approval": "上级准予", "receive_denial": "上级不予",
    "receive_return": "上级退回", "return": "退回下级", "receive_forward": "收到下级报送",
    "payment": "缴费", "fee_waiver": "免收费", "extend": "延期", "hand_over": "移交",
    "attach": "添加材料", "notice": "一次性告知",
    "deadline_recomputed": "期限随节假日安排调整", "notice_window_moved": "告知期限调整",
}

CHANNELS = {
    "window": "窗口", "online": "网上申报", "village_agent": "村级代办",
    "department_office": "部门办公室",
}

WARNINGS = {"green": "正常", "yellow": "黄牌预警", "red": "红牌超时"}

SUSPENSION_KINDS = {
    "site_inspection": "现场勘查", "expert_review": "专家论证", "testing": "检验检测",
    "hearing": "听证",
}

TASK_STATES = {"pending": "待决定", "approved": "同意", "denied": "不同意"}

PAYMENT_PLACES = {"center_bank": "中心银行窗口（集中收费）", "elsewhere": "中心外（前厂后店）"}

CATEGORIES = {
    "administrative_licence": "行政许可", "non_licence_approval": "非行政许可审批",
    "public_service": "公共服务",
}

HANDLING_TYPES = {"immediate": "即办件", "promised": "承诺件"}

LEVELS = {"province": "省级", "city": "市级", "county": "县级", "township": "乡镇（街道）"}

KINDS = {"district": "市辖区", "county": "县", "county_city": "县级市"}

POWERS = POWER_NAMES

MATERIAL_FORMS = {
    "original": "原件", "copy": "复印件", "original_and_copy": "原件及复印件",
    "electronic": "电子材料",
}

STAFF_TYPES = {
    "civil_servant": "公务员", "public_institution": "事业单位", "temporary": "临时工",
}

EVALUATION_LEVELS = {
    "very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
    "dissatisfied": "不满意", "very_dissatisfied": "非常不满意",
}

COMPLAINT_STATES = {"received": "已受理", "resolved": "已办结"}

RECTIFICATION_STATES = {
    "pending": "待整改", "disputed": "申诉中（无效评价复核）", "in_rectification": "整改中",
    "done": "已整改", "cannot_rectify": "无法整改", "rating_void": "评价无效（申诉成立）",
}

RECTIFICATION_ACTIONS = {
    "start": "开始整改", "complete": "整改完成", "dispute": "申诉（无效评价）",
    "uphold": "申诉不成立", "invalidate": "认定无效评价", "cannot_rectify": "无法整改",
    "extend": "延期",
}

DIRECTIVE_STATES = {
    "sent": "已下发", "received": "待回复", "acknowledged": "已签收", "in_progress": "办理中",
    "done": "已办结", "disputed": "有异议",
}

DIRECTIVE_SUBJECTS = {"case": "办件", "metric": "指标", "text": "其他事项"}

PATTERNS = {
    "outside_center": "体外循环", "two_headed": "两头受理", "completed_late": "超时办结",
    "fees_elsewhere": "前厂后店（中心外缴费）",
}

RANK_STATUSES = {"ranked": "已排名", "not_reported": "未报送", "no_value": "无数据",
                 "sole_peer": "不参与排名（同类仅 1 个）"}

# the peer groups of peers=bulletin, as the province's bulletins name them
BULLETIN_GROUPS = {"counties_and_cities": "县（市）", "district": "城区"}

COMPLETENESS_STATUSES = {
    "on_time": "按时报送", "late": "逾期报送", "provisional": "仅报送期中数据",
    "pending": "未到期", "missing": "未报送",
}

ENVELOPE_KINDS = {
    "summary": "统计汇总", "case.forward": "转办件", "case.result": "办理结果",
    "case.update": "办件进展", "directive": "督办指令", "directive.reply": "督办回复",
    "catalog.publish": "事项目录发布", "calendar.publish": "工作日历发布",
    "cert": "证书", "revoke": "证书吊销",
}

# why an envelope was set aside (schemas/envelope.py codes, trust codes, node reasons)
DEAD_LETTER_REASONS = {
    "too_large": "超过大小限制（1 MiB）", "too_deep": "嵌套层数过多", "malformed": "格式错误",
    "unknown_version": "版本未知", "unknown_kind": "类型未知", "float_in_body": "含小数",
    "bad_body": "内容不符合规范", "bad_signature": "签名无效", "unknown_key": "发件方密钥未知",
    "no_chain": "证书链不完整", "unknown_issuer": "签发方未知", "revoked": "密钥已吊销",
    "expired": "证书已过期", "misrouted": "收件方不是本中心", "handler_error": "执行时出错",
    "not_applied": "执行被拒绝",
}

AUDIT_STANDINGS = {"anomaly": "审计链异常", "restored": "已从备份恢复"}

ROLES = {
    "clerk": "窗口工作人员", "approver": "部门审批人员", "admin": "中心管理员",
    "supervisor": "效能监察", "viewer": "上级中心/领导（只读）",
}

DAY_REASONS = {
    "workday": "工作日", "weekend": "周末", "public_holiday": "法定节假日",
    "adjusted_workday": "调休上班", "local_closure": "本地停止办公",
    "local_workday": "本地加班办公", "unknown_year_weekend": "周末（无节假日数据）",
    "unknown_year_workday": "工作日（无节假日数据）",
}


def chinese_date(moment: Any) -> str:
    """A day as documents write it, ``2026年11月30日``; an aware time is first taken to Beijing
    time (a notice issued at 01:00 Beijing time is dated that day, not the UTC day before)."""
    if moment is None:
        return "—"
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        moment = moment.astimezone(SHANGHAI).date()
    return f"{moment.year}年{moment.month:02d}月{moment.day:02d}日"


def local_time(moment: Any) -> str:
    """An aware time as Beijing time, ``2026-11-29 14:05``."""
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = dt.datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return str(moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M"))


def metric_name(key: str) -> str:
    """A metric's Chinese heading; money is shown in yuan on the pages (see metric_value), so
    its heading says 元 where the summary's field, in fen, says 分."""
    metric = ALL_METRICS.get(key)
    if metric is None:
        return key
    if metric.unit.value == "fen":
        return metric.name.replace("（分）", "（元）")
    return metric.name


def rate_text(value: Any) -> str:
    """Basis points as a percentage with two decimals (9850 → 98.50 %)."""
    if value is None:
        return "—"
    return f"{int(value) / 100:.2f}%"


def yuan(fen: Any) -> str:
    if fen is None:
        return "—"
    return f"{int(fen) / 100:.2f} 元"


def score(value: Any) -> str:
    """A composite score or a normalised value with four decimals (0.644444 → 0.6444)."""
    if value is None:
        return "—"
    return f"{float(value):.4f}"


def metric_value(key: str, entry: Any) -> str:
    """A summary entry ``{"value", "numerator", "denominator"}`` as the page shows it."""
    if not isinstance(entry, dict) or entry.get("value") is None:
        return "—"
    metric = ALL_METRICS.get(key)
    unit = metric.unit.value if metric is not None else "count"
    if unit == "basis_points":
        return rate_text(entry["value"])
    if unit == "fen":
        return yuan(entry["value"])
    return str(entry["value"])


def count_text(page: Any) -> str:
    """A list's count as a page shows it: 共 N 件 when exact, 超过 N 件 when only counted up to
    the cap (node/listing.py)."""
    return f"共 {page.total} 件" if page.total_exact else f"超过 {page.total} 件"


UNNAMED_CENTER = "未登记名称的中心"


def center_label(code: Any, names: dict[str, str]) -> str:
    """A center by name with its code beside it, 北流市政务服务中心（450981）; a center whose
    name the registry has not given yet is 未登记名称的中心（450981）, never a bare code."""
    if code is None or code == "":
        return "—"
    code = str(code)
    return f"{names.get(code) or UNNAMED_CENTER}（{code}）"


FILTERS = {
    "state_name": CASE_STATES, "action_name": ACTIONS, "channel_name": CHANNELS,
    "warning_name": WARNINGS, "suspension_name": SUSPENSION_KINDS, "task_name": TASK_STATES,
    "place_name": PAYMENT_PLACES, "category_name": CATEGORIES, "handling_name": HANDLING_TYPES,
    "level_name": LEVELS, "kind_name": KINDS, "power_name": POWERS, "form_name": MATERIAL_FORMS,
    "staff_type_name": STAFF_TYPES, "evaluation_name": EVALUATION_LEVELS,
    "complaint_state_name": COMPLAINT_STATES, "rectification_state_name": RECTIFICATION_STATES,
    "rectification_action_name": RECTIFICATION_ACTIONS,
    "directive_state_name": DIRECTIVE_STATES, "directive_subject_name": DIRECTIVE_SUBJECTS,
    "pattern_name": PATTERNS, "rank_status_name": RANK_STATUSES,
    "bulletin_group_name": BULLETIN_GROUPS,
    "completeness_name": COMPLETENESS_STATUSES, "role_name": ROLES, "day_reason_name": DAY_REASONS,
    "envelope_kind_name": ENVELOPE_KINDS, "dead_letter_reason": DEAD_LETTER_REASONS,
    "audit_name": AUDIT_STANDINGS,
}


def lookup_filter(table: dict[str, str]) -> Any:
    def name(value: Any) -> str:
        if value is None:
            return "—"
        key = getattr(value, "value", value)
        return table.get(str(key), str(key))

    return name
