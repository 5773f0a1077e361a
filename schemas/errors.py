"""The JSON error document every tongban API returns (DESIGN.md, "Errors and bad input")."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields

from schemas.i18n import _


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "Stable machine-readable code"})
    message = fields.String(required=True, metadata={"description": "Human-readable explanation"})
    details = fields.Dict(metadata={"description": "Structured context, e.g. bad fields"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


def error_document(
    code: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Build ``{"error": {"code", "message", "details"}}``."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


class TongbanError(Exception):
    """Base of every domain error; carries no HTTP, only a code and details.

    Each application maps subclasses to HTTP statuses in one place.
    """

    code = "error"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ValidationFailed(TongbanError):
    """Input broke a rule; ``details["fields"]`` maps each bad field to its reasons.

    (A bulk import reports ``details["rows"]`` instead: one entry per bad row and column.)
    """

    code = "validation_failed"

    def __init__(self, fields: dict[str, Any], message: str | None = None) -> None:
        super().__init__(message or _("The input is not valid."), {"fields": fields})


class NotFound(TongbanError):
    code = "not_found"


class Conflict(TongbanError):
    code = "conflict"


class Unauthorized(TongbanError):
    code = "unauthorized"


class Forbidden(TongbanError):
    code = "forbidden"


class TooManyAttempts(TongbanError):
    code = "too_many_attempts"

    def __init__(self, message: str, retry_after_seconds: int) -> None:
        super().__init__(message, {"retry_after_seconds": retry_after_seconds})
        self.retry_after_seconds = retry_after_seconds
