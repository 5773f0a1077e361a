"""Merkle trees of RFC 9162 (Certificate Transparency v2) §2.1, over SHA-256.

A leaf's hash is ``SHA-256(0x00 || leaf)``, an interior node's ``SHA-256(0x01 || left ||
right)``; the tree of ``n > 1`` leaves splits at ``k``, the largest power of two below ``n``
(§2.1.1).  The root of the empty tree is ``SHA-256()``.  Building level by level (pairing
neighbours, carrying an odd last node up unchanged) gives the same tree as the RFC's recursive
split, in one pass of ``n - 1`` hashes; :func:`inclusion_proof` reads the audit path (§2.1.3.1)
off those levels and :func:`verify_inclusion` is the RFC's verification algorithm (§2.1.3.2).

docs/verification.md works a three-leaf tree byte for byte; tests/unit/schemas/
test_merkle_outside.py checks the proofs with a verifier written from the RFC alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """An inclusion proof that does not lead to the root it is checked against."""


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def tree_levels(leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaves first, the root's one-element level last."""
    if not leaf_hashes:
        return [[]]
    levels = [list(leaf_hashes)]
    sha256 = hashlib.sha256
    while len(levels[-1]) > 1:
        below = levels[-1]
        pairs = len(below) - 1
        above = [sha256(NODE_PREFIX + below[i] + below[i + 1]).digest()
                 for i in range(0, pairs, 2)]
        if len(below) % 2:
            above.append(below[-1])  # the odd last node goes up unchanged
        levels.append(above)
    return levels


def root_of_levels(levels: Sequence[Sequence[bytes]]) -> bytes:
    return levels[-1][0] if levels[-1] else EMPTY_ROOT


def tree_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash (MTH) of the leaves whose hashes are given."""
    return root_of_levels(tree_levels(leaf_hashes))


def inclusion_proof(levels: Sequence[Sequence[bytes]], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` (§2.1.3.1), from the leaf's sibling up."""
    size = len(levels[0])
    if not 0 <= index < size:
        raise IndexError(f"leaf {index} is outside a tree of {size}")
    path = []
    position = index
    for level in levels[:-1]:
        sibling = position ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        position //= 2
    return path


def verify_inclusion(
    index: int, size: int, leaf_digest: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise :class:`ProofError` unless ``proof`` takes the leaf hash
    ``leaf_digest`` at ``index`` of a tree of ``size`` leaves to ``root``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is outside a tree of {size}")
    fn, sn = index, size - 1
    r = leaf_digest
    for p in proof:
        if sn == 0:
            raise ProofError("the proof is longer than the path to the root")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the proof is shorter than the path to the root")
    if r != root:
        raise ProofError("the proof leads to another root")
