"""The staff search page (办件检索) and its CSV/XLSX export, with Flask's test client."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.unit.node.conftest import Api
from tests.unit.node.test_case_search import OTHER_ID
from tests.unit.node.test_cases_api import submit
from tests.unit.node.test_web import log_in


def test_search_page_by_id_number_shows_it_masked(client: FlaskClient,
                                                   desk: dict[str, Api]) -> None:
    submit(desk["clerk"])
    wanted = submit(desk["clerk"], applicant_name="李四", applicant_id_number=OTHER_ID)
    log_in(client, "super1")
    desk_page = client.get("/staff/search").get_data(as_text=True)
    assert "办件检索" in desk_page
    assert 'href="/staff/search"' in desk_page  # in the navigation
    response = client.get(f"/staff/search?id_number={OTHER_ID}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert wanted["number"] in page
    assert "共 1 件" in page
    assert "张三" not in page
    table = page.split("<section>", 1)[1]
    assert OTHER_ID not in table  # the result shows no whole ID number


def test_search_page_refuses_a_partial_id_number_in_chinese(client: FlaskClient,
                                                            desk: dict[str, Api]) -> None:
    submit(desk["clerk"])
    log_in(client, "super1")
    response = client.get(f"/staff/search?id_number={OTHER_ID[:8]}")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "完整的18位身份证号码" in page
    assert "办件编号" in page  # the form is shown again, no result table


def test_search_page_pages_by_cursor(client: FlaskClient, desk: dict[str, Api]) -> None:
    from node.web import search

    made = {submit(desk["clerk"])["number"] for _ in range(3)}
    log_in(client, "super1")
    original, search.PER_PAGE = search.PER_PAGE, 2
    try:
        first = client.get("/staff/search?applicant=张三").get_data(as_text=True)
        assert "下一页" in first
        link = first.split('<a href="?', 1)[1].split('">下一页', 1)[0].replace("&amp;", "&")
        second = client.get(f"/staff/search?{link}").get_data(as_text=True)
    finally:
        search.PER_PAGE = original
    shown = {n for n in made if n in first} | {n for n in made if n in second}
    assert shown == made
    assert "下一页" not in second


def test_search_export_csv_and_xlsx(client: FlaskClient, desk: dict[str, Api]) -> None:
    first = submit(desk["clerk"], applicant_name="=HYPERLINK(1)")
    submit(desk["clerk"], applicant_name="李四", applicant_id_number=OTHER_ID)
    log_in(client, "super1")
    csv = client.get("/staff/search.csv?applicant==HYPERLINK(1)")
    assert csv.status_code == 200
    text = csv.get_data().decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith('"办件编号","事项","申请人","身份证号码"')
    assert len(lines) == 2
    assert first["number"] in lines[1]
    assert "'=HYPERLINK(1)" in lines[1]  # inert
    assert "110105********002X" in lines[1]
    xlsx = client.get("/staff/search.xlsx?state=submitted")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("办件编号", "事项", "申请人")
    assert len(rows) == 3
    assert {r[2] for r in rows[1:]} == {"=HYPERLINK(1)", "李四"}
    assert sheet.cell(2, 3).data_type == "s"  # a string, never a formula
    assert client.get("/staff/search.csv?phone=12").status_code == 422


def test_a_clerk_finds_no_other_departments_case_on_the_page(
        client: FlaskClient, desk: dict[str, Api], make_user) -> None:
    from node.auth.permissions import Role

    case = submit(desk["clerk"])
    make_user(Role.CLERK, username="clerk_zj", department="ZJ")
    log_in(client, "clerk_zj")
    page = client.get(f"/staff/search?number={case['number']}").get_data(as_text=True)
    assert "共 0 件" in page
    assert case["number"] not in page.split("<section>", 1)[1]
