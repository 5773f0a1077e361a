"""The national holiday schedules in force: what a node enrolled after a publish receives.

The province's ``calendar.publish`` fans out to the nodes registered when it arrives.  A node
enrolled later must still count deadlines on the current schedules, so when the hub registers
a new node it puts in its mailbox, for each year, the newest version the province published
(:func:`current_schedules`), as signed: the node verifies and adopts them like any other.
"""

from __future__ import annotations

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.relay.models import EnvelopeRecord
from schemas.envelope import Envelope, EnvelopeError, Kind, parse_envelope


def current_schedules(session: Session, root_code: str) -> list[Envelope]:
    """The newest ``calendar.publish`` of each year from the trust root, in seq order."""
    newest: dict[int, tuple[int, Envelope]] = {}
    for (wire,) in session.execute(
        select(EnvelopeRecord.wire)
        .where(EnvelopeRecord.sender == root_code,
               EnvelopeRecord.kind == Kind.CALENDAR_PUBLISH.value)
        .order_by(EnvelopeRecord.seq)
    ):
        try:
            envelope = parse_envelope(orjson.loads(wire))
        except (EnvelopeError, orjson.JSONDecodeError):
            continue  # logged after every check: cannot happen short of a changed row
        year, version = envelope.body["year"], envelope.body["version"]
        if year not in newest or version > newest[year][0]:
            newest[year] = (version, envelope)
    return sorted((envelope for _, envelope in newest.values()), key=lambda e: e.seq)


__all__ = ["current_schedules"]
