"""Live state of a run in progress, as the phone or gateway last sent it (one row per runner)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from soleware.runs.storage._base import StoreBase
from soleware.runs.storage.db import LiveSession

__all__ = ["LiveStore"]


class LiveStore(StoreBase):
    """The runner's live session."""

    def set_live(self, runner_id: str, state: dict[str, Any]) -> None:
        with self._tx() as s:
            row = s.get(LiveSession, runner_id)
            now = dt.datetime.now(dt.UTC)
            if row is None:
                s.add(LiveSession(runner_id=runner_id, state=state, updated_at=now))
            else:
                row.state = state
                row.updated_at = now

    def get_live(self, runner_id: str) -> dict[str, Any] | None:
        with self._tx(write=False) as s:
            row = s.get(LiveSession, runner_id)
            return None if row is None else dict(row.state)

    def end_live(self, runner_id: str) -> None:
        with self._tx() as s:
            s.execute(sa.delete(LiveSession).where(LiveSession.runner_id == runner_id))

    def live_states(self, runner_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The live state of each of these runners that has a run in progress, in one read (what another server
        process on the same SQLite file stored: ``server.live.LiveHub`` polls it)."""
        with self._read() as conn:
            rows = conn.execute(
                sa.select(LiveSession.runner_id, LiveSession.state).where(
                    LiveSession.runner_id.in_(runner_ids)
                )
            )
            return {r.runner_id: dict(r.state) for r in rows}
