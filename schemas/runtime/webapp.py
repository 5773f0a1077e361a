"""Web plumbing shared by the node and hub applications.

One place maps every error to the JSON document of DESIGN.md, gives each request an id and
one database transaction, caps payload sizes, serves ``/healthz`` and the OpenAPI document
with a vendored API docs page.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask
import flask_smorest
from flask import Flask, Response, current_app, g, has_request_context, jsonify, request
from flask_babel import Babel, get_locale
from markupsafe import escape
from marshmallow import Schema
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import schemas.field_messages  # noqa: F401 - marshmallow's messages from the catalog
from schemas.errors import (
    Conflict,
    ErrorSchema,
    Forbidden,
    NotFound,
    TongbanError,
    TooManyAttempts,
    Unauthorized,
    ValidationFailed,
    error_document,
)
from schemas.i18n import DEFAULT_LOCALE, TRANSLATIONS, _, localize, set_locale_source
from schemas.runtime.database import Database, mark_writing
from schemas.runtime.sessions import MessageSessionInterface

log = logging.getLogger("tongban.web")

STATIC_DIR = Path(__file__).parent / "static"

# Every answer of node and hub carries these (deploy/nginx/security-headers.conf sends the
# same for what nginx answers itself).  Scripts and styles come only from this site's own
# files, never inline (an injected <script> or on…= attribute does not run); no page may be
# framed; the browser never guesses a type; a link to elsewhere carries no Referer.
CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

ERROR_STATUS: dict[type[TongbanError], int] = {
    ValidationFailed: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    TooManyAttempts: 429,
}

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
}


# what each HTTP error says (werkzeug's own descriptions are English only)
_HTTP_MESSAGES = {
    400: _("The request is not valid."),
    401: _("Log in first."),
    403: _("You may not do this."),
    404: _("Nothing is found at this address."),
    405: _("This address does not take this method."),
    409: _("The request conflicts with the data stored."),
    413: _("The request body is too large."),
    415: _("This type of body is not accepted here."),
    422: _("The input is not valid."),
    429: _("Too many requests; try again later."),
}


# the HTTP errors an app with pages shows as a page (413: a form's files beyond the limit)
PAGE_ERRORS = frozenset({404, 405, 413})


def request_locale() -> str:
    """The request's language: English when its ``Accept-Language`` prefers English to
    Chinese, Chinese (``zh_Hans_CN``) otherwise."""
    return "en" if request.accept_languages.best_match(["zh", "en"]) == "en" else DEFAULT_LOCALE


def _current_locale() -> str:
    return str(get_locale()) if has_request_context() else DEFAULT_LOCALE


def error_response(status: int, code: str, message: str,
                   details: dict[str, Any] | None = None) -> Response:
    """The error document, its message and details said in the request's language."""
    response = jsonify(localize(error_document(code, message, details)))
    response.status_code = status
    return response


