"""一件事 pages: the bundles of the catalog, the bundle cases with their parts, 一窗受理 and the
printed result notice (一件事办结通知书); the applicant's lookup is the public lookup page's."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Response, current_app, flash, redirect, render_template, request, url_for

from node.auth.permissions import Permission
from node.bundles.service import BundleCases, PartOutcome
from node.cases.actors import Actor
from node.catalog.bundles import FIELD_LABEL_MAX, BundleCatalog, BundleDefinition, FormField
from node.composition import NodeServices, current_settings
from node.web.core import current_staff, page_turn, problems_of, staff_page, web_blueprint
from node.web.labels import CASE_STATES, LEVELS, MATERIAL_FORMS
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
