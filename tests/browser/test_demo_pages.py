"""Every role's main pages against the demo data, in Chromium.

The federation is the real demo builder's (``tongban demo --check``: the province, Yulin, two
county-level centers of different kinds and a township under each, one month of cases made
on the real case service, forwarded cases, directives, signed summaries at the hub), built
once per session and shared with tests/integration/test_demo.py (tests/demo_federation.py).
Then the hub and two of its nodes are served again from the demo's own homes (tests/browser/
conftest.py ``demo_servers``, shared with test_crawl.py), every node's sync worker runs, and
each role logs in with the demo's printed logins. Screenshots go to
test-output/screenshots/demo-*.png.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    CHROMIUM,
    DEMO_GROUP,
    SCREENSHOTS,
    DemoServers,
    serving_together,
    shot,
)
from tests.demo_federation import DemoCheck

pytestmark = [pytest.mark.browser, pytest.mark.slow, DEMO_GROUP]

PROVINCE, CITY, YUZHOU, BEILIU = "450000", "450900", "450902", "450981"
SERVED = (CITY, YUZHOU)


@dataclass
class Demo:
    work: Path
    hub: str
    urls: dict[str, str]
    logins: dict[str, str]
    period: str

    def url(self, code: str, path: str = "") -> str:
        return self.urls[code] + path


@pytest.fixture(scope="module")
def demo(demo_check: DemoCheck, demo_servers: DemoServers) -> Iterator[Demo]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does)")
    work, built = demo_check.work, demo_check.result
    assert built.returncode == 0, f"{built.stdout}\n{built.stderr}"
    report = json.loads(built.stdout)
    assert report["ok"] is True, report
    period = report["checks"]["summaries_at_hub"]["detail"].rsplit(" of ", 1)[1].split(",")[0]
    urls = {code: demo_servers.urls[code] for code in SERVED}

    # every node's sync worker runs, as in `make demo`: their long polls wait at the hub
    # while the pages are used (the rankings pages' times: demo-timings.json)
    workers = {f"pages-worker-{home.name}": ["node", "worker", "--home", str(home)]
               for home in sorted(work.glob("node-*"))}
    with serving_together(workers, work, work):
        yield Demo(work, demo_servers.hub, urls, demo_servers.logins, period)
        TIMINGS_REPORT.parent.mkdir(parents=True, exist_ok=True)
        TIMINGS_REPORT.write_text(json.dumps({
            "what": "seconds from navigation to the load event of each demo rankings page, "
                    "with every demo node's sync worker running (a figure, not a check; "
                    "goal < 1 s)", "pages": TIMINGS}, ensure_ascii=False, indent=1),
            encoding="utf-8")


TIMINGS: dict[str, float] = {}
TIMINGS_REPORT = SCREENSHOTS / "demo-timings.json"


def timed_goto(page: Any, url: str, name: str) -> None:
    """Open ``url`` and note how long the page took to load (demo-timings.json)."""
    page.goto(url)
    TIMINGS[name] = round(page.evaluate(
        "performance.getEntriesByType('navigation')[0].duration") / 1000, 3)


def log_in(page: Any, demo: Demo, code: str, username: str) -> None:
    page.goto(demo.url(code, "/staff/login"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(demo.logins[username])
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    assert "/staff/login" not in page.url, page.content()[:2000]


def log_out(page: Any) -> None:
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_load_state()


def body_rows(page: Any, selector: str) -> list[str]:
    return [row.inner_text() for row in page.locator(f"{selector} tbody tr").all()]


def chart_data(page: Any, element_id: str) -> list[Any]:
    page.locator(f"#{element_id} canvas").wait_for()
    return page.evaluate(  # type: ignore[no-any-return]
        f"echarts.getInstanceByDom(document.getElementById('{element_id}'))"
        ".getOption().series[0].data")


# -- citizens ---------------------------------------------------------------------------------


def test_citizen_pages_show_the_provinces_standard_catalog_and_the_board(
        phone: Any, demo: Demo) -> None:
    phone.goto(demo.url(YUZHOU, "/guide"))
    expect(phone.get_by_role("heading", name="办事指南")).to_be_visible()
    expect(phone.get_by_role("link", name="居民身份证换领")).to_be_visible()
    assert phone.locator("a[href^='/guide/450000']").count() >= 5  # the province's matters
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "demo-citizen-guide")

    phone.get_by_label("关键词").fill("食品")
    phone.get_by_role("button", name="搜索").click()
    phone.get_by_role("link", name="食品经营许可证核发").click()
    expect(phone.get_by_role("heading", name="申报材料")).to_be_visible()
    expect(phone.get_by_role("link", name="网上申报")).to_be_visible()
    shot(phone, "demo-citizen-matter")

    phone.goto(demo.url(YUZHOU, "/board"))
    expect(phone.get_by_role("heading", name=re.compile("本月办件情况"))).to_be_visible()
    values = [v.inner_text() for v in phone.locator("#figures-title + .grid .value").all()]
    assert values
    assert any(v.strip() not in ("", "—", "0") for v in values), values  # the month's cases
    shot(phone, "demo-citizen-board")


# -- window clerk and approver --------------------------------------------------------------------


def test_clerk_desk_lists_the_demo_cases_and_a_new_one_reaches_the_approver(
        page: Any, demo: Demo) -> None:
    log_in(page, demo, YUZHOU, "clerk")
    page.get_by_role("link", name="窗口工作台").click()
    expect(page.get_by_role("heading", name="窗口工作台")).to_be_visible()
    own = body_rows(page, "section:has(h2:has-text('我的办件'))")
    assert own
    assert all(row.startswith(f"{YUZHOU}-") for row in own), own
    shot(page, "demo-clerk-desk")

    page.get_by_role("link", name="收件（新申请）").click()
    page.get_by_label("第一步：选择事项").select_option("450000SC003")
    page.get_by_role("button", name="选择").click()
    page.get_by_label("申请人姓名").fill("陈晓")
    page.get_by_label("联系电话").fill("13700137000")
    for box in page.locator("input[name^=received-]").all():
        box.check()
    page.get_by_role("button", name="登记收件").click()
    number = re.search(r"办件编号 (\S+)，",  # type: ignore[union-attr]
                       page.locator(".flash").first.inner_text()).group(1)
    page.locator("#action-accept summary").click()
    page.locator("#do-accept").click()
    assert page.locator("#case-state").inner_text() == "已受理"
    shot(page, "demo-clerk-case")
    log_out(page)

    log_in(page, demo, YUZHOU, "approver")
    page.get_by_role("link", name="部门审批").click()
    expect(page.get_by_role("heading", name="部门审批：市场监督管理局")).to_be_visible()
    page.get_by_role("link", name=number).click()
    page.locator("#action-start_review summary").click()
    page.locator("#do-start_review").click()
    page.locator("#action-approve summary").click()
    page.get_by_role("button", name="准予许可").click()
    assert page.locator("#case-state").inner_text() == "准予许可"
    shot(page, "demo-approver-case")


# -- supervision ----------------------------------------------------------------------------


def test_supervisor_pages_show_the_months_figures_and_assessment(
        page: Any, demo: Demo) -> None:
    log_in(page, demo, YUZHOU, "supervisor")
    page.get_by_role("link", name="效能监察").click()
    expect(page.get_by_role("heading", name="电子监察：黄红牌办件")).to_be_visible()
    shot(page, "demo-supervisor-warnings")

    page.goto(demo.url(YUZHOU, f"/staff/supervision/figures?period={demo.period}"))
    completed = page.get_by_role("row", name=re.compile("^办结数")).first
    assert re.search(r"[1-9]", completed.locator("td").first.inner_text())
    shot(page, "demo-supervisor-figures")

    page.goto(demo.url(YUZHOU, f"/staff/supervision/assessment?period={demo.period}"))
    expect(page.get_by_role("heading", name=re.compile("人员与窗口考核"))).to_be_visible()
    expect(page.get_by_role("cell", name="公安户政窗口").first).to_be_visible()
    shot(page, "demo-supervisor-assessment")

    page.goto(demo.url(YUZHOU, "/staff/supervision/directives"))
    received = body_rows(page, "section:has(h2:has-text('收到的督办'))")
    # the city's directive, the city named beside its code
    assert any(row.split("\t")[0].endswith(f"（{CITY}）") for row in received), received
    shot(page, "demo-supervisor-directives")


def center_cell(page: Any, name: str, code: str) -> Any:
    """A table's cell of the center itself, 名称（代码）, exactly: once the hub has verified a
    center, its 数据核验 cell's link names the center too (「…，查看北流市政务服务中心（450981）
    的详情」), which a cell found by a part of its name would also match."""
    return page.get_by_role("cell", name=f"{name}（{code}）", exact=True)


# -- higher-level staff (the city) ----------------------------------------------------------


def test_city_league_table_names_its_counties_with_a_chart(page: Any, demo: Demo) -> None:
    log_in(page, demo, CITY, "viewer")
    league = demo.url(CITY, f"/staff/rankings?period={demo.period}&metric=completed"
                            "&level=county&peers=all")
    timed_goto(page, league, "league (first: asks the hub)")
    timed_goto(page, league, "league (again: the kept answer at once)")
    # the demo's summaries carry their commitment (deploy/demo/federation.py summaries), as
    # the worker's do: no county is flagged 数据核验：未提交承诺
    expect(page.locator("tbody tr").first).to_be_visible()
    assert page.locator('[data-verification="uncommitted"]').count() == 0, page.content()
    expect(center_cell(page, "玉州区政务服务中心", YUZHOU)).to_be_visible()
    expect(center_cell(page, "北流市政务服务中心", BEILIU)).to_be_visible()
    values = chart_data(page, "league-chart")
    assert len(values) == 2
    assert all(v > 0 for v in values), values  # both counties completed cases
    shot(page, "demo-rankings-league")

    timed_goto(page, demo.url(CITY, f"/staff/rankings/completeness?period={demo.period}"),
               "completeness")
    # each center's cell is 名称（代码）
    status = {found.group(1): cells[3] for cells in
              (row.split("\t") for row in body_rows(page, "main"))
              if (found := re.search(r"（(\d{6}|\d{9})）$", cells[0]))}
    assert status[YUZHOU] != "未报送"  # the demo sent every center's summary
    assert status[BEILIU] != "未报送"
    shot(page, "demo-rankings-completeness")

    timed_goto(page, demo.url(CITY, f"/staff/rankings/trend?scope={CITY}&metric=completed"
                                    f"&from={demo.period}&to={demo.period}"), "trend")
    points = chart_data(page, "trend-chart")
    assert len(points) == 1
    assert points[0] > 0
    shot(page, "demo-rankings-trend")


def test_city_supervisor_saves_a_methodology_and_ranks_with_it(page: Any, demo: Demo) -> None:
    log_in(page, demo, CITY, "supervisor")
    page.goto(demo.url(CITY, "/staff/rankings/methodologies"))
    # the demo saved the city's quarterly methodology: named by its title, its code apart
    expect(page.get_by_role("cell", name="「季度综合评价」第 1 版", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=f"{CITY}.quarterly", exact=True)).to_be_visible()
    page.get_by_label("名称").fill("月度综合评价")  # the title; 方法代码 below
    page.get_by_label("方法代码").fill("monthly")
    page.get_by_label("说明").fill("办结量与按时办结率")
    page.get_by_label("指标 1", exact=True).select_option("completed")
    page.get_by_label("指标 1 的权重").fill("2")
    page.get_by_label("指标 2", exact=True).select_option("on_time_rate")
    page.get_by_label("指标 2 的权重").fill("零")
    page.get_by_role("button", name="保存到枢纽").click()
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#e-weight2")).to_be_visible()  # the hub's error at its row
    shot(page, "demo-methodology-error")

    page.get_by_label("指标 2 的权重").fill("1")
    page.get_by_role("button", name="保存到枢纽").click()
    assert "「月度综合评价」第 1 版已保存" in page.locator(".flash").inner_text()
    expect(page.get_by_role("cell", name="「月度综合评价」第 1 版")).to_be_visible()
    expect(page.get_by_role("cell", name=f"{CITY}.monthly")).to_be_visible()  # 方法代码
    shot(page, "demo-methodology-saved")

    page.goto(demo.url(CITY, f"/staff/rankings/composite?period={demo.period}&level=county"
                             f"&peers=all&methodology={CITY}.monthly"))
    assert "「月度综合评价」第 1 版" in page.locator("#method-title + p").inner_text()
    assert f"{CITY}.monthly" not in page.locator("main").inner_text()
    expect(center_cell(page, "玉州区政务服务中心", YUZHOU)).to_be_visible()
    expect(center_cell(page, "北流市政务服务中心", BEILIU)).to_be_visible()
    # each component as the page writes it: the on-time rate as a percentage, not in 1/10000
    rates = page.locator("td").filter(has_text=re.compile(r"^\d+\.\d\d% / "))
    assert rates.count() == 2, page.locator("table").last.inner_text()
    shot(page, "demo-rankings-composite")


# -- administrator ------------------------------------------------------------------------------


def test_admin_edits_a_demo_matter_and_sees_staff_and_sync(page: Any, demo: Demo) -> None:
    log_in(page, demo, YUZHOU, "admin")
    page.get_by_role("link", name="中心管理").click()
    expect(page.get_by_role("heading", name="事项目录")).to_be_visible()
    # the standard catalog's eleven, the four of 新生儿出生一件事 and Yuzhou's own 即办 matter
    # (deploy/demo/catalog.py)
    assert page.get_by_role("caption").first.inner_text() == "事项：共 16 件"
    shot(page, "demo-admin-matters")

    page.get_by_role("link", name="修改事项 食品经营许可证核发").click()
    limit = page.get_by_label("承诺时限（工作日）")
    # the standard's 5: Yuzhou's draws (deploy/demo/catalog.py localize) keep it
    assert limit.input_value() == "5"
    limit.fill("999")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("alert")).to_be_visible()  # beyond the legal limit: nothing saved
    shot(page, "demo-admin-matter-error")
    page.get_by_label("承诺时限（工作日）").fill("3")
    page.get_by_role("button", name="保存修改").click()
    assert "已保存" in page.locator(".flash").inner_text()
    page.goto(demo.url(YUZHOU, "/guide/450000SC002"))
    assert page.locator("dt:has-text('承诺时限') + dd").inner_text() == "3 个工作日"

    page.goto(demo.url(YUZHOU, "/staff/admin/users"))
    for username in ("clerk", "approver", "supervisor", "viewer"):
        expect(page.get_by_role("cell", name=username, exact=True)).to_be_visible()
    page.get_by_role("link", name="修改统计员的账号").click()
    page.get_by_label("姓名").fill("统计科")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("cell", name="统计科", exact=True)).to_be_visible()
    shot(page, "demo-admin-users")

    page.goto(demo.url(YUZHOU, "/staff/admin/organisation"))
    expect(page.get_by_text("公安户政窗口").first).to_be_visible()
    page.goto(demo.url(YUZHOU, "/staff/admin/sync"))
    assert page.locator("#pending-count").inner_text().isdigit()
    shot(page, "demo-admin-sync")
