"""一件事 bundles: the merge and deduplication rules, the bundle's state from its parts, and a
bundle case through the API at a county (parts decided here in any order, one forwarded to
the city and decided there, one refused)."""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable, Iterator
from typing import Any

import jsonschema_rs
import orjson
import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import select

from node import create_app
from node.auth.models import User
from node.auth.permissions import Role
from node.bundles.models import BundleCase, BundleState
from node.bundles.service import (
    BundleApplication,
    PartOutcome,
    bundle_state,
    deciding_center,
    part_outcome,
)
from node.cases.actors import Actor
from node.cases.models import Case
from node.cases.states import CaseState
from node.catalog.bundles import (
    FormField,
    adopt_bundles,
    material_key,
    merged_form,
    merged_materials,
)
from node.catalog.models import Bundle, MaterialForm, Matter, MatterMaterial
from node.catalog.service import CatalogService
from node.composition import NodeServices
from node.metrics.daily import daily_counts
from node.metrics.patterns import PatternPolicy
from node.metrics.summary import NodeIdentity, summarize
from node.models import Base
from node.sync.models import OutboxEnvelope
from schemas.divisions import Level
from schemas.envelope import EnvelopeError, Kind, parse_envelope, sign_envelope
from schemas.keys import generate_private_key
from schemas.messages import JSON_SCHEMAS, validate_body
from schemas.periods import Period
from schemas.runtime.database import Database, utcnow
from tests.conftest import node_config
from tests.unit.node.conftest import Api, Clock, matter_payload, new_matter, password_hash
from tests.unit.node.test_web import csrf_of, log_in

PROVINCE, CITY, HERE = "450000", "450900", "450981"
BIRTH = "XSECS"  # 新生儿出生一件事
ID_NUMBER = "11010519491231002X"


# -- the rules --------------------------------------------------------------------------------


def _matter(code: str, *materials: tuple[str, bool, MaterialForm, int]) -> Matter:
    matter = Matter(code=code)
    matter.materials = [MatterMaterial(position=n, name=name, required=required, form=form,
                                       copies=copies)
                        for n, (name, required, form, copies) in enumerate(materials, 1)]
    return matter


def test_the_merged_form_asks_each_key_once_with_the_first_label_in_order() -> None:
    form = merged_form([
        ("A", [FormField("baby_name", "新生儿姓名"), FormField("mother_name", "母亲姓名")]),
        ("B", [FormField("mother_name", "母亲姓名（户主）"), FormField("address", "户籍地址")]),
        ("C", []),
    ])

    assert form == (FormField("baby_name", "新生儿姓名"), FormField("mother_name", "母亲姓名"),
                    FormField("address", "户籍地址"))


def test_materials_are_deduplicated_by_name_with_the_strictest_requirement() -> None:
    o, c = MaterialForm.ORIGINAL, MaterialForm.COPY
    merged = merged_materials([
        _matter("A", ("出生医学证明", True, o, 1), ("父母身份证", False, c, 1)),
        _matter("B", ("父母 身份证", True, c, 2), ("户口簿", True, o, 1)),
        _matter("C", ("出生医学证明", False, c, 1)),
    ])

    assert [(m.name, m.required, m.form, m.copies, m.matters) for m in merged] == [
        ("出生医学证明", True, MaterialForm.ORIGINAL_AND_COPY, 1, ("A", "C")),
        ("父母身份证", True, c, 2, ("A", "B")),
        ("户口簿", True, o, 1, ("B",)),
    ]
    assert material_key("父母\u3000身份 证") == material_key("父母身份证")


@pytest.mark.parametrize(("state", "denied", "outcome"), [
    (CaseState.COMPLETED, False, PartOutcome.GRANTED),
    (CaseState.DELIVERED, False, PartOutcome.GRANTED),
    (CaseState.COMPLETED, True, PartOutcome.REFUSED),
    (CaseState.REJECTED, False, PartOutcome.REFUSED),
    (CaseState.WITHDRAWN, False, PartOutcome.WITHDRAWN),
    (CaseState.APPROVED, False, PartOutcome.OPEN),
    (CaseState.FORWARDED, False, PartOutcome.OPEN),
])
def test_a_parts_outcome(state: CaseState, denied: bool, outcome: str) -> None:
    assert part_outcome(state, denied) == outcome


