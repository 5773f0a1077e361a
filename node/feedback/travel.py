"""Complaints that travel: a complaint against a case decided at another center reaches the
center that handled it, and its resolution comes back to where the complainant filed it.
Plain Python (no Flask).

- **up**: a complaint filed against a case that went up (``forwarded_to`` set: the case was
  sent to an ancestor, or sideways, to be decided there) is sent to that center as a signed
  ``complaint.forward`` in the same transaction, and marked ``sent_to``.  It keeps its number
  (the complainant's, unique in the federation as it begins with the node's code), its text,
  its contact phone, when it was received and when it is due.
- **there**: the receiving center links it to its own case for that origin, received from the
  sender; if that case went further up, it relays it the same way.  A complaint is counted
  (metrics, assessment) where it is handled: rows with ``sent_to`` are not counted.
- **back**: resolving a complaint that came from below sends ``complaint.reply`` with the
  resolution to the center it came from, which records it (so the complainant's lookup shows
  it) and relays it further down.  A complaint sent up is resolved there, never here.

Applying an envelope twice is prevented by the inbox; each handler is idempotent besides.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.audit.chain import AuditLog
from node.calendar.workdays import to_shanghai_date
from node.cases.forwarding import origin_of
from node.cases.models import Case
from node.feedback.models import Complaint, ComplaintState
from node.ports import CenterNames, EnvelopeHandler, Outbox
from node.rollups import invalidate
from schemas.envelope import Envelope, Kind
from schemas.errors import Forbidden, NotFound
from schemas.i18n import _
from schemas.runtime.database import utcnow

SYSTEM = "system"


class ComplaintTravel:
    """Sends complaints up to the center that handled their case and resolutions back down;
    applies both envelopes.  Flushes, never commits."""

    def __init__(self, session: Session, *, outbox: Outbox, names: CenterNames,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.session = session
        self.outbox = outbox
        self.names = names
        self.code = outbox.node_code
        self.clock = clock
        self.audit = AuditLog(session, clock=clock)

    def center(self, code: str) -> str:
        """``code``'s center by name, the code beside it (issue 19)."""
        return self.names.text(self.session, code)

    def _emit(self, kind: Kind, to: str, body: Mapping[str, Any]) -> None:
        self.outbox.send(self.session, kind=kind, to=to, body=body, now=self.clock())

    # -- up -------------------------------------------------------------------------------

    def send_up(self, complaint: Complaint) -> bool:
        """Send ``complaint`` to the center its case went to, if it went; True if sent."""
        case = complaint.case
        if case is None or case.forwarded_to is None or complaint.sent_to is not None:
            return False
        complaint.sent_to = case.forwarded_to
        self._emit(Kind.COMPLAINT_FORWARD, case.forwarded_to, {
            "number": complaint.number,
            "case": origin_of(case, self.code),
            "content": complaint.content,
            "contact_phone": complaint.contact_phone,
            "received_at": complaint.received_at.isoformat(),
            "due_on": complaint.due_on.isoformat(),
        })
        self.session.flush()
        self.audit.append(actor=SYSTEM, role=SYSTEM, action="complaint.send_up",
                          subject_type="complaint", subject_id=complaint.number,
                          data={"to": case.forwarded_to, "case": case.number})
        return True

    def receive(self, envelope: Envelope) -> Complaint:
        """A complaint from below against a case it sent here: linked to our case for that
        origin, and relayed if the case went further up."""
        body = envelope.body
        known = self.session.scalar(select(Complaint).where(Complaint.number == body["number"]))
        if known is not None:
            if known.received_from != envelope.sender:
                raise Forbidden(_("complaint %(number)s is already here, not from %(sender)s",
                                  number=body["number"], sender=self.center(envelope.sender)),
                                {"sender": envelope.sender})
            return known
        origin = body["case"]
        case = self.session.scalar(
            select(Case).where(Case.origin_node_code == origin["node"],
                               Case.origin_case_number == origin["case_number"],
                               Case.received_from == envelope.sender)
            .order_by(Case.id.desc()).limit(1))
        if case is None:
            raise NotFound(_("no case %(number)s came here from %(sender)s",
                             number=origin["case_number"], sender=self.center(envelope.sender)),
                           {"case": origin})
        complaint = Complaint(
            number=body["number"], query_code_hash=None, case=case,
            content=body["content"], contact_phone=body["contact_phone"],
            received_at=dt.datetime.fromisoformat(body["received_at"]),
            due_on=dt.date.fromisoformat(body["due_on"]), state=ComplaintState.RECEIVED,
            received_from=envelope.sender,
        )
        self.session.add(complaint)
        self.session.flush()
        self.audit.append(actor=SYSTEM, role=SYSTEM, action="complaint.receive_from_below",
                          subject_type="complaint", subject_id=complaint.number,
                          data={"from": envelope.sender, "case": case.number,
                                "due_on": complaint.due_on.isoformat()})
        if not self.send_up(complaint):
            # counted here, on the day it was received below: that day's roll-up is stale
            invalidate(self.session, [to_shanghai_date(complaint.received_at)])
        return complaint

    # -- back -----------------------------------------------------------------------------

    def send_back(self, complaint: Complaint) -> bool:
        """Send a resolved complaint's resolution to the center it came from; True if sent."""
        if (complaint.received_from is None or complaint.state is not ComplaintState.RESOLVED
                or complaint.resolution is None or complaint.resolved_at is None):
            return False
        # resolved here, or above and relayed: resolved_by holds that center's code then
        resolver = complaint.resolved_by if complaint.sent_to is not None else self.code
        self._emit(Kind.COMPLAINT_REPLY, complaint.received_from, {
            "number": complaint.number, "resolution": complaint.resolution,
            "resolved_at": complaint.resolved_at.isoformat(), "resolved_by": resolver})
        return True

    def receive_reply(self, envelope: Envelope) -> Complaint:
        """The resolution of a complaint this center sent up, from the center it went to."""
        body = envelope.body
        complaint = self.session.scalar(select(Complaint).where(
            Complaint.number == body["number"]))
        if complaint is None:
            raise NotFound(_("no complaint %(number)s here", number=body["number"]),
                           {"number": body["number"]})
        if complaint.sent_to != envelope.sender:
            raise Forbidden(_("complaint %(number)s was not sent to %(sender)s",
                              number=complaint.number, sender=self.center(envelope.sender)),
                            {"sender": envelope.sender})
        if complaint.state is ComplaintState.RESOLVED:
            return complaint
        complaint.state = ComplaintState.RESOLVED
        complaint.resolution = body["resolution"]
        complaint.resolved_at = dt.datetime.fromisoformat(body["resolved_at"])
        complaint.resolved_by = body["resolved_by"]  # the center that resolved it
        self.session.flush()
        self.audit.append(actor=SYSTEM, role=SYSTEM, action="complaint.resolved_above",
                          subject_type="complaint", subject_id=complaint.number,
                          data={"by": body["resolved_by"], "from": envelope.sender})
        self.send_back(complaint)
        return complaint


def envelope_handlers(
    travel_for: Callable[[Session], ComplaintTravel],
) -> dict[Kind, EnvelopeHandler]:
    """What complaints apply: ``complaint.forward`` and ``complaint.reply``, each through the
    :class:`ComplaintTravel` that ``travel_for`` composes on the session."""

    def forward(session: Session, envelope: Envelope) -> None:
        travel_for(session).receive(envelope)

    def reply(session: Session, envelope: Envelope) -> None:
        travel_for(session).receive_reply(envelope)

    return {Kind.COMPLAINT_FORWARD: forward, Kind.COMPLAINT_REPLY: reply}


__all__ = ["ComplaintTravel", "envelope_handlers"]
