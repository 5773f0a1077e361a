"""The query code (查询码) an applicant looks a case up with: 8 characters given once, stored
only as a slow, salted hash.  Plain Python (no Flask).

The hash is Argon2id with light parameters (one pass over 8 MiB: a few milliseconds per
lookup, which the public rate limit caps anyway) over ``"<case number>:<code>"``, so that a
copy of the database does not give the codes away: the 31^8 (about 8.5 × 10^11) codes of
one case no longer fall to a SHA-256 search in minutes.

Cases created before (node migration 0012) keep their SHA-256 digest: it is still accepted,
and replaced by the Argon2id hash the first time the applicant looks the case up with the
right code.  A case received from a lower center has no code here (the applicant asks the
origin); it stores :data:`NO_CODE`, which nothing matches.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1, hash_len=16,
                         salt_len=16, type=Type.ID)
_LEGACY = re.compile(r"\A[0-9a-f]{64}\Z")  # SHA-256 hex, before migration 0012
# verified against when there is nothing to verify, so that a miss costs as much as a hit
_DUMMY = _hasher.hash("tongban-query-code-timing-equaliser")
NO_CODE = "!no query code at this node"
QUERY_CODE_HASH_MAX = 128


def _material(case_number: str, code: str) -> str:
    return f"{case_number}:{code.strip().upper()}"


def hash_query_code(case_number: str, code: str) -> str:
    """The stored form of a new case's query code (Argon2id, a fresh salt)."""
    return _hasher.hash(_material(case_number, code))


def legacy_digest(case_number: str, code: str) -> str:
    """The SHA-256 form stored before migration 0012 (still accepted until replaced)."""
    return hashlib.sha256(_material(case_number, code).encode()).hexdigest()


def verify_query_code(stored: str | None, case_number: str, code: str) -> bool:
    """Whether ``code`` is the query code hashed in ``stored``.  The same Argon2id work is
    done whatever ``stored`` is (a missing case, an old digest, a case with no code)."""
    material = _material(case_number, code)
    if stored is not None and stored.startswith("$argon2id$"):
        try:
            return _hasher.verify(stored, material)
        except (VerificationError, InvalidHashError):
            return False
    with contextlib.suppress(VerificationError, InvalidHashError):
        _hasher.verify(_DUMMY, material)
    if stored is not None and _LEGACY.match(stored):
        return hmac.compare_digest(legacy_digest(case_number, code), stored)
    return False


def needs_rehash(stored: str) -> bool:
    """An old SHA-256 digest (or Argon2id with other parameters): hash it anew once the code
    is known to be right."""
    if not stored.startswith("$argon2id$"):
        return bool(_LEGACY.match(stored))
    return _hasher.check_needs_rehash(stored)


__all__ = ["NO_CODE", "hash_query_code", "legacy_digest", "needs_rehash", "verify_query_code"]
