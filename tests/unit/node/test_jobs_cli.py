"""`tongban node run-jobs` applies the deemed-acceptance and deemed-approval rules once."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from click.testing import CliRunner
from sqlalchemy import select

from node.auth.models import User
from node.auth.permissions import Role
from node.calendar.workdays import WorkingCalendar
from node.cases.actors import Actor
from node.cases.models import Case
from node.cases.service import Application, CaseService
from node.cases.states import CaseState
from node.cases.warnings import WarningPolicy
from node.catalog.service import CatalogService
from node.cli import node
from node.config import node_settings
from schemas.runtime.database import Database
from tests.unit.node.conftest import new_matter


def test_run_jobs_deems_an_old_submission_accepted(tmp_path) -> None:
    home = str(tmp_path / "node")
    runner = CliRunner()
    init = runner.invoke(node, ["init", "--home", home, "--code", "450981",
                                "--kind", "county_city"])
    assert init.exit_code == 0, init.output
    db = Database(node_settings({"home": home}).database_url)
    long_ago = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    with db.unit_of_work() as session:
        catalog = CatalogService(session)
        department = catalog.create_department("SC", "市场监督管理局")
        catalog.create_window("W01", "窗口", "", ["SC"])
        catalog.create_matter(new_matter())
        clerk = User(username="clerk", display_name="clerk", role=Role.CLERK,
                     department=department, password_hash="x", active=True)
        session.add(clerk)
        session.flush()
        service = CaseService(session, node_code="450981", calendar=WorkingCalendar(),
                              warning_policy=WarningPolicy(), clock=lambda: long_ago)
        number = service.submit(
            Application(matter_code="11450981MB0001", channel="window", applicant_name="张三"),
            Actor.of(clerk),
        ).case.number
    result = runner.invoke(node, ["run-jobs", "--home", home])
    assert result.exit_code == 0, result.output
    assert f"deemed accepted: 1 {number}" in result.output
    with db.sessions() as session:
        case = session.scalar(select(Case).where(Case.number == number))
        assert case.state is CaseState.ACCEPTED
        assert case.accepted_on == dt.date(2026, 3, 2)
    again = runner.invoke(node, ["run-jobs", "--home", home])
    assert "deemed accepted: 0" in again.output
    audit = runner.invoke(node, ["verify-audit", "--home", home])
    assert audit.exit_code == 0
    assert "审计链完好：共 2 条记录" in audit.output
    db.dispose()
