"""What each action on a case takes: its arguments as marshmallow schemas, read by the action
table (:mod:`node.cases.actions`) for the API's bodies and the pages' forms alike, each loaded
as its typed input (a frozen dataclass: ``INPUT``), which the action's call reads.

Every step carries the case ``version`` the caller read, so that a step on a stale case is a
409 instead of a change nobody saw.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field
from node.cases.models import DeliveryMethod, PaymentPlace, SuspensionKind
from schemas.i18n import _

REASON = validate.Length(max=2000)

# -- the typed inputs -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Step:
    """A step that takes nothing but the case version the caller read."""

    version: int | None = None


@dataclass(frozen=True, kw_only=True)
class Reasoned(Step):
    reason: str


@dataclass(frozen=True, kw_only=True)
class MaybeReasoned(Step):
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Extension(Reasoned):
    days: int


@dataclass(frozen=True, kw_only=True)
class NoticeRequest(Step):
    material_positions: list[int] = field(default_factory=list)
    other_items: list[str] = field(default_factory=list)
    repeat_reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class Commitment(Step):
    commitment: str


@dataclass(frozen=True, kw_only=True)
class SuspensionRequest(Reasoned):
    kind: SuspensionKind


@dataclass(frozen=True, kw_only=True)
class Payment(Step):
    amount_fen: int
    where: PaymentPlace


@dataclass(frozen=True, kw_only=True)
class HandOver(Reasoned):
    to: str


@dataclass(frozen=True, kw_only=True)
class ForwardRequest(Step):
    to: str | None = None
    note: str | None = None
    division: str | None = None


@dataclass(frozen=True, kw_only=True)
class Delivery(Step):
    method: DeliveryMethod = DeliveryMethod.HALL
    tracking_number: str | None = None


# -- their schemas --------------------------------------------------------------------------


class Versioned(Schema):
    INPUT: ClassVar[type[Step]] = Step

    version = fields.Integer(
        strict=True,
        load_default=None,
        allow_none=True,
        metadata={"description": "The case version you read; a stale one is a 409"},
    )

    @post_load
    def _typed(self, data: dict[str, Any], **_kwargs: Any) -> Step:
        return self.INPUT(**data)


class ReasonArgs(Versioned):
    INPUT: ClassVar[type[Step]] = Reasoned
    reason = fields.String(required=True, validate=validate.Length(1, 2000))


class OptionalReasonArgs(Versioned):
    INPUT: ClassVar[type[Step]] = MaybeReasoned
    reason = fields.String(load_default=None, allow_none=True, validate=REASON)


class ExtendArgs(ReasonArgs):
    INPUT: ClassVar[type[Step]] = Extension
    days = fields.Integer(strict=True, required=True)


class NoticeArgs(Versioned):
    INPUT: ClassVar[type[Step]] = NoticeRequest
    material_positions = fields.List(fields.Integer(strict=True), load_default=list, metadata={
        "description": "the matter's materials to list (the case's missing_materials are "
                       "those it has not received)"})
    other_items = fields.List(fields.String(validate=validate.Length(1, 500)), load_default=list)
    repeat_reason = fields.String(load_default=None, allow_none=True, validate=REASON)


class CommitArgs(Versioned):
    INPUT: ClassVar[type[Step]] = Commitment
    commitment = fields.String(required=True, validate=validate.Length(1, 5000))


class SuspendArgs(ReasonArgs):
    INPUT: ClassVar[type[Step]] = SuspensionRequest
    kind = fields.Enum(SuspensionKind, by_value=True, required=True)


class PaymentArgs(Versioned):
    INPUT: ClassVar[type[Step]] = Payment
    amount_fen = fields.Integer(strict=True, required=True)
    where = fields.Enum(PaymentPlace, by_value=True, required=True)


class HandOverArgs(ReasonArgs):
    INPUT: ClassVar[type[Step]] = HandOver
    to = fields.String(required=True, validate=validate.Length(1, 64))


CENTER_CODE = validate.Regexp(r"^([0-9]{6}|[0-9]{9})$",
                              error="a 6-digit or 9-digit division code")


class ForwardArgs(Versioned):
    INPUT: ClassVar[type[Step]] = ForwardRequest
    to = fields.String(load_default=None, allow_none=True, validate=CENTER_CODE,
                       metadata={"description": "The center to send it to: one above (上报; "
                                 "default: the parent), or for a 通办 matter the competent "
                                 "center elsewhere in the province (代收转办)"})
    division = fields.String(load_default=None, allow_none=True, validate=CENTER_CODE,
                             metadata={"description": "通办: the division that decides "
                                       "competence (the applicant's address, or the matter's "
                                       "object); the 户籍 rule takes it from the ID number"})
    note = fields.String(load_default=None, allow_none=True, validate=REASON)


class DeliverArgs(Versioned):
    INPUT: ClassVar[type[Step]] = Delivery
    method = fields.Enum(DeliveryMethod, by_value=True, load_default=DeliveryMethod.HALL,
                         metadata={"description": "``hall`` (窗口领取) or ``post`` (邮寄)"})
    tracking_number = fields.String(load_default=None, allow_none=True,
                                    validate=validate.Regexp(r"^[0-9A-Za-z-]{6,64}$",
                                                             error="6 to 64 letters and digits"),
                                    metadata={"description": "邮寄: the post's tracking "
                                              "number (required with ``post``)"})

    @validates_schema
    def _tracked(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("method") is DeliveryMethod.POST and not data.get("tracking_number"):
            raise ValidationError(_("邮寄送达须填写邮件单号"), "tracking_number")


class PaymentForm(Schema):
    """The page's payment form: the amount typed in 元 (``20`` or ``20.50``), loaded as the
    API's ``amount_fen``."""

    version = fields.Integer(strict=True, load_default=None, allow_none=True)
    amount_yuan = fields.String(required=True)
    where = fields.Enum(PaymentPlace, by_value=True, required=True)

    @post_load
    def _in_fen(self, data: dict[str, Any], **_kwargs: Any) -> Payment:
        text = data.pop("amount_yuan")
        try:
            amount = Decimal(text.strip())
        except InvalidOperation as exc:
            raise ValidationError(_("请输入金额（元），例如 20 或 20.50"), "amount_yuan") from exc
        if amount <= 0 or amount != amount.quantize(Decimal("0.01")):
            raise ValidationError(_("金额须大于 0，最多两位小数"), "amount_yuan")
        return Payment(amount_fen=int(amount * 100), **data)
