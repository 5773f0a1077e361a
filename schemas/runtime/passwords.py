"""Passwords and bearer tokens of staff accounts, shared by the node and the hub.

Passwords are hashed with Argon2id (memory-hard; the library's defaults follow RFC 9106's
second recommendation).  A bearer token is random; only its SHA-256 is stored, so a database
leak reveals no token.

A new password must be long enough, mix letters with digits or symbols, and not be one of
the most common passwords: the 30,000 of zxcvbn's list (gathered from leaked password sets;
the maintained library every strength meter uses) and the ones common among Chinese users
that it lacks (``common_passwords_zh.txt``, bundled here), compared without regard to case.
The reasons are Chinese: the admin pages show them at the password field.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from pathlib import Path

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


COMMON_PASSWORD = "这是最常用的密码之一，很容易被猜中，请换一个"  # noqa: S105 - a message


@functools.cache
def common_passwords() -> frozenset[str]:
    """The most common passwords, lower-case (loaded on first use: about 0.1 s)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    bundled = (Path(__file__).with_name("common_passwords_zh.txt")
               .read_text(encoding="utf-8").splitlines())
    chinese = {line.strip().lower() for line in bundled
               if line.strip() and not line.startswith("#")}
    return frozenset(word.lower() for word in FREQUENCY_LISTS["passwords"]) | chinese


def check_password_strength(password: str) -> list[str]:
    """What is wrong with a new password (empty when it is acceptable), in Chinese."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"至少 {MIN_PASSWORD_LENGTH} 个字符")
    if password.isdigit() or password.isalpha():
        problems.append("须同时含有字母和数字或符号")
    if password.strip().lower() in common_passwords():
        problems.append(COMMON_PASSWORD)
    return problems


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
