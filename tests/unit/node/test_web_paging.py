"""The pages that once cut their lists at 100 rows page them instead (node/web/_pager.html):
the guide, the catalog administration, the intake's matter picker, the desk and the pattern
lists each reach their last row by 下一页."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import insert, select

from node.auth.models import User
from node.auth.permissions import Role
from node.cases.models import Case
from node.catalog.models import Matter
from node.catalog.service import CatalogService
from schemas.runtime.database import Database
from tests.unit.node.conftest import Api, new_matter
from tests.unit.node.test_web import log_in

CODE = re.compile(r"11450981PG\d{4}")
NUMBER = re.compile(r"450981-P-\d{5}")
NEXT = re.compile(r'href="\?([^"]*cursor=[^"]+)">下一页')


def many_matters(db: Database, count: int) -> list[str]:
    codes = [f"11450981PG{i:04d}" for i in range(count)]
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        for code in reversed(codes):  # not created in the order listed
            catalog.create_matter(new_matter(code, name=f"分页事项{code[-4:]}"))
    return codes


def every_page(client: FlaskClient, path: str, found: re.Pattern[str]) -> list[list[str]]:
    """What ``found`` matches on each page of the list at ``path``, following 下一页 to the
    end (each page's items in order, no item found twice on one page)."""
    pages: list[list[str]] = []
    url: str | None = path
    while url is not None:
        response = client.get(url)
        assert response.status_code == 200, url
        text = response.get_data(as_text=True)
        pages.append(list(dict.fromkeys(found.findall(text))))
        link = NEXT.search(text)
        base = path.split("?", maxsplit=1)[0]
        url = f"{base}?{link.group(1).replace('&amp;', '&')}" if link else None
        assert len(pages) < 20, "the pages never end"
    return pages


def test_the_guide_pages_to_its_last_matter(client: FlaskClient, db: Database,
                                            catalog_base: Api) -> None:
    codes = many_matters(db, 45)
    pages = every_page(client, "/guide", CODE)
    assert [len(p) for p in pages] == [20, 20, 5]
    assert [c for p in pages for c in p] == codes  # by code, each once, the last reached
    first = client.get("/guide").get_data(as_text=True)
    assert "共 45 件" in first
    last = client.get("/guide?cursor=not-ours").get_data(as_text=True)
    assert CODE.findall(last)[:20] == codes[:20]  # a cursor not ours: the first page


def test_the_catalog_administration_pages_and_searches(
        client: FlaskClient, db: Database, catalog_base: Api, make_user: Any) -> None:
    codes = many_matters(db, 130)
    make_user(Role.ADMIN, username="boss")
    assert log_in(client, "boss").status_code == 302
    pages = every_page(client, "/staff/admin", CODE)
    assert [len(p) for p in pages] == [100, 30]
    assert [c for p in pages for c in p] == codes
    found = client.get("/staff/admin?q=分页事项0129").get_data(as_text=True)
    assert set(CODE.findall(found)) == {"11450981PG0129"}  # the 130th, found by its name


def test_the_intake_picker_reaches_every_matter(
        client: FlaskClient, db: Database, desk: dict[str, Api]) -> None:
    codes = many_matters(db, 120)
    assert log_in(client, "clerk1").status_code == 302
    pages = every_page(client, "/staff/desk/new", CODE)
    assert [c for p in pages for c in p] == codes  # the picker's pages: every matter
    assert len(pages) == 3
    # the 101st matter, searched for and then chosen: its intake form opens
    found = client.get("/staff/desk/new?q=分页事项0100").get_data(as_text=True)
    assert set(CODE.findall(found)) == {"11450981PG0100"}
    chosen = client.get("/staff/desk/new?matter_code=11450981PG0119").get_data(as_text=True)
    assert "第二步" in chosen
    assert 'name="matter_code" value="11450981PG0119"' in chosen


def _cases(db: Database, count: int, **values: Any) -> None:
    today = dt.date(2026, 11, 2)
    with db.unit_of_work() as session:
        matter = session.scalars(select(Matter)).first()
        assert matter is not None
        session.execute(insert(Case), [{
            "number": f"450981-P-{i:05d}", "query_code_hash": "0" * 64,
            "matter_id": matter.id, "department_id": matter.department_id,
            "window_id": matter.window_id, "channel": "window", "state": "accepted",
            "applicant_name": "测试", "applicant_consent": False,
            "received_at": dt.datetime(2026, 11, 2, 2, tzinfo=dt.UTC),
            "received_on": today, "accepted_on": today, "promised_days": 5,
            "deadline_on": dt.date(2026, 11, 9), "fee_due_fen": 0, "fee_paid_fen": 0,
            "notes": "", **values,
        } for i in range(count)])


def test_the_desk_pages_the_clerks_own_cases(
        client: FlaskClient, db: Database, desk: dict[str, Api]) -> None:
    with db.unit_of_work(write=False) as session:
        clerk = session.scalar(select(User.id).where(User.username == "clerk1"))
    _cases(db, 130, owner_id=clerk)
    assert log_in(client, "clerk1").status_code == 302
    pages = every_page(client, "/staff/desk", NUMBER)
    assert [len(p) for p in pages] == [100, 30]
    assert len({n for p in pages for n in p}) == 130
    assert "共 130 件" in client.get("/staff/desk").get_data(as_text=True)


def test_the_pattern_list_pages_to_its_last_case(
        client: FlaskClient, db: Database, desk: dict[str, Api]) -> None:
    _cases(db, 130, state="completed", completed_on=dt.date(2026, 11, 20))  # late
    assert log_in(client, "super1").status_code == 302
    path = "/staff/supervision/patterns?pattern=completed_late&period=2026-11"
    pages = every_page(client, path, NUMBER)
    assert [len(p) for p in pages] == [100, 30]
    numbers = [n for p in pages for n in p]
    assert numbers == sorted(numbers, reverse=True)  # newest first, each once
    assert len(set(numbers)) == 130


def test_the_desk_sends_to_the_search_when_more_online_applications_wait(
        client: FlaskClient, db: Database, desk: dict[str, Api]) -> None:
    _cases(db, 101, channel="online", state="submitted", accepted_on=None, deadline_on=None)
    assert log_in(client, "clerk1").status_code == 302
    text = client.get("/staff/desk").get_data(as_text=True)
    link = re.search(r'href="(/staff/search\?[^"]+)">待预审的网上申报超过 100 件', text)
    assert link, "no way to the online applications beyond the desk's hundred"
    found = every_page(client, link.group(1).replace("&amp;", "&"), NUMBER)
    assert len({n for p in found for n in p}) == 101  # all of them, the last page reached
