"""The phone's side of the link behind a small interface: scan, connect, secure, subscribe, sync.

``Central`` and ``ShoeLink`` are what the gateway uses; ``BumbleCentral`` implements them on the Bumble host
stack (virtual controllers, USB or serial HCI adapters). A bleak-based implementation (the operating system's
Bluetooth on phones and laptops) would implement the same two protocols.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bumble import hci, pairing
from bumble.core import BT_LE_TRANSPORT, UUID, AdvertisingData
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.keys import JsonKeyStore
from bumble.profiles.battery_service import BatteryServiceProxy
from bumble.profiles.device_information_service import DeviceInformationServiceProxy
from bumble.transport import open_transport

from soleware.link.rsc import (
    RSC_MEASUREMENT_CHARACTERISTIC,
    RscFeature,
    RscMeasurement,
    RunningSpeedAndCadenceServiceProxy,
)
from soleware.link.shoe import parse_advertised_name
from soleware.link.soleware_service import RunInfo, SolewareServiceProxy, StrideDetail

__all__ = ["BumbleCentral", "Central", "LinkLost", "ShoeAdvert", "ShoeLink"]

log = logging.getLogger(__name__)
T = TypeVar("T")
RSC_SERVICE = UUID.from_16_bits(0x1814)
#: a GATT operation that takes longer than this means the shoe is gone (a real link would time out too)
OPERATION_TIMEOUT_S = 10.0
#: a connection to a shoe seen advertising a moment ago is up in well under this
CONNECT_TIMEOUT_S = 3.0


class LinkLost(Exception):
    """The connection to a shoe dropped or stopped answering."""


def dropped_mid_operation(exc: BaseException) -> bool:
    """Whether ``exc`` is a Bluetooth operation aborted by a disconnect rather than a cancel of this task.

    Bumble aborts the GATT and pairing operations pending on a connection that drops with
    ``CancelledError("abort: disconnection event occurred.")``; passed on, that would end the awaiting task as
    if it had been cancelled, and a shoe would never be reconnected.
    """
    task = asyncio.current_task()
    return isinstance(exc, asyncio.CancelledError) and task is not None and not task.cancelling()


@dataclasses.dataclass(frozen=True, slots=True)
class ShoeAdvert:
    """A sensor seen while scanning: a Soleware shoe (side and serial from its name) or any RSC sensor."""

    address: str
    name: str
    side: str | None
    serial: str | None
    rssi: int = 0

    @property
    def is_soleware(self) -> bool:
        return self.serial is not None


class ShoeLink(Protocol):
    """A connected shoe (or plain RSC sensor: then the Soleware methods raise NotImplementedError)."""

    advert: ShoeAdvert
    lost: asyncio.Event
    serial: str

    async def subscribe_rsc(self, callback: Callable[[RscMeasurement], Any]) -> None: ...
    async def subscribe_rsc_bytes(self, callback: Callable[[bytes], Any]) -> None: ...
    async def read_feature(self) -> RscFeature | None: ...
    async def read_device_information(self) -> dict[str, str | None]: ...
    async def subscribe_strides(self, callback: Callable[[StrideDetail], Any]) -> None: ...
    async def subscribe_battery(self, callback: Callable[[int], Any]) -> None: ...
    async def list_runs(self) -> list[RunInfo]: ...
    def sync(self, from_seq: int, max_records: int) -> AsyncIterator[tuple[int, bytes]]: ...
    async def ack(self, seq: int) -> None: ...
    async def set_time(self, unix_ms: int) -> None: ...
    async def close(self) -> None: ...


class Central(Protocol):
    async def scan(self, timeout_s: float) -> list[ShoeAdvert]: ...
    async def connect(self, advert: ShoeAdvert) -> ShoeLink: ...
    async def close(self) -> None: ...


def _advert(adv: Advertisement) -> ShoeAdvert | None:
    name = (
        adv.data.get(AdvertisingData.Type.COMPLETE_LOCAL_NAME)
        or adv.data.get(AdvertisingData.Type.SHORTENED_LOCAL_NAME)
        or ""
    )
    if isinstance(name, bytes):
        name = name.decode(errors="replace")
    uuids = adv.data.get(AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS) or []
    parsed = parse_advertised_name(name)
    if parsed is None and RSC_SERVICE not in uuids:
        return None
    side, serial = parsed if parsed else (None, None)
    return ShoeAdvert(str(adv.address), name, side, serial, adv.rssi)


class _BumbleShoe:
    def __init__(
        self, central: BumbleCentral, advert: ShoeAdvert, connection: Connection, peer: Peer
    ) -> None:
        self.advert = advert
        self.connection = connection
        self.peer = peer
        self.lost = asyncio.Event()
        self.serial = advert.serial or advert.address
        connection.on("disconnection", lambda _reason: self.lost.set())
        rsc = peer.create_service_proxy(RunningSpeedAndCadenceServiceProxy)
        self.soleware = peer.create_service_proxy(SolewareServiceProxy)
        self.battery = peer.create_service_proxy(BatteryServiceProxy)
        self.info = peer.create_service_proxy(DeviceInformationServiceProxy)
        if rsc is None:
            raise LinkLost(f"{advert.name or advert.address} has no Running Speed and Cadence service")
        self.rsc = rsc

    async def _op(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await a GATT operation; :class:`LinkLost` as soon as the link drops, or when no answer comes in time."""
        if self.lost.is_set():
            coro.close()
            raise LinkLost(f"{self.serial}: disconnected")
        op = asyncio.ensure_future(coro)
        dropped = asyncio.ensure_future(self.lost.wait())
        try:
            await asyncio.wait(
                {op, dropped}, timeout=OPERATION_TIMEOUT_S, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            dropped.cancel()
            op.cancel()
        if not op.done() or op.cancelled():
            self.lost.set()
            why = "disconnected" if dropped.done() else f"no answer in {OPERATION_TIMEOUT_S:g} s"
            raise LinkLost(f"{self.serial}: {why}")
        try:
            return op.result()
        except (TimeoutError, hci.HCI_Error, ConnectionError) as exc:
            self.lost.set()
            raise LinkLost(f"{self.serial}: {type(exc).__name__} {exc}") from None
        except Exception as exc:
            if self.lost.is_set() or not self.connection.is_encrypted and "encrypt" in str(exc).lower():
                raise LinkLost(f"{self.serial}: {exc}") from None
            raise

    async def secure(self) -> None:
        """Encrypt with the bonded keys, or pair (LE Secure Connections, bonding) the first time."""
        keystore = self.connection.device.keystore
        keys = await keystore.get(str(self.connection.peer_address)) if keystore else None
        if keys is not None and keys.ltk is not None or keys is not None and keys.ltk_central is not None:
            try:
                await self._op(self.connection.encrypt())
                return
            except (LinkLost, hci.HCI_Error):
                if self.lost.is_set():
                    raise
                log.info("%s: stored keys refused, pairing again", self.serial)
        await self._op(self.connection.pair())

    async def read_serial(self) -> str | None:
        if self.info is None or self.info.serial_number is None:
            return None
        # Bumble reads the String characteristic through a UTF-8 adapter: a str already
        return await self._op(self.info.serial_number.read_value())

    async def subscribe_rsc(self, callback: Callable[[RscMeasurement], Any]) -> None:
        await self._op(self.rsc.subscribe_measurements(callback))

    async def subscribe_rsc_bytes(self, callback: Callable[[bytes], Any]) -> None:
        """Notifications of RSC Measurement as sent, for a sensor whose bytes may not decode (a third-party pod)."""
        raw = self.rsc.service_proxy.get_required_characteristic_by_uuid(RSC_MEASUREMENT_CHARACTERISTIC)
        await self._op(raw.subscribe(callback))

    async def read_feature(self) -> RscFeature | None:
        """RSC Feature, None when the read fails (mandatory, but a pod that does not answer still runs)."""
        try:
            return await self._op(self.rsc.read_feature())
        except LinkLost:
            raise
        except Exception as exc:
            log.info("%s: RSC Feature not read: %s", self.serial, exc)
            return None

    async def read_device_information(self) -> dict[str, str | None]:
        """Manufacturer, model and serial from Device Information, each None where the sensor has none."""
        out: dict[str, str | None] = {"manufacturer": None, "model": None, "serial": None}
        if self.info is None:
            return out
        for key, characteristic in (
            ("manufacturer", self.info.manufacturer_name),
            ("model", self.info.model_number),
            ("serial", self.info.serial_number),
        ):
            if characteristic is None:
                continue
            try:
                value = await self._op(characteristic.read_value())
            except LinkLost:
                raise
            except Exception as exc:
                log.info("%s: Device Information %s not read: %s", self.serial, key, exc)
                continue
            out[key] = value.strip("\x00 ").strip() or None
        return out

    async def subscribe_strides(self, callback: Callable[[StrideDetail], Any]) -> None:
        if self.soleware is None:
            raise NotImplementedError("not a Soleware shoe")
        await self._op(self.soleware.subscribe_strides(callback))

    async def subscribe_battery(self, callback: Callable[[int], Any]) -> None:
        if self.battery is None:
            return
        callback(await self._op(self.battery.battery_level.read_value()))
        await self._op(self.battery.battery_level.subscribe(callback))

    async def list_runs(self) -> list[RunInfo]:
        if self.soleware is None:
            raise NotImplementedError("not a Soleware shoe")
        return await self._op(self.soleware.list_runs())

    async def sync(self, from_seq: int, max_records: int) -> AsyncIterator[tuple[int, bytes]]:
        if self.soleware is None:
            raise NotImplementedError("not a Soleware shoe")
        it = self.soleware.sync(from_seq, max_records=max_records, window=16)
        try:
            while True:
                try:
                    item = await self._op(it.__anext__())
                except StopAsyncIteration:
                    return
                yield item
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(it.aclose(), 2.0)

    async def ack(self, seq: int) -> None:
        if self.soleware is None:
            raise NotImplementedError("not a Soleware shoe")
        await self._op(self.soleware.ack(seq))

    async def set_time(self, unix_ms: int) -> None:
        if self.soleware is not None:
            await self._op(self.soleware.set_time(unix_ms))

    async def close(self) -> None:
        """Disconnect, also when the link was given up on (the shoe then drops it and advertises again)."""
        self.lost.set()
        if self.connection.handle in self.connection.device.connections:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.connection.disconnect(), 3.0)


