"""一件事 bundles: their definition at the province (the catalog) and bundle cases (one
application, one number and query code, a part case per matter)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from node.api.security import current_user, staff_required
from node.auth.permissions import Permission
from node.bundles.schemas import (
    BundleApplicationSchema,
    BundleCaseRowSchema,
    BundleCaseSchema,
    BundleDefinitionSchema,
    BundleListSchema,
    BundleSchema,
    BundleSubmissionSchema,
)
from node.bundles.service import BundleApplication, BundleCases
from node.cases.actors import Actor
from node.catalog.bundles import BundleCatalog
from node.composition import NodeServices
from node.forms import CursorArgs, cursor_page, cursor_page_of
from schemas.runtime.webapp import Blueprint, current_session

blp = Blueprint(
    "bundles", __name__, url_prefix="/api/v1",
    description="一件事 bundles: defined by the province, applied for once",
)


def bundle_catalog() -> BundleCatalog:
    return BundleCatalog(current_session(), NodeServices.of_app(current_app.extensions).code)


def bundle_cases() -> BundleCases:
    return NodeServices.of_app(current_app.extensions).bundle_cases(current_session())


@blp.route("/bundles")
class Bundles(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.response(200, BundleListSchema)
    def get(self) -> Any:
        """The active bundles with their merged form, deduplicated materials and the
        departments (or the levels above) that handle each matter here."""
        return {"items": bundle_catalog().all()}


@blp.route("/bundles/<code>")
class BundleOne(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.response(200, BundleSchema)
    def get(self, code: str) -> Any:
        """One bundle (retired ones too)."""
        catalog = bundle_catalog()
        return catalog.view(catalog.get(code))

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(BundleDefinitionSchema)
    @blp.response(200, BundleSchema)
    def put(self, data: dict[str, Any], code: str) -> Any:
        """Define or replace a bundle (a province only: it travels with the standard
        catalog the next time the catalog is published)."""
        catalog = bundle_catalog()
        return catalog.view(catalog.define(BundleDefinitionSchema().definition(code, data)))

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(200, BundleSchema)
    def delete(self, code: str) -> Any:
        """Retire a bundle (a province only); its open bundle cases go on."""
        catalog = bundle_catalog()
        return catalog.view(catalog.retire(code))


@blp.route("/bundle-cases")
class BundleCaseCollection(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.arguments(CursorArgs, location="query")
    @blp.response(200, cursor_page_of(BundleCaseRowSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """The bundle cases, the newest first, without their parts (one bundle case has
        them). Paged by cursor (docs/api.md)."""
        page = bundle_cases().search(cursor=args.get("cursor"), before=args.get("before"),
                                     per_page=args["per_page"])
        return cursor_page(page, list(page.items), args["per_page"])

    @staff_required(Permission.CASES_HANDLE)
    @blp.arguments(BundleApplicationSchema)
    @blp.response(201, BundleSubmissionSchema)
    def post(self, application: BundleApplication) -> Any:
        """收件 of a bundle at a window: one bundle case and a part case per matter; the
        answer carries the query code, once."""
        service = bundle_cases()
        submission = service.apply(application, Actor.of(current_user()))
        view = service.view(submission.bundle_case)
        return {**view.__dict__, "query_code": submission.query_code}


@blp.route("/bundle-cases/<number>")
class BundleCaseOne(MethodView):
    @staff_required(Permission.CASES_READ)
    @blp.response(200, BundleCaseSchema)
    def get(self, number: str) -> Any:
        """A bundle case with its parts, their states and outcomes."""
        service = bundle_cases()
        return service.view(service.get(number))


@blp.route("/bundle-cases/<number>/accept")
class BundleCaseAccept(MethodView):
    @staff_required(Permission.CASES_HANDLE)
    @blp.response(200, BundleCaseSchema)
    def post(self, number: str) -> Any:
        """一窗受理: accept every part waiting for acceptance and forward each part decided
        above to its deciding center; 409 when no part waits."""
        service = bundle_cases()
        bundle_case = service.accept(service.get(number), Actor.of(current_user()))
        return service.view(bundle_case)
