"""Citizens' pages (no login): the service guide, applying online, case lookup, rating,
complaints and the center's public notice board (公示栏)."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, render_template, request
from marshmallow import Schema, fields, validate

from node.bundles.service import BundleApplication
from node.cases import materials
from node.cases.models import AttachmentRole, Channel
from node.cases.schemas import SubmitSchema
from node.cases.service import Application
from node.catalog.bundles import BundleCatalog
from node.composition import NodeServices, current_settings
from node.feedback.inputs import NewComplaint
from node.feedback.lookup import APPLICANT
from node.feedback.ratelimit import public_attempt
from node.feedback.schemas import ComplaintArgs, EvaluationArgs, LookupArgs
from node.metrics.assessment import Designation, ModelWindowRule, assess
from node.web.bundles import BUNDLE_STATES, OUTCOMES
from node.web.core import (
    form_error_page,
    load_form,
    load_input,
    material_files,
    page_turn,
    today,
    upload_form,
    web_blueprint,
)
from node.web.services import catalog, feedback_service, metrics_service
from schemas.errors import NotFound, TongbanError, TooManyAttempts
from schemas.i18n import _
from schemas.periods import Period
from schemas.runtime.database import utcnow
from schemas.runtime.webapp import commit_early, current_session

bp = web_blueprint("web_public")

PER_PAGE = 20
BUNDLE_NUMBER = re.compile(r"-Y[0-9]+$")  # a 一件事 bundle case's number (node/bundles/)
BOARD_METRICS = ("received", "accepted", "completed", "on_time_rate", "same_day_rate",
                 "overdue_open", "satisfaction_rate", "evaluations", "complaints_received",
                 "complaints_resolved_in_time_rate", "entry_rate")


class LookupForm(LookupArgs):
    number = fields.String(required=True, validate=validate.Length(1, 32))


class ApplyForm(Schema):
    applicant_name = SubmitSchema().fields["applicant_name"]
    applicant_id_number = fields.String(load_default=None)
    applicant_phone = fields.String(required=True, validate=validate.Length(1, 20))
    notes = fields.String(load_default="", validate=validate.Length(max=2000))


def _rate_limited(template: str, **context: Any) -> tuple[str, int] | None:
    """The same per-address budget as the public API: lookups, ratings and complaints all
    check a query code, so one budget caps the guessing rate whichever door is used."""
    session = current_session()
    decision = public_attempt(session, request.remote_addr or "unknown",
                              limit=current_settings().lookup_attempts_per_minute, now=utcnow())
    commit_early(session)  # the count stands whatever the answer
    try:
        decision.check()
    except TooManyAttempts as exc:
        return form_error_page(template, exc, 429, **context)
    return None


@bp.get("/")
def home() -> Any:
    return render_template("web/public/home.html",
                           departments=catalog().guide_departments(),
                           bundles=[b for b in BundleCatalog(
                               current_session(), current_settings().code).all()
                               if not b.missing])


@bp.get("/guide")
def guide() -> Any:
    query = request.args.get("q", "").strip()[:100]
    department = request.args.get("department", "").strip()[:32] or None
    page = catalog().search_matters(query=query or None, department_code=department,
                                    **page_turn((str,)), per_page=PER_PAGE)
    return render_template("web/public/guide.html", items=page.items, page=page, q=query,
                           department=department or "",
                           departments=catalog().guide_departments())


@bp.get("/guide/<code>")
def matter(code: str) -> Any:
    try:
        found = catalog().active_matter(code)
    except NotFound:
        return render_template("web/error.html", status=404, title=_("未找到事项"),
                               message=_("服务指南中没有编码为 %(code)s 的事项。", code=code)), 404
    # each material with its rule, as the online form shows it (node/cases/materials.py)
    return render_template(
        "web/public/matter.html", matter=found,
        rules=materials.rules(found.materials, current_settings().upload_max_file_bytes),
        notes={m.position: m.note for m in found.materials})


@bp.route("/guide/<code>/apply", methods=["GET", "POST"])
@upload_form
def apply(code: str) -> Any:
    """网上申报: the application lands in the clerks' queue for pre-review."""
    try:
        found = catalog().active_matter(code)
    except NotFound:
        return render_template("web/error.html", status=404, title=_("未找到事项"),
                               message=_("服务指南中没有编码为 %(code)s 的事项。", code=code)), 404
    if not found.online:
        return render_template("web/error.html", status=404, title=_("不能网上申报"),
                               message=_("事项 %(code)s 暂不支持网上申报，请到窗口办理。",
                                         code=code)), 404
    template = "web/public/apply.html"
    settings = current_settings()
    rule_list = materials.rules(found.materials, settings.upload_max_file_bytes)
    max_case = materials.megabytes(settings.upload_max_case_bytes)
    context: dict[str, Any] = {"matter": found, "rules": rule_list, "max_case": max_case}
    if request.method == "GET":
        return render_template(template, errors={}, form={}, **context)
    refused = _rate_limited(template, **context)
    if refused:
        return refused
    try:
        data = load_form(ApplyForm())
        # each material its own field; every file checked by its bytes against its
        # material's rule before anything is stored
        checked = material_files(rule_list, max_case_bytes=settings.upload_max_case_bytes)
        services = NodeServices.of_app(current_app.extensions)
        service = services.cases(current_session())
        submission = service.submit(
            Application(**data, matter_code=found.code, channel=Channel.ONLINE), APPLICANT)
        forwarding = services.forwarding_of(service)
        for file in checked:
            forwarding.add_attachment(
                submission.case, APPLICANT, name=file.name, media_type=file.media_type,
                data=file.data, role=AttachmentRole.MATERIAL, material=file.position)
    except TongbanError as exc:
        return form_error_page(template, exc, **context)
    missing = set(materials.missing(submission.case))
    return render_template("web/public/applied.html", matter=found, case=submission.case,
                           query_code=submission.query_code, files=len(checked),
                           missing=[r for r in rule_list if r.position in missing]), 201


