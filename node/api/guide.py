"""The public service guide (办事指南): no login needed."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from flask_smorest.pagination import PaginationParameters

from node.api.catalog import catalog
from node.catalog.schemas import DepartmentSchema
from node.forms import PAGINATION, GuideMatterSchema, MatterSearchArgs, checked_page

blp = Blueprint(
    "guide", __name__, url_prefix="/api/v1/guide", description="Public service guide (办事指南)"
)


@blp.route("/matters")
class GuideMatters(MethodView):
    @blp.arguments(MatterSearchArgs, location="query")
    @blp.response(200, GuideMatterSchema(many=True))
    @blp.paginate(**PAGINATION)
    def get(self, args: dict[str, Any], pagination_parameters: PaginationParameters) -> Any:
        """Search the matters a citizen can apply for, by keyword, department and category."""
        items, pagination_parameters.item_count = catalog().search_matters(
            query=args.get("q"),
            department_code=args.get("department"),
            category=args.get("category"),
            handling_level=args.get("handling_level"),
            page=checked_page(pagination_parameters.page),
            per_page=pagination_parameters.page_size,
        )
        return items


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