def test_the_bundle_ends_only_when_every_part_ended() -> None:
    g, r, w, o = (PartOutcome.GRANTED, PartOutcome.REFUSED, PartOutcome.WITHDRAWN,
                  PartOutcome.OPEN)
    assert bundle_state([g, g, o]) is BundleState.OPEN
    assert bundle_state([r, r, o]) is BundleState.OPEN
    assert bundle_state([g, g, g]) is BundleState.COMPLETED
    assert bundle_state([g, r, g]) is BundleState.PARTLY_COMPLETED
    assert bundle_state([w, g]) is BundleState.PARTLY_COMPLETED
    assert bundle_state([r, w]) is BundleState.REFUSED


def test_the_deciding_center_is_the_ancestor_of_the_matters_level() -> None:
    assert deciding_center("450981101", Level.COUNTY) == "450981"
    assert deciding_center("450981", Level.CITY) == "450900"
    assert deciding_center("450981", Level.PROVINCE) == "450000"
    assert deciding_center("429004", Level.CITY) == "420000"  # no city above: the province


# -- a bundle case at a county ----------------------------------------------------------------

PARTS = {  # matter code: (department, name, level, promised days)
    "BIRTH01": ("WJ", "出生医学证明", "county", 3),
    "BIRTH02": ("GA", "户口登记", "county", 5),
    "BIRTH03": ("YB", "医保参保", "city", 7),
    "BIRTH04": ("GA", "社保卡申领", "county", 4),
}


BIRTH_ITEM = {
    "code": BIRTH, "name": "新生儿出生一件事", "description": "",
    "matters": [{"standard_code": code, "form_fields": [
        {"key": "baby_name", "label": "新生儿姓名"},
        {"key": "mother_name", "label": "母亲姓名"}]} for code in PARTS]}
PAIR_ITEM = {"code": "PAIR", "name": "出生登记", "description": "",
             "matters": [{"standard_code": "BIRTH01", "form_fields": []},
                         {"standard_code": "BIRTH02", "form_fields": []}]}


@pytest.fixture
def birth(catalog_base: Api, make_user: Callable[..., Api], db: Database) -> dict[str, Api]:
    """Three departments, four matters (one decided by the city) and the bundle as adopted
    from the province."""
    admin = catalog_base
    for code, name in (("WJ", "卫生健康局"), ("GA", "公安局"), ("YB", "医疗保障局")):
        admin.post("/api/v1/departments", {"code": code, "name": name})
    admin.patch("/api/v1/windows/W01", {"department_codes": ["SC", "WJ", "GA", "YB"]})
    for code, (department, name, level, days) in PARTS.items():
        response = admin.post("/api/v1/matters", matter_payload(
            code=code, name=name, department_code=department, handling_level=level,
            promised_limit_days=days, category="public_service",
            materials=[{"name": "出生医学证明", "required": True, "form": "original"},
                       {"name": f"{name}申请表", "required": True, "form": "original"}]))
        assert response.status_code == 201, response.json
    with db.unit_of_work() as session:
        adopt_bundles(session, [BIRTH_ITEM], sender=PROVINCE)
    return {"admin": admin, "clerk": make_user(Role.CLERK, username="clerk1", department="GA")}


def _apply(clerk: Api, **overrides: Any) -> Any:
    return clerk.post("/api/v1/bundle-cases", {
        "bundle_code": BIRTH, "applicant_name": "王芳", "applicant_id_number": ID_NUMBER,
        "applicant_phone": "13800138000",
        "form": {"baby_name": "王小明", "mother_name": "王芳"}, **overrides})


def _act(clerk: Api, number: str, action: str, **body: Any) -> None:
    case = clerk.get(f"/api/v1/cases?number={number}").json["items"][0]
    fresh = clerk.get(f"/api/v1/cases/{case['id']}").json
    response = clerk.post(f"/api/v1/cases/{case['id']}/{action}",
                          {"version": fresh["version"], **body})
    assert response.status_code == 200, response.json


def test_the_bundle_shows_its_merged_form_materials_and_parts(birth: dict[str, Api]) -> None:
    bundle = birth["admin"].get(f"/api/v1/bundles/{BIRTH}").json

    assert bundle["published_by"] == PROVINCE
    assert [f["key"] for f in bundle["form"]] == ["baby_name", "mother_name"]
    assert next(m["name"] for m in bundle["materials"]) == "出生医学证明"
    assert bundle["materials"][0]["matters"] == list(PARTS)
    assert len(bundle["materials"]) == 5
    assert bundle["promised_limit_days"] == 3 + 5 + 7 + 4
    assert [(p["department_code"], p["decided_above"]) for p in bundle["parts"]] == [
        ("WJ", False), ("GA", False), ("YB", True), ("GA", False)]