@bp.route("/lookup", methods=["GET", "POST"])
def lookup() -> Any:
    template = "web/public/lookup.html"
    if request.method == "GET":  # ?number= from a receipt's QR code fills the number in
        return render_template(template, errors={},
                               form={"number": request.args.get("number", "")[:32]})
    refused = _rate_limited(template)
    if refused:
        return refused
    try:
        data = load_form(LookupForm())
        number = data["number"].strip()
        if BUNDLE_NUMBER.search(number):  # 一件事: the bundle and its parts
            bundle = NodeServices.of_app(current_app.extensions).bundle_cases(
                current_session()).lookup(number, data["code"])
            return render_template(template, bundle=bundle, errors={}, form={},
                                   bundle_states=BUNDLE_STATES, outcomes=OUTCOMES)
        found = feedback_service().lookup(number, data["code"])
    except NotFound:
        return render_template(template, form=request.form, errors={
            "": [_("未找到该办件：请核对办件编号和查询码。")]}), 404
    except TongbanError as exc:
        return form_error_page(template, exc)
    return render_template(template, found=found, code=data["code"], errors={}, form={})


class RateForm(EvaluationArgs):
    number = fields.String(required=True, validate=validate.Length(1, 32))


@bp.post("/rate")
def rate() -> Any:
    """好差评: rate a completed case once (a bad rating opens a rectification)."""
    template = "web/public/rated.html"
    refused = _rate_limited(template)
    if refused:
        return refused
    try:
        data = load_form(RateForm())
        evaluation = feedback_service().evaluate(
            data["number"].strip(), data["code"], level=data["level"], comment=data["comment"])
    except TongbanError as exc:
        return form_error_page(template, exc)
    return render_template(template, evaluation=evaluation, errors={})


