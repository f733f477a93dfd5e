"""Sign-in throttling on SQLite and PostgreSQL: backoff per address and per account, known addresses, races."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import threading
import time

import pytest

from soleware.runs.storage.accounts import AuthError
from soleware.runs.storage.db import make_engine
from soleware.runs.storage.migrate import upgrade
from soleware.runs.storage.throttle import SignInThrottle, Throttled, ThrottlePolicy

POLICY = ThrottlePolicy(free_attempts=3, base_delay_s=1.0, max_delay_s=8.0, window_s=600.0)


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 12, 1, 7, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, s: float) -> None:
        self.now += dt.timedelta(seconds=s)


@pytest.fixture
def engine(database_url):
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(engine, clock):
    return SignInThrottle(engine, POLICY, clock=clock)


def wrong() -> str:
    raise AuthError("wrong e-mail or password")


def right() -> str:
    return "token"


def fails(throttle: SignInThrottle, email: str, address: str) -> float:
    """0.0 when the attempt was checked (and wrong), else the wait it was told."""
    try:
        throttle.attempt(email, address, wrong)
    except AuthError:
        return 0.0
    except Throttled as exc:
        return exc.retry_after_s
    raise AssertionError("neither checked nor throttled")


def test_failures_past_the_free_ones_wait_twice_as_long_each_time(throttle, clock):
    assert [fails(throttle, "ada@example.com", "10.0.0.1") for _ in range(3)] == [0.0, 0.0, 0.0]
    waits = []
    for _ in range(6):
        wait = fails(throttle, "ada@example.com", "10.0.0.1")
        waits.append(wait)
        clock.advance(wait)
        assert fails(throttle, "ada@example.com", "10.0.0.1") == 0.0  # after the wait it is checked again
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    clock.advance(601)  # the window after the last failure: forgotten
    assert [fails(throttle, "ada@example.com", "10.0.0.1") for _ in range(3)] == [0.0, 0.0, 0.0]


def test_one_password_tried_on_many_accounts_from_one_address_is_slowed(throttle):
    checked = [fails(throttle, f"runner{i}@example.com", "10.0.0.66") == 0.0 for i in range(10)]
    assert checked == [True] * 3 + [False] * 7
    assert fails(throttle, "runner9@example.com", "10.0.0.67") == 0.0  # another address: its own budget


def test_one_account_guessed_from_many_addresses_is_slowed(throttle):
    checked = [fails(throttle, "ada@example.com", f"10.0.1.{i}") == 0.0 for i in range(10)]
    assert checked == [True] * 3 + [False] * 7


def test_ipv6_addresses_count_by_their_64(throttle):
    checked = [fails(throttle, f"r{i}@example.com", f"2001:db8:1:2::{i:x}") == 0.0 for i in range(5)]
    assert checked == [True] * 3 + [False] * 2


def test_the_runner_at_a_known_address_is_not_held_back_by_someone_elses_failures(throttle):
    assert throttle.attempt("ada@example.com", "192.0.2.10", right) == "token"  # home: now a known address
    attacker = [fails(throttle, "ada@example.com", f"198.51.100.{i % 3}") for i in range(12)]
    assert attacker[:3] == [0.0] * 3 and all(w > 0 for w in attacker[3:])
    # the runner at home signs in at once, with the account in backoff
    assert throttle.attempt("ADA@example.com ", "192.0.2.10", right) == "token"
    # an unknown device waits, and its password is not even checked while it waits
    called = []
    with pytest.raises(Throttled) as exc:
        throttle.attempt("ada@example.com", "203.0.113.5", lambda: called.append(1) or "token")
    assert called == [] and 0 < exc.value.retry_after_s <= POLICY.max_delay_s


def test_a_right_password_does_not_use_up_the_budget(throttle):
    for _ in range(10):
        assert throttle.attempt("ada@example.com", "10.0.0.1", right) == "token"
    assert [fails(throttle, "ada@example.com", "10.0.0.1") for _ in range(4)][:3] == [0.0] * 3


def test_parallel_attempts_through_two_engines_share_one_budget(database_url, engine):
    """Two engines stand for two worker processes: 20 attempts at once still get only the free ones checked."""
    other = make_engine(database_url)
    policy = ThrottlePolicy(free_attempts=5, base_delay_s=60.0)
    throttles = [SignInThrottle(engine, policy), SignInThrottle(other, policy)]
    checked = []
    lock = threading.Lock()

    def slow_wrong() -> str:
        with lock:
            checked.append(1)
        time.sleep(0.05)  # like a password hash
        raise AuthError("wrong e-mail or password")

    def one(i: int) -> str:
        try:
            throttles[i % 2].attempt("ada@example.com", "10.9.9.9", slow_wrong)
        except AuthError:
            return "401"
        except Throttled:
            return "429"
        return "200"

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(one, range(20)))
    other.dispose()
    assert answers.count("401") == 5 == len(checked) and answers.count("429") == 15


def test_free_attempts_never_wait_even_when_the_latest_failure_is_timed_after_now(engine, clock):
    """A failure written by a worker whose clock runs ahead (or by a transaction this one waited for) carries a
    later time than this attempt's: within the free attempts that must not turn into a wait."""
    ahead = Clock()
    ahead.advance(0.5)
    SignInThrottle(engine, POLICY, clock=ahead).attempt("ada@example.com", "10.0.0.1", right)
    assert fails(SignInThrottle(engine, POLICY, clock=ahead), "ada@example.com", "10.0.0.1") == 0.0
    here = SignInThrottle(engine, POLICY, clock=clock)
    assert [fails(here, "ada@example.com", "10.0.0.1") for _ in range(2)] == [0.0, 0.0]
    assert fails(here, "ada@example.com", "10.0.0.1") > 0  # past the free ones: it waits


def test_expired_rows_are_pruned(throttle, clock):
    fails(throttle, "ada@example.com", "10.0.0.1")
    clock.advance(601)
    assert throttle.prune() == 2
