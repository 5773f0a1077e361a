"""The staff pages work under the Content-Security-Policy in Chromium: charts draw, forms
submit, the printable notice prints, the API docs render, and the browser reports no blocked
script or style on any of them (schemas/runtime/webapp.py's headers, real node and hub
processes)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import MATTER, SITE_GROUP, Site, shot
from tests.browser.test_pages import log_in

pytestmark = [pytest.mark.browser, pytest.mark.slow, SITE_GROUP]


def watch_violations(page: Any) -> list[str]:
    """Every console message and page error about the Content-Security-Policy."""
    seen: list[str] = []
    page.on("console", lambda message: seen.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None)
    page.on("pageerror", lambda error: seen.append(str(error)))
    return seen


def test_staff_pages_work_under_the_policy(page: Any, site: Site) -> None:
    violations = watch_violations(page)
    answer = page.goto(f"{site.node}/staff/login")
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert answer.headers["x-frame-options"] == "DENY"

    log_in(page, site, "clerk")
    page.get_by_role("link", name="窗口工作台").click()
    page.get_by_role("link", name="收件（新申请）").click()
    page.get_by_label("第一步：选择事项").select_option(MATTER)
    page.get_by_role("button", name="选择").click()
    page.get_by_label("申请人姓名").fill("赵六")
    page.get_by_role("button", name="登记收件").click()
    page.get_by_role("button", name="出具告知书").click()  # the missing materials are ticked
    page.wait_for_load_state()
    assert "补正材料一次性告知书" in page.content()
    page.evaluate("window.print = function () { window.printed = true; }")
    page.get_by_role("button", name="打印").click()
    assert page.evaluate("window.printed") is True  # the static print.js ran
    shot(page, "csp-notice")

    page.context.clear_cookies()
    log_in(page, site, "leader")
    page.goto(f"{site.node}/staff/rankings?period={site.month}&metric=completed&peers=all")
    page.locator("#league-chart canvas").wait_for()
    assert page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('league-chart')) !== undefined")
    shot(page, "csp-league-chart")

    page.goto(f"{site.node}/api/v1/docs")
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert page.locator(".swagger-ui .opblock").count() > 10
    shot(page, "csp-api-docs")
    assert violations == []


def test_an_inline_script_is_blocked_and_a_page_cannot_be_framed(page: Any, site: Site) -> None:
    """What the policy is for: a script slipped into a page does not run, and another site
    cannot show a staff page in a frame."""
    violations = watch_violations(page)
    page.goto(f"{site.node}/guide")
    page.evaluate("""() => {
        const s = document.createElement('script');
        s.textContent = 'window.injected = true';
        document.body.appendChild(s);
    }""")
    assert page.evaluate("window.injected === undefined")
    assert any("Content Security Policy" in v for v in violations)

    page.set_content(f'<iframe id="f" src="{site.node}/staff/login"></iframe>')
    page.wait_for_timeout(1000)
    frame = page.frame(url=re.compile(r"/staff/login"))
    assert frame is None or frame.evaluate("document.body === null || "
                                           "document.body.innerText === ''")
