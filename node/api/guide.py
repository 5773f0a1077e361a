"""The public service guide (办事指南): no login needed."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from node.api.catalog import catalog
from node.catalog.schemas import DepartmentSchema
from node.forms import GuideMatterSchema, MatterSearchArgs, cursor_page, cursor_page_of
from schemas.runtime.webapp import Blueprint

blp = Blueprint(
    "guide", __name__, url_prefix="/api/v1/guide", description="Public service guide (办事指南)"
)


@blp.route("/matters")
class GuideMatters(MethodView):
    @blp.arguments(MatterSearchArgs, location="query")
    @blp.response(200, cursor_page_of(GuideMatterSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Search the matters a citizen can apply for, by keyword, department and category,
        in the order of their codes. Paged by cursor (docs/api.md)."""
        page = catalog().search_matters(
            query=args.get("q"),
            department_code=args.get("department"),
            category=args.get("category"),
            handling_level=args.get("handling_level"),
            cursor=args.get("cursor"), before=args.get("before"),
            per_page=args["per_page"],
        )
        return cursor_page(page, list(page.items), args["per_page"])


@blp.route("/matters/<code>")
class GuideMatter(MethodView):
    @blp.response(200, GuideMatterSchema)
    def get(self, code: str) -> Any:
        """One matter's full guide: basis, procedure, conditions, materials, fees, limits."""
        return catalog().active_matter(code)


@blp.route("/departments")
class GuideDepartments(MethodView):
    @blp.response(200, DepartmentSchema(many=True))
    def get(self) -> Any:
        """The departments present in the center, to filter the guide by (never the
        standard catalog's holding department of matters not yet assigned)."""
        return catalog().guide_departments()
