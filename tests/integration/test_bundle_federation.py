"""一件事 bundles between real processes: a hub and three nodes — province 450000, city
450900 and county-level city 450981 — each with its own home and SQLite database, served by
gunicorn and synced by ``tongban node sync-now`` over HTTP.

- the province defines 新生儿出生一件事 and publishes it with its standard catalog; the
  county adopts it;
- the county receives two bundle cases at one window, accepts each once (一窗受理): three
  parts stay with three departments of the county, 医保参保 is forwarded to the city, which
  decides it and sends the result back;
- the first bundle's parts finish with the city's first and all granted: it ends completed;
- the second's finish with the city's last and one part refused (不予许可): it ends partly
  completed, only when its last part ends, with one result notice;
- the applicant's lookup by query code shows the bundle and its parts; the county's figures
  count two bundles received and two completed.

The module's federation is a copy of the standard one, enrolled and synced once per run
(tests/integration/federation.py), with processes of its own; the tests run in file order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
import requests

from tests.integration.conftest import free_port
from tests.integration.federation import (
    BEILIU,
    CITY,
    HOMES,
    PASSWORD,
    PROVINCE,
    Api,
    Federation,
    Template,
    copy_template,
    ok_here,
    serve_federation,
    staff_api,
)
from tests.unit.node.conftest import matter_payload

# one worker runs the whole module (`make test`: --dist loadgroup): its tests build on the
# state the ones before them left, and its federation is copied once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("bundle_federation")]

COUNTY = BEILIU  # 北流, a county-level city
NODES = (PROVINCE, CITY, COUNTY)
BIRTH = "XSECS"
PARTS = {  # matter code: (department, name, handling level, promised days)
    "11450000XS0001": ("WJ", "出生医学证明签发", "county", 3),
    "11450000XS0002": ("GA", "出生户口登记", "county", 5),
    "11450000XS0003": ("YB", "城乡居民医保参保登记", "city", 7),
    "11450000XS0004": ("RS", "社会保障卡申领", "county", 4),
}
CERT, HUKOU, INSURANCE, CARD = PARTS
DEPARTMENTS = {"WJ": "卫生健康局", "GA": "公安局", "YB": "医疗保障局", "RS": "人力资源和社会保障局"}


def _staff(fed: Federation, code: str) -> None:
    """Four departments at one window, the four matters, an admin and a clerk."""
    base = fed.bases[code]
    admin = staff_api(base, "admin")
    fed.staff[(code, "admin")] = admin
    for department, name in DEPARTMENTS.items():
        admin.call("POST", "/api/v1/departments", {"code": department, "name": name}, 201)
    admin.call("POST", "/api/v1/windows", {"code": "W01", "name": "综合窗口", "location": "一楼",
                                           "department_codes": list(DEPARTMENTS)}, 201)
    for matter, (department, name, level, days) in PARTS.items():
        admin.call("POST", "/api/v1/matters", matter_payload(
            code=matter, name=name, department_code=department, handling_level=level,
            promised_limit_days=days, category="public_service",
            materials=[{"name": "出生医学证明", "required": True, "form": "original"},
                       {"name": "父母居民身份证", "required": True, "form": "copy"},
                       {"name": f"{name}申请表", "required": True, "form": "original"}]), 201)
    admin.call("POST", "/api/v1/users", {"username": "clerk1", "role": "clerk",
                                         "department_code": "GA", "password": PASSWORD}, 201)
    fed.staff[(code, "clerk")] = staff_api(base, "clerk1")
    admin.call("POST", "/api/v1/users", {"username": "approver1", "role": "approver",
                                         "department_code": "YB", "password": PASSWORD}, 201)
    fed.staff[(code, "approver")] = staff_api(base, "approver1")


@pytest.fixture(scope="module")
def fed(federation_template: Template, tmp_path_factory: pytest.TempPathFactory
        ) -> Iterator[Federation]:
    """A copy of the standard federation (tests/integration/federation.py); the province,
    the city and 北流 served, each with the four departments at one window."""
    work = tmp_path_factory.mktemp("bundles")
    hub_port = free_port()
    with ExitStack() as stack:
        copy_template(federation_template, work, stack,
                      dict.fromkeys(HOMES, f"http://127.0.0.1:{hub_port}"))
        hub, bases = serve_federation(work, stack, hub_port, NODES)
        fed = Federation(work, hub, bases=bases)
        for code in NODES:
            _staff(fed, code)
        yield fed


def _case(fed: Federation, code: str, number: str, role: str = "clerk") -> dict[str, Any]:
    api = fed.api(code, role)
    [found] = api.call("GET", "/api/v1/cases", number=number)["items"]
    return api.call("GET", f"/api/v1/cases/{found['id']}")  # type: ignore[no-any-return]


def _act(fed: Federation, code: str, number: str, action: str, **body: Any) -> None:
    """The county's clerk (who took the bundle) acts; at the city, the approver of 医疗保障局."""
    role = "approver" if code == CITY else "clerk"
    case = _case(fed, code, number, role)
    fed.api(code, role).call("POST", f"/api/v1/cases/{case['id']}/{action}",
                                {"version": case["version"], **body})


