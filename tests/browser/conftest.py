"""Browser tests: Playwright drives Debian's Chromium (/usr/bin/chromium, never a downloaded
browser) against real ``tongban`` processes on loopback: a hub and a province → city →
two counties chain; the city's node serves the pages (the ``site`` fixture), or the demo's
federation (``tongban demo --check``, tests/demo_federation.py) served again from its homes
(the ``demo_servers`` fixture, shared by test_crawl.py and test_demo_pages.py). Screenshots go
to test-output/screenshots/.

Under pytest-xdist each worker has its own session fixtures: the tests of one fixture carry
one ``xdist_group`` (pyproject.toml runs ``--dist loadgroup``), so that one worker builds and
serves it once, and the demo's hub, whose port every demo node's configuration names, is
never served by two workers at once."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import Any

import pytest
import requests

from schemas.keys import load_private_key, public_key_b64
from schemas.periods import Period
from tests.demo_federation import DemoCheck
from tests.integration.conftest import (
    REPO,
    START_TIMEOUT,
    TONGBAN,
    free_port,
    invoke_tongban,
    served_env,
    serving,
    stop_process,
    stop_processes,
    wait_for_health,
)

CHROMIUM = "/usr/bin/chromium"
# How long a page's action, navigation or expectation may wait, and a request of the tests' own.
# Waiting longer never lets a wrong page through; it keeps a right one from failing when CI's
# two cores carry the 23-center demo, the fault suite and the other worker at once (a case
# registered and its file opened once took 32 s there: a click's own 30 s ran out).
PAGE_TIMEOUT_MS = 90_000
EXPECT_TIMEOUT_MS = 30_000
HTTP_TIMEOUT = 60
SCREENSHOTS = REPO / "test-output" / "screenshots"
PROVINCE, CITY, BEILIU, RONG = "450000", "450900", "450981", "450921"
HOMES = {PROVINCE: "p", CITY: "c", BEILIU: "k", RONG: "r"}
KINDS = {BEILIU: "county_city", RONG: "county"}
NAMES = {CITY: "玉林市政务服务中心", BEILIU: "北流市政务服务中心", RONG: "容县政务服务中心"}
PASSWORD = "browser-pass-9"
MATTER = "BR-0001"
# the groups of tests that share a session fixture (one worker each under --dist loadgroup)
SITE_GROUP = pytest.mark.xdist_group("browser-site")
DEMO_GROUP = pytest.mark.xdist_group("demo-federation")
# the demo's centers served again: the province, the city, Yuzhou and Beiliu, and Beiliu's
# township (test_crawl.py reads four levels, test_demo_pages.py uses the city and Yuzhou)
DEMO_PROVINCE, DEMO_CITY, DEMO_YUZHOU, DEMO_BEILIU = "450000", "450900", "450902", "450981"


def _ok(*args: str, cwd: Path) -> None:
    """``tongban ARGS`` in this process (Click's runner: no interpreter of its own to start
    and import the node into, ~1 s of CPU each, twenty of them for the ``site``), to success."""
    result = invoke_tongban(*args, cwd=cwd)
    assert result.returncode == 0, f"tongban {' '.join(args)}\n{result.stdout}\n{result.stderr}"


def _seed(node: str) -> None:
    """The city center's catalog and staff, through its JSON API as an administrator."""
    http = requests.Session()
    token = http.post(f"{node}/api/v1/auth/login", json={"username": "admin",
                                                        "password": PASSWORD},
                      timeout=HTTP_TIMEOUT).json()["token"]
    http.headers["Authorization"] = f"Bearer {token}"

    def post(path: str, body: dict) -> None:
        response = http.post(f"{node}{path}", json=body, timeout=HTTP_TIMEOUT)
        assert response.status_code == 201, (path, response.text)

    post("/api/v1/departments", {"code": "SC", "name": "市场监督管理局"})
    post("/api/v1/departments", {"code": "ZJ", "name": "住房和城乡建设局"})
    post("/api/v1/windows", {"code": "W01", "name": "市场准入窗口", "location": "一楼B区",
                             "department_codes": ["SC"]})
    post("/api/v1/matters", {
        "code": MATTER, "name": "食品经营许可证核发", "category": "administrative_licence",
        "department_code": "SC", "window_code": "W01", "handling_level": "city",
        "handling_type": "promised", "legal_limit_days": 20, "promised_limit_days": 5,
        "entered": True, "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "procedure": "申请—受理—审查—决定—送达", "conditions": "有与经营食品相适应的场所",
        "fee_basis": "不收费依据示例", "fee_standard": "工本费 20 元", "fee_amount_fen": 2000,
        "complaint_channel": "12345 热线", "window_authority": "受理、审核、送达",
        "powers": {"accept": True, "review": True, "deliver": True},
        "materials": [{"name": "食品经营许可申请书"}, {"name": "营业执照复印件", "form": "copy"},
                      {"name": "食品安全管理制度"}]})
    for username, role, department in (("clerk", "clerk", "SC"), ("approver", "approver", "SC"),
                                       ("supervisor", "supervisor", None),
                                       ("leader", "viewer", None)):
        body = {"username": username, "display_name": {"clerk": "李明", "approver": "王芳",
                                                       "supervisor": "效能监察员",
                                                       "leader": "市中心主任"}[username],
                "role": role, "password": PASSWORD}
        if department:
            body["department_code"] = department
        post("/api/v1/users", body)


