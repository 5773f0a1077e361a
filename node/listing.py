"""Keyset pages for the staff lists: an opaque cursor, the next and the previous one, a bounded
total.

A page is found by the sort key of the last row seen (``WHERE key > :last ORDER BY key LIMIT
n``), so page 10,000 costs what page 1 costs — OFFSET would read every row before it.  The
cursor is that key, JSON in URL-safe base64: opaque to clients, checked when read back.

The page before (上一页) is found the same way from the other end: ``before`` is the key of
the page's first row, and the rows before it are read with the order turned round (``WHERE
key < :first ORDER BY key DESC LIMIT n``: the same index, read backwards) and put back in the
list's order.  So going back shows the rows that were shown, and rows added or removed in
between move the boundaries no more than they would going forward.  A backward read that
reaches the start of the list is the first page: when it holds fewer than a page (rows before
it were removed) the first page is read again from the start, so a page without a previous
one is always the first page as the list shows it without a cursor.

Totals are counted up to :data:`COUNT_CAP` rows (``count(*)`` over ``LIMIT cap + 1``): exact
below the cap, "more than the cap" (``total_exact`` false) above it, so a list over a
million cases never counts them all.  Plain Python, no Flask.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, func, literal, select, tuple_
from sqlalchemy.orm import Session

from schemas.errors import ValidationFailed
from schemas.i18n import _

T = TypeVar("T")
COUNT_CAP = 1000
MAX_CURSOR_LENGTH = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: Sequence[T]
    total: int  # exact when total_exact, else a lower bound (the cap)
    total_exact: bool
    next_cursor: str | None  # None on the last page
    prev_cursor: str | None = None  # None on the first page (and on an empty page past the end)


@dataclass(frozen=True)
class Position:
    """Where a page starts: after ``key`` (下一页), before it (``backward``: 上一页), or at the
    start of the list (``key`` None)."""

    key: tuple[Any, ...] | None = None
    backward: bool = False

    def reads_descending(self, descending: bool) -> bool:
        """Whether the index is read descending for a list in that order: turned round when
        reading backwards."""
        return descending != self.backward

    def conditions(self, columns: Sequence[Any], descending: bool = False
                   ) -> list[ColumnElement[bool]]:
        """The condition that starts the page where this position says (none at the start)."""
        if self.key is None:
            return []
        return [after(columns, self.key, self.reads_descending(descending))]

    def ordering(self, columns: Sequence[Any], descending: bool = False) -> list[Any]:
        """ORDER BY for reading this position's page: the list's order, turned round when
        reading backwards."""
        return [c.desc() for c in columns] if self.reads_descending(descending) else list(columns)


START = Position()


def position(cursor: str | None, before: str | None, kinds: Sequence[type]) -> Position:
    """The page asked for by ``cursor`` (the rows after it) or ``before`` (the rows before
    it): at most one of them; neither is the first page.  A value that is not one of ours is
    refused with a 422 naming its parameter."""
    if cursor and before:
        raise ValidationFailed({"before": [_("give either cursor (the next page) or before "
                                             "(the page before), not both")]})
    if before:
        return Position(tuple(decode_cursor(before, kinds, "before")), backward=True)
    if cursor:
        return Position(tuple(decode_cursor(cursor, kinds)))
    return START


def turn(where: Position, per_page: int, read: Callable[[Position], Page[T]]) -> Page[T]:
    """``read(where)``, unless it read backwards to the start of the list and found less
    than a page (rows before were removed): then the first page, read from the start."""
    page = read(where)
    if where.backward and page.prev_cursor is None and len(page.items) < per_page:
        return read(START)
    return page


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.date) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[type], name: str = "cursor") -> list[Any]:
    """The key values in ``cursor``, one per kind (``int``, ``str``, ``dt.date`` or
    ``dt.datetime``, which must carry its offset); a cursor that is not one of ours is refused
    with a 422 naming the field (``name``: ``cursor`` or ``before``)."""
    problem = ValidationFailed({name: [_("not a cursor this list gave out: start again "
                                         "without it")]})
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise problem
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise problem from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise problem
    decoded: list[Any] = []
    for value, kind in zip(values, kinds, strict=True):
        if kind is int:
            if type(value) is not int or not 0 <= value < 2**63:
                raise problem
            decoded.append(value)
        elif kind is str:
            if type(value) is not str or len(value) > MAX_CURSOR_LENGTH:
                raise problem
            decoded.append(value)
        elif kind is dt.datetime:
            try:
                moment = dt.datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise problem from None
            if moment.tzinfo is None:
                raise problem
            decoded.append(moment)
        else:
            try:
                decoded.append(dt.date.fromisoformat(value))
            except (TypeError, ValueError):
                raise problem from None
    return decoded


def after(columns: Sequence[Any], values: Sequence[Any],
          descending: bool = False) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in the order of ``columns`` (all ascending or all
    descending): a row-value comparison, ``(a, b) > (:a, :b)``, which both engines read as
    one range of the index (the same condition spelt with ORs is not)."""
    key, last = tuple_(*columns), tuple_(*(literal(v, type_=c.type) for c, v in
                                           zip(columns, values, strict=True)))
    return key < last if descending else key > last


def capped_count(session: Session, query: Select[Any], cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows ``query`` (a SELECT of one column, unordered) yields, counting at most
    ``cap + 1``: (the count, exact) or (cap, False)."""
    found = session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery())) or 0
    return (found, True) if found <= cap else (cap, False)


def page_of_rows(rows: Sequence[T], per_page: int, key: Any, total: tuple[int, bool],
                 where: Position = START) -> Page[T]:
    """A page from ``per_page + 1`` rows fetched in the order ``where`` reads them: the extra
    one only says another page follows (before the page when reading backwards, whose rows
    are then put back in the list's order); ``key(row)`` gives the cursors' values."""
    more = len(rows) > per_page
    rows = list(rows[:per_page])
    if where.backward:
        rows.reverse()
        prev = encode_cursor(key(rows[0])) if more and rows else None
        following = encode_cursor(key(rows[-1])) if rows else None
    else:
        prev = encode_cursor(key(rows[0])) if where.key is not None and rows else None
        following = encode_cursor(key(rows[-1])) if more and rows else None
    return Page(rows, total[0], total[1], following, prev)


def keyset_page(session: Session, query: Select[Any], columns: Sequence[Any],
                kinds: Sequence[type], cursor: str | None, per_page: int,
                descending: bool = False, options: Sequence[Any] = (),
                before: str | None = None) -> Page[T]:
    """One page of ``query`` (a SELECT of one entity, filtered, unordered) in the order of
    ``columns`` (a unique key, all ascending or all descending): the rows after ``cursor``
    (or before ``before``), the next and previous cursors, and the total counted up to the
    cap — no second query when the first page holds every row.  ``options`` load what each
    row shows."""

    def read(where: Position) -> Page[T]:
        paged = query.where(*where.conditions(columns, descending))
        rows = list(session.scalars(paged.order_by(*where.ordering(columns, descending))
                                    .limit(per_page + 1).options(*options)))
        if where.key is None and len(rows) <= per_page:
            total = (len(rows), True)
        else:
            total = capped_count(session, query.with_only_columns(*columns[-1:]))
        return page_of_rows(rows, per_page,
                            lambda row: tuple(getattr(row, c.key) for c in columns), total,
                            where)

    return turn(position(cursor, before, kinds), per_page, read)
