"""The day's roll-up reads each source through the index of the date it counts by (issue 17):
SQLite, which keeps no statistics, once took ``ix_cases_forwarded_on`` for a
``forwarded_on IS NULL`` in the completed cases' ``WHERE`` — a scan of every case, twice per
refresh.  Without statistics SQLite's plan does not depend on the rows, so the empty test
database shows the plan a million-case node gets."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from sqlalchemy import event

from node.metrics.daily import daily_counts
from schemas.runtime.database import Database

DAY = dt.date(2026, 12, 30)
# a range on one column: "(completed_on>? AND completed_on<?)"
RANGE = re.compile(r"\((\w+)>\? AND \1<\?\)")


def test_each_source_is_read_by_its_date_range(db: Database) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans by its statistics; this guards SQLite's rule-based choice")
    statements: list[tuple[str, Any]] = []

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
                executemany: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.sessions() as session:
            daily_counts(session, DAY, DAY)
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert len(statements) == 1  # every family in one round trip
    statement, parameters = statements[0]
    with db.engine.connect() as conn:
        plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                        parameters)]
    outer = [line for line in plan if re.match(r"(SEARCH|SCAN) (cases|bundle_cases|"
                                               r"fee_payments|supplement_notices|evaluations|"
                                               r"rectifications|complaints) ", line)
             and "=?" not in line]  # joined and correlated rows are found by key
    assert len(outer) == 14, plan  # one per family
    for line in outer:
        assert line.startswith("SEARCH"), line
        assert RANGE.search(line), line
