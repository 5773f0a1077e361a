# Types for the parts of flask-smorest 0.47 that tongban uses.  flask-smorest ships without
# type information (no py.typed): without these its decorators would make every decorated view
# untyped under mypy --strict.  Each decorator returns the function or class it was given,
# which is what flask-smorest's wrappers preserve (functools.wraps) for the caller.
from collections.abc import Callable, Mapping, Sequence
from http import HTTPStatus
from typing import Any, ClassVar, NoReturn, TypeVar

import flask
from apispec import APISpec
from flask_smorest.pagination import Page as Page
from marshmallow import Schema
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

_T = TypeVar("_T")

_SchemaArg = type[Schema] | Schema
_Status = int | str | HTTPStatus

def abort(http_status_code: int, exc: Exception | None = ..., **kwargs: Any) -> NoReturn: ...

class Blueprint(flask.Blueprint):
    ARGUMENTS_PARSER: ClassVar[FlaskParser]
    PAGINATION_ARGUMENTS_PARSER: ClassVar[FlaskParser]
    PAGINATION_HEADER_NAME: ClassVar[str | None]
    DEFAULT_PAGINATION_PARAMETERS: ClassVar[dict[str, int]]
    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    def route(  # type: ignore[override, unused-ignore]  # an override only where flask is resolved from site-packages
        self,
        rule: str,
        *,
        parameters: Sequence[Any] | None = ...,
        tags: Sequence[str] | None = ...,
        **options: Any,
    ) -> Callable[[_T], _T]: ...
    def arguments(
        self,
        schema: _SchemaArg,
        *,
        location: str = ...,
        content_type: str | None = ...,
        required: bool = ...,
        description: str | None = ...,
        example: Any = ...,
        examples: Mapping[str, Any] | None = ...,
        **kwargs: Any,
    ) -> Callable[[_T], _T]: ...
    def response(
        self,
        status_code: _Status,
        schema: _SchemaArg | str | Mapping[str, Any] | None = ...,
        *,
        content_type: str | None = ...,
        description: str | None = ...,
        example: Any = ...,
        examples: Mapping[str, Any] | None = ...,
        headers: Mapping[str, Any] | None = ...,
    ) -> Callable[[_T], _T]: ...
    def alt_response(
        self,
        status_code: _Status,
        response: str | None = ...,
        *,
        schema: _SchemaArg | str | Mapping[str, Any] | None = ...,
        content_type: str | None = ...,
        description: str | None = ...,
        example: Any = ...,
        examples: Mapping[str, Any] | None = ...,
        headers: Mapping[str, Any] | None = ...,
        success: bool = ...,
    ) -> Callable[[_T], _T]: ...
    def paginate(
        self,
        pager: type[Page[Any]] | None = ...,
        *,
        page: int | None = ...,
        page_size: int | None = ...,
        max_page_size: int | None = ...,
    ) -> Callable[[_T], _T]: ...
    @staticmethod
    def doc(**kwargs: Any) -> Callable[[_T], _T]: ...

class Api:
    ERROR_SCHEMA: ClassVar[type[Schema]]
    spec: APISpec
    config: Mapping[str, Any]
    _swagger_ui_url: str
    def __init__(
        self,
        app: flask.Flask | None = ...,
        *,
        spec_kwargs: Mapping[str, Any] | None = ...,
        config_prefix: str = ...,
    ) -> None: ...
    def init_app(
        self, app: flask.Flask, *, spec_kwargs: Mapping[str, Any] | None = ...
    ) -> None: ...
    def register_blueprint(
        self, blp: Blueprint, *, parameters: Sequence[Any] | None = ..., **options: Any
    ) -> None: ...
    def register_field(self, field: type[Any], *args: Any) -> None: ...
    def register_converter(self, converter: type[Any], func: Callable[..., Any]) -> None: ...
    def handle_http_exception(self, error: HTTPException) -> flask.Response: ...
    def _make_doc_blueprint_name(self) -> str: ...
    def _openapi_swagger_ui(self) -> flask.Response: ...
