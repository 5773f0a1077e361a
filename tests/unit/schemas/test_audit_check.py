"""Each finding of an audit answer, caught by the hub's check (schemas/audit_check.py) and by
the outsider's (tests/outside/rfc9162_check.py, in an isolated interpreter) from the same
signed envelopes: a leaf whose flags or state its own dates deny, a date after ``as_of``, a
leaf outside its state's run, a case changed or gone since the summary, a sample not drawn
from the seed, a seed not drawn from the audit request and the hub's log head.

The dressed-up leaves here are committed honestly into the tree and the tallies (the node
lies in its leaves and its figures alike), so only the sampled leaf's own facts give it away.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import rfc8785

from schemas.audit_check import findings
from schemas.commitment import audit_seed, leaf_bytes, sample_indexes, sort_key, tallies
from schemas.envelope import HUB, Kind, sign_envelope
from schemas.keys import generate_private_key, public_key_b64
from schemas.merkle import inclusion_proof, leaf_hash, tree_levels
from schemas.messages import validate_body
from tests.unit.schemas.test_merkle import LEAVES, leaf, run_outside
from tests.unit.schemas.test_messages import summary_body

AS_OF = "2026-11-30"
LATE = "450981-2026-0000009"


def audit_record(sample_size: int) -> dict[str, Any]:
    """The hub's record of an audit (GET /api/v1/audits/<id>), as far as the outsider reads
    it: the request, its digest, the log head and the seed drawn from them."""
    request = {"audit": "0b6f4c1e-3c1b-4d7a-9a55-0c9f6a9d1e11", "node": "450981",
               "period": "2026-11", "sample_size": sample_size, "requested_by": "node:450900"}
    digest = hashlib.sha256(rfc8785.dumps(request)).hexdigest()
    head = hashlib.sha256(b"the newest envelope in the hub's log").hexdigest()
    return {"id": request["audit"], "request": request, "request_digest": digest,
            "log_head": head, "seed": audit_seed(digest, head), "sample_size": sample_size}


Forgery = Callable[[list[dict[str, Any]]], None]


def signed(tmp_path: Path, leaves: list[dict[str, Any]], forge: Forgery | None = None,
           audit: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any],
                                                         list[int], str]:
    """The summary committing to ``leaves`` (in the order given) and the node's answer to an
    audit of every leaf, ``forge(items)`` applied to the answer's items before signing;
    written as JSON files for the outsider.  The commitment, the answer, the drawn indexes,
    the node's public key."""
    key = generate_private_key()
    levels = tree_levels([leaf_hash(leaf_bytes(x)) for x in leaves])
    counts, by_state = tallies(leaves, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    commitment = {"size": len(leaves), "root": levels[-1][0].hex(), "as_of": AS_OF,
                  "tallies": counts, "by_state": by_state}
    summary = sign_envelope(kind=Kind.SUMMARY, sender="450981", to=HUB, seq=7,
                            body=summary_body() | {"commitment": commitment}, private_key=key)
    audit = audit or audit_record(len(leaves))
    indexes = sample_indexes(audit["seed"], len(leaves), audit["sample_size"])
    items = [{"index": i, "leaf": leaves[i],
              "proof": [p.hex() for p in inclusion_proof(levels, i)],
              "current": dict(leaves[i])} for i in indexes]
    if forge is not None:
        forge(items)
    body = {"audit": audit["id"], "summary": summary.id, "seed": audit["seed"],
            "size": len(leaves), "root": commitment["root"], "as_of": AS_OF, "items": items}
    validate_body(Kind.AUDIT_RESPONSE, body)
    response = sign_envelope(kind=Kind.AUDIT_RESPONSE, sender="450981", to=HUB, seq=8,
                             body=body, private_key=key)
    (tmp_path / "summary.json").write_text(json.dumps(summary.to_wire(), ensure_ascii=False))
    (tmp_path / "response.json").write_text(json.dumps(response.to_wire(), ensure_ascii=False))
    (tmp_path / "audit.json").write_text(json.dumps(audit, ensure_ascii=False))
    return commitment, body, indexes, public_key_b64(key.public_key())


def outsider(tmp_path: Path, public_key: str) -> tuple[int, list[str]]:
    done = run_outside(tmp_path / "summary.json", tmp_path / "response.json", public_key,
                       "--audit", tmp_path / "audit.json")
    assert done.stderr == ""
    return done.returncode, [line for line in done.stdout.splitlines()
                             if line.startswith("FAIL")]


def test_an_honest_answer_passes_both_checks(tmp_path: Path) -> None:
    commitment, body, indexes, key = signed(tmp_path, LEAVES)
    assert findings(commitment, body, indexes, body["seed"]) == []
    code, failed = outsider(tmp_path, key)
    assert (code, failed) == (0, [])


def dressed(**facts: Any) -> list[dict[str, Any]]:
    """LEAVES with one more completed case, ``facts`` changed, in tree order."""
    late = leaf(LATE, "completed", completed="2026-11-12", closed="2026-11-12",
                on_time=False, same_day=False) | facts
    return sorted([*LEAVES, late], key=sort_key)


@pytest.mark.parametrize(("facts", "problem"), [
    ({"on_time": True}, "on_time is True, the dates say False"),  # 12 Nov after the 9th
    ({"same_day": True}, "same_day is True, the dates say False"),
    ({"state": "rejected"}, "state is rejected, the dates say completed"),
    ({"closed": "2026-12-02"}, "closed 2026-12-02 lies after 2026-11-30"),
    ({"forwarded": "2026-12-02", "state": "forwarded"},
     "forwarded 2026-12-02 lies after 2026-11-30"),
])
def test_a_leaf_its_own_dates_deny_is_caught(
    tmp_path: Path, facts: dict[str, Any], problem: str
) -> None:
    leaves = dressed(**facts)
    commitment, body, indexes, key = signed(tmp_path, leaves)
    (found,) = findings(commitment, body, indexes, body["seed"])
    assert (found["reason"], found["case"]) == ("bad_flags", LATE)
    assert problem in found["problems"]
    code, failed = outsider(tmp_path, key)
    index = next(i for i, x in enumerate(leaves) if x["case"] == LATE)
    assert (code, failed) == (1, [f"FAIL  flags of leaf {index} ({LATE})"])


def test_a_leaf_outside_its_states_run_is_caught(tmp_path: Path) -> None:
    """An open case committed among the completed ones (the runs' lengths are still right:
    another leaf takes its place in the open run)."""
    leaves = sorted(LEAVES, key=sort_key)
    first_open = next(i for i, x in enumerate(leaves) if x["state"] == "open")
    first_done = next(i for i, x in enumerate(leaves) if x["state"] == "completed")
    leaves[first_open], leaves[first_done] = leaves[first_done], leaves[first_open]
    commitment, body, indexes, key = signed(tmp_path, leaves)
    found = findings(commitment, body, indexes, body["seed"])
    assert sorted((f["reason"], f["index"]) for f in found) == [
        ("out_of_run", first_open), ("out_of_run", first_done)]
    code, failed = outsider(tmp_path, key)
    assert code == 1
    assert sorted(failed) == sorted(
        f"FAIL  run of leaf {i} ({leaves[i]['case']})" for i in (first_open, first_done))


def changed(items: list[dict[str, Any]]) -> None:
    items[0]["current"] = items[0]["current"] | {"completed": "2026-11-04"}


def gone(items: list[dict[str, Any]]) -> None:
    items[1]["current"] = None


def test_a_case_changed_or_gone_since_the_summary_is_caught(tmp_path: Path) -> None:
    def both(items: list[dict[str, Any]]) -> None:
        changed(items)
        gone(items)

    commitment, body, indexes, key = signed(tmp_path, LEAVES, both)
    found = findings(commitment, body, indexes, body["seed"])
    items = body["items"]
    assert [(f["reason"], f["index"]) for f in found] == [
        ("case_changed", items[0]["index"]), ("case_missing", items[1]["index"])]
    assert found[0]["fields"] == ["completed"]
    code, failed = outsider(tmp_path, key)
    assert code == 1
    assert failed == [f"FAIL  case of leaf {item['index']} ({item['leaf']['case']}) held "
                      "unchanged" for item in items[:2]]


def test_a_sample_the_node_chose_is_caught(tmp_path: Path) -> None:
    """The node answers three leaves of its choosing for an audit of three."""
    audit = audit_record(3)

    def chosen(items: list[dict[str, Any]]) -> None:
        drawn = [item["index"] for item in items]
        spare = next(i for i in range(len(LEAVES)) if i not in drawn)
        items[0] |= {"index": spare, "leaf": LEAVES[spare],
                     "proof": [p.hex() for p in inclusion_proof(
                         tree_levels([leaf_hash(leaf_bytes(x)) for x in LEAVES]), spare)],
                     "current": LEAVES[spare]}

    commitment, body, indexes, key = signed(tmp_path, LEAVES, chosen, audit)
    assert [f["reason"] for f in findings(commitment, body, indexes, body["seed"])] == [
        "wrong_sample"]
    code, failed = outsider(tmp_path, key)
    assert (code, failed) == (1, ["FAIL  the sample is drawn from the seed"])


def test_a_seed_not_drawn_from_the_request_and_the_log_head_is_caught(tmp_path: Path) -> None:
    """An answer whose seed (and sample) the node picked: consistent in itself, but not the
    seed of the audit the hub opened."""
    audit = audit_record(len(LEAVES))
    picked = audit | {"seed": hashlib.sha256(b"a seed the node likes").hexdigest()}
    commitment, body, _indexes, key = signed(tmp_path, LEAVES, None, picked)
    (tmp_path / "audit.json").write_text(json.dumps(audit))  # the hub's record
    drawn = sample_indexes(audit["seed"], len(LEAVES), len(LEAVES))
    assert [f["reason"] for f in findings(commitment, body, drawn, audit["seed"])] == [
        "wrong_tree"]  # the hub draws from its own seed
    code, failed = outsider(tmp_path, key)
    assert (code, failed) == (1, ["FAIL  the seed is the request's and the hub's log head's"])


def test_fewer_leaves_than_asked_is_caught_by_the_outsider(tmp_path: Path) -> None:
    audit = audit_record(len(LEAVES))

    def fewer(items: list[dict[str, Any]]) -> None:
        del items[-1]

    commitment, body, indexes, key = signed(tmp_path, LEAVES, fewer, audit)
    assert [f["reason"] for f in findings(commitment, body, indexes, body["seed"])] == [
        "wrong_sample"]
    code, failed = outsider(tmp_path, key)
    assert (code, failed) == (1, ["FAIL  as many leaves as the audit asked for"])
