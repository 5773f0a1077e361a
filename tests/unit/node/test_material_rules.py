"""Each material's own rule (issue 20, applications by material): the catalog's fields
(electronic accepted, file types, size limit) through the API, the JSON document, the XLSX
workbook and the published standard catalog; the rule enforced online and at the window; what
the window did not receive becoming the one-time notice's list; and a request beyond the limit
answered in Chinese."""

from __future__ import annotations

import copy
import io
import re
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from node.cases.materials import (
    MaterialRule,
    PaperReceipt,
    check_files,
    paper_satisfies,
    received,
    rules,
)
from node.catalog.models import MaterialForm, MatterMaterial
from schemas.envelope import Kind
from schemas.errors import TongbanError
from schemas.messages import validate_body
from tests.unit.node.conftest import Api, matter_payload
from tests.unit.node.test_catalog_exchange import (
    DEFAULT_RULE,
    EXPORT,
    IMPORT,
    headings,
    upload,
    workbook_bytes,
)
from tests.unit.node.test_sync_fakes import clock, federation, sync_db
from tests.unit.node.test_web import csrf_of, log_in

__all__ = ["clock", "federation", "sync_db"]

PDF = b"%PDF-1.4 " + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0" + bytes(200)
TIFF = b"II*\x00" + bytes(200)
MATTER = "11450981MB0001"
RULED = [  # the three materials of matter_payload() with rules of their own
    {"name": "食品经营许可申请书", "required": True, "form": "original", "copies": 1,
     "electronic_accepted": True, "file_types": ["pdf"], "max_file_bytes": 300},
    {"name": "营业执照复印件", "required": True, "form": "copy", "copies": 2,
     "electronic_accepted": False},
    {"name": "法定代表人身份证明", "required": False, "form": "original_and_copy", "copies": 1,
     "file_types": ["jpg", "png", "tif"]},
]


def _rule(position: int, **changes: Any) -> MaterialRule:
    values: dict[str, Any] = {"position": position, "name": f"材料{position}", "required": True,
                              "form": MaterialForm.COPY, "copies": 1, "max_file_bytes": 1000}
    return MaterialRule(**{**values, **changes})


# -- the rule itself ---------------------------------------------------------------------------


def test_each_material_takes_only_its_own_kinds_told_by_the_bytes() -> None:
    pdf_only, images = _rule(1, file_types=("pdf",)), _rule(2, file_types=("png", "tif"))
    accepted, problems = check_files([pdf_only, images], {1: [("scan.png", PDF)],
                                                          2: [("a.pdf", TIFF), ("b.pdf", PNG)]},
                                     max_case_bytes=10_000)
    assert problems == {}
    assert [(f.name, f.media_type) for f in accepted] == [
        ("材料1.pdf", "application/pdf"), ("材料2.tif", "image/tiff"),
        ("材料2-2.png", "image/png")]
    accepted, problems = check_files([pdf_only, images], {1: [("scan.pdf", PNG)],
                                                          2: [("photo.png", JPEG)]},
                                     max_case_bytes=10_000)
    assert accepted == []
    assert problems["material-1"] == [
        "scan.pdf：文件内容不是 PDF（按文件内容判断，与文件名无关）"]
    assert problems["material-2"] == [
        "photo.png：文件内容不是 PNG、TIF（按文件内容判断，与文件名无关）"]


def test_a_materials_own_size_limit_and_the_nodes_when_it_has_none() -> None:
    own = MatterMaterial(position=1, name="申请书", required=True, form=MaterialForm.ORIGINAL,
                         copies=1, max_file_bytes=300, electronic_accepted=True,
                         file_types=["pdf"])
    none = MatterMaterial(position=2, name="营业执照", required=True, form=MaterialForm.COPY,
                          copies=1, max_file_bytes=None, electronic_accepted=True,
                          file_types=["pdf", "png"])
    rule_list = rules([none, own], 5000)
    assert [(r.position, r.max_file_bytes) for r in rule_list] == [(1, 300), (2, 5000)]
    big = PDF + bytes(400)
    _accepted, problems = check_files(rule_list, {1: [("a.pdf", big)], 2: [("b.pdf", big)]},
                                      max_case_bytes=10_000)
    assert problems == {"material-1": ["a.pdf：超过“申请书”每个文件 300 字节 的限制"]}
    assert "格式：PDF；单个文件不超过 300 字节；原件 1 份；必须" in rule_list[0].text
    assert rule_list[1].text.startswith("格式：PDF、PNG；")


