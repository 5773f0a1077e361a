"""The printed documents of a case (收件回执, 受理通知书, 不予受理决定书, 准予/不予行政许可
决定书, 送达回证): which apply to a case now, their numbers, their record and their reprints
(补打).  Plain Python (no Flask); the pages are rendered from :func:`content`.

A document is numbered when it is first printed, from the node's gap-free counter of its kind
and year (``450981-SJ-2026-000001``), and recorded on the case (``case_documents``); printing
it again is a reprint: the same number, counted and marked 补打.  The one-time notice and the
notice of a special procedure keep their own tables (``supplement_notices``,
``case_suspensions``): they are numbered when their step is taken.

The query code is stored only as a hash: it can be printed on the receipt only by a caller
who still holds it (right after 收件) and only on the first print; a reprint says that it was
given at the first print.  legal basis of each: docs/cases.md.

The one-time notice (补正材料通知, ``supplement``) is numbered and recorded when its step is
taken (:meth:`node.cases.service.CaseService.request_supplement`), one row per notice; printing
it here is always a reprint (补打) of the case's latest notice.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import segno
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from node.auth.permissions import Permission
from node.calendar.workdays import to_shanghai_date
from node.cases import materials
from node.cases.models import Case, CaseEvent, DocumentKind, IssuedDocument, SupplementNotice
from node.cases.query_codes import verify_query_code
from node.cases.states import DECIDED_STATES, CaseState
from node.catalog.models import MaterialForm, MatterCategory
from node.numbers import next_number
from schemas.errors import Conflict, ValidationFailed
from schemas.i18n import _
from schemas.names import CASE_STATE_NAMES, name_of

# the categories whose cases end in a decision to grant or refuse
DECIDING = frozenset({MatterCategory.ADMINISTRATIVE_LICENCE, MatterCategory.NON_LICENCE_APPROVAL})


@dataclass(frozen=True)
class DocumentRule:
    kind: DocumentKind
    mark: str  # the number's document mark
    permission: Permission  # who may print it


RULES: dict[DocumentKind, DocumentRule] = {
    DocumentKind.RECEIPT: DocumentRule(DocumentKind.RECEIPT, "SJ", Permission.CASES_HANDLE),
    DocumentKind.ACCEPTANCE: DocumentRule(DocumentKind.ACCEPTANCE, "SL", Permission.CASES_HANDLE),
    DocumentKind.REFUSAL: DocumentRule(DocumentKind.REFUSAL, "BSL", Permission.CASES_HANDLE),
    DocumentKind.GRANT: DocumentRule(DocumentKind.GRANT, "ZX", Permission.CASES_DECIDE),
    DocumentKind.DENIAL: DocumentRule(DocumentKind.DENIAL, "BX", Permission.CASES_DECIDE),
    DocumentKind.SERVICE_RECEIPT: DocumentRule(DocumentKind.SERVICE_RECEIPT, "SD",
                                               Permission.CASES_HANDLE),
    DocumentKind.SUPPLEMENT: DocumentRule(DocumentKind.SUPPLEMENT, "BZ", Permission.CASES_HANDLE),
}

FORM_NAMES = {MaterialForm.ORIGINAL: "原件", MaterialForm.COPY: "复印件",
              MaterialForm.ORIGINAL_AND_COPY: "原件及复印件", MaterialForm.ELECTRONIC: "电子材料"}
REVIEW_DAYS = 60  # 行政复议法 (2023) 第二十条: sixty days from knowing of the act
LAWSUIT_MONTHS = 6  # 行政诉讼法 第四十六条: six months from knowing of the act


def title(kind: DocumentKind, case: Case) -> str:
    """The document's title as printed (a licence's decision says 行政许可)."""
    licence = case.matter.category is MatterCategory.ADMINISTRATIVE_LICENCE
    return {  # catalog messages: an English message names the document in English too
        DocumentKind.RECEIPT: _("收件回执"),
        DocumentKind.ACCEPTANCE: _("受理通知书"),
        DocumentKind.REFUSAL: _("不予受理决定书"),
        DocumentKind.GRANT: _("准予行政许可决定书") if licence else _("准予审批决定书"),
        DocumentKind.DENIAL: _("不予行政许可决定书") if licence else _("不予审批决定书"),
        DocumentKind.SERVICE_RECEIPT: _("送达回证"),
        DocumentKind.SUPPLEMENT: _("补正材料一次性告知书"),
    }[kind]


def decision_event(case: Case) -> CaseEvent | None:
    """The step that decided the case (approved or denied, here or above), if any."""
    decided = [e for e in case.events if e.to_state in (CaseState.APPROVED.value,
                                                       CaseState.DENIED.value)
               and e.from_state != e.to_state]
    return decided[-1] if decided else None


def refusal_event(case: Case) -> CaseEvent | None:
    refused = [e for e in case.events if e.to_state == CaseState.REJECTED.value]
    return refused[-1] if refused else None


def available(case: Case) -> list[DocumentKind]:
    """The documents that can be printed for ``case`` now, in the order of the procedure."""
    kinds: list[DocumentKind] = []
    if case.notices:  # issued with its step; printed again as 补打
        kinds.append(DocumentKind.SUPPLEMENT)
    if not case.from_below:  # the origin gave the applicant the receipt
        kinds.append(DocumentKind.RECEIPT)
    if case.accepted_on is not None and case.state is not CaseState.REJECTED:
        kinds.append(DocumentKind.ACCEPTANCE)
    if case.state is CaseState.REJECTED:
        kinds.append(DocumentKind.REFUSAL)
    decided = decision_event(case)
    if decided is not None and case.matter.category in DECIDING:
        kinds.append(DocumentKind.GRANT if decided.to_state == CaseState.APPROVED.value
                     else DocumentKind.DENIAL)
    if case.state in DECIDED_STATES or case.state is CaseState.REJECTED:
        kinds.append(DocumentKind.SERVICE_RECEIPT)
    return kinds


def issued(case: Case, kind: DocumentKind) -> IssuedDocument | None:
    """The record of ``kind`` on ``case`` (of the one-time notices, the latest)."""
    return next((d for d in reversed(case.documents) if d.kind is kind), None)


def record_notice(case: Case, notice: SupplementNotice) -> IssuedDocument:
    """Record a one-time notice just issued as the case's 补正材料通知 (its number, its time,
    its clerk; not reprinted)."""
    document = IssuedDocument(
        kind=DocumentKind.SUPPLEMENT, number=notice.number, issued_at=notice.issued_at,
        issued_by=notice.issued_by, reprints=0, last_printed_at=notice.issued_at,
        last_printed_by=notice.issued_by)
    case.documents.append(document)
    return document


def notice_of(case: Case, document: IssuedDocument) -> SupplementNotice:
    """The one-time notice a ``supplement`` record stands for."""
    return next(n for n in case.notices if n.number == document.number)


def print_document(
    session: Session,
    case: Case,
    kind: DocumentKind,
    *,
    username: str,
    node_code: str,
    now: dt.datetime,
    query_code: str | None = None,
) -> tuple[IssuedDocument, bool]:
    """Print ``kind`` for ``case``: the first print numbers and records it, a later one is a
    reprint (补打), counted.  Returns the document and whether this print is a reprint.

    ``query_code`` (the receipt's first print only) is checked against the stored hash.
    """
    if kind not in available(case):
        raise Conflict(
            _("Case %(number)s (%(value)s) has no %(value2)s document to print now.",
              number=case.number, value=name_of(CASE_STATE_NAMES, case.state),
              value2=title(kind, case)),
            {"available": [k.value for k in available(case)]},
        )
    existing = issued(case, kind)
    if query_code is not None:
        if kind is not DocumentKind.RECEIPT:
            raise ValidationFailed({"query_code": [_("only the receipt carries the query code")]})
        if existing is not None:
            raise ValidationFailed({"query_code": [
                _("the query code is printed on the first receipt only; a reprint says it was "
                "given then")]})
        if not verify_query_code(case.query_code_hash, case.number, query_code):
            raise ValidationFailed({"query_code": [_("this is not the case's query code")]})
    if existing is None and kind is DocumentKind.SUPPLEMENT:  # recorded with its step
        raise Conflict(_("Case %(number)s has no recorded one-time notice to print.",
                         number=case.number),
                       {"available": [k.value for k in available(case)]})
    if existing is None:
        try:
            with session.begin_nested():  # a concurrent first print: take theirs, reprint
                year = to_shanghai_date(now).year
                value = next_number(session, f"doc-{kind.value}-{year}")
                document = IssuedDocument(
                    kind=kind, number=f"{node_code}-{RULES[kind].mark}-{year}-{value:06d}",
                    issued_at=now, issued_by=username, reprints=0, last_printed_at=now,
                    last_printed_by=username)
                case.documents.append(document)
                session.flush()
            return document, False
        except IntegrityError:
            session.expire(case, ["documents"])
            existing = issued(case, kind)
            if existing is None:
                raise
    existing.reprints += 1
    existing.last_printed_at, existing.last_printed_by = now, username
    session.flush()
    return existing, True


def qr_svg(url: str) -> str:
    """The QR code of ``url`` as inline SVG (no script, no style attribute)."""
    return str(segno.make(url, error="m").svg_inline(scale=3, border=2))


def materials_received(case: Case) -> list[dict[str, Any]]:
    """The receipt's list: each material of the matter, 已收 when received (on paper in the
    form and copies its rule asks, or as a file: node/cases/materials.py) with what was
    received, 待补正 when the latest one-time notice names it and the case still waits for
    it, 未收 otherwise — or, for a case that records no paper at all (taken before the
    window's receipts were kept: :func:`materials.paper_recorded`), no mark but 已收 for a
    material with a file and 待补正."""
    waiting: set[str] = set()
    if case.state is CaseState.SUPPLEMENT_REQUESTED and case.notices:
        waiting = {item["material"] for item in json.loads(case.notices[-1].items)}
    rule_list = materials.rules(case.matter.materials, 1)
    got = materials.received(
        rule_list, (a.name for a in case.attachments if a.role.value == "material"),
        case.received_materials)
    paper = {p.position: p for p in case.received_materials}
    recorded = materials.paper_recorded(case)
    rows: list[dict[str, Any]] = []
    for m in case.matter.materials:
        given = paper.get(m.position)
        status = ("待补正" if m.name in waiting else "已收" if m.position in got
                  else "未收" if recorded else "—")
        rows.append({"name": m.name, "form": FORM_NAMES[given.form if given else m.form],
                     "copies": given.copies if given else m.copies, "status": status})
    return rows


def content(case: Case, document: IssuedDocument, *, reprint: bool,
            lookup_url: Callable[[str], str] | None = None,
            query_code: str | None = None) -> dict[str, Any]:
    """Everything the page of ``document`` prints."""
    found: dict[str, Any] = {
        "case": case, "document": document, "reprint": reprint,
        "title": title(document.kind, case), "kind": document.kind.value,
        "query_code": query_code,
        "titles": {k.value: title(k, case) for k in DocumentKind},
        "review_days": REVIEW_DAYS, "lawsuit_months": LAWSUIT_MONTHS,
    }
    if document.kind is DocumentKind.RECEIPT:
        found["materials"] = materials_received(case)
        found["files"] = [a for a in case.attachments if a.role.value == "material"]
        if lookup_url is not None:
            url = lookup_url(case.number)
            found["lookup_url"], found["qr"] = url, qr_svg(url)
    elif document.kind is DocumentKind.REFUSAL:
        event = refusal_event(case)
        found["reason"] = event.reason if event else ""
        found["decided_at"] = event.at if event else None
    elif document.kind in (DocumentKind.GRANT, DocumentKind.DENIAL):
        event = decision_event(case)
        found["decided_at"] = event.at if event else None
        found["reasons"] = [
            e.reason for e in case.events
            if e.action == "deny" and e.reason
        ] or ([event.reason] if event and event.reason else [])
    elif document.kind is DocumentKind.SUPPLEMENT:
        notice = notice_of(case, document)
        found["notice"], found["items"] = notice, json.loads(notice.items)
    elif document.kind is DocumentKind.SERVICE_RECEIPT:
        found["served"] = [d for d in case.documents
                           if d.kind in (DocumentKind.REFUSAL, DocumentKind.GRANT,
                                         DocumentKind.DENIAL)]
    return found


__all__ = ["RULES", "available", "content", "issued", "notice_of", "print_document", "qr_svg",
           "record_notice", "title"]
