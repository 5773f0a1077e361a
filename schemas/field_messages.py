"""marshmallow's own validation messages from the message catalog (schemas/i18n.py): a
missing field, a wrong type, a value out of range say it in the reader's language, like
every other message. Imported for its effect by the web layer (schemas/runtime/webapp.py)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from schemas.i18n import _

_FIELDS: dict[type[fields.Field[Any]], dict[str, str]] = {
    fields.Field: {"required": _("Missing data for required field."),
                   "null": _("Field may not be null."),
                   "validator_failed": _("Invalid value.")},
    fields.Nested: {"type": _("Invalid type.")},
    fields.List: {"invalid": _("Not a valid list.")},
    fields.Tuple: {"invalid": _("Not a valid tuple.")},
    fields.String: {"invalid": _("Not a valid string."),
                    "invalid_utf8": _("Not a valid utf-8 string.")},
    fields.UUID: {"invalid_uuid": _("Not a valid UUID.")},
    fields.Number: {"invalid": _("Not a valid number."), "too_large": _("Number too large.")},
    fields.Integer: {"invalid": _("Not a valid integer.")},
    fields.Float: {"special": _("Special numeric values (nan or infinity) are not permitted.")},
    fields.Decimal: {
        "special": _("Special numeric values (nan or infinity) are not permitted.")},
    fields.Boolean: {"invalid": _("Not a valid boolean.")},
    fields.DateTime: {"invalid": _("Not a valid date and time."),
                      "invalid_awareness": _(
                          "Not a valid date and time: its time zone is missing or not wanted."),
                      "format": _('"{input}" cannot be formatted as a date and time.')},
    fields.Time: {"invalid": _("Not a valid time."),
                  "format": _('"{input}" cannot be formatted as a time.')},
    fields.Date: {"invalid": _("Not a valid date."),
                  "format": _('"{input}" cannot be formatted as a date.')},
    fields.TimeDelta: {"invalid": _("Not a valid period of time."),
                       "format": _("{input!r} cannot be formatted as a timedelta.")},
    fields.Mapping: {"invalid": _("Not a valid mapping type.")},
    fields.Url: {"invalid": _("Not a valid URL.")},
    fields.Email: {"invalid": _("Not a valid email address.")},
    fields.IP: {"invalid_ip": _("Not a valid IP address.")},
    fields.Enum: {"unknown": _("Must be one of: {choices}.")},
}

_VALIDATORS: dict[type, dict[str, str]] = {
    validate.URL: {"default_message": _("Not a valid URL.")},
    validate.Email: {"default_message": _("Not a valid email address.")},
    validate.Range: {"message_min": _("Must be {min_op} {{min}}."),
                     "message_max": _("Must be {max_op} {{max}}."),
                     "message_all": _("Must be {min_op} {{min}} and {max_op} {{max}}."),
                     "message_gte": _("greater than or equal to"),
                     "message_gt": _("greater than"),
                     "message_lte": _("less than or equal to"),
                     "message_lt": _("less than")},
    validate.Length: {"message_min": _("Shorter than minimum length {min}."),
                      "message_max": _("Longer than maximum length {max}."),
                      "message_all": _("Length must be between {min} and {max}."),
                      "message_equal": _("Length must be {equal}.")},
    validate.Equal: {"default_message": _("Must be equal to {other}.")},
    validate.Regexp: {"default_message": _("String does not match expected pattern.")},
    validate.Predicate: {"default_message": _("Invalid input.")},
    validate.NoneOf: {"default_message": _("Invalid input.")},
    validate.OneOf: {"default_message": _("Must be one of: {choices}.")},
    validate.ContainsOnly: {
        "default_message": _("One or more of the choices you made was not in: {choices}.")},
    validate.ContainsNoneOf: {
        "default_message": _("One or more of the choices you made was in: {values}.")},
}

for _field, _messages in _FIELDS.items():
    _field.default_error_messages = {**_field.default_error_messages, **_messages}
for _validator, _messages in _VALIDATORS.items():
    for _name, _message in _messages.items():
        setattr(_validator, _name, _message)
Schema._default_error_messages = {
    **Schema._default_error_messages,
    "type": _("Invalid input type."), "unknown": _("Unknown field.")}
