"""Live run updates fanned out to every open page of a runner, across server processes.

On PostgreSQL an update is published with ``NOTIFY`` and every process ``LISTEN``s, so a page connected to one
process gets updates posted to another; on SQLite (one process) it stays in-process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import defaultdict
from typing import Any

__all__ = ["LiveHub"]

CHANNEL = "soleware_live"
log = logging.getLogger(__name__)


class LiveHub:
    """Subscribers per runner (asyncio queues) fed by this process or, with a PostgreSQL URL, by any process."""

    def __init__(self, postgres_url: str | None = None) -> None:
        self._postgres_url = postgres_url
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None
        #: one connection for publishing, kept open (live updates come several times a second)
        self._publisher: Any = None
        self._publish_lock = asyncio.Lock()
        self._ready = asyncio.Event()

    async def start(self) -> None:
        if self._postgres_url is None:
            self._ready.set()
            return
        self._listener = asyncio.create_task(self._listen(self._postgres_url))
        await asyncio.wait_for(self._ready.wait(), 10)

    async def stop(self) -> None:
        if self._publisher is not None:
            with contextlib.suppress(Exception):
                await self._publisher.close()
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener

    async def _listen(self, postgres_url: str) -> None:
        import psycopg

        while True:
            try:
                async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    async for note in conn.notifies():
                        msg = json.loads(note.payload)
                        self._deliver(msg["runner_id"], msg["message"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database restarted or the connection dropped: listen again
                log.warning("live listener lost its connection (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(1.0)

    def _deliver(self, runner_id: str, message: dict[str, Any]) -> None:
        for q in list(self._subscribers.get(runner_id, ())):
            if q.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()  # a slow page skips a stale update rather than holding the rest up
            q.put_nowait(message)

    async def publish(self, runner_id: str, message: dict[str, Any]) -> None:
        if self._postgres_url is None:
            self._deliver(runner_id, message)
            return
        import psycopg

        payload = json.dumps({"runner_id": runner_id, "message": message}, separators=(",", ":"))
        async with self._publish_lock:
            for attempt in range(2):
                try:
                    if self._publisher is None or self._publisher.closed:
                        self._publisher = await psycopg.AsyncConnection.connect(
                            self._postgres_url, autocommit=True
                        )
                    await self._publisher.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    return
                except psycopg.OperationalError:
                    self._publisher = None  # the database restarted: connect again, once
                    if attempt:
                        raise

    @contextlib.contextmanager
    def subscribe(self, runner_id: str):  # type: ignore[no-untyped-def]
        q: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=32)
        self._subscribers[runner_id].add(q)
        try:
            yield q
        finally:
            self._subscribers[runner_id].discard(q)
            if not self._subscribers[runner_id]:
                del self._subscribers[runner_id]
