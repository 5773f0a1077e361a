"""Centers by name: the registry's ``names`` of this node's part of the tree, kept here.

The hub's registry answer carries ``{code: name}`` for the centers of the part a node asks
for (each center's name as its own signed summary gives it).  The node keeps them in
``center_names`` on every refresh, so that pages show 北流市政务服务中心（450981）, never a
bare code, and forms offer the centers below as a picker.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from node.sync.models import CenterName
from schemas.divisions import DivisionCodeError, is_ancestor, parent_of
from schemas.names import center_text

NAME_MAX = 100


def store_names(session: Session, names: object, now: dt.datetime) -> int:
    """Keep the registry's ``names`` (a mapping of code to name; anything else is ignored);
    returns how many rows were added or changed."""
    if not isinstance(names, Mapping):
        return 0
    changed = 0
    for code, given in names.items():
        if not isinstance(code, str) or not isinstance(given, str) or not given.strip():
            continue
        name = given.strip()[:NAME_MAX]
        row = session.get(CenterName, code[:9])
        if row is None:
            session.add(CenterName(code=code[:9], name=name, updated_at=now))
            changed += 1
        elif row.name != name:
            row.name, row.updated_at = name, now
            changed += 1
    session.flush()
    return changed


def center_names(session: Session) -> dict[str, str]:
    """``{code: name}`` of every center whose name this node holds."""
    return dict(session.execute(select(CenterName.code, CenterName.name)).all())


class RegistryCenterNames:
    """:class:`node.ports.CenterNames` from ``center_names``: the features' messages name a
    center, 北流市政务服务中心（450981）; this node's own code is its configured ``name``."""

    def __init__(self, own_code: str, own_name: str) -> None:
        self.own_code = own_code
        self.own_name = own_name.strip()

    def text(self, session: Session, code: str) -> str:
        if code == self.own_code and self.own_name:
            return center_text(code, self.own_name)
        row = session.get(CenterName, code[:9]) if code else None
        return center_text(code, row.name if row is not None else None)


def centers_below(session: Session, code: str, *, direct: bool = False) -> list[tuple[str, str]]:
    """``(code, name)`` of the named centers below ``code`` (only its children when
    ``direct``), in code order: what a picker offers."""
    found = []
    for other, name in sorted(center_names(session).items()):
        try:
            below = parent_of(other) == code if direct else is_ancestor(code, other)
        except DivisionCodeError:
            continue
        if below:
            found.append((other, name))
    return found