@dataclass
class Site:
    work: Path
    node: str
    hub: str
    hub_process: Popen[bytes]
    month: str


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does)")
    work = tmp_path_factory.mktemp("browser")
    _ok("hub", "init", "--home", "hub", cwd=work)
    for code, home in HOMES.items():
        kind = ("--kind", KINDS[code]) if code in KINDS else ()
        name = ("--name", NAMES[code]) if code in NAMES else ()
        _ok("node", "init", "--home", home, "--code", code, *kind, *name, cwd=work)
    keys = {code: public_key_b64(load_private_key(work / home / "node_key.pem").public_key())
            for code, home in HOMES.items()}
    _ok("node", "enroll-self", "--home", HOMES[PROVINCE], cwd=work)
    _ok("hub", "trust-root", "--home", "hub", "--code", PROVINCE, "--public-key",
        keys[PROVINCE], cwd=work)
    hub_port, node_port = free_port(), free_port()
    hub = f"http://127.0.0.1:{hub_port}"
    for home in HOMES.values():
        with (work / home / "tongban.toml").open("a", encoding="utf-8") as config:
            config.write(f'hub_url = "{hub}"\n')
    _ok("node", "create-user", "--home", HOMES[CITY], "--username", "admin", "--role",
        "admin", "--password", PASSWORD, cwd=work)
    node = f"http://127.0.0.1:{node_port}"
    # the hub and the city's node boot side by side (several seconds each); the node's pages
    # read its database per request, so what the syncs below bring is there when they ask
    with serving("hub", "serve", "--home", "hub", "--bind", f"127.0.0.1:{hub_port}",
                 "--workers", "1", cwd=work, log=work / "hub.log",
                 quick_stop=True) as hub_process, \
            serving("node", "serve", "--home", HOMES[CITY], "--bind", f"127.0.0.1:{node_port}",
                    "--workers", "1", cwd=work, log=work / "node.log",
                    quick_stop=True) as node_process:
        # they boot side by side: the time they share is each one's START_TIMEOUT together
        wait_for_health(f"{hub}/healthz", hub_process, work / "hub.log", START_TIMEOUT * 2)
        _ok("node", "sync-now", "--home", HOMES[PROVINCE], cwd=work)
        for parent, child in ((PROVINCE, CITY), (CITY, BEILIU), (CITY, RONG)):
            kind = ("--kind", KINDS[child]) if child in KINDS else ()
            _ok("node", "enroll-child", "--home", HOMES[parent], "--code", child, *kind,
                "--public-key", keys[child], cwd=work)
            _ok("node", "sync-now", "--home", HOMES[parent], cwd=work)
        for code in (BEILIU, RONG):
            _ok("node", "send-summaries", "--home", HOMES[code], cwd=work)
            _ok("node", "sync-now", "--home", HOMES[code], cwd=work)
        # the city learns its counties' names (their summaries gave them to the hub)
        _ok("node", "sync-now", "--home", HOMES[CITY], cwd=work)
        wait_for_health(f"{node}/healthz", node_process, work / "node.log", START_TIMEOUT * 2)
        _seed(node)
        today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8)))
        yield Site(work, node, hub, hub_process, Period.month(today.year, today.month).label)


