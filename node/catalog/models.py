"""Catalog entities (DOMAIN.md, "The service catalog")."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from node.models import Base
from schemas.divisions import Level
from schemas.message_parts import DEFAULT_FILE_TYPES, FILE_TYPES
from schemas.metrics import POWERS
from schemas.runtime.database import Timestamp, UTCDateTime, enum_column, utcnow


class MatterCategory(enum.StrEnum):
    ADMINISTRATIVE_LICENCE = "administrative_licence"  # 行政许可
    NON_LICENCE_APPROVAL = "non_licence_approval"  # 非行政许可审批
    PUBLIC_SERVICE = "public_service"  # 公共服务


class HandlingType(enum.StrEnum):
    IMMEDIATE = "immediate"  # 即办件
    PROMISED = "promised"  # 承诺件


class TongbanScope(enum.StrEnum):
    """Where a matter may be received for the center competent for it (通办事项)."""

    NONE = "none"  # only at the competent center
    PROVINCE = "province"  # 全省通办: at any center of the province (代收代办)


class Competence(enum.StrEnum):
    """Which center decides a 通办 matter: the one at the matter's handling level over …"""

    HOUSEHOLD = "household"  # 户籍地: the applicant's household registration division
    ADDRESS = "address"  # 住所地: the applicant's address division
    MATTER = "matter"  # 事项所在地: the division of the matter's object (不动产所在地 …)


class StaffType(enum.StrEnum):
    CIVIL_SERVANT = "civil_servant"  # 公务员
    PUBLIC_INSTITUTION = "public_institution"  # 事业单位
    TEMPORARY = "temporary"  # 临时工


class MaterialForm(enum.StrEnum):
    ORIGINAL = "original"  # 原件
    COPY = "copy"  # 复印件
    ORIGINAL_AND_COPY = "original_and_copy"  # 原件及复印件
    ELECTRONIC = "electronic"  # 电子材料


window_departments = Table(
    "window_departments",
    Base.metadata,
    Column("window_id", ForeignKey("windows.id", ondelete="CASCADE"), primary_key=True),
    Column("department_id", ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
)


# the holding department of matters adopted from the standard catalog and not yet assigned
# (node/catalog/publishing.py): staff see it, citizens never do
STANDARD_DEPARTMENT_CODE = "STD"


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)

    @property
    def is_placeholder(self) -> bool:
        """The standard catalog's holding department (标准目录事项（待分配）)."""
        return self.code == STANDARD_DEPARTMENT_CODE


class Window(Base):
    __tablename__ = "windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(200), default="")
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)

    departments: Mapped[list[Department]] = relationship(
        secondary=window_departments, order_by=Department.code
    )


class StaffMember(Base):
    """A person working at a window (a record for staffing figures, not a login)."""

    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    staff_type: Mapped[StaffType] = mapped_column(enum_column(StaffType))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), index=True)
    position: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)

    department: Mapped[Department | None] = relationship()
    window: Mapped[Window | None] = relationship()


