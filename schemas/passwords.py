"""Passwords and bearer tokens of staff accounts, shared by the node and the hub.

Passwords are hashed with Argon2id (memory-hard; the library's defaults follow RFC 9106's
second recommendation).  A bearer token is random; only its SHA-256 is stored, so a database
leak reveals no token.
"""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 10


@functools.cache
def dummy_hash() -> str:
    """A hash verified against when the account does not exist, so that a miss costs as much
    as a hit; made on first use (not at import: every ``tongban`` command would pay for it)."""
    return _hasher.hash("tongban-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches; a malformed hash is a mismatch, never an error."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def check_password_strength(password: str) -> list[str]:
    """What is wrong with a new password (empty when it is acceptable)."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if password.isdigit() or password.isalpha():
        problems.append("mix letters with digits or symbols")
    return problems


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
