"""The printed documents of a case, printed from the case file in Chromium against the real
node process: each page's text, the 补打 mark of a reprint, the print styles."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import HTTP_TIMEOUT, MATTER, PASSWORD, SITE_GROUP, Site, shot
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, SITE_GROUP]


def _api(site: Site, username: str) -> requests.Session:
    http = requests.Session()
    token = http.post(f"{site.node}/api/v1/auth/login",
                      json={"username": username, "password": PASSWORD},
                      timeout=HTTP_TIMEOUT).json()
    http.headers["Authorization"] = f"Bearer {token['token']}"
    return http


def _submit(http: requests.Session, site: Site, name: str) -> dict[str, Any]:
    made = http.post(f"{site.node}/api/v1/cases", json={
        "matter_code": MATTER, "applicant_name": name, "applicant_phone": "13700137000"},
        timeout=HTTP_TIMEOUT)
    assert made.status_code == 201, made.text
    return made.json()  # type: ignore[no-any-return]


def _print(page: Any, site: Site, case_id: int, kind: str) -> str:
    page.goto(f"{site.node}/staff/cases/{case_id}")
    page.locator(f"#print-{kind}").click()
    page.wait_for_load_state()
    return page.locator("article.document").inner_text()  # type: ignore[no-any-return]


def test_the_clerk_and_the_approver_print_each_document(page: Any, site: Site) -> None:
    clerk, approver = _api(site, "clerk"), _api(site, "approver")
    case = _submit(clerk, site, "赵六")
    cid = case["id"]

    log_in(page, site, "clerk")
    page.goto(f"{site.node}/staff/cases/{cid}")
    expect(page.get_by_role("heading", name="打印文书")).to_be_visible()
    page.get_by_label(re.compile("查询码（首次打印时填写")).fill(case["query_code"])
    page.locator("#print-receipt").click()
    receipt = page.locator("article.document").inner_text()
    assert "收件回执" in receipt
    assert case["number"] in receipt
    assert case["query_code"] in receipt
    assert "食品经营许可申请书" in receipt
    assert "扫码查询办理进度" in receipt
    assert page.locator(".qr-code svg").count() == 1
    expect(page.locator("#print-notice")).to_be_visible()
    page.emulate_media(media="print")  # the print button is not printed
    expect(page.locator("#print-notice")).to_be_hidden()
    page.emulate_media(media="screen")
    shot(page, "document-receipt")

    reprint = _print(page, site, cid, "receipt")
    assert "补打（第 1 次）" in reprint
    assert case["query_code"] not in reprint
    assert "查询码已于首次打印时告知" in reprint
    number = re.search(r"编号：(\S+)", receipt).group(1)  # type: ignore[union-attr]
    assert number in reprint

    accepted = clerk.post(f"{site.node}/api/v1/cases/{cid}/accept", json={}, timeout=HTTP_TIMEOUT)
    assert accepted.status_code == 200, accepted.text
    acceptance = _print(page, site, cid, "acceptance")
    assert "受理通知书" in acceptance
    assert "予以受理" in acceptance
    assert "第三十二条" in acceptance

    approver.post(f"{site.node}/api/v1/cases/{cid}/start-review", json={}, timeout=HTTP_TIMEOUT)
    approved = approver.post(f"{site.node}/api/v1/cases/{cid}/approve", json={},
                             timeout=HTTP_TIMEOUT)
    assert approved.json()["state"] == "approved", approved.text
    page.goto(f"{site.node}/staff/cases/{cid}")  # a document's page has no navigation
    page.get_by_role("button", name="退出登录").click()
    log_in(page, site, "approver")
    grant = _print(page, site, cid, "grant")
    assert "准予行政许可决定书" in grant
    assert "市场监督管理局" in grant
    grant_number = re.search(r"编号：(\S+)", grant).group(1)  # type: ignore[union-attr]
    shot(page, "document-grant")
    page.goto(f"{site.node}/staff/cases/{cid}")
    assert page.locator("#print-receipt").count() == 0  # window work: not the approver's
    page.get_by_role("button", name="退出登录").click()

    log_in(page, site, "clerk")
    service = _print(page, site, cid, "service_receipt")
    assert "送达回证" in service
    assert grant_number in service
    assert "受送达人签名或盖章" in service

    refused = _submit(clerk, site, "钱七")
    rejected = clerk.post(f"{site.node}/api/v1/cases/{refused['id']}/reject",
                          json={"reason": "申请事项不属于本机关职权范围"}, timeout=HTTP_TIMEOUT)
    assert rejected.status_code == 200, rejected.text
    refusal = _print(page, site, refused["id"], "refusal")
    assert "不予受理决定书" in refusal
    assert "申请事项不属于本机关职权范围" in refusal
    assert "60日内" in refusal
    assert "行政复议" in refusal
    assert "6个月内" in refusal
    assert "行政诉讼" in refusal
    shot(page, "document-refusal")

    page.goto(f"{site.node}/staff/cases/{cid}")
    rows = page.locator("#printed ~ table, section[aria-labelledby=printed] table").first
    assert "补打" in rows.inner_text()
    assert rows.locator("#document-row-receipt td").nth(3).inner_text() == "1"
