"""The live hub on SQLite: what a page connecting mid-run is sent, and what the pages already open get."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from soleware.server.live import LiveHub


def _update(k: int) -> dict[str, Any]:
    at = dt.datetime(2026, 12, 5, 12, 0, k, tzinfo=dt.UTC)
    return {"type": "update", "at": at.isoformat(), "distance_m": 10.0 * k}


async def test_a_page_connecting_between_an_update_and_its_poll_does_not_hide_it_from_open_pages() -> None:
    """Another process stored update 1; before this process's poll reads it, a second page connects and is sent
    it from the store. The page open before must still get update 1 from the poll, not skip to update 2."""
    stored: dict[str, dict[str, Any]] = {}
    hub = LiveHub(states=lambda runners: {r: stored[r] for r in runners if r in stored}, poll_s=0.02)
    await hub.start()
    try:
        with hub.subscribe("r") as first:
            stored["r"] = _update(1)
            with hub.subscribe("r") as second:
                hub.sent("r", stored["r"])  # what the router does as the second page connects
                got = await asyncio.wait_for(first.get(), 1.0)
                assert got == _update(1)
                stored["r"] = _update(2)
                assert await asyncio.wait_for(first.get(), 1.0) == _update(2)
                seen = [second.get_nowait() for _ in range(second.qsize())]
                assert seen[-1] == _update(2)  # update 1 again at most, never a miss of update 2
    finally:
        await hub.stop()


async def test_a_single_page_is_not_sent_again_what_it_got_as_it_connected() -> None:
    stored = {"r": _update(1)}
    hub = LiveHub(states=lambda runners: {r: stored[r] for r in runners if r in stored}, poll_s=0.02)
    await hub.start()
    try:
        with hub.subscribe("r") as only:
            hub.sent("r", stored["r"])
            await asyncio.sleep(0.1)
            assert only.empty()
            stored["r"] = _update(2)
            assert await asyncio.wait_for(only.get(), 1.0) == _update(2)
    finally:
        await hub.stop()


async def test_the_hub_forgets_a_runner_once_their_last_page_is_closed() -> None:
    hub = LiveHub()  # PostgreSQL's hub delivers through NOTIFY; only what pages were sent is remembered
    await hub.start()
    for k in range(50):
        with hub.subscribe(f"r{k}"):
            hub.sent(f"r{k}", _update(1))
    assert hub._seen == {}
    await hub.stop()
