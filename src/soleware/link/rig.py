"""A test and benchmark rig: a virtual radio, virtual shoes and a gateway in one event loop.

The run service, when wanted, is started by the caller and given as a URL (``link`` never imports the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from soleware.link.central import BumbleCentral
from soleware.link.controllers import VirtualRadio
from soleware.link.gateway import Gateway, ServerClient
from soleware.link.shoe import VirtualShoe

__all__ = ["Rig"]


class Rig:
    """Virtual radio, shoes (``start_shoe``) and a gateway (``start_gateway``); shoe logs and state under ``tmp_path``."""

    def __init__(
        self,
        tmp_path: Path,
        url: str | None,
        *,
        email: str = "",
        password: str = "",
        boot_unix_ms: int | None = None,
    ) -> None:
        self.tmp = tmp_path
        self.url = url
        self.email = email
        self.password = password
        self.boot_unix_ms = boot_unix_ms
        self.shoes: dict[str, VirtualShoe] = {}
        self.shoe_tasks: dict[str, asyncio.Task] = {}
        self.central: BumbleCentral | None = None
        self.gateway: Gateway | None = None
        self.gateway_task: asyncio.Task | None = None

    async def __aenter__(self) -> Rig:
        self.radio = await VirtualRadio([0, 0, 0]).start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop_gateway()
        for side in list(self.shoe_tasks):
            await self.stop_shoe(side)
        await self.radio.close()

    def start_shoe(self, side: str, recording=None, speedup: float = 1.0) -> VirtualShoe:
        i = 0 if side == "left" else 1
        shoe = VirtualShoe(
            side=side,
            serial=f"SW-{side[0].upper()}-T",
            recording=recording,
            transport=self.radio.transports[i],
            speedup=speedup,
            log_path=self.tmp / f"{side}.img",
            keys_path=self.tmp / f"{side}.keys.json",
            boot_unix_ms=self.boot_unix_ms,
        )
        self.shoes[side] = shoe
        self.shoe_tasks[side] = asyncio.create_task(shoe.run())
        return shoe

    async def stop_shoe(self, side: str) -> None:
        task = self.shoe_tasks.pop(side)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def start_gateway(self, shoes: int = 2, **kwargs) -> Gateway:
        self.central = await BumbleCentral(
            self.radio.transports[2], keys_path=self.tmp / "gw" / "keys.json"
        ).open()
        server = ServerClient(self.url, email=self.email, password=self.password) if self.url else None
        self.gateway = Gateway(self.central, state_dir=self.tmp / "gw", server=server, shoes=shoes, **kwargs)
        self.gateway_task = asyncio.create_task(self.gateway.run())
        return self.gateway

    async def stop_gateway(self) -> None:
        if self.gateway_task is None:
            return
        self.gateway.stop()
        self.gateway_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.gateway_task
        await self.central.close()
        if self.gateway.server is not None:
            await self.gateway.server.close()
        self.gateway_task = None

    async def until(self, predicate, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)
