"""A virtual shoe on Bluetooth LE: the firmware fed in (sped-up) real time, its values served over GATT.

The shoe advertises ``Soleware-L-<serial>`` (or ``-R-``) with the Running Speed and Cadence service, serves RSC,
Battery, Device Information and the Soleware service, and keeps its runs in a flash image so a restart loses
nothing that was written. Any Bumble transport works: a virtual controller (``tcp-client:127.0.0.1:9101``) or a
real adapter (``usb:0``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from bumble import hci, pairing
from bumble.core import UUID, AdvertisingData
from bumble.device import Connection, Device
from bumble.keys import JsonKeyStore
from bumble.profiles.battery_service import BatteryService
from bumble.profiles.device_information_service import DeviceInformationService
from bumble.transport import open_transport

from soleware.gait.recording import Recording
from soleware.link.rsc import RscMeasurement, RunningSpeedAndCadenceService
from soleware.link.soleware_service import RunInfo, SolewareService, StrideDetail
from soleware.shoe.firmware import FIRMWARE_VERSION, Firmware, FirmwareEvent, StrideEvent
from soleware.shoe.runlog import FileFlash, Flash, MemoryFlash, RunLog

__all__ = ["RunLogAdapter", "VirtualShoe", "advertised_name", "parse_advertised_name", "shoe_address"]

log = logging.getLogger(__name__)
NAME_PREFIX = "Soleware-"
MANUFACTURER = "Soleware"
MODEL = "Soleware sole v1 (virtual)"
#: how often the shoe sends an RSC measurement between strides (foot pods send about once a second)
RSC_INTERVAL_S = 1.0
#: how long after a disconnect the shoe checks that it is advertising again
READVERTISE_AFTER_S = 0.5


def advertised_name(side: str, serial: str) -> str:
    return f"{NAME_PREFIX}{side[0].upper()}-{serial}"


def parse_advertised_name(name: str) -> tuple[str, str] | None:
    """(side, serial) from a Soleware shoe's advertised name, None for anything else."""
    if (
        not name.startswith(NAME_PREFIX)
        or len(name) < len(NAME_PREFIX) + 3
        or name[len(NAME_PREFIX) + 1] != "-"
    ):
        return None
    side = {"L": "left", "R": "right"}.get(name[len(NAME_PREFIX)])
    return None if side is None else (side, name[len(NAME_PREFIX) + 2 :])


def shoe_address(serial: str) -> hci.Address:
    """A stable random static address from the serial (so a bonded phone finds the same shoe again)."""
    b = bytearray(hashlib.sha256(serial.encode()).digest()[:6])
    b[0] |= 0xC0
    return hci.Address(":".join(f"{x:02X}" for x in b), hci.Address.RANDOM_DEVICE_ADDRESS)


class RunLogAdapter:
    """The flash run log as the Soleware service's ``RunLogSource``."""

    def __init__(self, run_log: RunLog) -> None:
        self.run_log = run_log

    def list_runs(self) -> Sequence[RunInfo]:
        return [
            RunInfo(r.run_id, r.start_unix_ms or 0, r.first_seq, r.last_seq)
            for r in self.run_log.runs()
            if not r.acknowledged
        ]

    def read_from(self, seq: int, max_records: int) -> Sequence[tuple[int, bytes]]:
        return [(r.seq, bytes(r)) for r in self.run_log.read_from(seq, max_records)]

    def ack(self, seq: int) -> None:
        self.run_log.ack(seq)
        self.run_log.gc()


@dataclasses.dataclass
class ShoeStats:
    """What the shoe did, for tests and benchmarks: when each stride's notification went out."""

    strides_sent: int = 0
    measurements_sent: int = 0
    #: (seq, wall-clock monotonic time the stride notification was sent)
    stride_sent_at: list[tuple[int, float]] = dataclasses.field(default_factory=list)
    #: (seq, the stride's end in the recording's time, s)
    stride_end_s: list[tuple[int, float]] = dataclasses.field(default_factory=list)
    #: monotonic time the replay started (recording time 0)
    replay_started_at: float = 0.0


