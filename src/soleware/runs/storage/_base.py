"""What every store of the run service shares: one engine, transactions, the runner's locked state row."""

from __future__ import annotations

import collections
import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from soleware.runs.facts import RunFacts
from soleware.runs.model import RunSummary, unpack_summary
from soleware.runs.storage.db import RunnerState, RunRow, make_sessionmaker, reading

__all__ = ["NotFound", "StoreBase"]

T = TypeVar("T")
#: ``Session.info`` key of what to do once the session's transaction has committed (see ``StoreBase._tx``)
_AFTER_COMMIT = "soleware.after_commit"


class NotFound(LookupError):
    """No such object for this runner (also what another runner's object looks like)."""


#: views a store keeps (see ``StoreBase._by_version``) before it starts afresh
DERIVED_CACHE_ENTRIES = 256
#: runners whose run facts a store keeps (see ``StoreBase._kept_facts``): ~0.5 MB per 1,000 runs of theirs
KEPT_FACTS_RUNNERS = 8


class StoreBase:
    """A database (see ``soleware.runs.storage.db.make_engine``; migrate it first) and its transactions.

    Views derived from a runner's runs alone (records, achievements, progress trends and loads) are kept in the
    process, stamped with ``RunnerState.version``: every transaction that changes a runner's runs or their
    derived state bumps it, in any process, so a view is reused only while the data it comes from is the same.
    Each view is kept for its latest stamp only. So are the run facts a write computed records and achievements
    from (``_keep_facts``), for the next write of a few recent runners: a back-dated upload then need not read
    the facts of the runner's whole history.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = make_sessionmaker(engine)
        self._derived: dict[tuple[Any, ...], tuple[Any, Any]] = {}
        self._computing: dict[tuple[Any, ...], threading.Lock] = {}
        self._computing_lock = threading.Lock()
        self._facts_kept: collections.OrderedDict[str, tuple[int, RunFacts]] = collections.OrderedDict()
        self._facts_lock = threading.Lock()

    def _by_version(self, key: tuple[Any, ...], stamp: Any, compute: Callable[[], T]) -> T:
        """The view ``key`` as of ``stamp`` (the runner's state version, and whatever else it depends on),
        computed once per stamp in this process: requests that want it while it is being computed wait for that
        computation instead of repeating it (after a write, every page of a busy runner wants it at once)."""
        value: T | None = self._recall(key, stamp)
        if value is not None:
            return value
        with self._computing_lock:
            if len(self._computing) >= DERIVED_CACHE_ENTRIES and key not in self._computing:
                self._computing.clear()
            lock = self._computing.setdefault(key, threading.Lock())
        with lock:
            value = self._recall(key, stamp)
            if value is None:
                value = self._remember(key, stamp, compute())
        return value

    def _recall(self, key: tuple[Any, ...], stamp: Any) -> Any:
        """The view kept under ``key`` if it was computed for ``stamp``, else None."""
        kept = self._derived.get(key)
        return kept[1] if kept is not None and kept[0] == stamp else None

    def _remember(self, key: tuple[Any, ...], stamp: Any, value: T) -> T:
        if len(self._derived) >= DERIVED_CACHE_ENTRIES and key not in self._derived:
            self._derived.clear()
        self._derived[key] = (stamp, value)
        return value

    def _kept_facts(self, runner_id: str, version: int) -> RunFacts | None:
        """The runner's run facts (in run order) as of their state ``version``, if this store kept them then."""
        with self._facts_lock:
            kept = self._facts_kept.get(runner_id)
            if kept is None or kept[0] != version:
                return None
            self._facts_kept.move_to_end(runner_id)
            return kept[1]

    def _keep_facts(self, s: Session, runner_id: str, version: int, facts: RunFacts) -> None:
        """Keep ``facts`` as the runner's run facts of state ``version`` once ``s`` commits (a rolled back
        transaction keeps nothing): the next write of this runner in this process need not read them."""

        def keep() -> None:
            with self._facts_lock:
                self._facts_kept[runner_id] = (version, facts)
                self._facts_kept.move_to_end(runner_id)
                while len(self._facts_kept) > KEPT_FACTS_RUNNERS:
                    self._facts_kept.popitem(last=False)

        s.info.setdefault(_AFTER_COMMIT, []).append(keep)

    @staticmethod
    def _version(conn: Connection | Session, runner_id: str) -> int:
        """The runner's state version (see the class), NotFound for no runner."""
        version = conn.execute(
            sa.select(RunnerState.version).where(RunnerState.runner_id == runner_id)
        ).scalar_one_or_none()
        if version is None:
            raise NotFound(f"no runner {runner_id!r}")
        return version

    @contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[Session]:
        """A transaction; ``write=False`` for reads, which then never wait for a writer. What a write keeps in
        the process for later (``_keep_facts``) is kept once it has committed."""
        with contextlib.ExitStack() as stack:
            if not write:
                stack.enter_context(reading())
            s = stack.enter_context(self._sessions.begin())
            yield s
        for then in s.info.pop(_AFTER_COMMIT, ()):
            then()

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only transaction on a plain connection: no ORM session, the cheapest way to read a few rows
        (what every request does first, finding its runner)."""
        with reading(), self.engine.begin() as conn:
            yield conn

    def _lock_state(self, s: Session, runner_id: str, *, lock: bool = True) -> RunnerState:
        stmt = sa.select(RunnerState).where(RunnerState.runner_id == runner_id)
        if lock and self.engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        state = s.scalars(stmt).one_or_none()
        if state is None:
            raise NotFound(f"no runner {runner_id!r}")
        return state

    def _summaries(self, s: Session, runner_id: str) -> list[RunSummary]:
        return [
            unpack_summary(b)
            for b in s.scalars(sa.select(RunRow.summary_packed).where(RunRow.runner_id == runner_id))
        ]


def _aware(t: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; we store UTC only."""
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