def test_a_material_that_takes_no_file_refuses_every_file() -> None:
    paper_only = _rule(1, name="营业执照复印件", electronic_accepted=False)
    accepted, problems = check_files([paper_only], {1: [("licence.pdf", PDF)]},
                                     max_case_bytes=10_000)
    assert accepted == []
    assert problems == {"material-1": ["营业执照复印件不接受电子文件，请到窗口提交纸质材料"]}
    assert paper_only.text.startswith("不接受电子文件，请到窗口提交纸质材料；复印件 1 份")


def test_paper_meets_a_rule_by_its_form_and_copies() -> None:
    original, both = _rule(1, form=MaterialForm.ORIGINAL), _rule(2, copies=2,
                                                                  form=MaterialForm.ORIGINAL_AND_COPY)
    assert paper_satisfies(original, MaterialForm.ORIGINAL, 1)
    assert paper_satisfies(original, MaterialForm.ORIGINAL_AND_COPY, 1)
    assert not paper_satisfies(original, MaterialForm.COPY, 3)  # a copy is no original
    assert not paper_satisfies(both, MaterialForm.ORIGINAL_AND_COPY, 1)  # too few
    assert paper_satisfies(both, MaterialForm.ORIGINAL_AND_COPY, 2)
    assert not paper_satisfies(_rule(3, form=MaterialForm.ELECTRONIC), MaterialForm.COPY, 1)
    got = received([original, both], ["材料2.pdf"], [PaperReceipt(1, MaterialForm.COPY, 1)])
    assert got == {2}  # the file stands for 2; the copy is not the original 1 asks


# -- the catalog's fields ------------------------------------------------------------------------


def test_the_catalog_api_keeps_each_materials_rule_and_defaults_it(catalog_base: Api) -> None:
    created = catalog_base.post("/api/v1/matters", matter_payload(materials=RULED))
    assert created.status_code == 201, created.json
    materials = catalog_base.get(f"/api/v1/matters/{MATTER}").json["materials"]
    assert [(m["electronic_accepted"], m["file_types"], m["max_file_bytes"])
            for m in materials] == [(True, ["pdf"], 300), (False, ["pdf", "jpg", "png"], None),
                                    (True, ["jpg", "png", "tif"], None)]
    changed = catalog_base.patch(f"/api/v1/matters/{MATTER}", {"materials": [
        {"name": "申请书", "file_types": ["tif", "pdf"], "max_file_bytes": 5 * 1024 * 1024}]})
    assert changed.status_code == 200, changed.json
    [only] = changed.json["materials"]
    assert (only["file_types"], only["max_file_bytes"]) == (["pdf", "tif"], 5 * 1024 * 1024)


@pytest.mark.parametrize(("change", "field"), [
    ({"file_types": ["doc"]}, "file_types"),
    ({"file_types": []}, "file_types"),
    ({"file_types": ["pdf", "pdf"]}, "file_types"),
    ({"file_types": "pdf"}, "file_types"),
    ({"max_file_bytes": 0}, "max_file_bytes"),
    ({"max_file_bytes": "5MB"}, "max_file_bytes"),
    ({"max_file_bytes": 2 * 1024 ** 3}, "max_file_bytes"),
    ({"electronic_accepted": "sometimes"}, "electronic_accepted"),
    ({"form": "electronic", "electronic_accepted": False}, "electronic_accepted"),
])
def test_a_bad_rule_is_a_clear_error_and_changes_nothing(
        catalog_base: Api, change: dict[str, Any], field: str) -> None:
    assert catalog_base.post("/api/v1/matters", matter_payload(materials=RULED)).status_code == 201
    before = catalog_base.get(f"/api/v1/matters/{MATTER}").json
    response = catalog_base.patch(f"/api/v1/matters/{MATTER}", {"materials": [
        {**RULED[0], **change}]})
    assert response.status_code == 422
    assert field in response.json["error"]["details"]["fields"]["materials"]["0"], response.json
    assert catalog_base.get(f"/api/v1/matters/{MATTER}").json == before


