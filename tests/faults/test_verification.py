"""Figures a higher center can verify, drilled with real processes (issue 21): a hub, the
county 450981 and its township 450981101 (tests/faults/cluster.py), their workers running.

1. the township's summary with its on-time count inflated (its cases unchanged) is refused
   by the hub: the commitment does not match the counts (and so is one with a rate dressed
   up beside honest counts);
2. a case's completion date rewritten after an honest summary: the county opens an audit
   through its node (``tongban node open-audit``), the township's worker answers on its own,
   and the audit fails for that case;
3. a summary whose tree leaves cases out: the sizes do not add up, the hub refuses it;
4. the township's audit chain rewound under the same restore: the anchor check flags it.

Each is then read on the county's completeness page, by its reason, as a supervisor sees it.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from node.audit.chain import AuditLog
from node.calendar.workdays import to_shanghai_date
from node.cases.models import Case, Channel
from node.cases.states import CaseState
from node.catalog.models import Department, Matter
from node.config import node_settings
from node.metrics.service import MetricsService
from node.metrics.summary import as_of
from node.sync.keys import load_node_key
from node.sync.outbox import emit
from node.verification.service import commit, committed_leaves, keep
from schemas.envelope import HUB, Kind
from schemas.periods import Period
from schemas.runtime.database import utcnow
from tests.faults.cluster import (
    COUNTY,
    HOMES,
    PASSWORD,
    SHARED,
    TOWNSHIP,
    Cluster,
    cluster,
    wait_until,
)
from tests.integration.conftest import run_tongban
from tests.verification_full import commit_leaves

pytestmark = pytest.mark.slow

CASES = 12
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def fed(tmp_path: Path, template: Path) -> Iterator[Cluster]:
    with cluster(tmp_path / "fed", template) as built:
        for code in (COUNTY, TOWNSHIP):
            built.serve_node(code)
            built.staff(code)
        built.call(COUNTY, "admin", "POST", "/api/v1/users",
                   {"username": "super1", "role": "supervisor", "password": PASSWORD}, 201)
        yield built


def today() -> dt.date:
    return to_shanghai_date(utcnow())


def month() -> Period:
    return Period.month(today().year, today().month)


def add_cases(fed: Cluster) -> list[str]:
    """Completed cases of this month at the township, each in its own transaction."""
    db = fed.node_db(TOWNSHIP)
    day = today()
    numbers = []
    for n in range(CASES):
        with db.unit_of_work() as session:
            matter = session.scalar(select(Matter).where(Matter.code == SHARED))
            department = session.scalar(select(Department).where(Department.code == "SC"))
            assert matter is not None
            assert department is not None
            number = f"{TOWNSHIP}-{day.year}-{n + 1:07d}"
            session.add(Case(
                number=number, query_code_hash="0" * 64, matter_id=matter.id,
                department_id=department.id, window_id=None, channel=Channel.WINDOW,
                state=CaseState.COMPLETED, applicant_name="申请人", applicant_consent=False,
                received_at=utcnow(), received_on=day, accepted_on=day, promised_days=5,
                deadline_on=day + dt.timedelta(days=7), completed_on=day, closed_on=day,
                completed_at=utcnow(), notes=""))
            numbers.append(number)
    return numbers


def forged_summary(fed: Cluster, change: Any) -> None:
    """The township's summary as its own code computes it, changed by ``change(body,
    commitment, session)`` before it is signed with the township's key and queued."""
    settings = node_settings({"home": str(fed.work / HOMES[TOWNSHIP])})
    key = load_node_key(settings)
    db = fed.node_db(TOWNSHIP)
    now = utcnow()
    with db.unit_of_work() as session:
        metrics = MetricsService.for_settings(session, settings)
        metrics.clock = lambda: now
        body = metrics.summary(month())
        body["audit"] = AuditLog(session).anchor()
        commitment = commit(session, month(), as_of(month(), now))
        commitment = change(body, commitment, session) or commitment
        body["commitment"] = commitment.body
        envelope = emit(session, kind=Kind.SUMMARY, to=HUB, body=body, sender=TOWNSHIP,
                        private_key=key, now=now)
        keep(session, commitment, envelope.id, envelope.seq)


def refusals(fed: Cluster) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in fed.hub_rows(
        "SELECT reason, details FROM commitment_refusals WHERE node = :n ORDER BY id",
        n=TOWNSHIP)]


