"""The audit chain checked against the newest anchor the hub keeps (issue 16, item 9).

``tongban node verify-audit --against-hub`` asks the hub for the head this node's newest
signed summary carried (``GET /api/v1/audit/anchor``) and compares the local chain with it.
Plain Python over a session; the caller fetches the anchor.  Outcomes:

``intact``      the chain verifies and reaches the anchor with the anchored hash there
``restored``    this database announced a restore from a backup the anchor does not know
                (its restore id differs): the chain itself verifies; the next summary
                anchors it anew (the hub shows 已从备份恢复)
``truncated``   the chain ends before the anchored count (entries deleted, the head rewound)
``rewritten``   the entry at the anchored count hashes to something other than the anchor
``broken``      the chain does not verify in itself (an edited, missing or foreign entry)
``no_anchor``   the hub holds no anchor of this node yet: the chain is checked alone
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.audit.chain import AuditLog, ChainHead, ChainReport
from node.audit.models import AuditEntry

INTACT, RESTORED, TRUNCATED, REWRITTEN, BROKEN, NO_ANCHOR = (
    "intact", "restored", "truncated", "rewritten", "broken", "no_anchor")
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ANOMALIES = frozenset({TRUNCATED, REWRITTEN, BROKEN})


@dataclasses.dataclass(frozen=True)
class AnchorCheck:
    outcome: str
    local_entries: int
    anchored_entries: int | None
    report: ChainReport
    anchor: Mapping[str, Any] | None

    @property
    def anomaly(self) -> bool:
        return self.outcome in ANOMALIES

    def message(self) -> str:
        """What a person reads, in Chinese."""
        anchor = self.anchor or {}
        when = _beijing(anchor.get("received_at"))
        seq = anchor.get("seq", "")
        if self.outcome == INTACT:
            return (f"审计链完好：本地共 {self.local_entries} 条记录，与上级枢纽保存的锚点一致"
                    f"（第 {self.anchored_entries} 条的哈希相符；锚点来自序号 {seq} 的统计汇总，"
                    f"{when} 收到）。")
        if self.outcome == RESTORED:
            return (f"本中心已从备份恢复（恢复编号 {_local_restore(self)}）：本地审计链共 "
                    f"{self.local_entries} 条记录，自身完好；枢纽上最新的锚点"
                    f"（{self.anchored_entries} 条，{when} 收到）早于这次恢复，"
                    "下一份统计汇总发出后将按恢复后的审计链重新锚定，"
                    "上级中心看到的是“已从备份恢复”。")
        if self.outcome == TRUNCATED:
            return (f"审计链异常：记录被截断。上级枢纽锚定了 {self.anchored_entries} 条记录"
                    f"（序号 {seq} 的统计汇总，{when} 收到），本地只有 {self.local_entries} 条，"
                    f"第 {self.local_entries + 1} 条起的记录已被删除。")
        if self.outcome == REWRITTEN:
            return (f"审计链异常：记录被改写。本地第 {self.anchored_entries} 条记录的哈希与上级"
                    f"枢纽锚定的不一致（序号 {seq} 的统计汇总，{when} 收到）：该条及之前的记录"
                    "已被改动后重新计算。")
        if self.outcome == BROKEN:
            where = (f"第 {self.report.first_broken_seq} 条记录"
                     if self.report.first_broken_seq is not None else "链头")
            return f"审计链异常：{where}有误（{self.report.reason}）。"
        return (f"上级枢纽还没有本中心的审计锚点（尚未收到带锚点的统计汇总）：只核对了本地"
                f"审计链，共 {self.local_entries} 条记录，"
                + ("完好。" if self.report.ok else f"有误（{self.report.reason}）。"))


def _beijing(moment: Any) -> str:
    """An ISO time from the hub as Beijing time, ``2026-11-29 14:05``."""
    try:
        at = dt.datetime.fromisoformat(str(moment))
    except ValueError:
        return str(moment or "—")
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def _local_restore(check: AnchorCheck) -> str:
    return str((check.anchor or {}).get("local_restore") or "")


def check_against(session: Session, anchor: Mapping[str, Any] | None) -> AnchorCheck:
    """Compare the chain in ``session`` with ``anchor`` (the hub's answer, or None)."""
    log = AuditLog(session)
    local = log.anchor()
    entries = int(local["entries"])
    if anchor is None:
        report = log.verify()
        return AnchorCheck(NO_ANCHOR if report.ok else BROKEN, entries, None, report, None)
    anchored = int(anchor["entries"])
    restore = local["restore"]
    if restore is not None and restore != anchor.get("restore"):
        report = log.verify()
        outcome = RESTORED if report.ok else BROKEN
        return AnchorCheck(outcome, entries, anchored, report,
                           {**anchor, "local_restore": restore})
    report = log.verify(anchor=ChainHead(anchored, str(anchor["head"])))
    stored = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == anchored)) \
        if anchored else None
    if entries < anchored or (anchored and stored is None):
        return AnchorCheck(TRUNCATED, entries, anchored, report, anchor)
    if anchored and stored != anchor["head"]:
        return AnchorCheck(REWRITTEN, entries, anchored, report, anchor)
    return AnchorCheck(INTACT if report.ok else BROKEN, entries, anchored, report, anchor)