def test_the_json_document_carries_the_rules_and_an_older_one_takes_the_defaults(
        catalog_base: Api) -> None:
    assert catalog_base.post("/api/v1/matters", matter_payload(materials=RULED)).status_code == 201
    document = catalog_base.get(EXPORT).json
    [matter] = document["matters"]
    assert matter["materials"][0] | DEFAULT_RULE != matter["materials"][0]
    assert (matter["materials"][0]["file_types"], matter["materials"][0]["max_file_bytes"]) == (
        ["pdf"], 300)
    assert catalog_base.post(IMPORT, document).status_code == 200
    assert catalog_base.get(EXPORT).json["matters"] == document["matters"]  # round trip

    older = copy.deepcopy(document)
    for item in older["matters"][0]["materials"]:
        for key in DEFAULT_RULE:
            item.pop(key)
    response = catalog_base.post(IMPORT, older)
    assert response.status_code == 200, response.json
    again = catalog_base.get(f"/api/v1/matters/{MATTER}").json["materials"]
    assert [{key: m[key] for key in DEFAULT_RULE} for m in again] == [DEFAULT_RULE] * 3


def test_the_workbook_carries_the_rules_in_mb_and_an_older_one_takes_the_defaults(
        catalog_base: Api) -> None:
    ruled = copy.deepcopy(RULED)
    ruled[0]["max_file_bytes"] = 5 * 1024 * 1024
    assert catalog_base.post("/api/v1/matters", matter_payload(materials=ruled)).status_code == 201
    content = catalog_base.get(EXPORT, query_string={"format": "xlsx"}).data
    sheet = load_workbook(io.BytesIO(content))["申报材料"]
    rows = [dict(zip(headings(sheet), [c.value for c in row], strict=True))
            for row in sheet.iter_rows(min_row=2)]
    assert [(r["接受电子文件"], r["文件格式"], r["单个文件上限（MB）"]) for r in rows] == [
        ("是", "pdf", 5), ("否", "pdf、jpg、png", None), ("是", "jpg、png、tif", None)]
    document = catalog_base.get(EXPORT).json
    assert upload(catalog_base, content).status_code == 200
    assert catalog_base.get(EXPORT).json["matters"] == document["matters"]  # round trip

    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook["申报材料"]
    sheet.cell(row=2, column=headings(sheet).index("文件格式") + 1, value="PDF、TIF")
    sheet.cell(row=2, column=headings(sheet).index("单个文件上限（MB）") + 1, value="0.5")
    assert upload(catalog_base, workbook_bytes(workbook)).status_code == 200
    first = catalog_base.get(f"/api/v1/matters/{MATTER}").json["materials"][0]
    assert (first["file_types"], first["max_file_bytes"]) == (["pdf", "tif"], 512 * 1024)

    sheet.cell(row=2, column=headings(sheet).index("文件格式") + 1, value="docx")
    refused = upload(catalog_base, workbook_bytes(workbook))
    assert refused.status_code == 422
    assert "文件格式" in str(refused.json["error"]["details"])
    assert catalog_base.get(f"/api/v1/matters/{MATTER}").json["materials"][0] == first

    sheet.delete_cols(headings(sheet).index("接受电子文件") + 1, 3)  # a workbook from before
    response = upload(catalog_base, workbook_bytes(workbook))
    assert response.status_code == 200, response.json
    again = catalog_base.get(f"/api/v1/matters/{MATTER}").json["materials"]
    assert [{key: m[key] for key in DEFAULT_RULE} for m in again] == [DEFAULT_RULE] * 3


def test_the_published_catalog_validates_the_rules_and_takes_an_older_one() -> None:
    material = {"name": "申请书", "required": True, "form": "original", "copies": 1, "note": ""}
    matter = {"standard_code": "X-1", "name": "事项", "category": "public_service",
              "handling_level": "county", "handling_type": "promised", "legal_limit_days": 5,
              "promised_limit_days": 3, "notify_and_commit": False, "deemed_approval": False,
              "legal_basis": "", "procedure": "", "conditions": "", "fee_basis": "",
              "fee_standard": "", "fee_amount_fen": 0, "complaint_channel": "",
              "materials": [material]}
    body = {"catalog_version": 1, "published_at": "2026-12-01T00:00:00Z", "matters": [matter]}
    validate_body(Kind.CATALOG_PUBLISH, body)  # published before the rules existed
    ruled = copy.deepcopy(body)
    ruled["matters"][0]["materials"][0].update(electronic_accepted=False, file_types=["pdf"],
                                               max_file_bytes=None)
    validate_body(Kind.CATALOG_PUBLISH, ruled)
    for key, bad in (("file_types", ["exe"]), ("file_types", []), ("max_file_bytes", 0),
                     ("electronic_accepted", "no")):
        wrong = copy.deepcopy(ruled)
        wrong["matters"][0]["materials"][0][key] = bad
        with pytest.raises(TongbanError) as refused:
            validate_body(Kind.CATALOG_PUBLISH, wrong)
        assert key in str(refused.value.details), (key, bad)


