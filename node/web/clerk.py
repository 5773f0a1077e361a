"""The window clerk's workbench and the case file every staff role works on.

Each action on a case is one form posting to ``/staff/cases/<id>/<action>``: the row of the
action table (node/cases/actions.py) the API reads too gives its permission, its arguments and
the CaseService method that carries it out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from marshmallow import Schema, fields
from sqlalchemy import select

from node.auth.models import User
from node.auth.permissions import Permission, allows
from node.cases import documents, materials, printing
from node.cases.actions import ACTIONS_BY_NAME, CaseAction
from node.cases.actors import Actor
from node.cases.authorization import addable_file_roles, deciding_task
from node.cases.errors import CaseStateError
from node.cases.forwarding import Forwarding, chain_of
from node.cases.handover import hand_over_candidates
from node.cases.history import display_names, event_reason, event_sentence
from node.cases.models import (
    AttachmentRole,
    Case,
    Channel,
    DocumentKind,
    IssuedDocument,
    TaskState,
)
from node.cases.schemas import (
    ApplicationFields,
)
from node.cases.service import Application, CaseService
from node.cases.states import FINAL_STATES, OPEN_STATES, CaseState, allowed_actions
from node.cases.views import CaseView
from node.composition import NodeServices, current_settings
from node.feedback.models import Complaint, Evaluation
from node.web.core import (
    current_staff,
    download,
    form_error_page,
    known_centers,
    load_form,
    material_files,
    page_turn,
    problems_of,
    staff_page,
    ticked_paper,
    upload_form,
    web_blueprint,
)
from node.web.labels import ACTIONS as ACTION_NAMES
from node.web.services import catalog
from schemas.divisions import ancestors_of
from schemas.errors import Conflict, Forbidden, NotFound, TongbanError, ValidationFailed
from schemas.i18n import _
from schemas.runtime.webapp import current_session

bp = web_blueprint("web_clerk", "/staff")
PICKER_PAGE = 50  # matters per page of the intake's picker
DESK_PAGE = 100  # own cases per page of the desk

QUEUE_STATES = (*OPEN_STATES, CaseState.APPROVED, CaseState.DENIED, CaseState.COMPLETED,
                CaseState.FORWARDED)


def case_service() -> CaseService:
    return NodeServices.of_app(current_app.extensions).cases(current_session())


def _forwarding(s: CaseService) -> Forwarding:
    return NodeServices.of_app(current_app.extensions).forwarding_of(s)


def actor() -> Actor:
    return Actor.of(current_staff())


def with_colours(service: CaseService, cases: Iterable[Case]) -> list[CaseView]:
    """The cases with the warning colour computed now (never stored)."""
    colours = service.colours()
    return [CaseView(case, warning_now=colours.of_case(case)) for case in cases]


# -- the workbench --------------------------------------------------------------------------


@bp.get("/desk")
@staff_page(Permission.CASES_HANDLE)
def desk() -> Any:
    """Own cases (首问负责) with warning colour and deadline; online applications waiting for
    pre-review by any clerk."""
    service = case_service()
    user = current_staff()
    mine = service.search(owner=user.username, states=QUEUE_STATES, **page_turn(),
                          per_page=DESK_PAGE)
    online = service.search(channel=Channel.ONLINE, states=[CaseState.SUBMITTED],
                            per_page=100)
    waiting = [c for c in online.items if c.owner_id is None]
    return render_template("web/staff/desk.html", mine=with_colours(service, mine.items),
                           page=mine, online=online, waiting=with_colours(service, waiting))


def paper_received(rule_list: Iterable[materials.MaterialRule]) -> list[materials.PaperReceipt]:
    """The form's record of the paper received, by each material's position (``form-<p>``
    holds its form; problems raise ValidationFailed)."""
    ticked = ticked_paper(((rule.position, rule.name, rule.copies) for rule in rule_list), "form")
    return [materials.PaperReceipt(position, form, copies) for position, form, copies in ticked]


@bp.route("/desk/new", methods=["GET", "POST"])
@upload_form
@staff_page(Permission.CASES_HANDLE)
def take() -> Any:
    """收件: pick the matter, record the applicant and, material by material, what was received
    on paper (form, copies) and any electronic file; the required materials not received are
    ticked for the one-time notice on the case file."""
    query = request.args.get("q", "").strip()[:100]
    # the picker: a page of the matters found by ``?q=`` (all of them, page by page)
    found = catalog().search_matters(query=query or None, **page_turn((str,)),
                                     per_page=PICKER_PAGE)
    chosen = request.values.get("matter_code", "")
    matter = next((m for m in found.items if m.code == chosen), None)
    if matter is None and chosen:
        try:
            matter = catalog().active_matter(chosen)
        except NotFound:
            matter = None
    departments = catalog().list_departments()
    settings = current_settings()
    rule_list = materials.rules(matter.materials if matter else [],
                                settings.upload_max_file_bytes)
    context: dict[str, Any] = {"matters": found.items, "page": found, "q": query,
                               "matter": matter, "departments": departments,
                               "rules": rule_list, "paper_forms": materials.PAPER_FORMS,
                               "max_case": materials.megabytes(settings.upload_max_case_bytes)}
    template = "web/staff/take.html"
    if request.method == "GET" or matter is None:
        return render_template(template, errors={}, form=request.values, **context)
    service = case_service()
    try:
        data = load_form(ApplicationFields())
        received = paper_received(rule_list)
        checked = material_files(rule_list, max_case_bytes=settings.upload_max_case_bytes)
        submission = service.submit(Application(**data, received=received), actor())
        for file in checked:
            _forwarding(service).add_attachment(
                submission.case, actor(), name=file.name, media_type=file.media_type,
                data=file.data, role=AttachmentRole.MATERIAL, material=file.position)
    except TongbanError as exc:
        current_session().rollback()
        return form_error_page(template, exc, **context)
    flash(_("已收件，办件编号 %(number)s，申请人查询码 %(query_code)s（仅显示这一次，"
            "请告知申请人）。",
            number=submission.case.number, query_code=submission.query_code))
    got = materials.received(rule_list, (f.name for f in checked), received)
    if any(r.required and r.position not in got for r in rule_list):
        flash(_("有必要材料未收到：请出具一次性告知书。"))
    return redirect(url_for("web_clerk.case_file", case_id=submission.case.id))


# -- the case file --------------------------------------------------------------------------


@bp.get("/cases/<int(max=2147483647):case_id>")
@staff_page(Permission.CASES_READ)
def case_file(case_id: int) -> Any:
    service = case_service()
    try:
        case = service.get(case_id)
    except NotFound:
        return render_template("web/error.html", status=404, title=_("未找到办件"),
                               message=_("没有编号为 %(case_id)s 的办件。", case_id=case_id)), 404
    return _render_case(service, case, errors={}, status=200)


def _side_forms(case: Case, user: Any) -> list[str]:
    """The forms beside the state machine's steps that apply to ``case`` now and that the
    user's role may use (so an empty list means the page has nothing to offer)."""
    owing = case.fee_due_fen > case.fee_paid_fen and not case.fee_waived_reason
    applies = {
        "payment": owing,
        "fee_waiver": owing,
        "extend": case.state.value in ("accepted", "in_review", "suspended")
        and not case.extension_days and _decides(case, Actor.of(user)),
        "hand_over": case.state.value not in ("delivered", "rejected", "withdrawn", "returned"),
        "visit": case.state not in FINAL_STATES and not case.from_below,
    }
    return [name for name, now in applies.items()
            if now and allows(user.role, ACTIONS_BY_NAME[name].permission)]


