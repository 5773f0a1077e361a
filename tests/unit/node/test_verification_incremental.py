"""A period's tree built from its last build is the full rebuild's, byte for byte (issue 21's
cost goal: node/verification/incremental.py), and an audit reads a case as it stood at the
period's end.

On random cases around November 2026 (the generators of test_metrics_properties), random
changes made as the application makes them (ORM updates: the version and ``updated_at``
move) — completions, forwardings, special procedures started and ended, payments, deadlines
moved, new cases — with builds on days that move on between them: after each, the
incremental commitment (root, size, tallies, runs) equals the commitment of the period's
leaves computed afresh, and the leaves kept by hash are those leaves.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from node.cases.models import Case, FeePayment, PaymentPlace, Suspension, SuspensionKind
from node.metrics.state import open_cases
from node.verification.models import CommitmentCache, SummaryCommitment
from node.verification.service import answer, commit, committed_leaves, keep
from schemas.commitment import leaf_bytes
from schemas.merkle import inclusion_proof, leaf_hash, tree_levels
from tests.unit.node.test_metrics_properties import (
    MONTH,
    PROPERTY_SETTINGS,
    Generated,
    World,
    at,
    clear,
    insert,
    world,  # noqa: F401 - the fixture
    worlds,
)
from tests.verification_full import commit_leaves, period_leaves

KINDS = ("complete", "forward", "suspend", "resume", "pay", "deadline", "new", "reject",
         "touch")
changes = st.lists(st.tuples(st.sampled_from(KINDS), st.integers(min_value=0, max_value=99),
                             st.integers(min_value=0, max_value=4)), max_size=6)
# each step: the changes made, then a build on the day that many days after the last
steps = st.lists(st.tuples(changes, st.integers(min_value=0, max_value=3)),
                 min_size=1, max_size=4)


def _change(session: Session, setup: World, kind: str, pick: int, day: dt.date,
            serial: int) -> None:
    cases = session.scalars(select(Case).order_by(Case.id)).all()
    if kind == "new" or not cases:
        session.add(Case(number=f"Q-{serial}", query_code_hash="1" * 64,
                         matter_id=setup.entered_matter, department_id=setup.department,
                         window_id=None, applicant_name="测试", applicant_consent=False,
                         notes="", channel="online", state="accepted", promised_days=5,
                         received_at=at(day, 600), received_on=day, accepted_on=day,
                         deadline_on=day + dt.timedelta(days=3), fee_due_fen=500))
        return
    case = cases[pick % len(cases)]
    if kind == "complete":
        case.completed_on = case.closed_on = day
        case.completed_at = at(day, 700)
        case.state = "completed"
    elif kind == "forward":
        case.forwarded_on = case.closed_on = day
        case.state = "forwarded"
    elif kind == "reject":
        case.closed_on = day
        case.state = "rejected"
    elif kind == "suspend":
        case.suspensions.append(Suspension(kind=SuspensionKind.TESTING, start_on=day,
                                           end_on=None, reason="检验", started_by="approver",
                                           notice_number=f"TZ-{serial}"))
        case.state = "suspended"
    elif kind == "resume":
        for suspension in case.suspensions:
            if suspension.end_on is None:
                suspension.end_on = max(day, suspension.start_on)
        case.state = "in_review"
    elif kind == "pay":
        case.payments.append(FeePayment(amount_fen=100, place=PaymentPlace.CENTER_BANK,
                                        paid_at=at(day, 540), recorded_by="clerk"))
        case.fee_paid_fen += 100
    elif kind == "deadline":
        case.deadline_on = (case.deadline_on or day) + dt.timedelta(days=2)
    else:  # a change of something no leaf reads
        case.notes += "."


def _agree(session: Session, as_of: dt.date) -> dict[str, Any]:
    built = commit(session, MONTH, as_of)
    leaves = period_leaves(session, MONTH, as_of)
    full = commit_leaves(MONTH, as_of, leaves)
    assert built.body == full.body
    assert built.digests == full.digests
    assert committed_leaves(session, MONTH.label, built.digests) == leaves
    return built.body


@PROPERTY_SETTINGS
@given(data=worlds, plan=steps, first=st.integers(min_value=1, max_value=27))
def test_the_incremental_tree_is_the_full_rebuild(
    world: World, data: tuple[list[Generated], list[dict[str, Any]]],  # noqa: F811
    plan: list[tuple[list[tuple[str, int, int]], int]], first: int,
) -> None:
    cases, complaints = data
    try:
        with world.db.unit_of_work() as session:
            insert(session, world, cases, complaints)
        day = dt.date(2026, 11, first)
        with world.db.unit_of_work() as session:
            _agree(session, day)  # the first build: in full
        serial = 0
        for made, forward in plan:
            for kind, pick, offset in made:
                serial += 1
                with world.db.unit_of_work() as session:
                    _change(session, world, kind, pick, day + dt.timedelta(days=offset),
                            serial)
            day = min(MONTH.end, day + dt.timedelta(days=forward))
            with world.db.unit_of_work() as session:
                _agree(session, day)
                cache = session.get(CommitmentCache, MONTH.label)
                assert cache is not None
                assert cache.as_of == day
    finally:
        with world.db.unit_of_work() as session:
            session.execute(delete(Suspension))
        clear(world.db)


def _committed(setup: World, as_of: dt.date) -> tuple[str, int, str]:
    """October's tree at ``as_of`` kept under a summary; its id, the index of case L-1's
    leaf, and that leaf's state."""
    with setup.db.unit_of_work() as session:
        commitment = commit(session, OCTOBER, as_of)
        keep(session, commitment, "e" * 36, 1)
        leaves = committed_leaves(session, OCTOBER.label, commitment.digests)
    index = next(i for i, leaf in enumerate(leaves) if leaf["case"] == "L-1")
    return "e" * 36, index, leaves[index]["state"]


