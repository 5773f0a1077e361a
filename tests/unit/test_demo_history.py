"""The demo's history (deploy/demo/history.py) at a county: besides its cases, ratings good and
bad, the rectifications of the bad ones and complaints, each answered when its day is past."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from deploy.demo.catalog import DEMO_USERS, fill_province_catalog, localize
from deploy.demo.federation import create_staff, init_home
from deploy.demo.history import generate
from deploy.demo.layout import COUNTIES
from node.cases.models import Case, CaseEvent, Channel, FeePayment, PaymentPlace
from node.cases.states import Action, CaseState
from node.catalog.models import Matter
from node.config import node_settings
from node.feedback.models import (
    BAD_LEVELS,
    Complaint,
    ComplaintState,
    Evaluation,
    Rectification,
    RectificationState,
)
from node.metadata import load_all_models
from schemas.runtime.database import Database

COUNTY = COUNTIES[1]  # 福绵区: often late, so bad ratings and complaints come sooner


def county_home(tmp_path: Path) -> tuple[str, Database]:
    """The county's node home with the demo's staff, and its database (the caller disposes
    of it)."""
    home = str(tmp_path / COUNTY.code)
    init_home(home, COUNTY, "http://127.0.0.1:9")
    create_staff(home, COUNTY, {u.username: "demo-password-9" for u in DEMO_USERS})
    load_all_models()
    return home, Database(node_settings({"home": home}).database_url)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, int]]:
    """The county's three months of history over the standard catalog (drawn once: the draws
    are seeded by the county's code), with the number of cases made."""
    home, db = county_home(tmp_path_factory.mktemp("history"))
    try:
        with db.unit_of_work() as session:
            fill_province_catalog(session)  # the standard matters, entered here
        made = generate(home, COUNTY, months=3, scale=2.0)
        yield db, made
    finally:
        db.dispose()


def test_a_countys_history_has_good_and_bad_ratings_rectifications_and_complaints(
        history: tuple[Database, int]) -> None:
    db, made = history
    assert made > 100
    with db.sessions() as session:
        levels = session.scalars(select(Evaluation.level)).all()
        bad = [level for level in levels if level in BAD_LEVELS]
        assert len(levels) > made // 5
        assert bad
        assert len(bad) < len(levels) - len(bad)  # mostly good
        rectified = session.scalars(select(Rectification.state)).all()
        assert len(rectified) == len(bad)
        assert RectificationState.DONE in rectified
        complaints = session.scalars(select(Complaint)).all()
        assert complaints
        assert all(c.case_id is not None and c.query_code_hash for c in complaints)
        assert ComplaintState.RESOLVED in {c.state for c in complaints}
        assert session.scalar(select(func.count()).select_from(Complaint).where(
            Complaint.state == ComplaintState.RESOLVED, Complaint.resolution.is_(None))) == 0


def test_a_countys_history_takes_every_path_of_its_draw(history: tuple[Database, int]) -> None:
    """Every fate the history draws is made at least once through the real services, so that a
    path the services refuse (as the online channel for a matter not offered online once did)
    fails here, not at the first ``make demo``: rejected, denied, approved and delivered, still
    open, a one-time notice then the materials brought, an application
    through a village agent, and fees paid at the center's bank and elsewhere."""
    db, made = history
    with db.sessions() as session:
        states = dict(session.execute(
            select(Case.state, func.count()).group_by(Case.state)).all())
        channels = dict(session.execute(
            select(Case.channel, func.count()).group_by(Case.channel)).all())
        actions = set(session.scalars(select(CaseEvent.action).distinct()))
        places = set(session.scalars(select(FeePayment.place).distinct()))
        agents = session.scalars(select(Case.agent_name).where(
            Case.channel == Channel.VILLAGE_AGENT)).all()
    assert sum(states.values()) == made
    # a denied case is delivered too (its denial is a step: Action.DENY below)
    for state in (CaseState.REJECTED, CaseState.DELIVERED, CaseState.ACCEPTED):
        assert states.get(state), (state, states)
    # the hall, online and the village agents (an office outside the center is never drawn)
    assert set(channels) == {Channel.WINDOW, Channel.ONLINE, Channel.VILLAGE_AGENT}, channels
    assert agents
    assert all(name and name.startswith("村级代办员") for name in agents)
    assert {Action.REQUEST_SUPPLEMENT, Action.SUPPLEMENT, Action.REJECT, Action.ACCEPT,
            Action.START_REVIEW, Action.APPROVE, Action.DENY, Action.COMPLETE,
            Action.DELIVER} <= actions, actions
    assert places == set(PaymentPlace), places


def test_a_localized_centers_history_applies_online_only_for_matters_offered_online(
        tmp_path: Path) -> None:
    """The centers localize the catalog (some matters not 网上可办); a history drawn over
    it must apply online only where the matter is offered online, or the first ``make
    demo`` stops at the first such draw (the submission refuses it)."""
    home, db = county_home(tmp_path)
    try:
        with db.unit_of_work() as session:
            fill_province_catalog(session)
            localize(session, COUNTY)
        with db.sessions() as session:
            offline = set(session.scalars(select(Matter.code).where(Matter.online.is_(False))))
        assert offline  # the localized catalog has matters not offered online
        made = generate(home, COUNTY, months=2, scale=2.0)
        assert made > 100
        with db.sessions() as session:
            channels = session.execute(
                select(Case.channel, Matter.code).join(Matter, Case.matter_id == Matter.id)
            ).all()
        assert len(channels) >= made
        online = [code for channel, code in channels if channel is Channel.ONLINE]
        assert online  # the online matters are still applied for online
        assert not [code for code in online if code in offline]
        assert {code for channel, code in channels if code in offline}  # at the window
    finally:
        db.dispose()
