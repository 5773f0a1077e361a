"""The pages and exports this issue changed, read as a person reads them (tests/page_scan.py):
no Latin word outside the allowlist, no snake_case, no division code without its center's
name, no rate above 100 under a 率 heading, no fee in 分, no raw timestamp.  The rankings
pages and exports come from a real hub app behind the node (test_web.hub_behind)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select, update

from node.auth.models import User
from node.auth.permissions import Role
from node.cases.models import Case, CaseEvent
from node.catalog.models import StaffMember
from node.sync.names import store_names
from schemas.runtime.database import Database
from tests.page_scan import csv_problems, page_problems, text_problems, xlsx_problems
from tests.unit.hub.rank_federation import TOWN_A, TOWN_B, count, rate
from tests.unit.node.conftest import Api
from tests.unit.node.test_cases_api import submit
from tests.unit.node.test_web import csrf_of, hub_behind, log_in  # noqa: F401

NOW = dt.datetime(2026, 12, 6, 6, 0, tzinfo=dt.UTC)
NAMES = {"450900": "玉林市政务服务中心", "450000": "广西壮族自治区政务服务中心",
         "450981101": "北流镇甲", "450981102": "北流镇乙"}
PERIOD = "2026-10"


def test_the_scanner_finds_what_a_person_must_not_read() -> None:
    assert text_problems("已上报至 北流市政务服务中心（450981）") == []
    assert text_problems("已上报至 450981")
    assert text_problems("450981：accepted 已接收")
    assert text_problems("upstream_update")
    assert text_problems("中心收费（分）")
    assert text_problems("2026-12-06T07:50:13.815307+00:00")
    assert text_problems('{"error": 1}')
    # a code beside its name, an address, office hours: what a person may read
    assert text_problems("所属部门：公安局（GA）；枢纽地址 http://127.0.0.1:8200/x_y") == []
    assert text_problems("办公时间 08:30-12:00、14:30-17:30") == []
    assert text_problems("所属部门：GA")
    assert text_problems("方法名称以 450900. 开头；选择 JSON 或 XLSX 文件") == []
    assert text_problems("枢纽拒绝了该查询（422 validation_failed）：The input is not valid.")
    # a login name under 用户名 is an account's code; elsewhere it is a Latin word
    users = ("<table><tr><th>用户名</th><th>姓名</th></tr>"
             "<tr><td>clerk</td><td>李明</td></tr></table>")
    assert page_problems(users) == []
    assert page_problems(users.replace("用户名", "经办人"))
    assert text_problems("导出 Excel（含方法说明）") == []
    assert page_problems("<table><tr><th>按时办结率</th></tr><tr><td>9850</td></tr></table>")
    assert page_problems("<table><tr><th>按时办结率</th></tr><tr><td>98.50%</td></tr></table>"
                         ) == []


def name_everyone(db: Database) -> None:
    """The fixtures' accounts are named by their usernames (super1, clerk2); staff on a page
    are named in Chinese, as a center names its people."""
    with db.unit_of_work() as session:
        users = session.scalars(select(User).where(User.display_name == User.username)
                                .order_by(User.id)).all()
        for number, user in enumerate(users, start=1):
            user.display_name = f"工作人员{'一二三四五六七八九十'[(number - 1) % 10]}{number}号"


def _named(db: Database, username: str, name: str) -> None:
    """Fixtures name people by their usernames; a person's name is Chinese here."""
    with db.unit_of_work() as session:
        session.execute(update(User).where(User.username == username)
                        .values(display_name=name))


def _case_with_history(db: Database, desk: dict[str, Api]) -> int:
    case = submit(desk["clerk"])
    with db.unit_of_work() as session:
        store_names(session, NAMES, NOW)
        session.execute(update(User).where(User.username == "clerk1")
                        .values(display_name="李明"))
        row = session.scalars(select(Case).where(Case.id == case["id"])).one()
        row.forwarded_to = "450900"
        row.events.append(CaseEvent(
            at=NOW, actor="system", role="system", action="upstream_update",
            from_state=row.state.value, to_state=row.state.value,
            reason="450900：in_review 已接收", public=False))
    return int(case["id"])


def test_the_case_file_and_directives_read_chinese(
        app: Any, client: FlaskClient, db: Database, desk: dict[str, Api]) -> None:
    case_id = _case_with_history(db, desk)
    name_everyone(db)
    assert log_in(client, "clerk1").status_code == 302
    page = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    assert "玉林市政务服务中心（450900）已接收上报件；进入审查" in page
    assert "已上报至" in page
    assert page_problems(page) == []

    _named(db, "super1", "赵监察")
    other = app.test_client()
    assert log_in(other, "super1").status_code == 302
    directives = other.get("/staff/supervision/directives").get_data(as_text=True)
    assert page_problems(directives) == []


def test_the_matter_form_reads_chinese(
        client: FlaskClient, db: Database, desk: dict[str, Api], make_user: Any) -> None:
    make_user(Role.ADMIN, username="boss")
    _named(db, "boss", "张管理")
    assert log_in(client, "boss").status_code == 302
    found = page_problems(client.get("/staff/admin/matters/NC1/edit").get_data(as_text=True))
    assert found == [], found


