"""docs/verification.md's worked example and detection table are what the code computes:
every leaf's bytes, every hash, the root, both proofs, the tallies and the probabilities."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from schemas.commitment import detection_probability, leaf_bytes, sort_key, tallies
from schemas.merkle import inclusion_proof, leaf_hash, tree_levels, verify_inclusion

DOC = (Path(__file__).parents[3] / "docs" / "verification.md").read_text(encoding="utf-8")


def leaf(number: str, state: str, **facts: Any) -> dict[str, Any]:
    return {
        "v": 1, "case": number, "matter": "11450981MB0001", "channel": "window",
        "from_below": False, "received": "2026-11-02", "accepted": "2026-11-02",
        "deadline": "2026-11-09", "completed": None, "closed": None, "forwarded": None,
        "on_time": None, "same_day": None, "state": state, "fee_fen": 0,
        "salt": hashlib.sha256(f"salt of {number}".encode()).hexdigest()[:32],
    } | facts


LEAVES = sorted([
    leaf("450981-2026-0000001", "completed", completed="2026-11-05", closed="2026-11-05",
         on_time=True, same_day=False, fee_fen=5000),
    leaf("450981-2026-0000002", "open"),
    leaf("450981-2026-0000003", "completed", channel="online", completed="2026-11-02",
         closed="2026-11-02", on_time=True, same_day=True),
], key=sort_key)


def test_the_worked_example_is_what_the_code_computes() -> None:
    hashes = []
    for index, one in enumerate(LEAVES):
        data = leaf_bytes(one)
        assert f"leaf {index} ({len(data)} bytes): {data.decode()}\n" in DOC
        hashes.append(leaf_hash(data))
        assert f"h{index} = {hashes[-1].hex()}" in DOC
    levels = tree_levels(hashes)
    assert f"= {levels[1][0].hex()}\n" in DOC  # h01
    root = levels[-1][0]
    assert f"root = SHA-256(0x01 || h01 || h2) = {root.hex()}" in DOC
    assert inclusion_proof(levels, 0) == [hashes[1], hashes[2]]
    assert inclusion_proof(levels, 2) == [levels[1][0]]
    verify_inclusion(0, 3, hashes[0], [hashes[1], hashes[2]], root)
    counts, by_state = tallies(LEAVES, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    shown = {"received": 3, "received_window": 2, "received_online": 1, "accepted": 3,
             "completed": 2, "completed_on_time": 2, "completed_same_day": 1,
             "open_at_end": 1, "fees_center_fen": 5000}
    assert {k: v for k, v in counts.items() if v} == shown
    assert {k: v for k, v in by_state.items() if v} == {"open": 1, "completed": 2}


def test_the_detection_table_is_what_the_code_computes() -> None:
    for share, label in ((10, "0.1 %"), (100, "1 %"), (500, "5 %"), (1000, "10 %")):
        row = " | ".join(f"{detection_probability(n, 30, share) / 100:.2f} %"
                         for n in (1000, 7000, 100_000))
        assert f"| {label} | {row} |" in DOC
