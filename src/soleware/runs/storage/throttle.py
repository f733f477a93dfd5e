"""Sign-in throttling that slows an attacker without locking the runner out, shared by every server process.

Why this shape
--------------
* **Two budgets.** Every attempt counts against the client's address (across all the e-mails it tries: one
  password sprayed over many accounts is slowed) and against the account (across all addresses: many machines
  guessing one runner's password are slowed too). IPv6 addresses count by their /64, which one client owns.
* **Backoff, not lockout.** The first ``free_attempts`` failures of a budget cost nothing; after that the next
  attempt must wait ``base_delay_s · 2^(failures − free_attempts)`` from the latest failure (capped at
  ``max_delay_s``), so guessing gets exponentially slower while a runner who mistyped waits seconds, and failures
  are forgotten ``window_s`` after the last one.
* **Someone else's failures do not lock the runner out.** An address the account signed in from before (remembered
  for ``trust_s``) is not held back by the account's budget, only by its own address's: the runner at home or on
  their phone's network signs in at once while an attacker elsewhere waits. A client the account does not know
  waits out the account's backoff, and while it waits its password is not even checked (429, ``Retry-After``),
  so waiting tells an attacker nothing.
* **Counted before the password is checked.** An attempt is reserved in a transaction that locks the budget rows
  (``SELECT … FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite) and given back once the password proves
  right, so parallel attempts on fresh connections to several workers or replicas cannot overspend a budget.
* **No e-mail or address at rest.** Rows are keyed by SHA-256 of what they count and expire with their window.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import ipaddress
import random
from collections.abc import Callable
from typing import Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from soleware.runs.storage.accounts import AuthError
from soleware.runs.storage.db import SignInThrottle as Row
from soleware.runs.storage.db import make_sessionmaker

__all__ = ["SignInThrottle", "ThrottlePolicy", "Throttled"]

T = TypeVar("T")


class Throttled(Exception):
    """Too many failed sign-ins: try again in ``retry_after_s`` seconds (the password was not checked)."""

    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"too many failed sign-ins; try again in {retry_after_s:.0f} s")
        self.retry_after_s = retry_after_s


@dataclasses.dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures are free, how the wait grows after them, how long failures and good addresses last."""

    free_attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 300.0
    window_s: float = 900.0
    trust_s: float = 90 * 86400.0

    def delay_s(self, failures: int) -> float:
        """Seconds a budget with ``failures`` must wait after its latest failure."""
        if failures < self.free_attempts:
            return 0.0
        return min(self.max_delay_s, self.base_delay_s * 2.0 ** min(failures - self.free_attempts, 60))


def _key(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _client(address: str) -> str:
    """The part of an address one client owns: the address itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def _aware(t: dt.datetime) -> dt.datetime:
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


class SignInThrottle:
    """Sign-in budgets per address and per account, kept in the database (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        policy: ThrottlePolicy | None = None,
        *,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.engine = engine
        self.policy = policy or ThrottlePolicy()
        self.clock = clock
        self._sessions = make_sessionmaker(engine)

    def attempt(self, email: str, address: str, sign_in: Callable[[], T]) -> T:
        """Run ``sign_in`` (which raises AuthError for wrong credentials) within the budgets of ``email`` and
        ``address``; :class:`Throttled` without running it when a budget says wait."""
        email = email.strip().lower()
        wait = self.reserve(email, address)
        if wait > 0:
            raise Throttled(wait)
        try:
            result = sign_in()
        except AuthError:
            raise
        except BaseException:
            self._give_back(email, address, good=False)
            raise
        self._give_back(email, address, good=True)
        return result

    def reserve(self, email: str, address: str) -> float:
        """Seconds to wait, or 0.0 after counting one attempt against both budgets."""
        p = self.policy
        client = _client(address)
        keys = [_key("address", client), _key("account", email)]
        with self._sessions.begin() as s:
            rows, now = self._lock(s, keys)
            trusted = s.scalar(
                sa.select(sa.func.count())
                .select_from(Row)
                .where(Row.key == _key("good", email, client), Row.expires_at > now)
            )
            budgets = rows if not trusted else rows[:1]
            # only a budget past its free attempts waits: the latest failure of a free one may carry a later
            # time than ``now`` (another worker's clock, or a transaction that held the lock before this one)
            wait = max(
                (
                    (_aware(r.last_at) + dt.timedelta(seconds=p.delay_s(r.failures)) - now).total_seconds()
                    for r in budgets
                    if p.delay_s(r.failures) > 0
                ),
                default=0.0,
            )
            if wait > 0:
                return wait
            for r in rows:
                r.failures += 1
                r.last_at = now
                r.expires_at = now + dt.timedelta(seconds=p.window_s)
        if random.random() < 0.01:
            self.prune()
        return 0.0

    def _lock(self, s: Session, keys: list[str]) -> tuple[list[Row], dt.datetime]:
        """The rows of ``keys`` (created when missing, reset when expired), locked until the transaction ends, and
        the time once they are locked (a transaction may wait for another's lock: its time starts after)."""
        insert = postgresql.insert if self.engine.dialect.name == "postgresql" else sqlite.insert
        created = self.clock()
        s.execute(
            insert(Row)
            .values(
                [{"key": k, "failures": 0, "last_at": created, "expires_at": created} for k in sorted(keys)]
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        stmt = sa.select(Row).where(Row.key.in_(keys)).execution_options(populate_existing=True)
        if self.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        by_key = {r.key: r for r in s.scalars(stmt)}
        now = self.clock()
        rows = [by_key[k] for k in keys]
        for r in rows:
            if _aware(r.expires_at) <= now:
                r.failures = 0
        return rows, now

    def _give_back(self, email: str, address: str, *, good: bool) -> None:
        """Return a reserved attempt; when ``good`` the address is remembered as one this account signs in from."""
        client = _client(address)
        keys = [_key("address", client), _key("account", email)]
        good_key = _key("good", email, client)
        with self._sessions.begin() as s:
            rows, now = self._lock(s, [*keys, good_key] if good else keys)
            for r in rows[:2]:
                r.failures = max(0, r.failures - 1)
            if good:
                rows[2].last_at = now
                rows[2].expires_at = now + dt.timedelta(seconds=self.policy.trust_s)

    def prune(self) -> int:
        """Delete expired rows; returns how many."""
        with self._sessions.begin() as s:
            # SQLAlchemy's Session.execute hints a Result; a DELETE's is a CursorResult
            deleted = cast(
                "sa.CursorResult[Any]", s.execute(sa.delete(Row).where(Row.expires_at <= self.clock()))
            )
            return deleted.rowcount