# -- online and at the window ------------------------------------------------------------------


def _ruled_desk(desk: dict[str, Api]) -> None:
    response = desk["admin"].patch(f"/api/v1/matters/{MATTER}", {"materials": RULED})
    assert response.status_code == 200, response.json


def test_the_online_form_shows_and_enforces_each_materials_rule(
        client: FlaskClient, desk: dict[str, Api]) -> None:
    _ruled_desk(desk)
    path = f"/guide/{MATTER}/apply"
    form = client.get(path).get_data(as_text=True)
    assert "格式：PDF；单个文件不超过 300 字节；原件 1 份；必须" in form
    assert 'name="material-2"' not in form  # 营业执照复印件 takes no file
    assert "不接受电子文件，请到窗口提交纸质材料；复印件 2 份；必须" in form
    assert 'accept=".jpg,.jpeg,.png,.tif,.tiff,image/jpeg,image/png,image/tiff"' in form
    token = csrf_of(client, path)
    person = {"csrf_token": token, "applicant_name": "赵六", "applicant_phone": "13700137000"}
    for files, field, reason in (
            ({"material-1": (io.BytesIO(PDF + bytes(200)), "a.pdf")}, "material-1", "300 字节"),
            ({"material-1": (io.BytesIO(PNG), "a.pdf")}, "material-1", "文件内容不是 PDF"),
            ({"material-2": (io.BytesIO(PDF), "b.pdf")}, "material-2", "不接受电子文件")):
        refused = client.post(path, data={**person, **files}, content_type="multipart/form-data")
        assert refused.status_code == 422
        assert reason in refused.get_data(as_text=True), field
    assert desk["clerk"].get("/api/v1/cases").json["total"] == 0  # nothing stored
    applied = client.post(path, data={**person, "material-1": (io.BytesIO(PDF), "a.pdf"),
                                      "material-3": (io.BytesIO(TIFF), "id.tif")},
                          content_type="multipart/form-data")
    assert applied.status_code == 201, applied.get_data(as_text=True)[:2000]
    assert re.findall(r"<li>(.*?)</li>", applied.get_data(as_text=True).split(
        'id="missing-materials"')[1].split("</ul>")[0]) == ["营业执照复印件"]


def _multipart(fields: dict[str, str], files: dict[str, tuple[bytes, str]]) -> tuple[bytes, str]:
    """A multipart/form-data body built in memory (the test client would spool a large one to
    a temporary file it never closes)."""
    boundary = "----tongban-test-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
             f"{value}\r\n".encode() for name, value in fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
              f'filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
              + data + b"\r\n" for name, (data, filename) in files.items()]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}")


def test_beyond_the_case_limit_the_form_says_so_and_beyond_the_request_limit_a_page(
        app: Any, client: FlaskClient, desk: dict[str, Api]) -> None:
    settings = app.config["TONGBAN"]
    path = f"/guide/{MATTER}/apply"
    person = {"csrf_token": csrf_of(client, path), "applicant_name": "赵六",
              "applicant_phone": "13700137000"}
    third = settings.upload_max_case_bytes // 3 + 1024  # each within the file limit
    assert third <= settings.upload_max_file_bytes
    body, kind = _multipart(person, {f"material-{p}": (PDF + bytes(third), f"{p}.pdf")
                                     for p in (1, 2, 3)})
    over = client.post(path, data=body, content_type=kind)
    assert over.status_code == 422  # the form's own message, not a bare 413
    assert "超过每件申请 8 MB 的限制" in over.get_data(as_text=True)
    body, kind = _multipart(person, {"material-1": (
        bytes(settings.upload_request_max_bytes + 1), "big.pdf")})
    page = client.post(path, data=body, content_type=kind, headers={"Accept": "text/html"})
    assert page.status_code == 413
    assert page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "提交的内容过大" in text
    assert "10 MB" in text
    as_json = client.post(path, data=body, content_type=kind)
    assert as_json.status_code == 413
    assert as_json.json["error"]["code"] == "payload_too_large"
    assert "上限" in as_json.json["error"]["message"]
    assert desk["clerk"].get("/api/v1/cases").json["total"] == 0


