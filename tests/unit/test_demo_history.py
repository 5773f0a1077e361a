"""The demo's history (deploy/demo/history.py) at a county: besides its cases, ratings good and
bad, the rectifications of the bad ones and complaints, each answered when its day is past."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from deploy.demo.catalog import DEMO_USERS, fill_province_catalog
from deploy.demo.federation import create_staff, init_home
from deploy.demo.history import generate
from deploy.demo.layout import COUNTIES
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


def test_a_countys_history_has_good_and_bad_ratings_rectifications_and_complaints(
        tmp_path: Path) -> None:
    county = COUNTIES[1]  # 福绵区: often late, so bad ratings and complaints come sooner
    home = str(tmp_path / county.code)
    init_home(home, county, "http://127.0.0.1:9")
    create_staff(home, county, {u.username: "demo-password-9" for u in DEMO_USERS})
    load_all_models()
    db = Database(node_settings({"home": home}).database_url)
    try:
        with db.unit_of_work() as session:
            fill_province_catalog(session)  # the standard matters, entered here
        made = generate(home, county, months=3, scale=2.0)
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
    finally:
        db.dispose()
