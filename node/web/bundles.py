"""一件事 pages: the bundles of the catalog, the bundle cases with their parts, 一窗受理 and the
printed result notice (一件事办结通知书); the applicant's lookup is the public lookup page's."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from node.auth.permissions import Permission
from node.bundles.service import BundleApplication, BundleCases, BundlePaper, PartOutcome
from node.cases import materials
from node.cases.actors import Actor
from node.cases.models import AttachmentRole, Channel
from node.catalog.bundles import (
    FIELD_LABEL_MAX,
    BundleCatalog,
    BundleDefinition,
    BundleView,
    FormField,
    material_key,
)
from node.catalog.models import MaterialForm, Matter
from node.composition import NodeServices, current_settings
from node.web.core import (
    current_staff,
    page_turn,
    problems_of,
    staff_page,
    ticked_paper,
    upload_form,
    web_blueprint,
)
from node.web.labels import CASE_STATES, LEVELS, MATERIAL_FORMS
from node.web.services import catalog
from schemas.divisions import Level, level_of
from schemas.errors import Conflict, NotFound, TongbanError, ValidationFailed
from schemas.i18n import _
from schemas.runtime.webapp import current_session

bp = web_blueprint("web_bundles", "/staff")

BUNDLE_STATES = {"open": _("办理中"), "completed": _("已办结"),
                 "partly_completed": _("部分办结"), "refused": _("未办成")}
OUTCOMES = {PartOutcome.GRANTED: _("已办结"), PartOutcome.REFUSED: _("不予办理"),
            PartOutcome.WITHDRAWN: _("已撤回"), PartOutcome.OPEN: _("办理中")}
LIST_PAGE = 100  # bundle cases per page of their list


def bundle_cases() -> BundleCases:
    return NodeServices.of_app(current_app.extensions).bundle_cases(current_session())


def _labels() -> dict[str, Any]:
    return {"bundle_states": BUNDLE_STATES, "outcomes": OUTCOMES, "case_states": CASE_STATES,
            "levels": LEVELS, "material_forms": MATERIAL_FORMS}


def _catalog() -> BundleCatalog:
    return BundleCatalog(current_session(), current_settings().code)


def _bundles_page(errors: dict[str, list[str]], form: Any, status: int = 200) -> Any:
    province = level_of(current_settings().code) is Level.PROVINCE
    return render_template("web/staff/bundles/bundles.html", bundles=_catalog().all(),
                           province=province, errors=errors, form=form,
                           **_labels()), status


@bp.get("/bundles")
@staff_page(Permission.CATALOG_READ)
def bundles() -> Any:
    """The bundles of the catalog with their merged form, materials and parts; at a
    province, the form that defines one."""
    return _bundles_page({}, {})


def field_key(label: str) -> str:
    """The form key of a field a person names on the page: the same name gives the same key,
    so a field several matters ask is asked once (the API takes keys of the client's own)."""
    return "f" + hashlib.sha256(label.encode()).hexdigest()[:12]


def parse_matter_lines(text: str) -> tuple[tuple[str, tuple[FormField, ...]], ...]:
    """``事项编码：字段名称；字段名称`` one matter a line (the fields may be left out); the
    keys are made from the names (:func:`field_key`)."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        code, _sep, rest = line.replace("：", ":").partition(":")
        fields = []
        for part in rest.replace("；", ";").split(";"):
            label = part.strip()
            if not label:
                continue
            if len(label) > FIELD_LABEL_MAX:
                raise ValidationFailed({"matters": [_(
                    "第 %(number)s 行：字段名称不能超过 %(most)s 个字",
                    number=number, most=FIELD_LABEL_MAX)]})
            fields.append(FormField(field_key(label), label))
        items.append((code.strip(), tuple(fields)))
    return tuple(items)


@bp.post("/bundles")
@staff_page(Permission.CATALOG_MANAGE)
def define() -> Any:
    """Define or replace a bundle (a province): it travels with the next published catalog."""
    form = request.form
    try:
        definition = BundleDefinition(
            code=(form.get("code") or "").strip(), name=(form.get("name") or "").strip(),
            description=(form.get("description") or "").strip(),
            items=parse_matter_lines(form.get("matters") or ""))
        bundle = _catalog().define(definition)
    except TongbanError as exc:
        current_session().rollback()
        return _bundles_page(problems_of(exc), form, 422)
    flash(_("一件事 %(name)s 已保存，将随下次发布的标准目录下发。", name=bundle.name))
    return redirect(url_for("web_bundles.bundles"), code=303)


@bp.post("/bundles/<code>/retire")
@staff_page(Permission.CATALOG_MANAGE)
def retire(code: str) -> Any:
    try:
        bundle = _catalog().retire(code)
    except TongbanError as exc:
        current_session().rollback()
        return _bundles_page(problems_of(exc), {}, 409 if isinstance(exc, Conflict) else 404)
    flash(_("一件事 %(name)s 已停用。", name=bundle.name))
    return redirect(url_for("web_bundles.bundles"), code=303)


@bp.get("/bundle-cases")
@staff_page(Permission.CASES_READ)
def bundle_case_list() -> Any:
    """The bundle cases with their state, the newest first; keyset-paged (node/listing.py)."""
    page = bundle_cases().search(**page_turn((int,)), per_page=LIST_PAGE)
    return render_template("web/staff/bundles/list.html", bundle_cases=page.items, page=page,
                           **_labels())


# -- 收件 of a bundle at the window ----------------------------------------------------------

@dataclass(frozen=True)
class DeskMaterial:
    """One of the bundle's deduplicated materials on the window's form (fields ``received-<i>``,
    ``paper-<i>``, ``copies-<i>``, ``material-<i>``), with the rules its matters give it."""

    index: int
    name: str
    required: bool
    form: MaterialForm
    copies: int
    rules: dict[str, materials.MaterialRule]  # matter code → that matter's rule of it

    @property
    def electronic_accepted(self) -> bool:
        return any(r.electronic_accepted for r in self.rules.values())

    @property
    def accept(self) -> str:
        return ",".join(sorted({k for r in self.rules.values() if r.electronic_accepted
                                for k in r.accept.split(",")}))


def desk_materials(view: BundleView, matters: dict[str, Matter],
                   max_file_bytes: int) -> list[DeskMaterial]:
    rules = {code: materials.rules(m.materials, max_file_bytes) for code, m in matters.items()}
    return [DeskMaterial(i, m.name, m.required, m.form, m.copies, {
        code: rule for code in m.matters for rule in rules.get(code, ())
        if material_key(rule.name) == material_key(m.name)})
        for i, m in enumerate(view.materials, start=1)]


def desk_paper(listed: list[DeskMaterial]) -> list[BundlePaper]:
    """The paper the clerk ticked as received, material by material (``paper-<i>`` holds its
    form; problems raise)."""
    names = {m.index: m.name for m in listed}
    ticked = ticked_paper(((m.index, m.name, m.copies) for m in listed), "paper")
    return [BundlePaper(names[index], form, copies) for index, form, copies in ticked]


def desk_files(listed: list[DeskMaterial], max_case_bytes: int,
               ) -> dict[str, list[materials.CheckedFile]]:
    """The files given per material, checked by their bytes against the rule of every matter
    that asks for the material; the accepted files by matter code (problems raise, by the
    form's ``material-<i>``, before anything is stored)."""
    uploads = {m.index: [(f.filename or "", f.read())
                         for f in request.files.getlist(f"material-{m.index}")
                         if f and f.filename] for m in listed}
    codes = {code for m in listed for code in m.rules}
    accepted: dict[str, list[materials.CheckedFile]] = {}
    problems: dict[str, list[str]] = {}
    for code in sorted(codes):
        index_of = {m.rules[code].position: m.index for m in listed if code in m.rules}
        rule_list = [m.rules[code] for m in listed if code in m.rules]
        given = {m.rules[code].position: uploads[m.index] for m in listed
                 if code in m.rules and uploads[m.index]}
        checked, found = materials.check_files(rule_list, given, max_case_bytes=max_case_bytes)
        for key, reasons in found.items():
            position = key.removeprefix("material-")
            field = (f"material-{index_of[int(position)]}" if position.isdigit()
                     else "materials")
            for reason in reasons:
                if reason not in problems.setdefault(field, []):
                    problems[field].append(reason)
        accepted[code] = checked
    if problems:
        raise ValidationFailed(problems)
    return accepted


def desk_labels(view: BundleView | None) -> dict[str, str]:
    """The form's fields by name, as the page's summary of problems names them."""
    labels = {"bundle_code": _("一件事"), "applicant_name": _("申请人姓名"),
              "applicant_id_number": _("身份证号码"), "applicant_phone": _("联系电话"),
              "form": _("申请表"), "materials": _("收到的材料"),
              "received_materials": _("收到的材料"), "joint_department_codes": _("联合办理"),
              "notes": _("备注")}
    if view is not None:
        labels |= {f"form-{f.key}": f.label for f in view.form}
        labels |= {f"material-{i}": m.name for i, m in enumerate(view.materials, start=1)}
    return labels


def _desk_context(view: BundleView | None) -> dict[str, Any]:
    settings = current_settings()
    matters = {code: catalog().active_matter(code) for code in view.matters} if view else {}
    return {"bundles": _catalog().all(), "bundle": view,
            "materials": desk_materials(view, matters, settings.upload_max_file_bytes)
            if view else [], "departments": catalog().list_departments(),
            "matter_names": {p.matter_code: p.matter_name for p in view.parts} if view else {},
            "field_labels": desk_labels(view),
            "paper_forms": materials.PAPER_FORMS,
            "max_case": materials.megabytes(settings.upload_max_case_bytes), **_labels()}


@bp.route("/bundle-cases/new", methods=["GET", "POST"])
@upload_form
@staff_page(Permission.CASES_HANDLE)
def take() -> Any:
    """收件 of a 一件事 at the window: pick one of the center's bundles, then one form — the
    applicant, the merged form (each field once), the materials once each (paper and/or
    files), per part decided here its joint departments — made into one bundle case by the
    service the API uses."""
    chosen = request.values.get("bundle_code", "")
    view = next((b for b in _catalog().all() if b.code == chosen and not b.missing), None)
    context = _desk_context(view)
    template = "web/staff/bundles/take.html"
    if request.method == "GET" or view is None:
        return render_template(template, errors={}, form=request.values, **context)
    form = request.form
    errors: dict[str, list[str]] = {}
    if not (form.get("applicant_name") or "").strip():
        errors["applicant_name"] = [_("请填写申请人姓名")]
    answers = {f.key: (form.get(f"form-{f.key}") or "").strip() for f in view.form}
    for f in view.form:
        if not answers[f.key]:
            errors[f"form-{f.key}"] = [_("请填写“%(label)s”", label=f.label)]
    service = bundle_cases()
    try:
        if errors:
            raise ValidationFailed(errors)
        paper = desk_paper(context["materials"])
        files = desk_files(context["materials"], current_settings().upload_max_case_bytes)
        submission = service.apply(BundleApplication(
            bundle_code=view.code, applicant_name=form["applicant_name"].strip(),
            channel=Channel.WINDOW,
            applicant_id_number=(form.get("applicant_id_number") or "").strip() or None,
            applicant_phone=(form.get("applicant_phone") or "").strip() or None,
            form=answers, notes=(form.get("notes") or "").strip(), received=paper,
            joint_department_codes={p.matter_code: form.getlist(f"joint-{p.matter_code}")
                                    for p in view.parts
                                    if form.getlist(f"joint-{p.matter_code}")}),
            Actor.of(current_staff()))
        for part in service.parts_of(submission.bundle_case):
            for file in files.get(part.matter.code, ()):
                service.forwarding.add_attachment(
                    part, Actor.of(current_staff()), name=file.name,
                    media_type=file.media_type, data=file.data,
                    role=AttachmentRole.MATERIAL, material=file.position)
    except TongbanError as exc:
        current_session().rollback()
        return render_template(template, errors=problems_of(exc), form=form,
                               **_desk_context(view)), 422
    number = submission.bundle_case.number
    flash(_("已收件，一件事办件编号 %(number)s，申请人查询码 %(query_code)s（仅显示这一次，"
            "请告知申请人）。", number=number, query_code=submission.query_code))
    return redirect(url_for("web_bundles.bundle_case", number=number), code=303)


def _not_found(number: str) -> tuple[str, int]:
    return render_template("web/error.html", status=404, title=_("未找到一件事办件"),
                           message=_("没有编号为 %(number)s 的一件事办件。",
                                     number=number)), 404


@bp.get("/bundle-cases/<number>")
@staff_page(Permission.CASES_READ)
def bundle_case(number: str) -> Any:
    """A bundle case with its parts, their departments, states and outcomes."""
    service = bundle_cases()
    try:
        found = service.get(number)
    except NotFound:
        return _not_found(number)
    parts = service.parts_of(found)
    return render_template(
        "web/staff/bundles/case.html", bundle_case=found, view=service.view(found),
        ids={p.number: p.id for p in parts}, form=json.loads(found.form_data or "{}"),
        fields={f.key: f.label for f in BundleCatalog(
            current_session(), current_settings().code).view(found.bundle).form},
        waiting=any(p.state.value in ("submitted", "supplement_requested") for p in parts),
        **_labels())


@bp.post("/bundle-cases/<number>/accept")
@staff_page(Permission.CASES_HANDLE)
def accept(number: str) -> Any:
    """一窗受理: every waiting part accepted, those decided above forwarded."""
    service = bundle_cases()
    try:
        found = service.get(number)
    except NotFound:
        return _not_found(number)
    try:
        service.accept(found, Actor.of(current_staff()))
    except TongbanError as exc:
        current_session().rollback()
        flash(exc.message, "error")
    else:
        flash(_("已一窗受理；由上级决定的事项已上报。"), "info")
    return redirect(url_for("web_bundles.bundle_case", number=number), code=303)


@bp.get("/bundle-cases/<number>/notice")
@staff_page(Permission.CASES_READ)
def notice(number: str) -> Any:
    """一件事办结通知书: one notice for the bundle, each part's outcome (once it ended)."""
    service = bundle_cases()
    try:
        found = service.get(number)
    except NotFound:
        return _not_found(number)
    if found.notice_number is None:
        return render_template("web/error.html", status=404, title=_("未找到通知书"),
                               message=_("一件事办件 %(number)s 尚未办结，没有办结通知书。",
                                         number=number)), 404
    html = render_template("cases/bundle_notice.html", view=service.view(found),
                           bundle_case=found, center=current_settings().name, **_labels())
    return Response(html, mimetype="text/html")
