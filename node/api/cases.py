"""The cases API: each transition its own endpoint with its own permission."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import orjson
from flask import Request, Response, current_app, render_template, request, url_for
from flask.views import MethodView
from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.datastructures import CombinedMultiDict, FileStorage

from node.api.calendar import DeadlineExplanationSchema
from node.api.security import current_user, staff_required
from node.auth.permissions import Permission
from node.cases import documents, printing
from node.cases.actions import ACTIONS_BY_NAME, CASE_ACTIONS, CaseAction
from node.cases.actors import Actor
from node.cases.arguments import NoticeRequest, SuspensionRequest
from node.cases.forwarding import Forwarding
from node.cases.models import (
    AttachmentRole,
    Case,
    DocumentKind,
    IssuedDocument,
)
from node.cases.schemas import (
    AttachmentSchema,
    CaseDetailSchema,
    CaseDocumentsSchema,
    CaseListArgs,
    CaseStepSchema,
    CaseSummarySchema,
    NoticeSchema,
    PrintArgs,
    SubmitSchema,
    SubmittedSchema,
    SuspensionSchema,
    summary_row,
)
from node.cases.scopes import viewer_of, visible_cases
from node.cases.service import Application, CaseService
from node.cases.states import allowed_actions
from node.cases.views import CaseView
from node.cases.warnings import Colours
from node.composition import NodeServices, current_settings
from node.forms import cursor_page, cursor_page_of
from node.listing import Page
from schemas.errors import NotFound
from schemas.i18n import _
from schemas.runtime.webapp import Blueprint, SchemaParser, accepts_bodies, current_session


class MultipartParser(SchemaParser):
    """webargs' parser, but ``location="files"`` reads a multipart/form-data body whole: its
    files and its other fields, so that one schema reads an upload with the fields sent
    beside it, and flask-smorest documents them as one multipart request body (its
    ``files`` and ``form`` locations would be two bodies, which OpenAPI 3 cannot say)."""

    def load_files(self, req: Request, schema: Schema) -> Any:
        return self._makeproxy(CombinedMultiDict([req.files, req.form]), schema)


class CasesBlueprint(Blueprint):
    ARGUMENTS_PARSER = MultipartParser()


blp = CasesBlueprint("cases", __name__, url_prefix="/api/v1/cases",
                     description="Cases (办件)")


def case_service() -> CaseService:
    return NodeServices.of_app(current_app.extensions).cases(
        current_session(), clock=current_app.extensions["tongban_clock"])


def actor() -> Actor:
    return Actor.of(current_user())


def present(service: CaseService, case: Case, colours: Colours | None = None,
            query_code: str | None = None) -> CaseView:
    """The case with what is computed on read: the warning colour and the actions allowed
    now (``colours``: a list's, shared by its rows)."""
    return CaseView(
        case,
        warning_now=colours.of_case(case) if colours is not None else service.warning(case),
        allowed_now=allowed_actions(case.state, current_user().role.value),
        query_code=query_code,
    )


def case_rows_page(service: CaseService, page: Page[Case], per_page: int) -> Response:
    """A page of cases as ``cursor_page_of(CaseSummarySchema)`` dumps it (the OpenAPI document
    says so), its rows built by :func:`~node.cases.schemas.summary_row` and written by orjson
    with sorted keys, as Flask's ``jsonify`` writes them: the hot lists' dump without
    marshmallow (issues 17 and 20)."""
    colours = service.colours()
    # a list row shows no allowed actions: only the colour is computed (present() does both)
    body = cursor_page(page, [summary_row(CaseView(c, colours.of_case(c))) for c in page.items],
                       per_page)
    return current_app.response_class(
        orjson.dumps(body, option=orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE),
        mimetype="application/json")


@blp.route("")
class Cases(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.arguments(CaseListArgs, location="query")
    @blp.response(200, cursor_page_of(CaseSummarySchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Cases filtered by state, matter, department, window, clerk, channel, warning
        colour and date of receipt, and searched by number (exact, or a prefix ending in
        ``*``), applicant name, whole ID number, whole phone number, handler, forwarded
        in/out and accepted or closed dates; the latest received first, or (``sort=deadline``)
        the earliest deadline first.  ID numbers and phones are matched whole and shown masked.

        Paged by cursor: each answer's ``next_cursor`` fetches the next page (``?cursor=``)
        and its ``prev_cursor`` the page before (``?before=``). ``total`` is
        exact up to 1,000 matches; beyond, ``total_exact`` is false (more than 1,000)."""
        service = case_service()
        page = service.search(
            states=args["state"],
            matter_code=args.get("matter"),
            department_code=args.get("department"),
            window_code=args.get("window"),
            owner=args.get("clerk"),
            channel=args.get("channel"),
            received_from=args.get("received_from"),
            received_to=args.get("received_to"),
            warnings=args["warning"],
            number=args.get("number"),
            applicant=args.get("applicant"),
            id_number=args.get("id_number"),
            phone=args.get("phone"),
            handler=args.get("handler"),
            forwarded=args.get("forwarded"),
            accepted_from=args.get("accepted_from"),
            accepted_to=args.get("accepted_to"),
            closed_from=args.get("closed_from"),
            closed_to=args.get("closed_to"),
            scope=visible_cases(viewer_of(current_user())),
            order=args["sort"],
            cursor=args.get("cursor"), before=args.get("before"),
            per_page=args["per_page"],
        )
        return case_rows_page(service, page, args["per_page"])

    @staff_required(Permission.CASES_HANDLE)
    @blp.arguments(SubmitSchema)
    @blp.response(201, SubmittedSchema)
    def post(self, application: Application) -> Any:
        """Register an application (收件). The answer carries the applicant's query code,
        shown this once."""
        service = case_service()
        submission = service.submit(application, actor())
        return present(service, submission.case, query_code=submission.query_code)


def _load(case_id: int) -> tuple[CaseService, Case]:
    service = case_service()
    return service, service.get(case_id)


@blp.route("/<int(max=2147483647):case_id>")
class CaseItem(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.response(200, CaseDetailSchema)
    def get(self, case_id: int) -> Any:
        """A case's whole file: history, notices, suspensions, department tasks, fees."""
        service = case_service()
        return present(service, service.get(case_id, whole=True))


@blp.route("/<int(max=2147483647):case_id>/deadline")
class CaseDeadline(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.response(200, DeadlineExplanationSchema)
    def get(self, case_id: int) -> Any:
        """How the case's deadline is reached: base date, days counted, each skipped day and
        why, each suspension."""
        service, case = _load(case_id)
        explanation = service.explain_deadline(case)
        if explanation is None:
            raise NotFound(_("Case %(number)s has not been accepted: it has no deadline yet.",
                             number=case.number))
        return explanation


def _transition(action: CaseAction[Any]) -> None:
    """Register ``POST /cases/<id>/<path>`` for one action of the table (node/cases/actions.py).
    It answers with the case's state after the step (:class:`CaseStepSchema`), committed
    before the answer is written; the whole file is ``GET /cases/<id>``."""

    def post(self: MethodView, *call_args: Any, **kwargs: Any) -> Any:
        data = call_args[0] if call_args else action.arguments().load({})
        service, case = _load(kwargs["case_id"])
        action.run(service, _forwarding(service), case, actor(), data)
        presented = present(service, case)
        # the answer is the state committed: commit now, so that the audit chain's head (locked
        # since the step's entry) is released before the answer is serialised and sent
        service.session.commit()
        return presented

    post.__doc__ = action.summary
    post.__name__ = "post"
    view = post
    view = blp.response(200, CaseStepSchema)(view)
    view = blp.arguments(action.arguments)(view)
    view = staff_required(action.permission)(view)
    view_class = type(f"Case{action.path.title().replace('-', '')}", (MethodView,), {"post": view})
    blp.route(f"/<int(max=2147483647):case_id>/{action.path}")(view_class)


for _action in CASE_ACTIONS:
    if _action.api:
        _transition(_action)

# the two actions answered by a document of their own (its number), not the case's step
SUSPEND, NOTICE = ACTIONS_BY_NAME["suspend"], ACTIONS_BY_NAME["request_supplement"]


@blp.route("/<int(max=2147483647):case_id>/suspend")
class CaseSuspend(MethodView):
    @staff_required(SUSPEND.permission)
    @blp.arguments(SUSPEND.arguments)
    @blp.response(200, SuspensionSchema)
    def post(self, data: SuspensionRequest, case_id: int) -> Any:
        """Stop the clock for a special procedure (Art. 45: inspection, expert review,
        testing, hearing); returns the suspension with its notice number."""
        service, case = _load(case_id)
        return SUSPEND.run(service, _forwarding(service), case, actor(), data)


@blp.route("/<int(max=2147483647):case_id>/notices")
class CaseNotices(MethodView):
    @staff_required(NOTICE.permission)
    @blp.arguments(NOTICE.arguments)
    @blp.response(201, NoticeSchema)
    def post(self, data: NoticeRequest, case_id: int) -> Any:
        """Issue the one-time notice (一次性告知): every missing item at once. A second
        notice needs ``repeat_reason`` and is counted."""
        service, case = _load(case_id)
        return NOTICE.run(service, _forwarding(service), case, actor(), data)


@blp.route("/<int(max=2147483647):case_id>/notices/<number>")
class CaseNoticeDocument(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.response(200, content_type="text/html")
    def get(self, case_id: int, number: str) -> Any:
        """The notice as a printable HTML document (补正材料一次性告知书)."""
        _service, case = _load(case_id)
        notice = next((n for n in case.notices if n.number == number), None)
        if notice is None:
            raise NotFound(_("Case %(number)s has no notice %(repr)s.",
                             number=case.number, repr=repr(number)))
        return Response(render(printing.notice_page(current_session(), case, notice,
                                                    center=current_settings().name)),
                        mimetype="text/html")


@blp.route("/<int(max=2147483647):case_id>/suspensions/<number>")
class CaseSuspensionDocument(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.response(200, content_type="text/html")
    def get(self, case_id: int, number: str) -> Any:
        """The written notice of a special procedure (Art. 45), printable HTML."""
        _service, case = _load(case_id)
        suspension = next((s for s in case.suspensions if s.notice_number == number), None)
        if suspension is None:
            raise NotFound(_("Case %(number)s has no suspension notice %(repr)s.",
                             number=case.number, repr=repr(number)))
        html = render(printing.suspension_page(current_session(), case, suspension,
                                               center=current_settings().name))
        return Response(html, mimetype="text/html")


# -- printed documents (收件回执, 受理通知书, 决定书, 送达回证) ------------------------------

DOCUMENT_KINDS = ", ".join(repr(k.value) for k in DocumentKind)


def render(page: printing.Page) -> str:
    return render_template(page.template, **page.context)


def render_document(case: Case, document: IssuedDocument, *, reprint: bool,
                    query_code: str | None = None) -> str:
    return render(printing.document_page(
        current_session(), case, document, center=current_settings().name, reprint=reprint,
        query_code=query_code, lookup_url=lambda number: url_for(
            "web_public.lookup", number=number, _external=True)))


@blp.route("/<int(max=2147483647):case_id>/documents")
class CaseDocuments(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.response(200, CaseDocumentsSchema)
    def get(self, case_id: int) -> Any:
        """The case's printed documents: those that can be printed now (``available``) and
        those printed before, with their numbers and reprints (``issued``)."""
        _service, case = _load(case_id)
        return {"available": [k.value for k in documents.available(case)],
                "issued": case.documents}


@blp.route(f"/<int(max=2147483647):case_id>/documents/<any({DOCUMENT_KINDS}):kind>")
class CaseDocument(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.response(200, content_type="text/html")
    def get(self, case_id: int, kind: str) -> Any:
        """A printed document's page as last printed (404 until it is first printed)."""
        _service, case = _load(case_id)
        found = documents.issued(case, DocumentKind(kind))
        if found is None:
            raise NotFound(_("Case %(number)s has no %(kind)s document printed yet.",
                             number=case.number, kind=documents.title(DocumentKind(kind), case)))
        return Response(render_document(case, found, reprint=found.reprints > 0),
                        mimetype="text/html")

    @staff_required(Permission.CASES_READ)
    @blp.arguments(PrintArgs)
    @blp.response(201, content_type="text/html")
    @blp.alt_response(200, description="a reprint (补打): the same number, counted")
    def post(self, data: dict[str, Any], case_id: int, kind: str) -> Any:
        """Print the document: the first print numbers and records it (201), a later one is
        a reprint marked 补打 (200). Receipt, acceptance, refusal and service receipt need
        ``cases.handle``, the decisions ``cases.decide``. The receipt's first print may carry
        the applicant's ``query_code``; a reprint says it was given then."""
        service, case = _load(case_id)
        found, reprint = printing.print_as(
            service.session, case, DocumentKind(kind), data["query_code"], current_user(),
            node_code=current_settings().code, now=service.clock())
        html = render_document(case, found, reprint=reprint, query_code=data["query_code"])
        return Response(html, status=200 if reprint else 201, mimetype="text/html")


class AttachmentUploadArgs(Schema):
    """The multipart/form-data body of ``POST /cases/<id>/attachments``: the file and its
    role (read together: node/api/cases.py, MultipartParser)."""

    file = Upload(required=True, metadata={"description": "the file"})
    role = fields.Enum(AttachmentRole, by_value=True, load_default=AttachmentRole.MATERIAL,
                       metadata={"description": "material (the default) or result"})
    material = fields.Integer(
        load_default=None, validate=validate.Range(1, 2147483647),
        metadata={"description": "the position of the matter's material the file is for "
                                 "(role material only); left out: the material the file's "
                                 "name passes for, else another material"})

    @validates_schema
    def _material_names_a_material_file(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data.get("material") is not None and data.get("role") is not AttachmentRole.MATERIAL:
            raise ValidationError(_("only a material file names its material"), "material")


# -- forwarding (上报) and files -----------------------------------------------------------


def _forwarding(service: CaseService) -> Forwarding:
    return NodeServices.of_app(current_app.extensions).forwarding_of(service)


@blp.before_request
def _room_for_material_files() -> None:
    """A file added to a case may be as large as its material's rule allows: the upload may
    carry what the online form may (NodeSettings.upload_request_max_bytes), so that a file
    beyond its material's or the case's limit is answered by the rule's own message."""
    if request.endpoint == "cases.CaseAttachments" and request.method == "POST":
        request.max_content_length = current_settings().upload_request_max_bytes


@blp.route("/<int(max=2147483647):case_id>/attachments")
@accepts_bodies("multipart/form-data")
class CaseAttachments(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.response(200, AttachmentSchema(many=True))
    def get(self, case_id: int) -> Any:
        """The case's files: materials (with a forward they travel up) and result documents
        (with a decision they travel back)."""
        _service, case = _load(case_id)
        return case.attachments

    @staff_required(Permission.CASES_DECIDE)
    @blp.arguments(AttachmentUploadArgs, location="files")
    @blp.response(201, AttachmentSchema)
    def post(self, body: dict[str, Any], case_id: int) -> Any:
        """Add a file (form field ``file`` of multipart/form-data; ``role`` = ``material``
        (default) or ``result``; ``material`` = the position of the material it is for).
        A material file is judged by its material's rule as at the intake (kinds by content,
        the material's size or the node's, refused when the material takes no file, all the
        case's material files within the node's total) and named after it. The same bytes
        twice are one file."""
        upload: FileStorage = body["file"]
        service, case = _load(case_id)
        return _forwarding(service).add_attachment(
            case, actor(), name=upload.filename or "", media_type=upload.mimetype or "",
            data=upload.read(), role=body["role"], material=body["material"])


@blp.route("/<int(max=2147483647):case_id>/attachments/<string(length=64):sha256>")
class CaseAttachmentContent(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.response(200, content_type="application/octet-stream")
    def get(self, case_id: int, sha256: str) -> Any:
        """A file's bytes (404 while a file from another center is not fetched yet)."""
        _service, case = _load(case_id)
        found = next((a for a in case.attachments if a.sha256 == sha256 and a.fetched), None)
        if found is None or found.data is None:
            raise NotFound(_("Case %(number)s has no fetched file %(sha256)s.",
                             number=case.number, sha256=sha256))
        return Response(found.data, mimetype=found.media_type, headers={
            "Content-Disposition": "attachment; filename*=UTF-8''" + _quoted(found.name)})


def _quoted(name: str) -> str:
    return quote(name, safe="")
