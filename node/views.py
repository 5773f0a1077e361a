"""View models: what a page or an API answer shows of a row, beside the row itself.

A view holds what is computed when asked and never stored (a case's warning colour today, the
actions its viewer may take now, a complaint's being overdue today) and reads every other
attribute through from its row, so a marshmallow schema or a Jinja template reads the view as
it would read the row, while the ORM object is never given attributes it does not map.
"""

from __future__ import annotations

from typing import Any


class RowView:
    """The base of a view dataclass whose field ``row`` is the ORM row it shows."""

    row: Any

    def __getattr__(self, name: str) -> Any:
        # only called for what the view itself lacks; never for dunders (copy, pickle and
        # hasattr(view, "__getitem__") must not reach the row) nor for ``row`` itself
        if name == "row" or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.row, name)
