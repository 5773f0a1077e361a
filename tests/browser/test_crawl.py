"""Every page a role reaches from its navigation, at a township, a county, the city and the
province, read as a person reads it (issue 19, "Done when"): Chromium logs in as each of the
demo's roles on each level's node, opens every link of the navigation and every link of
those pages (two steps from the role's home, up to two addresses of each shape such as
``/staff/cases/<id>``), and each page and each export (CSV, XLSX) linked from them is checked
by tests/page_scan.py: no Latin word outside the allowlist, no snake_case, no raw JSON or
exception text, no division code without its center's name, no rate above 100 under a 率
heading, no fee in 分.

The federation is the demo's (``tongban demo --check``, shared with test_demo_pages.py):
the hub and four of its nodes are served again from the demo's homes (tests/browser/
conftest.py ``demo_servers``, served once for both files)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser.conftest import CHROMIUM, DEMO_GROUP, PAGE_TIMEOUT_MS, DemoServers
from tests.demo_federation import DemoCheck
from tests.page_scan import csv_problems, page_problems, xlsx_problems

pytestmark = [pytest.mark.browser, pytest.mark.slow, DEMO_GROUP]

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
def federation(demo_check: DemoCheck, demo_servers: DemoServers) -> Federation:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does)")
    built = demo_check.result
    assert built.returncode == 0, f"{built.stdout}\n{built.stderr}"
    township = next(code for code in demo_servers.urls
                    if code.startswith(COUNTY) and len(code) == 9)
    return Federation({code: demo_servers.urls[code]
                       for code in (township, COUNTY, CITY, PROVINCE)}, demo_servers.logins)


def shape(path: str) -> str:
    """``/staff/cases/12`` and ``/staff/cases/13`` have one shape."""
    return re.sub(r"\d+", "N", path)


# the page's HTML as ``page.content()`` serializes it (Playwright's own script: the doctype,
# then the root element's outerHTML) and every link's href, read in one round trip to the
# browser instead of two (each ~50 ms on the loaded machine, 150 pages a level)
_READ = """() => [
    (document.doctype ? new XMLSerializer().serializeToString(document.doctype) : '')
        + (document.documentElement ? document.documentElement.outerHTML : ''),
    Array.from(document.querySelectorAll('a[href]'), a => a.getAttribute('href'))]"""


def read(page: Any) -> tuple[str, list[str]]:
    """The page's HTML (what ``page.content()`` returns) and its links' hrefs."""
    html, hrefs = page.evaluate(_READ)
    return html, hrefs


def _links(page: Any, base: str, hrefs: list[str]) -> list[str]:
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


def public(url: str) -> bool:
    """A citizens' page: the same for every visitor but for the header's name and the
    navigation, which every staff page of the role shows too."""
    return not urlsplit(url).path.startswith("/staff")


def export_kind(url: str) -> str:
    """What an export holds: its path, and for the rankings' one the table (what=league)."""
    parts = urlsplit(url)
    what = re.search(r"(?:^|&)what=([a-z]+)", parts.query)
    return parts.path + (f"?what={what.group(1)}" if what else "")


def crawl(page: Any, base: str, start: list[str], scanned: set[str],
          exported: set[str] | None = None) -> tuple[dict[str, list[str]], int]:
    """Every page two steps from ``start`` and every export linked: the problems by URL. A
    citizens' page already in ``scanned`` (opened at this level by the citizen or another
    role) is not opened again; each page opened is added, and each export's kind to
    ``exported``."""
    problems: dict[str, list[str]] = {}
    seen: set[str] = {url for url in scanned if public(url)}
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
            scanned.add(url)
            html, hrefs = read(page)
            found = page_problems(html)
            if response is None or response.status >= 500:
                found.append(f"answers {response.status if response else 'nothing'}")
            if _EXCEPTION.search(html):
                found.append("exception text")
            if found:
                problems[url] = found
            following += _links(page, base, hrefs)
        frontier = following
    for url in sorted(exports):
        if exported is not None:
            exported.add(export_kind(url))
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
    scanned: set[str] = set()
    exported: set[str] = set()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(base + "/")
        # the one-trip read is what Playwright's page.content() serializes
        assert read(page)[0] == page.content()
        found, opened = crawl(page, base, _nav(page, base), scanned)  # the citizens'
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
            found, opened = crawl(page, base, _nav(page, base), scanned, exported)
            problems.update({f"{role} {url}": p for url, p in found.items()})
            pages += opened
    finally:
        context.close()
    assert pages >= 10, pages
    # the exports a level's roles reach were read: the catalog's, the assessment's, and where
    # there are centers below, the rankings' league table
    expected = {"/staff/admin/export.xlsx", "/staff/supervision/assessment.xlsx"} | (
        set() if level == "township" else {"/staff/rankings/export?what=league"})
    assert expected <= exported, sorted(exported)
    report = "\n".join(f"{url}: {'; '.join(found[:6])}" for url, found in problems.items())
    assert not problems, f"{len(problems)} of {pages} pages and exports at {level}:\n{report}"
