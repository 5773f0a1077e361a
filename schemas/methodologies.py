"""What node and hub agree on about saved composite-index methodologies (docs/rankings.md)."""

from __future__ import annotations


def methodology_prefix(node: str) -> str:
    """A node saves its methodologies at the hub under its own code: ``<code>.<name>``
    (e.g. ``450900.bulletin``), so that no center replaces another's or the hub's."""
    return f"{node}."
