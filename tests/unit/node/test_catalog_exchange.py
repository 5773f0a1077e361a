"""Catalog export and import as a JSON document and as an XLSX workbook."""

from __future__ import annotations

import copy
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import func, select

from node import create_app
from node.auth.models import User
from node.auth.permissions import Role
from node.auth.service import hash_password
from node.catalog.exchange import CatalogExchange
from node.catalog.models import Department, Matter
from node.catalog.problems import CatalogImportError
from node.catalog.service import CatalogService
from node.catalog.workbook import read_workbook
from node.models import Base
from schemas.errors import ValidationFailed
from schemas.runtime.database import Database
from schemas.runtime.spreadsheet import XLSX_MEDIA_TYPE
from tests.conftest import PG_URL, node_config
from tests.databases import Templates
from tests.unit.node.conftest import PASSWORD, Api, matter_payload

# a material's file rule when none is given (a document or workbook made before the rules)
DEFAULT_RULE = {"electronic_accepted": True, "file_types": ["pdf", "jpg", "png"],
                "max_file_bytes": None}

EXPORT = "/api/v1/catalog/export"
IMPORT = "/api/v1/catalog/import"
SHEET_TITLES = ["部门", "窗口", "人员", "事项", "申报材料"]
BUNDLE_SHEETS = ["一件事", "一件事材料"]  # written on export, never read on import


# -- fixtures and helpers ------------------------------------------------------------------------


@pytest.fixture
def catalog(catalog_base: Api) -> Api:
    """A catalog with two windows, staff, two active matters, one retired and a leaver."""
    admin = catalog_base
    calls = [
        ("/api/v1/windows", {"code": "W02", "name": "综合窗口", "location": "二楼",
                             "department_codes": ["SC", "GA"]}),
        ("/api/v1/staff", {"code": "S001", "name": "李敏", "staff_type": "civil_servant",
                           "department_code": "SC", "window_code": "W01", "position": "首席代表"}),
        ("/api/v1/staff", {"code": "S002", "name": "王芳", "staff_type": "temporary"}),
        ("/api/v1/staff", {"code": "S003", "name": "赵强", "staff_type": "public_institution",
                           "active": False}),
        ("/api/v1/matters", matter_payload()),
        ("/api/v1/matters", matter_payload(
            "11450981GA0002", name="居民身份证换领", category="public_service",
            department_code="GA", window_code="W02", handling_type="immediate",
            legal_limit_days=0, promised_limit_days=0, notify_and_commit=True,
            fee_amount_fen=2000, fee_basis="=价格主管部门核定", materials=[],
            powers={"accept": True, "deliver": True},
        )),
        ("/api/v1/matters", matter_payload("11450981MB0099", name="已取消的事项")),
    ]
    for path, payload in calls:
        response = admin.post(path, payload)
        assert response.status_code == 201, response.json
    assert admin.post("/api/v1/matters/11450981MB0099/retire").status_code == 200
    return admin


def _second_database(database_url: str, tmp_path: Path, templates: Templates) -> Iterator[str]:
    """A database of the same kind as ``database_url`` holding the node's tables and no rows
    (from the template: tests/databases.py), dropped or emptied afterwards."""
    if database_url.startswith("sqlite"):
        templates.copy_sqlite("node", tmp_path / "fresh.db")
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    with templates.postgresql_schema(PG_URL, "node") as url:
        yield url


@pytest.fixture
def fresh(database_url: str, tmp_path: Path, templates: Templates) -> Iterator[Api]:
    """An administrator of a second node on an empty catalog (no departments at all)."""
    for url in _second_database(database_url, tmp_path, templates):
        app = create_app(node_config(url, max_content_length=64 * 1024))
        db: Database = app.extensions["tongban_db"]
        Base.metadata.create_all(db.engine)
        with db.unit_of_work() as session:
            session.add(User(username="root", display_name="root", role=Role.ADMIN,
                             password_hash=hash_password(PASSWORD), active=True))
        client = app.test_client()
        response = client.post("/api/v1/auth/login",
                               json={"username": "root", "password": PASSWORD})
        assert response.status_code == 200, response.json
        assert response.json is not None
        yield Api(client, response.json["token"])
        db.dispose()


