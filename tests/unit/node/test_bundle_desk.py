"""一件事 at the window (/staff/bundle-cases/new): one form for the bundle — the applicant, the
merged form once, the materials once each — made into one bundle case by the service the API
uses; a bad form shows its messages and makes nothing; only the clerk's role may take one."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from node.auth.permissions import Role
from node.bundles.models import BundleCase
from node.cases.models import Case, CaseAttachment, ReceivedMaterial
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api
from tests.unit.node.test_bundles import BIRTH, ID_NUMBER, PARTS, birth  # noqa: F401
from tests.unit.node.test_web import csrf_of, log_in

PAGE = "/staff/bundle-cases/new"
FORM = f"{PAGE}?bundle_code={BIRTH}"


def _counts(db: Database) -> tuple[int, int]:
    with db.unit_of_work() as session:
        return (session.scalar(select(func.count()).select_from(BundleCase)) or 0,
                session.scalar(select(func.count()).select_from(Case)) or 0)


def _post(client: FlaskClient, **fields: Any) -> Any:
    data = {"csrf_token": csrf_of(client, FORM), "bundle_code": BIRTH,
            "applicant_name": "王芳", "applicant_id_number": ID_NUMBER,
            "applicant_phone": "13800138000", "form-baby_name": "王小明",
            "form-mother_name": "王芳", **fields}
    return client.post(PAGE, data={k: v for k, v in data.items() if v is not None},
                       content_type="multipart/form-data")


def test_the_form_asks_each_merged_field_and_each_material_once(
    birth: dict[str, Any], client: FlaskClient  # noqa: F811
) -> None:
    assert log_in(client, "clerk1").status_code == 302
    assert PAGE in client.get("/staff/bundle-cases").get_data(as_text=True)
    assert PAGE in client.get("/staff/desk").get_data(as_text=True)
    picker = client.get(PAGE).get_data(as_text=True)
    assert f'<option value="{BIRTH}"' in picker
    assert 'name="applicant_name"' not in picker  # the form comes once a bundle is chosen

    page = client.get(FORM).get_data(as_text=True)
    assert page.count('name="form-baby_name"') == 1  # asked by four matters, once here
    assert page.count('name="form-mother_name"') == 1
    assert page.count("新生儿姓名") == 1
    assert page.count("收到纸质材料：出生医学证明</label>") == 1
    assert len(re.findall(r'name="received-\d+"', page)) == 5  # 1 shared + 4 own materials
    assert page.count("<strong>2. 出生医学证明申请表</strong>") == 1
    assert len(re.findall(r"<strong>\d+\. 出生医学证明</strong>", page)) == 1
    # joint departments by name for each part decided here (BIRTH03 is decided by the city)
    assert 'name="joint-BIRTH01"' in page
    assert 'name="joint-BIRTH03"' not in page
    assert "公安局" in page
    assert 'value="GA"' in page


def test_a_good_submission_makes_one_bundle_case_with_its_parts(
    birth: dict[str, Any], client: FlaskClient, db: Database  # noqa: F811
) -> None:
    assert log_in(client, "clerk1").status_code == 302
    done = _post(client, **{"received-1": "on", "paper-1": "original", "copies-1": "1",
                            "material-1": (io.BytesIO(b"%PDF-1.4 birth"), "scan.pdf"),
                            "joint-BIRTH01": "GA", "notes": "窗口收件"})
    assert done.status_code == 303, done.get_data(as_text=True)
    number = done.headers["Location"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"450981-\d{4}-Y\d{6}", number), number
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"一件事办件编号 {number}" in page
    assert "申请人查询码" in page
    assert "一窗受理（全部事项）" in page
    assert _counts(db) == (1, len(PARTS))
    with db.unit_of_work() as session:
        bundle_case = session.scalars(select(BundleCase)).one()
        parts = session.scalars(select(Case).where(
            Case.bundle_case_id == bundle_case.id).order_by(Case.id)).all()
        assert bundle_case.channel.value == "window"
        assert bundle_case.applicant_id_number == ID_NUMBER
        assert sorted(p.matter.code for p in parts) == sorted(PARTS)
        for part in parts:
            # 出生医学证明, the first material of every matter: its paper and its file on
            # every part; each part's own 申请表 was not ticked
            paper = session.scalars(select(ReceivedMaterial).where(
                ReceivedMaterial.case_id == part.id)).all()
            assert [(r.position, r.form.value, r.copies) for r in paper] == [
                (1, "original", 1)]
            files = session.scalars(select(CaseAttachment).where(
                CaseAttachment.case_id == part.id)).all()
            assert [(f.name, f.role.value) for f in files] == [("出生医学证明.pdf", "material")]
        joint = next(p for p in parts if p.matter.code == "BIRTH01")
        assert sorted(t.department.code for t in joint.tasks) == ["GA", "WJ"]
        alone = next(p for p in parts if p.matter.code == "BIRTH02")
        assert len(alone.tasks) == 1


def test_a_bad_form_shows_each_message_beside_its_field_and_makes_nothing(
    birth: dict[str, Any], client: FlaskClient, db: Database  # noqa: F811
) -> None:
    assert log_in(client, "clerk1").status_code == 302
    bad_id = _post(client, applicant_id_number="110105194912310021")
    text = bad_id.get_data(as_text=True)
    assert bad_id.status_code == 422, text
    assert 'id="e-applicant_id_number"' in text
    assert re.search(r'id="e-applicant_id_number">[^<]*[\u4e00-\u9fff]', text), text
    assert 'value="王小明"' in text  # what was typed stays
    assert "<li>身份证号码：" in text  # the summary names the field in Chinese
    assert "applicant_id_number：" not in text

    missing = _post(client, **{"form-mother_name": " ", "applicant_name": ""})
    text = missing.get_data(as_text=True)
    assert missing.status_code == 422
    assert re.search(r'id="e-form-mother_name">请填写“母亲姓名”<', text), text
    assert re.search(r'id="e-applicant_name">请填写申请人姓名<', text), text
    assert 'id="e-form-baby_name"' not in text

    bad_file = _post(client, **{"material-1": (io.BytesIO(b"not a pdf"), "scan.pdf")})
    text = bad_file.get_data(as_text=True)
    assert bad_file.status_code == 422
    assert "scan.pdf：文件内容不是" in text
    assert _counts(db) == (0, 0)


def test_only_the_clerks_role_takes_a_bundle(
    birth: dict[str, Any], client: FlaskClient, db: Database,  # noqa: F811
    make_user: Callable[..., Api]
) -> None:
    make_user(Role.VIEWER, username="viewer1")
    assert log_in(client, "viewer1").status_code == 302
    assert client.get(FORM).status_code == 403
    token = csrf_of(client, "/staff/bundle-cases")
    refused = client.post(PAGE, data={"csrf_token": token, "bundle_code": BIRTH,
                                      "applicant_name": "王芳", "form-baby_name": "王小明",
                                      "form-mother_name": "王芳"})
    assert refused.status_code == 403
    assert PAGE not in client.get("/staff/bundle-cases").get_data(as_text=True)
    assert _counts(db) == (0, 0)
