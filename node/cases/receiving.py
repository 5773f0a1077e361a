"""通办 after the case was sent: the receiving center's own steps on it travel to the competent
center.  Plain Python (no Flask); :class:`node.cases.forwarding.Forwarding` sends and applies.

A case received here for another center (``tongban_role`` ``received``) stays in this
center's hands for what the applicant does here: they come to the hall to ask after it or to
collect the result (a ``visit`` the window records), and the window completes and delivers
the result (办结, 送达 at the hall or by post).  Each of those steps goes to the competent
center as a ``case.update`` with the ``step`` (the same shape as a step of a
``case.forward``'s ``history``), and the competent center stores it as this center's step of
its copy, so

- both centers see the whole history, the delivery included;
- a visit to the receiving center's hall after the case was sent counts once, with the case,
  at the competent center that decided it (docs/metrics.md, "Visits"), which forgets the
  roll-up of the case's completion day so that the day is counted again.

Only a step on a case that is out (``forwarded_to`` set) travels: a case sent back (退回) is
this center's own again, and its visits go with the history of the next forward.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.cases.history import display_names, remote_events, wire_step
from node.cases.models import Case, CaseEvent, TongbanRole
from node.cases.states import Action, CaseState
from node.rollups import invalidate

log = logging.getLogger("tongban.forwarding")

# the state-changing steps of the receiving center that the competent center is told of (a
# visit changes no state and is told by Forwarding.record_visit)
TOLD_STEPS = frozenset({Action.COMPLETE, Action.DELIVER})


def sent_elsewhere(case: Case) -> bool:
    """A 通办 case received here and out at the competent center (or decided there)."""
    return case.tongban_role is TongbanRole.RECEIVED and case.forwarded_to is not None


def step_update(session: Session, case: Case, here: str) -> dict[str, Any]:
    """The ``case.update`` body telling the competent center of the newest step on ``case``."""
    event = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                            .order_by(CaseEvent.id.desc()).limit(1)).one()
    step = wire_step(event, here, display_names(session, [event.actor]))
    return {"origin": {"node": here, "case_number": case.number}, "state": case.state.value,
            "note": "", "at": step["at"], "case_number": case.number, "step": step}


def apply_step(session: Session, body: Mapping[str, Any], sender: str) -> Case | None:
    """Store the receiving center's ``step`` on the copy taken here of the case ``sender``
    received (None, ignored, when no such copy is open here: e.g. it was sent back)."""
    origin = body["origin"]
    case = session.scalars(select(Case).where(
        Case.origin_node_code == sender, Case.origin_case_number == origin["case_number"],
        Case.received_from == sender, Case.tongban_role == TongbanRole.ACCEPTED,
        Case.state != CaseState.RETURNED,
    ).order_by(Case.id.desc())).first()
    if case is None or origin["node"] != sender:
        log.info("step on %s from %s ignored: no 通办 case taken from it here",
                 origin["case_number"], sender)
        return None
    case.events.extend(remote_events([{**body["step"], "center": sender}], case.state.value))
    if case.completed_on is not None:  # counted on its completion day: count that day again
        invalidate(session, [case.completed_on])
    return case


__all__ = ["TOLD_STEPS", "apply_step", "sent_elsewhere", "step_update"]
