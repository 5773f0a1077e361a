"""The password rule shared by node and hub staff (schemas/runtime/passwords.py): long
enough, mixed, and not one of the most common passwords — with the reasons in Chinese."""

from __future__ import annotations

import pytest

from schemas.runtime.passwords import COMMON_PASSWORD, check_password_strength, common_passwords


@pytest.mark.parametrize("password", [
    "password123", "Password123", "PASSWORD123",  # zxcvbn's list, whatever the case
    "1qaz2wsx3edc", "qwerty12345", "a123456789",
    "woaini1314", "WoAiNi1314", "5201314520", "zhang123456", "abc12345678",  # the bundled list
])
def test_the_most_common_passwords_are_refused_in_chinese(password: str) -> None:
    assert COMMON_PASSWORD in check_password_strength(password)
    assert "常用的密码" in COMMON_PASSWORD


@pytest.mark.parametrize("password", ["correct-horse-9", "browser-pass-9", "窗口办件-2026-a",
                                      "federation-pass-9"])
def test_an_uncommon_mixed_long_password_passes(password: str) -> None:
    assert check_password_strength(password) == []


def test_short_and_unmixed_passwords_are_told_why_in_chinese() -> None:
    assert check_password_strength("abc") == ["至少 10 个字符", "须同时含有字母和数字或符号"]


def test_the_list_holds_both_sources() -> None:
    common = common_passwords()
    assert len(common) > 30_000
    assert {"123456", "password", "dragon", "woaini1314", "5201314"} <= common


def test_production_hashes_are_argon2id_at_rfc_9106s_second_recommendation() -> None:
    """The suite hashes with cheap parameters (tests/conftest.py); production keeps the
    library's defaults: Argon2id, 64 MiB, 3 passes, 4 lanes."""
    from argon2 import PasswordHasher

    from schemas.runtime import passwords
    from tests.conftest import PRODUCTION_HASHER

    assert passwords._hasher is not PRODUCTION_HASHER  # what the rest of the suite runs
    stored = PRODUCTION_HASHER.hash("correct-horse-9")
    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert PRODUCTION_HASHER.verify(stored, "correct-horse-9")
    assert not PRODUCTION_HASHER.check_needs_rehash(stored)
    default = PasswordHasher()
    assert (default.time_cost, default.memory_cost, default.parallelism) == (3, 65536, 4)
    # a hash made in the tests is upgraded at the next login in production
    assert PRODUCTION_HASHER.check_needs_rehash(passwords.hash_password("correct-horse-9"))
