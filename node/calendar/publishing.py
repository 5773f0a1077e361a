"""The province's national holiday schedule travels down the tree as ``calendar.publish``.

The province imports the State Council's notice (``tongban node calendar-import``), then signs
that year's schedule to ``"<province>/*"`` (``tongban node publish-calendar``); every
descendant adopts it when it pulls, as it adopts the standard catalog
(node/catalog/publishing.py).  The body carries the schedule's ``version`` (the province's own
count of that year's imports): a higher version replaces a lower one whatever order they
arrive in, the same version again changes nothing.  Only the province, the trust root, may
publish one: the hub refuses any other sender (``not_trust_root``) and so does every receiver.
A node the hub registers later finds the schedules in force in its mailbox
(hub/relay/schedules.py).

Adopting recomputes the deadlines of the open cases in the same transaction
(node/cases/recompute.py).  Nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from node.audit.chain import AuditLog
from node.calendar.models import ScheduleSource
from node.calendar.schedules import ScheduleImportError, document_from_body
from node.calendar.service import CalendarService, DeadlineRecompute, ScheduleChange
from node.ports import EnvelopeHandler, Outbox
from schemas.divisions import Level, level_of, province_of
from schemas.envelope import Envelope, Kind
from schemas.errors import Conflict, ValidationFailed
from schemas.i18n import _
from schemas.messages import check_publisher, validate_body
from schemas.runtime.database import utcnow


def publish_calendar(
    session: Session,
    *,
    outbox: Outbox,
    year: int,
    actor: str,
    now: dt.datetime | None = None,
) -> str:
    """Sign the schedule of ``year`` this province holds to every descendant; returns the
    envelope id.  Raises :class:`Conflict` on a node that is not a province, or for a year
    the province has not imported.  Flushes; the caller commits."""
    node_code = outbox.node_code
    if level_of(node_code) is not Level.PROVINCE:
        raise Conflict(_("只有省级中心可以下发国家节假日安排，%(node_code)s 不是省级中心。",
                         node_code=node_code),
                       {"node": node_code})
    moment = now or utcnow()
    schedule = CalendarService(session, clock=lambda: moment).schedule(year)
    if schedule is None or schedule.source is not ScheduleSource.IMPORTED:
        raise Conflict(
            _("%(year)s年的国家节假日安排尚未导入本中心；请先在工作日历页导入国务院办公厅的通知。",
              year=year),
            {"year": year, "source": schedule.source.value if schedule else None})
    days = [{"date": d.day.isoformat(), "kind": d.kind.value, "name": d.name}
            for d in schedule.days]
    body: dict[str, Any] = {
        "year": year,
        "version": schedule.version,
        "published_at": moment.astimezone(dt.UTC).isoformat(),
        "source": schedule.reference,
        "days": days,
    }
    envelope = outbox.send(session, kind=Kind.CALENDAR_PUBLISH, to=f"{node_code}/*", body=body,
                           now=moment)
    AuditLog(session, clock=lambda: moment).append(
        actor=actor, role="admin", action="calendar.publish", subject_type="calendar",
        subject_id=str(year),
        data={"envelope_id": envelope.id, "year": year, "version": schedule.version,
              "days": len(days), "digest": schedule.digest},
    )
    return envelope.id


def adopt_calendar(session: Session, envelope: Envelope, *, node_code: str,
                   recompute: DeadlineRecompute,
                   clock: Callable[[], dt.datetime] = utcnow) -> ScheduleChange:
    """Apply a ``calendar.publish`` envelope at ``node_code``; flushes, never commits.

    Raises :class:`~schemas.envelope.EnvelopeError` ``not_trust_root`` when the sender is not
    this node's province, and :class:`ValidationFailed` for a body that breaks a schedule rule.
    """
    if envelope.kind is not Kind.CALENDAR_PUBLISH:
        raise Conflict(_("not a calendar.publish envelope: %(value)s", value=envelope.kind.value))
    check_publisher(envelope.kind, envelope.sender, province_of(node_code))
    validate_body(Kind.CALENDAR_PUBLISH, envelope.body)
    try:
        document = document_from_body(envelope.body)
    except ScheduleImportError as exc:
        raise ValidationFailed({"days": [p.reason for p in exc.problems]},
                               _("the published schedule breaks a schedule rule")) from exc
    return CalendarService(session, clock=clock, recompute=recompute).adopt_published(
        document, version=int(envelope.body["version"]), publisher=envelope.sender,
        envelope_id=envelope.id)


def envelope_handlers(
    node_code: str, recompute: DeadlineRecompute, clock: Callable[[], dt.datetime] = utcnow
) -> dict[Kind, EnvelopeHandler]:
    """What the calendar applies at node ``node_code``: ``calendar.publish`` (the open cases'
    deadlines following through ``recompute``)."""

    def adopt_published_calendar(session: Session, envelope: Envelope) -> None:
        adopt_calendar(session, envelope, node_code=node_code, recompute=recompute, clock=clock)

    return {Kind.CALENDAR_PUBLISH: adopt_published_calendar}


__all__ = [
    "adopt_calendar",
    "envelope_handlers",
    "publish_calendar",
]