def completeness_row(fed: Cluster) -> str:
    """The township's row of the county's completeness page, as a supervisor reads it."""
    web = requests.Session()
    form = web.get(f"{fed.bases[COUNTY]}/staff/login", timeout=20).text
    token = CSRF.search(form)
    assert token, form[:500]
    answer = web.post(f"{fed.bases[COUNTY]}/staff/login", timeout=30, data={
        "username": "super1", "password": PASSWORD, "csrf_token": token.group(1)})
    assert answer.status_code == 200, answer.text[:500]
    page = web.get(f"{fed.bases[COUNTY]}/staff/rankings/completeness",
                   params={"scope": COUNTY, "period": month().label}, timeout=30)
    assert page.status_code == 200, page.text[:1000]
    text = page.text
    return text[text.index(f"（{TOWNSHIP}）</td>"):].split("</tr>", 1)[0]


def test_inflated_counts_and_dropped_cases_are_refused(fed: Cluster) -> None:
    add_cases(fed)

    def inflate(body: dict[str, Any], _commitment: Any, _session: Any) -> None:
        body["metrics"]["completed_on_time"]["value"] += 5

    forged_summary(fed, inflate)
    fed.sync(TOWNSHIP)
    assert [reason for reason, _ in refusals(fed)] == ["counts"]
    assert "completed_on_time" in refusals(fed)[0][1]
    dead = fed.node_rows(TOWNSHIP, "SELECT last_error FROM sync_outbox WHERE state = 'dead'")
    assert dead[0][0] == "completed_on_time is 17 in the summary but 12 by its commitment"
    row = completeness_row(fed)
    assert 'data-verification="refused"' in row
    assert "报表数字与所承诺的办件记录合计不符（按时办结：报表 17，承诺 12）" in row

    def drop(_body: dict[str, Any], commitment: Any, session: Any) -> Any:
        leaves = committed_leaves(session, commitment.period.label, commitment.digests)
        fewer = commit_leaves(commitment.period, commitment.as_of, leaves[:-3])
        fewer.body["tallies"] = commitment.body["tallies"]  # the counts still claimed
        fewer.body["by_state"] = commitment.body["by_state"]
        return fewer

    forged_summary(fed, drop)
    fed.sync(TOWNSHIP)
    assert [reason for reason, _ in refusals(fed)] == ["counts", "size"]
    # the page shows its kept answer and asks the hub again once more than 10 s old
    row = wait_until(lambda: (found := completeness_row(fed)) and "办件记录条数对不上" in found
                     and found, 60, "the page to show the refusal for size", interval=3)
    assert 'data-verification="refused"' in row

    def dress_up(body: dict[str, Any], _commitment: Any, _session: Any) -> None:
        # a rate beside honest counts: 月均办结 20 where the 12 cases of the month give 12
        body["metrics"]["completed_monthly_average"] |= {"numerator": 20, "value": 20}

    forged_summary(fed, dress_up)
    fed.sync(TOWNSHIP)
    assert [reason for reason, _ in refusals(fed)] == ["counts", "size", "counts"]
    assert "completed_monthly_average" in refusals(fed)[2][1]
    row = wait_until(lambda: (found := completeness_row(fed)) and "月均办结：报表 20，承诺 12"
                     in found and found, 60, "the page to show the dressed-up rate", interval=3)
    assert 'data-verification="refused"' in row


def test_a_case_rewritten_after_its_summary_fails_the_audit(fed: Cluster) -> None:
    numbers = add_cases(fed)
    sent = run_tongban("node", "send-summaries", "--home", HOMES[TOWNSHIP], cwd=fed.work)
    assert sent.returncode == 0, sent.stderr
    fed.sync_ok(TOWNSHIP)
    # the version audited: the worker will send newer ones on its own
    ((audited,),) = fed.hub_rows("SELECT max(seq) FROM summaries WHERE node = :n", n=TOWNSHIP)
    worker = fed.start_worker(TOWNSHIP)
    rewritten = numbers[4]
    earlier = (today() - dt.timedelta(days=1)).isoformat()
    with sqlite3.connect(fed.work / HOMES[TOWNSHIP] / "node.db") as connection:
        connection.execute("UPDATE cases SET completed_on = ?, closed_on = ? WHERE number = ?",
                           (earlier, earlier, rewritten))
    opened = run_tongban("node", "open-audit", "--home", HOMES[COUNTY], "--node", TOWNSHIP,
                         "--period", month().label, "--seq", str(audited), cwd=fed.work)
    assert opened.returncode == 0, opened.stderr
    assert f"抽查 {CASES} 条记录" in opened.stdout

    def judged() -> Any:
        rows = fed.hub_rows("SELECT state, findings FROM audits WHERE node = :n", n=TOWNSHIP)
        return rows if rows and rows[0][0] != "pending" else None

    ((state, findings),) = wait_until(judged, 60, "the township's worker to answer")
    assert worker.poll() is None
    assert state == "failed"
    assert f'"case":"{rewritten}"' in findings
    assert "case_changed" in findings
    assert findings.count('"reason"') == 1  # only the rewritten case
    row = completeness_row(fed)
    assert 'data-verification="failed">数据核验：未通过' in row
    assert f"办件 {rewritten}：办件记录在报表之后被改动（结束日期、办结日期、当日办结）" in row