@pytest.mark.parametrize("metric", ["completed", "on_time_rate", "fees_center_fen"])
def test_the_rankings_pages_and_exports_read_chinese(
        client: FlaskClient, db: Database, desk: dict[str, Api], make_user: Any,
        hub_behind: Any, metric: str) -> None:  # noqa: F811
    for code, done in ((TOWN_A, 12), (TOWN_B, 4)):
        hub_behind.report(code, PERIOD, {"completed": count(done),
                                         "on_time_rate": rate(done - 1, done),
                                         "fees_center_fen": count(done * 164000)})
    make_user(Role.SUPERVISOR, username="watch")
    _named(db, "watch", "王监察")
    assert log_in(client, "watch").status_code == 302
    query = f"period={PERIOD}&metric={metric}"
    pages = [f"/staff/rankings?{query}", f"/staff/rankings/completeness?period={PERIOD}",
             f"/staff/rankings/composite?period={PERIOD}&normalisation=min_max"
             f"&metric1=completed&weight1=2&metric2=on_time_rate&weight2=1"]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        problems = page_problems(response.get_data(as_text=True))
        assert problems == [], (path, problems)
    exports = [f"what=league&{query}", f"what=completeness&period={PERIOD}",
               f"what=composite&period={PERIOD}&normalisation=min_max&metric1=completed"
               f"&weight1=2&metric2=on_time_rate&weight2=1"]
    for export in exports:
        xlsx = client.get(f"/staff/rankings/export?{export}&format=xlsx")
        assert xlsx.status_code == 200, export
        assert xlsx_problems(xlsx.data) == [], export
        csv = client.get(f"/staff/rankings/export?{export}&format=csv")
        assert csv.status_code == 200, export
        assert csv_problems(csv.data) == [], export


def test_the_calendar_names_who_registered_and_the_assessment_names_windows(
        app: Any, client: FlaskClient, db: Database, desk: dict[str, Api], make_user: Any) -> None:
    """登记人 is the display name, not the username; a clerk's 窗口 is 名称（代码）."""
    staff = desk["admin"].post("/api/v1/staff", {
        "code": "S001", "name": "李明", "staff_type": "civil_servant",
        "department_code": "SC", "window_code": "W01"})
    assert staff.status_code == 201, staff.json
    with db.unit_of_work() as session:
        member = session.scalars(select(StaffMember).where(StaffMember.code == "S001")).one()
        session.execute(update(User).where(User.username == "clerk1")
                        .values(staff_member_id=member.id, display_name="李明"))
    make_user(Role.ADMIN, username="boss")
    _named(db, "boss", "张管理")
    assert log_in(client, "boss").status_code == 302
    token = csrf_of(client, "/staff/admin/calendar")
    added = client.post("/staff/admin/calendar", data={
        "csrf_token": token, "day": "2026-12-24", "working": "false", "reason": "停电检修"})
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]
    page = client.get("/staff/admin/calendar").get_data(as_text=True)
    assert "<td>停电检修</td><td>张管理</td>" in page
    assert "<td>boss</td>" not in page

    other = app.test_client()
    name_everyone(db)
    assert log_in(other, "super1").status_code == 302
    page = other.get("/staff/supervision/assessment").get_data(as_text=True)
    assert "<td>李明</td><td>市场监管窗口（W01）</td>" in page
    assert page_problems(page) == []


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_an_export_the_hub_refuses_reads_as_its_reason_not_as_the_hubs_json(
        client: FlaskClient, db: Database, make_user: Any, hub_behind: Any,  # noqa: F811
        fmt: str) -> None:
    """The hub's refusal of an export (422: a metric it does not know) is shown as the
    rankings pages show it — the field by the form's label — never as the wire's JSON, the
    field's API name or the list of metric codes marshmallow's message holds."""
    make_user(Role.SUPERVISOR, username="watch")
    _named(db, "watch", "王监察")
    assert log_in(client, "watch").status_code == 302
    refused = client.get(f"/staff/rankings/export?what=league&format={fmt}&period={PERIOD}"
                         "&metric=no_such_metric")
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "枢纽拒绝了该查询：指标：不是可选的值" in page
    assert page_problems(page) == [], page_problems(page)


def test_the_hubs_refusals_on_the_rankings_pages_are_said_without_its_codes(
        client: FlaskClient, db: Database, make_user: Any, hub_behind: Any,  # noqa: F811
) -> None:
    """A refusal by its code (403 outside_scope: a scope above this center) and a field's
    reason in Chinese (the period's format) reach the page in Chinese, by the form's labels."""
    make_user(Role.SUPERVISOR, username="watch")
    _named(db, "watch", "王监察")
    assert log_in(client, "watch").status_code == 302
    outside = client.get(f"/staff/rankings?period={PERIOD}&scope=450000").get_data(as_text=True)
    assert "枢纽拒绝了该查询：所选范围不在本中心的查看范围之内" in outside
    assert page_problems(outside) == [], page_problems(outside)
    unknown = client.get(f"/staff/rankings?period={PERIOD}&metric=no_such_metric")
    page = unknown.get_data(as_text=True)
    assert "枢纽拒绝了该查询：指标：不是可选的值" in page
    assert page_problems(page) == [], page_problems(page)


def test_the_catalog_workbook_is_named_after_what_it_holds(
        client: FlaskClient, db: Database, make_user: Any) -> None:
    """事项目录-450981.xlsx, as the other exports are named, not catalog-450981.xlsx."""
    make_user(Role.ADMIN, username="boss")
    assert log_in(client, "boss").status_code == 302
    exported = client.get("/staff/admin/export.xlsx")
    assert exported.status_code == 200
    disposition = exported.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E4%BA%8B%E9%A1%B9%E7%9B%AE%E5%BD%95-450981.xlsx" in disposition
    assert "catalog" not in disposition
