"""A shoe and a phone as two in-process Bumble devices on a virtual ``LocalLink``, no radio needed.

Used by the link tests; handy for examples too. The shoe is the advertiser (peripheral, GATT server), the phone
connects (central, GATT client). :func:`filled_log` gives a shoe a long run log without running it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from bumble import device, gatt, hci, pairing
from bumble.testing.test_utils import TwoDevices

from soleware.gait import Gait, StrikeType
from soleware.gait import Stride as GaitStride
from soleware.shoe.runlog import FileFlash, RunLog

__all__ = ["LinkedPair", "filled_log", "linked_pair"]


def filled_log(path: Path, *, side: str, strides: int, start_unix_ms: int) -> None:
    """Write a shoe's flash image at ``path`` holding one finished, unsynced run of ``strides`` steady strides
    (a marathon is about 17,000 per foot), for a :class:`soleware.link.shoe.VirtualShoe` without a recording."""
    log = RunLog.open(FileFlash.create(path))
    log.start_run(start_unix_ms=start_unix_ms, side=side, firmware="test", calibration=1.0)
    for i in range(strides):
        stride = GaitStride(
            t_start_s=0.72 * i,
            t_end_s=0.72 * (i + 1),
            length_m=2.1 + 0.001 * (i % 50),
            speed_mps=2.95,
            cadence_spm=84.0,
            contact_time_s=0.235,
            flight_time_s=0.125,
            strike_angle_deg=6.5,
            strike_type=StrikeType.REARFOOT,
            impact_mps2=110.0,
            gait=Gait.RUN,
        )
        if not log.append_stride(stride):
            raise ValueError(f"{strides} strides do not fit the flash image")
    log.end_run(distance_m=2.1 * strides, moving_s=0.72 * strides, elapsed_s=0.72 * strides)


@dataclasses.dataclass
class LinkedPair:
    """A connected shoe/phone pair; ``peer`` is the phone's GATT view of the shoe, services discovered."""

    devices: TwoDevices
    shoe: device.Device
    phone: device.Device
    shoe_connection: device.Connection
    phone_connection: device.Connection
    peer: device.Peer

    async def pair(self) -> None:
        """LE Secure Connections pairing with bonding (Just Works), started by the phone; encrypts the link."""
        await self.phone_connection.pair()


def _pairing_config(_connection: device.Connection) -> pairing.PairingConfig:
    return pairing.PairingConfig(sc=True, mitm=False, bonding=True)


@contextlib.asynccontextmanager
async def linked_pair(
    services: Iterable[gatt.Service], *, mtu: int | None = 247
) -> AsyncIterator[LinkedPair]:
    """Connect a phone to a shoe serving ``services``; ``mtu`` is requested by the phone (``None``: keep 23)."""
    devices = TwoDevices()
    phone, shoe = devices[0], devices[1]
    shoe.add_services(list(services))
    for each in (phone, shoe):
        each.pairing_config_factory = _pairing_config
    await devices.setup_connection()
    phone_connection, shoe_connection = devices.connections[0], devices.connections[1]
    peer = device.Peer(phone_connection)
    await peer.discover_services()
    for service in peer.services:
        await service.discover_characteristics()
    if mtu is not None:
        await peer.request_mtu(mtu)
    try:
        yield LinkedPair(devices, shoe, phone, shoe_connection, phone_connection, peer)
    finally:
        if phone_connection.handle in phone.connections:
            with contextlib.suppress(hci.HCI_Error):
                await phone_connection.disconnect()
