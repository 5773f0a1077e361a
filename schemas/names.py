"""The names people read for the codes of case states, actions, roles and the other states
of the node's records: one table each, read by the case history, the pages, the printed
documents and every error message that names one (docs/web.md, "Messages and languages").

The codes stay on the wire, in the API's fields and in the database; a message a person reads
names the thing (``办件处于「审核中」状态，不能执行「不予受理」``), never its code.  Each name is a
message of the catalog, said in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from schemas.i18n import _

ROLE_NAMES = {
    "clerk": _("窗口工作人员"), "approver": _("部门审批人员"), "admin": _("中心管理员"),
    "supervisor": _("效能监察"), "viewer": _("上级中心/领导（只读）"),
}

# who acts without a staff account (node.cases.service.SYSTEM_ACTOR, node.feedback.service)
NON_STAFF = {"system": _("系统"), "applicant": _("申请人"), "public": _("公众")}

CASE_STATE_NAMES = {
    "submitted": _("已收件"),
    "supplement_requested": _("待补正"),
    "accepted": _("已受理"),
    "rejected": _("不予受理"),
    "in_review": _("审核中"),
    "suspended": _("挂起（特别程序）"),
    "approved": _("准予许可"),
    "denied": _("不予许可"),
    "completed": _("已办结"),
    "delivered": _("已送达"),
    "withdrawn": _("已撤回"),
    "forwarded": _("已上报上级"),
    "returned": _("已退回"),
}

# the case actions (node/cases/states.py) and the other steps a case's history records
CASE_ACTION_NAMES = {
    "submit": _("收件"),
    "request_supplement": _("一次性告知"),
    "supplement": _("补正"),
    "accept": _("受理"),
    "reject": _("不予受理"),
    "commit": _("告知承诺"),
    "start_review": _("开始审核"),
    "suspend": _("挂起（特别程序）"),
    "resume": _("恢复计时"),
    "approve": _("准予许可"),
    "deny": _("不予许可"),
    "deem_approve": _("超时默认许可"),
    "deem_accept": _("视为受理"),
    "complete": _("办结"),
    "deliver": _("送达"),
    "withdraw": _("撤回"),
    "forward": _("上报上级"),
    "receive_approval": _("上级准予"),
    "receive_denial": _("上级不予"),
    "receive_return": _("上级退回"),
    "return": _("退回下级"),
    "receive_forward": _("收到下级报送"),
    "payment": _("缴费"),
    "fee_waiver": _("免收费"),
    "extend": _("延期"),
    "hand_over": _("移交"),
    "visit": _("登记到厅（跑动一次）"),
    "attach": _("添加材料"),
    "notice": _("一次性告知"),
    "deadline_recomputed": _("期限随节假日安排调整"),
    "notice_window_moved": _("告知期限调整"),
}

# the files added to a case (node/cases/models.AttachmentRole)
FILE_NAMES = {"material": _("申请材料"), "result": _("结果文书")}

PERMISSION_NAMES = {
    "catalog.read": _("查看事项目录"), "catalog.manage": _("管理事项目录"),
    "staff.read": _("查看工作人员"), "users.read": _("查看账号"), "users.manage": _("管理账号"),
    "cases.read": _("查看办件"), "cases.handle": _("窗口办件"), "cases.decide": _("审批办件"),
    "cases.hand_over": _("移交办件"), "supervision.read": _("查看效能监察"),
    "supervision.manage": _("效能监察处理"),
}

COMPLAINT_STATE_NAMES = {"received": _("已受理"), "resolved": _("已办结")}

RECTIFICATION_STATE_NAMES = {
    "pending": _("待整改"),
    "disputed": _("申诉中（无效评价复核）"),
    "in_rectification": _("整改中"),
    "done": _("已整改"),
    "cannot_rectify": _("无法整改"),
    "rating_void": _("评价无效（申诉成立）"),
}

RECTIFICATION_ACTION_NAMES = {
    "start": _("开始整改"), "complete": _("整改完成"), "dispute": _("申诉（无效评价）"),
    "uphold": _("申诉不成立"), "invalidate": _("认定无效评价"), "cannot_rectify": _("无法整改"),
    "extend": _("延期"),
}

DIRECTIVE_STATE_NAMES = {
    "sent": _("已下发"),
    "received": _("待回复"),
    "acknowledged": _("已签收"),
    "in_progress": _("办理中"),
    "done": _("已办结"),
    "disputed": _("有异议"),
}

# a directive as the center holding it sees it (node/directives/models.DirectiveDirection)
DIRECTIVE_DIRECTIONS = {"sent": _("下发的"), "received": _("收到的")}

LEVEL_NAMES = {
    "province": _("省级"),
    "city": _("市级"),
    "county": _("县级"),
    "township": _("乡镇（街道）"),
}

PERIOD_KIND_NAMES = {"day": _("日"), "month": _("月度"), "quarter": _("季度"), "year": _("年度")}

UNNAMED_CENTER = _("未登记名称的中心")


def center_text(code: str, name: str | None) -> str:
    """A center by its name with its code beside it, 北流市政务服务中心（450981）; one whose name
    the registry has not given is 未登记名称的中心（450981）, never a bare code."""
    return f"{name or UNNAMED_CENTER}（{code}）"


def name_of(table: Mapping[str, str], code: Any) -> str:
    """The name of ``code`` (a string or a string enum) in ``table``: a name, with the code
    only for a value no table knows (``「x」``, as a person typed it)."""
    key = str(getattr(code, "value", code))
    return table.get(key) or f"「{key}」"


def names_of(table: Mapping[str, str], codes: Iterable[Any]) -> str:
    """Several names in a sentence, said in the reader's language: ``受理、不予受理``; ``无``
    for none."""
    named = [name_of(table, code) for code in codes]
    if not named:
        return _("无")
    sentence = named[-1]
    for name in reversed(named[:-1]):
        sentence = _("%(first)s、%(rest)s", first=name, rest=sentence)
    return sentence


__all__ = ["CASE_ACTION_NAMES", "CASE_STATE_NAMES", "COMPLAINT_STATE_NAMES",
           "DIRECTIVE_DIRECTIONS", "DIRECTIVE_STATE_NAMES", "FILE_NAMES", "LEVEL_NAMES",
           "NON_STAFF", "PERIOD_KIND_NAMES", "PERMISSION_NAMES", "RECTIFICATION_ACTION_NAMES",
           "RECTIFICATION_STATE_NAMES", "ROLE_NAMES", "UNNAMED_CENTER", "center_text", "name_of",
           "names_of"]
