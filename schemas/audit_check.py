"""Checking a node's answer to a sampled audit from the envelopes alone (docs/verification.md).

Given the signed summary's ``commitment`` and the ``audit.response`` body, :func:`findings`
lists every problem: the answer names another tree or another sample, an inclusion proof that
does not lead to the signed root (RFC 9162 §2.1.3.2), a leaf outside its state's run, a leaf
whose flags or state disagree with its own dates and deadline, a case the node no longer holds
or whose record now gives another leaf.  No findings: the audit passed.  The hub runs it on
every answer; anyone holding the two envelopes can run it again (or tests/outside's check).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from schemas.commitment import flag_problems, leaf_digest, state_of_index
from schemas.merkle import ProofError, verify_inclusion

# reasons, each one a finding's ``reason``
WRONG_TREE = "wrong_tree"  # the answer's size or root is not the signed summary's
WRONG_SAMPLE = "wrong_sample"  # indexes other than those drawn from the seed
BAD_PROOF = "bad_proof"  # the leaf's inclusion proof fails against the signed root
OUT_OF_RUN = "out_of_run"  # the leaf's state is not that of the run its index lies in
BAD_FLAGS = "bad_flags"  # flags or state disagree with the leaf's dates and deadline
CASE_MISSING = "case_missing"  # the node no longer holds the case (or no longer counts it)
CASE_CHANGED = "case_changed"  # the case's record now gives another leaf


def findings(
    commitment: Mapping[str, Any], answer: Mapping[str, Any], indexes: Sequence[int],
    seed: str,
) -> list[dict[str, Any]]:
    """Every problem with ``answer`` to the audit that drew ``indexes`` from ``seed``."""
    found: list[dict[str, Any]] = []
    size, root = int(commitment["size"]), str(commitment["root"])
    if answer.get("size") != size or answer.get("root") != root or answer.get("seed") != seed:
        found.append({"reason": WRONG_TREE, "size": answer.get("size"), "root": answer.get(
            "root"), "expected_size": size, "expected_root": root})
    items = list(answer.get("items") or [])
    answered = [item["index"] for item in items]
    if sorted(answered) != sorted(indexes) or len(set(answered)) != len(answered):
        found.append({"reason": WRONG_SAMPLE, "answered": answered, "drawn": list(indexes)})
    as_of = str(commitment["as_of"])
    by_state = commitment["by_state"]
    root_bytes = bytes.fromhex(root)
    for item in items:
        index, leaf = int(item["index"]), item["leaf"]
        where = {"index": index, "case": leaf["case"]}
        try:
            verify_inclusion(index, size, leaf_digest(leaf),
                             [bytes.fromhex(step) for step in item["proof"]], root_bytes)
        except ProofError as exc:
            found.append(where | {"reason": BAD_PROOF, "problem": str(exc)})
        run = state_of_index(by_state, index)
        if run != leaf["state"]:
            found.append(where | {"reason": OUT_OF_RUN, "state": leaf["state"], "run": run})
        problems = flag_problems(leaf, as_of)
        if problems:
            found.append(where | {"reason": BAD_FLAGS, "problems": problems})
        current = item.get("current")
        if current is None:
            found.append(where | {"reason": CASE_MISSING})
        elif current != leaf:
            changed = sorted(k for k in set(leaf) | set(current)
                             if leaf.get(k) != current.get(k))
            found.append(where | {"reason": CASE_CHANGED, "fields": changed,
                                  "committed": {k: leaf.get(k) for k in changed},
                                  "now": {k: current.get(k) for k in changed}})
    return found
