"""A third-party running pod on the gateway: any sensor with the Running Speed and Cadence service (0x1814).

Only what RSCS 1.0 makes mandatory is assumed: RSC Measurement (flags, speed, cadence) and RSC Feature. Device
Information, Battery, the SC Control Point, the Soleware service and an encrypted link are used where the pod
has them and never needed.

:class:`PodRecorder` keeps every notification with its arrival time, as received, and becomes the run service's
``samples`` body (:class:`PodUpload`); the service derives the run's distance (``soleware.runs.pod``). The live
distance shown here follows the same rule, step by step, since ``link`` does not import ``runs``: the difference
of the sensor's total distance (modulo its uint32 decimetre counter, so a wrap is a step forward) where it is one
a runner can cover, else speed integrated over the interval.

A notification that cannot be read (too short for its flags) is skipped with a log line; reserved flag bits
(RSCS 1.0 defines bits 0-2) are logged once and ignored, as the fields they may announce come after the known
ones; bytes after the fields the flags announce are ignored; a total going backwards is logged and, for the live
distance, skipped.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import math
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bumble import core

from soleware.link.rsc import RscMeasurement

__all__ = [
    "MAX_SPEED_MPS",
    "RESERVED_FLAGS",
    "TOTAL_DISTANCE_WRAP_M",
    "PodRecorder",
    "PodUpload",
    "SensorLabel",
    "matches_pod",
    "pod_run_name",
    "save_pod_run",
]

log = logging.getLogger(__name__)

#: the RSC total distance is a uint32 of 1/10 m: it counts modulo this
TOTAL_DISTANCE_WRAP_M = 2**32 / 10
#: faster than any runner (a larger speed is a glitch, a total growing faster is a jump)
MAX_SPEED_MPS = 15.0
#: how far a total may run ahead of speed × time (the counter and the notifications are not in step)
TOTAL_SLACK_M = 5.0
#: RSC Measurement flag bits that RSCS 1.0 reserves for future use
RESERVED_FLAGS = 0xFF & ~int(
    RscMeasurement.Flag.STRIDE_LENGTH_PRESENT
    | RscMeasurement.Flag.TOTAL_DISTANCE_PRESENT
    | RscMeasurement.Flag.RUNNING
)


def matches_pod(choice: str, *, name: str, address: str) -> bool:
    """Whether a sensor seen advertising is the pod asked for: ``any``, its address, or its name (case aside)."""
    c = choice.strip().casefold()
    return c == "any" or c == address.casefold() or c == name.strip().casefold()


@dataclasses.dataclass(frozen=True)
class SensorLabel:
    """What the run is labelled with: the advertised name and the Device Information strings the pod has."""

    name: str
    manufacturer: str | None = None
    model: str | None = None
    serial: str | None = None

    def to_json(self) -> dict[str, str | None]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class PodUpload:
    """The run service's upload body for a pod run (``POST /api/runs`` with ``samples``)."""

    start_time: dt.datetime
    time_zone: str
    sensor: SensorLabel
    samples: dict[str, list[float | None] | None]
    title: str = ""
    #: the laps the runner pressed (``soleware.link.gateway.laps_between``), none without a press
    laps: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        body = {
            "start_time": self.start_time.isoformat(),
            "time_zone": self.time_zone,
            "title": self.title,
            "sensor": self.sensor.to_json(),
            "samples": self.samples,
        }
        return {**body, "laps": self.laps} if self.laps else body


