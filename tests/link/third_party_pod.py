"""A running pod that is not ours, for the tests: what a Stryd, a Polar Stride or a Zwift RunPod shows the phone.

Built from raw ``bumble.gatt`` Service and Characteristic objects, its RSC Measurement bytes packed here with
``struct`` (RSCS 1.0 §3.1): nothing of ``soleware.link`` is used, so a mistake there cannot hide here. Two kinds:

- ``full=False``: RSC with the mandatory fields only (flags 0, speed, cadence), RSC Feature 0, no Device
  Information, no Battery;
- ``full=True``: stride length, total distance (starting ``start_total_dm`` below the uint32 wrap) and the
  walking/running bit in every notification, RSC Feature saying so, and Device Information.

Among the notifications it slips in ``odd`` ones a sloppy pod sends: a packet too short for its flags and one
with a reserved flag bit set. Runnable as a script for the command-line test:
``python tests/link/third_party_pod.py TRANSPORT [--full] [--count N]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import struct

from bumble import core, gatt, hci
from bumble.core import AdvertisingData
from bumble.device import Device
from bumble.transport import open_transport

RSC_SERVICE = core.UUID.from_16_bits(0x1814)
RSC_MEASUREMENT = core.UUID.from_16_bits(0x2A53)
RSC_FEATURE = core.UUID.from_16_bits(0x2A54)
DEVICE_INFORMATION = core.UUID.from_16_bits(0x180A)
MANUFACTURER_NAME = core.UUID.from_16_bits(0x2A29)
MODEL_NUMBER = core.UUID.from_16_bits(0x2A24)
SERIAL_NUMBER = core.UUID.from_16_bits(0x2A25)

ADDRESS = "C0:FF:EE:00:00:01"
NAME = "RunPod 1814"


class ThirdPartyPod:
    """A pod on a Bumble ``transport`` sending ``count`` notifications every ``period_s`` once subscribed."""

    def __init__(
        self,
        transport: str,
        *,
        full: bool,
        count: int = 20,
        period_s: float = 0.1,
        speed_mps: float = 3.0,
        cadence_spm: int = 172,
        stride_cm: int = 105,
        start_total_dm: int = 2**32 - 12,
        odd: bool = True,
        announce: bool = False,
    ) -> None:
        self.transport = transport
        self.full = full
        self.count = count
        self.period_s = period_s
        self.speed_mps = speed_mps
        self.cadence_spm = cadence_spm
        self.stride_cm = stride_cm
        self.total_dm = start_total_dm
        self.odd = odd
        self.announce = announce
        #: every notification sent, as bytes, in order
        self.sent: list[bytes] = []
        self.done = asyncio.Event()
        self.subscribed = asyncio.Event()
        self.device: Device | None = None
        self.measurement = gatt.Characteristic(
            RSC_MEASUREMENT, gatt.Characteristic.Properties.NOTIFY, gatt.Characteristic.Permissions(0), b""
        )
        # Feature bits 0, 1, 2: stride length, total distance, walking or running status
        feature = gatt.Characteristic(
            RSC_FEATURE,
            gatt.Characteristic.Properties.READ,
            gatt.Characteristic.READABLE,
            struct.pack("<H", 0b111 if full else 0),
        )
        self.services = [gatt.Service(RSC_SERVICE, [self.measurement, feature])]
        if full:
            self.services.append(
                gatt.Service(
                    DEVICE_INFORMATION,
                    [
                        gatt.Characteristic(
                            uuid,
                            gatt.Characteristic.Properties.READ,
                            gatt.Characteristic.READABLE,
                            text.encode(),
                        )
                        for uuid, text in (
                            (MANUFACTURER_NAME, "Acme Sports"),
                            (MODEL_NUMBER, "Stride X"),
                            (SERIAL_NUMBER, "ACME-0042"),
                        )
                    ],
                )
            )

    def packet(self) -> bytes:
        """The next notification: the distance since the last one added to the total (whole decimetres)."""
        speed = round(self.speed_mps * 256)
        if not self.full:
            return struct.pack("<BHB", 0x00, speed, self.cadence_spm)
        self.total_dm = (self.total_dm + round(self.speed_mps * self.period_s * 10)) % 2**32
        return struct.pack("<BHBHI", 0x07, speed, self.cadence_spm, self.stride_cm, self.total_dm)

    async def run(self) -> None:
        async with await open_transport(self.transport) as (source, sink):
            device = self.device = Device.with_hci(NAME, hci.Address(ADDRESS), source, sink)
            device.add_services(self.services)
            self.measurement.on(
                "subscription", lambda _connection, notify, _indicate: notify and self.subscribed.set()
            )
            await device.power_on()
            advertising = [
                (AdvertisingData.FLAGS, bytes([0x06])),
                (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS, bytes(RSC_SERVICE.to_bytes())),
                (AdvertisingData.COMPLETE_LOCAL_NAME, NAME.encode()),
            ]
            await device.start_advertising(
                advertising_data=bytes(AdvertisingData(advertising)), auto_restart=True
            )
            try:
                await self.subscribed.wait()
                for i in range(self.count):
                    if self.odd and i == self.count // 3:
                        await self._send(
                            device, struct.pack("<BH", 0x03, 0x0300)
                        )  # short: flags say 10 bytes
                    data = bytearray(self.packet())
                    if self.odd and i == self.count // 2:
                        data[0] |= 0x08  # a reserved flag bit
                    await self._send(device, bytes(data))
                    await asyncio.sleep(self.period_s)
                self.done.set()
                if self.announce:
                    print("sent", len(self.sent), flush=True)
                await asyncio.get_running_loop().create_future()
            finally:
                with contextlib.suppress(Exception):
                    await device.power_off()

    async def _send(self, device: Device, data: bytes) -> None:
        self.sent.append(data)
        await device.notify_subscribers(self.measurement, data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("transport")
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--count", type=int, default=20)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(ThirdPartyPod(args.transport, full=args.full, count=args.count, announce=True).run())


if __name__ == "__main__":
    main()
