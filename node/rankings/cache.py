"""Asking the hub with a fallback: every good answer is kept, and when the hub cannot be
reached the last answer to the same question is given instead, with the time it was fetched.
Plain Python (no Flask)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.rankings.client import HubAnswer, HubUnreachable, RankingsClient
from node.rankings.models import RankingAnswer
from schemas.database import utcnow


@dataclass(frozen=True)
class Answer:
    """The hub's answer, or the last one kept (``stale``), or none at all (``document`` None)."""

    status: int
    document: Any
    fetched_at: dt.datetime | None
    stale: bool
    unreachable_reason: str | None = None


def question_key(method: str, what: str, query: Sequence[tuple[str, str]], body: bytes) -> str:
    text = json.dumps([method, what, sorted(query), body.decode("utf-8", "replace")],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class CachedRankings:
    """The rankings client of one node with the last good answers kept in its database."""

    def __init__(self, session: Session, client: RankingsClient,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.client = client
        self.clock = clock

    def ask(self, method: str, what: str, query: Sequence[tuple[str, str]] = (),
            body: bytes = b"") -> Answer:
        key = question_key(method, what, query, body)
        try:
            found: HubAnswer = self.client.ask(method, what, query, body)
        except HubUnreachable as exc:
            kept = self.session.scalar(select(RankingAnswer).where(RankingAnswer.question == key))
            if kept is None:
                return Answer(502, None, None, stale=True, unreachable_reason=exc.message)
            return Answer(kept.status, json.loads(kept.body), kept.fetched_at, stale=True,
                          unreachable_reason=exc.message)
        try:
            document = json.loads(found.body)
        except ValueError:
            document = None
        now = self.clock()
        if found.status == 200 and document is not None:
            kept = self.session.scalar(select(RankingAnswer).where(RankingAnswer.question == key))
            if kept is None:
                kept = RankingAnswer(question=key, what=what)
                self.session.add(kept)
            kept.status, kept.content_type = found.status, found.content_type
            kept.body, kept.fetched_at = found.body, now
            self.session.flush()
        return Answer(found.status, document, now, stale=False)