def wants_page() -> bool:
    """Does this request want an HTML page rather than JSON?  Never under ``/api/`` (the API
    answers JSON whatever is asked); elsewhere when the client prefers ``text/html`` to JSON
    (a browser does; curl's ``*/*`` and a client without ``Accept`` do not)."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return False
    return request.accept_mimetypes.best_match(
        ["application/json", "text/html"]) == "text/html"


class Api(flask_smorest.Api):
    """flask-smorest's Api answering every HTTP error in tongban's error shape.

    An app with pages sets ``error_page``: a 4xx HTTP error (an unknown URL, a method a
    page does not take) outside ``/api/`` is then answered with that page when the client
    wants HTML (``wants_page``); the API's JSON errors never change.
    """

    ERROR_SCHEMA = ErrorSchema
    error_page: Callable[[int], Response] | None = None

    def _openapi_swagger_ui(self) -> Response:
        """Swagger UI without inline script (the Content-Security-Policy allows none): the
        page names the document in a data attribute, a static file starts the UI."""
        vendor = self._swagger_ui_url
        spec_url = flask.url_for(f"{self._make_doc_blueprint_name()}.openapi_json")
        page = (
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(self.spec.title)}</title>"
            f'<link href="{escape(vendor)}swagger-ui.css" rel="stylesheet"></head><body>'
            f'<div id="swagger-ui-container" data-spec-url="{escape(spec_url)}"></div>'
            f'<script src="{escape(vendor)}swagger-ui-standalone-preset.js"></script>'
            f'<script src="{escape(vendor)}swagger-ui-bundle.js"></script>'
            f'<script src="{escape(vendor)}tongban-docs.js"></script></body></html>\n'
        )
        return Response(page, mimetype="text/html")

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        if status >= 500:
            return _internal_error(getattr(error, "original_exception", None) or error)
        if self.error_page is not None and status in PAGE_ERRORS and wants_page():
            return self.error_page(status)
        data = getattr(error, "data", None) or {}
        messages = data.get("errors") or data.get("messages")
        code = _HTTP_CODES.get(status, "http_error")
        message = data.get("message") or _HTTP_MESSAGES.get(status) or error.description

        details: dict[str, Any] = {}
        if status == 400 and messages and "json" in messages:
            code, message = "malformed_json", _("The request body is not valid JSON.")
        elif status == 422 and messages:
            # webargs nests messages by location: {"json": {"field": [...]}}
            location, fields = next(iter(messages.items()))
            details = {"location": location, "fields": fields}
            message = _("The input is not valid: %(fields)s.",
                        fields=", ".join(sorted(map(str, fields))))
        elif status == 413:
            details = {"max_bytes": request.max_content_length}
            message = _("The request body exceeds the limit of %(max_bytes)s bytes.",
                        max_bytes=request.max_content_length)
        elif status == 405:
            details = {"allowed": sorted(error.valid_methods or [])}  # type: ignore[attr-defined]
        response = error_response(status, code, str(message or ""), details)
        for key, value in (data.get("headers") or {}).items():
            response.headers[key] = value
        return response


@functools.cache
def _schema_instance(schema_class: type[Schema]) -> Schema:
    return schema_class()


class SchemaParser(FlaskParser):
    """webargs' parser, building each arguments schema once per process: given a schema
    class (as ``@blp.arguments(SomeArgs)`` gives it), webargs builds an instance for every
    request, copying every declared field — a fixed cost of every request that takes
    arguments (issue 17).  A schema instance keeps no state between loads."""

    def _get_schema(self, argmap: Any, req: Any) -> Schema:
        if isinstance(argmap, type) and issubclass(argmap, Schema):
            return _schema_instance(argmap)
        return super()._get_schema(argmap, req)


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint with :class:`SchemaParser` reading the arguments."""

    ARGUMENTS_PARSER = SchemaParser()


def _internal_error(exc: BaseException) -> Response:
    request_id = getattr(g, "request_id", None)
    log.error("unexpected error in request %s", request_id, exc_info=exc)
    return error_response(
        500,
        "internal_error",
        _("An unexpected error occurred; it has been logged."),
        {"request_id": request_id},
    )


JSON_ONLY = frozenset({"application/json"})


def accepts_bodies(*media_types: str) -> Callable[[type], type]:
    """Declare the body types a view reads besides JSON (e.g. an XLSX upload).

    Every other view reads JSON only: a body of any other type would be read as nothing at
    all, so it is refused with 415 instead.
    """

    def mark(view_class: type) -> type:
        view_class.accepted_body_types = JSON_ONLY | frozenset(media_types)  # type: ignore[attr-defined]
        return view_class

    return mark


def _has_nul(body: bytes) -> bool:
    """Whether a JSON body's decoded text holds U+0000 (checked only when the escape shows)."""
    if b"\\u0000" not in body:
        return False
    try:
        document = json.loads(body)
    except ValueError:
        return False  # the JSON parser answers malformed_json
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _accepted_body_types() -> frozenset[str]:
    view = current_app.view_functions.get(request.endpoint or "")
    holder = getattr(view, "view_class", view)
    return getattr(holder, "accepted_body_types", JSON_ONLY)


def _refuse_unreadable_input() -> Response | None:
    """415 for a body of a type the endpoint does not read; 422 for NUL characters in text,
    which PostgreSQL cannot store."""
    if request.method in ("POST", "PUT", "PATCH") and request.content_length:
        accepted = _accepted_body_types()
        if request.mimetype not in accepted:
            return error_response(
                415, "unsupported_media_type",
                _("A body of type %(media_type)s is not accepted here; send %(accepted)s.",
                  media_type=repr(request.mimetype or "unknown"),
                  accepted=" or ".join(sorted(accepted))),
                {"accepted": sorted(accepted)},
            )
        if request.mimetype == "application/json" and _has_nul(request.get_data()):
            return error_response(
                422, "validation_failed", _("Text may not contain NUL characters (\\u0000)."),
                {"fields": {"body": [_("contains a NUL character")]}},
            )
    if any("\x00" in value for value in request.args.values()):
        return error_response(
            422, "validation_failed", _("Query parameters may not contain NUL characters."),
            {"location": "query", "fields": {"query": [_("contains a NUL character")]}},
        )
    return None


