"""Asking the hub with a fallback: every good answer is kept; a page shows the kept answer
at once (:meth:`CachedRankings.kept`) and asks the hub again after it was sent
(:meth:`CachedRankings.refresh`); when the hub cannot be reached the kept answer stays, with
the time it was fetched.  Plain Python (no Flask)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.ports import HubUnavailable
from node.rankings.hub import HubAnswer, RankingsHub
from node.rankings.models import RankingAnswer
from schemas.i18n import _
from schemas.runtime.database import utcnow

log = logging.getLogger("tongban.node.rankings")


@dataclass(frozen=True)
class Answer:
    """The hub's answer, or the last one kept (``stale``), or none at all (``document`` None)."""

    status: int
    document: Any
    fetched_at: dt.datetime | None
    stale: bool
    unreachable_reason: str | None = None
    cached: bool = False  # the kept answer, shown without asking the hub first
    age_minutes: int | None = None  # how old the figures are, in whole minutes

    @classmethod
    def from_kept(cls, kept: RankingAnswer, now: dt.datetime) -> Answer:
        """The kept answer; ``stale`` when the last attempt to refresh it failed."""
        failed = kept.asked_at is not None and kept.asked_at > kept.fetched_at
        return cls(kept.status, json.loads(kept.body), kept.fetched_at, stale=failed,
                   unreachable_reason=_("无法连接上级枢纽") if failed else None, cached=True,
                   age_minutes=max(0, int((now - kept.fetched_at).total_seconds() // 60)))


def question_key(method: str, what: str, query: Sequence[tuple[str, str]], body: bytes) -> str:
    text = json.dumps([method, what, sorted(query), body.decode("utf-8", "replace")],
                      ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class CachedRankings:
    """The rankings client of one node with the last good answers kept in its database."""

    def __init__(self, session: Session, client: RankingsHub,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.client = client
        self.clock = clock

    def kept(self, method: str, what: str, query: Sequence[tuple[str, str]] = (),
             body: bytes = b"") -> Answer | None:
        """The answer kept for this question, without asking the hub (None: none kept)."""
        key = question_key(method, what, query, body)
        kept = self.session.scalar(select(RankingAnswer).where(RankingAnswer.question == key))
        return None if kept is None else Answer.from_kept(kept, self.clock())

    def last_asked(self, method: str, what: str, query: Sequence[tuple[str, str]] = (),
                   body: bytes = b"") -> dt.datetime | None:
        """When the hub was last asked this question (answered or not)."""
        key = question_key(method, what, query, body)
        kept = self.session.scalar(select(RankingAnswer).where(RankingAnswer.question == key))
        if kept is None:
            return None
        return max(kept.fetched_at, kept.asked_at or kept.fetched_at)

    def refresh(self, method: str, what: str, query: Sequence[tuple[str, str]] = (),
                body: bytes = b"") -> Answer:
        """Ask the hub again; the time of the attempt is kept whatever the outcome."""
        key = question_key(method, what, query, body)
        kept = self.session.scalar(select(RankingAnswer).where(RankingAnswer.question == key))
        if kept is not None:
            kept.asked_at = self.clock()
            self.session.flush()
        return self.ask(method, what, query, body)

    def ask(self, method: str, what: str, query: Sequence[tuple[str, str]] = (),
            body: bytes = b"") -> Answer:
        key = question_key(method, what, query, body)
        try:
            found: HubAnswer = self.client.ask(method, what, query, body)
        except HubUnavailable as exc:
            # the reason (a network error's own text) is for the log, never for a page
            log.warning("rankings: the hub cannot be reached (%s): %s", what, exc.message)
            kept = self.session.scalar(select(RankingAnswer).where(RankingAnswer.question == key))
            if kept is None:
                return Answer(502, None, None, stale=True, unreachable_reason=_("无法连接上级枢纽"))
            return dataclasses.replace(Answer.from_kept(kept, self.clock()), stale=True,
                                       unreachable_reason=_("无法连接上级枢纽"), cached=False)
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
        return Answer(found.status, document, now, stale=False, age_minutes=0)
