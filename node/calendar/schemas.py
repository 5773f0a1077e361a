"""What the calendar's API (node/api/calendar.py) and the administrator's calendar pages
(node/web/admin_calendar.py) both check: the days a calendar may speak of, and a local
override's body."""

from __future__ import annotations

import datetime as dt

from marshmallow import Schema, fields, validate

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog, before any field

FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)


class OverrideBodySchema(Schema):
    working = fields.Boolean(
        required=True, metadata={"description": "true: open on this day; false: closed"}
    )
    reason = fields.String(required=True, validate=validate.Length(1, 200))


__all__ = ["FIRST_DAY", "LAST_DAY", "OverrideBodySchema"]