@bp.route("/complaint", methods=["GET", "POST"])
def complaint() -> Any:
    template = "web/public/complaint.html"
    windows = catalog().list_windows()
    if request.method == "GET":
        return render_template(template, errors={}, form=request.args, windows=windows)
    refused = _rate_limited(template, windows=windows)
    if refused:
        return refused
    try:
        filed = feedback_service().file_complaint(load_input(ComplaintArgs(), NewComplaint))
    except TongbanError as exc:
        return form_error_page(template, exc, windows=windows)
    return render_template(template, filed=filed, errors={}, form={}, windows=windows), 201


class ComplaintLookupForm(Schema):
    number = fields.String(required=True, validate=validate.Length(1, 40))
    code = fields.String(required=True, validate=validate.Length(1, 32))


@bp.route("/complaint/lookup", methods=["GET", "POST"])
def complaint_lookup() -> Any:
    """投诉查询: a complaint's state and answer by its number and query code."""
    template = "web/public/complaint_lookup.html"
    if request.method == "GET":
        return render_template(template, errors={},
                               form={"number": request.args.get("number", "")[:40]})
    refused = _rate_limited(template)
    if refused:
        return refused
    try:
        data = load_form(ComplaintLookupForm())
        found = feedback_service().complaint_for_complainant(data["number"].strip(),
                                                             data["code"])
    except NotFound:
        return render_template(template, form=request.form, errors={
            "": [_("未找到该投诉：请核对投诉编号和查询码。")]}), 404
    except TongbanError as exc:
        return form_error_page(template, exc)
    return render_template(template, found=found, errors={}, form={})


@bp.get("/board")
def board() -> Any:
    """公示栏: this month's figures and model windows (红旗窗口), as centers publish them."""
    settings = current_settings()
    now = today()
    period = Period.month(now.year, now.month)
    summary = metrics_service().summary(period)
    assessment = assess(current_session(), period, ModelWindowRule.from_settings(settings))
    model_codes = assessment.designated(Designation.MODEL)
    windows = [w for w in assessment.as_dict()["windows"] if w["code"] in model_codes]
    return render_template("web/public/board.html", period=period,
                           metrics=summary["metrics"], keys=BOARD_METRICS, windows=windows,
                           rule=assessment.rule.as_dict())


@bp.route("/bundles/<code>/apply", methods=["GET", "POST"])
def apply_bundle(code: str) -> Any:
    """网上申报 of a 一件事: one form for all its matters; the materials are handed in once
    when the window pre-reviews it (一窗受理)."""
    bundle_catalog = BundleCatalog(current_session(), current_settings().code)
    try:
        bundle = bundle_catalog.get(code)
    except NotFound:
        bundle = None
    if bundle is None or bundle.retired_at is not None:
        return render_template("web/error.html", status=404, title=_("未找到一件事"),
                               message=_("没有编码为 %(code)s 的一件事。", code=code)), 404
    template = "web/public/apply_bundle.html"
    context: dict[str, Any] = {"bundle": bundle_catalog.view(bundle)}
    if request.method == "GET":
        return render_template(template, errors={}, form={}, **context)
    refused = _rate_limited(template, **context)
    if refused:
        return refused
    form = request.form
    answers = {f.key: (form.get(f"form-{f.key}") or "") for f in context["bundle"].form}
    try:
        submission = NodeServices.of_app(current_app.extensions).bundle_cases(
            current_session()).apply(BundleApplication(
                bundle_code=code, applicant_name=(form.get("applicant_name") or "").strip(),
                channel=Channel.ONLINE,
                applicant_id_number=(form.get("applicant_id_number") or "").strip() or None,
                applicant_phone=(form.get("applicant_phone") or "").strip() or None,
                form=answers), APPLICANT)
    except TongbanError as exc:
        return form_error_page(template, exc, **context)
    return render_template("web/public/applied_bundle.html", bundle_case=submission.bundle_case,
                           query_code=submission.query_code, **context), 201