def test_the_window_records_each_material_and_the_missing_ones_are_ticked(
        client: FlaskClient, desk: dict[str, Api]) -> None:
    _ruled_desk(desk)
    log_in(client, "clerk1")
    page = f"/staff/desk/new?matter_code={MATTER}"
    form = client.get(page).get_data(as_text=True)
    assert 'name="received-2"' in form
    assert 'name="copies-2"' in form
    assert 'name="material-1"' in form
    assert 'name="material-2"' not in form
    token = csrf_of(client, page)
    person = {"csrf_token": token, "matter_code": MATTER, "applicant_name": "张三",
              "applicant_phone": "13800138000"}
    refused = client.post("/staff/desk/new", data={
        **person, "received-1": "on", "form-1": "original", "copies-1": "1",
        "material-1": (io.BytesIO(PNG), "a.pdf")}, content_type="multipart/form-data")
    assert refused.status_code == 422
    assert "文件内容不是 PDF" in refused.get_data(as_text=True)
    bad_copies = client.post("/staff/desk/new", data={**person, "received-1": "on",
                                                      "form-1": "original", "copies-1": "0"})
    assert bad_copies.status_code == 422
    assert "份数须为 1 至 99" in bad_copies.get_data(as_text=True)
    assert desk["clerk"].get("/api/v1/cases").json["total"] == 0

    # 1 on paper as its rule asks, 2 with one copy of the two asked (so still missing)
    taken = client.post("/staff/desk/new", data={
        **person, "received-1": "on", "form-1": "original", "copies-1": "1",
        "received-2": "on", "form-2": "copy", "copies-2": "1",
        "material-3": (io.BytesIO(PNG), "id.png")}, content_type="multipart/form-data")
    assert taken.status_code == 302, taken.get_data(as_text=True)[:3000]
    case_page = client.get(taken.headers["Location"]).get_data(as_text=True)
    ticked = re.findall(r'name="material_positions" value="(\d+)" checked', case_page)
    assert ticked == ["2"]
    [case] = desk["clerk"].get("/api/v1/cases").json["items"]
    detail = desk["clerk"].get(f"/api/v1/cases/{case['id']}").json
    assert [(m["position"], m["name"], m["form"], m["copies"])
            for m in detail["received_materials"]] == [
        (1, "食品经营许可申请书", "original", 1), (2, "营业执照复印件", "copy", 1)]
    assert detail["missing_materials"] == [2]
    assert [a["name"] for a in detail["attachments"]] == ["法定代表人身份证明.png"]


def test_the_api_records_paper_received_and_names_the_missing_for_the_notice(
        desk: dict[str, Api]) -> None:
    clerk = desk["clerk"]
    application = {"matter_code": MATTER, "applicant_name": "张三"}
    for bad in ([{"position": 9, "form": "copy"}], [{"position": 1, "form": "electronic"}],
                [{"position": 1, "form": "copy", "copies": 0}],
                [{"position": 1, "form": "copy"}, {"position": 1, "form": "original"}]):
        refused = clerk.post("/api/v1/cases", {**application, "received_materials": bad})
        assert refused.status_code == 422, bad
        assert "materials" in refused.json["error"]["details"]["fields"], refused.json
    assert clerk.get("/api/v1/cases").json["total"] == 0
    created = clerk.post("/api/v1/cases", {**application, "received_materials": [
        {"position": 1, "form": "original_and_copy", "copies": 1}]})
    assert created.status_code == 201, created.json
    assert created.json["missing_materials"] == [2]  # 3 is optional
    case_id = created.json["id"]
    assert clerk.post(f"/api/v1/cases/{case_id}/notices", {}).status_code == 422  # no item
    notice = clerk.post(f"/api/v1/cases/{case_id}/notices",
                        {"material_positions": created.json["missing_materials"]})
    assert notice.status_code == 201, notice.json
    assert [i["material"] for i in notice.json["items"]] == ["营业执照复印件"]


