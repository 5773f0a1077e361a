"""Applications by material at the window, clicked through in Chromium against the real node
and hub processes of conftest.py: each material its own field with its rule; one material not
received is the one the one-time notice lists."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import MATTER, SITE_GROUP, Site, shot
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, SITE_GROUP]


def test_the_window_takes_each_material_and_the_notice_lists_exactly_the_missing_one(
        page: Any, site: Site, tmp_path: Any) -> None:
    log_in(page, site, "clerk")
    page.goto(f"{site.node}/staff/desk/new")
    page.get_by_label("第一步：选择事项").select_option(MATTER)
    page.get_by_role("button", name="选择").click()
    assert "格式：PDF、JPG、PNG；单个文件不超过 4 MB；复印件 1 份；必须" in page.locator(
        "#material-2").inner_text()
    page.get_by_label("申请人姓名").fill("钱七")
    page.get_by_label("联系电话").fill("13600136000")
    # 1 on paper, the original its rule asks; 2 as a scan; 3 not received
    page.get_by_label("收到纸质材料：食品经营许可申请书").check()
    assert page.get_by_label("食品经营许可申请书：收到的形式").input_value() == "original"
    fake = tmp_path / "营业执照.pdf"
    fake.write_text("这不是 PDF 文件", encoding="utf-8")
    page.get_by_label("营业执照复印件：电子文件（可选）").set_input_files(str(fake))
    page.get_by_role("button", name="登记收件").click()
    assert "按文件内容判断" in page.locator("#material-2 .field-error").inner_text()
    assert page.get_by_label("申请人姓名").input_value() == "钱七"  # the input is kept

    scan = tmp_path / "营业执照.png"
    scan.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    page.get_by_label("收到纸质材料：食品经营许可申请书").check()
    page.get_by_label("营业执照复印件：电子文件（可选）").set_input_files(str(scan))
    page.get_by_role("button", name="登记收件").click()
    # the case's page, once it has arrived (all_inner_texts reads at once, without waiting)
    expect(page.locator(".flash").filter(has_text="有必要材料未收到")).to_be_visible()
    flashes = page.locator(".flash").all_inner_texts()
    assert any("有必要材料未收到" in text for text in flashes), flashes
    assert re.search(r"办件编号 \S+，", flashes[0])
    shot(page, "clerk-window-by-material")
    files = page.locator("section:has(h2:has-text('材料与文书'))").inner_text()
    assert "营业执照复印件.png" in files
    ticked = page.locator("input[name=material_positions]:checked")
    assert [ticked.nth(i).evaluate("e => e.parentElement.innerText.trim()")
            for i in range(ticked.count())] == ["食品安全管理制度"]
    page.get_by_role("button", name="出具告知书").click()
    expect(page.locator("ol li")).to_have_text(["食品安全管理制度"])
    assert "补正材料一次性告知书" in page.content()
    assert page.locator("ol li").all_inner_texts() == ["食品安全管理制度"]
    shot(page, "clerk-window-notice")
