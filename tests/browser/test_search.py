"""The staff case search in Chromium against the real node process: a search by ID number
finds the case, shows the ID number masked, and the result downloads as XLSX."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import MATTER, Site
from tests.browser.test_documents import _api
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ID_NUMBER = "110105195001010039"


def test_the_supervisor_searches_by_id_number(page: Any, site: Site) -> None:
    clerk = _api(site, "clerk")
    made = clerk.post(f"{site.node}/api/v1/cases", json={
        "matter_code": MATTER, "applicant_name": "钱七", "applicant_id_number": ID_NUMBER,
        "applicant_phone": "13700137001"}, timeout=10)
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
