"""What every store of the run service shares: one engine, transactions, the runner's locked state row."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from soleware.runs.model import RunSummary
from soleware.runs.storage.db import RunnerState, RunRow, make_sessionmaker, reading

__all__ = ["NotFound", "StoreBase"]


class NotFound(LookupError):
    """No such object for this runner (also what another runner's object looks like)."""


class StoreBase:
    """A database (see ``soleware.runs.storage.db.make_engine``; migrate it first) and its transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = make_sessionmaker(engine)

    @contextmanager
    def _tx(self, *, write: bool = True) -> Iterator[Session]:
        """A transaction; ``write=False`` for reads, which then never wait for a writer."""
        with contextlib.ExitStack() as stack:
            if not write:
                stack.enter_context(reading())
            yield stack.enter_context(self._sessions.begin())

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
            RunSummary.from_dict(d)
            for d in s.scalars(sa.select(RunRow.summary).where(RunRow.runner_id == runner_id))
        ]


def _aware(t: dt.datetime) -> dt.datetime:
    """SQLite hands back naive datetimes; we store UTC only."""
    return t if t.tzinfo is not None else t.replace(tzinfo=dt.UTC)
