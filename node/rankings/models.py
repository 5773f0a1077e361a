"""The last answer the hub gave to each rankings question, kept so that the pages show the
figures the node last had at once (and when it had them), then ask the hub again, and keep
showing them while the hub cannot be reached."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from node.models import Base
from schemas.runtime.database import Timestamp, UTCDateTime


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
    # when this node last asked the hub again (a refresh after the page was shown): later
    # than fetched_at means that attempt failed, and the page says so
    asked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
