"""The staff navigation's badge (node/home.py ``awaiting``), counted on every staff page, reads
the cases from below still open here from ``ix_cases_state_received_from``: at a million cases
it read every open case (83,000 at the list benchmark's node, ≈ 0.3 s on SQLite) to test
``received_from``.  SQLite keeps no statistics, so the empty test database shows the plan a
million-case node gets."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from node.auth.models import User
from node.auth.permissions import Role
from node.home import awaiting
from schemas.runtime.database import Database


def test_the_badge_counts_the_cases_from_below_on_their_index(db: Database) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans by its statistics; this guards SQLite's rule-based choice")
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        if "received_from" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.sessions() as session:
            badge = awaiting(session, User(username="s", role=Role.SUPERVISOR), None)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert badge.forwarded_in == 0
    assert len(statements) == 1
    statement, parameters = statements[0]
    with db.engine.connect() as conn:
        plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                        parameters)]
    assert any("ix_cases_state_received_from (state=? AND received_from>?)" in line
               for line in plan), plan
