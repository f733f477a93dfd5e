"""Virtual Bluetooth sensors shown to a web page through Chromium's Web Bluetooth emulation.

Chromium's DevTools domain ``BluetoothEmulation`` simulates an adapter and peripherals whose GATT operations
(connect, discover, read, write, subscribe) are answered by the DevTools client. This bridge answers them with a
Bumble central on a virtual radio, so every byte the page reads comes from the real peripheral: our shoe
firmware (:class:`soleware.link.shoe.VirtualShoe`) or any other RSC sensor. The emulated peripheral's services,
characteristics and descriptors mirror the peripheral's GATT database, discovered over Bumble at connection.

What the emulation (Chromium 156) cannot do, and what stands in for it (see docs/ble.md, "What the browser tests
cover"):

* **Notifications.** There is no command to notify a value. :data:`NOTIFY_SHIM` is an init script that wraps
  ``BluetoothRemoteGATTCharacteristic.startNotifications`` to remember the subscribed characteristic objects and
  exposes ``__solewareEmulatedNotify``, which sets ``value`` and dispatches ``characteristicvaluechanged`` on
  them; the bridge calls it for every notification or indication the peripheral sends. The app's code is the
  same as on a real phone.
* **Advertisements.** ``simulateAdvertisement`` does not complete in this build, so sensors found by scanning
  are shown as pre-connected peripherals (``simulatePreconnectedPeripheral``), which the device chooser lists.
* **Pairing.** Web Bluetooth leaves pairing to the operating system. When the peripheral refuses an operation
  for want of encryption, the bridge plays the system's pairing dialog: it pairs over Bumble and retries when
  ``allow_pairing`` is true, and answers the page with an error otherwise.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from bumble import att, hci
from bumble.core import BT_LE_TRANSPORT, UUID
from bumble.device import Connection, Peer
from bumble.gatt import Characteristic
from bumble.gatt_client import CharacteristicProxy

from soleware.link.central import BumbleCentral, ShoeAdvert

__all__ = ["NOTIFY_SHIM", "WebBluetoothBridge", "uuid_str"]

log = logging.getLogger(__name__)

#: ATT errors that mean "encrypt the link first" (insufficient authentication / encryption)
_SECURITY_ERRORS = frozenset({0x05, 0x0F})
#: non-zero GATT answer code for a failed operation (the page sees a DOMException)
_FAILED = 0x0E
_PROPERTIES = {
    "broadcast": Characteristic.Properties.BROADCAST,
    "read": Characteristic.Properties.READ,
    "writeWithoutResponse": Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
    "write": Characteristic.Properties.WRITE,
    "notify": Characteristic.Properties.NOTIFY,
    "indicate": Characteristic.Properties.INDICATE,
    "authenticatedSignedWrites": Characteristic.Properties.AUTHENTICATED_SIGNED_WRITES,
    "extendedProperties": Characteristic.Properties.EXTENDED_PROPERTIES,
}

NOTIFY_SHIM = """
(() => {
  const C = globalThis.BluetoothRemoteGATTCharacteristic;
  if (!C || !globalThis.Bluetooth || globalThis.__solewareEmulatedNotify) return;
  const subscribed = new Map();
  // the bridge names a peripheral by its advertised name; a device from getDevices() may come without one
  const NAMES = "__solewareEmulatedNames";
  const names = () => JSON.parse(localStorage.getItem(NAMES) || "{}");
  const nameOf = (d) => d.name || names()[d.id] || "";
  const request = Bluetooth.prototype.requestDevice;
  Bluetooth.prototype.requestDevice = async function (options) {
    const device = await request.call(this, options);
    if (device.name) localStorage.setItem(NAMES, JSON.stringify({ ...names(), [device.id]: device.name }));
    return device;
  };
  const key = (name, service, characteristic) => name + "|" + service + "|" + characteristic;
  const keyOf = (c) => key(nameOf(c.service.device), c.service.uuid, c.uuid);
  const start = C.prototype.startNotifications;
  C.prototype.startNotifications = async function () {
    const result = await start.call(this);
    subscribed.set(keyOf(this), this);
    return result;
  };
  const stop = C.prototype.stopNotifications;
  C.prototype.stopNotifications = async function () {
    subscribed.delete(keyOf(this));
    return stop.call(this);
  };
  const read = C.prototype.readValue;
  C.prototype.readValue = async function () {
    delete this.value;
    return read.call(this);
  };
  Object.defineProperty(globalThis, "__solewareEmulatedNotify", {
    value: (batch) => {
      const t0 = performance.now();
      let delivered = 0;
      for (const [name, service, characteristic, b64] of batch) {
        const c = subscribed.get(key(name, service, characteristic));
        if (!c || !c.service.device.gatt.connected) continue;
        const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        Object.defineProperty(c, "value", { value: new DataView(bytes.buffer), configurable: true });
        c.dispatchEvent(new Event("characteristicvaluechanged", { bubbles: true }));
        delivered += 1;
      }
      stats.calls += 1;
      stats.busyMs += performance.now() - t0;
      return delivered;
    },
  });
  // what the page spent dispatching notifications, for the benchmark
  const stats = { calls: 0, busyMs: 0 };
  Object.defineProperty(globalThis, "__solewareEmulatedStats", { value: stats });
})();
"""


class CdpSession(Protocol):
    """What the bridge needs of a Playwright (async) ``CDPSession``."""

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]: ...
    def on(self, event: str, f: Callable[[dict[str, Any]], Any]) -> None: ...


def uuid_str(uuid: UUID) -> str:
    """A Bumble UUID as Web Bluetooth writes it: 128-bit, lowercase, dashed."""
    h = bytes(reversed(uuid.to_bytes(force_128=True))).hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclasses.dataclass
class _Link:
    advert: ShoeAdvert
    connection: Connection | None = None
    #: (service uuid, characteristic uuid, index) → Bumble proxy, for the current connection
    proxies: dict[tuple[str, str, int], CharacteristicProxy[bytes]] = dataclasses.field(default_factory=dict)
    subscriptions: dict[str, Callable[[bytes], None]] = dataclasses.field(default_factory=dict)
    mirrored: bool = False


class WebBluetoothBridge:
    """Peripherals on a Bumble transport, mirrored into a page's Web Bluetooth emulation.

    Parameters
    ----------
    transport
        Bumble transport of the bridge's own controller (the phone's radio).
    allow_pairing
        Whether the "system" accepts pairing when the peripheral asks for encryption.
    """

    def __init__(self, *, transport: str, allow_pairing: bool = True) -> None:
        self.transport = transport
        self.allow_pairing = allow_pairing
        self.central = BumbleCentral(transport, address="F0:F0:F0:F0:F0:0B")
        self.links: dict[str, _Link] = {}
        #: addresses the device chooser picks, in order; when empty it picks the first unchosen device
        self.choices: list[str] = []
        self.chosen: list[str] = []
        #: notifications received from the peripherals, and each one handed to the page (characteristic uuid,
        #: value, monotonic time the page's event handlers had run)
        self.notified = 0
        self.delivered: list[tuple[str, bytes, float]] = []
        #: seconds spent handing notifications to the page (DevTools round trips, the page's handlers included)
        self.deliver_s = 0.0
        self._chars: dict[str, tuple[str, str, str, int]] = {}
        self._answered: set[str] = set()
        self._outbox: asyncio.Queue[tuple[str, str, str, str]] = asyncio.Queue()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._browser: CdpSession | None = None
        self._page_session: CdpSession | None = None
        self._page: Any = None

    # ------------------------------------------------------------------ setup
    async def attach(self, *, browser_session: CdpSession, page_session: CdpSession, page: Any) -> None:
        """Turn on the emulated adapter, answer GATT operations and the device chooser for ``page`` (a
        Playwright async ``Page``; typed loosely because its ``on`` overloads match no small protocol).

        The page needs :data:`NOTIFY_SHIM` as an init script (``context.add_init_script``) and a Chromium
        started with ``--enable-experimental-web-platform-features`` (Web Bluetooth on Linux).
        """
        self._browser, self._page_session, self._page = browser_session, page_session, page
        await self.central.open()
        await browser_session.send("BluetoothEmulation.enable", {"state": "powered-on", "leSupported": True})
        browser_session.on("BluetoothEmulation.gattOperationReceived", self._spawn(self._on_gatt))
        browser_session.on(
            "BluetoothEmulation.characteristicOperationReceived", self._spawn(self._on_characteristic)
        )
        browser_session.on("BluetoothEmulation.descriptorOperationReceived", self._spawn(self._on_descriptor))
        page_session.on("DeviceAccess.deviceRequestPrompted", self._spawn(self._on_prompt))
        await page_session.send("DeviceAccess.enable")
        self._spawn(self._deliver)({})
        page.on("domcontentloaded", lambda _page: self._spawn(lambda _e: self.announce())({}))

    async def discover(self, timeout_s: float = 1.0) -> list[ShoeAdvert]:
        """Scan and show every RSC sensor found to the page as a peripheral it may choose."""
        found = await self.central.scan(timeout_s)
        for advert in found:
            if advert.address in self.links:
                continue
            self.links[advert.address] = _Link(advert)
            await self._announce(advert)
        return found

    async def announce(self) -> None:
        """Turn the emulation on again and show every known sensor: a navigation turns it off."""
        assert self._browser is not None
        # after a navigation the domain says it is enabled while the adapter behind it is gone: start it afresh
        await self._browser.send("BluetoothEmulation.disable")
        await self._browser.send("BluetoothEmulation.enable", {"state": "powered-on", "leSupported": True})
        for link in self.links.values():
            if link.connection is not None:  # the page that held the link is gone, as in a real browser
                with contextlib.suppress(Exception):
                    await link.connection.disconnect()
            link.mirrored = False
            await self._announce(link.advert)

    async def _announce(self, advert: ShoeAdvert) -> None:
        assert self._browser is not None
        await self._browser.send(
            "BluetoothEmulation.simulatePreconnectedPeripheral",
            {
                "address": _emulated_address(advert.address),
                "name": advert.name,
                "manufacturerData": [],
                "knownServiceUuids": [uuid_str(UUID.from_16_bits(0x1814))],
            },
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for link in self.links.values():
            if link.connection is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(link.connection.disconnect(), 2.0)
        await self.central.close()
        if self._browser is not None:
            with contextlib.suppress(Exception):
                await self._browser.send("BluetoothEmulation.disable")

    # ------------------------------------------------------------------ faults
    async def cut(self, address: str) -> None:
        """Drop the link to the peripheral at ``address`` (Bumble address): the page sees a disconnection."""
        link = self.links[address]
        if link.connection is not None:
            with contextlib.suppress(Exception):
                await link.connection.disconnect()

    # ------------------------------------------------------------------ handlers
    def _spawn(self, handler: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], None]:
        def start(event: dict[str, Any]) -> None:
            task = asyncio.get_running_loop().create_task(handler(event))
            self._tasks.add(task)
            task.add_done_callback(self._done)

        return start

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("bridge handler failed: %r", task.exception())

    async def _on_prompt(self, event: dict[str, Any]) -> None:
        assert self._page_session is not None
        if event["id"] in self._answered:
            return  # the chooser updates its list while the answer is on its way
        listed = [d["id"] for d in event["devices"]]
        log.info("bridge: device chooser lists %s", listed)
        wanted = [_emulated_address(a) for a in self.choices]
        pick = next((a for a in wanted if a in listed), None)
        if pick is None and not wanted:
            pick = next((a for a in listed if a not in self.chosen), None)
        if pick is None:
            return  # a later prompt update may list it
        if self.choices:
            self.choices.pop(0)
        self.chosen.append(pick)
        self._answered.add(event["id"])
        await self._page_session.send("DeviceAccess.selectPrompt", {"id": event["id"], "deviceId": pick})

    async def _on_gatt(self, event: dict[str, Any]) -> None:
        assert self._browser is not None
        address = event["address"]
        log.info("bridge: %s %s", event["type"], address)
        code = 0
        if event["type"] == "connection":
            try:
                await self._connect(self._link(address))
            except Exception as exc:
                log.info("bridge: connection to %s failed: %s", address, exc)
                code = _FAILED
        await self._browser.send(
            "BluetoothEmulation.simulateGATTOperationResponse",
            {"address": address, "type": event["type"], "code": code},
        )

    def _link(self, emulated: str) -> _Link:
        return next(v for k, v in self.links.items() if _emulated_address(k) == emulated)

    async def _connect(self, link: _Link) -> None:
        assert self.central.device is not None and self._browser is not None
        if link.connection is not None and link.connection.handle in self.central.device.connections:
            return
        async with self.central._lock:
            connection = await self.central.device.connect(
                hci.Address(link.advert.address), transport=BT_LE_TRANSPORT, timeout=3.0
            )
        link.connection = connection
        link.subscriptions.clear()
        connection.on("disconnection", lambda _reason: self._spawn(self._on_dropped)({"link": link}))
        peer = Peer(connection)
        await peer.discover_services()
        proxies: dict[tuple[str, str, int], CharacteristicProxy[bytes]] = {}
        for service in peer.services:
            await service.discover_characteristics()
            for characteristic in service.characteristics:
                await characteristic.discover_descriptors()
                key = (uuid_str(service.uuid), uuid_str(characteristic.uuid))
                index = sum(1 for k in proxies if k[:2] == key)
                proxies[(*key, index)] = characteristic
        await peer.request_mtu(247)
        link.proxies = proxies
        if not link.mirrored:
            await self._mirror(link, peer)
            link.mirrored = True

    async def _mirror(self, link: _Link, peer: Peer) -> None:
        """Add the peer's services, characteristics and descriptors to the emulated peripheral."""
        assert self._browser is not None
        address = _emulated_address(link.advert.address)
        for service in peer.services:
            sid = (
                await self._browser.send(
                    "BluetoothEmulation.addService",
                    {"address": address, "serviceUuid": uuid_str(service.uuid)},
                )
            )["serviceId"]
            seen: dict[str, int] = {}
            for characteristic in service.characteristics:
                cu = uuid_str(characteristic.uuid)
                index = seen.get(cu, 0)
                seen[cu] = index + 1
                props = {n: bool(characteristic.properties & f) for n, f in _PROPERTIES.items()}
                cid = (
                    await self._browser.send(
                        "BluetoothEmulation.addCharacteristic",
                        {"serviceId": sid, "characteristicUuid": cu, "properties": props},
                    )
                )["characteristicId"]
                self._chars[cid] = (link.advert.address, uuid_str(service.uuid), cu, index)
                for descriptor in characteristic.descriptors:
                    await self._browser.send(
                        "BluetoothEmulation.addDescriptor",
                        {"characteristicId": cid, "descriptorUuid": uuid_str(descriptor.type)},
                    )

    async def _on_dropped(self, event: dict[str, Any]) -> None:
        link: _Link = event["link"]
        link.connection = None
        link.subscriptions.clear()
        link.mirrored = False  # the emulation forgets a peripheral's services when it disconnects
        assert self._browser is not None
        with contextlib.suppress(Exception):
            await self._browser.send(
                "BluetoothEmulation.simulateGATTDisconnection",
                {"address": _emulated_address(link.advert.address)},
            )

    async def _secured(self, link: _Link, op: Callable[[], Any]) -> Any:
        """Run a GATT operation; on an encryption error pair (if the "system" allows it) and run it again."""
        try:
            return await op()
        except att.ATT_Error as exc:
            if exc.error_code not in _SECURITY_ERRORS or not self.allow_pairing or link.connection is None:
                raise
            log.info("bridge: %s asks for encryption, pairing", link.advert.name)
            await link.connection.pair()
            return await op()

    async def _on_characteristic(self, event: dict[str, Any]) -> None:
        assert self._browser is not None
        cid, kind = event["characteristicId"], event["type"]
        address, service, characteristic, index = self._chars[cid]
        link = self.links[address]
        proxy = link.proxies.get((service, characteristic, index))
        answer: dict[str, Any] = {"characteristicId": cid, "type": kind, "code": 0}
        try:
            if proxy is None or link.connection is None:
                raise ConnectionError("not connected")
            if kind == "read":
                value = await self._secured(link, proxy.read_value)
                answer["data"] = base64.b64encode(bytes(value)).decode()
            elif kind == "write":
                data = base64.b64decode(event.get("data", ""))
                with_response = event.get("writeType") != "write-without-response"
                await self._secured(link, lambda: proxy.write_value(data, with_response=with_response))
            elif kind == "subscribe-to-notifications":
                name = link.advert.name

                def forward(value: bytes) -> None:
                    self.notified += 1
                    self._outbox.put_nowait((name, service, characteristic, base64.b64encode(value).decode()))

                old = link.subscriptions.pop(cid, None)
                if old is not None:
                    await proxy.unsubscribe(old)
                prefer_notify = bool(proxy.properties & Characteristic.Properties.NOTIFY)
                await self._secured(link, lambda: proxy.subscribe(forward, prefer_notify=prefer_notify))
                link.subscriptions[cid] = forward
            elif kind == "unsubscribe-from-notifications":
                old = link.subscriptions.pop(cid, None)
                if old is not None:
                    await proxy.unsubscribe(old)
        except Exception as exc:
            log.info("bridge: %s on %s failed: %r", kind, characteristic, exc)
            answer = {"characteristicId": cid, "type": kind, "code": _FAILED}
        await self._browser.send("BluetoothEmulation.simulateCharacteristicOperationResponse", answer)

    async def _on_descriptor(self, event: dict[str, Any]) -> None:
        assert self._browser is not None
        answer: dict[str, Any] = {
            "descriptorId": event["descriptorId"],
            "type": event["type"],
            "code": _FAILED,
        }
        await self._browser.send("BluetoothEmulation.simulateDescriptorOperationResponse", answer)

    async def _deliver(self, _event: dict[str, Any]) -> None:
        """Hand notifications to the page in order, as many per call as have queued up."""
        assert self._page is not None
        while True:
            batch = [await self._outbox.get()]
            while not self._outbox.empty():
                batch.append(self._outbox.get_nowait())
            t0 = time.monotonic()
            with contextlib.suppress(Exception):
                await self._page.evaluate("(batch) => globalThis.__solewareEmulatedNotify(batch)", batch)
            now = time.monotonic()
            self.deliver_s += now - t0
            self.delivered.extend((c, base64.b64decode(b64), now) for _n, _s, c, b64 in batch)


def _emulated_address(address: str) -> str:
    """Bumble's address text (``AA:BB:…/P``) as the emulation's plain ``AA:BB:…``."""
    return address.split("/")[0]
