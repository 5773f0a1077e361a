"""Every page a role reaches from its navigation, at a township, a county, the city and the
province, read as a person reads it (issue 19, "Done when"): Chromium logs in as each of the
demo's roles on each level's node, opens every link of the navigation and every link of
those pages (two steps from the role's home, up to two addresses of each shape such as
``/staff/cases/<id>``), and each page and each export (CSV, XLSX) linked from them is checked
by tests/page_scan.py: no Latin word outside the allowlist, no snake_case, no raw JSON or
exception text, no division code without its center's name, no rate above 100 under a 率
heading, no fee in 分.

The federation is the demo's (``tongban demo --check``, shared with test_demo_pages.py):
the hub and four of its nodes are served again from the demo's homes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.conftest import CHROMIUM
from tests.demo_federation import DemoCheck
from tests.integration.conftest import free_port, serving, wait_for_health
from tests.page_scan import csv_problems, page_problems, xlsx_problems

pytestmark = [pytest.mark.browser, pytest.mark.slow]

PROVINCE, CITY, COUNTY = "450000", "450900", "450981"
ROLES = ("admin", "clerk", "approver", "supervisor", "viewer")
PER_SHAPE = 2  # addresses of one shape opened (two case files, two matters, …)
STEPS = 2  # links followed from the role's home and navigation
_EXPORT = re.compile(r"\.(xlsx|csv)(\?|$)|[?&]format=(xlsx|csv)")
_SKIPPED = ("/staff/logout", "/api/", "/static/", "/favicon.ico")
_EXCEPTION = re.compile(r"Traceback \(most recent call last\)|\b[A-Z][a-zA-Z]+(Error|Exception):")


@dataclass
class Federation:
    urls: dict[str, str]
    logins: dict[str, str]


@pytest.fixture(scope="module")
def federation(demo_check: DemoCheck) -> Iterator[Federation]:
    import json

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does)")
    work, built = demo_check.work, demo_check.result
    assert built.returncode == 0, f"{built.stdout}\n{built.stderr}"
    township = next(home.name.removeprefix("node-") for home in sorted(work.glob("node-*"))
                    if home.name.removeprefix("node-").startswith(COUNTY)
                    and len(home.name) == len("node-") + 9)
    logins = json.loads((work / "logins.json").read_text(encoding="utf-8"))
    hub = f"http://127.0.0.1:{demo_check.hub_port}"
    with ExitStack() as servers:
        hub_process = servers.enter_context(serving(
            "hub", "serve", "--home", str(work / "hub"), "--bind",
            f"127.0.0.1:{demo_check.hub_port}", "--workers", "1", cwd=work,
            log=work / "crawl-hub.log"))
        wait_for_health(f"{hub}/healthz", hub_process, work / "crawl-hub.log")
        urls = {}
        for code in (township, COUNTY, CITY, PROVINCE):
            port = free_port()
            log = work / f"crawl-node-{code}.log"
            process = servers.enter_context(serving(
                "node", "serve", "--home", str(work / f"node-{code}"), "--bind",
                f"127.0.0.1:{port}", "--workers", "1", cwd=work, log=log))
            urls[code] = f"http://127.0.0.1:{port}"
            wait_for_health(f"{urls[code]}/healthz", process, log)
        yield Federation(urls, logins)


def shape(path: str) -> str:
    """``/staff/cases/12`` and ``/staff/cases/13`` have one shape."""
    return re.sub(r"\d+", "N", path)


def _links(page: Any, base: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))")
    found = []
    for href in hrefs:
        url = urljoin(page.url, href).split("#")[0]
        if url.startswith(base) and not any(urlsplit(url).path.startswith(s) for s in _SKIPPED):
            found.append(url)
    return found


def _export_problems(page: Any, url: str) -> list[str]:
    response = page.request.get(url)
    if response.status != 200:
        return [f"export answers {response.status}"]
    data = response.body()
    if data[:2] == b"PK":
        return xlsx_problems(data)
    return csv_problems(data)


def crawl(page: Any, base: str, start: list[str]) -> tuple[dict[str, list[str]], int]:
    """Every page two steps from ``start`` and every export linked: the problems by URL."""
    problems: dict[str, list[str]] = {}
    seen: set[str] = set()
    shapes: dict[str, int] = {}
    exports: set[str] = set()
    frontier = list(dict.fromkeys(start))
    opened = 0
    for _step in range(STEPS + 1):
        following: list[str] = []
        for url in frontier:
            if url in seen:
                continue
            seen.add(url)
            if _EXPORT.search(url):
                exports.add(url)
                continue
            key = shape(urlsplit(url).path)
            if shapes.get(key, 0) >= PER_SHAPE:
                continue
            shapes[key] = shapes.get(key, 0) + 1
            response = page.goto(url)
            opened += 1
            html = page.content()
            found = page_problems(html)
            if response is None or response.status >= 500:
                found.append(f"answers {response.status if response else 'nothing'}")
            if _EXCEPTION.search(html):
                found.append("exception text")
            if found:
                problems[url] = found
            following += _links(page, base)
        frontier = following
    for url in sorted(exports):
        found = _export_problems(page, url)
        if found:
            problems[url] = found
    return problems, opened


def _nav(page: Any, base: str) -> list[str]:
    return [page.url, *(urljoin(page.url, href) for href in page.eval_on_selector_all(
        "nav a[href]", "links => links.map(a => a.getAttribute('href'))"))]


@pytest.mark.parametrize("level", ["township", "county", "city", "province"])
def test_every_page_of_every_role_reads_chinese(browser: Any, federation: Federation,
                                                level: str) -> None:
    code = {"county": COUNTY, "city": CITY, "province": PROVINCE}.get(level) or next(
        c for c in federation.urls if len(c) == 9)
    base = federation.urls[code]
    problems: dict[str, list[str]] = {}
    pages = 0
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(base + "/")
        found, opened = crawl(page, base, _nav(page, base))  # the citizens' pages
        problems.update(found)
        pages += opened
        for role in ROLES:
            page.context.clear_cookies()
            page.goto(base + "/staff/login")
            page.get_by_label("用户名").fill(role)
            page.get_by_label("密码").fill(federation.logins[role])
            page.get_by_role("button", name="登录").click()
            page.wait_for_load_state()
            assert "/staff/login" not in page.url, (role, page.content()[:2000])
            found, opened = crawl(page, base, _nav(page, base))
            problems.update({f"{role} {url}": p for url, p in found.items()})
            pages += opened
    finally:
        context.close()
    assert pages >= 10, pages
    report = "\n".join(f"{url}: {'; '.join(found[:6])}" for url, found in problems.items())
    assert not problems, f"{len(problems)} of {pages} pages and exports at {level}:\n{report}"