def current_session() -> Session:
    """The request's database session; its transaction ends with the request."""
    session: Session | None = g.get("db_session")
    if session is None:
        db: Database = g.tongban_db
        session = db.sessions()
        g.db_session = session
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            mark_writing(session)
    return session


def commit_early(session: Session) -> None:
    """Commit what the request wrote so far — a count that must stand whatever the answer,
    since an error answer rolls the request's transaction back — and, when the request
    writes, take the SQLite writer lock again for the rest of it."""
    session.commit()
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        mark_writing(session)


def init_web(
    app: Flask,
    db: Database,
    *,
    title: str,
    service: str,
    health_details: Callable[[Session], dict[str, Any]] | None = None,
    proxy_hops: int = 0,
) -> Api:
    """Wire errors, request ids, transactions, ``/healthz`` and OpenAPI into ``app``; behind
    ``proxy_hops`` reverse proxies, the client's address is read from X-Forwarded-For."""
    app.config.update(
        API_TITLE=title,
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="/docs",
        OPENAPI_SWAGGER_UI_URL="/api/v1/vendor/swagger-ui/",
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["tongban_db"] = db
    hops = proxy_hops
    if hops:
        # behind N reverse proxies, the client address is the N-th from the right in
        # X-Forwarded-For (rate limits key on it); never trust the header without proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]

    @app.before_request
    def _begin_request() -> Response | None:
        supplied = request.headers.get("X-Request-Id", "")
        g.request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        # read per request (not the ``db`` above): the test suite lends one app to many tests,
        # each on its own database (tests/apps.py)
        g.tongban_db = app.extensions["tongban_db"]
        return _refuse_unreadable_input()

    @app.after_request
    def _end_request(response: Response) -> Response:
        session: Session | None = g.pop("db_session", None)
        if session is not None:
            try:
                if response.status_code < 400:
                    session.commit()
                else:
                    session.rollback()
            finally:
                session.close()
        response.headers["X-Request-Id"] = g.get("request_id", "")
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.teardown_request
    def _close_session(_exc: BaseException | None) -> None:
        session: Session | None = g.pop("db_session", None)
        if session is not None:  # after_request did not run: an error escaped
            session.rollback()
            session.close()

    @app.errorhandler(TongbanError)
    def _domain_error(exc: TongbanError) -> Response:
        status = next(
            (s for cls, s in ERROR_STATUS.items() if isinstance(exc, cls)), 400
        )
        response = error_response(status, exc.code, exc.message, exc.details)
        if isinstance(exc, TooManyAttempts):
            response.headers["Retry-After"] = str(exc.retry_after_seconds)
        if isinstance(exc, Unauthorized):
            response.headers["WWW-Authenticate"] = 'Bearer realm="tongban"'
        return response

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> Response:
        # optimistic locking: someone else changed the row between our read and our write
        return error_response(
            409, "stale_version", _("Someone else changed this record meanwhile; reload it."), {}
        )

    @app.errorhandler(IntegrityError)
    def _integrity_error(exc: IntegrityError) -> Response:
        log.info("integrity error in request %s: %s", g.get("request_id"), exc.orig)
        return error_response(
            409, "conflict", _("The change conflicts with data already stored."), {}
        )

    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LOCALE)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=request_locale)
    set_locale_source(_current_locale)
    app.session_interface = MessageSessionInterface()  # flashes said in the reader's language
    api = Api(app)
    app.register_error_handler(Exception, _internal_error)

    vendor = flask.Blueprint(
        "vendor", __name__, static_folder=str(STATIC_DIR), static_url_path="/api/v1/vendor"
    )
    app.register_blueprint(vendor)

    @app.get("/healthz")
    def healthz() -> Response:
        """Liveness and database check."""
        try:
            with app.extensions["tongban_db"].sessions() as session:
                session.execute(text("SELECT 1"))
                details = health_details(session) if health_details else {}
        except Exception as exc:  # noqa: BLE001 - any database failure means unhealthy
            log.warning("health check failed: %s", exc)
            return error_response(
                503, "database_unavailable", _("The database cannot be reached."), {}
            )
        return jsonify({"status": "ok", "service": service, "database": "ok", **details})

    return api
