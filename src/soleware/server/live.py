"""Live run updates fanned out to every open page of a runner, across server processes.

On PostgreSQL an update is published with ``NOTIFY`` and every process ``LISTEN``s, so a page connected to one
process gets updates posted to another. On SQLite an update reaches this process's pages at once, and every
process with pages open reads the runners' stored live state (``LiveStore.live_states``) a few times a second, so
a page connected to one process gets what was posted to another (the latest state: an update superseded within
one poll is skipped, as a slow page skips stale ones).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool

__all__ = ["LiveHub"]

CHANNEL = "soleware_live"
log = logging.getLogger(__name__)


#: how often a process on SQLite reads the live state of the runners whose pages it serves
POLL_S = 0.25


class LiveHub:
    """Subscribers per runner (asyncio queues) fed by this process, and by any process: with a PostgreSQL URL
    through NOTIFY, else through ``states`` (the stored live state of some runners, read every ``poll_s``)."""

    def __init__(
        self,
        postgres_url: str | None = None,
        *,
        states: Callable[[Sequence[str]], dict[str, dict[str, Any]]] | None = None,
        poll_s: float = POLL_S,
    ) -> None:
        self._postgres_url = postgres_url
        self._states = states
        self._poll_s = poll_s
        #: per runner, the time of the last update its pages got (None: its run ended), to skip what they have
        self._seen: dict[str, dt.datetime | None] = {}
        self._subscribers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None
        #: one connection for publishing, kept open (live updates come several times a second)
        self._publisher: Any = None
        self._publish_lock = asyncio.Lock()
        self._ready = asyncio.Event()

    async def start(self) -> None:
        if self._postgres_url is None:
            if self._states is not None:
                self._listener = asyncio.create_task(self._poll())
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

    async def _poll(self) -> None:
        assert self._states is not None
        while True:
            await asyncio.sleep(self._poll_s)
            runners = list(self._subscribers)
            if not runners:
                continue
            try:
                states = await run_in_threadpool(self._states, runners)
            except Exception as exc:  # the database is busy or gone for a moment: read again next time
                log.warning("live poll failed (%s)", type(exc).__name__)
                continue
            for runner_id in runners:
                state = states.get(runner_id)
                if state is not None:
                    self._offer(runner_id, state)
                elif self._seen.get(runner_id) is not None:
                    self._offer(runner_id, {"type": "end", "at": dt.datetime.now(dt.UTC).isoformat()})

    def sent(self, runner_id: str, state: dict[str, Any] | None) -> None:
        """A page of the runner (subscribed already) was sent ``state`` (the stored one, or None) as it connected.
        When it is the runner's only page here, that is what the pages have; with others open, they may not have
        it yet, so the poll still delivers it (the new page may get it twice, the others miss nothing)."""
        if (
            len(self._subscribers.get(runner_id, ())) <= 1
            and self._seen.get(runner_id) is None
            and state is not None
            and state.get("type") == "update"
        ):
            self._seen[runner_id] = _at(state)

    def _offer(self, runner_id: str, message: dict[str, Any]) -> None:
        """Deliver unless the pages have it already (polled and posted here, or polled twice)."""
        if message.get("type") == "update":
            at, seen = _at(message), self._seen.get(runner_id)
            if seen is not None and at <= seen:
                return
            self._seen[runner_id] = at
        elif message.get("type") == "end":
            if runner_id in self._seen and self._seen[runner_id] is None:
                return
            self._seen[runner_id] = None
        self._deliver(runner_id, message)

    def _deliver(self, runner_id: str, message: dict[str, Any]) -> None:
        for q in list(self._subscribers.get(runner_id, ())):
            if q.full():
                with contextlib.suppress(asyncio.QueueEmpty):
                    q.get_nowait()  # a slow page skips a stale update rather than holding the rest up
            q.put_nowait(message)

    async def publish(self, runner_id: str, message: dict[str, Any]) -> None:
        if self._postgres_url is None:
            self._offer(runner_id, message)
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
                self._seen.pop(runner_id, None)  # no page left here to have seen anything


def _at(message: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(message["at"])