class PodRecorder:
    """Every RSC notification of one pod, its arrival time on ``clock`` and the live distance.

    Parameters
    ----------
    name
        The pod's name (for log lines).
    clock
        Monotonic seconds; ``wall`` the time of day, read once at the first notification (the run's start).
    """

    def __init__(
        self,
        *,
        name: str = "pod",
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.name = name
        self.clock = clock
        self.wall = wall
        self.start_time: dt.datetime | None = None
        self._t0 = 0.0
        self.t_s: list[float] = []
        self.speed_mps: list[float] = []
        self.cadence_spm: list[float] = []
        self.stride_length_m: list[float | None] = []
        self.total_distance_m: list[float | None] = []
        #: metres by the rule in the module's docstring, live
        self.distance_m = 0.0
        self.skipped = 0
        self._warned_reserved = False
        self._last_total: tuple[float, float] | None = None  # (t_s, total) of the last total received

    def add(self, data: bytes) -> RscMeasurement | None:
        """Record one notification's bytes; None (and a log line) when they cannot be read."""
        now = self.clock()
        try:
            m = RscMeasurement.from_bytes(bytes(data))
        except (core.InvalidArgumentError, ValueError) as exc:
            self.skipped += 1
            log.warning("%s: notification %s skipped: %s", self.name, bytes(data).hex(), exc)
            return None
        if data[0] & RESERVED_FLAGS and not self._warned_reserved:
            self._warned_reserved = True
            log.warning(
                "%s: reserved RSC flag bits 0x%02X set; ignored, the known fields are read",
                self.name,
                data[0] & RESERVED_FLAGS,
            )
        if self.start_time is None:
            self.start_time, self._t0 = self.wall(), now
        t = round(now - self._t0, 3)
        if self.t_s and t <= self.t_s[-1]:
            self.skipped += 1
            log.warning("%s: notification at the same instant as the one before; skipped", self.name)
            return None
        self._advance(t, m)
        self.t_s.append(t)
        self.speed_mps.append(m.speed_mps)
        self.cadence_spm.append(m.cadence_spm)
        self.stride_length_m.append(m.stride_length_m)
        self.total_distance_m.append(m.total_distance_m)
        return m

    def _advance(self, t: float, m: RscMeasurement) -> None:
        if self.t_s:
            dt_s = t - self.t_s[-1]
            speeds = [v for v in (self.speed_mps[-1], m.speed_mps) if v <= MAX_SPEED_MPS]
            step = dt_s * sum(speeds) / len(speeds) if speeds else 0.0
            last = self._last_total
            if m.total_distance_m is not None and last is not None and last[0] == self.t_s[-1]:
                diff = (m.total_distance_m - last[1]) % TOTAL_DISTANCE_WRAP_M
                if diff <= MAX_SPEED_MPS * dt_s + TOTAL_SLACK_M:
                    step = diff
                else:
                    log.warning(
                        "%s: total distance went from %.1f m to %.1f m (a restart?); distance from speed here",
                        self.name,
                        last[1],
                        m.total_distance_m,
                    )
            self.distance_m += step
        self._last_total = None if m.total_distance_m is None else (t, m.total_distance_m)

    def __len__(self) -> int:
        return len(self.t_s)

    @property
    def elapsed_s(self) -> float:
        return self.t_s[-1] if self.t_s else 0.0

    def upload(self, sensor: SensorLabel, *, time_zone: str, title: str = "") -> PodUpload | None:
        """The upload body, or None with fewer than two notifications (no run)."""
        if len(self) < 2 or self.start_time is None:
            return None

        def optional(values: list[float | None]) -> list[float | None] | None:
            return values if any(v is not None for v in values) else None

        return PodUpload(
            start_time=self.start_time,
            time_zone=time_zone,
            sensor=sensor,
            title=title,
            samples={
                "t_s": list(self.t_s),
                "speed_mps": list(self.speed_mps),
                "cadence_spm": list(self.cadence_spm),
                "stride_length_m": optional(self.stride_length_m),
                "total_distance_m": optional(self.total_distance_m),
            },
        )


def save_pod_run(path: Path, body: PodUpload) -> None:
    """Write an upload body durably (the pod keeps nothing: until the service has it, this file is the run)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w") as f:
        json.dump(body.to_json(), f)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)


def pod_run_name(address: str, start_time: dt.datetime) -> str:
    """The file name of a pod run kept by the gateway: the pod's address and the run's start."""
    return f"{address.replace(':', '')}-{math.floor(start_time.timestamp() * 1000)}.json"