# the steps whose form web/staff/case.html writes out (fields beyond a reason: a list of
# materials, a method of delivery, a commitment, a procedure, a center); every other step's
# form is made from its schema (generic_form), so a new step with an existing input needs none
OWN_FORMS = frozenset({"request_supplement", "deliver", "commit", "suspend", "forward"})


@dataclass(frozen=True)
class GenericForm:
    """The form the case file makes for a step from its schema: its ``reason`` field, if it
    has one (None: no reason; True: required, a 理由; False: optional, an 意见)."""

    reason: bool | None


def generic_form(action: CaseAction[Any]) -> GenericForm:
    """The step's form from its form schema; a field beyond the version and a reason is
    refused (such a step has a form of its own: OWN_FORMS and web/staff/case.html)."""
    loaded = {name: field for name, field in action.form_schema().fields.items()
              if name != "version" and not field.dump_only}
    unknown = sorted(set(loaded) - {"reason"})
    if unknown:
        raise ValueError(f"{action.name}: the case file makes no field for "
                         f"{', '.join(unknown)}; write its form (OWN_FORMS, case.html)")
    reason = loaded.get("reason")
    return GenericForm(None if reason is None else reason.required)


def _decides(case: Case, actor: Actor, *, pending: bool = False) -> bool:
    """Does ``actor`` hold a decision on ``case`` (their department's task; for a clerk, the
    lead task where the window holds the approve power) — still open, when ``pending``?"""
    try:
        task = deciding_task(case, actor)
    except Forbidden:
        return False
    return not pending or task.state is TaskState.PENDING


