"""Administration of the catalog: departments, windows, staff records and matters."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from node.api.security import staff_required
from node.auth.permissions import Permission
from node.catalog.inputs import (
    MatterChanges,
    NewMatter,
    NewStaffMember,
    StaffChanges,
    WindowChanges,
)
from node.catalog.schemas import (
    DepartmentPatchSchema,
    DepartmentSchema,
    MatterPatchSchema,
    MatterSchema,
    NewMatterSchema,
    NewStaffMemberSchema,
    StaffMemberPatchSchema,
    StaffMemberSchema,
    WindowPatchSchema,
    WindowSchema,
)
from node.catalog.service import CatalogService
from node.composition import NodeServices
from node.forms import (
    ListArgs,
    MatterAdminSearchArgs,
    StaffListArgs,
    cursor_page,
    cursor_page_of,
)
from schemas.runtime.webapp import Blueprint, current_session

blp = Blueprint(
    "catalog", __name__, url_prefix="/api/v1", description="The center's catalog (administration)"
)

def catalog() -> CatalogService:
    return NodeServices.of_app(current_app.extensions).catalog(current_session())

@blp.route("/departments")
class Departments(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, DepartmentSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """The center's departments."""
        return catalog().list_departments(include_retired=args["include_retired"])

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(DepartmentSchema)
    @blp.response(201, DepartmentSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a department."""
        return catalog().create_department(data["code"], data["name"])

@blp.route("/departments/<code>")
class DepartmentItem(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.response(200, DepartmentSchema)
    def get(self, code: str) -> Any:
        """One department."""
        return catalog().department(code)

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(DepartmentPatchSchema)
    @blp.response(200, DepartmentSchema)
    def patch(self, data: dict[str, Any], code: str) -> Any:
        """Rename a department."""
        return catalog().update_department(code, name=data["name"])

@blp.route("/departments/<code>/retire")
class DepartmentRetire(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(200, DepartmentSchema)
    def post(self, code: str) -> Any:
        """Retire a department that no longer has active matters."""
        return catalog().retire_department(code)

@blp.route("/departments/<code>/reinstate")
class DepartmentReinstate(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(200, DepartmentSchema)
    def post(self, code: str) -> Any:
        """Bring a retired department back; its retired matters stay retired until each is
        reinstated."""
        return catalog().reinstate_department(code)

@blp.route("/windows")
class Windows(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.arguments(ListArgs, location="query")
    @blp.response(200, WindowSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """The center's windows with the departments each serves."""
        return catalog().list_windows(include_retired=args["include_retired"])

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(WindowSchema)
    @blp.response(201, WindowSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a window serving one or more departments."""
        return catalog().create_window(
            data["code"], data["name"], data["location"], data["department_codes"]
        )

@blp.route("/windows/<code>")
class WindowItem(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.response(200, WindowSchema)
    def get(self, code: str) -> Any:
        """One window."""
        return catalog().window(code)

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(WindowPatchSchema(partial=True))
    @blp.response(200, WindowSchema)
    def patch(self, changes: WindowChanges, code: str) -> Any:
        """Change a window's name, location or departments."""
        return catalog().update_window(code, changes)

@blp.route("/windows/<code>/retire")
class WindowRetire(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(200, WindowSchema)
    def post(self, code: str) -> Any:
        """Retire a window that no longer handles active matters."""
        return catalog().retire_window(code)

@blp.route("/windows/<code>/reinstate")
class WindowReinstate(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(200, WindowSchema)
    def post(self, code: str) -> Any:
        """Bring a retired window back; refused (409) while every department it serves is
        retired."""
        return catalog().reinstate_window(code)

@blp.route("/staff")
class Staff(MethodView):
    @staff_required(Permission.STAFF_READ)
    @blp.arguments(StaffListArgs, location="query")
    @blp.response(200, StaffMemberSchema(many=True))
    def get(self, args: dict[str, Any]) -> Any:
        """Window staff records (for staffing figures by type)."""
        return catalog().list_staff(include_inactive=args["include_inactive"])

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(NewStaffMemberSchema)
    @blp.response(201, StaffMemberSchema)
    def post(self, new: NewStaffMember) -> Any:
        """Add a staff record."""
        return catalog().create_staff_member(new)

@blp.route("/staff/<code>")
class StaffItem(MethodView):
    @staff_required(Permission.STAFF_READ)
    @blp.response(200, StaffMemberSchema)
    def get(self, code: str) -> Any:
        """One staff record."""
        return catalog().staff_member(code)

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(StaffMemberPatchSchema(partial=True))
    @blp.response(200, StaffMemberSchema)
    def patch(self, changes: StaffChanges, code: str) -> Any:
        """Change a staff record (``active: false`` when someone leaves)."""
        return catalog().update_staff_member(code, changes)

@blp.route("/matters")
class Matters(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.arguments(MatterAdminSearchArgs, location="query")
    @blp.response(200, cursor_page_of(MatterSchema))
    def get(self, args: dict[str, Any]) -> Any:
        """Search the catalog, retired matters included on request, in the order of the
        matters' codes. Paged by cursor (docs/api.md)."""
        page = catalog().search_matters(
            query=args.get("q"),
            department_code=args.get("department"),
            category=args.get("category"),
            handling_level=args.get("handling_level"),
            include_retired=args["include_retired"],
            cursor=args.get("cursor"), before=args.get("before"),
            per_page=args["per_page"],
        )
        return cursor_page(page, list(page.items), args["per_page"])

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(NewMatterSchema)
    @blp.response(201, MatterSchema)
    def post(self, new: NewMatter) -> Any:
        """Add a matter with its disclosure fields, limits, powers and materials.

        The promised limit may not exceed the legal limit; an immediate matter's is 0.
        """
        return catalog().create_matter(new)

@blp.route("/matters/<code>")
class MatterItem(MethodView):
    @staff_required(Permission.CATALOG_READ)
    @blp.response(200, MatterSchema)
    def get(self, code: str) -> Any:
        """One matter, retired or not."""
        return catalog().matter(code)

    @staff_required(Permission.CATALOG_MANAGE)
    @blp.arguments(MatterPatchSchema)
    @blp.response(200, MatterSchema)
    def patch(self, changes: MatterChanges, code: str) -> Any:
        """Change any of a matter's fields; ``materials`` replaces the list."""
        return catalog().update_matter(code, changes)

@blp.route("/matters/<code>/retire")
class MatterRetire(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(200, MatterSchema)
    def post(self, code: str) -> Any:
        """Retire a matter: it leaves the service guide; cases keep referring to it.

        Matters are never deleted.
        """
        return catalog().retire_matter(code)

@blp.route("/matters/<code>/reinstate")
class MatterReinstate(MethodView):
    @staff_required(Permission.CATALOG_MANAGE)
    @blp.response(200, MatterSchema)
    def post(self, code: str) -> Any:
        """Bring a retired matter back into the service guide."""
        return catalog().reinstate_matter(code)
