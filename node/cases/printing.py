"""The printed pages of a case, shared by the API (node/api/cases.py) and the staff pages
(node/web/clerk.py): the one-time notice (补正材料通知), the notice of a special procedure
(Art. 45), the numbered documents (node/cases/documents.py), and printing one as a staff user.

Plain Python (no Flask): each function returns the :class:`Page` to render — its template
under node/templates/cases/ and what the template prints — and the edge renders it with its
own ``render_template``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.auth.models import User
from node.auth.permissions import allows
from node.cases import documents
from node.cases.history import handler_name
from node.cases.models import Case, DocumentKind, IssuedDocument, SupplementNotice, Suspension
from schemas.errors import Forbidden
from schemas.i18n import _
from schemas.names import ROLE_NAMES, name_of

# the special procedures of Art. 45 by their Chinese names, as the notice prints them
SUSPENSION_KIND_NAMES = {
    "site_inspection": "现场勘查",
    "expert_review": "专家论证",
    "testing": "检验检测",
    "hearing": "听证",
}


@dataclass(frozen=True)
class Page:
    """A printed page: the template and its context."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


def notice_page(session: Session, case: Case, notice: SupplementNotice, *, center: str,
                reprint: bool | None = None) -> Page:
    """The page of a one-time notice (补正材料通知), marked 补打 when it was printed again
    (``reprint`` None: as last printed)."""
    record = next((d for d in case.documents if d.kind is DocumentKind.SUPPLEMENT
                   and d.number == notice.number), None)
    if reprint is None:
        reprint = record is not None and record.reprints > 0
    return Page("cases/supplement_notice.html", {
        "notice": notice,
        "case": case,
        "items": json.loads(notice.items),
        "handler": handler_name(session, notice.issued_by),
        "reprinted_by": (handler_name(session, record.last_printed_by)
                         if reprint and record is not None else None),
        "document": record,
        "reprint": reprint,
        "center": center,
    })


def suspension_page(session: Session, case: Case, suspension: Suspension, *,
                    center: str) -> Page:
    """The written notice of a special procedure (Art. 45)."""
    return Page("cases/suspension_notice.html", {
        "suspension": suspension,
        "case": case,
        "kind_names": SUSPENSION_KIND_NAMES,
        "handler": handler_name(session, suspension.started_by),
        "center": center,
    })


def document_page(session: Session, case: Case, document: IssuedDocument, *, center: str,
                  reprint: bool, lookup_url: Callable[[str], str],
                  query_code: str | None = None) -> Page:
    """The page of a printed document, staff by their names (``lookup_url``: the public
    lookup's address of a case number, printed on the receipt with its QR code)."""
    if document.kind is DocumentKind.SUPPLEMENT:
        return notice_page(session, case, documents.notice_of(case, document), center=center,
                           reprint=reprint)
    usernames = {document.issued_by, document.last_printed_by}
    names = {row.username: row.display_name for row in session.execute(
        select(User.username, User.display_name).where(User.username.in_(usernames)))}
    return Page("cases/document.html", {
        "center": center,
        "staff_names": names,
        **documents.content(case, document, reprint=reprint, query_code=query_code,
                            lookup_url=lookup_url),
    })


def print_as(session: Session, case: Case, kind: DocumentKind, query_code: str | None,
             user: User, *, node_code: str, now: dt.datetime) -> tuple[IssuedDocument, bool]:
    """Print ``kind`` as ``user``, whose role must allow it (:func:`documents.print_document`:
    the document and whether this print is a reprint)."""
    if not allows(user.role, documents.RULES[kind].permission):
        raise Forbidden(_("Your role (%(value)s) may not print a %(value2)s document.",
                          value=name_of(ROLE_NAMES, user.role),
                          value2=documents.title(kind, case)))
    return documents.print_document(session, case, kind, username=user.username,
                                    node_code=node_code, now=now, query_code=query_code)


__all__ = ["SUSPENSION_KIND_NAMES", "Page", "document_page", "notice_page", "print_as",
           "suspension_page"]