def test_a_county_cannot_define_a_bundle(birth: dict[str, Api]) -> None:
    response = birth["admin"].request("PUT", "/api/v1/bundles/X1", json={
        "name": "企业开办一件事", "matters": [{"matter_code": "BIRTH01"},
                                         {"matter_code": "BIRTH02"}]})
    assert response.status_code == 409, response.json


def test_bad_applications_change_nothing(birth: dict[str, Api], db: Database) -> None:
    clerk = birth["clerk"]
    unknown = _apply(clerk, bundle_code="NOPE")
    empty = _apply(clerk, form={"baby_name": "王小明", "mother_name": " ", "extra": "x"})

    assert unknown.status_code == 422
    assert "bundle_code" in unknown.json["error"]["details"]["fields"]
    assert empty.status_code == 422
    assert len(empty.json["error"]["details"]["fields"]["form"]) == 2
    assert clerk.get("/api/v1/cases").json["items"] == []


def test_a_bundle_case_ends_when_its_last_part_ends(
    birth: dict[str, Api], app: Flask, db: Database
) -> None:
    clerk = birth["clerk"]
    applied = _apply(clerk)
    assert applied.status_code == 201, applied.json
    bundle = applied.json
    number, code = bundle["number"], bundle["query_code"]
    assert number.startswith(f"{HERE}-")
    assert "-Y" in number
    assert [p["state"] for p in bundle["parts"]] == ["submitted"] * 4

    accepted = clerk.post(f"/api/v1/bundle-cases/{number}/accept").json
    parts = {p["matter_code"]: p for p in accepted["parts"]}
    assert [p["state"] for p in accepted["parts"]] == [
        "accepted", "accepted", "forwarded", "accepted"]
    assert parts["BIRTH03"]["forwarded_to"] == CITY
    again = clerk.post(f"/api/v1/bundle-cases/{number}/accept")
    assert again.status_code == 409  # nothing accepted twice
    with db.unit_of_work(write=False) as session:
        sent = [parse_envelope(orjson.loads(row.wire)) for row in session.scalars(
            select(OutboxEnvelope).order_by(OutboxEnvelope.seq))]
    assert [(e.kind, e.to) for e in sent] == [(Kind.CASE_FORWARD, CITY)]

    # parts end in another order than they were made: the last county one first
    _act(clerk, parts["BIRTH04"]["number"], "approve")
    _act(clerk, parts["BIRTH04"]["number"], "complete")
    _act(clerk, parts["BIRTH02"]["number"], "deny", reason="户籍地不在本县")
    _act(clerk, parts["BIRTH02"]["number"], "complete")
    _act(clerk, parts["BIRTH01"]["number"], "approve")
    _act(clerk, parts["BIRTH01"]["number"], "complete")
    still = clerk.get(f"/api/v1/bundle-cases/{number}").json
    assert (still["state"], still["notice_number"]) == ("open", None)

    # the city decides its part; its result comes back and the clerk completes it
    result = sign_envelope(
        kind=Kind.CASE_RESULT, sender=CITY, to=HERE, seq=1, private_key=generate_private_key(),
        ts=utcnow(), body={
            "origin": {"node": HERE, "case_number": parts["BIRTH03"]["number"]},
            "outcome": "approved", "reason": None, "decided_on": utcnow().date().isoformat(),
            "decided_by_node": CITY, "documents": [], "fee_due_fen": 0})
    with db.unit_of_work() as session:
        NodeServices.of_app(app.extensions).envelope_registry().handlers()[Kind.CASE_RESULT](
            session, result)
    _act(clerk, parts["BIRTH03"]["number"], "complete")

    ended = clerk.get(f"/api/v1/bundle-cases/{number}").json
    assert ended["state"] == "partly_completed"
    assert ended["notice_number"].startswith(f"{HERE}-YJS-")
    assert ended["used_days"] == 0
    assert ended["promised_days"] == 19
    assert {p["matter_code"]: p["outcome"] for p in ended["parts"]} == {
        "BIRTH01": "granted", "BIRTH02": "refused", "BIRTH03": "granted",
        "BIRTH04": "granted"}

    public = clerk.get(f"/api/v1/public/bundle-cases/{number}?code={code}").json
    assert public["state"] == "partly_completed"
    assert public["applicant_name"] != "王芳"  # masked
    assert len(public["parts"]) == 4
    wrong = clerk.get(f"/api/v1/public/bundle-cases/{number}?code=WRONG123")
    assert wrong.status_code == 404


