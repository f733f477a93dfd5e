"""A run recorded with a third-party Running Speed and Cadence sensor (a foot pod): from its samples to a Run.

A pod sends what RSC defines (RSCS 1.0): speed and cadence always; stride length and the total distance only if it
has them. The total distance is a uint32 counter of decimetres: it wraps to 0 after 429,496,729.5 m, and a sensor
that restarts (battery swap, another app's Set Cumulative Value) starts it again from 0 or any value. So the
distance between two samples is

- the difference of their totals where both samples carry one and the difference, taken modulo the counter's
  range, is one a runner can cover in that time (at most ``MAX_SPEED_MPS`` × the interval + ``TOTAL_SLACK_M``):
  this keeps a wrap and drops a reset or a jump;
- else speed integrated over the interval (trapezoids; speeds above ``MAX_SPEED_MPS`` are glitches and count as
  not measured).

The run keeps no strides and no per-foot form (a pod has neither); its streams are on the 1 s grid of runs made of
strides.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

import numpy as np

from soleware.runs.model import Lap, Route, Run, RunDataError, Sensor, Source, Streams

__all__ = [
    "MAX_SPEED_MPS",
    "TOTAL_DISTANCE_WRAP_M",
    "TOTAL_SLACK_M",
    "PodSamples",
    "pod_distance",
    "run_from_pod",
]

#: the RSC total distance field is a uint32 of 1/10 m: it counts modulo this
TOTAL_DISTANCE_WRAP_M = 2**32 / 10
#: faster than any runner: a speed above it is a glitch, a total that grew faster is a jump
MAX_SPEED_MPS = 15.0
#: a total may run ahead of speed × time by this much (the sensor's counter and its notifications are not in step,
#: and the counter moves in whole decimetres)
TOTAL_SLACK_M = 5.0


@dataclasses.dataclass(frozen=True)
class PodSamples:
    """The notifications a pod sent, as columns of equal length; ``t_s`` in seconds from the run's start.

    Optional columns are ``None`` when the pod never sent the field, and hold NaN where one notification lacked it.
    """

    t_s: np.ndarray
    speed_mps: np.ndarray
    cadence_spm: np.ndarray | None = None
    stride_length_m: np.ndarray | None = None
    total_distance_m: np.ndarray | None = None

    @classmethod
    def of(
        cls,
        *,
        t_s: Sequence[float],
        speed_mps: Sequence[float],
        cadence_spm: Sequence[float | None] | None = None,
        stride_length_m: Sequence[float | None] | None = None,
        total_distance_m: Sequence[float | None] | None = None,
    ) -> PodSamples:
        """Columns from lists (``None`` in an optional column: not sent in that notification), checked."""

        def column(values: Sequence[float | None]) -> np.ndarray:
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64).reshape(-1)

        samples = cls(
            t_s=column(t_s),
            speed_mps=column(speed_mps),
            cadence_spm=None if cadence_spm is None else column(cadence_spm),
            stride_length_m=None if stride_length_m is None else column(stride_length_m),
            total_distance_m=None if total_distance_m is None else column(total_distance_m),
        )
        samples.check()
        return samples

    def columns(self) -> dict[str, np.ndarray]:
        return {f.name: v for f in dataclasses.fields(self) if (v := getattr(self, f.name)) is not None}

    def check(self) -> None:
        """:class:`RunDataError` naming the column unless the samples can make a run."""
        n = len(self.t_s)
        if n < 2:
            raise RunDataError(f"samples need at least two notifications, got {n}")
        for name, values in self.columns().items():
            if values.shape != (n,):
                raise RunDataError(f"samples.{name} has {len(values)} values, t_s has {n}")
            required = name in ("t_s", "speed_mps")
            known = values if required else values[~np.isnan(values)]
            if not np.all(np.isfinite(known)) or np.any(known < 0):
                what = "finite numbers >= 0" if required else "finite numbers >= 0 or null"
                raise RunDataError(f"samples.{name} must be {what}")
        if np.any(np.diff(self.t_s) <= 0):
            i = int(np.argmax(np.diff(self.t_s) <= 0)) + 1
            raise RunDataError(f"samples.t_s must increase: t_s[{i}] = {self.t_s[i]} after {self.t_s[i - 1]}")


def pod_distance(samples: PodSamples) -> np.ndarray:
    """Cumulative distance at each sample (0 at the first), by the rule in the module's docstring."""
    t = samples.t_s
    dt_s = np.diff(t)
    speed = np.where(samples.speed_mps <= MAX_SPEED_MPS, samples.speed_mps, np.nan)
    a, b = speed[:-1], speed[1:]
    both = (a + b) / 2
    # an interval with one glitch end uses the other end; with two, nothing moved as far as we know
    mean_speed = np.where(np.isnan(both), np.where(np.isnan(a), np.nan_to_num(b), a), both)
    steps = mean_speed * dt_s
    if samples.total_distance_m is not None:
        total = samples.total_distance_m
        diff = np.mod(np.diff(total), TOTAL_DISTANCE_WRAP_M)  # a wrap is a small step forward; NaN stays NaN
        plausible = diff <= MAX_SPEED_MPS * dt_s + TOTAL_SLACK_M  # False for NaN
        steps = np.where(plausible, diff, steps)
    return np.concatenate(([0.0], np.cumsum(steps)))


def _hold(t: np.ndarray, values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """The last value sent at or before each grid time (a notification holds until the next one)."""
    return values[np.searchsorted(t, grid, side="right") - 1]


def run_from_pod(
    samples: PodSamples,
    *,
    sensor: Sensor,
    start_time: dt.datetime,
    time_zone: str,
    title: str = "",
    laps: Iterable[Lap] = (),
    route: Route | None = None,
    interval_s: float = 1.0,
) -> Run:
    """The run a pod recorded: distance by :func:`pod_distance`, cadence and stride length as sent, labelled with
    ``sensor``; streams every ``interval_s`` from the first sample (t = 0 is ``start_time``) to the last."""
    samples.check()
    distance = pod_distance(samples)
    t = samples.t_s
    grid = np.arange(t[0], t[-1], interval_s)
    grid = np.append(grid, t[-1]) if len(grid) == 0 or grid[-1] < t[-1] else grid
    speed = np.where(samples.speed_mps <= MAX_SPEED_MPS, samples.speed_mps, np.nan)

    def metric(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else _hold(t, values, grid)

    streams = Streams(
        t_s=grid,
        distance_m=np.interp(grid, t, distance),
        speed_mps=_hold(t, speed, grid),
        cadence_spm=metric(samples.cadence_spm),
        stride_length_m=metric(samples.stride_length_m),
    )
    return Run.from_streams(
        streams,
        start_time=start_time,
        time_zone=time_zone,
        source=Source.POD.value,
        title=title,
        laps=laps,
        sensor=sensor,
        route=route,
    )
