"""RFC 9162 trees (schemas/merkle.py) and the outsider's check (tests/outside/rfc9162_check.py).

The level-by-level build equals the RFC's recursive definition (§2.1.1) for every size up
to 70; every audit path (§2.1.3.1) verifies and a changed leaf, index, size, step or root
does not; and a verifier written from the RFCs alone, importing nothing of tongban, checks
tongban's signed summary and audit.response envelopes in a separate interpreter.
"""

from __future__ import annotations

import ast
import datetime as dt
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from schemas.commitment import leaf_bytes, sample_indexes, sort_key, tallies
from schemas.envelope import HUB, Kind, sign_envelope
from schemas.keys import generate_private_key, public_key_b64
from schemas.merkle import (
    EMPTY_ROOT,
    ProofError,
    inclusion_proof,
    leaf_hash,
    tree_levels,
    tree_root,
    verify_inclusion,
)
from schemas.messages import validate_body
from tests.unit.schemas.test_messages import summary_body

OUTSIDE = Path(__file__).parents[2] / "outside" / "rfc9162_check.py"


def mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1, recursively, as the RFC writes it."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def data(n: int) -> list[bytes]:
    return [f"leaf {i}".encode() for i in range(n)]


@pytest.mark.parametrize("n", range(71))
def test_the_tree_is_the_rfcs(n: int) -> None:
    assert tree_root([leaf_hash(d) for d in data(n)]) == mth(data(n))


def test_the_empty_tree() -> None:
    assert tree_root([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 40])
def test_every_proof_verifies_and_nothing_else_does(n: int) -> None:
    hashes = [leaf_hash(d) for d in data(n)]
    levels = tree_levels(hashes)
    root = levels[-1][0]
    for index in range(n):
        proof = inclusion_proof(levels, index)
        verify_inclusion(index, n, hashes[index], proof, root)
        with pytest.raises(ProofError):
            verify_inclusion(index, n, leaf_hash(b"forged"), proof, root)
        with pytest.raises(ProofError):
            verify_inclusion(index, index, hashes[index], proof, root)  # outside the tree
        if n > 1:
            with pytest.raises(ProofError):
                verify_inclusion((index + 1) % n, n, hashes[index], proof, root)
            with pytest.raises(ProofError):
                verify_inclusion(index, n, hashes[index], proof[:-1], root)
            broken = [bytes(32), *proof[1:]]
            with pytest.raises(ProofError):
                verify_inclusion(index, n, hashes[index], broken, root)
        with pytest.raises(ProofError):
            verify_inclusion(index, n, hashes[index], proof, bytes(32))
    with pytest.raises(IndexError):
        inclusion_proof(levels, n)


# -- the outsider ---------------------------------------------------------------------------


def leaf(number: str, state: str, **facts: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "v": 1, "case": number, "matter": "11450981MB0001", "channel": "window",
        "from_below": False, "received": "2026-11-02", "accepted": "2026-11-02",
        "deadline": "2026-11-09", "completed": None, "closed": None, "forwarded": None,
        "on_time": None, "same_day": None, "state": state, "fee_fen": 0,
        "salt": hashlib.sha256(number.encode()).hexdigest()[:32],
    }
    return base | facts


LEAVES = sorted([
    leaf("450981-2026-0000001", "completed", completed="2026-11-05", closed="2026-11-05",
         on_time=True, same_day=False, fee_fen=5000),
    leaf("450981-2026-0000002", "open"),
    leaf("450981-2026-0000003", "completed", completed="2026-11-02", closed="2026-11-02",
         on_time=True, same_day=True, channel="online"),
    leaf("450981-2026-0000004", "received", accepted=None, deadline=None),
    leaf("450981-2026-0000005", "overdue", deadline="2026-11-20"),
], key=sort_key)


SEED = "12" * 32  # draws the leaves 4, 2 and 0


def envelopes(tmp_path: Path) -> tuple[Path, Path, str]:
    key = generate_private_key()
    hashes = [leaf_hash(leaf_bytes(x)) for x in LEAVES]
    levels = tree_levels(hashes)
    counts, by_state = tallies(LEAVES, dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    commitment = {"size": len(LEAVES), "root": levels[-1][0].hex(), "as_of": "2026-11-30",
                  "tallies": counts, "by_state": by_state}
    summary = sign_envelope(kind=Kind.SUMMARY, sender="450981", to=HUB, seq=7,
                            body=summary_body() | {"commitment": commitment},
                            private_key=key)
    body = {
        "audit": "0b6f4c1e-3c1b-4d7a-9a55-0c9f6a9d1e11", "summary": summary.id,
        "seed": SEED, "size": len(LEAVES), "root": commitment["root"],
        "as_of": "2026-11-30",
        "items": [{"index": i, "leaf": LEAVES[i],
                   "proof": [p.hex() for p in inclusion_proof(levels, i)],
                   "current": LEAVES[i]} for i in sample_indexes(SEED, len(LEAVES), 3)],
    }
    validate_body(Kind.AUDIT_RESPONSE, body)
    response = sign_envelope(kind=Kind.AUDIT_RESPONSE, sender="450981", to=HUB, seq=8,
                             body=body, private_key=key)
    (tmp_path / "summary.json").write_text(json.dumps(summary.to_wire(), ensure_ascii=False))
    (tmp_path / "response.json").write_text(json.dumps(response.to_wire(), ensure_ascii=False))
    return tmp_path / "summary.json", tmp_path / "response.json", public_key_b64(
        key.public_key())


def run_outside(*args: Any) -> subprocess.CompletedProcess[str]:
    # -I: isolated (no PYTHONPATH, no current directory on the path), from an empty folder
    return subprocess.run([sys.executable, "-I", str(OUTSIDE), *map(str, args)],
                          capture_output=True, text=True, timeout=60, check=False,
                          cwd=OUTSIDE.parent.parent.parent / "docs")


def test_the_outside_check_imports_nothing_of_tongban() -> None:
    tree = ast.parse(OUTSIDE.read_text(encoding="utf-8"))
    imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"base64", "hashlib", "json", "sys", "rfc8785", "cryptography"}


def test_an_outsider_verifies_tongbans_proofs(tmp_path: Path) -> None:
    summary, response, public_key = envelopes(tmp_path)
    done = run_outside(summary, response, public_key)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("ok    leaf") == 3
    assert "ok    signature of the audit.response" in done.stdout


def test_the_outsider_refuses_a_changed_leaf(tmp_path: Path) -> None:
    summary, response, _ = envelopes(tmp_path)
    wire = json.loads(response.read_text())
    wire["body"]["items"][1]["leaf"]["completed"] = "2026-11-03"
    response.write_text(json.dumps(wire))
    done = run_outside(summary, response)
    assert done.returncode == 1
    assert "FAIL  leaf 2" in done.stdout
    assert "ok    leaf 0" in done.stdout
