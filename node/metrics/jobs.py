"""The metrics' scheduled job: the signed summaries sent to the hub, this month's and, in the
first days of a month, the previous month's, each with the audit chain's head and its
commitment to the case records it counts (docs/sync.md, docs/verification.md).

Declared to the composition root by :func:`scheduled_jobs` (every
``summary_refresh_minutes``), which sends a period's summary only when it differs from the
last one sent in anything but ``computed_at``; ``tongban node send-summaries`` sends them at
once, changed or not.  A summary leaves through the node's :class:`~node.ports.Outbox`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import orjson
from sqlalchemy.orm import Session

from node.audit.chain import AuditLog
from node.calendar.workdays import to_shanghai_date
from node.metrics.service import MetricsService
from node.metrics.summary import as_of
from node.ports import Outbox, ScheduledJob
from node.settings import NodeSettings
from node.verification.service import commit, keep, newest_kept
from schemas.envelope import HUB, Kind
from schemas.periods import Period
from schemas.runtime.database import Database, utcnow

# a month's summary keeps being refreshed for this many days after it closes
PREVIOUS_MONTH_DAYS = 5


def summary_periods(today: dt.date) -> list[Period]:
    """The months whose summary to send today: this one, and the last one early in a month."""
    current = Period.month(today.year, today.month)
    if today.day <= PREVIOUS_MONTH_DAYS:
        return [current.previous(), current]
    return [current]


def send_summaries(db: Database, settings: NodeSettings, outbox: Outbox,
                   clock: Callable[[], dt.datetime] = utcnow, *,
                   only_changed: bool = False) -> list[str]:
    """Queue a signed ``summary`` for each period of :func:`summary_periods`, each carrying
    the audit chain's head and its commitment to the cases counted (whose leaves are kept for
    audits); one transaction each, so a failing period does not hold back the other.

    With ``only_changed`` (the scheduled job) a period whose summary is the last one sent
    but for ``computed_at`` is not sent again: an unchanged summary would cost the hub a
    verification and two rows and tell it nothing (docs/scale.md, "Envelope rates").  The
    commitment carries the summary's day (``as_of``), so a running month's summary still
    goes at least once a day.  Returns the periods sent."""
    now = clock()
    sent = []
    for period in summary_periods(to_shanghai_date(now)):
        with db.unit_of_work() as session:
            metrics = MetricsService.for_settings(session, settings)
            metrics.clock = lambda: now  # the figures and the commitment of the same moment
            body = metrics.summary(period)
            # the audit head, anchored at the hub (docs/sync.md, "Audit anchors")
            body["audit"] = AuditLog(session).anchor()
            # the commitment to the case records the figures count (docs/verification.md)
            commitment = commit(session, period, as_of(period, now))
            body["commitment"] = commitment.body
            if only_changed and _same_as_last_sent(session, outbox, period.label, body):
                continue
            envelope = outbox.send(session, kind=Kind.SUMMARY, to=HUB, body=body, now=now)
            keep(session, commitment, envelope.id, envelope.seq)
        sent.append(period.label)
    return sent


def _same_as_last_sent(session: Session, outbox: Outbox, period_label: str,
                       body: Mapping[str, Any]) -> bool:
    """Whether ``body`` is the period's last summary sent (and not refused) but for the
    moment it was computed."""
    last = newest_kept(session, period_label)
    previous = outbox.sent_body(session, last.envelope_id) if last else None
    if previous is None:
        return False
    return _content(previous) == _content(orjson.loads(orjson.dumps(body)))


def _content(body: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "computed_at"}


def scheduled_jobs(db: Database, settings: NodeSettings, outbox: Outbox) -> list[ScheduledJob]:
    return [ScheduledJob("summaries", "summaries",
                         dt.timedelta(minutes=settings.summary_refresh_minutes),
                         lambda: send_summaries(db, settings, outbox, only_changed=True))]


__all__ = ["PREVIOUS_MONTH_DAYS", "scheduled_jobs", "send_summaries", "summary_periods"]