def _from_county(fed: Federation, number: str) -> dict[str, Any]:
    """The city's case opened for the county's part ``number``."""
    listed = fed.api(CITY, "admin").call("GET", "/api/v1/cases", per_page=100)["items"]
    [found] = [c for c in listed if c["origin"] and c["origin"]["case_number"] == number]
    return found  # type: ignore[no-any-return]


def _bundle(fed: Federation, number: str) -> dict[str, Any]:
    return fed.api(COUNTY, "clerk").call(  # type: ignore[no-any-return]
        "GET", f"/api/v1/bundle-cases/{number}")


def _outcomes(bundle: dict[str, Any]) -> dict[str, str]:
    return {p["matter_code"]: p["outcome"] for p in bundle["parts"]}


# -- the province publishes, the county adopts --------------------------------------------------


def test_the_provinces_bundle_reaches_the_county(fed: Federation) -> None:
    province = fed.api(PROVINCE, "admin")
    defined = province.call("PUT", f"/api/v1/bundles/{BIRTH}", {
        "name": "新生儿出生一件事", "description": "出生医学证明、户口登记、医保参保、社保卡一次办",
        "matters": [{"matter_code": code, "form_fields": [
            {"key": "baby_name", "label": "新生儿姓名"},
            {"key": "birth_date", "label": "出生日期"},
            *([{"key": "address", "label": "户籍地址"}] if code == HUKOU else [])]}
            for code in PARTS]})
    assert defined["published_by"] is None
    published = ok_here("node", "publish-catalog", "--home", fed.homes[PROVINCE], cwd=fed.work)
    assert "catalog.publish queued" in published.stdout, published.stdout
    fed.sync(PROVINCE, CITY, COUNTY)

    bundle = fed.api(COUNTY, "admin").call("GET", f"/api/v1/bundles/{BIRTH}")
    assert bundle["published_by"] == PROVINCE
    assert [f["key"] for f in bundle["form"]] == ["baby_name", "birth_date", "address"]
    shared = [m for m in bundle["materials"] if m["name"] in ("出生医学证明", "父母居民身份证")]
    assert [len(m["matters"]) for m in shared] == [4, 4]  # handed in once for four matters
    assert len(bundle["materials"]) == 2 + 4
    assert bundle["promised_limit_days"] == 3 + 5 + 7 + 4
    assert {p["department_code"] for p in bundle["parts"]} == {"WJ", "GA", "YB", "RS"}
    assert [p["decided_above"] for p in bundle["parts"]] == [False, False, True, False]


# -- two bundle cases at the county ------------------------------------------------------------


@pytest.fixture(scope="module")
def applied(fed: Federation) -> dict[str, dict[str, Any]]:
    """Two bundle cases received at the window and accepted once each; the insurance parts
    forwarded to the city and opened there."""
    clerk = fed.api(COUNTY, "clerk")
    made = {}
    for key, mother in (("first", "王芳"), ("second", "李娜")):
        bundle = clerk.call("POST", "/api/v1/bundle-cases", {
            "bundle_code": BIRTH, "applicant_name": mother,
            "applicant_id_number": "11010519491231002X", "applicant_phone": "13800138000",
            "form": {"baby_name": f"{mother[0]}小宝", "birth_date": "2026-12-01",
                     "address": "北流市城南路1号"}}, 201)
        accepted = clerk.call("POST", f"/api/v1/bundle-cases/{bundle['number']}/accept")
        made[key] = {**accepted, "query_code": bundle["query_code"],
                     "parts": {p["matter_code"]: p for p in accepted["parts"]}}
    fed.sync(COUNTY, CITY)
    return made


