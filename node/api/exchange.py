"""Export and import of the whole catalog as a JSON document or an XLSX workbook."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import UnsupportedMediaType

from node.api.security import staff_required
from node.auth.permissions import Permission
from node.catalog.exchange import ENTITIES, CatalogExchange
from node.catalog.problems import CatalogSource
from node.catalog.workbook import read_workbook, write_workbook
from node.composition import NodeServices, current_settings
from schemas.errors import ErrorSchema, ValidationFailed
from schemas.i18n import _
from schemas.runtime.spreadsheet import XLSX_MEDIA_TYPE
from schemas.runtime.webapp import Blueprint, accepts_bodies, current_session

blp = Blueprint(
    "exchange",
    __name__,
    url_prefix="/api/v1/catalog",
    description="Export and import of the catalog as JSON or as an XLSX workbook",
)

_JSON_TYPES = frozenset({"application/json"})
_WORKBOOK_TYPES = frozenset({XLSX_MEDIA_TYPE, "application/octet-stream"})
_BINARY = {"type": "string", "format": "binary"}
_EXPORTED = "The catalog: a JSON document (format=json) or an XLSX workbook (format=xlsx)"
_REFUSED = (
    "Problems found, nothing imported: details.rows lists each as {sheet, row, column, "
    "reason}; an unreadable file is answered with the code unreadable_workbook"
)


class ExportArgs(Schema):
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(["json", "xlsx"]),
        metadata={"description": "json: the catalog document; xlsx: a workbook to download"},
    )


class CatalogDocumentSchema(Schema):
    """The exchange document; each list holds items as the catalog endpoints accept them."""

    format = fields.String(metadata={"description": "always tongban.catalog"})
    version = fields.Integer(metadata={"description": "1"})
    exported_at = fields.String(metadata={"description": "ISO 8601 time of the export"})
    node = fields.String(allow_none=True, metadata={"description": "the exporting node's code"})
    departments = fields.List(fields.Dict(), metadata={"description": "{code, name}"})
    windows = fields.List(
        fields.Dict(), metadata={"description": "{code, name, location, department_codes}"}
    )
    staff = fields.List(
        fields.Dict(),
        metadata={"description": "{code, name, staff_type, department_code, window_code, "
                  "position, active}"},
    )
    matters = fields.List(
        fields.Dict(),
        metadata={"description": "every field of a matter, with powers and materials"},
    )
    bundles = fields.List(
        fields.Dict(),
        metadata={"description": "一件事, for reading (never imported: defined at the province "
                  "and published with the catalog): {code, name, description, published_by, "
                  "matters, parts, form, materials, promised_limit_days}"},
    )


EntityCounts = Schema.from_dict(
    {entity: fields.Integer() for entity in ENTITIES}, name="CatalogEntityCounts"
)


class ImportReportSchema(Schema):
    created = fields.Nested(EntityCounts, metadata={"description": "new items by entity"})
    updated = fields.Nested(EntityCounts, metadata={"description": "existing items replaced"})
    reinstated = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "retired matters brought back by the import"},
    )


_IMPORT_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"type": "object"}},
        "multipart/form-data": {
            "schema": {"type": "object", "properties": {"file": _BINARY}, "required": ["file"]}
        },
        XLSX_MEDIA_TYPE: {"schema": _BINARY},
    },
}


def exchange() -> CatalogExchange:
    return NodeServices.of_app(current_app.extensions).catalog_exchange(current_session())


@blp.route("/export")
class CatalogExport(MethodView):
    @blp.arguments(ExportArgs, location="query")
    @blp.response(200, CatalogDocumentSchema, description=_EXPORTED)
    @blp.alt_response(
        200, schema=_BINARY, content_type=XLSX_MEDIA_TYPE, description=_EXPORTED, success=True
    )
    @staff_required(Permission.CATALOG_READ)
    def get(self, args: dict[str, Any]) -> Any:
        """Export the active catalog: departments, windows, active staff and matters.

        ``format=json`` returns the document ``{"format": "tongban.catalog", "version": 1, …}``;
        ``format=xlsx`` returns a workbook with the sheets 部门, 窗口, 人员, 事项 and 申报材料
        and Chinese column headings. Either imports back unchanged.
        """
        node_code = current_settings().code
        document = exchange().export_document(node_code)
        if args["format"] == "json":
            return document
        return Response(
            write_workbook(document),
            mimetype=XLSX_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="catalog-{node_code}.xlsx"'},
        )


@blp.route("/import")
@accepts_bodies("multipart/form-data", *_WORKBOOK_TYPES)
class CatalogImport(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.doc(requestBody=_IMPORT_BODY)
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(422, schema=ErrorSchema, description=_REFUSED)
    def post(self) -> Any:
        """Import a catalog document or workbook: all of it, or nothing.

        Send the JSON document, or the workbook as the form field ``file`` (a ``.json`` file
        there is read as the document) or as the raw body. Every row is checked first —
        fields, the time-limit and power rules, references to departments and windows,
        repeated codes, materials of unknown matters — and every problem is answered at once
        (422, ``details.rows``: sheet, row, column, reason) with nothing changed. Otherwise
        items are created or replaced by code (a matter's materials list is replaced; a
        retired matter is reinstated) and the counts are returned. Nothing is deleted.
        """
        return exchange().import_document(_uploaded_catalog()).as_dict()


def _uploaded_catalog() -> CatalogSource:
    """The catalog in the request body, whichever way it was sent."""
    if request.mimetype in _JSON_TYPES:
        return CatalogSource(_json_document(request.get_data()))
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed(
                {"file": [_("Missing data for required field: "
                            "send the catalog as the field 'file'.")]}
            )
        content = upload.read()
        if upload.mimetype in _JSON_TYPES or (upload.filename or "").lower().endswith(".json"):
            try:
                return CatalogSource(json.loads(content))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ValidationFailed({"file": [_("not a valid JSON document: %(exc)s",
                                                   exc=exc)]}) from exc
        return read_workbook(content)
    if request.mimetype in _WORKBOOK_TYPES:
        return read_workbook(request.get_data())
    raise UnsupportedMediaType(
        "Send the catalog as application/json, as an XLSX workbook "
        f"({XLSX_MEDIA_TYPE}) or as the form field 'file' of multipart/form-data."
    )


def _json_document(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        # the same answer as every other endpoint's bad JSON: 400 malformed_json
        abort(400, messages={"json": ["The request body is not valid JSON."]})
        raise AssertionError("unreachable") from exc
