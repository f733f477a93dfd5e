"""A shoe and a phone as two in-process Bumble devices on a virtual ``LocalLink``, no radio needed.

Used by the link tests; handy for examples too. The shoe is the advertiser (peripheral, GATT server), the phone
connects (central, GATT client).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator, Iterable

from bumble import device, gatt, hci, pairing
from bumble.testing.test_utils import TwoDevices

__all__ = ["LinkedPair", "linked_pair"]


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