def export_json(api: Api) -> dict[str, Any]:
    response = api.get(EXPORT)
    assert response.status_code == 200, response.json
    return response.json


def export_xlsx(api: Api) -> bytes:
    response = api.get(EXPORT, query_string={"format": "xlsx"})
    assert response.status_code == 200, response.data[:200]
    return response.data


def without_time(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key != "exported_at"}


def upload(api: Api, content: bytes, filename: str = "catalog.xlsx") -> Any:
    return api.post(IMPORT, data={"file": (io.BytesIO(content), filename)},
                    content_type="multipart/form-data")


def workbook_bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def headings(sheet: Worksheet) -> list[Any]:
    return [cell.value for cell in sheet[1]]


def set_cell(sheet: Worksheet, row: int, heading: str, value: Any) -> None:
    sheet.cell(row=row, column=headings(sheet).index(heading) + 1, value=value)


def append_copy(sheet: Worksheet, row: int, **changes: Any) -> int:
    """Append a copy of ``row`` with some cells changed (by heading); return its number."""
    values = [cell.value for cell in sheet[row]]
    for heading, value in changes.items():
        values[headings(sheet).index(heading)] = value
    sheet.append(values)
    return sheet.max_row


def matter_count(db: Database) -> int:
    with db.sessions() as session:
        return session.scalar(select(func.count(Matter.id))) or 0


