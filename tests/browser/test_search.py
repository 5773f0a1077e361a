"""The staff case search in Chromium against the real node process: a search by ID number
finds the case, shows the ID number masked, and the result downloads as XLSX; a result of more
than a page goes to the next page and back (上一页)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session

from node.cases.models import Case
from node.catalog.models import Matter
from node.web import search
from tests.browser.conftest import HTTP_TIMEOUT, MATTER, SITE_GROUP, Site, shot
from tests.browser.test_documents import _api
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, SITE_GROUP]

ID_NUMBER = "110105195001010039"
PAGED = "翻页测试"


def test_the_supervisor_searches_by_id_number(page: Any, site: Site) -> None:
    clerk = _api(site, "clerk")
    made = clerk.post(f"{site.node}/api/v1/cases", json={
        "matter_code": MATTER, "applicant_name": "钱七", "applicant_id_number": ID_NUMBER,
        "applicant_phone": "13700137001"}, timeout=HTTP_TIMEOUT)
    assert made.status_code == 201, made.text
    number = made.json()["number"]

    log_in(page, site, "supervisor")
    page.get_by_role("link", name="办件检索").click()
    page.get_by_label("身份证号码").fill(ID_NUMBER[:10])
    page.get_by_role("button", name="查询").click()
    assert "完整的18位身份证号码" in page.get_by_role("form", name="查询条件").inner_text()
    page.get_by_label("身份证号码").fill(ID_NUMBER)
    page.get_by_role("button", name="查询").click()
    table = page.locator("section table").inner_text()
    assert number in table
    assert "钱七" in table
    assert "共 1 件" in table
    with page.expect_download() as download:
        page.get_by_role("link", name="XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")


def _many_cases(site: Site, count: int) -> list[str]:
    """``count`` closed cases of one applicant, written straight into the city node's
    database (years back: no month's figures or worklist the other tests read holds them),
    received in threes a day apart so a page boundary falls inside a day."""
    engine = create_engine(f"sqlite:///{site.work / 'c' / 'node.db'}",
                           connect_args={"timeout": 30})
    numbers = [f"450900-PG-{i:05d}" for i in range(count)]
    try:
        with Session(engine) as connection, connection.begin():  # the ORM's version column
            matter = connection.execute(select(Matter.id, Matter.department_id,
                                               Matter.window_id)
                                        .where(Matter.code == MATTER)).one()
            day = dt.date(2020, 6, 30)
            connection.execute(insert(Case), [{
                "number": number, "query_code_hash": "0" * 64, "matter_id": matter.id,
                "department_id": matter.department_id, "window_id": matter.window_id,
                "channel": "window", "state": "completed", "applicant_name": PAGED,
                "applicant_consent": False,
                "received_at": dt.datetime(2020, 6, 1, 2, tzinfo=dt.UTC),
                "received_on": day - dt.timedelta(days=i // 3), "accepted_on": day,
                "completed_on": day, "promised_days": 5, "deadline_on": day,
                "fee_due_fen": 0, "fee_paid_fen": 0, "notes": "",
            } for i, number in enumerate(numbers)])
    finally:
        engine.dispose()
    return numbers


def _shown(page: Any) -> list[str]:
    return re.findall(r"450900-PG-\d{5}", page.locator("section table").inner_text())


def test_the_case_search_goes_to_the_next_page_and_back(page: Any, site: Site) -> None:
    """下一页 then 上一页 on the case search: the first page's rows again, in order, the
    filter kept, and no 上一页 on the first page."""
    made = _many_cases(site, search.PER_PAGE + 7)
    log_in(page, site, "supervisor")
    page.get_by_role("link", name="办件检索").click()
    page.get_by_label("申请人姓名").fill(PAGED)
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_role("link", name="下一页")).to_be_visible()
    first = _shown(page)
    assert len(first) == search.PER_PAGE
    expect(page.get_by_role("link", name="上一页")).to_have_count(0)

    page.get_by_role("link", name="下一页").click()
    page.wait_for_url(re.compile(r"[?&]cursor="))
    expect(page.get_by_role("link", name="上一页")).to_be_visible()
    second = _shown(page)
    assert len(second) == 7
    assert sorted(first + second) == sorted(made)  # each once
    shot(page, "search-next-page")

    page.get_by_role("link", name="上一页").click()
    page.wait_for_url(re.compile(r"[?&]before="))
    expect(page.get_by_role("link", name="上一页")).to_have_count(0)
    assert _shown(page) == first
    expect(page.get_by_label("申请人姓名")).to_have_value(PAGED)
    expect(page.get_by_role("link", name="下一页")).to_be_visible()
