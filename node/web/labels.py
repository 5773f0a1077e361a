"""Chinese names of the values the pages show (states, actions, channels, kinds …)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

from schemas import names
from schemas.i18n import _
from schemas.metrics import ALL_METRICS, POWER_NAMES, shown_name

SHANGHAI = ZoneInfo("Asia/Shanghai")

# one table each, in schemas/names.py (read by the case history and the errors too)
CASE_STATES = names.CASE_STATE_NAMES
ACTIONS = names.CASE_ACTION_NAMES

CHANNELS = {
    "window": _("窗口"), "online": _("网上申报"), "village_agent": _("村级代办"),
    "department_office": _("部门办公室"),
}

WARNINGS = {"green": _("正常"), "yellow": _("黄牌预警"), "red": _("红牌超时")}

SUSPENSION_KINDS = {
    "site_inspection": _("现场勘查"), "expert_review": _("专家论证"), "testing": _("检验检测"),
    "hearing": _("听证"),
}

TASK_STATES = {"pending": _("待决定"), "approved": _("同意"), "denied": _("不同意")}

PAYMENT_PLACES = {
    "center_bank": _("中心银行窗口（集中收费）"),
    "elsewhere": _("中心外（前厂后店）"),
}

CATEGORIES = {
    "administrative_licence": _("行政许可"), "non_licence_approval": _("非行政许可审批"),
    "public_service": _("公共服务"),
}

HANDLING_TYPES = {"immediate": _("即办件"), "promised": _("承诺件")}

LEVELS = names.LEVEL_NAMES

KINDS = {"district": _("市辖区"), "county": _("县"), "county_city": _("县级市")}

POWERS = POWER_NAMES

MATERIAL_FORMS = {
    "original": _("原件"), "copy": _("复印件"), "original_and_copy": _("原件及复印件"),
    "electronic": _("电子材料"),
}

STAFF_TYPES = {
    "civil_servant": _("公务员"), "public_institution": _("事业单位"), "temporary": _("临时工"),
}

EVALUATION_LEVELS = {
    "very_satisfied": _("非常满意"), "satisfied": _("满意"), "basic": _("基本满意"),
    "dissatisfied": _("不满意"), "very_dissatisfied": _("非常不满意"),
}

COMPLAINT_STATES = names.COMPLAINT_STATE_NAMES

RECTIFICATION_STATES = names.RECTIFICATION_STATE_NAMES

RECTIFICATION_ACTIONS = names.RECTIFICATION_ACTION_NAMES

DIRECTIVE_STATES = names.DIRECTIVE_STATE_NAMES

DIRECTIVE_SUBJECTS = {"case": _("办件"), "metric": _("指标"), "text": _("其他事项")}

PATTERNS = {
    "outside_center": _("体外循环"), "two_headed": _("两头受理"), "completed_late": _("超时办结"),
    "fees_elsewhere": _("前厂后店（中心外缴费）"),
}

RANK_STATUSES = {"ranked": _("已排名"), "not_reported": _("未报送"), "no_value": _("无数据"),
                 "sole_peer": _("不参与排名（同类仅 1 个）")}

# the peer groups of peers=bulletin, as the province's bulletins name them
BULLETIN_GROUPS = {"counties_and_cities": _("县（市）"), "district": _("城区")}

COMPLETENESS_STATUSES = {
    "on_time": _("按时报送"), "late": _("逾期报送"), "provisional": _("仅报送期中数据"),
    "pending": _("未到期"), "missing": _("未报送"),
}

ENVELOPE_KINDS = {
    "summary": _("统计汇总"), "case.forward": _("转办件"), "case.result": _("办理结果"),
    "case.update": _("办件进展"), "directive": _("督办指令"), "directive.reply": _("督办回复"),
    "complaint.forward": _("投诉转办"), "complaint.reply": _("投诉办理结果"),
    "catalog.publish": _("事项目录发布"), "calendar.publish": _("工作日历发布"),
    "cert": _("证书"), "revoke": _("证书吊销"), "audit.response": _("数据核验应答"),
}

# why an envelope was set aside (schemas/envelope.py codes, trust codes, node reasons)
DEAD_LETTER_REASONS = {
    "too_large": _("超过大小限制（1 MB）"),
    "too_deep": _("嵌套层数过多"),
    "malformed": _("格式错误"),
    "unknown_version": _("版本未知"),
    "unknown_kind": _("类型未知"),
    "float_in_body": _("含小数"),
    "bad_body": _("内容不符合规范"),
    "bad_signature": _("签名无效"),
    "unknown_key": _("发件方密钥未知"),
    "no_chain": _("证书链不完整"),
    "unknown_issuer": _("签发方未知"),
    "revoked": _("密钥已吊销"),
    "expired": _("证书已过期"),
    "misrouted": _("收件方不是本中心"),
    "handler_error": _("执行时出错"),
    "not_applied": _("执行被拒绝"),
    "commitment_mismatch": _("报表数字与所承诺的办件记录不符"),
    "unknown_audit": _("没有这项数据核验"),
    "audit_closed": _("数据核验已应答过"),
    "wrong_summary": _("应答的不是被核验的报表"),
}

# what a recorded sync error was doing (node/sync/service.py's "push: …", "pull: …")
SYNC_STAGES = {
    "push": _("向枢纽上传失败"), "push after restore": _("从备份恢复后向枢纽上传失败"),
    "pull": _("从枢纽接收失败"), "apply": _("来件执行失败"),
}
_REASON_WORD = re.compile(r"[a-z][a-z_]+")
_LATIN = re.compile(r"[A-Za-z]")


def sync_problem(message: str | None) -> str:
    """A recorded sync error as an administrator reads it: what failed and, when the text
    names a reason's code, the reason in Chinese. The English text (a wire reason, an
    address, a key's id) stays in /api/v1/sync/status, /healthz and the log."""
    if not message:
        return "—"
    stage, _sep, rest = message.partition(": ")
    said = SYNC_STAGES.get(stage, _("同步失败"))
    reason = next((DEAD_LETTER_REASONS[word] for word in _REASON_WORD.findall(rest)
                   if word in DEAD_LETTER_REASONS), None)
    return str(_("%(stage)s（%(reason)s）", stage=said, reason=reason)) if reason else str(said)