def can_apply(action: str, case: Case, actor: Actor, node_code: str) -> bool:
    """Whether a step the case's state allows can apply to this case here, so that the case
    file offers only steps that can succeed: 上报 needs a center above not already passed
    through (a province has none); 退回下级 a case received from below (a township has no
    center below it); 告知承诺 a matter that allows it; deciding, suspending and reviewing a
    decision of the user's own (a clerk's window holds the approve power); 办结 of an approved
    case its fee paid or waived first."""
    if action == "forward":
        passed = set(chain_of(case))
        return any(code not in passed for code in ancestors_of(node_code))
    if action == "return":
        return case.from_below
    if action == "commit":
        return bool(case.matter.notify_and_commit)
    if action in ("approve", "deny"):
        return _decides(case, actor, pending=True)
    if action in ("suspend", "resume", "start_review"):
        return _decides(case, actor)
    if action == "complete":
        owing = (case.state is CaseState.APPROVED and not case.from_below
                 and case.fee_due_fen > case.fee_paid_fen and case.fee_waived_reason is None)
        return not owing
    return True


def _render_case(service: CaseService, case: Case, errors: dict[str, list[str]],
                 status: int) -> tuple[str, int]:
    user = current_staff()
    missing: set[int] = set()
    if case.state is CaseState.SUBMITTED and not case.notices and not case.from_below:
        # the required materials the case came without (no file, no paper as its rule asks),
        # ticked for the one-time notice (node/cases/materials.py)
        missing = set(materials.missing(case))
    actor, here = Actor.of(user), current_settings().code
    forms = [a for a in allowed_actions(case.state, user.role.value)
             if a in ACTIONS_BY_NAME and can_apply(a, case, actor, here)]
    extra = _side_forms(case, user)
    handover_to = (hand_over_candidates(service.session, case)
                   if "hand_over" in extra else None)
    people = display_names(service.session, [e.actor for e in case.events])
    centers = known_centers()
    history = [(e, event_sentence(e, people, centers, ACTION_NAMES), event_reason(e, centers))
               for e in case.events]
    return render_template(
        "web/staff/case.html", case=case, warning=service.warning(case), history=history,
        deadline=service.explain_deadline(case), actions=forms, extra=extra,
        generic={a: generic_form(ACTIONS_BY_NAME[a]) for a in forms if a not in OWN_FORMS},
        missing=missing, errors=errors, handover_to=handover_to,
        notice_items={n.number: json.loads(n.items) for n in case.notices},
        file_roles=[r.value for r in addable_file_roles(case, actor)],
        rules=materials.rules(case.matter.materials, current_settings().upload_max_file_bytes),
        other=materials.other_material(current_settings().upload_max_file_bytes),
        other_size=materials.megabytes(current_settings().upload_max_file_bytes),
        printable=_printable(case, user),
        complaints=service.session.scalars(
            select(Complaint).where(Complaint.case_id == case.id).order_by(Complaint.id)).all(),
        evaluation=service.session.scalar(
            select(Evaluation).where(Evaluation.case_id == case.id)),
        has_supervision=allows(user.role, Permission.SUPERVISION_READ),
    ), status


