"""Every CSV and XLSX the node writes or passes on is inert (schemas/runtime/spreadsheet.py): the
catalog, the assessment, the supervision lists (yellow and red cases, complaints,
rectifications) and the hub's rankings relayed — a name or a text starting with ``=`` is
never a live formula."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from node.auth.permissions import Role
from node.cases.models import Case
from node.composition import NodeServices
from node.rankings.hub import HubAnswer
from schemas.runtime.database import Database
from schemas.runtime.spreadsheet import XLSX_MEDIA_TYPE
from tests.unit.node.conftest import Api, matter_payload
from tests.unit.node.test_public_lookup import complete_case, set_public_limit
from tests.unit.node.test_web import log_in
from tests.unit.schemas.test_spreadsheet import PLANTED, assert_inert_csv, assert_inert_xlsx

TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()


@pytest.fixture
def planted(app: Flask, catalog_base: Api, make_user: Callable[..., Api],
            db: Database) -> dict[str, Api]:
    """A window, a matter, an applicant, a complaint and a rating comment, each starting
    with ``=HYPERLINK(…)``; one case red."""
    set_public_limit(app, 1000)
    admin = catalog_base
    assert admin.post("/api/v1/windows", {"code": "W02", "name": PLANTED, "location": "",
                                          "department_codes": ["SC"]}).status_code == 201
    assert admin.post("/api/v1/matters", matter_payload(name=PLANTED)).status_code == 201
    users = {"admin": admin,
             "clerk": make_user(Role.CLERK, username="clerk1", department="SC"),
             "approver": make_user(Role.APPROVER, username="approver1", department="SC"),
             "supervisor": make_user(Role.SUPERVISOR, username="super1")}
    clerk = users["clerk"]
    late = clerk.post("/api/v1/cases", {"matter_code": "11450981MB0001",
                                        "applicant_name": PLANTED}).get_json()
    assert clerk.post(f"/api/v1/cases/{late['id']}/accept", {}).status_code == 200
    with db.unit_of_work() as session:  # past its deadline: red
        session.execute(update(Case).where(Case.id == late["id"]).values(
            accepted_on=TODAY - dt.timedelta(days=40), deadline_on=TODAY - dt.timedelta(days=30)))
    rated = clerk.post("/api/v1/cases", {"matter_code": "11450981MB0001",
                                         "applicant_name": "张三"}).get_json()
    complete_case(users, rated["id"])
    anonymous = Api(clerk.client)
    assert anonymous.post(f"/api/v1/public/cases/{rated['number']}/evaluation",
                          {"code": rated["query_code"], "level": "very_dissatisfied",
                           "comment": PLANTED}).status_code == 201
    assert anonymous.post("/api/v1/public/complaints",
                          {"content": PLANTED, "window_code": "W02"}).status_code == 201
    return users


def _check(response: Any, fmt: str, planted: str | None = PLANTED) -> None:
    assert response.status_code == 200, response.get_data()[:500]
    if fmt == "csv":
        assert_inert_csv(response.get_data(), planted)
    else:
        assert_inert_xlsx(response.get_data(), planted)


@pytest.mark.parametrize("what", ["warnings", "complaints", "rectifications"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_supervision_lists_export_inert(app: Flask, planted: dict[str, Api], what: str,
                                           fmt: str) -> None:
    page = app.test_client()
    assert log_in(page, "super1").status_code == 302
    listed = page.get(f"/staff/supervision/{'' if what == 'warnings' else what}".rstrip("/"))
    assert f"/staff/supervision/{what}.{fmt}" in listed.get_data(as_text=True)
    # an applicant's masked name keeps its first character: still "=…"
    _check(page.get(f"/staff/supervision/{what}.{fmt}"), fmt,
           "=" + "*" * (len(PLANTED) - 1) if what == "warnings" else PLANTED)


def test_the_catalog_exports_inert_and_reimports_unchanged(app: Flask,
                                                           planted: dict[str, Api]) -> None:
    admin = planted["admin"]
    exported = admin.get("/api/v1/catalog/export?format=xlsx")
    _check(exported, "xlsx")
    again = admin.post("/api/v1/catalog/import", data=exported.get_data(),
                       content_type=XLSX_MEDIA_TYPE)
    assert again.status_code == 200, again.get_json()
    assert admin.get("/api/v1/matters/11450981MB0001").get_json()["name"] == PLANTED


def test_the_assessment_exports_inert(app: Flask, planted: dict[str, Api]) -> None:
    month = TODAY.strftime("%Y-%m")
    _check(planted["supervisor"].get(f"/api/v1/metrics/assessment/export?period={month}"),
           "xlsx")
    page = app.test_client()
    assert log_in(page, "super1").status_code == 302
    _check(page.get(f"/staff/supervision/assessment.xlsx?period={month}"), "xlsx")


class OldHub:
    """A hub that still writes a live formula (before this change): the node passes on
    nothing live."""

    def __init__(self, fmt: str) -> None:
        from openpyxl import Workbook

        from schemas.runtime.spreadsheet import workbook_bytes

        if fmt == "csv":
            self.answer = HubAnswer(200, "text/csv; charset=utf-8",
                                    ("\ufeff名称,办结数\r\n" + PLANTED.replace('"', '""')
                                     .join('""') + ",5\r\n").encode())
        else:
            workbook = Workbook()
            workbook.active.append(["名称", "办结数"])
            workbook.active.append([PLANTED, 5])
            self.answer = HubAnswer(200, XLSX_MEDIA_TYPE, workbook_bytes(workbook))

    def ask(self, *_args: Any, **_kwargs: Any) -> HubAnswer:
        return self.answer


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_the_hubs_rankings_are_passed_on_inert(app: Flask, planted: dict[str, Api],
                                              client: FlaskClient, fmt: str) -> None:
    app.config["TONGBAN"] = replace(app.config["TONGBAN"], hub_url="http://hub.invalid")
    NodeServices.of_app(app.extensions).rankings_hub = OldHub(fmt)
    relayed = planted["supervisor"].get(f"/api/v1/rankings/league?period=2026-10"
                                        f"&metric=completed&format={fmt}")
    _check(relayed, fmt)
    page = app.test_client()
    assert log_in(page, "super1").status_code == 302
    _check(page.get(f"/staff/rankings/export?what=league&format={fmt}&period=2026-10"
                    "&metric=completed"), fmt)