def _audited(setup: World, summary: str, index: int) -> dict[str, Any]:
    with setup.db.unit_of_work() as session:
        body = answer(session, {"id": "a1", "summary": summary, "seed": "00" * 32,
                                "indexes": [index]})
    item: dict[str, Any] = body["items"][0]
    return item


OCTOBER = MONTH.previous()


@pytest.mark.parametrize("later", ["completed", "forwarded", "resumed", "paid", "rewritten"])
def test_a_later_step_is_not_a_change_of_the_past(world: World, later: str) -> None:  # noqa: F811
    """A case open at the end of October that moves on in November still reads, for
    October, as it stood then; a completion date rewritten into October does not."""
    accepted = dt.date(2026, 10, 20)
    with world.db.unit_of_work() as session:
        session.add(Case(number="L-1", query_code_hash="2" * 64, matter_id=world.entered_matter,
                         department_id=world.department, window_id=None,
                         applicant_name="测试", applicant_consent=False, notes="",
                         channel="window", state="in_review", promised_days=5,
                         received_at=at(accepted, 600), received_on=accepted,
                         accepted_on=accepted, deadline_on=dt.date(2026, 10, 27),
                         fee_due_fen=500))
        if later == "resumed":  # in a special procedure since before its deadline
            session.flush()
            session.add(Suspension(case_id=session.scalars(select(Case.id)).one(),
                                   kind=SuspensionKind.TESTING, start_on=dt.date(2026, 10, 25),
                                   end_on=None, reason="检验", started_by="approver",
                                   notice_number="TZ-L1"))
    summary, index, state = _committed(world, OCTOBER.end)
    overdue = int(later != "resumed")  # a stopped clock: open, not overdue
    assert state == ("overdue" if overdue else "open")
    with world.db.unit_of_work() as session:
        assert open_cases(session, OCTOBER.end) == {"open_at_end": 1, "overdue_open": overdue}
    november = dt.date(2026, 11, 3)
    with world.db.unit_of_work() as session:
        case = session.scalars(select(Case).where(Case.number == "L-1")).one()
        if later == "completed":
            case.completed_on = case.closed_on = november
            case.completed_at = at(november, 700)
            case.state = "completed"
        elif later == "forwarded":
            case.forwarded_on = case.closed_on = november
            case.state = "forwarded"
        elif later == "resumed":  # the special procedure ends in November
            case.suspensions[0].end_on = november
            case.state = "in_review"
        elif later == "paid":
            case.payments.append(FeePayment(amount_fen=500, place=PaymentPlace.CENTER_BANK,
                                            paid_at=at(november, 540), recorded_by="clerk"))
            case.fee_paid_fen = 500
        else:  # the drill's rewrite: completed in October after all
            session.execute(update(Case).where(Case.id == case.id).values(
                completed_on=dt.date(2026, 10, 25), closed_on=dt.date(2026, 10, 25),
                state="completed"))
    item = _audited(world, summary, index)
    if later == "rewritten":
        assert item["current"] != item["leaf"]
        assert item["current"]["completed"] == "2026-10-25"
        return  # written behind the application's back: seen by the audit, not by the cache
    assert item["current"] == item["leaf"]
    with world.db.unit_of_work() as session:  # the figure of October's end alike
        assert open_cases(session, OCTOBER.end) == {"open_at_end": 1, "overdue_open": overdue}
    # and the next build of October (a refresh after the month) agrees with a full rebuild
    with world.db.unit_of_work() as session:
        built = commit(session, OCTOBER, OCTOBER.end)
        assert built.body == commit_leaves(
            OCTOBER, OCTOBER.end, period_leaves(session, OCTOBER, OCTOBER.end)).body


