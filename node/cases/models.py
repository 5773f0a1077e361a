"""Cases and what hangs off them: history, notices, suspensions, joint tasks, fees."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from node.auth.models import User
from node.cases.states import CaseState
from node.catalog.models import Department, MaterialForm, Matter, Window
from node.models import Base
from schemas.runtime.database import Timestamp, UTCDateTime, enum_column, utcnow


class Channel(enum.StrEnum):
    WINDOW = "window"  # 窗口
    ONLINE = "online"  # 网上申报
    VILLAGE_AGENT = "village_agent"  # 村级代办
    DEPARTMENT_OFFICE = "department_office"  # 部门办公室（中心外，体外循环）


class SuspensionKind(enum.StrEnum):
    """Art. 45: time for these does not count toward the limit."""

    SITE_INSPECTION = "site_inspection"  # 现场勘查
    EXPERT_REVIEW = "expert_review"  # 专家论证
    TESTING = "testing"  # 检验检测
    HEARING = "hearing"  # 听证


class TaskState(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"


class PaymentPlace(enum.StrEnum):
    CENTER_BANK = "center_bank"  # 中心银行窗口（集中收费）
    ELSEWHERE = "elsewhere"  # 中心外（前厂后店）


class TongbanRole(enum.StrEnum):
    """A case's part in 通办 (node/cases/lateral.py): taken here for another center, or taken
    here as the competent center from another one."""

    RECEIVED = "received"  # 代收: received here, sent sideways to the competent center
    ACCEPTED = "accepted"  # 受理: arrived sideways; this center is competent and decides


class DeliveryMethod(enum.StrEnum):
    HALL = "hall"  # 窗口领取
    POST = "post"  # 邮寄送达, with the tracking number


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # the lists (node/listing.py): each filter's range in the order pages are read
        Index("ix_cases_state_deadline_id", "state", "deadline_on", "id"),
        Index("ix_cases_state_received_id", "state", "received_on", "id"),
        # a forwarded case is found by its origin (results and updates coming back)
        Index("ix_cases_origin", "origin_node_code", "origin_case_number"),
        Index("ix_cases_completed_on", "completed_on"),
        Index("ix_cases_accepted_on", "accepted_on"),
        # the daily roll-up's deemed approvals by decision date (node/metrics/daily.py)
        Index("ix_cases_decided_on", "decided_on"),
        Index("ix_cases_received_on_id", "received_on", "id"),
        # 两头受理: the same applicant and matter, probed by receipt date (channel included so
        # that the planner keeps to this index)
        Index(
            "ix_cases_two_headed", "applicant_id_number", "matter_id", "received_on", "channel"
        ),
        # the case search (node/cases/service.py search_conditions); the ID number is read from
        # ix_cases_two_headed, the number from its unique index
        Index("ix_cases_applicant_name", "applicant_name", "received_on", "id"),
        Index("ix_cases_applicant_phone", "applicant_phone", "received_on", "id"),
        # the cases changed since a period's tree was last built (node/verification/incremental)
        Index("ix_cases_updated_at", "updated_at"),
        # the forwarded cases by state (node/home.py: the navigation's badge of cases from
        # below still open here on every staff page, the clerk's results come back): few rows
        # in a range of the index instead of every open case read to test the column
        Index("ix_cases_state_received_from", "state", "received_from"),
        Index("ix_cases_state_forwarded_to", "state", "forwarded_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    # Argon2id of the query code (node/cases/query_codes.py; SHA-256 hex before 0013)
    query_code_hash: Mapped[str] = mapped_column(String(128))
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), index=True)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    state: Mapped[CaseState] = mapped_column(enum_column(CaseState))
    version: Mapped[int] = mapped_column(Integer)

    applicant_name: Mapped[str] = mapped_column(String(100))
    applicant_id_number: Mapped[str | None] = mapped_column(String(18))
    applicant_phone: Mapped[str | None] = mapped_column(String(20))
    # village agent (代办, Art. 29): who submitted for the applicant, with the consent recorded
    agent_name: Mapped[str | None] = mapped_column(String(100))
    agent_id_number: Mapped[str | None] = mapped_column(String(18))
    applicant_consent: Mapped[bool] = mapped_column(Boolean, default=False)

    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    received_at: Mapped[Timestamp]
    received_on: Mapped[dt.date] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    deemed_accepted: Mapped[bool] = mapped_column(Boolean, default=False)
    promised_days: Mapped[int] = mapped_column(Integer)
    # Art. 42 extension (延期), granted once: +10 working days, +15 for joint handling
    extension_days: Mapped[int] = mapped_column(Integer, default=0)
    extension_reason: Mapped[str | None] = mapped_column(Text)
    deadline_on: Mapped[dt.date | None] = mapped_column(Date)
    # 暂定: the deadline was counted over a year without national holiday data; nothing is
    # deemed on it until the year's schedule is loaded (node/cases/recompute.py)
    deadline_provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    decided_on: Mapped[dt.date | None] = mapped_column(Date)
    deemed_approved: Mapped[bool] = mapped_column(Boolean, default=False)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # the day the case left the open states (completed, rejected, withdrawn, forwarded)
    closed_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    # forwarding (上报, node/cases/forwarding.py): ``forwarded_on`` and ``forwarded_to`` are
    # set on a case that went up; a case received from below keeps the origin's node and
    # number (the key of the case across the federation), the node it came from and the
    # codes it passed through before this node (comma-separated, origin first)
    forwarded_on: Mapped[dt.date | None] = mapped_column(Date, index=True)
    forwarded_to: Mapped[str | None] = mapped_column(String(9))
    origin_node_code: Mapped[str | None] = mapped_column(String(9))
    origin_case_number: Mapped[str | None] = mapped_column(String(64))
    received_from: Mapped[str | None] = mapped_column(String(9))
    forward_chain: Mapped[str | None] = mapped_column(String(90))
    commitment: Mapped[str | None] = mapped_column(Text)  # 告知承诺书 text
    # a part of a 一件事 bundle case (node/bundles/): the bundle it belongs to
    bundle_case_id: Mapped[int | None] = mapped_column(ForeignKey("bundle_cases.id"), index=True)
    # 通办: this case's part and the division competence was decided by (户籍, address or the
    # matter's division); None for a case that never went sideways
    tongban_role: Mapped[TongbanRole | None] = mapped_column(enum_column(TongbanRole))
    tongban_division: Mapped[str | None] = mapped_column(String(9))
    # the number the case has at the center it was forwarded to, once that center answers
    forwarded_number: Mapped[str | None] = mapped_column(String(64))
    # 送达: at the hall, or by post with the tracking number
    delivery_method: Mapped[DeliveryMethod | None] = mapped_column(enum_column(DeliveryMethod))
    delivery_tracking: Mapped[str | None] = mapped_column(String(64))

    fee_due_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_waived_reason: Mapped[str | None] = mapped_column(Text)
    fee_paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    fee_paid_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    fee_paid_where: Mapped[PaymentPlace | None] = mapped_column(enum_column(PaymentPlace))
    notes: Mapped[str] = mapped_column(Text, default="")
    # the intake recorded what it received on paper (received_materials, even none of it):
    # False for the cases taken before node migration 0030 and for API clients that leave
    # received_materials out, whose missing materials are unknown (node/cases/materials.py)
    materials_recorded: Mapped[bool] = mapped_column(Boolean, default=False,
                                                     server_default=false())
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow, onupdate=utcnow)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy convention

    @property
    def counted_days(self) -> int:
        """The working days the clock allows: the promise plus any granted extension."""
        return self.promised_days + (self.extension_days or 0)

    matter: Mapped[Matter] = relationship()
    department: Mapped[Department] = relationship()
    window: Mapped[Window | None] = relationship()
    owner: Mapped[User | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", cascade="all"
    )
    notices: Mapped[list[SupplementNotice]] = relationship(
        back_populates="case", order_by="SupplementNotice.sequence", cascade="all"
    )
    suspensions: Mapped[list[Suspension]] = relationship(
        back_populates="case", order_by="Suspension.id", cascade="all"
    )
    tasks: Mapped[list[ReviewTask]] = relationship(
        back_populates="case", order_by="ReviewTask.id", cascade="all"
    )
    payments: Mapped[list[FeePayment]] = relationship(
        back_populates="case", order_by="FeePayment.id", cascade="all"
    )
    attachments: Mapped[list[CaseAttachment]] = relationship(
        back_populates="case", order_by="CaseAttachment.id", cascade="all"
    )
    documents: Mapped[list[IssuedDocument]] = relationship(
        back_populates="case", order_by="IssuedDocument.id", cascade="all"
    )
    received_materials: Mapped[list[ReceivedMaterial]] = relationship(
        back_populates="case", order_by="ReceivedMaterial.position", cascade="all"
    )

    @property
    def from_below(self) -> bool:
        """Received from a lower center: decided here, delivered by the origin."""
        return self.received_from is not None


class CaseEvent(Base):
    """One step of a case's history: who did what, when, in which role, and why."""

    __tablename__ = "case_events"
    # the case search's handler filter: the cases a username took a step on
    __table_args__ = (Index("ix_case_events_actor", "actor", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[Timestamp]
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=True)

    case: Mapped[Case] = relationship(back_populates="events")


class SupplementNotice(Base):
    """A one-time notice (一次性告知, Art. 32): every missing item at once, numbered."""

    __tablename__ = "supplement_notices"
    __table_args__ = (UniqueConstraint("case_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)  # 2+ = a repeated notice, counted
    items: Mapped[str] = mapped_column(Text)  # JSON list of {"material", "note"}
    repeat_reason: Mapped[str | None] = mapped_column(Text)
    issued_at: Mapped[Timestamp] = mapped_column(index=True)  # a day's roll-up reads by it
    issued_by: Mapped[str] = mapped_column(String(64))

    case: Mapped[Case] = relationship(back_populates="notices")


class Suspension(Base):
    """A special procedure (Art. 45) stopping the clock, with its written notice."""

    __tablename__ = "case_suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[SuspensionKind] = mapped_column(enum_column(SuspensionKind))
    start_on: Mapped[dt.date] = mapped_column(Date)
    end_on: Mapped[dt.date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    notice_number: Mapped[str] = mapped_column(String(40), unique=True)
    started_by: Mapped[str] = mapped_column(String(64))
    ended_by: Mapped[str | None] = mapped_column(String(64))

    case: Mapped[Case] = relationship(back_populates="suspensions")


class ReviewTask(Base):
    """One department's part of a joint (parallel) approval (联合办理 / 并联审批)."""

    __tablename__ = "review_tasks"
    __table_args__ = (UniqueConstraint("case_id", "department_id"),
                      # a department's queue: its pending tasks' cases (migration 0040; it
                      # took the place of the index on department_id alone)
                      Index("ix_review_tasks_department_state_case", "department_id", "state",
                            "case_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    state: Mapped[TaskState] = mapped_column(enum_column(TaskState))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="tasks")
    department: Mapped[Department] = relationship()


class FeePayment(Base):
    """One payment of a case's fee: where and when (a fee may be paid in parts)."""

    __tablename__ = "fee_payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    place: Mapped[PaymentPlace] = mapped_column(enum_column(PaymentPlace))
    paid_at: Mapped[Timestamp] = mapped_column(index=True)
    recorded_by: Mapped[str] = mapped_column(String(64))

    case: Mapped[Case] = relationship(back_populates="payments")


class ReceivedMaterial(Base):
    """A material the window received on paper at intake (收件): in what form, how many
    copies (node/cases/materials.py judges it against the matter's rule)."""

    __tablename__ = "case_materials"
    __table_args__ = (UniqueConstraint("case_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # the matter's material it is
    name: Mapped[str] = mapped_column(String(200))  # that material's name at intake
    form: Mapped[MaterialForm] = mapped_column(enum_column(MaterialForm))
    copies: Mapped[int] = mapped_column(Integer)

    case: Mapped[Case] = relationship(back_populates="received_materials")


class AttachmentRole(enum.StrEnum):
    MATERIAL = "material"  # 申请材料: what the applicant handed in, travels with a forward
    RESULT = "result"  # 结果文书: the decision's documents, travel back with the result


class CaseAttachment(Base):
    """A file of a case, content-addressed: between nodes only its hash, size and media type
    are signed; the bytes go through the hub as a blob and are checked against the hash.

    ``data`` is None while the bytes of a file received from another node are not fetched.
    """

    __tablename__ = "case_attachments"
    __table_args__ = (UniqueConstraint("case_id", "sha256", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    role: Mapped[AttachmentRole] = mapped_column(enum_column(AttachmentRole))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    data: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)
    fetched: Mapped[bool] = mapped_column(Boolean, default=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[Timestamp]
    # set once the hub holds the bytes (uploaded here, or found there)
    uploaded_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship(back_populates="attachments")


class DocumentKind(enum.StrEnum):
    """The printed documents of a case (node/cases/documents.py; docs/cases.md)."""

    RECEIPT = "receipt"  # 收件回执
    ACCEPTANCE = "acceptance"  # 受理通知书
    REFUSAL = "refusal"  # 不予受理决定书
    GRANT = "grant"  # 准予（行政许可）决定书
    DENIAL = "denial"  # 不予（行政许可）决定书
    SERVICE_RECEIPT = "service_receipt"  # 送达回证
    # 补正材料通知 (the one-time notice, 一次性告知书): recorded when the notice is issued,
    # numbered as the notice; a case may have several (a repeated notice is counted)
    SUPPLEMENT = "supplement"


class IssuedDocument(Base):
    """A printed document given on a case: numbered once, when first printed; printing it
    again is a reprint (补打), counted."""

    __tablename__ = "case_documents"
    # one of each kind per case (two first prints racing: the loser's insert fails and it
    # becomes a reprint), except the one-time notice: one per notice
    __table_args__ = (Index("uq_case_documents_case_id_kind", "case_id", "kind", unique=True,
                            sqlite_where=text("kind != 'supplement'"),
                            postgresql_where=text("kind != 'supplement'")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind))
    number: Mapped[str] = mapped_column(String(40), unique=True)
    issued_at: Mapped[Timestamp]
    issued_by: Mapped[str] = mapped_column(String(64))
    reprints: Mapped[int] = mapped_column(Integer, default=0)
    last_printed_at: Mapped[Timestamp]
    last_printed_by: Mapped[str] = mapped_column(String(64))

    case: Mapped[Case] = relationship(back_populates="documents")
