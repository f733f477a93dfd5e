"""The run service inside the current event loop on a free loopback port (tests, benchmarks, tools)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import uvicorn

from soleware.server.app import create_app
from soleware.server.config import Settings

__all__ = ["serving"]


@contextlib.asynccontextmanager
async def serving(settings: Settings, *, runner: tuple[str, str] | None = None) -> AsyncIterator[str]:
    """Serve until the block ends and yield the base URL; ``runner`` (e-mail, password) is signed up first."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            await task
        await asyncio.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    try:
        if runner is not None:
            async with httpx.AsyncClient(base_url=url) as c:
                r = await c.post("/api/auth/signup", json={"email": runner[0], "password": runner[1]})
                r.raise_for_status()
        yield url
    finally:
        server.should_exit = True
        await task
