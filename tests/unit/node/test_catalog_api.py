"""The catalog administration API and the public service guide, on both databases."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from node.auth.permissions import Role
from node.catalog.inputs import MaterialInput, MatterChanges, NewMatter, StaffChanges
from node.catalog.models import HandlingType, MaterialForm, Matter, StaffType
from node.catalog.schemas import MatterPatchSchema, StaffMemberPatchSchema
from node.catalog.service import CatalogService
from node.inputs import UNSET
from schemas.errors import Conflict
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api, matter_payload, new_matter


def count_matters(db) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count(Matter.id)))


def test_create_and_read_a_full_matter(catalog_base: Api) -> None:
    response = catalog_base.post("/api/v1/matters", matter_payload())
    assert response.status_code == 201, response.json
    body = catalog_base.get("/api/v1/matters/11450981MB0001").json
    assert body["name"] == "食品经营许可证核发"
    assert body["department"] == {"code": "SC", "name": "市场监督管理局"}
    assert body["window"]["code"] == "W01"
    assert body["powers"]["approve"] is True
    assert body["powers"]["litigate"] is False
    assert [m["name"] for m in body["materials"]] == [
        "食品经营许可申请书", "营业执照复印件", "法定代表人身份证明",
    ]
    assert body["materials"][2]["form"] == "original_and_copy"
    assert body["legal_basis"].startswith("《中华人民共和国食品安全法》")


def test_promised_limit_may_not_exceed_legal_limit(catalog_base: Api, db) -> None:
    response = catalog_base.post(
        "/api/v1/matters", matter_payload(legal_limit_days=10, promised_limit_days=15)
    )
    assert response.status_code == 422
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    assert "promised_limit_days" in error["details"]["fields"]
    assert count_matters(db) == 0


def test_promised_limit_checked_on_update_against_stored_legal_limit(catalog_base: Api) -> None:
    catalog_base.post("/api/v1/matters", matter_payload())
    response = catalog_base.patch(
        "/api/v1/matters/11450981MB0001", {"promised_limit_days": 25}
    )
    assert response.status_code == 422
    assert "promised_limit_days" in response.json["error"]["details"]["fields"]
    assert catalog_base.get("/api/v1/matters/11450981MB0001").json["promised_limit_days"] == 5


def test_immediate_matter_has_zero_promised_days(catalog_base: Api) -> None:
    bad = catalog_base.post(
        "/api/v1/matters", matter_payload(handling_type="immediate", promised_limit_days=2)
    )
    assert bad.status_code == 422
    good = catalog_base.post(
        "/api/v1/matters", matter_payload(handling_type="immediate", promised_limit_days=0)
    )
    assert good.status_code == 201


def test_duplicate_codes_are_conflicts(catalog_base: Api, db) -> None:
    assert catalog_base.post("/api/v1/matters", matter_payload()).status_code == 201
    again = catalog_base.post("/api/v1/matters", matter_payload(name="另一个"))
    assert again.status_code == 409
    assert again.json["error"]["details"]["field"] == "code"
    assert count_matters(db) == 1
    dup_dept = catalog_base.post("/api/v1/departments", {"code": "SC", "name": "重复"})
    assert dup_dept.status_code == 409


def test_wrong_types_and_unknown_fields_are_named(catalog_base: Api, db) -> None:
    response = catalog_base.post(
        "/api/v1/matters",
        matter_payload(legal_limit_days="twenty", colour="red", category="licence"),
    )
    assert response.status_code == 422
    fields = response.json["error"]["details"]["fields"]
    assert set(fields) >= {"legal_limit_days", "colour", "category"}
    assert count_matters(db) == 0


def test_missing_required_fields_are_named(catalog_base: Api) -> None:
    response = catalog_base.post("/api/v1/matters", {"code": "X1"})
    assert response.status_code == 422
    fields = response.json["error"]["details"]["fields"]
    assert {"name", "category", "department_code", "legal_limit_days"} <= set(fields)


def test_malformed_json_is_a_clear_error(catalog_base: Api) -> None:
    response = catalog_base.post(
        "/api/v1/departments", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "malformed_json"


def test_oversize_body_is_refused(catalog_base: Api, db) -> None:
    huge = matter_payload(conditions="条" * 70_000)
    response = catalog_base.post("/api/v1/matters", huge)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "payload_too_large"
    assert response.json["error"]["details"]["max_bytes"] == 64 * 1024
    assert count_matters(db) == 0


def test_references_must_exist_and_window_must_serve_department(catalog_base: Api) -> None:
    unknown = catalog_base.post("/api/v1/matters", matter_payload(department_code="NOPE"))
    assert unknown.status_code == 422
    assert "department_code" in unknown.json["error"]["details"]["fields"]
    catalog_base.post("/api/v1/departments", {"code": "ZJ", "name": "住房和城乡建设局"})
    wrong_window = catalog_base.post("/api/v1/matters", matter_payload(department_code="ZJ"))
    assert wrong_window.status_code == 422
    assert "window_code" in wrong_window.json["error"]["details"]["fields"]


def test_entered_matter_needs_a_window_and_powers_need_entry(catalog_base: Api) -> None:
    no_window = catalog_base.post("/api/v1/matters", matter_payload(window_code=None))
    assert no_window.status_code == 422
    assert "window_code" in no_window.json["error"]["details"]["fields"]
    outside = catalog_base.post(
        "/api/v1/matters", matter_payload(window_code=None, entered=False)
    )
    assert outside.status_code == 422
    assert "powers" in outside.json["error"]["details"]["fields"]
    ok = catalog_base.post(
        "/api/v1/matters", matter_payload(window_code=None, entered=False, powers={})
    )
    assert ok.status_code == 201, ok.json


def test_update_replaces_materials_and_keeps_other_fields(catalog_base: Api) -> None:
    catalog_base.post("/api/v1/matters", matter_payload())
    response = catalog_base.patch(
        "/api/v1/matters/11450981MB0001",
        {"materials": [{"name": "申请书"}], "powers": {"litigate": True}},
    )
    assert response.status_code == 200, response.json
    body = response.json
    assert [m["name"] for m in body["materials"]] == ["申请书"]
    assert body["materials"][0]["required"] is True
    assert body["powers"]["litigate"] is True
    assert body["powers"]["approve"] is True
    assert body["promised_limit_days"] == 5


def test_retire_hides_from_guide_but_keeps_the_matter(catalog_base: Api, anonymous: Api) -> None:
    catalog_base.post("/api/v1/matters", matter_payload())
    assert anonymous.get("/api/v1/guide/matters/11450981MB0001").status_code == 200
    retired = catalog_base.post("/api/v1/matters/11450981MB0001/retire")
    assert retired.status_code == 200
    assert retired.json["retired_at"] is not None
    assert anonymous.get("/api/v1/guide/matters/11450981MB0001").status_code == 404
    assert catalog_base.get("/api/v1/matters/11450981MB0001").status_code == 200
    listed = catalog_base.get("/api/v1/matters?include_retired=true")
    assert listed.json["total"] == len(listed.json["items"]) == 1
    assert catalog_base.get("/api/v1/matters").json["total"] == 0
    changed = catalog_base.patch("/api/v1/matters/11450981MB0001", {"name": "x"})
    assert changed.status_code == 409
    assert catalog_base.post("/api/v1/matters/11450981MB0001/reinstate").status_code == 200
    assert anonymous.get("/api/v1/guide/matters/11450981MB0001").status_code == 200
    # no way to delete a matter
    assert catalog_base.request("DELETE", "/api/v1/matters/11450981MB0001").status_code == 405


def test_department_with_active_matters_cannot_retire(catalog_base: Api) -> None:
    catalog_base.post("/api/v1/matters", matter_payload())
    response = catalog_base.post("/api/v1/departments/SC/retire")
    assert response.status_code == 409
    assert response.json["error"]["details"]["matters"] == ["11450981MB0001"]
    window = catalog_base.post("/api/v1/windows/W01/retire")
    assert window.status_code == 409


def test_service_reinstates_a_department_so_its_matter_can_come_back(db: Database) -> None:
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        catalog.create_department("SC", "市场监督管理局")
        catalog.create_window("W01", "市场监管窗口", "一楼A区", ["SC"])
        catalog.create_matter(new_matter())
        catalog.retire_matter("11450981MB0001")
        catalog.retire_department("SC")
        with pytest.raises(Conflict):
            catalog.reinstate_matter("11450981MB0001")

        department = catalog.reinstate_department("SC")
        assert department.retired_at is None
        assert [d.code for d in catalog.list_departments()] == ["SC"]
        # the department's matters stay retired until each is reinstated
        assert catalog.matter("11450981MB0001").retired_at is not None
        assert catalog.reinstate_matter("11450981MB0001").retired_at is None
        # reinstating an active department changes nothing
        assert catalog.reinstate_department("SC").retired_at is None


def test_service_refuses_a_window_whose_every_department_is_retired(db: Database) -> None:
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        catalog.create_department("SC", "市场监督管理局")
        catalog.create_department("ZJ", "住房和城乡建设局")
        catalog.create_window("W01", "市场监管窗口", "", ["SC", "ZJ"])
        catalog.create_window("W02", "住建窗口", "", ["ZJ"])
        for window in ("W01", "W02"):
            catalog.retire_window(window)
        catalog.retire_department("ZJ")

        with pytest.raises(Conflict) as refused:
            catalog.reinstate_window("W02")
        assert refused.value.details == {"departments": ["ZJ"]}
        assert "所属的部门均已撤销（ZJ）" in refused.value.message
        assert "only retired departments (ZJ)" in refused.value.message.in_locale("en")
        assert catalog.window("W02").retired_at is not None

        # W01 still serves SC, an active department
        assert catalog.reinstate_window("W01").retired_at is None
        assert [w.code for w in catalog.list_windows()] == ["W01"]

        catalog.retire_department("SC")
        catalog.retire_window("W01")
        with pytest.raises(Conflict) as both:
            catalog.reinstate_window("W01")
        assert both.value.details == {"departments": ["SC", "ZJ"]}


def test_service_reinstating_an_active_window_changes_nothing(db: Database) -> None:
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        catalog.create_department("SC", "市场监督管理局")
        catalog.create_window("W01", "市场监管窗口", "", ["SC"])
        catalog.retire_department("SC")
        # active already: nothing to bring back, so nothing to refuse
        assert catalog.reinstate_window("W01").retired_at is None


def test_service_reinstates_without_committing(db: Database) -> None:
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        catalog.create_department("SC", "市场监督管理局")
        catalog.create_window("W01", "市场监管窗口", "", ["SC"])
        catalog.retire_window("W01")
        catalog.retire_department("SC")
    with db.sessions() as session:
        catalog = CatalogService(session)
        catalog.reinstate_department("SC")
        catalog.reinstate_window("W01")
        session.rollback()
    with db.sessions() as session:
        catalog = CatalogService(session)
        assert catalog.department("SC").retired_at is not None
        assert catalog.window("W01").retired_at is not None


def test_reinstate_endpoints_bring_back_a_department_and_its_window(catalog_base: Api) -> None:
    catalog_base.post("/api/v1/matters", matter_payload())
    assert catalog_base.post("/api/v1/matters/11450981MB0001/retire").status_code == 200
    assert catalog_base.post("/api/v1/windows/W01/retire").status_code == 200
    assert catalog_base.post("/api/v1/departments/SC/retire").status_code == 200
    assert catalog_base.post("/api/v1/matters/11450981MB0001/reinstate").status_code == 409

    window = catalog_base.post("/api/v1/windows/W01/reinstate")
    assert window.status_code == 409
    assert window.json["error"]["code"] == "conflict"
    assert window.json["error"]["details"]["departments"] == ["SC"]

    department = catalog_base.post("/api/v1/departments/SC/reinstate")
    assert department.status_code == 200, department.json
    assert department.json == {"code": "SC", "name": "市场监督管理局", "retired_at": None}
    assert "SC" in {d["code"] for d in catalog_base.get("/api/v1/departments").json}

    window = catalog_base.post("/api/v1/windows/W01/reinstate")
    assert window.status_code == 200, window.json
    assert window.json["retired_at"] is None
    assert window.json["departments"] == [{"code": "SC", "name": "市场监督管理局"}]
    assert [w["code"] for w in catalog_base.get("/api/v1/windows").json] == ["W01"]
    assert catalog_base.post("/api/v1/matters/11450981MB0001/reinstate").status_code == 200

    # on an active record reinstating is a no-op, not an error
    assert catalog_base.post("/api/v1/departments/SC/reinstate").status_code == 200
    assert catalog_base.post("/api/v1/windows/W01/reinstate").status_code == 200


def test_reinstating_an_unknown_department_or_window_is_not_found(catalog_base: Api) -> None:
    for path in ("/api/v1/departments/NOPE/reinstate", "/api/v1/windows/NOPE/reinstate"):
        response = catalog_base.post(path)
        assert response.status_code == 404, path
        assert response.json["error"]["code"] == "not_found"
        assert response.json["error"]["details"] == {"code": "NOPE"}


def test_reinstating_needs_catalog_manage(
    catalog_base: Api, make_user: Callable[..., Api]
) -> None:
    assert catalog_base.post("/api/v1/windows/W01/retire").status_code == 200
    assert catalog_base.post("/api/v1/departments/GA/retire").status_code == 200
    supervisor = make_user(Role.SUPERVISOR)
    for path in ("/api/v1/departments/GA/reinstate", "/api/v1/windows/W01/reinstate"):
        response = supervisor.post(path)
        assert response.status_code == 403, path
        assert response.json["error"]["code"] == "forbidden"
    assert catalog_base.get("/api/v1/departments/GA").json["retired_at"] is not None
    assert catalog_base.get("/api/v1/windows/W01").json["retired_at"] is not None


def test_window_cannot_drop_a_department_it_still_handles(catalog_base: Api) -> None:
    catalog_base.post("/api/v1/departments", {"code": "ZJ", "name": "住房和城乡建设局"})
    catalog_base.post("/api/v1/matters", matter_payload())
    response = catalog_base.patch("/api/v1/windows/W01", {"department_codes": ["ZJ"]})
    assert response.status_code == 422
    ok = catalog_base.patch("/api/v1/windows/W01", {"department_codes": ["SC", "ZJ"]})
    assert ok.status_code == 200
    assert [d["code"] for d in ok.json["departments"]] == ["SC", "ZJ"]


def test_staff_records(catalog_base: Api) -> None:
    response = catalog_base.post(
        "/api/v1/staff",
        {"code": "S001", "name": "李娜", "staff_type": "public_institution",
         "department_code": "SC", "window_code": "W01", "position": "窗口负责人"},
    )
    assert response.status_code == 201, response.json
    assert response.json["window"]["code"] == "W01"
    bad = catalog_base.post(
        "/api/v1/staff", {"code": "S002", "name": "王", "staff_type": "contractor"}
    )
    assert bad.status_code == 422
    assert "staff_type" in bad.json["error"]["details"]["fields"]
    left = catalog_base.patch("/api/v1/staff/S001", {"active": False})
    assert left.status_code == 200
    assert catalog_base.get("/api/v1/staff").json == []
    assert len(catalog_base.get("/api/v1/staff?include_inactive=true").json) == 1


def test_guide_search_by_keyword_department_and_material(
    catalog_base: Api, anonymous: Api
) -> None:
    catalog_base.post("/api/v1/departments", {"code": "ZJ", "name": "住房和城乡建设局"})
    catalog_base.patch("/api/v1/windows/W01", {"department_codes": ["SC", "ZJ"]})
    catalog_base.post("/api/v1/matters", matter_payload())
    catalog_base.post(
        "/api/v1/matters",
        matter_payload(
            code="11450981ZJ0001", name="建筑工程施工许可", department_code="ZJ",
            conditions="已经办理用地批准手续", materials=[{"name": "建设工程规划许可证"}],
        ),
    )
    by_name = anonymous.get("/api/v1/guide/matters?q=施工").json["items"]
    assert [m["code"] for m in by_name] == ["11450981ZJ0001"]
    by_material = anonymous.get("/api/v1/guide/matters?q=营业执照").json["items"]
    assert [m["code"] for m in by_material] == ["11450981MB0001"]
    by_department = anonymous.get("/api/v1/guide/matters?department=ZJ")
    assert by_department.json["total"] == 1
    first = anonymous.get("/api/v1/guide/matters?per_page=1").json
    assert (first["total"], first["total_exact"], first["per_page"]) == (2, True, 1)
    second = anonymous.get(f"/api/v1/guide/matters?per_page=1&cursor={first['next_cursor']}")
    assert second.json["next_cursor"] is None  # the last page
    assert [m["code"] for m in first["items"] + second.json["items"]] == [
        "11450981MB0001", "11450981ZJ0001"]  # by code
    wildcard = anonymous.get("/api/v1/guide/matters?q=%25").json
    assert (wildcard["items"], wildcard["total"], wildcard["next_cursor"]) == ([], 0, None)
    guide = anonymous.get("/api/v1/guide/matters/11450981ZJ0001").json
    assert guide["materials"][0]["name"] == "建设工程规划许可证"
    assert "retired_at" not in guide
    departments = anonymous.get("/api/v1/guide/departments").json
    assert {d["code"] for d in departments} == {"GA", "SC", "ZJ"}


def test_guide_search_finds_keywords_and_the_departments_name(
    catalog_base: Api, anonymous: Api, db: Database
) -> None:
    catalog_base.post("/api/v1/departments", {"code": "ZJ", "name": "住房和城乡建设局"})
    catalog_base.patch("/api/v1/windows/W01", {"department_codes": ["SC", "ZJ"]})
    made = catalog_base.post("/api/v1/matters", matter_payload(
        code="11450981SC0001", name="个体工商户设立登记", materials=[{"name": "申请书"}],
        keywords=[" 营业执照 ", "个体户", "营业执照"]))
    assert made.status_code == 201, made.json
    assert made.json["keywords"] == ["营业执照", "个体户"]  # trimmed, each once
    catalog_base.post("/api/v1/matters", matter_payload(
        code="11450981ZJ0001", name="建筑工程施工许可", department_code="ZJ",
        materials=[{"name": "建设工程规划许可证"}]))

    def codes(query: str) -> list[str]:
        found = anonymous.get(f"/api/v1/guide/matters?q={query}")
        assert found.status_code == 200, found.json
        return [m["code"] for m in found.json["items"]]

    assert codes("营业执照") == ["11450981SC0001"]  # a keyword, not in its name
    assert codes("个体户") == ["11450981SC0001"]
    assert codes("住房和城乡") == ["11450981ZJ0001"]  # the department's name
    assert codes("市场监督") == ["11450981SC0001"]
    assert anonymous.get("/api/v1/guide/matters/11450981SC0001").json["keywords"] == [
        "营业执照", "个体户"]

    # left out of an update: kept; given: replaced
    changed = catalog_base.patch("/api/v1/matters/11450981SC0001", {"name": "个体户设立登记"})
    assert changed.json["keywords"] == ["营业执照", "个体户"]
    replaced = catalog_base.patch("/api/v1/matters/11450981SC0001", {"keywords": ["开店"]})
    assert replaced.json["keywords"] == ["开店"]
    assert codes("营业执照") == []

    # bad keywords are named and change nothing
    for bad in (["字" * 51], ["一\n二"], ["词"] * 31, "开店", [""]):
        refused = catalog_base.patch("/api/v1/matters/11450981SC0001", {"keywords": bad})
        assert refused.status_code == 422, bad
        assert "keywords" in refused.json["error"]["details"]["fields"], bad
    assert anonymous.get("/api/v1/guide/matters/11450981SC0001").json["keywords"] == ["开店"]


def test_the_placeholder_department_is_never_shown_to_citizens(
    catalog_base: Api, anonymous: Api, db: Database, client: Any
) -> None:
    from node.catalog.models import STANDARD_DEPARTMENT_CODE
    from node.catalog.publishing import STANDARD_DEPARTMENT_NAME

    made = catalog_base.post("/api/v1/departments", {"code": STANDARD_DEPARTMENT_CODE,
                                                     "name": STANDARD_DEPARTMENT_NAME})
    assert made.status_code == 201
    catalog_base.post("/api/v1/matters", matter_payload(
        code="STD-0001", name="个体工商户设立登记", department_code=STANDARD_DEPARTMENT_CODE,
        window_code=None, entered=False, powers={}))
    catalog_base.post("/api/v1/matters", matter_payload())

    departments = anonymous.get("/api/v1/guide/departments").json
    assert {d["code"] for d in departments} == {"GA", "SC"}
    assert anonymous.get("/api/v1/guide/matters/STD-0001").json["department"] is None
    assert anonymous.get("/api/v1/guide/matters/11450981MB0001").json["department"] == {
        "code": "SC", "name": "市场监督管理局"}
    listed = anonymous.get("/api/v1/guide/matters").json["items"]
    assert [m["department"] for m in listed if m["code"] == "STD-0001"] == [None]
    for path in ("/", "/guide", "/guide?q=个体工商户", "/guide/STD-0001"):
        page = client.get(path)
        assert page.status_code == 200, path
        text = page.get_data(as_text=True)
        assert STANDARD_DEPARTMENT_NAME not in text, path
        assert "个体工商户设立登记" in text or path == "/", path
    assert "实施部门" not in client.get("/guide/STD-0001").get_data(as_text=True)
    assert "市场监督管理局" in client.get("/guide/11450981MB0001").get_data(as_text=True)
    # staff still see where it sits, to assign it
    admin_view = catalog_base.get("/api/v1/matters/STD-0001").json
    assert admin_view["department"]["name"] == STANDARD_DEPARTMENT_NAME


def test_the_demo_catalog_finds_the_sole_traders_registration_by_business_licence(
    db: Database
) -> None:
    from deploy.demo.catalog import fill_province_catalog

    with db.unit_of_work() as session:
        assert fill_province_catalog(session) > 0
    with db.unit_of_work(write=False) as session:
        found = CatalogService(session).search_matters(query="营业执照")
        names = [matter.name for matter in found.items]
    assert "个体工商户设立登记" in names  # by its keyword: 营业执照 is not in its name
    assert "有限责任公司设立登记" in names


def test_guide_rejects_bad_query_parameters(anonymous: Api) -> None:
    for query, field in (("per_page=1000", "per_page"), ("per_page=0", "per_page"),
                         ("cursor=nonsense", "cursor"), ("cursor=WzFd", "cursor"),  # [1]
                         ("page=2", "page"), ("page_size=10", "page_size")):
        response = anonymous.get(f"/api/v1/guide/matters?{query}")
        assert response.status_code == 422, query
        assert list(response.json["error"]["details"]["fields"]) == [field], query


def test_the_catalog_list_is_paged_by_cursor(catalog_base: Api) -> None:
    codes = [f"11450981MB{n:04d}" for n in range(1, 26)]
    for code in reversed(codes):
        assert catalog_base.post("/api/v1/matters", matter_payload(code)).status_code == 201
    seen: list[str] = []
    cursor = ""
    for _page in range(3):
        response = catalog_base.get(f"/api/v1/matters?per_page=10{cursor}")
        assert response.status_code == 200, response.json
        assert (response.json["total"], response.json["total_exact"]) == (25, True)
        seen += [m["code"] for m in response.json["items"]]
        if response.json["next_cursor"] is None:
            break
        cursor = f"&cursor={response.json['next_cursor']}"
    assert seen == codes  # by code, each once, the last page reached (5 rows)
    assert response.json["next_cursor"] is None
    assert len(response.json["items"]) == 5
    refused = catalog_base.get("/api/v1/matters?cursor=nonsense")
    assert refused.status_code == 422
    assert list(refused.json["error"]["details"]["fields"]) == ["cursor"]
    assert "X-Pagination" not in response.headers


def test_unknown_matter_is_not_found(anonymous: Api) -> None:
    response = anonymous.get("/api/v1/guide/matters/NOPE")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_the_guides_practical_fields_are_edited_and_shown(
    catalog_base: Api, anonymous: Api, client: Any
) -> None:
    assert catalog_base.post("/api/v1/matters", matter_payload()).status_code == 201
    code = "11450981MB0001"
    page = client.get(f"/guide/{code}").get_data(as_text=True)
    # nothing given: the window's name and location stand for the address
    assert re.search(r"<dt>办理地点</dt><dd>[^<]+（[^<]*）</dd>", page)
    assert "<dt>咨询电话</dt><dd>—</dd>" in page

    bad = catalog_base.patch(f"/api/v1/matters/{code}", {"enquiry_phone": "请拨打热线",
                                                         "office_hours": "全天"})
    assert bad.status_code == 422
    assert set(bad.json["error"]["details"]["fields"]) == {"enquiry_phone"}
    assert catalog_base.get(f"/api/v1/matters/{code}").json["office_hours"] == ""

    practical = {"service_address": "市民中心一楼 A 区", "office_hours": "工作日 9:00-17:00",
                 "enquiry_phone": "0775-1234567", "complaint_phone": "0775-12345"}
    assert catalog_base.patch(f"/api/v1/matters/{code}", practical).status_code == 200
    guide = anonymous.get(f"/api/v1/guide/matters/{code}").json
    assert {k: guide[k] for k in practical} == practical
    page = client.get(f"/guide/{code}").get_data(as_text=True)
    for label, value in zip(("办理地点", "办公时间", "咨询电话", "监督投诉电话"),
                            practical.values(), strict=True):
        assert f"<dt>{label}</dt><dd>{value}</dd>" in page


def test_the_schemas_load_the_services_typed_inputs() -> None:
    """A new matter and a change load as the dataclasses the service takes; a change gives
    only the fields sent (a window of None is "no window", not "unchanged")."""
    new = new_matter()
    assert isinstance(new, NewMatter)
    assert new.handling_type is HandlingType.PROMISED
    assert new.materials[1] == MaterialInput(name="营业执照复印件", form=MaterialForm.COPY)
    assert new.keywords is UNSET  # left out: none for a new matter
    changes = MatterPatchSchema().load({"name": "新名称", "window_code": None})
    assert changes == MatterChanges(name="新名称", window_code=None)
    assert changes.given() == {"name": "新名称", "window_code": None}
    staff = StaffMemberPatchSchema(partial=True).load({"staff_type": "temporary"})
    assert staff == StaffChanges(staff_type=StaffType.TEMPORARY)
    assert staff.given() == {"staff_type": StaffType.TEMPORARY}


def test_the_openapi_document_describes_the_cursor_pages(anonymous: Api) -> None:
    document = anonymous.get("/api/v1/openapi.json").json
    paths, schemas = document["paths"], document["components"]["schemas"]
    for path in ("/api/v1/matters", "/api/v1/guide/matters",
                 "/api/v1/metrics/patterns/{pattern}", "/api/v1/cases",
                 "/api/v1/supervision/warnings", "/api/v1/supervision/complaints",
                 "/api/v1/supervision/rectifications"):
        get = paths[path]["get"]
        names = {p["name"] for p in get["parameters"] if p["in"] == "query"}
        assert {"cursor", "before", "per_page"} <= names, path  # 下一页 and 上一页
        answer = get["responses"]["200"]["content"]["application/json"]["schema"]
        assert "CursorPage" in answer["$ref"], path  # the envelope, not a bare array
        envelope = schemas[answer["$ref"].rsplit("/", 1)[1]]["properties"]
        assert {"next_cursor", "prev_cursor"} <= set(envelope), path
