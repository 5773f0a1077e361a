"""Each role's main path clicked through in Chromium, from login to result, against the real
node and hub processes of conftest.py; screenshots of each main page."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from node.catalog.bundles import adopt_bundles
from node.config import node_settings
from node.metadata import load_all_models
from schemas.runtime.database import Database
from tests.browser.conftest import (
    HOMES,
    HTTP_TIMEOUT,
    MATTER,
    PASSWORD,
    PROVINCE,
    SITE_GROUP,
    Site,
    shot,
    stop_process,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow, SITE_GROUP]

CITY, BEILIU = "450900", "450981"




def log_in(page: Any, site: Site, username: str) -> None:
    page.goto(f"{site.node}/staff/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/staff/login" not in page.url, page.content()[:2000]


def apply_online(phone: Any, site: Site, tmp_path: Any) -> tuple[str, str]:
    phone.goto(f"{site.node}/")
    phone.get_by_label("搜索事项").fill("食品")
    phone.get_by_role("button", name="搜索").click()
    phone.get_by_role("link", name="食品经营许可证核发").click()
    expect(phone.get_by_role("heading", name="申报材料")).to_be_visible()
    expect(phone.get_by_text("营业执照复印件")).to_be_visible()
    shot(phone, "citizen-matter-guide")
    phone.get_by_role("link", name="网上申报").click()
    scan = tmp_path / "申请书.pdf"
    scan.write_bytes(b"%PDF-1.4 application form")
    phone.get_by_label("申请人姓名").fill("张三")
    phone.get_by_label("联系电话").fill("13800138000")
    phone.get_by_label("1. 食品经营许可申请书").set_input_files(str(scan))
    phone.get_by_role("button", name="提交申报").click()
    number = phone.locator("#case-number").inner_text()
    code = phone.locator("#query-code").inner_text()
    shot(phone, "citizen-applied")
    return number, code


def test_citizen_applies_online_on_a_phone_and_bad_input_shows_errors(
        phone: Any, site: Site, tmp_path: Any) -> None:
    number, code = apply_online(phone, site, tmp_path)
    assert number.startswith(CITY)
    assert re.fullmatch(r"[A-Z0-9]{8}", code)
    # the page fits a 360-pixel phone: nothing wider than the screen
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360

    phone.goto(f"{site.node}/guide/{MATTER}/apply")
    phone.get_by_label("申请人姓名").fill("李四")
    phone.get_by_label("身份证号码").fill("123456")
    phone.get_by_label("联系电话").fill("13800138001")
    phone.get_by_role("button", name="提交申报").click()
    alert = phone.get_by_role("alert")
    expect(alert).to_be_visible()
    assert "身份证号码" in alert.inner_text()
    assert phone.get_by_label("申请人姓名").input_value() == "李四"  # the input is kept
    shot(phone, "citizen-bad-input")

    phone.goto(f"{site.node}/board")
    expect(phone.get_by_role("heading", name=re.compile("本月办件情况"))).to_be_visible()
    shot(phone, "citizen-notice-board")


def test_a_form_without_its_csrf_token_is_refused(page: Any, site: Site) -> None:
    page.goto(f"{site.node}/complaint")
    page.evaluate("document.querySelector('input[name=csrf_token]').remove()")
    page.get_by_label("投诉内容").fill("窗口排队太久")
    page.get_by_role("button", name="提交投诉").click()
    expect(page.get_by_role("heading", name="表单已失效")).to_be_visible()
    assert "CSRF" in page.content()
    shot(page, "csrf-refused")


def test_clerk_approver_citizen_and_supervisor_main_paths(
        page: Any, phone: Any, site: Site, tmp_path: Any) -> None:
    online_number, _online_code = apply_online(phone, site, tmp_path)

    # window clerk: take an application with a material missing, one-time notice, accept
    log_in(page, site, "clerk")
    expect(page.get_by_role("heading", name="首页")).to_be_visible()  # every role lands there
    page.get_by_role("link", name="窗口工作台").click()
    expect(page.get_by_role("heading", name="窗口工作台")).to_be_visible()
    expect(page.get_by_role("link", name=online_number)).to_be_visible()  # waiting for pre-review
    shot(page, "clerk-desk")
    page.get_by_role("link", name="收件（新申请）").click()
    page.get_by_label("第一步：选择事项").select_option(MATTER)
    page.get_by_role("button", name="选择").click()
    page.get_by_label("申请人姓名").fill("王五")
    page.get_by_label("联系电话").fill("13900139000")
    page.get_by_label("收到纸质材料：食品经营许可申请书").check()
    page.get_by_label("收到纸质材料：营业执照复印件").check()
    page.get_by_role("button", name="登记收件").click()
    flash = page.locator(".flash").first.inner_text()
    number = re.search(r"办件编号 (\S+)，", flash).group(1)  # type: ignore[union-attr]
    code = re.search(r"查询码 ([A-Z0-9]{8})", flash).group(1)  # type: ignore[union-attr]
    assert page.get_by_label(re.compile("食品安全管理制度")).is_checked()  # the missing one
    page.get_by_role("button", name="出具告知书").click()
    page.wait_for_load_state()
    assert "补正材料一次性告知书" in page.content() or "一次性告知" in page.content()
    shot(page, "clerk-one-time-notice")
    page.go_back()
    page.reload()
    page.locator("#action-supplement summary").click()
    page.locator("#do-supplement").click()
    page.locator("#action-accept summary").click()
    page.locator("#do-accept").click()
    assert page.locator("#case-state").inner_text() == "已受理"
    assert page.locator("#deadline").inner_text() != "—"
    shot(page, "clerk-case-file")
    case_url = page.url

    # the clerk also pre-reviews the online application and forwards it to the province
    page.goto(f"{site.node}/staff/desk")
    page.get_by_role("link", name=online_number).click()
    page.locator("#action-accept summary").click()
    page.locator("#do-accept").click()
    page.locator("#action-forward summary").click()
    assert page.get_by_label("上报至").locator("option").first.inner_text() == (
        "未登记名称的中心（450000）（直属上级）")  # the province's node was given no name
    page.get_by_label("上报至").select_option(index=0)
    page.get_by_role("button", name="上报").click()
    assert page.locator("#case-state").inner_text() == "已上报上级"
    page.get_by_role("button", name="退出登录").click()

    # approver: the department's queue, the case file, suspend with its notice, approve
    log_in(page, site, "approver")
    page.get_by_role("link", name="部门审批").click()
    expect(page.get_by_role("link", name=number)).to_be_visible()
    shot(page, "approver-queue")
    page.get_by_role("link", name=number).click()
    page.locator("#action-start_review summary").click()
    page.locator("#do-start_review").click()
    page.locator("#action-suspend summary").click()
    page.get_by_label("特别程序").select_option("site_inspection")
    page.locator("#reason-suspend").fill("需现场勘查经营场所")
    page.get_by_role("button", name="挂起并出具告知书").click()
    page.wait_for_load_state()
    assert "现场勘查" in page.content()
    page.goto(case_url)
    page.locator("#action-resume summary").click()
    page.locator("#do-resume").click()
    page.locator("#action-approve summary").click()
    page.get_by_role("button", name="准予许可").click()
    assert page.locator("#case-state").inner_text() == "准予许可"
    shot(page, "approver-case-file")
    page.get_by_role("button", name="退出登录").click()

    # clerk: fee, completion, delivery
    log_in(page, site, "clerk")
    page.goto(case_url)
    page.locator("#action-payment summary").click()
    page.get_by_role("button", name="登记缴费").click()
    page.locator("#action-complete summary").click()
    page.locator("#do-complete").click()
    page.locator("#action-deliver summary").click()
    page.locator("#do-deliver").click()
    assert page.locator("#case-state").inner_text() == "已送达"
    page.get_by_role("button", name="退出登录").click()

    # citizen: lookup, rating, complaint
    phone.goto(f"{site.node}/lookup")
    phone.get_by_label("办件编号").fill(number)
    phone.get_by_label("查询码").fill(code)
    phone.get_by_role("button", name="查询").click()
    assert phone.locator("#case-state").inner_text() == "已送达"
    shot(phone, "citizen-lookup")
    phone.get_by_label("不满意", exact=True).check()
    phone.get_by_label("意见和建议").fill("等候时间较长")
    phone.get_by_role("button", name="提交评价").click()
    assert phone.locator("#rated-level").inner_text() == "不满意"
    phone.goto(f"{site.node}/complaint")
    phone.get_by_label("窗口").select_option("W01")
    phone.get_by_label("投诉内容").fill("窗口工作人员离岗")
    phone.get_by_role("button", name="提交投诉").click()
    expect(phone.locator("#complaint-number")).to_be_visible()

    # supervisor: red and yellow cases, complaint resolved, rectification, figures, ...
    log_in(page, site, "supervisor")
    page.get_by_role("link", name="效能监察").click()
    expect(page.get_by_role("heading", name="电子监察：黄红牌办件")).to_be_visible()
    shot(page, "supervisor-warnings")
    page.goto(f"{site.node}/staff/supervision/complaints")
    page.locator("textarea[name=resolution]").first.fill("已约谈当事人并整改")
    page.get_by_role("button", name="办结").first.click()
    page.wait_for_load_state()
    assert "已办结" in page.content()
    shot(page, "supervisor-complaints")
    page.get_by_role("link", name="差评整改").click()
    page.get_by_role("button", name="开始整改").click()
    page.wait_for_load_state()
    assert "整改中" in page.content()
    page.get_by_role("link", name="月度统计").click()
    expect(page.get_by_role("row", name=re.compile("办结数")).first).to_be_visible()
    shot(page, "supervisor-figures")
    page.get_by_role("link", name="人员与窗口考核").click()
    expect(page.get_by_role("heading", name="窗口考核", exact=True)).to_be_visible()
    shot(page, "supervisor-assessment")
    page.get_by_role("link", name="问题清单").click()
    expect(page.get_by_role("heading", name=re.compile("问题清单"))).to_be_visible()
    page.get_by_role("link", name="督办", exact=True).last.click()
    page.get_by_label("下级中心", exact=True).select_option(BEILIU)
    page.get_by_label("督办事项").select_option("text")
    page.get_by_label("督办内容").fill("请说明本月按时办结率偏低的原因")
    page.get_by_label("办理期限").fill("2099-12-31")
    page.get_by_role("button", name="发出督办").click()
    # the click returns once the answer starts loading: wait for the row, never test it at once
    expect(page.get_by_role("cell", name=f"北流市政务服务中心（{BEILIU}）")).to_be_visible()
    shot(page, "supervisor-directives")


def test_administrator_pages_show_errors_and_sync_status(page: Any, site: Site,
                                                         tmp_path: Any) -> None:
    log_in(page, site, "admin")
    page.get_by_role("link", name="中心管理").click()
    expect(page.get_by_role("heading", name="事项目录")).to_be_visible()
    page.get_by_label("事项编码").fill("BR-0002")
    page.get_by_label("事项名称").fill("建筑工程施工许可")
    page.get_by_label("法定时限（工作日）").fill("5")
    page.get_by_label("承诺时限（工作日）").fill("10")
    page.get_by_role("button", name="添加事项").click()
    expect(page.get_by_role("alert")).to_be_visible()  # promised beyond the legal limit
    shot(page, "admin-matter-error")

    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "部门"
    sheet.append(["代码", "名称"])
    sheet.append(["", "无代码部门"])
    bad = tmp_path / "catalog.xlsx"
    workbook.save(bad)
    page.get_by_role("link", name="导入导出").click()
    page.get_by_label("选择 XLSX 文件").set_input_files(str(bad))
    page.get_by_role("button", name="导入").click()
    expect(page.get_by_role("alert")).to_be_visible()
    shot(page, "admin-import-errors")

    page.get_by_role("link", name="工作日调整").click()
    page.get_by_label("日期").fill("2099-10-10")
    page.locator("#f-reason").fill("场地检修")
    page.get_by_role("button", name="登记").click()
    page.get_by_role("cell", name="2099-10-10").wait_for()  # is_visible() does not wait
    expect(page.get_by_role("cell", name="2099-10-10")).to_be_visible()
    page.get_by_role("link", name="用户账号").click()
    expect(page.get_by_role("cell", name="clerk", exact=True)).to_be_visible()
    page.get_by_role("link", name="同步状态").click()
    expect(page.get_by_role("heading", name="与枢纽的同步状态")).to_be_visible()
    assert page.locator("#pending-count").inner_text().isdigit()
    shot(page, "admin-sync")


def test_higher_level_staff_see_charts_and_the_last_figures_without_the_hub(
        page: Any, site: Site) -> None:
    log_in(page, site, "leader")
    page.goto(f"{site.node}/staff/rankings?period={site.month}&metric=completed&peers=all")
    chart = page.locator("#league-chart canvas")
    chart.wait_for()
    series = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('league-chart'))"
        ".getOption().series[0].data")
    assert len(series) == 2  # Beiliu and Rong both reported
    expect(page.get_by_role(
        "cell", name=f"北流市政务服务中心（{BEILIU}）", exact=True)).to_be_visible()
    shot(page, "rankings-league")

    # the running month is said to be partial; the counties in the bulletins' groups
    assert "截至" in page.locator("#running-notice").inner_text()
    page.goto(f"{site.node}/staff/rankings?period={site.month}&metric=completed")
    expect(page.get_by_role("heading", name="县（市）（参评 2 个）")).to_be_visible()

    page.get_by_role("link", name="报送情况").click()
    expect(page.get_by_text("报送率")).to_be_visible()
    # it opens on the last month whose reports are due, not the running one
    assert page.get_by_label("统计期").input_value() != site.month
    shot(page, "rankings-completeness")
    page.goto(f"{site.node}/staff/rankings/trend?scope={CITY}&metric=completed"
              f"&from={site.month}&to={site.month}")
    page.locator("#trend-chart canvas").wait_for()
    points = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('trend-chart'))"
        ".getOption().series[0].data")
    assert len(points) == 1
    shot(page, "rankings-trend")
    page.get_by_role("link", name="综合指数").click()
    assert page.locator("#formula").inner_text().startswith("公式")
    # the weighting used is the one the form shows, in Chinese
    assert page.get_by_label("指标 1", exact=True).input_value() == "completed"
    assert page.get_by_label("指标 2", exact=True).input_value() == "on_time_rate"
    weights = page.locator("#method-components tbody tr").all_inner_texts()
    assert [w.split("\t")[:3] for w in weights] == [["办结数", "2", "66.7%"],
                                                     ["按时办结率", "1", "33.3%"]]
    assert not re.search(r"[A-Za-z]{3,}", page.locator("#formula").inner_text())
    shot(page, "rankings-composite")
    with page.expect_download() as download:
        page.goto(f"{site.node}/staff/rankings?period={site.month}&metric=completed")
        page.get_by_role("link", name="导出 Excel").first.click()
    assert download.value.suggested_filename.endswith(".xlsx")

    stop_process(site.hub_process)  # the hub goes away: the last figures, as of when
    league = f"{site.node}/staff/rankings?period={site.month}&metric=completed&peers=all"
    page.goto(league)  # shown at once from the kept answer, asked again after it was sent
    expect(page.locator("#cached-notice, #stale-notice").first).to_be_visible()
    deadline = time.monotonic() + 30  # the node asks again at most every 10 s
    while not page.locator("#stale-notice").is_visible() and time.monotonic() < deadline:
        time.sleep(1)
        page.goto(league)
    assert "无法连接上级枢纽，显示的是" in page.locator("#stale-notice").inner_text()
    assert re.fullmatch(r"\d{2}:\d{2}", page.locator("#stale-as-of").inner_text())
    page.locator("#league-chart canvas").wait_for()
    shot(page, "rankings-hub-unreachable")


def test_every_address_answers_a_browser_in_chinese(page: Any, site: Site) -> None:
    missing = page.goto(f"{site.node}/staff/no-such-page")
    assert missing is not None
    assert missing.status == 404
    expect(page.get_by_role("heading", name="页面不存在")).to_be_visible()
    assert '"error"' not in page.content()
    shot(page, "not-found")
    icon = page.request.get(f"{site.node}/favicon.ico")
    assert icon.status == 200
    assert icon.headers["content-type"] == "image/vnd.microsoft.icon"

    page.goto(f"{site.node}/staff")
    assert page.url.endswith("/staff/login")
    log_in(page, site, "supervisor")
    page.goto(f"{site.node}/staff/")
    assert page.url.endswith("/staff/home")



def test_each_roles_home_page_and_the_badge_lead_to_their_lists(
        page: Any, phone: Any, site: Site) -> None:
    """Login lands on 首页: each role's part of it in Chromium, the charts drawn from the
    vendored ECharts; the badge counts a new complaint and its list is one click away."""
    phone.goto(f"{site.node}/complaint")
    phone.get_by_label("窗口").select_option("W01")
    phone.get_by_label("投诉内容").fill("咨询电话无人接听")
    phone.get_by_role("button", name="提交投诉").click()
    expect(phone.locator("#complaint-number")).to_be_visible()

    for username, section, chart in (("clerk", "#home-clerk", "#chart-mine"),
                                     ("approver", "#home-approver", "#chart-queue"),
                                     ("supervisor", "#home-supervisor", "#chart-figures"),
                                     ("leader", "#home-viewer", None),
                                     ("admin", "#home-admin", None)):
        log_in(page, site, username)
        assert page.url.endswith("/staff/home"), (username, page.url)
        expect(page.get_by_role("heading", name="首页")).to_be_visible()
        expect(page.locator(section), username).to_be_visible()
        if chart:
            page.locator(f"{chart} canvas").wait_for()  # drawn by ECharts, not fetched
        shot(page, f"home-{username}")
        if username == "supervisor":
            count = int(page.locator("#nav-badge").inner_text())
            assert count >= 1  # at least the complaint just filed
            page.locator("#awaiting-complaints a").click()
            expect(page.get_by_role("heading", name="投诉处理")).to_be_visible()
            expect(page.locator("main")).to_contain_text("咨询电话无人接听")
        if username == "admin":
            assert "待上传" in page.locator("#admin-sync").inner_text()
            assert page.locator("#admin-dead").inner_text().endswith("件")
        page.get_by_role("button", name="退出登录").click()
        page.wait_for_load_state()


def test_an_online_application_missing_one_material_gets_a_notice_listing_exactly_it(
        page: Any, phone: Any, site: Site, tmp_path: Any) -> None:
    """Each material its own field with its rule; a file is judged by its bytes (a text file
    called .pdf is refused and nothing is stored); the one material not sent is the one the
    one-time notice lists, ticked for the clerk."""
    phone.goto(f"{site.node}/guide/{MATTER}/apply")
    assert "格式：PDF、JPG、PNG；单个文件不超过 4 MB；复印件 1 份；必须" in phone.locator(
        "#material-2").inner_text()
    fake = tmp_path / "营业执照.pdf"
    fake.write_text("这不是 PDF 文件", encoding="utf-8")
    form = tmp_path / "申请书.pdf"
    form.write_bytes(b"%PDF-1.4 application form")
    licence = tmp_path / "营业执照.png"
    licence.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    phone.get_by_label("申请人姓名").fill("赵六")
    phone.get_by_label("联系电话").fill("13700137000")
    phone.get_by_label("1. 食品经营许可申请书").set_input_files(str(form))
    phone.get_by_label("2. 营业执照复印件").set_input_files(str(fake))
    phone.get_by_role("button", name="提交申报").click()
    assert "按文件内容判断" in phone.locator("#material-2 .field-error").inner_text()
    assert phone.locator("#case-number").count() == 0  # nothing was stored

    phone.get_by_label("1. 食品经营许可申请书").set_input_files(str(form))
    phone.get_by_label("2. 营业执照复印件").set_input_files(str(licence))
    phone.get_by_role("button", name="提交申报").click()
    number = phone.locator("#case-number").inner_text()
    assert phone.locator("#missing-materials li").all_inner_texts() == ["食品安全管理制度"]
    shot(phone, "citizen-applied-missing")

    log_in(page, site, "clerk")
    page.get_by_role("link", name="窗口工作台").click()
    page.get_by_role("link", name=number).click()
    files = page.locator("section:has(h2:has-text('材料与文书'))").inner_text()
    assert "食品经营许可申请书.pdf" in files
    assert "营业执照复印件.png" in files
    assert page.get_by_label(re.compile("食品安全管理制度")).is_checked()
    assert not page.get_by_label(re.compile("营业执照复印件")).is_checked()
    page.get_by_role("button", name="出具告知书").click()
    page.wait_for_load_state()
    assert "补正材料一次性告知书" in page.content()
    assert page.locator("ol li").all_inner_texts() == ["食品安全管理制度"]
    shot(page, "clerk-online-notice")
    page.go_back()
    page.get_by_role("button", name="退出登录").click()


BUNDLE = "BR-YJS1"  # a 一件事 of the city's two matters, as the province's catalog brings it


def _city_bundle(site: Site) -> None:
    """A second matter at the city (its administrator, through the API) and a bundle of both
    adopted as the published catalog brings it (node/catalog/bundles.py adopt_bundles)."""
    http = requests.Session()
    token = http.post(f"{site.node}/api/v1/auth/login", json={
        "username": "admin", "password": PASSWORD}, timeout=HTTP_TIMEOUT).json()["token"]
    http.headers["Authorization"] = f"Bearer {token}"
    created = http.post(f"{site.node}/api/v1/matters", json={
        "code": "BR-0002", "name": "户外招牌设置备案", "category": "public_service",
        "department_code": "SC", "window_code": "W01", "handling_level": "city",
        "handling_type": "promised", "legal_limit_days": 15, "promised_limit_days": 5,
        "entered": True,
        "legal_basis": "《城市市容和环境卫生管理条例》第十一条",
        "procedure": "申请—受理—审查—决定",
        "conditions": "招牌设置在本店经营场所", "complaint_channel": "12345 热线",
        "powers": {"accept": True, "review": True, "deliver": True},
        "materials": [{"name": "营业执照复印件", "form": "copy"}, {"name": "招牌设计图"}]},
        timeout=HTTP_TIMEOUT)
    assert created.status_code == 201, created.text
    load_all_models()
    db = Database(node_settings({"home": str(site.work / HOMES[CITY])}).database_url)
    try:
        with db.unit_of_work() as session:
            adopt_bundles(session, [{
                "code": BUNDLE, "name": "开店装修一件事", "description": "",
                "matters": [{"standard_code": code, "form_fields": [
                    {"key": "address", "label": "经营场所地址"}]}
                    for code in (MATTER, "BR-0002")]}], sender=PROVINCE)
    finally:
        db.dispose()


def test_a_clerk_takes_a_bundle_at_the_window_on_one_form(page: Any, site: Site) -> None:
    _city_bundle(site)
    log_in(page, site, "clerk")
    page.goto(f"{site.node}/staff/desk")
    page.get_by_role("link", name="一件事收件（窗口）").click()
    page.get_by_label("第一步：选择一件事").select_option(BUNDLE)
    page.get_by_role("button", name="选择").click()
    page.get_by_label("申请人姓名").fill("钱七")
    page.get_by_label("身份证号码").fill("110105194912310021")  # its check digit is wrong
    page.get_by_label("经营场所地址").fill("玉林市玉州区人民路 1 号")  # asked by both, once
    page.get_by_label("收到纸质材料：营业执照复印件").check()  # needed by both, once
    page.get_by_label("收到纸质材料：食品经营许可申请书").check()
    page.locator("summary", has_text="联合办理（可选）").click()
    page.get_by_label("户外招牌设置备案：与市场监督管理局联合办理的部门（可多选）"
                      ).select_option(label="住房和城乡建设局")
    page.get_by_role("button", name="登记收件").click()
    expect(page.locator("#e-applicant_id_number")).to_contain_text("校验码不正确")
    expect(page.get_by_label("经营场所地址")).to_have_value("玉林市玉州区人民路 1 号")
    shot(page, "clerk-bundle-intake-error")

    page.get_by_label("身份证号码").fill("11010519491231002X")
    page.get_by_role("button", name="登记收件").click()
    expect(page.locator(".flash").first).to_contain_text("一件事办件编号")
    expect(page.locator(".flash").first).to_contain_text("申请人查询码")
    expect(page.get_by_role("heading", name="开店装修一件事")).to_be_visible()
    expect(page.get_by_role("button", name="一窗受理（全部事项）")).to_be_visible()
    expect(page.get_by_role("cell", name="户外招牌设置备案")).to_be_visible()
    expect(page.get_by_role("cell", name="食品经营许可证核发")).to_be_visible()
    shot(page, "clerk-bundle-intake")
    page.get_by_role("button", name="退出登录").click()
