"""A directive as this node sees it: one it issued (outgoing) or one it received (incoming).

The same ``directive_id`` names the directive on both sides; the issuer keeps an outgoing row,
the target an incoming one, and a reply updates both (the target's when it replies, the
issuer's when the ``directive.reply`` envelope arrives).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.models import Base
from schemas.runtime.database import Timestamp, UTCDateTime, enum_column


class DirectiveDirection(enum.StrEnum):
    OUTGOING = "outgoing"  # issued here, to a descendant
    INCOMING = "incoming"  # received here, from an ancestor


class DirectiveSubject(enum.StrEnum):
    CASE = "case"
    METRIC = "metric"
    TEXT = "text"


class DirectiveState(enum.StrEnum):
    SENT = "sent"  # outgoing, no reply yet
    RECEIVED = "received"  # incoming, not answered yet
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DISPUTED = "disputed"


# the states a reply may set (schemas.messages.DIRECTIVE_STATES)
REPLY_STATES = (DirectiveState.ACKNOWLEDGED, DirectiveState.IN_PROGRESS, DirectiveState.DONE,
                DirectiveState.DISPUTED)


class Directive(Base):
    __tablename__ = "directives"
    __table_args__ = (
        UniqueConstraint("directive_id", "direction", name="uq_directives_directive_direction"),
        # the lists, newest first, by direction and state, by direction, or all (migration 0040)
        Index("ix_directives_direction_state_issued", "direction", "state", "issued_at", "id"),
        Index("ix_directives_direction_issued", "direction", "issued_at", "id"),
        Index("ix_directives_issued", "issued_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    directive_id: Mapped[str] = mapped_column(String(36))
    direction: Mapped[DirectiveDirection] = mapped_column(enum_column(DirectiveDirection))
    issuer_node: Mapped[str] = mapped_column(String(9))
    target_node: Mapped[str] = mapped_column(String(9))
    subject: Mapped[DirectiveSubject] = mapped_column(enum_column(DirectiveSubject))
    case_number: Mapped[str | None] = mapped_column(String(64))
    metric: Mapped[str | None] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date] = mapped_column(Date)
    issued_by: Mapped[str] = mapped_column(String(64))
    issued_at: Mapped[Timestamp]
    state: Mapped[DirectiveState] = mapped_column(enum_column(DirectiveState))
    reply_text: Mapped[str | None] = mapped_column(Text)
    replied_by: Mapped[str | None] = mapped_column(String(64))
    replied_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[Timestamp]

    def overdue_on(self, today: dt.date) -> bool:
        """Past its due day and not done."""
        return self.due_on < today and self.state is not DirectiveState.DONE
