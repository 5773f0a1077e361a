"""Evaluations (好差评), rectifications of bad ratings (整改) and complaints (投诉).

The rate limiter's table lives with its function in :mod:`node.feedback.ratelimit`; it is
imported here so that loading this package's models registers it too.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from node.auth.models import User
from node.cases.models import Case
from node.catalog.models import StaffMember, Window
from node.feedback.ratelimit import RateLimit
from node.models import Base
from schemas.runtime.database import Timestamp, UTCDateTime, enum_column, utcnow


class EvaluationLevel(enum.StrEnum):
    """The five levels of 好差评 (国办发〔2019〕51号, GB/T 39735-2020)."""

    VERY_SATISFIED = "very_satisfied"  # 非常满意
    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    DISSATISFIED = "dissatisfied"  # 不满意
    VERY_DISSATISFIED = "very_dissatisfied"  # 非常不满意


# Every bad rating is rectified (评价–反馈–整改–监督).
BAD_LEVELS = frozenset({EvaluationLevel.DISSATISFIED, EvaluationLevel.VERY_DISSATISFIED})


class RectificationState(enum.StrEnum):
    PENDING = "pending"  # 待整改
    DISPUTED = "disputed"  # 申诉中（无效评价复核）
    IN_RECTIFICATION = "in_rectification"  # 整改中
    DONE = "done"  # 已整改
    CANNOT_RECTIFY = "cannot_rectify"  # 无法整改
    RATING_VOID = "rating_void"  # 评价无效（申诉成立）


# Open rectifications have a running deadline; overdue is computed from it, never stored.
OPEN_RECTIFICATION_STATES = frozenset(
    {RectificationState.PENDING, RectificationState.DISPUTED, RectificationState.IN_RECTIFICATION}
)


class ComplaintState(enum.StrEnum):
    RECEIVED = "received"  # 已受理
    RESOLVED = "resolved"  # 已办结


class Evaluation(Base):
    """The applicant's one rating of a completed case."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(primary_key=True)
    # unique: a case is rated once, even when two ratings race
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    level: Mapped[EvaluationLevel] = mapped_column(enum_column(EvaluationLevel), index=True)
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[Timestamp] = mapped_column(index=True)  # a day's roll-up reads by it
    # set when the invalid-rating review (申诉) finds the rating invalid: it no longer counts
    void: Mapped[bool] = mapped_column(Boolean, default=False)

    case: Mapped[Case] = relationship()
    rectification: Mapped[Rectification | None] = relationship(back_populates="evaluation")


class Rectification(Base):
    """The rectification (整改) a bad rating opens, with its deadline and its reasons."""

    __tablename__ = "rectifications"
    __table_args__ = (Index("ix_rectifications_state_due_on_id", "state", "due_on", "id"),
                      Index("ix_rectifications_due_on_id", "due_on", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(ForeignKey("evaluations.id"), unique=True)
    state: Mapped[RectificationState] = mapped_column(enum_column(RectificationState))
    opened_at: Mapped[Timestamp]
    due_on: Mapped[dt.date] = mapped_column(Date)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    extension_days: Mapped[int | None] = mapped_column(Integer)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    dispute_reason: Mapped[str | None] = mapped_column(Text)
    void_reason: Mapped[str | None] = mapped_column(Text)
    cannot_rectify_reason: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)  # what was done (整改情况)
    # 回访: when the applicant was called back on completing it (实名差评回访整改率)
    followed_up_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow, onupdate=utcnow)

    evaluation: Mapped[Evaluation] = relationship(back_populates="rectification")


class Complaint(Base):
    """A complaint (投诉, GB/T 36113-2018) against a case, a window or a staff member."""

    __tablename__ = "complaints"
    __table_args__ = (Index("ix_complaints_state_due_on_id", "state", "due_on", "id"),
                      Index("ix_complaints_due_on_id", "due_on", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    # Argon2id of the complainant's query code (node/cases/query_codes.py, over the complaint
    # number); None for complaints filed before node migration 0022: they cannot be looked up
    query_code_hash: Mapped[str | None] = mapped_column(String(128))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), index=True)
    # the staff member complained about, by the public 工号 of their staff record as given
    # (kept even when no record has it: the supervisors resolve it); never a login name
    staff_code: Mapped[str | None] = mapped_column(String(32))
    staff_member_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id"),
                                                        index=True)
    # the account linked to that staff record, if one: the clerk assessment counts it
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    content: Mapped[str] = mapped_column(Text)
    contact_phone: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[Timestamp] = mapped_column(index=True)
    due_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[ComplaintState] = mapped_column(enum_column(ComplaintState))
    resolution: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    # a complaint against a case decided at another center travels there (complaint.forward,
    # node/feedback/travel.py): ``sent_to`` here, where it was filed (or relayed), and it is
    # counted where it is handled; ``received_from`` there, where the answer goes back
    sent_to: Mapped[str | None] = mapped_column(String(12))
    received_from: Mapped[str | None] = mapped_column(String(12))

    case: Mapped[Case | None] = relationship()
    window: Mapped[Window | None] = relationship()
    staff_member: Mapped[StaffMember | None] = relationship()
    clerk: Mapped[User | None] = relationship()


__all__ = [
    "BAD_LEVELS",
    "OPEN_RECTIFICATION_STATES",
    "Complaint",
    "ComplaintState",
    "Evaluation",
    "EvaluationLevel",
    "RateLimit",
    "Rectification",
    "RectificationState",
]