class Matter(Base):
    """One kind of application (事项) with every disclosure field of 八公开."""

    __tablename__ = "matters"
    __table_args__ = (
        CheckConstraint("promised_limit_days <= legal_limit_days", name="promised_within_legal"),
        CheckConstraint("promised_limit_days >= 0", name="promised_not_negative"),
        CheckConstraint("fee_amount_fen >= 0", name="fee_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    category: Mapped[MatterCategory] = mapped_column(enum_column(MatterCategory))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    window_id: Mapped[int | None] = mapped_column(ForeignKey("windows.id"), index=True)
    handling_level: Mapped[Level] = mapped_column(enum_column(Level))
    handling_type: Mapped[HandlingType] = mapped_column(enum_column(HandlingType))
    notify_and_commit: Mapped[bool] = mapped_column(Boolean, default=False)
    deemed_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    legal_limit_days: Mapped[int] = mapped_column(Integer)
    promised_limit_days: Mapped[int] = mapped_column(Integer)
    should_enter: Mapped[bool] = mapped_column(Boolean, default=True)
    entered: Mapped[bool] = mapped_column(Boolean, default=False)
    # 网上可办: the public guide takes applications online (网上可办率, docs/metrics.md)
    online: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # 八公开 disclosure fields
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    procedure: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    fee_basis: Mapped[str] = mapped_column(Text, default="")
    fee_standard: Mapped[str] = mapped_column(Text, default="")
    fee_amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    complaint_channel: Mapped[str] = mapped_column(Text, default="")
    window_authority: Mapped[str] = mapped_column(Text, default="")
    # the words a citizen may search for it by (营业执照 for 个体工商户设立登记), one a line
    keyword_text: Mapped[str] = mapped_column("keywords", Text, default="", server_default="")
    # the guide's practical fields (办理地点, 办公时间, 咨询电话, 监督投诉电话), the matter's own:
    # an empty 办理地点 is shown as the window's name and location
    service_address: Mapped[str] = mapped_column(Text, default="", server_default="")
    office_hours: Mapped[str] = mapped_column(Text, default="", server_default="")
    enquiry_phone: Mapped[str] = mapped_column(Text, default="", server_default="")
    complaint_phone: Mapped[str] = mapped_column(Text, default="", server_default="")
    # 通办 (node/cases/lateral.py): received elsewhere in the province for the competent center
    tongban_scope: Mapped[TongbanScope] = mapped_column(
        enum_column(TongbanScope), default=TongbanScope.NONE, server_default="none")
    competence: Mapped[Competence] = mapped_column(
        enum_column(Competence), default=Competence.MATTER, server_default="matter")
    # the seven window powers (授权)
    power_accept: Mapped[bool] = mapped_column(Boolean, default=False)
    power_review: Mapped[bool] = mapped_column(Boolean, default=False)
    power_coordinate: Mapped[bool] = mapped_column(Boolean, default=False)
    power_deliver: Mapped[bool] = mapped_column(Boolean, default=False)
    power_litigate: Mapped[bool] = mapped_column(Boolean, default=False)
    power_issue: Mapped[bool] = mapped_column(Boolean, default=False)
    power_approve: Mapped[bool] = mapped_column(Boolean, default=False)
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow, onupdate=utcnow)

    department: Mapped[Department] = relationship()
    window: Mapped[Window | None] = relationship()
    materials: Mapped[list[MatterMaterial]] = relationship(
        back_populates="matter",
        order_by="MatterMaterial.position",
        cascade="all, delete-orphan",
    )

    @property
    def powers(self) -> dict[str, bool]:
        return {power: getattr(self, f"power_{power}") for power in POWERS}

    @property
    def keywords(self) -> list[str]:
        """The search keywords, in the order given."""
        return [word for word in (self.keyword_text or "").split("\n") if word]

    @keywords.setter
    def keywords(self, words: list[str]) -> None:
        self.keyword_text = "\n".join(normal_keywords(words))


def normal_keywords(words: list[str]) -> list[str]:
    """Keywords trimmed, blanks dropped, each once, in the order given."""
    seen: list[str] = []
    for word in words:
        text = " ".join(str(word).split())
        if text and text not in seen:
            seen.append(text)
    return seen


class MatterMaterial(Base):
    """One item of a matter's required materials list (申报材料)."""

    __tablename__ = "matter_materials"
    __table_args__ = (
        UniqueConstraint("matter_id", "position"),
        CheckConstraint("copies >= 1", name="copies_positive"),
        CheckConstraint("max_file_bytes IS NULL OR max_file_bytes > 0",
                        name="max_file_bytes_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    required: Mapped[bool] = mapped_column(Boolean, default=True)
    form: Mapped[MaterialForm] = mapped_column(enum_column(MaterialForm))
    copies: Mapped[int] = mapped_column(Integer, default=1)
    note: Mapped[str] = mapped_column(Text, default="")
    # its rule for files (node/cases/materials.py): whether a file may stand for it, the kinds
    # of file (FILE_TYPES, comma-separated), and each file's limit (None: the node's)
    electronic_accepted: Mapped[bool] = mapped_column(Boolean, default=True)
    file_type_text: Mapped[str] = mapped_column(
        "file_types", String(64), default=",".join(DEFAULT_FILE_TYPES),
        server_default=",".join(DEFAULT_FILE_TYPES))
    max_file_bytes: Mapped[int | None] = mapped_column(BigInteger)

    matter: Mapped[Matter] = relationship(back_populates="materials")

    @property
    def file_types(self) -> list[str]:
        """The kinds of file it may be uploaded as, in FILE_TYPES' order."""
        given = set((self.file_type_text or "").split(","))
        return [kind for kind in FILE_TYPES if kind in given]

    @file_types.setter
    def file_types(self, kinds: list[str] | tuple[str, ...]) -> None:
        self.file_type_text = ",".join(kind for kind in FILE_TYPES if kind in set(kinds))


class Bundle(Base):
    """一件事: matters people need together, applied for once (高效办成一件事).

    Defined by the province and published with its standard catalog; a descendant keeps the
    adopted definition as published (node/catalog/bundles.py).  The merged form, the
    materials deduplicated across the matters and the departments involved are derived from
    the items and the node's own matters, never stored twice.
    """

    __tablename__ = "bundles"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # the province that published it; None for one defined here
    published_by: Mapped[str | None] = mapped_column(String(9))
    retired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[Timestamp] = mapped_column(default=utcnow)
    updated_at: Mapped[Timestamp] = mapped_column(default=utcnow, onupdate=utcnow)

    items: Mapped[list[BundleItem]] = relationship(
        back_populates="bundle", order_by="BundleItem.position", cascade="all, delete-orphan"
    )


class BundleItem(Base):
    """One matter of a bundle (by the matter's code) with the fields its form asks for
    (JSON list of ``{"key", "label"}``)."""

    __tablename__ = "bundle_items"
    __table_args__ = (
        UniqueConstraint("bundle_id", "position"),
        UniqueConstraint("bundle_id", "matter_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    bundle_id: Mapped[int] = mapped_column(ForeignKey("bundles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    matter_code: Mapped[str] = mapped_column(String(64))
    form_fields: Mapped[str] = mapped_column(Text, default="[]")

    bundle: Mapped[Bundle] = relationship(back_populates="items")
