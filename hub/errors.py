"""The hub's domain errors and the one place that maps them to HTTP statuses.

Statuses of the shared errors (validation 422, unauthorized 401, forbidden 403, not found 404)
come from schemas.runtime.webapp; this module adds the hub's own.
"""

from __future__ import annotations

import logging

from flask import Flask, Response
from sqlalchemy.exc import TimeoutError as PoolTimeout

from hub.registry.service import TrustRootMissing
from schemas.errors import Forbidden, TongbanError, ValidationFailed
from schemas.runtime.webapp import error_response


class BatchTooLarge(TongbanError):
    """More envelopes in one push than the hub takes (``max_batch``)."""

    code = "batch_too_large"


class BlobTooLarge(TongbanError):
    """A blob larger than ``max_blob_bytes``."""

    code = "blob_too_large"


class HashMismatch(ValidationFailed):
    """A blob whose bytes do not hash to its name."""

    code = "hash_mismatch"

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            {"sha256": [f"the bytes hash to {actual}"]},
            f"The uploaded bytes hash to {actual}, not {expected}.",
        )


class BeyondMailbox(ValidationFailed):
    """An acknowledgement of a cursor the node's mailbox has not reached."""

    code = "beyond_mailbox"


class OutsideSubtree(Forbidden):
    """A node asking for data of a node outside its own subtree."""

    code = "outside_subtree"


HUB_ERROR_STATUS: dict[type[TongbanError], int] = {
    TrustRootMissing: 503,
    BatchTooLarge: 413,
    BlobTooLarge: 413,
}


log = logging.getLogger("tongban.hub")


def init_errors(app: Flask) -> None:
    """Answer the hub's own errors with their statuses, in the shape of DESIGN.md."""

    def handle(exc: TongbanError) -> Response:
        status = next(s for cls, s in HUB_ERROR_STATUS.items() if isinstance(exc, cls))
        return error_response(status, exc.code, exc.message, exc.details)

    for error_class in HUB_ERROR_STATUS:
        app.register_error_handler(error_class, handle)

    def busy(exc: PoolTimeout) -> Response:
        # every database connection of this process stayed busy for the pool's timeout: an
        # overload, not a fault of the request; a node retries with backoff (503 + Retry-After)
        log.warning("hub overloaded: no database connection within the pool timeout: %s", exc)
        response = error_response(503, "hub_busy", "The hub is overloaded; try again shortly.",
                                  {})
        response.headers["Retry-After"] = "5"
        return response

    app.register_error_handler(PoolTimeout, busy)