def test_the_matter_page_edits_each_materials_rule_in_mb(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    from tests.unit.node.test_web import _admin_client, _form_of

    _ruled_desk(desk)
    _admin_client(client, make_user)
    path = f"/staff/admin/matters/{MATTER}/edit"
    form = _form_of(client, path)
    assert form["rule-1-max_mb"] == f"{300 / 1024 / 1024:g}"
    assert form["rule-1-type-pdf"] == "on"
    assert "rule-1-type-png" not in form
    assert "rule-2-electronic" not in form  # 营业执照复印件 takes no file
    assert form["rule-3-max_mb"] == ""  # the node's
    before = desk["admin"].get(f"/api/v1/matters/{MATTER}").json

    for size, reason in (("五兆", "以 MB 为单位的数字"), ("0", "须大于 0")):
        refused = client.post(path, data={**form, "rule-1-max_mb": size})
        assert refused.status_code == 422
        assert reason in refused.get_data(as_text=True)
    no_kind = {k: v for k, v in form.items() if not k.startswith("rule-1-type-")}
    assert client.post(path, data=no_kind).status_code == 422
    assert desk["admin"].get(f"/api/v1/matters/{MATTER}").json == before

    form.update({"rule-1-max_mb": "2.5", "rule-1-type-png": "on", "rule-2-electronic": "on",
                 "rule-2-type-tif": "on", "rule-3-max_mb": "1"})
    form.pop("rule-2-type-jpg")
    saved = client.post(path, data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    materials = desk["admin"].get(f"/api/v1/matters/{MATTER}").json["materials"]
    assert [(m["electronic_accepted"], m["file_types"], m["max_file_bytes"])
            for m in materials] == [
        (True, ["pdf", "png"], int(2.5 * 1024 * 1024)), (True, ["pdf", "png", "tif"], None),
        (True, ["jpg", "png", "tif"], 1024 * 1024)]


# -- the standard catalog published down the tree ---------------------------------------------


def test_the_standard_catalog_carries_the_rules_and_an_older_one_gives_the_defaults(
        sync_db: Any, federation: Any) -> None:
    from node.catalog.models import Matter
    from node.catalog.publishing import adopt_catalog, catalog_body
    from node.catalog.service import CatalogService
    from node.models import Base
    from tests.unit.node.conftest import new_matter
    from tests.unit.node.test_catalog_publishing import INBOX, _catalog
    from tests.unit.node.test_sync_fakes import COUNTY, T0

    def rules_of(code: str) -> list[tuple[bool, list[str], int | None]]:
        with sync_db.unit_of_work(write=False) as session:
            matter = session.query(Matter).filter_by(code=code).one()
            return [(m.electronic_accepted, m.file_types, m.max_file_bytes)
                    for m in matter.materials]

    with sync_db.unit_of_work() as session:
        catalog = CatalogService(session)
        catalog.create_department("SC", "市场监督管理局")
        catalog.create_window("W01", "市场监管窗口", department_codes=["SC"])
        catalog.create_matter(new_matter("STD-0001", materials=RULED))
        body = catalog_body(session, catalog_version=1, published_at=T0)
    published = body["matters"][0]["materials"]
    assert [(m["electronic_accepted"], m["file_types"], m["max_file_bytes"])
            for m in published] == [(True, ["pdf"], 300), (False, ["pdf", "jpg", "png"], None),
                                    (True, ["jpg", "png", "tif"], None)]
    Base.metadata.drop_all(sync_db.engine)
    Base.metadata.create_all(sync_db.engine)
    with sync_db.unit_of_work() as session:
        report = adopt_catalog(session, _catalog(federation, body["matters"]),
                               node_code=COUNTY, inbox=INBOX)
    assert report.created == ["STD-0001"]
    assert rules_of("STD-0001") == [(True, ["pdf"], 300), (False, ["pdf", "jpg", "png"], None),
                                    (True, ["jpg", "png", "tif"], None)]

    older = copy.deepcopy(body["matters"])  # published before the rules existed
    for item in older[0]["materials"]:
        for key in DEFAULT_RULE:
            item.pop(key)
    with sync_db.unit_of_work() as session:
        report = adopt_catalog(session, _catalog(federation, older, version=2),
                               node_code=COUNTY, inbox=INBOX)
    assert report.updated == ["STD-0001"]  # the rules changed back to the defaults
    assert rules_of("STD-0001") == [(True, ["pdf", "jpg", "png"], None)] * 3
    with sync_db.unit_of_work() as session:
        report = adopt_catalog(session, _catalog(federation, older, version=3),
                               node_code=COUNTY, inbox=INBOX)
    assert report.unchanged == ["STD-0001"]
