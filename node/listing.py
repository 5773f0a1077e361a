"""Keyset pages for the staff lists: an opaque cursor, the next one, a bounded total.

A page is found by the sort key of the last row seen (``WHERE key > :last ORDER BY key LIMIT
n``), so page 10,000 costs what page 1 costs — OFFSET would read every row before it.  The
cursor is that key, JSON in URL-safe base64: opaque to clients, checked when read back.

Totals are counted up to :data:`COUNT_CAP` rows (``count(*)`` over ``LIMIT cap + 1``): exact
below the cap, "more than the cap" (``total_exact`` false) above it, so a list over a
million cases never counts them all.  Plain Python, no Flask.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
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


def encode_cursor(values: Sequence[Any]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.date) else v for v in values]
    raw = json.dumps(plain, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: Sequence[type]) -> list[Any]:
    """The key values in ``cursor``, one per kind (``int``, ``str`` or ``dt.date``); a cursor
    that is not one of ours is refused with a 422 naming the ``cursor`` field."""
    problem = ValidationFailed({"cursor": [_("not a cursor this list gave out: start again "
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


def page_of_rows(rows: Sequence[T], per_page: int, key: Any, total: tuple[int, bool]
                 ) -> Page[T]:
    """A page from ``per_page + 1`` rows fetched: the extra one only says another page
    follows; ``key(row)`` gives the cursor's values."""
    more = len(rows) > per_page
    rows = rows[:per_page]
    cursor = encode_cursor(key(rows[-1])) if more and rows else None
    return Page(rows, total[0], total[1], cursor)


def keyset_page(session: Session, query: Select[Any], columns: Sequence[Any],
                kinds: Sequence[type], cursor: str | None, per_page: int,
                descending: bool = False, options: Sequence[Any] = ()) -> Page[T]:
    """One page of ``query`` (a SELECT of one entity, filtered, unordered) in the order of
    ``columns`` (a unique key, all ascending or all descending): the rows after ``cursor``,
    the next cursor, and the total counted up to the cap — no second query when the first
    page holds every row.  ``options`` load what each row shows."""
    last = decode_cursor(cursor, kinds) if cursor else None
    paged = query.where(after(columns, last, descending)) if last else query
    ordering = [c.desc() for c in columns] if descending else list(columns)
    rows = list(session.scalars(paged.order_by(*ordering).limit(per_page + 1)
                                .options(*options)))
    if last is None and len(rows) <= per_page:
        total = (len(rows), True)
    else:
        total = capped_count(session, query.with_only_columns(*columns[-1:]))
    return page_of_rows(rows, per_page,
                        lambda row: tuple(getattr(row, c.key) for c in columns), total)
