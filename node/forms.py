"""marshmallow schemas the node API and the pages share: paging arguments and pages, users,
matter searches (a feature's own schemas live in its package, e.g. node/cases/schemas.py)."""

from __future__ import annotations

import functools
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field
from node.auth.inputs import NewUser, UserChanges
from node.auth.permissions import Role
from node.catalog.models import (
    MatterCategory,
)
from node.catalog.schemas import MatterSchema, Ref
from schemas.divisions import Level
from schemas.i18n import _


def _no_page_numbers(_value: Any) -> None:
    """A client still sending ``page`` would get the first page again and again: say why."""
    raise ValidationError(_("this list is paged by cursor: pass the answer's next_cursor as "
                            "?cursor= (page numbers are no longer taken)"))


class CursorArgs(Schema):
    """Keyset paging (node/listing.py): no cursor for the first page, then each answer's
    ``next_cursor`` as ``cursor`` for the next one, or its ``prev_cursor`` as ``before`` for
    the one before."""

    cursor = fields.String(validate=validate.Length(1, 200), metadata={
        "description": "the next_cursor of the page before; absent for the first page"})
    before = fields.String(validate=validate.Length(1, 200), metadata={
        "description": "the prev_cursor of the page after: the page before it (not with "
                       "cursor)"})
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    page = fields.Raw(load_only=True, validate=_no_page_numbers, metadata={
        "description": "refused: these lists are paged by cursor (docs/api.md)"})
    page_size = fields.Raw(load_only=True, validate=_no_page_numbers, metadata={
        "description": "refused: the page's size is per_page (docs/api.md)"})


class ListArgs(Schema):
    include_retired = fields.Boolean(load_default=False)


@functools.cache  # one page schema per item schema, so OpenAPI names stay unique
def cursor_page_of(item_schema: type[Schema]) -> type[Schema]:
    """A keyset page: the items, the next cursor, and the total counted up to a cap."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "next_cursor": fields.String(allow_none=True, metadata={
                "description": "pass as ?cursor= for the next page; null on the last page"}),
            "prev_cursor": fields.String(allow_none=True, metadata={
                "description": "pass as ?before= for the page before; null on the first "
                               "page"}),
            "total": fields.Integer(metadata={
                "description": "how many match: exact when total_exact, else a lower bound "
                               "(more than this many)"}),
            "total_exact": fields.Boolean(),
            "per_page": fields.Integer(),
        },
        name=f"{item_schema.__name__.removesuffix('Schema')}CursorPage",
    )


def cursor_page(page: Any, items: list[Any], per_page: int) -> dict[str, Any]:
    return {"items": items, "next_cursor": page.next_cursor, "prev_cursor": page.prev_cursor,
            "total": page.total, "total_exact": page.total_exact, "per_page": per_page}


# -- auth and users -------------------------------------------------------------------------


class LoginSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 256), load_only=True)


class UserSchema(Schema):
    username = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[a-z0-9][a-z0-9_.\-]{1,63}$", error="2-64 lower-case letters, digits, . _ -"
        ),
    )
    display_name = fields.String(validate=validate.Length(1, 100))
    role = fields.Enum(Role, by_value=True, required=True)
    department_code = fields.String(allow_none=True, load_only=True)
    staff_code = fields.String(allow_none=True, load_only=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=256))
    active = fields.Boolean(dump_only=True)
    department = fields.Nested(Ref, dump_only=True, allow_none=True)
    last_login_at = fields.DateTime(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


class NewUserSchema(UserSchema):
    """A staff account to create, loaded as the service's :class:`NewUser`."""

    @post_load
    def make_new(self, data: dict[str, Any], **_: Any) -> NewUser:
        return NewUser.of(data)


class UserPatchSchema(Schema):
    display_name = fields.String(validate=validate.Length(1, 100))
    role = fields.Enum(Role, by_value=True)
    department_code = fields.String(allow_none=True)
    staff_code = fields.String(allow_none=True)
    password = fields.String(validate=validate.Length(max=256))
    active = fields.Boolean()

    @post_load
    def make_changes(self, data: dict[str, Any], **_: Any) -> UserChanges:
        return UserChanges.of(data)


class AccountFailuresSchema(Schema):
    username = fields.Function(lambda a: a.user.username)
    display_name = fields.Function(lambda a: a.user.display_name)
    count = fields.Integer()
    last_at = fields.DateTime()


class LoginNoticeSchema(Schema):
    own = fields.Integer(metadata={
        "description": "failed logins on this account since its previous login"})
    accounts = fields.List(fields.Nested(AccountFailuresSchema), metadata={
        "description": "administrators: other accounts with failed logins since then"})
    unknown_usernames = fields.Integer(metadata={
        "description": "administrators: failed logins with usernames nobody has"})


class TokenSchema(Schema):
    token = fields.String()
    token_type = fields.String(dump_default="Bearer")
    expires_at = fields.DateTime()
    user = fields.Nested(UserSchema)
    failed_logins = fields.Nested(LoginNoticeSchema)


# -- catalog --------------------------------------------------------------------------------


class StaffListArgs(Schema):
    include_inactive = fields.Boolean(load_default=False)


class MatterSearchArgs(CursorArgs):
    q = fields.String(validate=validate.Length(max=100))
    department = fields.String(validate=validate.Length(max=32))
    category = fields.Enum(MatterCategory, by_value=True)
    handling_level = fields.Enum(Level, by_value=True)


class MatterAdminSearchArgs(MatterSearchArgs):
    include_retired = fields.Boolean(load_default=False)


class GuideMatterSchema(MatterSchema):
    """A matter as the public service guide (办事指南) shows it: a matter still in the
    standard catalog's holding department (not yet assigned) shows no department."""

    class Meta:
        exclude = ("retired_at",)

    department = fields.Method(  # type: ignore[assignment]  # a Ref, or none
        "_department", dump_only=True, allow_none=True)

    def _department(self, matter: Any) -> dict[str, str] | None:
        department = matter.department
        if department is None or department.is_placeholder:
            return None
        return {"code": department.code, "name": department.name}