@contextmanager
def serving_together(commands: Mapping[str, list[str]], cwd: Path,
                     logs: Path) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    """Start ``tongban ARGS`` for each name at once (output in ``logs/<name>.log``); on exit
    send every one SIGTERM first and then wait for them all, so that the processes stop side
    by side: a node worker takes up to 5 s to leave its long poll at the hub
    (node/worker.py ``run_worker``), and test_demo_pages.py, which stopped its six workers,
    two nodes and hub one after another, spent 42 s in teardown in CI."""
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, args in commands.items():
            with (logs / f"{name}.log").open("wb") as out:
                processes[name] = subprocess.Popen(
                    [TONGBAN, *args], cwd=cwd, env=served_env(), stdout=out,
                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        yield processes
    finally:
        stop_processes(processes.values(),
                       logs={process: logs / f"{name}.log" for name, process in processes.items()})


@dataclass
class DemoServers:
    """The demo federation's hub and five of its nodes, served from the demo's homes."""

    work: Path
    hub: str
    urls: dict[str, str]
    logins: dict[str, str]


@pytest.fixture(scope="session")
def demo_servers(demo_check: DemoCheck) -> Iterator[DemoServers]:
    """The demo's hub (on the port every node's tongban.toml names) and the nodes the crawler
    and the demo's page tests open, served once for both (they are one ``xdist_group``)."""
    work = demo_check.work
    if demo_check.result.returncode != 0:
        pytest.fail(f"tongban demo --check failed:\n{demo_check.result.stdout}\n"
                    f"{demo_check.result.stderr}")
    township = next(home.name.removeprefix("node-") for home in sorted(work.glob("node-*"))
                    if home.name.removeprefix("node-").startswith(DEMO_BEILIU)
                    and len(home.name) == len("node-") + 9)
    hub = f"http://127.0.0.1:{demo_check.hub_port}"
    codes = (township, DEMO_BEILIU, DEMO_YUZHOU, DEMO_CITY, DEMO_PROVINCE)
    urls = {code: f"http://127.0.0.1:{free_port()}" for code in codes}
    commands = {"served-hub": ["hub", "serve", "--home", str(work / "hub"), "--bind",
                               f"127.0.0.1:{demo_check.hub_port}", "--workers", "1"]}
    commands |= {f"served-node-{code}": ["node", "serve", "--home", str(work / f"node-{code}"),
                                         "--bind", url.removeprefix("http://"),
                                         "--workers", "1"]
                 for code, url in urls.items()}
    # they boot side by side: the time they share is each one's START_TIMEOUT together
    timeout = START_TIMEOUT * len(commands)
    with serving_together(commands, work, work) as processes:
        wait_for_health(f"{hub}/healthz", processes["served-hub"], work / "served-hub.log",
                        timeout)
        for code, url in urls.items():
            wait_for_health(f"{url}/healthz", processes[f"served-node-{code}"],
                            work / f"served-node-{code}.log", timeout)
        logins = json.loads((work / "logins.json").read_text(encoding="utf-8"))
        yield DemoServers(work, hub, urls, logins)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    shutil.rmtree(SCREENSHOTS, ignore_errors=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import expect

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM,
                                              args=["--no-sandbox", "--disable-gpu"])
        yield chromium
        chromium.close()


def _page(browser: Any, width: int, height: int) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A desktop window."""
    yield from _page(browser, 1280, 900)


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A 360-pixel-wide phone, as the citizen pages must read on."""
    yield from _page(browser, 360, 740)


def shot(page: object, name: str) -> None:
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


__all__ = ["HTTP_TIMEOUT", "MATTER", "PAGE_TIMEOUT_MS", "PASSWORD", "Site", "shot", "stop_process"]
