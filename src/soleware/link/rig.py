"""A test and benchmark rig: a virtual radio, virtual shoes and a gateway in one event loop.

The run service, when wanted, is started by the caller and given as a URL (``link`` never imports the server).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypedDict, Unpack

from soleware.gait.recording import Recording
from soleware.link.central import BumbleCentral
from soleware.link.controllers import VirtualRadio
from soleware.link.gateway import Gateway, ServerClient
from soleware.link.shoe import VirtualShoe

__all__ = ["HciRelay", "Rig"]


class GatewayOptions(TypedDict, total=False):
    """:class:`Gateway` keyword arguments :meth:`Rig.start_gateway` passes on."""

    serials: tuple[str, ...] | None
    time_zone: str
    pair_window_s: float
    single_foot_after_s: float
    sync_interval_s: float
    live_interval_s: float
    on_change: Callable[[], None] | None
    pod: str | None
    pod_checkpoint_s: float


class HciRelay:
    """A TCP relay between a host and its virtual controller that can stall the HCI traffic (fault injection).

    :meth:`stall` holds every packet in both directions for a while, then lets it through in order, as a relay
    or a busy UART would; the controllers keep the radio link up meanwhile.
    """

    def __init__(self, target: str) -> None:
        self.target_host, port = target.removeprefix("tcp-client:").rsplit(":", 1)
        self.target_port = int(port)
        self._open = asyncio.Event()
        self._open.set()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()

    async def start(self) -> HciRelay:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    @property
    def transport(self) -> str:
        assert self._server is not None
        return f"tcp-client:127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stall(self, duration_s: float) -> None:
        """Hold the traffic for ``duration_s``, then release it."""
        self._open.clear()
        try:
            await asyncio.sleep(duration_s)
        finally:
            self._open.set()

    async def _serve(self, host_reader: asyncio.StreamReader, host_writer: asyncio.StreamWriter) -> None:
        reader, writer = await asyncio.open_connection(self.target_host, self.target_port)
        pipes = [
            asyncio.create_task(self._pipe(host_reader, writer)),
            asyncio.create_task(self._pipe(reader, host_writer)),
        ]
        self._pipes.update(pipes)
        try:
            await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pipe in pipes:
                pipe.cancel()
                self._pipes.discard(pipe)
            for w in (writer, host_writer):
                w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            await self._open.wait()
            writer.write(data)
            await writer.drain()

    async def close(self) -> None:
        for pipe in list(self._pipes):
            pipe.cancel()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


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
        self.shoe_tasks: dict[str, asyncio.Task[None]] = {}
        self.central: BumbleCentral | None = None
        self.gateway: Gateway | None = None
        self.gateway_task: asyncio.Task[None] | None = None
        self.relays: dict[str, HciRelay] = {}

    async def __aenter__(self) -> Rig:
        self.radio = await VirtualRadio([0, 0, 0]).start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_gateway()
        for side in list(self.shoe_tasks):
            await self.stop_shoe(side)
        for relay in self.relays.values():
            await relay.close()
        await self.radio.close()

    async def relay(self, side: str) -> HciRelay:
        """Put an :class:`HciRelay` between ``side``'s shoe and its controller (before ``start_shoe``)."""
        relay = await HciRelay(self.radio.transports[0 if side == "left" else 1]).start()
        self.relays[side] = relay
        return relay

    def start_shoe(self, side: str, recording: Recording | None = None, speedup: float = 1.0) -> VirtualShoe:
        i = 0 if side == "left" else 1
        relay = self.relays.get(side)
        shoe = VirtualShoe(
            side=side,
            serial=f"SW-{side[0].upper()}-T",
            recording=recording,
            transport=relay.transport if relay is not None else self.radio.transports[i],
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

    async def start_gateway(self, shoes: int = 2, **kwargs: Unpack[GatewayOptions]) -> Gateway:
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
        # the three are set together by start_gateway
        assert self.gateway is not None and self.central is not None
        self.gateway.stop()
        self.gateway_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.gateway_task
        await self.central.close()
        if self.gateway.server is not None:
            await self.gateway.server.close()
        self.gateway_task = None

    async def until(self, predicate: Callable[[], object], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.05)
