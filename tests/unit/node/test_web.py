"""The web pages with Flask's test client: login, CSRF, permissions and every page rendering
(the browser tests in tests/browser click through the same pages in Chromium)."""

from __future__ import annotations

import re
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.unit.node.conftest import PASSWORD, Api

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def log_in(client: FlaskClient, username: str) -> Any:
    token = csrf_of(client, "/staff/login")
    return client.post("/staff/login", data={"username": username, "password": PASSWORD,
                                             "csrf_token": token})


def test_citizen_pages_render_without_login(client: FlaskClient, desk: dict[str, Api]) -> None:
    for path in ("/", "/guide", "/guide?q=食品", "/guide/11450981MB0001",
                 "/guide/11450981MB0001/apply", "/lookup", "/complaint", "/board"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert 'lang="zh-CN"' in response.get_data(as_text=True)


def test_a_form_without_the_csrf_token_is_refused(client: FlaskClient,
                                                  desk: dict[str, Api]) -> None:
    response = client.post("/complaint", data={"content": "排队太久", "window_code": "W01"})

    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)


def test_the_json_api_needs_no_csrf_token(client: FlaskClient, desk: dict[str, Api]) -> None:
    response = client.post("/api/v1/public/complaints",
                           json={"content": "排队太久", "window_code": "W01"})

    assert response.status_code == 201


def test_staff_pages_need_a_login(client: FlaskClient, desk: dict[str, Api]) -> None:
    response = client.get("/staff/desk")

    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_wrong_password_and_role_without_permission(client: FlaskClient,
                                                    desk: dict[str, Api]) -> None:
    token = csrf_of(client, "/staff/login")
    wrong = client.post("/staff/login", data={"username": "clerk1", "password": "nope",
                                              "csrf_token": token})
    assert wrong.status_code == 401
    assert "用户名或密码错误" in wrong.get_data(as_text=True)

    assert log_in(client, "approver1").status_code == 302
    assert client.get("/staff/desk").status_code == 403
    assert client.get("/staff/admin").status_code == 403


@pytest.mark.parametrize(("username", "paths"), [
    ("clerk1", ["/staff/desk", "/staff/desk/new", "/staff/desk/new?matter_code=NC1"]),
    ("approver1", ["/staff/department"]),
    ("super1", ["/staff/supervision", "/staff/supervision/complaints",
                "/staff/supervision/rectifications", "/staff/supervision/figures",
                "/staff/supervision/assessment", "/staff/supervision/patterns",
                "/staff/supervision/directives", "/staff/rankings"]),
])
def test_each_role_sees_its_pages(client: FlaskClient, desk: dict[str, Api], username: str,
                                  paths: list[str]) -> None:
    assert log_in(client, username).status_code == 302
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:2000])


