"""The province's holiday schedule down the tree through a real hub (issue 14): a hub process
and the nodes province 450000, city 450900, county 450981 and township 450981101, synced by
``tongban node sync-now`` over HTTP.

- the province imports 2027 and publishes it; the township adopts it, and its open case due
  on New Year's Day (counted on weekends only) moves to 4 January, with an event;
- a newer version replaces it, and an older one arriving after it changes nothing;
- a schedule signed by the city is refused by the hub (``not_trust_root``);
- a township enrolled afterwards receives the schedule in force.

The hub runs on PostgreSQL when ``TONGBAN_TEST_PG`` is set, otherwise on SQLite.  Case dates
come from the suite's clock, never the machine's.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.service import CalendarService
from node.cases.actors import Actor
from node.cases.models import Case, CaseEvent
from node.cases.service import Application, CaseService
from node.cases.warnings import WarningPolicy
from node.catalog.service import CatalogService
from node.config import node_settings
from node.metadata import load_all_models
from node.sync.keys import load_node_key
from node.sync.models import OutboxEnvelope, OutboxState
from node.sync.outbox import emit
from schemas.envelope import Kind
from schemas.runtime.database import Database
from tests.integration import federation
from tests.integration.conftest import free_port
from tests.integration.federation import Template, _public_key, copy_template, ok_here, serve_hub
from tests.unit.node.conftest import Clock, new_matter

# one worker runs the whole module (`make test`: --dist loadgroup): its tests build on the
# state the ones before them left, and its federation is copied once
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("calendar_federation")]

PROVINCE, CITY, COUNTY, TOWNSHIP = (federation.PROVINCE, federation.CITY, federation.BEILIU,
                                    federation.TOWNSHIP)
LATE = "450981102"
HOMES = {**{code: federation.HOMES[code] for code in (PROVINCE, CITY, COUNTY, TOWNSHIP)},
         LATE: "t2"}
DEMO_2027 = Path(__file__).resolve().parents[2] / "deploy" / "demo" / "holidays-2027-demo.json"


@dataclass
class Tree:
    work: Path
    hub_url: str

    def home(self, code: str) -> str:
        return HOMES[code]

    def sync(self, *codes: str) -> None:
        for code in codes:
            ok_here("node", "sync-now", "--home", HOMES[code], cwd=self.work)

    def db(self, code: str) -> Database:
        load_all_models()
        return Database(node_settings({"home": str(self.work / HOMES[code])}).database_url)

    def years(self, code: str) -> dict[int, dict[str, Any]]:
        out = ok_here("node", "calendar-years", "--home", HOMES[code], cwd=self.work).stdout
        return {y["year"]: y for y in json.loads(out)}


@pytest.fixture
def tree(federation_template: Template, tmp_path: Path) -> Iterator[Tree]:
    """A copy of the standard federation (tests/integration/federation.py) without 容县;
    the late township is set up in its own step, after the publishes."""
    work = tmp_path
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    early = [code for code in HOMES if code != LATE]
    with ExitStack() as stack:
        copy_template(federation_template, work, stack, dict.fromkeys(early, url), codes=early)
        serve_hub(work, stack, port)
        yield Tree(work, url)


def _open_case(db: Database, clock: Clock) -> str:
    """A 20-working-day case accepted on 6 December 2026 at the township."""
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        department = catalog.create_department("SC", "市场监督管理局")
        catalog.create_window("W01", "窗口", "", ["SC"])
        catalog.create_matter(new_matter(code="M20", promised_limit_days=20,
                                             legal_limit_days=20))
        clerk = User(username="clerk", display_name="clerk", role=Role.CLERK,
                     department=department, password_hash="x", active=True)
        session.add(clerk)
        session.flush()
        cases = CaseService(session, node_code=TOWNSHIP,
                            calendar=CalendarService(session, clock=clock).calendar(),
                            warning_policy=WarningPolicy(), clock=clock)
        case = cases.submit(Application(
            matter_code="M20",
            channel="window",
            applicant_name="张三",
        ), Actor.of(clerk)).case
        cases.accept(case, Actor.of(clerk))
        assert (case.deadline_on, case.deadline_provisional) == (dt.date(2027, 1, 1), True)
        return case.number


def _case(db: Database, number: str) -> tuple[dt.date | None, bool, list[str]]:
    with db.sessions() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case is not None
        reasons = [e.reason or "" for e in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]
        return case.deadline_on, case.deadline_provisional, reasons


def _published_schedule_reaches_the_township_and_moves_its_open_case(tree: Tree) -> None:
    township = tree.db(TOWNSHIP)
    number = _open_case(township, Clock(dt.date(2026, 12, 6)))
    assert tree.years(TOWNSHIP)[2027]["source"] == "none"

    imported = ok_here("node", "calendar-import", "--home", HOMES[PROVINCE], "--year",
                       "2027", str(DEMO_2027), cwd=tree.work)
    assert "2027: imported version 1" in imported.stdout
    published = ok_here("node", "publish-calendar", "--home", HOMES[PROVINCE], "--year",
                        "2027", cwd=tree.work)
    assert "calendar.publish queued: year 2027" in published.stdout
    tree.sync(PROVINCE, CITY, COUNTY, TOWNSHIP)

    for code in (CITY, COUNTY, TOWNSHIP):
        held = tree.years(code)[2027]
        assert (held["source"], held["version"], held["holidays"]) == ("published", 1, 33)
    deadline_on, provisional, reasons = _case(township, number)
    assert (deadline_on, provisional) == (dt.date(2027, 1, 4), False)
    assert reasons[-1] == "期限因节假日安排调整由 2027-01-01 改为 2027-01-04，不再为暂定"
    township.dispose()


def _newer_version_replaces_it_and_an_older_one_arriving_later_does_not(tree: Tree) -> None:
    corrected = json.loads(DEMO_2027.read_text(encoding="utf-8"))
    corrected["days"].append({"date": "2027-01-04", "kind": "holiday", "name": "元旦"})
    corrected["source"] = "演示数据（更正）"
    path = tree.work / "holidays-2027-v2.json"
    path.write_text(json.dumps(corrected, ensure_ascii=False), encoding="utf-8")
    ok_here("node", "calendar-import", "--home", HOMES[PROVINCE], "--year", "2027", str(path),
            cwd=tree.work)
    ok_here("node", "publish-calendar", "--home", HOMES[PROVINCE], "--year", "2027",
            cwd=tree.work)
    # version 1 signed again after version 2 (as a province restored from a backup might)
    province = tree.db(PROVINCE)
    key = load_node_key(node_settings({"home": str(tree.work / HOMES[PROVINCE])}))
    first = json.loads(DEMO_2027.read_text(encoding="utf-8"))
    with province.unit_of_work() as session:
        emit(session, kind=Kind.CALENDAR_PUBLISH, to=f"{PROVINCE}/*", sender=PROVINCE,
             private_key=key, body={**first, "version": 1,
                                    "published_at": "2026-12-06T09:00:00+08:00"})
    province.dispose()
    tree.sync(PROVINCE, TOWNSHIP)

    held = tree.years(TOWNSHIP)[2027]
    assert (held["source"], held["version"], held["holidays"]) == ("published", 2, 34)
    township = tree.db(TOWNSHIP)
    with township.sessions() as session:
        calendar = CalendarService(session).calendar()
        assert not calendar.is_working_day(dt.date(2027, 1, 4))
        numbers = list(session.scalars(select(Case.number)))
    deadline_on, _, reasons = _case(township, numbers[0])
    assert deadline_on == dt.date(2027, 1, 5)
    assert reasons[-1] == "期限因节假日安排调整由 2027-01-04 改为 2027-01-05"
    township.dispose()


def _schedule_from_the_city_is_refused_by_the_hub(tree: Tree) -> None:
    city = tree.db(CITY)
    key = load_node_key(node_settings({"home": str(tree.work / HOMES[CITY])}))
    body = {**json.loads(DEMO_2027.read_text(encoding="utf-8")), "version": 9,
            "published_at": "2026-12-06T09:00:00+08:00"}
    with city.unit_of_work() as session:
        envelope = emit(session, kind=Kind.CALENDAR_PUBLISH, to=f"{CITY}/*", sender=CITY,
                        private_key=key, body=body)
    tree.sync(CITY)
    with city.sessions() as session:
        row = session.get(OutboxEnvelope, envelope.id)
        assert row is not None
        assert (row.state, row.hub_reason) == (OutboxState.DEAD, "not_trust_root")
    city.dispose()
    tree.sync(COUNTY, TOWNSHIP)
    assert tree.years(TOWNSHIP)[2027]["version"] == 2


def _township_enrolled_later_receives_the_schedule_in_force(tree: Tree) -> None:
    ok_here("node", "init", "--home", HOMES[LATE], "--code", LATE, cwd=tree.work)
    with (tree.work / HOMES[LATE] / "tongban.toml").open("a", encoding="utf-8") as config:
        config.write(f'hub_url = "{tree.hub_url}"\n')
    ok_here("node", "enroll-child", "--home", HOMES[COUNTY], "--code", LATE, "--public-key",
            _public_key(tree.work / HOMES[LATE])[0], cwd=tree.work)
    tree.sync(COUNTY, LATE)
    held = tree.years(LATE)[2027]
    assert (held["source"], held["version"], held["publisher"]) == ("published", 2, PROVINCE)
    assert held["holidays"] == 34


def test_the_provinces_schedule_down_the_tree(tree: Tree) -> None:
    """The steps build on each other, so they run in one test (workers may split a module)."""
    _published_schedule_reaches_the_township_and_moves_its_open_case(tree)
    _newer_version_replaces_it_and_an_older_one_arriving_later_does_not(tree)
    _schedule_from_the_city_is_refused_by_the_hub(tree)
    _township_enrolled_later_receives_the_schedule_in_force(tree)