def test_one_number_one_window_parts_routed_to_departments_and_the_city(
    fed: Federation, applied: dict[str, dict[str, Any]]
) -> None:
    first = applied["first"]
    assert first["number"].startswith(f"{COUNTY}-")
    assert "-Y" in first["number"]
    assert {c: p["state"] for c, p in first["parts"].items()} == {
        CERT: "accepted", HUKOU: "accepted", INSURANCE: "forwarded", CARD: "accepted"}
    assert first["parts"][INSURANCE]["forwarded_to"] == CITY
    assert [p["department_name"] for p in first["parts"].values()] == list(DEPARTMENTS.values())
    at_city = _from_county(fed, first["parts"][INSURANCE]["number"])
    assert at_city["state"] == "accepted"
    # accepting again applies nothing twice
    again = requests.post(f"{fed.bases[COUNTY]}/api/v1/bundle-cases/{first['number']}/accept",
                          headers=fed.api(COUNTY, "clerk").headers, timeout=20)
    assert again.status_code == 409, again.text


def test_the_first_bundle_ends_completed_when_its_last_part_ends(
    fed: Federation, applied: dict[str, dict[str, Any]]
) -> None:
    parts = applied["first"]["parts"]
    number = applied["first"]["number"]
    # the city's part first: decided there, its result back, completed at the county
    city_case = _from_county(fed, parts[INSURANCE]["number"])
    _act(fed, CITY, city_case["number"], "approve")
    fed.sync(CITY, COUNTY)
    assert _case(fed, COUNTY, parts[INSURANCE]["number"])["state"] == "approved"
    _act(fed, COUNTY, parts[INSURANCE]["number"], "complete")
    for code in (CARD, CERT):
        _act(fed, COUNTY, parts[code]["number"], "approve")
        _act(fed, COUNTY, parts[code]["number"], "complete")
    assert _bundle(fed, number)["state"] == "open"  # 户口登记 is still open
    _act(fed, COUNTY, parts[HUKOU]["number"], "approve")
    _act(fed, COUNTY, parts[HUKOU]["number"], "complete")

    ended = _bundle(fed, number)
    assert ended["state"] == "completed"
    assert ended["notice_number"].startswith(f"{COUNTY}-YJS-")
    assert set(_outcomes(ended).values()) == {"granted"}


def test_the_second_bundle_with_a_refused_part_ends_partly_completed(
    fed: Federation, applied: dict[str, dict[str, Any]]
) -> None:
    parts = applied["second"]["parts"]
    number = applied["second"]["number"]
    _act(fed, COUNTY, parts[HUKOU]["number"], "deny", reason="父母户籍均不在本市")
    _act(fed, COUNTY, parts[HUKOU]["number"], "complete")
    for code in (CERT, CARD):
        _act(fed, COUNTY, parts[code]["number"], "approve")
        _act(fed, COUNTY, parts[code]["number"], "complete")
    waiting = _bundle(fed, number)
    assert waiting["state"] == "open"  # the refusal did not end it: the city's part is open
    assert waiting["notice_number"] is None
    assert _outcomes(waiting)[HUKOU] == "refused"

    city_case = _from_county(fed, parts[INSURANCE]["number"])
    _act(fed, CITY, city_case["number"], "approve")
    fed.sync(CITY, COUNTY)
    _act(fed, COUNTY, parts[INSURANCE]["number"], "complete")

    ended = _bundle(fed, number)
    assert ended["state"] == "partly_completed"
    assert ended["notice_number"] != _bundle(fed, applied["first"]["number"])["notice_number"]
    assert _outcomes(ended) == {CERT: "granted", HUKOU: "refused", INSURANCE: "granted",
                                CARD: "granted"}


def test_the_applicant_sees_the_bundle_and_its_parts(
    fed: Federation, applied: dict[str, dict[str, Any]]
) -> None:
    second = applied["second"]
    public = Api(fed.bases[COUNTY]).call(
        "GET", f"/api/v1/public/bundle-cases/{second['number']}", code=second["query_code"])

    assert public["state"] == "partly_completed"
    assert public["applicant_name"] != "李娜"
    assert [p["state"] for p in public["parts"]] == ["completed"] * 4
    wrong = requests.get(f"{fed.bases[COUNTY]}/api/v1/public/bundle-cases/{second['number']}",
                         params={"code": "AAAAAAAA"}, timeout=20)
    assert wrong.status_code == 404


def test_the_countys_figures_count_the_bundles(
    fed: Federation, applied: dict[str, dict[str, Any]]
) -> None:
    month = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).strftime(
        "%Y-%m")
    summary = fed.api(COUNTY, "admin").call("GET", "/api/v1/metrics/summary", period=month)
    figures = summary["metrics"]

    assert figures["bundles_received"]["value"] == 2
    assert figures["bundles_completed"]["value"] == 2
    assert figures["bundle_promised_days"]["value"] == 2 * 19
    assert figures["bundle_time_rate"]["denominator"] == 2 * 19