@dataclass(frozen=True)
class Printable:
    """A printed document on the case file: its title, its record if printed, whether the
    user may print it now."""

    kind: str
    title: str
    issued: Any
    can_print: bool


def _printable(case: Case, user: User) -> list[Printable]:
    now = documents.available(case)
    kinds = [*now, *(d.kind for d in case.documents if d.kind not in now)]
    return [Printable(k.value, documents.title(k, case), documents.issued(case, k),
                      k in now and allows(user.role, documents.RULES[k].permission))
            for k in kinds]


@bp.post("/cases/<int(max=2147483647):case_id>/<action>")
@staff_page(Permission.CASES_READ)
def act(case_id: int, action: str) -> Any:
    """One action on a case; the outcome is the case file again, with the problems shown."""
    chosen = ACTIONS_BY_NAME.get(action)
    if chosen is None:
        return render_template("web/error.html", status=404, title=_("未知的操作"),
                               message=_("没有这个办件操作。")), 404
    user = current_staff()
    if not allows(user.role, chosen.permission):
        return render_template("web/error.html", status=403, title=_("无权操作"),
                               message=_("您的角色不能进行此操作。")), 403
    service = case_service()
    try:
        case = service.get(case_id)
    except NotFound:
        return render_template("web/error.html", status=404, title=_("未找到办件"),
                               message=_("没有编号为 %(case_id)s 的办件。", case_id=case_id)), 404
    try:
        data = load_form(chosen.form_schema())
        result = chosen.run(service, _forwarding(service), case, actor(), data)
    except TongbanError as exc:
        errors = {f"{action}.{k}" if k else "": v for k, v in problems_of(exc).items()}
        current_session().rollback()
        return _render_case(service, service.get(case_id), errors=errors, status=422)
    flash(_("已完成：%(get)s。", get=ACTION_NAMES.get(action, action)))
    if action == "request_supplement":
        return redirect(url_for("web_clerk.notice", case_id=case.id, number=result.number))
    if action == "suspend":
        return redirect(url_for("web_clerk.suspension", case_id=case.id,
                                number=result.notice_number))
    return redirect(url_for("web_clerk.case_file", case_id=case.id))


@bp.post("/cases/<int(max=2147483647):case_id>/files")
@upload_form
@staff_page(Permission.CASES_DECIDE)
def add_file(case_id: int) -> Any:
    """添加文件: a result document, or a material file judged by the rule of the material
    chosen (``material``: its position; empty: another material) as at the intake."""
    service = case_service()
    case = service.get(case_id)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationFailed({"file": [_("请选择文件")]})
        role = AttachmentRole(request.form.get("role", AttachmentRole.MATERIAL.value))
        chosen = request.form.get("material", "").strip() if role.value == "material" else ""
        if chosen and not chosen.isdigit():
            raise ValidationFailed({"material": [_("请选择文件对应的材料")]})
        _forwarding(service).add_attachment(
            case, actor(), name=upload.filename, media_type=upload.mimetype or "",
            data=upload.read(), role=role, material=int(chosen) if chosen else None)
    except (TongbanError, ValueError) as exc:
        problem = exc if isinstance(exc, TongbanError) else ValidationFailed(
            {"role": [_("请选择申请材料或结果文书")]})
        current_session().rollback()
        status = 403 if isinstance(problem, Forbidden) else (
            409 if isinstance(problem, CaseStateError) else 422)
        return _render_case(service, service.get(case_id),
                            errors={f"file.{k}": v for k, v in problems_of(problem).items()},
                            status=status)
    flash(_("文件已添加。"))
    return redirect(url_for("web_clerk.case_file", case_id=case.id))


@bp.get("/cases/<int(max=2147483647):case_id>/files/<string(length=64):sha256>")
@staff_page(Permission.CASES_READ)
def file(case_id: int, sha256: str) -> Any:
    case = case_service().get(case_id)
    found = next((a for a in case.attachments if a.sha256 == sha256 and a.fetched), None)
    if found is None or found.data is None:
        return render_template("web/error.html", status=404, title=_("文件不存在"),
                               message=_("该文件不存在或尚未从上级中心取回。")), 404
    return download(found.data, found.media_type, found.name)


