"""Saved composite-index methodologies: a name, a version that grows with every change."""

from __future__ import annotations

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.models import Base
from schemas.runtime.database import Timestamp, utcnow


class SavedMethodology(Base):
    """A named methodology (components, weights, normalisation) as a JSON document."""

    __tablename__ = "ranking_methodologies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    document: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow)
