"""The login throttle shared by node and hub (schemas/runtime/throttle.py), on both databases,
with a settable clock: growing delays per address and account, never a lock for everyone."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from hub.staff.models import LoginAttempt as HubLoginAttempt
from node.auth.models import LoginAttempt
from node.metadata import load_all_models
from node.models import Base
from schemas.errors import TooManyAttempts
from schemas.runtime.database import Database
from schemas.runtime.throttle import LoginThrottle, ThrottlePolicy

START = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)
OFFICE, HOME, STRANGER = "10.1.1.10", "10.2.2.20", "203.0.113.9"


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    load_all_models()
    database = Database(database_url)
    Base.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def fail(db: Database, clock: Clock, username: str, address: str, times: int = 1,
         step: float = 1) -> None:
    for _ in range(times):
        with db.unit_of_work() as session:
            throttle = LoginThrottle(session, LoginAttempt, clock=clock)
            throttle.check(username, address)
            throttle.record(username, address, succeeded=False)
        clock.advance(step)


def succeed(db: Database, clock: Clock, username: str, address: str) -> None:
    with db.unit_of_work() as session:
        throttle = LoginThrottle(session, LoginAttempt, clock=clock)
        throttle.check(username, address)
        throttle.record(username, address, succeeded=True)
    clock.advance(1)


def wait(db: Database, clock: Clock, username: str, address: str) -> int:
    with db.unit_of_work(write=False) as session:
        return LoginThrottle(session, LoginAttempt, clock=clock).wait(username, address)


def test_delays_start_after_the_free_failures_and_double(db: Database, clock: Clock) -> None:
    fail(db, clock, "clerk1", STRANGER, times=4)
    assert wait(db, clock, "clerk1", STRANGER) == 0
    fail(db, clock, "clerk1", STRANGER, step=0)  # the fifth
    assert wait(db, clock, "clerk1", STRANGER) == 30
    seen = []
    for _ in range(7):
        delay = wait(db, clock, "clerk1", STRANGER)
        seen.append(delay)
        clock.advance(delay)
        fail(db, clock, "clerk1", STRANGER, step=0)
    assert seen == [30, 60, 120, 240, 480, 900, 900]  # doubling up to 15 minutes


def test_a_waiting_attempt_is_refused_and_not_recorded(db: Database, clock: Clock) -> None:
    fail(db, clock, "clerk1", STRANGER, times=5, step=0)
    for _ in range(3):
        with db.unit_of_work() as session, pytest.raises(TooManyAttempts) as refused:
            LoginThrottle(session, LoginAttempt, clock=clock).check("clerk1", STRANGER)
        assert refused.value.retry_after_seconds == 30
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 5


def test_strangers_never_keep_the_owner_out_of_their_usual_place(
        db: Database, clock: Clock) -> None:
    succeed(db, clock, "clerk1", OFFICE)
    # forty strangers, three guesses each: every one of them, and the account from any new
    # place, has to wait; the office does not
    for number in range(40):
        with contextlib.suppress(TooManyAttempts):
            fail(db, clock, "clerk1", f"198.51.100.{number}", times=3)
    assert wait(db, clock, "clerk1", "198.51.100.200") > 0  # a new stranger waits
    assert wait(db, clock, "clerk1", OFFICE) == 0
    succeed(db, clock, "clerk1", OFFICE)
    # the owner's own mistakes at the office count there (one place, one account)
    fail(db, clock, "clerk1", OFFICE, times=5, step=0)
    assert wait(db, clock, "clerk1", OFFICE) == 30
    assert wait(db, clock, "clerk2", OFFICE) == 0  # nobody else at the office waits


def test_one_address_trying_many_accounts_waits_for_any_account(
        db: Database, clock: Clock) -> None:
    for number in range(20):
        fail(db, clock, f"user{number}", STRANGER)
    assert wait(db, clock, "somebody-new", STRANGER) == 29  # 30 s from the last, 1 s ago
    assert wait(db, clock, "somebody-new", HOME) == 0


def test_a_success_at_an_address_starts_its_count_again(db: Database, clock: Clock) -> None:
    fail(db, clock, "clerk1", HOME, times=4)
    succeed(db, clock, "clerk1", HOME)
    fail(db, clock, "clerk1", HOME, times=4)
    assert wait(db, clock, "clerk1", HOME) == 0


def test_unknown_and_known_usernames_are_counted_alike(db: Database, clock: Clock) -> None:
    """The throttle never looks at the accounts: the same failures give the same waits."""
    succeed(db, clock, "someone-else", OFFICE)
    fail(db, clock, "real-clerk", STRANGER, times=5, step=0)
    fail(db, clock, "nobody-at-all", "203.0.113.10", times=5, step=0)
    assert wait(db, clock, "real-clerk", STRANGER) == wait(
        db, clock, "nobody-at-all", "203.0.113.10") == 30


def test_old_failures_stop_counting_and_are_deleted(db: Database, clock: Clock) -> None:
    fail(db, clock, "clerk1", STRANGER, times=5, step=0)
    clock.advance(ThrottlePolicy().window.total_seconds() + 1)
    assert wait(db, clock, "clerk1", STRANGER) == 0
    clock.advance(ThrottlePolicy().keep.total_seconds())
    fail(db, clock, "clerk1", HOME)
    with db.unit_of_work(write=False) as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 1


def test_failures_since_the_previous_login_are_counted_for_the_notice(
        db: Database, clock: Clock) -> None:
    fail(db, clock, "clerk1", STRANGER, times=3)
    previous = clock()
    clock.advance(0.5)
    fail(db, clock, "clerk1", STRANGER, times=2)
    fail(db, clock, "ghost", STRANGER, times=1)
    with db.unit_of_work(write=False) as session:
        throttle = LoginThrottle(session, LoginAttempt, clock=clock)
        assert throttle.failures_since("clerk1", None) == 5
        assert throttle.failures_since("clerk1", previous) == 2
        found = throttle.failures_by_username_since(previous)
    assert [(f.username, f.count) for f in found] == [("clerk1", 2), ("ghost", 1)]


def test_the_node_and_the_hub_share_one_table_definition() -> None:
    for model in (LoginAttempt, HubLoginAttempt):
        table = model.__table__  # type: ignore[attr-defined]
        assert table.name == "login_attempts"
        assert [c.name for c in table.columns] == ["id", "username", "address", "succeeded",
                                                    "at"]
        assert {i.name for i in table.indexes} == {
            "ix_login_attempts_username_at", "ix_login_attempts_address_at",
            "ix_login_attempts_at"}