@bp.get("/cases/<int(max=2147483647):case_id>/notices/<number>")
@staff_page(Permission.CASES_READ)
def notice(case_id: int, number: str) -> Any:
    """The printable one-time notice (补正材料一次性告知书), the API's own template."""
    case = case_service().get(case_id)
    found = next((n for n in case.notices if n.number == number), None)
    if found is None:
        return render_template("web/error.html", status=404, title=_("未找到告知书"),
                               message=_("办件 %(number)s 没有告知书 %(number2)s。",
                                         number=case.number, number2=number)), 404
    return _page(printing.notice_page(case_service().session, case, found,
                                      center=current_settings().name))


@bp.get("/cases/<int(max=2147483647):case_id>/suspensions/<number>")
@staff_page(Permission.CASES_READ)
def suspension(case_id: int, number: str) -> Any:
    """The printable notice of a special procedure (Art. 45)."""
    case = case_service().get(case_id)
    found = next((s for s in case.suspensions if s.notice_number == number), None)
    if found is None:
        return render_template("web/error.html", status=404, title=_("未找到告知书"),
                               message=_("办件 %(number)s 没有特别程序告知书 %(number2)s。",
                                         number=case.number, number2=number)), 404
    return _page(printing.suspension_page(case_service().session, case, found,
                                          center=current_settings().name))


# -- printed documents (收件回执, 受理通知书, 决定书, 送达回证: node/cases/documents.py) ---------

KINDS = "any(" + ", ".join(repr(k.value) for k in DocumentKind) + ")"


class PrintForm(Schema):
    query_code = fields.String(load_default=None, allow_none=True)


@bp.post(f"/cases/<int(max=2147483647):case_id>/documents/<{KINDS}:kind>")
@staff_page(Permission.CASES_READ)
def print_document(case_id: int, kind: str) -> Any:
    """Print a document (the first print numbers it, a later one is 补打): the page itself."""
    service = case_service()
    case = service.get(case_id)
    try:
        code = (load_form(PrintForm()).get("query_code") or "").strip() or None
        found, reprint = printing.print_as(
            service.session, case, DocumentKind(kind), code, current_staff(),
            node_code=current_settings().code, now=service.clock())
    except TongbanError as exc:
        current_session().rollback()
        status = 403 if isinstance(exc, Forbidden) else (
            409 if isinstance(exc, Conflict) else 422)
        reason = {403: _("您的角色不能打印该文书"), 409: _("该办件当前不能打印该文书"),
                  422: _("查询码不正确，或回执已打印过（查询码只印在首次打印的回执上）")}[status]
        return _render_case(service, service.get(case_id),
                            errors={"document.查询码" if status == 422 else "document.打印":
                                    [reason]}, status=status)
    return _document(service, case, found, reprint=reprint, query_code=code)


@bp.get(f"/cases/<int(max=2147483647):case_id>/documents/<{KINDS}:kind>")
@staff_page(Permission.CASES_READ)
def document(case_id: int, kind: str) -> Any:
    """A printed document as last printed (viewing it is not a print)."""
    service = case_service()
    case = service.get(case_id)
    found = documents.issued(case, DocumentKind(kind))
    if found is None:
        return render_template("web/error.html", status=404, title=_("未找到文书"),
                               message=_("办件 %(number)s 尚未打印该文书。",
                                         number=case.number)), 404
    return _document(service, case, found, reprint=found.reprints > 0)


def _page(page: printing.Page) -> Response:
    return Response(render_template(page.template, **page.context), mimetype="text/html")


def _document(service: CaseService, case: Case, found: IssuedDocument, *, reprint: bool,
              query_code: str | None = None) -> Response:
    return _page(printing.document_page(
        service.session, case, found, center=current_settings().name, reprint=reprint,
        query_code=query_code, lookup_url=lambda number: url_for(
            "web_public.lookup", number=number, _external=True)))
