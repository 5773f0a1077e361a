"""The last answer the hub gave to each rankings question, kept so that the pages can show
the figures the node last had (and when it had them) while the hub cannot be reached."""

from __future__ import annotations

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from node.models import Base
from schemas.database import Timestamp


class RankingAnswer(Base):
    __tablename__ = "ranking_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the question: method, endpoint, query and body
    question: Mapped[str] = mapped_column(String(64), unique=True)
    what: Mapped[str] = mapped_column(String(32))
    status: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(100))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    fetched_at: Mapped[Timestamp]
