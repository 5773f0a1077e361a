"""A restored hub's mailbox cursors continue beyond any a node may hold (hub.backup)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import insert, select

from hub.backup import advance_mailbox_cursor
from hub.relay.models import MailboxItem
from schemas.runtime.database import utcnow


def _add_row(app: Flask, envelope_id: str) -> int:
    with app.extensions["tongban_db"].unit_of_work() as session:
        session.execute(insert(MailboxItem).values(
            addressee="450981", envelope_id=envelope_id, created_at=utcnow()))
        return int(session.scalar(select(MailboxItem.cursor)
                                  .where(MailboxItem.envelope_id == envelope_id)) or 0)


def test_the_next_mailbox_row_comes_after_the_gap(hub_app: Flask) -> None:
    first = _add_row(hub_app, "e-1")
    with hub_app.extensions["tongban_db"].unit_of_work() as session:
        floor = advance_mailbox_cursor(session, 1000)

    assert floor == first + 1000
    assert _add_row(hub_app, "e-2") > floor
    with hub_app.extensions["tongban_db"].unit_of_work() as session:  # a second restore
        again = advance_mailbox_cursor(session, 1000)
    assert _add_row(hub_app, "e-3") > again > floor
