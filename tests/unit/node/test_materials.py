"""Applications by material (node/cases/materials.py): the rule of each material, files judged
by their bytes, the size limits per file and per case, and the online form through the app."""

from __future__ import annotations

import io

from flask.testing import FlaskClient

from node.cases.materials import MaterialRule, check_files, material_of
from node.catalog.models import MaterialForm
from tests.unit.node.conftest import Api

PDF = b"%PDF-1.4 " + bytes(200)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(200)
JPEG = b"\xff\xd8\xff\xe0" + bytes(200)
RULES = [MaterialRule(1, "申请书", True, MaterialForm.ORIGINAL, 1, 1000),
         MaterialRule(2, "营业执照复印件", True, MaterialForm.COPY, 2, 1000)]


def test_a_files_type_is_what_its_bytes_say_not_its_name() -> None:
    accepted, problems = check_files(RULES, {1: [("scan.pdf", PNG)], 2: [("a.txt", JPEG),
                                                                        ("b.png", PDF)]},
                                     max_case_bytes=10_000)
    assert problems == {}
    assert [(f.position, f.name, f.media_type) for f in accepted] == [
        (1, "申请书.png", "image/png"), (2, "营业执照复印件.jpg", "image/jpeg"),
        (2, "营业执照复印件-2.pdf", "application/pdf")]
    assert [material_of(f.name, RULES) for f in accepted] == [1, 2, 2]
    assert material_of("其他.pdf", RULES) is None


def test_a_file_of_no_accepted_type_too_large_or_too_much_in_all_is_refused_and_nothing_kept(
) -> None:
    accepted, problems = check_files(RULES, {1: [("fake.pdf", "不是PDF".encode() * 10)]},
                                     max_case_bytes=10_000)
    assert accepted == []
    assert "按文件内容判断" in problems["material-1"][0]
    accepted, problems = check_files(RULES, {1: [("big.pdf", PDF + bytes(1000))],
                                             2: [("ok.pdf", PDF)]}, max_case_bytes=10_000)
    assert accepted == []  # one refused file: none kept
    assert "每个文件 1000 字节 的限制" in problems["material-1"][0]
    _accepted, problems = check_files(RULES, {1: [("a.pdf", PDF)], 2: [("b.pdf", PDF)]},
                                      max_case_bytes=300)
    assert "超过每件申请" in problems["materials"][0]
    _accepted, problems = check_files(RULES, {9: [("a.pdf", PDF)]}, max_case_bytes=10_000)
    assert problems == {"materials": ["事项没有第 9 项材料"]}


def test_the_online_form_stores_each_material_by_name_and_names_the_missing_one(
    client: FlaskClient, desk: dict[str, Api],
) -> None:
    path = "/guide/11450981MB0001/apply"
    form = client.get(path).get_data(as_text=True)
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    assert 'name="material-1"' in form
    assert 'name="material-2"' in form
    refused = client.post(path, data={
        "csrf_token": token, "applicant_name": "赵六", "applicant_phone": "13700137000",
        "material-1": (io.BytesIO(b"plain text"), "申请书.pdf")},
        content_type="multipart/form-data")
    assert refused.status_code == 422
    assert desk["clerk"].get("/api/v1/cases").json["total"] == 0  # nothing stored
    applied = client.post(path, data={
        "csrf_token": token, "applicant_name": "赵六", "applicant_phone": "13700137000",
        "material-1": (io.BytesIO(PDF), "scan.bin")}, content_type="multipart/form-data")
    assert applied.status_code == 201, applied.get_data(as_text=True)[:2000]
    page = applied.get_data(as_text=True)
    assert 'id="missing-materials"' in page
    assert "<li>营业执照复印件</li>" in page
    assert "<li>食品经营许可申请书</li>" not in page
    [case] = desk["clerk"].get("/api/v1/cases").json["items"]
    files = desk["clerk"].get(f"/api/v1/cases/{case['id']}/attachments").json
    assert [(f["name"], f["media_type"]) for f in files] == [
        ("食品经营许可申请书.pdf", "application/pdf")]
