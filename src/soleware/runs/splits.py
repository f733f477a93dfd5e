"""Splits per km and per mile, lap statistics and pause detection, from a run's streams.

A split's boundary is the first moment the distance stream reaches k·unit (linear interpolation between
samples, the same convention as best efforts). Elapsed time is wall time between boundaries; moving time
subtracts the run's pauses inside the split. ``detect_pauses`` (from model) finds pauses in a bare stream. Elevation is not measured by the shoes, so it is None.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence

import numpy as np

from soleware.runs.efforts import MILE_M
from soleware.runs.model import Lap, Run, Streams, detect_pauses

__all__ = ["MILE_M", "Split", "detect_pauses", "lap_stats", "splits"]


@dataclasses.dataclass(frozen=True, slots=True)
class Split:
    """One split or lap: where it lies in the run and how it went."""

    index: int
    t_start_s: float
    t_end_s: float
    distance_m: float
    elapsed_time_s: float
    moving_time_s: float
    #: moving pace, seconds per km (None when the split covered no distance)
    pace_s_per_km: float | None
    avg_speed_mps: float | None
    avg_cadence_spm: float | None
    elevation_gain_m: float | None = None
    name: str = ""


def _time_at_distance(t: np.ndarray, d: np.ndarray, target: np.ndarray) -> np.ndarray:
    """First moment the distance reaches each target (targets within [d[0], d[-1]])."""
    # np.minimum/np.maximum: what np.clip does, without its overhead (a run's page asks twice)
    j = np.minimum(np.maximum(np.searchsorted(d, target, side="left"), 1), len(d) - 1)
    span = d[j] - d[j - 1]
    frac = np.divide(target - d[j - 1], span, out=np.ones_like(span), where=span > 0)
    out: np.ndarray = t[j - 1] + np.minimum(np.maximum(frac, 0.0), 1.0) * (t[j] - t[j - 1])
    out[target <= d[0]] = t[0]
    return out


def _overlap_s(a: float, b: float, pauses: Sequence[tuple[float, float]]) -> float:
    return sum(max(0.0, min(b, pe) - max(a, ps)) for ps, pe in pauses)


def _moving_cadence(streams: Streams) -> np.ndarray:
    """Where the cadence stream counts for a split's mean: known, and moving."""
    ok: np.ndarray = np.isfinite(streams.cadence_spm) & (streams.speed_mps > 0)
    return ok


def _mean(x: np.ndarray) -> float:
    """``float(np.mean(x))`` of a 1-d float array, bit for bit (its sum, pairwise in x's precision, over its
    length), without np.mean's checks: a run's page takes a mean per split."""
    total = np.add.reduce(x)
    return float(total.dtype.type(float(total) / len(x)))  # the division in float64, as np.mean's


def splits(run: Run, *, unit_m: float = 1000.0, include_partial: bool = True) -> list[Split]:
    """Splits of ``unit_m`` (1000.0 for km, MILE_M for miles); the last, shorter split is kept if asked. None
    for a run entered by hand: its pace is one figure."""
    if unit_m <= 0:
        raise ValueError(f"unit_m must be > 0, got {unit_m}")
    s = run.streams
    if len(s) < 2 or not run.measured:
        return []
    t, d = s.t_s, s.distance_m
    total = d[-1] - d[0]
    n_full = int(np.floor(total / unit_m + 1e-9))
    bounds = _time_at_distance(t, d, d[0] + unit_m * np.arange(0, n_full + 1))
    edges = [float(x) for x in bounds]
    edges[0] = float(t[0])
    if include_partial and d[-1] - (d[0] + n_full * unit_m) > 1e-6:
        edges.append(float(t[-1]))
    return _spans(s, run.pauses, list(itertools.pairwise(edges)))


def _spans(
    streams: Streams,
    pauses: Sequence[tuple[float, float]],
    spans: Sequence[tuple[float, float]],
    names: Sequence[str] | None = None,
) -> list[Split]:
    """One Split per (start, end) time span, the distance and the samples at every span's ends looked up at
    once: the mean cadence is over the samples in [start, end] that are known and moving."""
    if not spans:
        return []
    starts = np.array([a for a, _ in spans], np.float64)
    ends = np.array([b for _, b in spans], np.float64)
    distance_start = np.interp(starts, streams.t_s, streams.distance_m).tolist()
    distance_end = np.interp(ends, streams.t_s, streams.distance_m).tolist()
    first = np.searchsorted(streams.t_s, starts, side="left").tolist()
    last = np.searchsorted(streams.t_s, ends, side="right").tolist()
    # the cadences that count, in order, and how many come before each sample: a split's are a slice of them
    ok = _moving_cadence(streams)
    known = streams.cadence_spm[ok]
    before = np.concatenate(([0], np.cumsum(ok))).tolist()
    out = []
    for k, (a, b) in enumerate(spans):
        distance = distance_end[k] - distance_start[k]
        moving = (b - a) - _overlap_s(a, b, pauses)
        i, j = before[first[k]], before[last[k]]
        cadence = _mean(known[i:j]) if j > i else None
        out.append(
            Split(
                index=k,
                t_start_s=a,
                t_end_s=b,
                distance_m=distance,
                elapsed_time_s=b - a,
                moving_time_s=moving,
                pace_s_per_km=1000.0 * moving / distance if distance > 0 else None,
                avg_speed_mps=distance / moving if moving > 0 else None,
                avg_cadence_spm=cadence,
                name="" if names is None else names[k],
            )
        )
    return out


def lap_stats(run: Run, laps: Sequence[Lap] | None = None) -> list[Split]:
    """Statistics of the run's laps (or the given ones), one Split each with the lap's name."""
    laps = run.laps if laps is None else laps
    return _spans(
        run.streams, run.pauses, [(lap.t_start_s, lap.t_end_s) for lap in laps], [lap.name for lap in laps]
    )