class BumbleCentral:
    """A Bumble device in the central role on ``transport``; bonding keys kept in ``keys_path``."""

    def __init__(
        self, transport: str, *, keys_path: Path | None = None, address: str = "F0:F0:F0:F0:F0:01"
    ) -> None:
        self.transport_name = transport
        self.keys_path = keys_path
        self.address = hci.Address(address, hci.Address.RANDOM_DEVICE_ADDRESS)
        self.device: Device | None = None
        self._transport: Any = None
        self._lock = asyncio.Lock()

    async def open(self) -> BumbleCentral:
        self._transport = await open_transport(self.transport_name)
        device = Device.with_hci(
            "Soleware gateway", self.address, self._transport.source, self._transport.sink
        )
        if self.keys_path is not None:
            self.keys_path.parent.mkdir(parents=True, exist_ok=True)
            device.keystore = JsonKeyStore(namespace=None, filename=str(self.keys_path))
        device.pairing_config_factory = lambda _c: pairing.PairingConfig(sc=True, mitm=False, bonding=True)
        await device.power_on()
        self.device = device
        return self

    async def scan(self, timeout_s: float) -> list[ShoeAdvert]:
        assert self.device is not None
        found: dict[str, ShoeAdvert] = {}

        def on_advertisement(adv: Advertisement) -> None:
            a = _advert(adv)
            if a is not None:
                found[a.address] = a

        async with self._lock:
            self.device.on("advertisement", on_advertisement)
            await self.device.start_scanning(filter_duplicates=True)
            try:
                await asyncio.sleep(timeout_s)
            finally:
                await self.device.stop_scanning()
                self.device.remove_listener("advertisement", on_advertisement)
        return list(found.values())

    async def connect(self, advert: ShoeAdvert) -> _BumbleShoe:
        """Connect to a shoe that was just seen advertising; only the connection request itself is exclusive
        (one pending LE connection per controller), discovery and pairing run alongside other shoes'."""
        assert self.device is not None
        async with self._lock:
            try:
                connection = await asyncio.wait_for(
                    self.device.connect(
                        hci.Address(advert.address), transport=BT_LE_TRANSPORT, timeout=CONNECT_TIMEOUT_S
                    ),
                    CONNECT_TIMEOUT_S + 1,
                )
            except (TimeoutError, hci.HCI_Error, ConnectionError) as exc:
                raise LinkLost(f"cannot connect to {advert.name or advert.address}: {exc}") from None
        try:
            peer = Peer(connection)
            await asyncio.wait_for(peer.discover_services(), OPERATION_TIMEOUT_S)
            for service in peer.services:
                await asyncio.wait_for(service.discover_characteristics(), OPERATION_TIMEOUT_S)
            await asyncio.wait_for(peer.request_mtu(247), OPERATION_TIMEOUT_S)
            shoe = _BumbleShoe(self, advert, connection, peer)
            if shoe.soleware is not None:
                await shoe.secure()
            return shoe
        except BaseException as exc:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(connection.disconnect(), 3.0)
            if isinstance(exc, TimeoutError | hci.HCI_Error | ConnectionError) or dropped_mid_operation(exc):
                raise LinkLost(f"{advert.name or advert.address}: {exc or 'disconnected'}") from None
            raise

    async def close(self) -> None:
        if self.device is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.device.power_off(), 3.0)
        if self._transport is not None:
            with contextlib.suppress(Exception):
                await self._transport.close()
