"""A tongban node: one government service center with its own database.

``create_app`` is imported lazily so that the domain modules (plain Python) can be imported
without Flask.
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name == "create_app":
        from node.app import create_app

        return create_app
    raise AttributeError(name)


__all__ = ["create_app"]