def matter(api: Api, code: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/matters/{code}")
    assert response.status_code == 200, response.json
    return response.json


# -- export --------------------------------------------------------------------------------------


def test_json_export_holds_the_active_catalog_with_every_field(catalog: Api) -> None:
    document = export_json(catalog)

    assert document["format"] == "tongban.catalog"
    assert document["version"] == 1
    assert document["node"] == "450981"
    assert document["exported_at"].endswith("+00:00")
    assert [d["code"] for d in document["departments"]] == ["GA", "SC"]
    assert document["windows"][1] == {"code": "W02", "name": "综合窗口", "location": "二楼",
                                      "department_codes": ["GA", "SC"]}
    assert [s["code"] for s in document["staff"]] == ["S001", "S002"]  # the leaver is left out
    assert document["staff"][0] == {"code": "S001", "name": "李敏", "staff_type": "civil_servant",
                                    "department_code": "SC", "window_code": "W01",
                                    "position": "首席代表", "active": True}
    codes = [m["code"] for m in document["matters"]]
    assert codes == ["11450981GA0002", "11450981MB0001"]  # the retired matter is left out
    exported = document["matters"][1]
    expected = matter_payload()
    expected["materials"][0]["note"] = expected["materials"][1]["note"] = ""
    for item in expected["materials"]:  # no file rule given: the defaults
        item.update(DEFAULT_RULE)
    expected["keywords"] = []  # none given
    expected.update(service_address="", office_hours="", enquiry_phone="",
                    complaint_phone="", online=True)  # none given (online: the default)
    expected.update(tongban_scope="none", competence="matter")  # not 通办 unless marked
    assert exported == expected


# the catalog document's fields in the order the exchange writes them (the HTTP answer sorts
# its keys; a file written from the document, a diff of two exports and a reader going by
# position see this order): one declaration of a matter's fields (node/catalog/items.py)
# gives it, and this pins it
DOCUMENT_KEYS = ["format", "version", "exported_at", "node", "departments", "windows", "staff",
                 "matters", "bundles"]  # 一件事, for reading (never imported)
MATTER_KEYS = [
    "code", "name", "category", "department_code", "window_code", "handling_level",
    "handling_type", "notify_and_commit", "deemed_approval", "legal_limit_days",
    "promised_limit_days", "should_enter", "entered", "online", "legal_basis", "procedure",
    "conditions",
    "fee_basis", "fee_standard", "fee_amount_fen", "complaint_channel", "window_authority",
    "keywords", "service_address", "office_hours", "enquiry_phone", "complaint_phone",
    "tongban_scope", "competence", "powers", "materials",
]
MATERIAL_KEYS = ["name", "required", "form", "copies", "note", "electronic_accepted", "file_types",
                 "max_file_bytes"]


def test_the_catalog_document_lists_its_fields_in_the_documents_order(catalog: Api) -> None:
    app = catalog.client.application
    with app.extensions["tongban_db"].unit_of_work(write=False) as session:
        document = CatalogExchange(session).export_document("450981")
    assert list(document) == DOCUMENT_KEYS
    matter = document["matters"][1]
    assert list(matter) == MATTER_KEYS
    assert list(matter["materials"][0]) == MATERIAL_KEYS
    assert list(document["windows"][0]) == ["code", "name", "location", "department_codes"]
    assert list(document["staff"][0]) == ["code", "name", "staff_type", "department_code",
                                          "window_code", "position", "active"]


def test_json_export_imports_into_an_empty_node_unchanged(catalog: Api, fresh: Api) -> None:
    document = export_json(catalog)

    response = fresh.post(IMPORT, document)

    assert response.status_code == 200, response.json
    assert response.json == {
        "created": {"departments": 2, "windows": 2, "staff": 2, "matters": 2},
        "updated": {"departments": 0, "windows": 0, "staff": 0, "matters": 0},
        "reinstated": {"matters": 0},
    }
    assert without_time(export_json(fresh)) == without_time(document)


def test_xlsx_export_has_chinese_sheets_headings_and_values(catalog: Api) -> None:
    response = catalog.get(EXPORT, query_string={"format": "xlsx"})

    assert response.status_code == 200
    assert response.mimetype == XLSX_MEDIA_TYPE
    assert response.headers["Content-Disposition"] == 'attachment; filename="catalog-450981.xlsx"'
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == SHEET_TITLES + BUNDLE_SHEETS
    matters = workbook["事项"]
    assert headings(matters) == [
        "事项编码", "事项名称", "事项类型", "主管部门编码", "窗口编码", "办理层级", "办件类型",
        "告知承诺制", "超时默认许可", "法定时限（工作日）", "承诺时限（工作日）", "应进", "实进",
        "设立依据", "办理程序", "申请条件", "收费依据", "收费标准", "收费金额（元）", "投诉渠道",
        "窗口权限", "受理权", "审核权", "协调处置权", "送达权", "应诉代理权", "制证权", "审批权",
        "关键词", "办理地点", "办公时间", "咨询电话", "监督投诉电话", "通办范围", "管辖规则",
    ]
    assert headings(workbook["申报材料"]) == [
        "事项编码", "材料名称", "是否必需", "材料形式", "份数", "备注", "接受电子文件", "文件格式",
        "单个文件上限（MB）",
    ]
    assert headings(workbook["部门"]) == ["部门编码", "部门名称"]
    assert headings(workbook["窗口"])[3] == "服务部门编码"
    assert headings(workbook["人员"])[2] == "人员类型"
    licence = dict(zip(headings(matters), [c.value for c in matters[3]], strict=True))
    assert licence["事项编码"] == "11450981MB0001"
    assert (licence["事项类型"], licence["办理层级"], licence["办件类型"]) == (
        "行政许可", "县级", "承诺件"
    )
    assert (licence["实进"], licence["应诉代理权"], licence["审批权"]) == ("是", "否", "是")
    assert licence["法定时限（工作日）"] == 20
    service = dict(zip(headings(matters), [c.value for c in matters[2]], strict=True))
    assert service["收费依据"] == "=价格主管部门核定"  # text, not a formula
    assert [c.value for c in workbook["申报材料"][4]] == [
        "11450981MB0001", "法定代表人身份证明", "否", "原件及复印件", 1, "委托办理时提供", "是",
        "pdf、jpg、png", None,
    ]
    assert workbook["窗口"]["D3"].value == "GA、SC"
    assert workbook["人员"]["C2"].value == "公务员"
    assert matters.freeze_panes == "A2"
    assert matters.column_dimensions["B"].width >= 20


def test_xlsx_export_imports_into_an_empty_node_unchanged(catalog: Api, fresh: Api) -> None:
    document = export_json(catalog)

    response = upload(fresh, export_xlsx(catalog))

    assert response.status_code == 200, response.json
    assert response.json["created"] == {"departments": 2, "windows": 2, "staff": 2, "matters": 2}
    assert without_time(export_json(fresh)) == without_time(document)


def test_reimporting_an_export_updates_every_item_and_changes_nothing(catalog: Api) -> None:
    before = export_json(catalog)

    response = catalog.post(IMPORT, data=export_xlsx(catalog), content_type=XLSX_MEDIA_TYPE)

    assert response.status_code == 200, response.json
    assert response.json["updated"] == {"departments": 2, "windows": 2, "staff": 2, "matters": 2}
    assert response.json["created"] == {"departments": 0, "windows": 0, "staff": 0, "matters": 0}
    assert without_time(export_json(catalog)) == without_time(before)


def test_keywords_travel_in_json_and_xlsx_and_an_older_document_keeps_them(
    catalog: Api, fresh: Api
) -> None:
    changed = catalog.patch("/api/v1/matters/11450981MB0001",
                            {"keywords": ["餐饮", "开饭店", "小卖部"]})
    assert changed.status_code == 200, changed.json
    document = export_json(catalog)
    assert document["matters"][1]["keywords"] == ["餐饮", "开饭店", "小卖部"]
    workbook = load_workbook(io.BytesIO(export_xlsx(catalog)))
    row = {heading: cell.value for heading, cell in zip(
        [c.value for c in workbook["事项"][1]], workbook["事项"][3], strict=True)}
    assert (row["事项编码"], row["关键词"]) == ("11450981MB0001", "餐饮、开饭店、小卖部")

    response = upload(fresh, export_xlsx(catalog))
    assert response.status_code == 200, response.json
    assert without_time(export_json(fresh)) == without_time(document)

    # a document made before keywords existed: valid, and the keywords stay as they are
    older = copy.deepcopy(document)
    for matter in older["matters"]:
        del matter["keywords"]
        matter["name"] += "（新）"
    response = fresh.post(IMPORT, older)
    assert response.status_code == 200, response.json
    after = export_json(fresh)["matters"][1]
    assert (after["name"], after["keywords"]) == ("食品经营许可证核发（新）",
                                                  ["餐饮", "开饭店", "小卖部"])


def test_the_fee_is_a_number_of_yuan_and_older_workbooks_in_fen_still_import(
    catalog: Api, db: Database
) -> None:
    """收费金额（元）: a number formatted #,##0.00"元" (20 元 for 2000 分); 元 with at most two
    decimals imports as 分, an old 收费金额（分） column as it is; a bad amount is refused by
    row and column, and nothing changes."""
    workbook = load_workbook(io.BytesIO(export_xlsx(catalog)))
    matters = workbook["事项"]
    column = headings(matters).index("收费金额（元）") + 1
    fee = matters.cell(row=2, column=column)
    assert matters.cell(row=2, column=1).value == "11450981GA0002"
    assert (fee.value, fee.number_format) == (20, '#,##0.00"元"')
    assert matters.cell(row=3, column=column).value == 0

    set_cell(matters, 2, "收费金额（元）", 1640.5)
    set_cell(matters, 3, "收费金额（元）", "1,234.56元")
    response = upload(catalog, workbook_bytes(workbook))
    assert response.status_code == 200, response.json
    assert matter(catalog, "11450981GA0002")["fee_amount_fen"] == 164050
    assert matter(catalog, "11450981MB0001")["fee_amount_fen"] == 123456

    count_before = matter_count(db)
    bad = {}
    for amount in ("12.345", "abc", -1, "20分"):
        bad[append_copy(matters, 3, 事项编码=f"NEW-{len(bad)}",
                        **{"收费金额（元）": amount})] = amount
    response = upload(catalog, workbook_bytes(workbook))
    assert response.status_code == 422, response.json
    rows = response.json["error"]["details"]["rows"]
    assert {(r["sheet"], r["row"], r["column"]): r["reason"] for r in rows} == {
        ("事项", bad_row, "收费金额（元）"): reason for bad_row, reason in zip(bad, [
            "金额最多两位小数（精确到分）", "请填写金额（元），例如 20 或 20.50",
            "金额须在 0 至 1000000000 元之间", "请填写金额（元），例如 20 或 20.50"],
            strict=True)}
    assert matter_count(db) == count_before

    # a workbook made before the fee was in 元: its 收费金额（分） column is read as 分
    matters.cell(row=1, column=column).value = "收费金额（分）"
    for row in sorted(bad, reverse=True):
        matters.delete_rows(row)
    set_cell(matters, 2, "收费金额（分）", 2500)
    set_cell(matters, 3, "收费金额（分）", 99)
    response = upload(catalog, workbook_bytes(workbook))
    assert response.status_code == 200, response.json
    assert matter(catalog, "11450981GA0002")["fee_amount_fen"] == 2500
    assert matter(catalog, "11450981MB0001")["fee_amount_fen"] == 99
    # both columns at once are refused, by the column's name
    matters.cell(row=1, column=matters.max_column + 1).value = "收费金额（元）"
    response = upload(catalog, workbook_bytes(workbook))
    assert response.status_code == 422, response.json
    assert [(r["row"], r["column"]) for r in response.json["error"]["details"]["rows"]] == [
        (1, "收费金额（元）")]


# -- import: all or nothing ------------------------------------------------------------------------


def test_xlsx_with_bad_rows_reports_every_one_and_changes_nothing(
    catalog: Api, db: Database
) -> None:
    workbook = load_workbook(io.BytesIO(export_xlsx(catalog)))
    matters, materials = workbook["事项"], workbook["申报材料"]
    assert matters["A3"].value == "11450981MB0001"
    unknown_department = append_copy(matters, 3, 事项编码="NEW-1", 主管部门编码="XX")
    not_a_number = append_copy(matters, 3, 事项编码="NEW-2", **{
        "法定时限（工作日）": "abc", "事项类型": "特殊审批"
    })
    duplicate = append_copy(matters, 3)
    set_cell(matters, 3, "承诺时限（工作日）", 30)  # more than the legal 20 days
    orphan = append_copy(materials, 2, 事项编码="NOPE")
    count_before = matter_count(db)

    response = upload(catalog, workbook_bytes(workbook))

    assert response.status_code == 422, response.json
    error = response.json["error"]
    assert error["code"] == "validation_failed"
    rows = error["details"]["rows"]
    assert {(r["sheet"], r["row"], r["column"]) for r in rows} == {
        ("事项", 3, "承诺时限（工作日）"),
        ("事项", unknown_department, "主管部门编码"),
        ("事项", not_a_number, "法定时限（工作日）"),
        ("事项", not_a_number, "事项类型"),
        ("事项", duplicate, "事项编码"),
        ("申报材料", orphan, "事项编码"),
    }
    reasons = {(r["row"], r["column"]): r["reason"] for r in rows if r["sheet"] == "事项"}
    assert "不得超过法定时限" in reasons[(3, "承诺时限（工作日）")]
    assert "'XX'" in reasons[(unknown_department, "主管部门编码")]
    assert reasons[(not_a_number, "法定时限（工作日）")] == "不是有效的整数。"
    assert "行政许可" in reasons[(not_a_number, "事项类型")]
    assert "重复出现（首次在第 3 行）" in reasons[(duplicate, "事项编码")]
    assert all(r["reason"] for r in rows)
    assert matter_count(db) == count_before
    assert matter(catalog, "11450981MB0001")["promised_limit_days"] == 5


def test_json_problems_name_the_list_item_and_field(catalog: Api, db: Database) -> None:
    document = export_json(catalog)
    document["matters"][0]["window_code"] = "W99"
    document["matters"][1]["materials"][1]["copies"] = 0
    document["matters"][1]["powers"]["approve"] = "maybe"
    document["windows"][0]["department_codes"] = ["SC", "NOPE"]
    document["staff"].append({"code": "S009", "name": "新人"})
    document["surprise"] = True
    count_before = matter_count(db)

    response = catalog.post(IMPORT, document)

    assert response.status_code == 422, response.json
    rows = response.json["error"]["details"]["rows"]
    assert [(r["sheet"], r["row"], r["column"]) for r in rows] == [
        ("document", None, "surprise"),
        ("windows", 1, "department_codes[2]"),
        ("staff", 3, "staff_type"),
        ("matters", 1, "window_code"),
        ("matters", 2, "powers.approve"),
        ("matters", 2, "materials[2].copies"),
    ]
    assert matter_count(db) == count_before


def test_import_updates_existing_and_creates_new_matters(catalog_base: Api) -> None:
    admin = catalog_base
    assert admin.post("/api/v1/matters", matter_payload()).status_code == 201
    changed = matter_payload(name="食品经营许可证核发（新）", promised_limit_days=3,
                             materials=[{"name": "申请书", "required": True, "form": "electronic",
                                         "copies": 2, "note": ""}])
    added = matter_payload("11450981MB0002", name="食品生产许可", entered=False,
                           window_code=None, powers={}, materials=[])
    document = {"format": "tongban.catalog", "version": 1, "matters": [changed, added]}

    response = admin.post(IMPORT, document)

    assert response.status_code == 200, response.json
    assert response.json["created"]["matters"] == 1
    assert response.json["updated"]["matters"] == 1
    assert response.json["created"]["departments"] == response.json["updated"]["departments"] == 0
    updated = matter(admin, "11450981MB0001")
    assert updated["name"] == "食品经营许可证核发（新）"
    assert updated["promised_limit_days"] == 3
    assert updated["materials"] == [{**m, **DEFAULT_RULE} for m in changed["materials"]]
    created = matter(admin, "11450981MB0002")
    assert created["window"] is None
    assert created["powers"] == dict.fromkeys(created["powers"], False)


def test_xlsx_rows_accept_english_values_and_blank_cells_take_defaults(
    catalog_base: Api,
) -> None:
    admin = catalog_base
    workbook = load_workbook(io.BytesIO(export_xlsx(admin)))
    matters = workbook["事项"]
    row: list[Any] = [None] * len(headings(matters))
    for heading, value in {
        "事项编码": "11450981MB0003", "事项名称": "广告发布登记", "事项类型": "public_service",
        "主管部门编码": "SC", "办理层级": "city", "办件类型": "promised",
        "法定时限（工作日）": "10", "承诺时限（工作日）": 4.0, "实进": "true", "窗口编码": "W01",
        "受理权": "是",
    }.items():
        row[headings(matters).index(heading)] = value
    matters.append(row)
    workbook["申报材料"].append(["11450981MB0003", "登记申请表", "yes", "copy", 2, None])

    response = upload(admin, workbook_bytes(workbook))

    assert response.status_code == 200, response.json
    created = matter(admin, "11450981MB0003")
    assert (created["category"], created["handling_level"]) == ("public_service", "city")
    assert (created["legal_limit_days"], created["promised_limit_days"]) == (10, 4)
    assert created["should_enter"] is True  # blank: the default
    assert created["powers"]["accept"] is True
    assert created["powers"]["review"] is False
    assert created["materials"] == [
        {"name": "登记申请表", "required": True, "form": "copy", "copies": 2, "note": "",
         **DEFAULT_RULE}
    ]


def test_import_reinstates_a_retired_matter(catalog: Api) -> None:
    retired = matter(catalog, "11450981MB0099")
    assert retired["retired_at"] is not None
    payload = matter_payload("11450981MB0099", name="恢复的事项")

    response = catalog.post(IMPORT, {"format": "tongban.catalog", "version": 1,
                                     "matters": [payload]})

    assert response.status_code == 200, response.json
    assert response.json["reinstated"] == {"matters": 1}
    back = matter(catalog, "11450981MB0099")
    assert back["retired_at"] is None
    assert back["name"] == "恢复的事项"


def test_a_window_stops_serving_a_department_only_with_its_matters_moved(catalog: Api) -> None:
    document = export_json(catalog)
    document["windows"][1]["department_codes"] = ["SC"]  # W02 leaves GA

    in_document = catalog.post(IMPORT, document)
    stranded = catalog.post(IMPORT, {"format": "tongban.catalog", "version": 1,
                                     "windows": [document["windows"][1]]})

    assert in_document.status_code == stranded.status_code == 422
    assert [(r["sheet"], r["row"], r["column"], r["reason"])
            for r in in_document.json["error"]["details"]["rows"]] == [
        ("matters", 1, "window_code", "窗口 'W02' 不服务于部门 'GA'")
    ]
    assert [(r["sheet"], r["row"], r["column"]) for r in stranded.json["error"]["details"]["rows"]
            ] == [("windows", 1, "department_codes")]
    assert "11450981GA0002" in stranded.json["error"]["details"]["rows"][0]["reason"]

    document["matters"][0]["window_code"] = "W03"  # …and its matter moves to a new window
    document["windows"].append({"code": "W03", "name": "公安窗口", "location": "",
                                "department_codes": ["GA"]})
    moved = catalog.post(IMPORT, document)

    assert moved.status_code == 200, moved.json
    assert moved.json["created"]["windows"] == 1
    window = catalog.get("/api/v1/windows/W02").json
    assert [d["code"] for d in window["departments"]] == ["SC"]
    assert matter(catalog, "11450981GA0002")["window"]["code"] == "W03"


def test_a_json_file_can_be_uploaded_as_the_form_field(catalog: Api, fresh: Api) -> None:
    content = json.dumps(export_json(catalog), ensure_ascii=False).encode()

    response = upload(fresh, content, "catalog.json")

    assert response.status_code == 200, response.json
    assert response.json["created"]["matters"] == 2


# -- unreadable uploads --------------------------------------------------------------------------


def test_a_file_that_is_not_a_workbook_is_refused(admin: Api) -> None:
    response = upload(admin, b"this is not a spreadsheet")

    assert response.status_code == 422
    assert response.json["error"]["code"] == "unreadable_workbook"
    assert "XLSX" in response.json["error"]["message"]


def test_a_raw_body_that_is_not_a_workbook_is_refused(admin: Api) -> None:
    response = admin.post(IMPORT, data=b"PK\x03\x04broken", content_type=XLSX_MEDIA_TYPE)

    assert response.status_code == 422
    assert response.json["error"]["code"] == "unreadable_workbook"


def test_a_workbook_without_catalog_sheets_is_refused(admin: Api) -> None:
    workbook = Workbook()
    workbook.active.title = "Sheet1"  # type: ignore[union-attr]

    response = upload(admin, workbook_bytes(workbook))

    assert response.status_code == 422
    assert "事项" in response.json["error"]["message"]


def test_an_upload_without_the_file_field_or_of_another_type_is_refused(admin: Api) -> None:
    missing = admin.post(IMPORT, data={"other": "x"}, content_type="multipart/form-data")
    other_type = admin.post(IMPORT, data="a,b", content_type="text/csv")
    malformed = admin.post(IMPORT, data="{not json", content_type="application/json")

    assert missing.status_code == 422
    assert "file" in missing.json["error"]["details"]["fields"]
    assert other_type.status_code == 415
    assert malformed.status_code == 400


def test_a_document_of_another_format_is_refused(admin: Api) -> None:
    response = admin.post(IMPORT, [1, 2])
    wrong = admin.post(IMPORT, {"format": "other", "version": 2, "matters": {}})

    assert response.status_code == 422
    assert response.json["error"]["details"]["rows"][0]["sheet"] == "document"
    assert {r["column"] for r in wrong.json["error"]["details"]["rows"]} == {
        "format", "version", "matters"
    }


# -- the service without HTTP --------------------------------------------------------------------


def test_the_reader_keeps_sheet_row_and_heading_of_every_item(catalog: Api) -> None:
    source = read_workbook(export_xlsx(catalog))

    assert [m["code"] for m in source.document["matters"]] == ["11450981GA0002", "11450981MB0001"]
    origin = source.origin("matters", 1)
    assert (origin.sheet, origin.row) == ("事项", 3)
    problem = origin.problem(("materials", 2, "copies"), "bad")
    assert (problem.sheet, problem.row, problem.column) == ("申报材料", 4, "份数")
    assert origin.problem(("powers", "issue"), "bad").column == "制证权"


def test_a_failed_import_leaves_the_session_unchanged(catalog: Api, db: Database) -> None:
    with db.sessions() as session:
        exchange = CatalogExchange(session)
        document = exchange.export_document()
        document["matters"][1]["promised_limit_days"] = 99
        with pytest.raises(CatalogImportError) as caught:
            exchange.import_document(document)
        assert caught.value.details["rows"][0]["column"] == "promised_limit_days"
        assert not session.dirty
        assert not session.new


def test_a_rule_broken_while_applying_undoes_the_whole_import(
    catalog_base: Api, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: CatalogService, data: Any) -> Matter:
        raise ValidationFailed({"name": ["refused by a rule the validation does not know"]})

    monkeypatch.setattr(CatalogService, "create_matter", refuse)
    document = {"format": "tongban.catalog", "version": 1,
                "departments": [{"code": "JY", "name": "教育局"}], "matters": [matter_payload()]}
    with db.sessions() as session, session.begin():
        with pytest.raises(CatalogImportError) as caught:
            CatalogExchange(session).import_document(document)
        assert caught.value.details["rows"] == [
            {"sheet": "matters", "row": 1, "column": "name",
             "reason": "refused by a rule the validation does not know"}
        ]
        assert session.scalar(select(Department).where(Department.code == "JY")) is None


# -- who may do it -------------------------------------------------------------------------------


def test_a_clerk_may_export_but_not_import(catalog: Api, make_user: Callable[..., Api]) -> None:
    clerk = make_user(Role.CLERK)

    assert clerk.get(EXPORT).status_code == 200
    assert clerk.get(EXPORT, query_string={"format": "xlsx"}).status_code == 200
    refused = clerk.post(IMPORT, export_json(catalog))
    assert refused.status_code == 403
    assert refused.json["error"]["code"] == "forbidden"


def test_anonymous_requests_need_a_token(anonymous: Api) -> None:
    assert anonymous.get(EXPORT).status_code == 401
    assert anonymous.post(IMPORT, {"format": "tongban.catalog", "version": 1}).status_code == 401


def test_an_unknown_export_format_is_refused(admin: Api) -> None:
    response = admin.get(EXPORT, query_string={"format": "csv"})

    assert response.status_code == 422
    assert "format" in response.json["error"]["details"]["fields"]


def test_the_endpoints_are_documented(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").json

    export = spec["paths"]["/api/v1/catalog/export"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"application/json", XLSX_MEDIA_TYPE}
    body = spec["paths"]["/api/v1/catalog/import"]["post"]["requestBody"]["content"]
    assert "multipart/form-data" in body


def test_practical_fields_travel_in_json_and_xlsx_and_an_older_workbook_keeps_them(
    catalog: Api, fresh: Api
) -> None:
    practical = {"service_address": "市民中心一楼 A 区 3 号窗口",
                 "office_hours": "工作日 9:00-17:00", "enquiry_phone": "0775-1234567",
                 "complaint_phone": "0775-12345、12345"}
    changed = catalog.patch("/api/v1/matters/11450981MB0001", practical)
    assert changed.status_code == 200, changed.json
    document = export_json(catalog)
    assert {k: document["matters"][1][k] for k in practical} == practical
    workbook = load_workbook(io.BytesIO(export_xlsx(catalog)))
    titles = [c.value for c in workbook["事项"][1]]
    row = {heading: cell.value for heading, cell in zip(titles, workbook["事项"][3], strict=True)}
    practical_titles = titles[titles.index("关键词"):][:5]
    assert practical_titles == ["关键词", "办理地点", "办公时间", "咨询电话", "监督投诉电话"]
    assert (row["办理地点"], row["办公时间"], row["咨询电话"], row["监督投诉电话"]) == tuple(
        practical.values())

    response = upload(fresh, export_xlsx(catalog))
    assert response.status_code == 200, response.json
    assert without_time(export_json(fresh)) == without_time(document)

    # a workbook made before these columns existed (and the 通办 ones after them): valid, and
    # the fields stay as they are
    after_keywords = titles.index("关键词") + 2  # the next column, counted from 1
    workbook["事项"].delete_cols(after_keywords, len(titles) - after_keywords + 1)
    assert [c.value for c in workbook["事项"][1]][-1] == "关键词"
    set_cell(workbook["事项"], 3, "事项名称", "食品经营许可证核发（新）")
    response = upload(fresh, workbook_bytes(workbook))
    assert response.status_code == 200, response.json
    after = export_json(fresh)["matters"][1]
    assert after["name"] == "食品经营许可证核发（新）"
    assert {k: after[k] for k in practical} == practical