class VirtualShoe:
    """One shoe: a Bumble peripheral serving the firmware's values while it replays a recording.

    Parameters
    ----------
    side, serial
        Which foot, and the shoe's serial (also its name and address).
    recording
        The IMU samples the shoe will "feel" (simulated or real), replayed from its start; None: the shoe only
        serves what its log holds (a shoe switched on after a run, or restarted).
    transport
        Bumble transport name of the controller.
    speedup
        Replay speed: 1 = real time.
    log_path
        Flash image (created if missing); None keeps the log in memory.
    keys_path
        Where bonding keys are kept (None: in memory).
    """

    def __init__(
        self,
        *,
        side: str,
        serial: str,
        recording: Recording | None,
        transport: str,
        speedup: float = 1.0,
        log_path: Path | None = None,
        keys_path: Path | None = None,
        boot_unix_ms: int | None = None,
    ) -> None:
        if speedup <= 0:
            raise ValueError(f"speedup must be > 0, got {speedup}")
        self.side = side
        self.serial = serial
        self.recording = recording
        self.transport_name = transport
        self.speedup = speedup
        self.log_path = log_path
        self.keys_path = keys_path
        self.boot_unix_ms = int(time.time() * 1000) if boot_unix_ms is None else boot_unix_ms
        self.stats = ShoeStats()
        self.done = asyncio.Event()
        self.device: Device | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._flash: Flash

    # ------------------------------------------------------------------ setup
    def _open_log(self) -> RunLog:
        if self.log_path is None:
            self._flash = MemoryFlash()
        elif self.log_path.exists():
            self._flash = FileFlash(self.log_path)
        else:
            self._flash = FileFlash.create(self.log_path)
        return RunLog.open(self._flash)

    def _services(self) -> None:
        fw = self.firmware
        self.rsc = RunningSpeedAndCadenceService(on_set_cumulative=fw.set_cumulative_distance)
        self.soleware = SolewareService(run_log=RunLogAdapter(self.run_log), on_time_sync=fw.set_time)
        self.battery = BatteryService(lambda _conn: fw.battery.percent)
        self.info = DeviceInformationService(
            manufacturer_name=MANUFACTURER,
            model_number=MODEL,
            serial_number=self.serial,
            firmware_revision=FIRMWARE_VERSION,
        )

    def _advertising_data(self) -> bytes:
        return bytes(
            AdvertisingData(
                [
                    (AdvertisingData.FLAGS, bytes([0x06])),
                    (
                        AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                        bytes(UUID.from_16_bits(0x1814).to_bytes()),
                    ),
                    (AdvertisingData.COMPLETE_LOCAL_NAME, advertised_name(self.side, self.serial).encode()),
                ]
            )
        )

    # ------------------------------------------------------------------ run
    async def run(self, *, serve_after_s: float | None = None) -> None:
        """Advertise, replay the recording, then keep serving (``serve_after_s`` seconds, or until cancelled)."""
        self.run_log = self._open_log()
        rate = self.recording.sample_rate_hz if self.recording is not None else 200.0
        self.firmware = Firmware(
            side=self.side, sample_rate_hz=rate, run_log=self.run_log, boot_unix_ms=self.boot_unix_ms
        )
        self._services()
        async with await open_transport(self.transport_name) as (source, sink):
            device = Device.with_hci(
                advertised_name(self.side, self.serial), shoe_address(self.serial), source, sink
            )
            self.device = device
            if self.keys_path is not None:
                device.keystore = JsonKeyStore(namespace=None, filename=str(self.keys_path))
            device.pairing_config_factory = lambda _c: pairing.PairingConfig(
                sc=True, mitm=False, bonding=True
            )
            for service in (self.rsc, self.soleware, self.battery, self.info):
                device.add_service(service)
            device.on("connection", self._on_connection)
            await device.power_on()
            await device.start_advertising(advertising_data=self._advertising_data(), auto_restart=True)
            log.info("%s advertising", advertised_name(self.side, self.serial))
            try:
                if self.recording is not None:
                    await self._replay(device, self.recording)
                self.done.set()
                if serve_after_s is None:
                    await asyncio.get_running_loop().create_future()
                else:
                    await asyncio.sleep(serve_after_s)
            finally:
                for task in self._tasks:
                    task.cancel()
                with contextlib.suppress(Exception):
                    await device.power_off()
                self._flash.close()

    def _on_connection(self, connection: Connection) -> None:
        self.firmware.connected = True
        connection.on("disconnection", self._on_disconnection)

    def _on_disconnection(self, _reason: int) -> None:
        self.firmware.connected = bool(self.device and self.device.connections)
        task = asyncio.get_running_loop().create_task(self._advertise_again())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _advertise_again(self) -> None:
        """Advertise after any disconnect (a link the phone gave up on, a supervision timeout), so the phone
        finds the shoe again; Bumble's own restart is given a moment first."""
        await asyncio.sleep(READVERTISE_AFTER_S)
        device = self.device
        if device is not None and not device.connections and not device.is_advertising:
            log.info("%s advertising again", advertised_name(self.side, self.serial))
            with contextlib.suppress(Exception):
                await device.start_advertising(advertising_data=self._advertising_data(), auto_restart=True)

    async def _replay(self, device: Device, rec: Recording) -> None:
        t, acc, gyr = rec.t_s, rec.acc_mps2, rec.gyr_rps
        start_wall = time.monotonic()
        self.stats.replay_started_at = start_wall
        i, n = 0, len(t)
        next_rsc = 0.0
        last_battery = self.firmware.battery.percent
        while i < n:
            sim_now = (time.monotonic() - start_wall) * self.speedup
            j = int(np.searchsorted(t, sim_now, side="right"))
            j = max(j, i + 1)
            events = []
            for k in range(i, min(j, n)):
                events += self.firmware.step(float(t[k]), acc[k], gyr[k])
            i = min(j, n)
            if i == n:
                events += self.firmware.finish()
            await self._publish(device, events)
            sim_t = float(t[i - 1])
            if sim_t >= next_rsc:
                await self._send_rsc(device)
                next_rsc = sim_t + RSC_INTERVAL_S
            if self.firmware.battery.percent != last_battery:
                last_battery = self.firmware.battery.percent
                with contextlib.suppress(Exception):
                    await device.notify_subscribers(self.battery.battery_level_characteristic)
            await asyncio.sleep(0.01)

    async def _send_rsc(self, device: Device) -> None:
        v = self.firmware.rsc_
        m = RscMeasurement(
            speed_mps=v.speed_mps,
            cadence_spm=v.cadence_spm,
            stride_length_m=v.stride_length_m,
            total_distance_m=v.total_distance_m,
            is_running=v.is_running,
        )
        with contextlib.suppress(Exception):
            await self.rsc.notify_measurement(device, m)
            self.stats.measurements_sent += 1

    async def _publish(self, device: Device, events: list[StrideEvent | FirmwareEvent]) -> None:
        for e in events:
            if isinstance(e, StrideEvent):
                with contextlib.suppress(Exception):
                    await self.soleware.notify_stride(
                        device, StrideDetail.from_stride(e.stride, seq=e.seq, side=self.firmware.side)
                    )
                self.stats.strides_sent += 1
                self.stats.stride_sent_at.append((e.seq, time.monotonic()))
                self.stats.stride_end_s.append((e.seq, e.stride.t_end_s))
                await self._send_rsc(device)
            else:
                log.info("%s: %s at %.1f s", self.side, e.kind, e.t_s)
                if e.kind in ("paused", "run_ended"):
                    await self._send_rsc(device)