def test_every_version_is_kept_and_a_repeated_tree_is_stored_once(
    world: World,  # noqa: F811
) -> None:
    """Three summaries of October: the second with nothing changed (the same tree), the third
    after a completion.  Each version answers its audits with its own tree; the repeated one
    keeps no second copy of the leaf hashes (docs/verification.md, "What is kept")."""
    day = dt.date(2026, 10, 20)
    with world.db.unit_of_work() as session:
        for n in (1, 2):
            session.add(Case(number=f"K-{n}", query_code_hash="3" * 64,
                             matter_id=world.entered_matter, department_id=world.department,
                             window_id=None, applicant_name="测试", applicant_consent=False,
                             notes="", channel="window", state="in_review", promised_days=5,
                             received_at=at(day, 600), received_on=day, accepted_on=day,
                             deadline_on=dt.date(2026, 10, 27), fee_due_fen=0))
    trees = {}
    for seq, envelope in ((1, "a" * 36), (2, "b" * 36), (3, "c" * 36)):
        if seq == 3:
            with world.db.unit_of_work() as session:
                case = session.scalars(select(Case).where(Case.number == "K-1")).one()
                case.completed_on = case.closed_on = dt.date(2026, 10, 22)
                case.completed_at = at(dt.date(2026, 10, 22), 700)
                case.state = "completed"
        with world.db.unit_of_work() as session:
            commitment = commit(session, OCTOBER, OCTOBER.end)
            keep(session, commitment, envelope, seq)
            trees[envelope] = (commitment.body["root"], commitment.digests)
    assert trees["a" * 36] == trees["b" * 36] != trees["c" * 36]
    with world.db.unit_of_work(write=False) as session:
        stored = {row.envelope_id: row.digests for row in session.scalars(
            select(SummaryCommitment).order_by(SummaryCommitment.seq))}
    assert stored == {"a" * 36: b"".join(trees["a" * 36][1]), "b" * 36: None,
                      "c" * 36: b"".join(trees["c" * 36][1])}
    for envelope, (root, digests) in trees.items():
        with world.db.unit_of_work() as session:
            body = answer(session, {"id": "a1", "summary": envelope, "seed": "00" * 32,
                                    "indexes": [0, 1]})
        assert (body["summary"], body["root"], body["size"]) == (envelope, root, 2)
        levels = tree_levels(digests)
        for item in body["items"]:
            assert leaf_hash(leaf_bytes(item["leaf"])) == digests[item["index"]]
            assert item["proof"] == [step.hex() for step in
                                     inclusion_proof(levels, item["index"])]