def chinese_note(text: str | None) -> str:
    """A note shown only when it is in the reader's language (a handler's refusal from the
    catalog); an English wire reason is said by its code instead."""
    return text if text and not _LATIN.search(text) else ""


AUDIT_STANDINGS = {"anomaly": _("审计链异常"), "restored": _("已从备份恢复")}

# a node's figures checked against its case records (docs/verification.md)
VERIFICATION_STATES = {
    "passed": _("数据核验：通过"), "failed": _("数据核验：未通过"),
    "unanswered": _("数据核验：未应答"), "pending": _("数据核验：待应答"),
    "refused": _("数据核验：未通过（报表与承诺不符，已拒收）"),
    "uncommitted": _("数据核验：未提交承诺"),
}
# why a summary was refused or an audit failed (schemas/commitment.py, schemas/audit_check.py)
VERIFICATION_REASONS = {
    "counts": _("报表数字与所承诺的办件记录合计不符"), "size": _("办件记录条数对不上"),
    "wrong_tree": _("应答所用的记录树不是所签报表的"), "wrong_sample": _("应答的抽样序号不对"),
    "bad_proof": _("记录不在所签报表的承诺中"), "out_of_run": _("记录状态与其所在位置不符"),
    "bad_flags": _("按时、当日办结等标记与日期不符"), "case_missing": _("办件已不在本中心"),
    "case_changed": _("办件记录在报表之后被改动"),
}
# why the hub did not open an audit asked for from the completeness page (hub/audits/service.py)
AUDIT_REFUSALS = {
    "no_summary": _("该中心还没有报送这一期的统计汇总"),
    "no_commitment": _("该期统计汇总未附办件记录承诺，无法核验"),
    "not_an_ancestor": _("只有上级中心可以核验"),
}
# why the hub refused a rankings question (hub/rankings/errors.py), said without its codes
RANKINGS_REFUSALS = {
    "outside_scope": _("所选范围不在本中心的查看范围之内"),
    "unknown_scope": _("所选范围不是已登记的中心"),
    "unknown_methodology": _("没有这一已保存的计算方法"),
    "role_not_allowed": _("本中心无权进行这一操作"),
}
# the rankings forms' fields by their labels (the hub names them by their API names)
RANKINGS_FIELD_NAMES = {
    "scope": _("范围"), "period": _("统计期"), "metric": _("指标"), "level": _("排名层级"),
    "peers": _("同类比较"), "kind": _("类别"), "order": _("排序"),
    "normalisation": _("标准化方法"), "methodology": _("计算方法"), "components": _("指标"),
    "from": _("起始统计期"), "to": _("截止统计期"), "late_after_days": _("逾期天数"),
}
# the leaf fields a changed case names
LEAF_FIELD_NAMES = {
    "received": _("收件日期"), "accepted": _("受理日期"), "deadline": _("承诺办结日期"),
    "completed": _("办结日期"), "closed": _("结束日期"), "forwarded": _("上报日期"),
    "on_time": _("按时办结"), "same_day": _("当日办结"), "state": _("期末状态"),
    "fee_fen": _("收费"), "channel": _("收件渠道"), "matter": _("事项"),
    "from_below": _("下级报送"), "case": _("办件编号"),
    "salt": _("随机值"), "v": _("格式版本"),
}