def test_admin_pages(client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    from node.auth.permissions import Role

    make_user(Role.ADMIN, username="boss")
    assert log_in(client, "boss").status_code == 302
    for path in ("/staff/admin", "/staff/admin/organisation", "/staff/admin/users",
                 "/staff/admin/calendar", "/staff/admin/import", "/staff/admin/sync",
                 "/staff/admin/export.xlsx"):
        response = client.get(path)
        assert response.status_code == 200, (path, response.get_data(as_text=True)[:2000])


def test_clerk_takes_accepts_and_the_case_file_shows_actions(
        client: FlaskClient, desk: dict[str, Api]) -> None:
    log_in(client, "clerk1")
    token = csrf_of(client, "/staff/desk/new?matter_code=11450981MB0001")
    taken = client.post("/staff/desk/new", data={
        "csrf_token": token, "matter_code": "11450981MB0001", "applicant_name": "张三",
        "applicant_phone": "13800138000"})
    assert taken.status_code == 302, taken.get_data(as_text=True)[:3000]
    case_page = client.get(taken.headers["Location"])
    text = case_page.get_data(as_text=True)
    assert "已收件" in text
    assert "受理" in text

    case_path = taken.headers["Location"].split("?")[0]
    version = re.search(r'name="version" value="(\d+)"', text).group(1)  # type: ignore[union-attr]
    accepted = client.post(f"{case_path}/accept", data={"csrf_token": token,
                                                        "version": version})
    assert accepted.status_code == 302
    assert "已受理" in client.get(case_path).get_data(as_text=True)

    stale = client.post(f"{case_path}/accept", data={"csrf_token": token, "version": version})
    assert stale.status_code == 422


def test_bad_input_shows_the_errors_and_changes_nothing(client: FlaskClient,
                                                       desk: dict[str, Api]) -> None:
    token = csrf_of(client, "/guide/11450981MB0001/apply")
    response = client.post("/guide/11450981MB0001/apply", data={
        "csrf_token": token, "applicant_name": "李四", "applicant_phone": "12",
        "applicant_id_number": "123"})

    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'role="alert"' in text
    assert "身份证号码" in text


# -- administrator: editing existing records -------------------------------------------------


def _admin_client(client: FlaskClient, make_user: Any) -> None:
    from node.auth.permissions import Role

    make_user(Role.ADMIN, username="boss")
    assert log_in(client, "boss").status_code == 302


def _form_of(client: FlaskClient, path: str) -> dict[str, Any]:
    """The edit form's prefilled values as a browser would send them back."""
    from html.parser import HTMLParser

    class Form(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.data: dict[str, Any] = {}
            self.in_form = False
            self.textarea: str | None = None
            self.select: str | None = None
            self.seen: set[str] = set()

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            a = dict(attrs)
            if tag == "form" and a.get("method") == "post" and \
                    (a.get("id") or "").endswith("-form"):
                self.in_form = True
            if not self.in_form:
                return
            name = a.get("name")
            if tag == "input" and name:
                if a.get("type") == "checkbox":
                    if "checked" in a:
                        self.data[name] = a.get("value") or "on"
                elif a.get("type") != "password":
                    self.data[name] = a.get("value") or ""
            elif tag == "textarea" and name:
                self.textarea = name
                self.data[name] = ""
            elif tag == "select" and name:
                self.select = name
                self.data.setdefault(name, [] if "multiple" in a else "")
            elif tag == "option" and self.select and self.select not in self.seen:
                self.seen.add(self.select)
                if not isinstance(self.data[self.select], list):  # a browser sends the first
                    self.data[self.select] = a.get("value") or ""
                    self.data[self.select] = a.get("value") if "selected" in a else \
                        self.data[self.select]
                elif "selected" in a:
                    self.data[self.select].append(a.get("value"))
            elif tag == "option" and self.select and "selected" in a:
                if isinstance(self.data[self.select], list):
                    self.data[self.select].append(a.get("value"))
                else:
                    self.data[self.select] = a.get("value")

        def handle_endtag(self, tag: str) -> None:
            if tag == "textarea":
                self.textarea = None
            elif tag == "select":
                self.select = None
            elif tag == "form":
                self.in_form = False

        def handle_data(self, data: str) -> None:
            if self.textarea:
                self.data[self.textarea] += data

    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    parser = Form()
    parser.feed(response.get_data(as_text=True))
    assert parser.data, f"no form with an id ending in -form on {path}"
    return parser.data


def test_admin_edits_a_matter_through_its_prefilled_form(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    _admin_client(client, make_user)
    path = "/staff/admin/matters/11450981MB0001/edit"
    form = _form_of(client, path)
    assert form["name"] == "食品经营许可证核发"
    assert form["promised_limit_days"] == "5"
    assert form["window_code"] == "W01"
    assert form["power_approve"] == "on"
    assert "power_litigate" not in form
    assert form["materials"].splitlines() == ["食品经营许可申请书", "营业执照复印件",
                                              "法定代表人身份证明"]

    form.update(name="食品经营许可证核发（新办）", promised_limit_days="3", fee_basis="",
                materials="营业执照复印件\n食品安全管理制度")
    form.pop("power_approve")
    saved = client.post(path, data=form)

    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    matter = desk["admin"].get("/api/v1/matters/11450981MB0001").json
    assert matter["name"] == "食品经营许可证核发（新办）"
    assert matter["promised_limit_days"] == 3
    assert matter["fee_basis"] == ""
    assert matter["powers"]["approve"] is False
    assert matter["powers"]["review"] is True
    assert [m["name"] for m in matter["materials"]] == ["营业执照复印件", "食品安全管理制度"]
    assert matter["materials"][0]["form"] == "copy"  # a kept material keeps its form


def test_admin_sets_the_guides_practical_fields_on_the_matter_form(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    _admin_client(client, make_user)
    path = "/staff/admin/matters/11450981MB0001/edit"
    form = _form_of(client, path)
    assert form["service_address"] == ""
    assert form["complaint_phone"] == ""
    form.update(service_address="市民中心一楼", office_hours="工作日 9:00-17:00",
                enquiry_phone="0775-1234567", complaint_phone="电话投诉")
    refused = client.post(path, data=form)
    assert refused.status_code == 422
    assert "监督投诉电话" in refused.get_data(as_text=True)
    assert desk["admin"].get("/api/v1/matters/11450981MB0001").json["service_address"] == ""
    form.update(complaint_phone="12345")
    assert client.post(path, data=form).status_code == 302
    matter = desk["admin"].get("/api/v1/matters/11450981MB0001").json
    assert (matter["service_address"], matter["office_hours"], matter["enquiry_phone"],
            matter["complaint_phone"]) == ("市民中心一楼", "工作日 9:00-17:00",
                                           "0775-1234567", "12345")
    assert _form_of(client, path)["office_hours"] == "工作日 9:00-17:00"


def test_bad_matter_edit_shows_the_error_and_changes_nothing(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    _admin_client(client, make_user)
    path = "/staff/admin/matters/11450981MB0001/edit"
    form = _form_of(client, path)
    form.update(name="改了名字", promised_limit_days="30")  # above the legal limit of 20

    response = client.post(path, data=form)

    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert 'role="alert"' in text
    assert "承诺时限" in text
    assert 'id="e-promised_limit_days"' in text
    assert 'value="改了名字"' in text  # the form keeps what was typed
    matter = desk["admin"].get("/api/v1/matters/11450981MB0001").json
    assert matter["name"] == "食品经营许可证核发"
    assert matter["promised_limit_days"] == 5

    form.update(promised_limit_days="")
    blank = client.post(path, data=form)
    assert blank.status_code == 422
    assert "请填写整数" in blank.get_data(as_text=True)
    assert client.get("/staff/admin/matters/NOPE/edit").status_code == 404


def test_admin_edits_a_window_and_a_bad_edit_changes_nothing(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    _admin_client(client, make_user)
    path = "/staff/admin/organisation/window/W01/edit"
    form = _form_of(client, path)
    assert form == {"csrf_token": form["csrf_token"], "name": "市场监管窗口",
                    "location": "一楼A区", "department_codes": ["SC"]}

    form.update(name="市场准入窗口", location="二楼", department_codes=["SC", "ZJ"])
    assert client.post(path, data=form).status_code == 302
    window = desk["admin"].get("/api/v1/windows/W01").json
    assert (window["name"], window["location"]) == ("市场准入窗口", "二楼")
    assert {d["code"] for d in window["departments"]} == {"SC", "ZJ"}

    # W01 handles SC's matters: it may not stop serving SC
    form.update(name="只办住建", department_codes=["ZJ"])
    refused = client.post(path, data=form)
    assert refused.status_code == 422
    assert 'id="e-department_codes"' in refused.get_data(as_text=True)
    window = desk["admin"].get("/api/v1/windows/W01").json
    assert window["name"] == "市场准入窗口"
    assert {d["code"] for d in window["departments"]} == {"SC", "ZJ"}


def test_admin_edits_a_department_and_a_staff_record(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    admin = desk["admin"]
    assert admin.post("/api/v1/staff", {"code": "S01", "name": "李明", "staff_type":
                                        "civil_servant", "department_code": "SC",
                                        "window_code": "W01"}).status_code == 201
    _admin_client(client, make_user)
    department = _form_of(client, "/staff/admin/organisation/department/ZJ/edit")
    department["name"] = "住房城乡建设局"
    assert client.post("/staff/admin/organisation/department/ZJ/edit",
                       data=department).status_code == 302
    assert admin.get("/api/v1/departments/ZJ").json["name"] == "住房城乡建设局"

    path = "/staff/admin/organisation/staff/S01/edit"
    form = _form_of(client, path)
    assert form["staff_type"] == "civil_servant"
    assert form["active"] == "on"
    form.update(staff_type="temporary", position="导办员", window_code="")
    form.pop("active")  # the person left
    assert client.post(path, data=form).status_code == 302
    member = admin.get("/api/v1/staff/S01").json
    assert member["staff_type"] == "temporary"
    assert member["position"] == "导办员"
    assert member["window"] is None
    assert member["active"] is False

    bad = dict(form, name="", department_code="NOPE")
    refused = client.post(path, data=bad)
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'id="e-name"' in text
    assert "姓名" in text
    assert admin.get("/api/v1/staff/S01").json["name"] == "李明"


def test_admin_retires_and_reinstates_a_department_and_a_window(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    admin = desk["admin"]
    assert admin.post("/api/v1/windows", {"code": "W02", "name": "住建窗口",
                                          "department_codes": ["ZJ"]}).status_code == 201
    _admin_client(client, make_user)
    page = client.get("/staff/admin/organisation").get_data(as_text=True)
    assert 'aria-label="撤销部门 住房和城乡建设局"' in page
    assert 'aria-label="撤销窗口 住建窗口"' in page
    token = csrf_of(client, "/staff/admin/organisation")

    retired = client.post("/staff/admin/organisation/window/W02/retire",
                          data={"csrf_token": token}, follow_redirects=True)
    assert retired.status_code == 200
    assert "窗口 住建窗口 已撤销。" in retired.get_data(as_text=True)
    assert admin.get("/api/v1/windows/W02").json["retired_at"] is not None
    retired = client.post("/staff/admin/organisation/department/ZJ/retire",
                          data={"csrf_token": token}, follow_redirects=True)
    text = retired.get_data(as_text=True)
    assert "部门 住房和城乡建设局 已撤销。" in text
    assert 'aria-label="恢复部门 住房和城乡建设局"' in text
    assert 'aria-label="恢复窗口 住建窗口"' in text
    assert admin.get("/api/v1/departments/ZJ").json["retired_at"] is not None

    # W02 serves only ZJ, which is retired: the window cannot come back before it
    refused = client.post("/staff/admin/organisation/window/W02/reinstate",
                          data={"csrf_token": token})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'role="alert"' in text
    assert "与现有数据冲突" in text
    assert "所属的部门均已撤销（ZJ）" in text
    assert admin.get("/api/v1/windows/W02").json["retired_at"] is not None

    for path, flashed in (("department/ZJ/reinstate", "部门 住房和城乡建设局 已恢复。"),
                          ("window/W02/reinstate", "窗口 住建窗口 已恢复。")):
        response = client.post(f"/staff/admin/organisation/{path}",
                               data={"csrf_token": token}, follow_redirects=True)
        assert response.status_code == 200
        assert flashed in response.get_data(as_text=True)
    assert admin.get("/api/v1/departments/ZJ").json["retired_at"] is None
    assert admin.get("/api/v1/windows/W02").json["retired_at"] is None


def test_retiring_a_department_with_active_matters_shows_the_refusal(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    _admin_client(client, make_user)
    token = csrf_of(client, "/staff/admin/organisation")
    refused = client.post("/staff/admin/organisation/department/SC/retire",
                          data={"csrf_token": token})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert 'role="alert"' in text
    assert "与现有数据冲突" in text
    assert "仍有在用的事项" in text
    assert 'aria-label="撤销部门 市场监督管理局"' in text
    assert desk["admin"].get("/api/v1/departments/SC").json["retired_at"] is None

    unknown = client.post("/staff/admin/organisation/department/NOPE/retire",
                          data={"csrf_token": token})
    assert unknown.status_code == 422
    assert "未找到" in unknown.get_data(as_text=True)
    no_token = client.post("/staff/admin/organisation/department/ZJ/retire")
    assert no_token.status_code == 400
    assert desk["admin"].get("/api/v1/departments/ZJ").json["retired_at"] is None


def test_admin_edits_a_user_and_bad_input_changes_nothing(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    _admin_client(client, make_user)
    path = "/staff/admin/users/clerk2/edit"
    form = _form_of(client, path)
    assert form["role"] == "clerk"
    assert form["department_code"] == "SC"
    assert form["active"] == "on"

    form.update(display_name="赵六", role="approver")
    assert client.post(path, data=form).status_code == 302
    user = desk["admin"].get("/api/v1/users/clerk2").json
    assert (user["display_name"], user["role"]) == ("赵六", "approver")
    # the list's edit link and switch are read aloud by the person's name, not the login name
    listed = client.get("/staff/admin/users").get_data(as_text=True)
    assert 'aria-label="修改赵六的账号"' in listed
    assert 'aria-label="停用赵六的账号"' in listed
    assert "修改账号 clerk2" not in listed

    # a clerk or approver must belong to a department; a weak password is refused too
    refused = client.post(path, data=dict(form, display_name="钱七", department_code=""))
    assert refused.status_code == 422
    assert 'id="e-department_code"' in refused.get_data(as_text=True)
    weak = client.post(path, data=dict(form, display_name="钱七", password="123"))
    assert weak.status_code == 422
    assert 'id="e-password"' in weak.get_data(as_text=True)
    assert desk["admin"].get("/api/v1/users/clerk2").json["display_name"] == "赵六"

    # an administrator may not disable their own account
    own = _form_of(client, "/staff/admin/users/boss/edit")
    own.pop("active")
    mine = client.post("/staff/admin/users/boss/edit", data=own)
    assert mine.status_code == 422
    assert "不能停用自己的账号或更改自己的角色" in mine.get_data(as_text=True)
    assert desk["admin"].get("/api/v1/users/boss").json["active"] is True


# -- higher-level staff: saving a composite methodology at the hub -----------------------------


class _HubTransport:
    """``requests.Session`` for the node's rankings client, answered by a hub app in-process."""

    def __init__(self, hub: Any) -> None:
        self.client = hub.test_client()

    def request(self, method: str, url: str, *, data: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: Any = None) -> Any:
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        response = self.client.open(path, method=method, data=data, headers=headers)

        return SimpleNamespace(status_code=response.status_code, content=response.data,
                               headers=dict(response.headers))


@pytest.fixture
def hub_behind(app: Any, tmp_path: Any) -> Any:
    """A real hub app (its own SQLite file) where the node's code is enrolled, and the
    node's rankings client talking to it."""
    import secrets

    from hub import create_app as create_hub
    from hub.models import Base as HubBase
    from node.composition import NodeServices
    from node.sync.rankings import RankingsClient
    from tests.unit.hub.federation import PROVINCE, ROOT_KEY, b64
    from tests.unit.hub.rank_federation import KEYS, RankFederation

    hub = create_hub({"database_url": f"sqlite:///{tmp_path / 'hub.db'}",
                      "secret_key": secrets.token_urlsafe(32), "testing": True,
                      "root_code": PROVINCE, "root_public_key": b64(ROOT_KEY)})
    HubBase.metadata.create_all(hub.extensions["tongban_db"].engine)
    fed = RankFederation(hub)
    code = app.config["TONGBAN"].code
    app.config["TONGBAN"] = replace(app.config["TONGBAN"], hub_url="http://hub.test")
    NodeServices.of_app(app.extensions).rankings_hub = RankingsClient(
        "http://hub.test", code, KEYS[code], session=_HubTransport(hub))
    yield fed
    hub.extensions["tongban_db"].dispose()


def _methodology_form(client: FlaskClient, **fields: str) -> dict[str, str]:
    token = csrf_of(client, "/staff/rankings/methodologies")
    return {"csrf_token": token, "normalisation": "min_max", **fields}


def test_supervisor_saves_a_composite_methodology_and_edits_it(
        client: FlaskClient, desk: dict[str, Api], hub_behind: Any, app: Any) -> None:
    code = app.config["TONGBAN"].code
    assert log_in(client, "super1").status_code == 302
    page = client.get("/staff/rankings/methodologies").get_data(as_text=True)
    assert f"{code}." in page
    assert "还没有保存的计算方法" in page

    saved = client.post("/staff/rankings/methodologies", data=_methodology_form(
        client, name="bulletin", title="月度通报", description="办结量与按时率",
        metric1="completed",
        weight1="2", direction1="higher_better", metric2="on_time_rate", weight2="1.5",
        direction2="higher_better"))
    assert saved.status_code == 302, saved.get_data(as_text=True)[:3000]
    listed = hub_behind.get("/api/v1/rankings/methodologies", code).json
    assert [(m["name"], m["version"]) for m in listed] == [(f"{code}.bulletin", 1)]
    assert [(c["metric"], c["weight"]) for c in listed[0]["components"]] == [
        ("completed", 2.0), ("on_time_rate", 1.5)]

    edit = _form_of(client, f"/staff/rankings/methodologies?name={code}.bulletin")
    assert (edit["name"], edit["title"]) == ("bulletin", "月度通报")
    assert (edit["metric2"], edit["weight2"]) == ("on_time_rate", "1.5")
    assert edit["metric3"] == ""
    edit.update(weight2="3", metric3="overdue_open", weight3="1", direction3="lower_better")
    again = client.post(f"/staff/rankings/methodologies?name={code}.bulletin", data=edit)
    assert again.status_code == 302
    assert "第 2 版" in client.get(again.headers["Location"]).get_data(as_text=True)
    latest = hub_behind.get(f"/api/v1/rankings/methodologies/{code}.bulletin", code).json
    assert (latest["version"], latest["title"]) == (2, "月度通报")
    assert latest["components"][2] == {"metric": "overdue_open", "weight": 1.0,
                                       "direction": "lower_better"}


def test_a_bad_methodology_shows_the_hubs_errors_on_the_form_and_saves_nothing(
        client: FlaskClient, desk: dict[str, Api], hub_behind: Any, app: Any) -> None:
    code = app.config["TONGBAN"].code
    assert log_in(client, "super1").status_code == 302

    bad = client.post("/staff/rankings/methodologies", data=_methodology_form(
        client, name="bulletin", title="月度通报", metric1="completed", weight1="1",
        metric3="completed", weight3="很多"))

    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    assert 'role="alert"' in text
    assert 'id="e-weight3"' in text  # the hub's components.1.weight is the form's row 3
    assert "指标 3 的权重" in text
    assert 'value="很多"' in text
    assert hub_behind.get("/api/v1/rankings/methodologies", code).json == []

    bad_name = client.post("/staff/rankings/methodologies", data=_methodology_form(
        client, name="公报", title="月度通报", metric1="completed", weight1="1"))
    assert bad_name.status_code == 422
    assert 'id="e-name"' in bad_name.get_data(as_text=True)
    too_long = client.post("/staff/rankings/methodologies", data=_methodology_form(
        client, name="b" * 70, title="月度通报", metric1="completed",
        weight1="1"))  # the hub's own rule
    assert too_long.status_code == 422
    assert 'id="e-name"' in too_long.get_data(as_text=True)
    assert hub_behind.get("/api/v1/rankings/methodologies", code).json == []


def test_only_staff_who_manage_supervision_save_methodologies(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    from node.auth.permissions import Role

    make_user(Role.VIEWER, username="leader")
    assert log_in(client, "leader").status_code == 302
    assert client.get("/staff/rankings/methodologies").status_code == 403
    assert "计算方法</a>" not in client.get("/staff/rankings/composite").get_data(as_text=True)


def test_the_api_saves_a_methodology_through_the_same_client(
        desk: dict[str, Api], hub_behind: Any, app: Any, make_user: Any) -> None:
    from node.auth.permissions import Role

    code = app.config["TONGBAN"].code
    document = {"normalisation": "z_score", "description": "按时率",
                "components": [{"metric": "on_time_rate", "weight": 1}]}
    supervisor = desk["supervisor"]

    saved = supervisor.request("PUT", f"/api/v1/rankings/methodologies/{code}.api",
                               json=document)
    assert saved.status_code == 200, saved.json
    assert (saved.json["name"], saved.json["version"]) == (f"{code}.api", 1)
    one = supervisor.get(f"/api/v1/rankings/methodologies/{code}.api")
    assert one.json["normalisation"] == "z_score"

    elsewhere = supervisor.request("PUT", "/api/v1/rankings/methodologies/bulletin",
                                   json=document)
    assert elsewhere.status_code == 403
    assert elsewhere.json["error"]["code"] == "role_not_allowed"
    viewer = make_user(Role.VIEWER, username="leader")
    refused = viewer.request("PUT", f"/api/v1/rankings/methodologies/{code}.api",
                             json=document)
    assert refused.status_code == 403
    assert [m["version"] for m in supervisor.get("/api/v1/rankings/methodologies").json] == [1]


# -- hand-over (首问负责) -------------------------------------------------------------------------


def _handover_options(client: FlaskClient, case_path: str) -> dict[str, list[str]]:
    """The hand-over select's options by option group label."""
    text = client.get(case_path).get_data(as_text=True)
    select = re.search(r'<select id="handover-to".*?</select>', text, re.DOTALL)
    assert select, "no hand-over form"
    return {label: re.findall(r'<option value="([^"]+)"', body) for label, body in
            re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select.group(0),
                       re.DOTALL)}


def test_hand_over_offers_every_active_window_clerk_and_the_service_takes_each(
        client: FlaskClient, desk: dict[str, Api], make_user: Any) -> None:
    from node.auth.permissions import Role

    make_user(Role.CLERK, username="clerk_zj", department="ZJ")
    make_user(Role.CLERK, username="gone", department="SC")
    assert desk["admin"].patch("/api/v1/users/gone", {"active": False}).status_code == 200
    log_in(client, "clerk1")
    token = csrf_of(client, "/staff/desk/new?matter_code=11450981MB0001")
    taken = client.post("/staff/desk/new", data={
        "csrf_token": token, "matter_code": "11450981MB0001", "applicant_name": "张三",
        "applicant_phone": "13800138000"})
    case_path = taken.headers["Location"].split("?")[0]
    case_id = case_path.rsplit("/", 1)[1]
    client.post("/staff/logout", data={"csrf_token": token})

    log_in(client, "super1")
    options = _handover_options(client, case_path)
    # the owner (clerk1), approvers, the supervisor and a disabled clerk are not offered
    assert options == {"本部门（市场监督管理局）": ["clerk2"], "其他部门": ["clerk_zj"]}

    token = csrf_of(client, case_path)
    version = desk["admin"].get(f"/api/v1/cases/{case_id}").json["version"]
    refused = client.post(f"{case_path}/hand_over", data={
        "csrf_token": token, "to": "approver1", "reason": "请假", "version": version})
    assert refused.status_code == 422  # the service's rule: an active clerk
    assert desk["admin"].get(f"/api/v1/cases/{case_id}").json["owner"] == "clerk1"

    moved = client.post(f"{case_path}/hand_over", data={
        "csrf_token": token, "to": "clerk_zj", "reason": "综合窗口代办", "version": version})
    assert moved.status_code == 302, moved.get_data(as_text=True)[:3000]
    assert desk["admin"].get(f"/api/v1/cases/{case_id}").json["owner"] == "clerk_zj"
    assert _handover_options(client, case_path) == {
        "本部门（市场监督管理局）": ["clerk1", "clerk2"]}


def test_the_month_figures_name_the_previous_month_and_show_money_and_powers_in_chinese(
        client: FlaskClient, desk: dict[str, Api]) -> None:
    log_in(client, "super1")
    text = client.get("/staff/supervision/figures?period=2026-11").get_data(as_text=True)

    assert "上月（2026-10）" in text
    assert "{'kind'" not in text
    assert "受理授权事项" in text
    assert "审批授权率" in text
    assert "授权：accept" not in text
    assert "accept 授权率" not in text
    assert "中心收费（元）" in text
    assert "中心收费（分）" not in text


def test_a_change_of_money_is_shown_in_yuan(app: Any) -> None:
    from flask import render_template

    from schemas.metrics import ALL_METRICS
    from schemas.periods import Period

    figures = {
        "summary": {"metrics": {"fees_center_fen": {"value": 40000}}},
        "previous": {"period": {"label": "2026-10"},
                     "metrics": {"fees_center_fen": {"value": 15050}}},
        "changes": {"fees_center_fen": 24950},
    }
    with app.test_request_context("/staff/supervision/figures"):
        page = render_template("web/staff/figures.html", period=Period.month(2026, 11),
                               figures=figures, metrics=ALL_METRICS)

    row = re.search(r"中心收费（元）</th>(.*?)</tr>", page, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(1), re.S)
    assert cells[:3] == ["400.00 元", "150.50 元", "+249.50 元"]


def test_a_case_with_nothing_left_to_do_says_so(client: FlaskClient,
                                                desk: dict[str, Api]) -> None:
    """The approver of an approved case: no step of the state machine and no side form
    (extension, hand-over, fees) applies, so the page says there is nothing to do."""
    clerk, approver = desk["clerk"], desk["approver"]
    made = clerk.post("/api/v1/cases", {"matter_code": "11450981MB0001",
                                        "applicant_name": "张三"})
    cid = made.json["id"]
    assert clerk.post(f"/api/v1/cases/{cid}/accept", {}).status_code == 200
    assert approver.post(f"/api/v1/cases/{cid}/start-review", {}).status_code == 200
    log_in(client, "approver1")
    in_review = client.get(f"/staff/cases/{cid}").get_data(as_text=True)
    assert "当前没有可进行的操作" not in in_review  # the decision and the extension apply
    assert approver.post(f"/api/v1/cases/{cid}/approve", {}).json["state"] == "approved"

    page = client.get(f"/staff/cases/{cid}").get_data(as_text=True)

    assert "当前没有可进行的操作" in page
    assert "延期（第四十二条）" not in page


def test_a_notice_is_dated_by_the_beijing_day(app: Any) -> None:
    """Issued at 01:00 Beijing time on 30 November (17:00 UTC on the 29th): the notice says
    the 30th, the day the applicant was there, as its day of receipt does."""
    import datetime as dt

    from flask import render_template

    issued = dt.datetime(2026, 11, 29, 17, 0, tzinfo=dt.UTC)
    notice = SimpleNamespace(number="450981-BZ-2026-000001", sequence=1, repeat_reason=None,
                             issued_by="clerk1", issued_at=issued)
    case = SimpleNamespace(applicant_name="王五", received_on=dt.date(2026, 11, 30),
                           number="450981-2026-0000003",
                           matter=SimpleNamespace(name="食品经营许可证核发"))
    with app.test_request_context("/"):
        page = render_template("cases/supplement_notice.html", notice=notice, case=case,
                               items=[{"material": "食品安全管理制度"}],
                               center="北流市政务服务中心")

    assert "您于 2026年11月30日 申请" in page
    assert "2026年11月30日</p>" in page
    assert "2026年11月29日" not in page
