"""Virtual Bluetooth LE controllers on one simulated radio, one TCP port each (Bumble's link-layer simulation).

Like ``python -m bumble.apps.controllers tcp-server:…``, but a host that goes away takes its radio with it: when
a shoe process dies or restarts, its controller drops every connection (the peer sees a supervision timeout, as
with a real shoe losing power) and a fresh controller with the same address serves the next host.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Sequence

from bumble import hci, ll
from bumble.controller import Controller
from bumble.link import LocalLink
from bumble.transport.common import StreamPacketSource

__all__ = ["VirtualRadio"]

log = logging.getLogger(__name__)


class _Sink:
    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def on_packet(self, packet: bytes) -> None:
        if not self.transport.is_closing():
            self.transport.write(packet)


class _HostPort(asyncio.Protocol):
    """One TCP connection from a host = one powered-on controller."""

    def __init__(self, radio: VirtualRadio, index: int) -> None:
        self.radio = radio
        self.index = index
        self.source = StreamPacketSource()
        self.controller: Controller | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        old = self.radio.controllers.get(self.index)
        if old is not None:
            self.radio.power_off(self.index)
        transport.get_extra_info("socket").setsockopt(6, 1, 1)  # TCP_NODELAY: HCI packets are small
        self.controller = Controller(
            f"C{self.index}",
            host_source=self.source,
            host_sink=_Sink(transport),
            link=self.radio.link,
            public_address=f"F0:F1:F2:F3:F4:{self.index:02X}",
        )
        self.radio.controllers[self.index] = self.controller

    def data_received(self, data: bytes) -> None:
        self.source.data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.radio.controllers.get(self.index) is self.controller:
            self.radio.power_off(self.index)


class VirtualRadio:
    """Controllers on one ``LocalLink``, served on ``ports`` (127.0.0.1 only)."""

    def __init__(self, ports: Sequence[int], *, host: str = "127.0.0.1") -> None:
        self.ports = list(ports)
        self.host = host
        self.link = LocalLink()  # type: ignore[no-untyped-call]  # Bumble: LocalLink.__init__ lacks '-> None'
        self.controllers: dict[int, Controller] = {}
        self._servers: list[asyncio.Server] = []

    async def start(self) -> VirtualRadio:
        loop = asyncio.get_running_loop()
        for i, port in enumerate(self.ports):
            self._servers.append(
                await loop.create_server(
                    functools.partial(_HostPort, self, i), self.host, port, reuse_address=True
                )
            )
        return self

    @property
    def transports(self) -> list[str]:
        """Bumble transport names for the hosts: ``tcp-client:127.0.0.1:PORT``."""
        return [f"tcp-client:{self.host}:{s.sockets[0].getsockname()[1]}" for s in self._servers]

    def power_off(self, index: int) -> None:
        """The controller at ``index`` loses power: its peers see their connections time out."""
        controller = self.controllers.pop(index, None)
        if controller is None:
            return
        for connection in list(controller.le_connections.values()):
            with contextlib.suppress(Exception):
                connection.send_ll_control_pdu(ll.TerminateInd(hci.HCI_CONNECTION_TIMEOUT_ERROR))
        controller.le_connections.clear()
        controller.le_legacy_advertiser.stop()
        for advertiser in controller.advertising_sets.values():
            with contextlib.suppress(Exception):
                advertiser.stop()
        controller.advertising_sets.clear()
        with contextlib.suppress(KeyError):
            self.link.remove_controller(controller)
        log.info("controller %d powered off", index)

    async def close(self) -> None:
        for i in list(self.controllers):
            self.power_off(i)
        for s in self._servers:
            s.close()
            await s.wait_closed()


async def serve(ports: Sequence[int]) -> None:
    radio = await VirtualRadio(ports).start()
    for t in radio.transports:
        print(t, flush=True)
    try:
        await asyncio.get_running_loop().create_future()
    finally:
        await radio.close()