ROLES = names.ROLE_NAMES

DAY_REASONS = {
    "workday": _("工作日"), "weekend": _("周末"), "public_holiday": _("法定节假日"),
    "adjusted_workday": _("调休上班"), "local_closure": _("本地停止办公"),
    "local_workday": _("本地加班办公"), "unknown_year_weekend": _("周末（无节假日数据）"),
    "unknown_year_workday": _("工作日（无节假日数据）"),
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
    return _(
        "%(year)s年%(format)s月%(format2)s日",
        year=moment.year,
        format=format(moment.month, "02d"),
        format2=format(moment.day, "02d"),
    )


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
    return shown_name(metric)


def rate_text(value: Any) -> str:
    """Basis points as a percentage with two decimals (9850 → 98.50 %)."""
    if value is None:
        return "—"
    return f"{int(value) / 100:.2f}%"


def times_text(hundredths: Any) -> str:
    """An average per case in hundredths as people read it (109 → 1.09 次)."""
    if hundredths is None:
        return "—"
    return _("%(value)s 次", value=format(int(hundredths) / 100, ".2f"))


def yuan(fen: Any) -> str:
    if fen is None:
        return "—"
    return _("%(format)s 元", format=format(int(fen) / 100, '.2f'))


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
    if unit == "hundredths":
        return times_text(entry["value"])
    return str(entry["value"])


def count_text(page: Any) -> str:
    """A list's count as a page shows it: 共 N 件 when exact, 超过 N 件 when only counted up to
    the cap (node/listing.py)."""
    return _("共 %(total)s 件",
             total=page.total) if page.total_exact else _("超过 %(total)s 件", total=page.total)


UNNAMED_CENTER = names.UNNAMED_CENTER


def center_label(code: Any, known: dict[str, str]) -> str:
    """A center by name with its code beside it, 北流市政务服务中心（450981）; a center whose
    name the registry has not given yet is 未登记名称的中心（450981）, never a bare code."""
    if code is None or code == "":
        return "—"
    code = str(code)
    return names.center_text(code, known.get(code))


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
    "verification_name": VERIFICATION_STATES,
    "verification_reason": VERIFICATION_REASONS,
    "leaf_field_name": LEAF_FIELD_NAMES,
}


def lookup_filter(table: dict[str, str]) -> Any:
    def name(value: Any) -> str:
        if value is None:
            return "—"
        key = getattr(value, "value", value)
        return table.get(str(key), str(key))

    return name