def test_a_rewound_audit_chain_fails_the_anchor_check(fed: Cluster) -> None:
    add_cases(fed)
    db = fed.node_db(TOWNSHIP)
    for n in range(6):
        with db.unit_of_work() as session:
            AuditLog(session).append(actor="admin", role="admin", action="catalog.update",
                                     subject_type="matter", subject_id=f"M{n}", data={"n": n})
    assert run_tongban("node", "send-summaries", "--home", HOMES[TOWNSHIP],
                       cwd=fed.work).returncode == 0
    fed.sync_ok(TOWNSHIP)
    with sqlite3.connect(fed.work / HOMES[TOWNSHIP] / "node.db") as connection:
        keep_seq = connection.execute("SELECT max(seq) FROM audit_entries").fetchone()[0] - 4
        last = connection.execute("SELECT hash FROM audit_entries WHERE seq = ?",
                                  (keep_seq,)).fetchone()[0]
        connection.execute("DELETE FROM audit_entries WHERE seq > ?", (keep_seq,))
        connection.execute("UPDATE audit_head SET last_seq = ?, last_hash = ?",
                           (keep_seq, last))
    assert run_tongban("node", "send-summaries", "--home", HOMES[TOWNSHIP],
                       cwd=fed.work).returncode == 0
    fed.sync_ok(TOWNSHIP)
    verdicts = [row[0] for row in fed.hub_rows(
        "SELECT verdict FROM audit_anchors WHERE node = :n ORDER BY seq", n=TOWNSHIP)]
    assert verdicts[-1] == "anomaly", verdicts
    row = completeness_row(fed)
    assert 'data-audit="anomaly">审计链异常' in row


def test_the_completeness_page_opens_an_audit_the_worker_answers(fed: Cluster) -> None:
    add_cases(fed)
    sent = run_tongban("node", "send-summaries", "--home", HOMES[TOWNSHIP], cwd=fed.work)
    assert sent.returncode == 0, sent.stderr
    fed.sync_ok(TOWNSHIP)
    worker = fed.start_worker(TOWNSHIP)
    # the county's supervisor presses 发起数据核验 on the township's row
    web = requests.Session()
    token = CSRF.search(web.get(f"{fed.bases[COUNTY]}/staff/login", timeout=20).text)
    assert token
    assert web.post(f"{fed.bases[COUNTY]}/staff/login", timeout=30, data={
        "username": "super1", "password": PASSWORD, "csrf_token": token.group(1)},
    ).status_code == 200
    page = web.get(f"{fed.bases[COUNTY]}/staff/rankings/completeness",
                   params={"scope": COUNTY, "period": month().label}, timeout=30).text
    row = page[page.index(f"（{TOWNSHIP}）</td>"):].split("</tr>", 1)[0]
    assert f'data-open-audit="{TOWNSHIP}"' in row
    token = CSRF.search(row)
    assert token
    opened = web.post(f"{fed.bases[COUNTY]}/staff/rankings/completeness/audit", timeout=30,
                      data={"csrf_token": token.group(1), "node": TOWNSHIP,
                            "period": month().label, "scope": COUNTY})
    assert opened.status_code == 200, opened.text[:1000]
    assert f"（{TOWNSHIP}）发起 {month().label} 数据核验" in opened.text
    ((requested_by, sampled),) = fed.hub_rows(
        "SELECT requested_by, sample_size FROM audits WHERE node = :n", n=TOWNSHIP)
    assert (requested_by, sampled) == (f"node:{COUNTY}", 30)

    def judged() -> Any:
        rows = fed.hub_rows("SELECT state FROM audits WHERE node = :n", n=TOWNSHIP)
        return rows if rows and rows[0][0] != "pending" else None

    assert [tuple(r) for r in wait_until(judged, 60, "the township's worker to answer")] == [
        ("passed",)]
    assert worker.poll() is None
    row = wait_until(lambda: (found := completeness_row(fed)) and "数据核验：通过" in found
                     and found, 60, "the page to show the passed audit", interval=3)
    assert f"数据核验：通过（抽查 {CASES} 件" in row
