"""Material files after the intake, the guide page's rules and cases that record no paper
(issue 20, follow-up): a file added on the case file or through ``POST
/cases/<id>/attachments`` is judged by its material's rule as at the intake; the public guide
shows each material's rule; a case with no paper recorded (taken before migration 0030) claims
neither received nor missing materials."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient

from node.cases.materials import UploadLimits, check_added, rules
from node.catalog.models import MaterialForm, MatterMaterial
from tests.unit.node.conftest import Api
from tests.unit.node.test_material_rules import JPEG, MATTER, PDF, PNG, RULED, TIFF, _multipart
from tests.unit.node.test_web import csrf_of, log_in

MB = 1024 * 1024


def _ruled(desk: dict[str, Api]) -> None:
    response = desk["admin"].patch(f"/api/v1/matters/{MATTER}", {"materials": RULED})
    assert response.status_code == 200, response.json


def _case(desk: dict[str, Api], **body: Any) -> dict[str, Any]:
    created = desk["clerk"].post("/api/v1/cases", {"matter_code": MATTER,
                                                   "applicant_name": "张三", **body})
    assert created.status_code == 201, created.json
    return dict(created.json)


def _attach(api: Api, case_id: int, name: str, data: bytes, **form: str) -> Any:
    return api.post(f"/api/v1/cases/{case_id}/attachments",
                    data={"file": (io.BytesIO(data), name, "application/pdf"), **form},
                    content_type="multipart/form-data")


def _fields(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 422, response.json
    return dict(response.json["error"]["details"]["fields"])


# -- the rule of a file added later --------------------------------------------------------------


def test_a_file_added_later_is_named_after_its_material_and_counts_to_the_case() -> None:
    materials = [MatterMaterial(position=1, name="申请书", required=True,
                                form=MaterialForm.ORIGINAL, copies=1, max_file_bytes=None,
                                electronic_accepted=True, file_types=["pdf", "png"])]
    rule_list, limits = rules(materials, 1000), UploadLimits(1000, 1500)
    first, problems = check_added(rule_list, 1, "scan.pdf", PNG, stored=[], limits=limits)
    assert problems == {}
    assert first is not None
    assert (first.name, first.media_type) == ("申请书.png", "image/png")
    second, _none = check_added(rule_list, 1, "b.pdf", PDF,
                                stored=[("申请书.png", len(PNG))], limits=limits)
    assert second is not None
    assert second.name == "申请书-2.pdf"
    # no material named, a name that passes for one: that material's rule
    named, refused = check_added(rule_list, None, "申请书.pdf", JPEG, stored=[], limits=limits)
    assert named is None
    assert refused == {"file": [
        "申请书.pdf：文件内容不是 PDF、PNG（按文件内容判断，与文件名无关）"]}
    # another material: any kind the node knows, the node's size, its own name
    other, _none = check_added(rule_list, None, "说明.tif", TIFF, stored=[], limits=limits)
    assert other is not None
    assert (other.name, other.media_type) == ("说明.tif", "image/tiff")
    too_big, refused = check_added(rule_list, None, "说明.pdf", PDF + bytes(1000), stored=[],
                                   limits=limits)
    assert too_big is None
    assert refused == {"file": ["说明.pdf：超过“其他材料”每个文件 1000 字节 的限制"]}
    over, refused = check_added(rule_list, 1, "c.pdf", PDF, stored=[("申请书.pdf", 1400)],
                                limits=limits)
    assert over is None
    assert refused["file"] == ["全部材料共 1609 字节，超过每件申请 1500 字节 的限制"]
    unknown, refused = check_added(rule_list, 7, "c.pdf", PDF, stored=[], limits=limits)
    assert unknown is None
    assert refused == {"material": ["事项没有第 7 项材料"]}


def test_the_api_applies_each_materials_rule_to_a_file_added_later(
        desk: dict[str, Api]) -> None:
    _ruled(desk)
    clerk = desk["clerk"]
    case = _case(desk, received_materials=[{"position": 2, "form": "copy", "copies": 2}])
    cid = case["id"]
    assert case["missing_materials"] == [1]

    assert "文件内容不是 PDF" in _fields(_attach(clerk, cid, "a.pdf", PNG, material="1"))["file"][0]
    assert "300 字节" in _fields(_attach(clerk, cid, "a.pdf", PDF + bytes(200),
                                         material="1"))["file"][0]
    assert _fields(_attach(clerk, cid, "licence.pdf", PDF, material="2")) == {
        "file": ["营业执照复印件不接受电子文件，请到窗口提交纸质材料"]}
    # named after a material that takes no file: refused as that material
    assert "不接受电子文件" in _fields(_attach(clerk, cid, "营业执照复印件.pdf", PDF))["file"][0]
    assert "material" in _fields(_attach(clerk, cid, "a.pdf", PDF, material="9"))
    assert "material" in _fields(_attach(clerk, cid, "a.pdf", PDF, material="1",
                                         role="result"))
    assert "material" in _fields(_attach(clerk, cid, "a.pdf", PDF, material="x"))
    other = _fields(_attach(clerk, cid, "说明.pdf", "不是 PDF".encode()))
    assert "文件内容不是 PDF、JPG、PNG、TIF" in other["file"][0]
    assert clerk.get(f"/api/v1/cases/{cid}/attachments").json == []  # nothing kept

    stored = _attach(clerk, cid, "scan.png", PDF, material="1")
    assert stored.status_code == 201, stored.json
    assert (stored.json["name"], stored.json["media_type"]) == (
        "食品经营许可申请书.pdf", "application/pdf")
    id_card = _attach(clerk, cid, "id.pdf", PNG, material="3")
    again = _attach(clerk, cid, "id2.pdf", JPEG, material="3")
    assert [id_card.json["name"], again.json["name"]] == [
        "法定代表人身份证明.png", "法定代表人身份证明-2.jpg"]
    assert clerk.get(f"/api/v1/cases/{cid}").json["missing_materials"] == []


def test_the_case_files_material_files_stay_within_the_case_total(
        app: Any, desk: dict[str, Api]) -> None:
    settings = app.config["TONGBAN"]
    clerk = desk["clerk"]
    cid = _case(desk)["id"]
    part = settings.upload_max_case_bytes // 3 + MB // 2  # three are beyond the total
    assert part <= settings.upload_max_file_bytes
    assert part > settings.max_content_length  # beyond the other requests' limit

    def attach(index: int) -> Any:  # in memory (the test client would spool it to a file)
        body, kind = _multipart({}, {"file": (PDF + bytes(part) + bytes([index]),
                                               f"{index}.pdf")})
        return clerk.post(f"/api/v1/cases/{cid}/attachments", data=body, content_type=kind)

    for index in (1, 2):
        assert attach(index).status_code == 201
    over = _fields(attach(3))
    assert "超过每件申请 8 MB 的限制" in over["file"][0]
    assert len(clerk.get(f"/api/v1/cases/{cid}/attachments").json) == 2


def test_the_case_files_add_file_form_offers_each_material_and_enforces_its_rule(
        client: FlaskClient, desk: dict[str, Api]) -> None:
    _ruled(desk)
    cid = _case(desk)["id"]
    log_in(client, "clerk1")
    path = f"/staff/cases/{cid}"
    page = client.get(path).get_data(as_text=True)
    assert '<option value="1">1. 食品经营许可申请书</option>' in page
    assert '<option value="2" disabled>2. 营业执照复印件</option>' in page
    assert "1. 食品经营许可申请书：格式：PDF；单个文件不超过 300 字节；原件 1 份；必须" in page
    assert "其他材料：格式：PDF、JPG、PNG、TIF；单个文件不超过 4 MB" in page
    token = csrf_of(client, path)

    def add(name: str, data: bytes, material: str) -> Any:
        return client.post(f"{path}/files", data={
            "csrf_token": token, "role": "material", "material": material,
            "file": (io.BytesIO(data), name)}, content_type="multipart/form-data")

    refused = add("a.pdf", PNG, "1")
    assert refused.status_code == 422
    assert ("a.pdf：文件内容不是 PDF（按文件内容判断，与文件名无关）"
            in refused.get_data(as_text=True))
    paper_only = add("b.pdf", PDF, "2")
    assert paper_only.status_code == 422
    assert "营业执照复印件不接受电子文件" in paper_only.get_data(as_text=True)
    assert desk["clerk"].get(f"/api/v1/cases/{cid}/attachments").json == []
    assert add("a.pdf", PDF, "1").status_code == 302
    assert add("附件.png", PNG, "").status_code == 302
    names = [a["name"] for a in desk["clerk"].get(f"/api/v1/cases/{cid}/attachments").json]
    assert names == ["食品经营许可申请书.pdf", "附件.png"]


# -- the guide page --------------------------------------------------------------------------


def test_the_guide_page_shows_each_materials_rule(
        client: FlaskClient, desk: dict[str, Api]) -> None:
    _ruled(desk)
    page = client.get(f"/guide/{MATTER}").get_data(as_text=True)
    rows = {int(p): re.sub(r"<[^>]+>", "|", row) for p, row in re.findall(
        r'<tr id="material-rule-(\d)">(.*?)</tr>', page, re.S)}
    assert "格式：PDF；单个文件不超过 300 字节；原件 1 份；必须" in rows[1]
    assert "不接受电子文件，请到窗口提交纸质材料；复印件 2 份；必须" in rows[2]
    assert "格式：JPG、PNG、TIF；单个文件不超过 4 MB；原件及复印件 1 份；可选" in rows[3]
    assert "材料要求" in page


# -- a case that records no paper ------------------------------------------------------------


def _receipt_marks(api: Api, cid: int) -> dict[str, str]:
    printed = api.post(f"/api/v1/cases/{cid}/documents/receipt", {})
    assert printed.status_code in (200, 201), printed.get_data(as_text=True)[:500]
    table = printed.get_data(as_text=True).split("收到的申请材料")[1].split("</table>")[0]
    return dict(re.findall(
        r"<tr><td>\d+</td><td>(.*?)</td><td>.*?</td><td>.*?</td><td>(.*?)</td></tr>", table))


def test_a_case_with_no_paper_recorded_claims_nothing_received_or_missing(
        client: FlaskClient, desk: dict[str, Api]) -> None:
    clerk = desk["clerk"]
    old = _case(desk)  # as every case taken before migration 0030: no paper rows
    assert old["received_materials"] == []
    assert old["missing_materials"] == []
    assert set(_receipt_marks(clerk, old["id"]).values()) == {"—"}
    log_in(client, "clerk1")
    page = client.get(f"/staff/cases/{old['id']}").get_data(as_text=True)
    assert 'name="material_positions"' in page  # the notice form is offered, nothing ticked
    assert re.findall(r'name="material_positions" value="\d+" checked', page) == []
    # a file is known received even so
    assert _attach(clerk, old["id"], "a.pdf", PDF, material="1").status_code == 201
    assert _receipt_marks(clerk, old["id"])["食品经营许可申请书"] == "已收"
    assert _receipt_marks(clerk, old["id"])["营业执照复印件"] == "—"

    # one with its paper recorded says what it did not receive
    new = _case(desk, received_materials=[{"position": 1, "form": "original", "copies": 1}])
    assert new["missing_materials"] == [2]
    assert _receipt_marks(clerk, new["id"]) == {
        "食品经营许可申请书": "已收", "营业执照复印件": "未收", "法定代表人身份证明": "未收"}
    page = client.get(f"/staff/cases/{new['id']}").get_data(as_text=True)
    assert re.findall(r'name="material_positions" value="(\d+)" checked', page) == ["2"]

    # an intake that says it received nothing (the window's form always says what it got)
    bare = _case(desk, received_materials=[])
    assert bare["received_materials"] == []
    assert bare["missing_materials"] == [1, 2]
    assert _receipt_marks(clerk, bare["id"]) == {
        "食品经营许可申请书": "未收", "营业执照复印件": "未收", "法定代表人身份证明": "未收"}