def test_a_part_decided_here_may_be_handled_jointly(
    birth: dict[str, Api], make_user: Callable[..., Api]
) -> None:
    """联合办理 where it exists: 出生医学证明 (卫生健康局) decided with 公安局 as one case of
    two tasks, the other parts as they are; a joint part decided above, or a matter not of
    the bundle, is refused and nothing is made."""
    clerk = birth["clerk"]
    refused = _apply(clerk, joint_department_codes={"BIRTH03": ["GA"], "NOPE": ["GA"]})
    assert refused.status_code == 422, refused.json
    assert len(refused.json["error"]["details"]["fields"]["joint_department_codes"]) == 2
    assert clerk.get("/api/v1/cases").json["items"] == []

    applied = _apply(clerk, joint_department_codes={"BIRTH01": ["GA"]})
    assert applied.status_code == 201, applied.json
    number = applied.json["number"]
    parts = {p["matter_code"]: p for p in clerk.post(
        f"/api/v1/bundle-cases/{number}/accept").json["parts"]}
    joint = parts["BIRTH01"]["number"]
    [listed] = clerk.get(f"/api/v1/cases?number={joint}").json["items"]
    tasks = clerk.get(f"/api/v1/cases/{listed['id']}").json["tasks"]
    assert sorted(t["department"]["code"] for t in tasks) == ["GA", "WJ"]
    [alone] = clerk.get(f"/api/v1/cases?number={parts['BIRTH02']['number']}").json["items"]
    assert len(clerk.get(f"/api/v1/cases/{alone['id']}").json["tasks"]) == 1

    _act(clerk, joint, "approve")  # the lead department's task, at the window
    assert clerk.get(f"/api/v1/cases/{listed['id']}").json["state"] == "accepted"
    _act(make_user(Role.APPROVER, department="GA"), joint, "approve")
    assert clerk.get(f"/api/v1/cases/{listed['id']}").json["state"] == "approved"


def test_an_online_bundle_application_is_received_online(birth: dict[str, Api]) -> None:
    response = birth["clerk"].post("/api/v1/public/bundle-cases", {
        "bundle_code": BIRTH, "applicant_name": "李娜",
        "form": {"baby_name": "李小宝", "mother_name": "李娜"}})

    assert response.status_code == 201, response.json
    assert response.json["channel"] == "online"
    assert {p["state"] for p in response.json["parts"]} == {"submitted"}


def test_the_bundles_travel_with_the_catalog_and_a_dropped_one_is_retired(
    birth: dict[str, Api], db: Database
) -> None:
    with db.unit_of_work() as session:
        report = adopt_bundles(session, [], sender=PROVINCE)
        retired = session.scalar(select(Bundle).where(Bundle.code == BIRTH))
        assert retired is not None
        assert retired.retired_at is not None
    assert report == {"created": [], "updated": [], "retired": [BIRTH]}
    assert birth["admin"].get("/api/v1/bundles").json["items"] == []


