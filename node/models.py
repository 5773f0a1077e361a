"""The node's declarative base; every feature's models register on its metadata.

Importing every feature's models (so that the metadata is complete) is
:func:`node.metadata.load_all_models`: this module is below every feature and imports none.
"""

from __future__ import annotations

from sqlalchemy.orm import DeclarativeBase

from schemas.runtime.database import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


