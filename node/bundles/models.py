"""A bundle case (一件事): one application for a bundle's matters, with one number and query
code; its parts are ordinary cases (``cases.bundle_case_id``)."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from node.cases.models import Case, Channel
from node.catalog.models import Bundle
from node.models import Base
from schemas.runtime.database import Timestamp, UTCDateTime, enum_column


class BundleState(enum.StrEnum):
    OPEN = "open"  # 办理中: a part is still open
    COMPLETED = "completed"  # 办结: every part ended granted (or its service given)
    PARTLY_COMPLETED = "partly_completed"  # 部分办结: some parts granted, some refused
    REFUSED = "refused"  # 未办成: no part granted


class BundleCase(Base):
    __tablename__ = "bundle_cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    query_code_hash: Mapped[str] = mapped_column(String(128))
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundles.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    state: Mapped[BundleState] = mapped_column(enum_column(BundleState))
    applicant_name: Mapped[str] = mapped_column(String(100))
    applicant_id_number: Mapped[str | None] = mapped_column(String(18))
    applicant_phone: Mapped[str | None] = mapped_column(String(20))
    form_data: Mapped[str] = mapped_column(Text, default="{}")  # the merged form's answers
    received_at: Mapped[Timestamp]
    received_on: Mapped[dt.date] = mapped_column(Date, index=True)
    # the sum of the parts' promised limits (working days)
    promised_days: Mapped[int] = mapped_column(Integer)
    ended_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # working days from receipt to the end (the day of receipt not counted)
    used_days: Mapped[int | None] = mapped_column(Integer)
    # 一件事办结通知书, numbered when the bundle ends
    notice_number: Mapped[str | None] = mapped_column(String(40), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))

    bundle: Mapped[Bundle] = relationship()
    parts: Mapped[list[Case]] = relationship(
        primaryjoin="BundleCase.id == foreign(Case.bundle_case_id)", order_by="Case.id",
        viewonly=True)
