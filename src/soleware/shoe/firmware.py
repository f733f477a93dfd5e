"""The shoe's firmware: a fixed-step loop fed one IMU sample at a time, as it would run on the microcontroller.

Per sample it copies the reading into a FIFO block (what a sensor's FIFO and DMA do on the real part); each full
block goes to the streaming gait engine, whose window is bounded. From the strides the engine emits it keeps the
values the Bluetooth Running Speed and Cadence profile reports, starts and ends runs by itself, and logs every
stride to the flash run log.

Cadence is reported as steps per minute of *both* feet (one shoe sees every other step; the engine's stride
cadence already counts two steps per stride), as commercial foot pods do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import time
from collections.abc import Iterator
from typing import Self

import numpy as np

from soleware.gait.pipeline import Stride
from soleware.gait.streaming import StreamingGaitAnalysis
from soleware.gait.vocabulary import Gait, Side
from soleware.shoe.runlog import RunLog

__all__ = ["Battery", "Firmware", "FirmwareEvent", "RscValues", "RunState", "StrideEvent"]

#: 0.3: stride records carry the stride's start (run log record STRIDE 0x06)
FIRMWARE_VERSION = "0.3.0"


class RunState(enum.StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"


@dataclasses.dataclass(frozen=True, slots=True)
class RscValues:
    """What the RSC Measurement characteristic carries, in SI units (cadence in steps/min of both feet)."""

    speed_mps: float = 0.0
    cadence_spm: float = 0.0
    stride_length_m: float = 0.0
    total_distance_m: float = 0.0
    is_running: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class FirmwareEvent:
    """Something a connected phone should hear about: ``kind`` is run_started, paused, resumed or run_ended."""

    kind: str
    t_s: float
    run_id: int | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class StrideEvent:
    """A stride of the current run, with its distance-calibrated length and speed, and the RSC values after it."""

    seq: int
    run_id: int
    stride: Stride
    rsc: RscValues


@dataclasses.dataclass
class Battery:
    """State of charge from the charge drawn: sampling and processing all the time, the radio when connected.

    Currents are those of a small BLE SoC with an IMU (the defaults put a 120 mAh coin-sized cell at about
    40 hours of running).
    """

    capacity_mah: float = 120.0
    idle_ma: float = 0.05
    active_ma: float = 2.2
    radio_ma: float = 0.8
    charge_mah: float = 120.0

    def drain(self, dt_s: float, *, active: bool, connected: bool) -> None:
        current = (self.active_ma if active else self.idle_ma) + (self.radio_ma if connected else 0.0)
        self.charge_mah = max(0.0, self.charge_mah - current * dt_s / 3600.0)

    @property
    def percent(self) -> int:
        return round(100.0 * self.charge_mah / self.capacity_mah)


class Firmware:
    """One shoe's firmware.

    Parameters
    ----------
    side
        "left" or "right".
    sample_rate_hz
        The IMU's output data rate.
    run_log
        The flash run log to record runs in (None: nothing is stored).
    boot_unix_ms
        Wall-clock time at sample time 0 (set again by time sync).
    calibration
        Factor applied to every stride length (the RSC calibration; 1.0 = as measured).
    start_strides
        Consecutive strides (no gap longer than ``pause_s``) that start a run.
    pause_s
        No stride for this long (after its end) pauses the run: speed and cadence go to 0.
    auto_end_s
        No stride for this long ends the run and closes it in the log.
    fifo_samples
        Samples collected before the engine sees them (the sensor FIFO).

    Attributes
    ----------
    state_
        IDLE, RUNNING or PAUSED.
    rsc_
        The current RSC values.
    run_id_
        The current run's id in the log (or a counter without a log), None when idle.
    last_stride_
        The newest stride of the current run (None before its first); strides themselves go to the log.
    run_distance_m_, run_strides_
        Distance (calibrated) and number of strides of the current run.
    """

    def __init__(
        self,
        *,
        side: Side | str,
        sample_rate_hz: float,
        run_log: RunLog | None = None,
        boot_unix_ms: int | None = None,
        calibration: float = 1.0,
        start_strides: int = 3,
        pause_s: float = 4.0,
        auto_end_s: float = 60.0,
        fifo_samples: int = 32,
        battery: Battery | None = None,
    ) -> None:
        if Side.parse(side) is None:
            raise ValueError(f"side must be 'left' or 'right', got {side!r}")
        if not 0.5 <= calibration <= 2.0:
            raise ValueError(f"calibration must be 0.5..2.0, got {calibration}")
        self.side = Side(side.lower())
        self.sample_rate_hz = sample_rate_hz
        self.run_log = run_log
        self.boot_unix_ms = int(time.time() * 1000) if boot_unix_ms is None else int(boot_unix_ms)
        self.calibration = calibration
        self.start_strides = start_strides
        self.pause_s = pause_s
        self.auto_end_s = auto_end_s
        self.battery = battery or Battery()
        self.connected = False
        self._engine = StreamingGaitAnalysis(sample_rate_hz=sample_rate_hz)
        self._fifo = np.empty((fifo_samples, 7))
        self._n = 0
        self._t_last: float | None = None
        self._candidates: list[Stride] = []
        self._total_m = 0.0
        self._run_counter = 0
        self._run_start_s = 0.0
        self._moving_s = 0.0
        self._seq = 0
        self.state_ = RunState.IDLE
        self.rsc_ = RscValues()
        self.run_id_: int | None = None
        self.last_stride_: Stride | None = None
        self.run_distance_m_ = 0.0
        self.run_strides_ = 0
        if run_log is not None and run_log.resume_run() is not None:
            # power came back mid-run: the log's open run is closed; a new one starts with the next strides
            run_log.end_run(distance_m=0.0, moving_s=0.0, elapsed_s=0.0)

    # ------------------------------------------------------------------ control (RSC control point, time sync)
    def set_cumulative_distance(self, distance_m: float) -> None:
        if not 0 <= distance_m < 429_496_729.6:
            raise ValueError(f"cumulative distance must be 0..429496729.5 m, got {distance_m}")
        self._total_m = float(distance_m)
        self.rsc_ = dataclasses.replace(self.rsc_, total_distance_m=self._total_m)

    def set_calibration(self, factor: float) -> None:
        if not 0.5 <= factor <= 2.0:
            raise ValueError(f"calibration must be 0.5..2.0, got {factor}")
        self.calibration = float(factor)

    def start_calibration(self) -> None:
        """RSC "Start Sensor Calibration": forget the gyroscope bias; the next standing rest measures it again."""
        self._engine.forget_gyro_bias()

    def set_time(self, unix_ms: int) -> None:
        """Time sync from the phone: wall-clock time now (at the last sample)."""
        self.boot_unix_ms = int(unix_ms - 1000.0 * (self._t_last or 0.0))

    def wall_time(self, t_s: float) -> dt.datetime:
        return dt.datetime.fromtimestamp((self.boot_unix_ms + 1000.0 * t_s) / 1000.0, dt.UTC)

    # ------------------------------------------------------------------ the loop
    def step(
        self, t_s: float, acc_mps2: np.ndarray, gyr_rps: np.ndarray
    ) -> list[StrideEvent | FirmwareEvent]:
        """One sample (time in s since boot, specific force in m/s², angular rate in rad/s)."""
        if self._t_last is not None:
            if t_s <= self._t_last:
                return []  # a repeated or late sample from the sensor bus is dropped, as the firmware would
            self.battery.drain(
                t_s - self._t_last, active=self.state_ is not RunState.IDLE, connected=self.connected
            )
        self._t_last = t_s
        row = self._fifo[self._n]
        row[0] = t_s
        row[1:4] = acc_mps2
        row[4:7] = gyr_rps
        self._n += 1
        if self._n < len(self._fifo):
            return []
        return self._flush_fifo()

    def feed(
        self, t_s: np.ndarray, acc_mps2: np.ndarray, gyr_rps: np.ndarray
    ) -> Iterator[StrideEvent | FirmwareEvent]:
        """Step through a whole recording, yielding events as they happen."""
        for i in range(len(t_s)):
            yield from self.step(float(t_s[i]), acc_mps2[i], gyr_rps[i])

    def finish(self) -> list[StrideEvent | FirmwareEvent]:
        """End of data (the shoe is switched off cleanly): flush the engine and end any run."""
        events = self._flush_fifo()
        events += self._on_strides(self._engine.finish())
        if self.state_ is not RunState.IDLE:
            events.append(self._end_run(self._t_last or 0.0))
        return events

    def _flush_fifo(self) -> list[StrideEvent | FirmwareEvent]:
        block = self._fifo[: self._n]
        self._n = 0
        if not len(block):
            return []
        events = self._on_strides(self._engine.push(block[:, 0], block[:, 1:4], block[:, 4:7]))
        return events + self._on_time(float(block[-1, 0]))

    def _on_time(self, now_s: float) -> list[StrideEvent | FirmwareEvent]:
        """Pause and auto-end by time without strides (the engine's latency added to the allowances)."""
        latency = self._engine.step_s + self._engine.guard_s
        if self.last_stride_ is None or self.state_ is RunState.IDLE:
            return []
        # A stride spanning a stop moved only at its start. The engine may hold strides it is unsure of for a
        # while; motion it has seen means no pause.
        s = self.last_stride_
        last_motion = s.t_end_s if s.duration_s < self.pause_s else s.t_start_s
        quiet = min(now_s - last_motion - latency, now_s - self._engine.last_swing_s_ - self._engine.step_s)
        if quiet > self.auto_end_s:
            return [self._end_run(last_motion)]
        if quiet > self.pause_s and self.state_ is RunState.RUNNING:
            self.state_ = RunState.PAUSED
            self._paused_at_s = now_s
            self.rsc_ = dataclasses.replace(self.rsc_, speed_mps=0.0, cadence_spm=0.0, is_running=False)
            return [FirmwareEvent("paused", now_s, self.run_id_)]
        return []

    def _on_strides(self, strides: list[Stride]) -> list[StrideEvent | FirmwareEvent]:
        events: list[StrideEvent | FirmwareEvent] = []
        for s in (x.without_rests() for x in strides):  # a traffic light is a pause, not a slow stride
            if self.state_ is RunState.IDLE:
                if self._candidates and s.t_start_s - self._candidates[-1].t_end_s > self.pause_s:
                    self._candidates = []
                self._candidates.append(s)
                if len(self._candidates) < self.start_strides:
                    continue
                events.append(self._start_run(self._candidates[0].t_start_s))
                pending, self._candidates = self._candidates, []
                for p in pending:
                    events.append(self._take(p))
                continue
            if self.state_ is RunState.PAUSED and self._resumes(s):
                self.state_ = RunState.RUNNING
                events.append(FirmwareEvent("resumed", s.t_start_s, self.run_id_))
            events.append(self._take(s))
            if self.state_ is RunState.PAUSED:
                self.rsc_ = dataclasses.replace(self.rsc_, speed_mps=0.0, cadence_spm=0.0, is_running=False)
        return events

    def _resumes(self, s: Stride) -> bool:
        """Whether a stride reported while paused means running again.

        A stride spanning the stop (longer than ``pause_s``) does not, nor one that ended before the pause was
        declared (the engine reports the stride that ends in a rest late, once it has measured the rest).
        """
        latency = self._engine.step_s + self._engine.guard_s
        return s.duration_s < self.pause_s and s.t_end_s > self._paused_at_s - latency

    def _take(self, s: Stride) -> StrideEvent:
        k = self.calibration
        s = dataclasses.replace(s, length_m=s.length_m * k, speed_mps=s.speed_mps * k)
        last = self.last_stride_
        if s.duration_s < self.pause_s:  # a longer stride spans a stop
            joined = last is not None and s.t_start_s - last.t_end_s < self.pause_s
            self._moving_s += s.t_end_s - (last.t_end_s if last is not None and joined else s.t_start_s)
        self.last_stride_ = s
        self.run_distance_m_ += s.length_m
        self.run_strides_ += 1
        self._total_m += s.length_m
        self.rsc_ = RscValues(
            speed_mps=s.speed_mps,
            cadence_spm=s.cadence_spm,
            stride_length_m=s.length_m,
            total_distance_m=self._total_m,
            is_running=s.gait is Gait.RUN,
        )
        self._seq += 1
        seq = self._seq
        if self.run_log is not None:
            seq = self.run_log.next_seq
            self.run_log.append_stride(s, t0_s=self._run_start_s)
        return StrideEvent(seq, self.run_id_ or 0, s, self.rsc_)

    def _start_run(self, t_s: float) -> FirmwareEvent:
        self.state_ = RunState.RUNNING
        self._run_start_s = t_s
        self._moving_s = 0.0
        self.last_stride_ = None
        self.run_distance_m_ = 0.0
        self.run_strides_ = 0
        self._run_counter += 1
        self.run_id_ = self._run_counter
        if self.run_log is not None:
            self.run_id_ = self.run_log.start_run(
                start_unix_ms=round(self.boot_unix_ms + 1000.0 * t_s),
                side=self.side,
                firmware=FIRMWARE_VERSION,
                calibration=self.calibration,
            )
        return FirmwareEvent("run_started", t_s, self.run_id_)

    def _end_run(self, t_s: float) -> FirmwareEvent:
        run_id = self.run_id_
        if self.run_log is not None:
            self.run_log.end_run(
                distance_m=self.run_distance_m_, moving_s=self._moving_s, elapsed_s=t_s - self._run_start_s
            )
        self.state_ = RunState.IDLE
        self.run_id_ = None
        self._candidates = []
        self.rsc_ = RscValues(total_distance_m=self._total_m)
        return FirmwareEvent("run_ended", t_s, run_id)

    # ------------------------------------------------------------------ introspection
    def state_bytes(self) -> int:
        """Memory the loop holds: FIFO, the engine's window, the current run's strides."""
        return self._fifo.nbytes + self._engine.held_bytes() + 96 * (1 + len(self._candidates))

    def run(self, t_s: np.ndarray, acc_mps2: np.ndarray, gyr_rps: np.ndarray) -> Self:
        """Process a whole recording and finish (for replay, tests and benchmarks)."""
        for _ in self.feed(t_s, acc_mps2, gyr_rps):
            pass
        self.finish()
        return self
