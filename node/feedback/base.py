"""What every part of the feedback service shares: its collaborators and keyset pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from node.audit.chain import AuditLog
from node.calendar.workdays import WorkingCalendar, to_shanghai_date
from node.feedback.travel import ComplaintTravel
from node.listing import COUNT_CAP, Page, Position, capped_count, page_of_rows, position, turn
from schemas.runtime.database import utcnow

T = TypeVar("T")


class FeedbackBase:
    """The session, calendar, clock and audit log of the feedback service."""


    def __init__(
        self,
        session: Session,
        *,
        node_code: str,
        calendar: WorkingCalendar,
        clock: Callable[[], dt.datetime] = utcnow,
        travel: ComplaintTravel | None = None,
    ) -> None:
        self.session = session
        self.node_code = node_code
        self.calendar = calendar
        self.clock = clock
        self.audit = AuditLog(session, clock=clock)
        # sends complaints against cases decided elsewhere there, and resolutions back
        # (node/feedback/travel.py); None where nothing is sent (the node's key is absent)
        self.travel = travel

    def today(self) -> dt.date:
        return to_shanghai_date(self.clock())


    def _page(
        self,
        query: Select[T],
        columns: tuple[InstrumentedAttribute[Any], InstrumentedAttribute[Any]],
        conditions: list[ColumnElement[bool]],
        branches: list[ColumnElement[bool]],
        cursor: str | None,
        per_page: int,
        before: str | None = None,
    ) -> Page[T]:
        """One keyset page in the order of ``columns`` (due date, id): each branch (one state
        each) is a range of the (state, due_on) index, and the ranges are merged; ``before``
        reads the ranges backwards for the page before (node/listing.py)."""
        entity = query.column_descriptions[0]["entity"]

        def key(row: Any) -> tuple[Any, ...]:
            return (row.due_on, row.id)

        def read(where: Position) -> Page[T]:
            paging = [*conditions, *where.conditions(columns)]
            found: list[Any] = []
            counts = []
            for branch in branches:
                found.extend(self.session.scalars(
                    query.where(*paging, branch).order_by(*where.ordering(columns))
                    .limit(per_page + 1)))
                counts.append(capped_count(self.session,
                                           select(entity.id).where(*conditions, branch)))
            found.sort(key=key, reverse=where.backward)
            total = sum(c for c, _ in counts)
            exact = all(e for _, e in counts) and total <= COUNT_CAP
            return page_of_rows(found[:per_page + 1], per_page, key,
                                (total, True) if exact else (COUNT_CAP, False), where)

        return turn(position(cursor, before, (dt.date, int)), per_page, read)