def test_bundle_figures_by_hand(birth: dict[str, Api], app: Flask, db: Database) -> None:
    """Two bundles of 出生医学证明 (3 wd) and 户口登记 (5 wd): the first received Monday
    2 November 2026 and ended Thursday 5 November (3 working days: 2, 3 and 4 November) of
    8 promised; the second received 3 November and still open.  November: 2 received, 1
    completed, 3 days used of 8 promised, 3 ÷ 8 = 37.50 %."""
    services = NodeServices.of_app(app.extensions)
    clock = Clock(dt.date(2026, 11, 2))
    with db.unit_of_work() as session:
        adopt_bundles(session, [BIRTH_ITEM, PAIR_ITEM], sender=PROVINCE)
    with db.unit_of_work() as session:
        user = session.scalar(select(User).where(User.username == "clerk1"))
        assert user is not None
        actor = Actor.of(user)
        first = services.bundle_cases(session, clock).apply(
            BundleApplication("PAIR", "王芳"), actor).bundle_case
        services.bundle_cases(session, clock).accept(first, actor)
        first_id = first.id
    clock.set(dt.date(2026, 11, 3))
    with db.unit_of_work() as session:
        services.bundle_cases(session, clock).apply(BundleApplication("PAIR", "李娜"), actor)
    clock.set(dt.date(2026, 11, 5))
    with db.unit_of_work() as session:
        cases = services.cases(session, clock)
        for part in session.scalars(select(BundleCase).where(BundleCase.id == first_id)).one(
                ).parts:
            cases.decide(part, actor, approve=True, reason=None)
            cases.complete(part, actor)
    with db.unit_of_work(write=False) as session:
        ended = session.get(BundleCase, first_id)
        assert ended is not None
        assert (ended.state, ended.ended_on, ended.used_days, ended.promised_days) == (
            BundleState.COMPLETED, dt.date(2026, 11, 5), 3, 8)
        days = daily_counts(session, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
        summary = summarize(
            session, NodeIdentity(HERE, "北流市政务服务中心", "county", "county_city", CITY),
            Period.parse("2026-11"), dt.datetime(2026, 12, 1, tzinfo=dt.UTC), PatternPolicy())
    assert days[dt.date(2026, 11, 2)]["bundles_received"] == 1
    assert days[dt.date(2026, 11, 3)]["bundles_received"] == 1
    assert days[dt.date(2026, 11, 5)]["bundles_completed"] == 1
    figures = summary["metrics"]
    assert [figures[k]["value"] for k in ("bundles_received", "bundles_completed",
                                          "bundle_used_days", "bundle_promised_days")] == [
        2, 1, 3, 8]
    rate = figures["bundle_time_rate"]
    assert (rate["numerator"], rate["denominator"], rate["value"]) == (3, 8, 3750)


def test_the_pages_show_the_bundle_its_parts_and_its_notice(
    birth: dict[str, Api], client: FlaskClient, db: Database
) -> None:
    with db.unit_of_work() as session:
        adopt_bundles(session, [BIRTH_ITEM, PAIR_ITEM], sender=PROVINCE)
    applied = birth["clerk"].post("/api/v1/bundle-cases", {
        "bundle_code": "PAIR", "applicant_name": "王芳"}).json
    number, code = applied["number"], applied["query_code"]
    assert log_in(client, "clerk1").status_code == 302

    listed = client.get("/staff/bundle-cases").get_data(as_text=True)
    assert number in listed
    page = f"/staff/bundle-cases/{number}"
    before = client.get(page).get_data(as_text=True)
    assert "一窗受理（全部事项）" in before
    assert before.count("待受理") + before.count("收件") >= 2
    accepted = client.post(f"{page}/accept", data={"csrf_token": csrf_of(client, page)})
    assert accepted.status_code == 303
    after = client.get(page).get_data(as_text=True)
    assert "一窗受理（全部事项）" not in after
    assert client.get(f"{page}/notice").status_code == 404  # not ended yet

    for part in applied["parts"]:
        _act(birth["clerk"], part["number"], "withdraw", reason="申请人撤回")
    notice = client.get(f"{page}/notice").get_data(as_text=True)
    assert "一件事办结通知书" in notice
    assert "未办成" in notice
    assert notice.count("已撤回") == 2
    catalog_page = client.get("/staff/bundles").get_data(as_text=True)
    assert "新生儿出生一件事" in catalog_page
    assert "上报上级办理" in catalog_page  # 医保参保 is decided by the city

    client.get("/staff/logout")
    public = client.post("/lookup", data={
        "number": number, "code": code, "csrf_token": csrf_of(client, "/lookup")})
    text = public.get_data(as_text=True)
    assert public.status_code == 200, text
    assert "各事项办理情况" in text
    assert "王芳" not in text
    assert "未办成" in text
    assert text.count("已撤回") == 2 * 2  # each part's state and its outcome


def test_the_catalogs_export_carries_the_bundles_and_imports_back(birth: dict[str, Api]) -> None:
    admin = birth["admin"]
    document = admin.get("/api/v1/catalog/export").json
    [bundle] = document["bundles"]
    assert bundle["code"] == BIRTH
    assert [p["matter_code"] for p in bundle["parts"]] == list(PARTS)
    assert len(bundle["materials"]) == 5
    assert admin.post("/api/v1/catalog/import", document).status_code == 200

    response = admin.get("/api/v1/catalog/export", query_string={"format": "xlsx"})
    workbook = load_workbook(io.BytesIO(response.data))
    rows = list(workbook["一件事"].iter_rows(values_only=True))
    assert rows[0][:4] == ("一件事编码", "一件事名称", "事项编码", "事项名称")
    assert [r[2] for r in rows[1:]] == list(PARTS)
    assert rows[1][7] == "新生儿姓名；母亲姓名"  # names only: the keys stay in the API
    assert rows[3][5] == "市级"  # 医保参保 is decided by the city
    materials = list(workbook["一件事材料"].iter_rows(values_only=True))[1:]
    assert materials[0][1] == "出生医学证明"
    assert materials[0][5] == "、".join(PARTS)


def test_two_last_parts_ending_at_once_end_the_bundle(
    birth: dict[str, Api], app: Flask, db: Database, database_url: str
) -> None:
    """PostgreSQL (READ COMMITTED): the first part's transaction, ended and not committed,
    holds the audit chain's head and the bundle's row; the second, ending the other part
    meanwhile, waits, then reads the first part ended and ends the bundle (read from a
    snapshot taken before the first committed, each would see the other open and the bundle
    would never end)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite serialises every writer: no two transactions overlap")
    with db.unit_of_work() as session:
        adopt_bundles(session, [BIRTH_ITEM, PAIR_ITEM], sender=PROVINCE)
    clerk = birth["clerk"]
    applied = clerk.post("/api/v1/bundle-cases", {"bundle_code": "PAIR",
                                                  "applicant_name": "王芳"}).json
    clerk.post(f"/api/v1/bundle-cases/{applied['number']}/accept")
    numbers = [p["number"] for p in applied["parts"]]
    for number in numbers:
        _act(clerk, number, "approve")
    services = NodeServices.of_app(app.extensions)
    first_done, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def complete(number: str, *, hold: bool) -> None:
        try:
            with db.unit_of_work() as session:
                user = session.scalar(select(User).where(User.username == "clerk1"))
                assert user is not None
                cases = services.cases(session)
                part = session.scalar(select(Case).where(Case.number == number))
                assert part is not None
                cases.complete(part, Actor.of(user))
                if hold:  # ended, bundle row locked, not committed yet
                    first_done.set()
                    assert release.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    first = threading.Thread(target=complete, args=(numbers[0],), kwargs={"hold": True})
    first.start()
    assert first_done.wait(10)
    second = threading.Thread(target=complete, args=(numbers[1],), kwargs={"hold": False})
    second.start()
    second.join(0.5)
    assert second.is_alive()  # waiting for the first to commit
    release.set()
    first.join(20)
    second.join(20)
    assert not errors, errors
    ended = clerk.get(f"/api/v1/bundle-cases/{applied['number']}").json
    assert ended["state"] == "completed"
    assert ended["notice_number"] is not None


@pytest.fixture
def province(database_url: str) -> Iterator[FlaskClient]:
    """A province's own app on the test's database (its tables are there already), with
    departments, a window, the four matters and an administrator."""
    config = node_config(database_url, code=PROVINCE, name="广西壮族自治区政务服务中心",
                         level="province", kind="", parent_code="")
    own = create_app(config)
    database: Database = own.extensions["tongban_db"]
    Base.metadata.create_all(database.engine)
    client = own.test_client()
    with database.unit_of_work() as session:
        catalog = CatalogService(session)
        for code, name in (("SC", "市场监督管理局"), ("WJ", "卫生健康局"), ("GA", "公安局"),
                           ("YB", "医疗保障局")):
            catalog.create_department(code, name)
        catalog.create_window("W01", "综合窗口", department_codes=["SC", "WJ", "GA", "YB"])
        for code, (department, name, level, days) in PARTS.items():
            catalog.create_matter(new_matter(
                code, name=name, department_code=department, handling_level=level,
                promised_limit_days=days, category="public_service"))
        session.add(User(username="padmin", display_name="省管理员", role=Role.ADMIN,
                         password_hash=password_hash(), active=True))
    yield client
    database.dispose()


def test_the_province_defines_a_bundle_on_its_page(province: FlaskClient) -> None:
    assert log_in(province, "padmin").status_code == 302
    token = csrf_of(province, "/staff/bundles")
    bad = province.post("/staff/bundles", data={
        "csrf_token": token, "code": BIRTH, "name": "新生儿出生一件事",
        "matters": f"BIRTH01：{'长' * 101}\nBIRTH02"})
    assert bad.status_code == 422
    assert "第 1 行：字段名称不能超过 100 个字" in bad.get_data(as_text=True)
    assert "新生儿出生一件事" not in province.get("/staff/bundles").get_data(as_text=True)

    saved = province.post("/staff/bundles", data={
        "csrf_token": token, "code": BIRTH, "name": "新生儿出生一件事",
        "matters": "BIRTH01: 新生儿姓名; 出生日期\n"
                   "BIRTH02：新生儿姓名；户籍地址\nBIRTH03\nBIRTH04"})
    assert saved.status_code == 303
    page = province.get("/staff/bundles").get_data(as_text=True)
    assert "新生儿出生一件事" in page
    assert page.count("<li>新生儿姓名</li>") == 1  # asked once, by its name alone
    assert "<li>户籍地址</li>" in page
    assert "<li>出生日期</li>" in page
    retired = province.post(f"/staff/bundles/{BIRTH}/retire",
                            data={"csrf_token": csrf_of(province, "/staff/bundles")})
    assert retired.status_code == 303
    after = province.get("/staff/bundles").get_data(as_text=True)
    assert "一件事 新生儿出生一件事 已停用。" in after
    assert f"新生儿出生一件事（{BIRTH}）" not in after


def _catalog_body(bundles: list[dict[str, Any]]) -> dict[str, Any]:
    matter = {"standard_code": "BIRTH01", "name": "出生医学证明", "category": "public_service",
              "handling_level": "county", "handling_type": "promised", "legal_limit_days": 5,
              "promised_limit_days": 1, "notify_and_commit": False, "deemed_approval": False,
              "legal_basis": "", "procedure": "", "conditions": "", "fee_basis": "",
              "fee_standard": "", "fee_amount_fen": 0, "complaint_channel": "", "materials": []}
    return {"catalog_version": 1, "published_at": "2026-12-06T10:00:00+08:00",
            "matters": [matter], "bundles": bundles}


def test_the_published_bundles_are_checked_by_both_schemas() -> None:
    validate_body(Kind.CATALOG_PUBLISH, _catalog_body([BIRTH_ITEM, PAIR_ITEM]))
    validate_body(Kind.CATALOG_PUBLISH, {k: v for k, v in _catalog_body([]).items()
                                         if k != "bundles"})  # a catalog from before bundles
    for bad in ([BIRTH_ITEM, BIRTH_ITEM],  # a code twice
                [{**PAIR_ITEM, "matters": PAIR_ITEM["matters"][:1]}],  # one matter
                [{**PAIR_ITEM, "code": "一件事"}],  # not a code
                [{**PAIR_ITEM, "matters": [{"standard_code": "A", "form_fields": [
                    {"key": "Baby", "label": "x"}]}, PAIR_ITEM["matters"][1]]}]):
        with pytest.raises(EnvelopeError):
            validate_body(Kind.CATALOG_PUBLISH, _catalog_body(bad))
    schema = JSON_SCHEMAS[Kind.CATALOG_PUBLISH.value]
    assert jsonschema_rs.validator_for(schema).is_valid(_catalog_body([BIRTH_ITEM]))
    assert not jsonschema_rs.validator_for(schema).is_valid(
        _catalog_body([{**PAIR_ITEM, "code": "一件事"}]))


def test_a_citizen_applies_for_a_bundle_on_the_public_site(
    birth: dict[str, Api], client: FlaskClient
) -> None:
    home = client.get("/").get_data(as_text=True)
    assert f"/bundles/{BIRTH}/apply" in home
    page = f"/bundles/{BIRTH}/apply"
    form = client.get(page).get_data(as_text=True)
    assert "新生儿姓名" in form
    assert form.count("<li>出生医学证明</li>") == 1  # asked by four matters, handed in once
    token = csrf_of(client, page)
    missing = client.post(page, data={"csrf_token": token, "applicant_name": "李娜",
                                      "form-baby_name": "李小宝"})
    assert missing.status_code == 422
    assert "mother_name" in missing.get_data(as_text=True)
    assert birth["admin"].get("/api/v1/cases").json["items"] == []

    done = client.post(page, data={"csrf_token": token, "applicant_name": "李娜",
                                   "form-baby_name": "李小宝", "form-mother_name": "李娜"})
    text = done.get_data(as_text=True)
    assert done.status_code == 201, text
    assert "-Y" in text
    listed = birth["admin"].get("/api/v1/cases").json["items"]
    assert {c["channel"] for c in listed} == {"online"}
    assert len(listed) == len(PARTS)  # one part case per matter
