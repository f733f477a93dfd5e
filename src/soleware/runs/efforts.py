"""Best efforts inside one run: the fastest window of each standard distance on the distance stream.

The distance stream ``(t_s, distance_m)`` is taken as piecewise linear between samples. For a target distance
``D`` the window time ``t(s + D) - t(s)`` (with ``t(d)`` the inverse of the distance stream) is piecewise linear in
the start distance ``s`` with breakpoints only where ``s`` or ``s + D`` falls on a sample, so its minimum lies at a
window that starts or ends on a sample. We therefore evaluate both families of candidate windows, interpolating
the other edge, which is exact for piecewise-linear distance (Strava's model, ANCHORS §6: elapsed time, any
window of the run, e.g. the fastest 5 km may be km 15-18 of a marathon).

Where the distance stays flat (a pause), a window starts at the *last* moment at its start distance and ends at
the *first* moment at its end distance, so a pause at the window's edges does not count but one inside does
(elapsed time, as Strava counts best efforts).

The two-pointer sweep of the classic formulation is done here with ``numpy.searchsorted`` over all samples at
once: the same candidates, O(n log n) in C instead of O(n) in Python, and much faster in practice.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = [
    "BEST_EFFORT_DISTANCES",
    "BestEffortDistance",
    "Effort",
    "EffortError",
    "best_effort",
    "best_efforts",
    "distance_key",
]

MILE_M = 1609.344


class EffortError(ValueError):
    """The distance stream cannot be searched; the message says why."""


@dataclasses.dataclass(frozen=True, slots=True)
class BestEffortDistance:
    """One standard best-effort distance with its display names (English and Simplified Chinese)."""

    key: str
    distance_m: float
    name_en: str
    name_zh: str


#: The standard run best-effort distances (Strava, ANCHORS §6), shortest first.
BEST_EFFORT_DISTANCES: tuple[BestEffortDistance, ...] = (
    BestEffortDistance("400m", 400.0, "400 m", "400 米"),
    BestEffortDistance("half_mile", MILE_M / 2, "1/2 mile", "半英里"),
    BestEffortDistance("1k", 1000.0, "1 km", "1 公里"),
    BestEffortDistance("1_mile", MILE_M, "1 mile", "1 英里"),
    BestEffortDistance("2_mile", 2 * MILE_M, "2 miles", "2 英里"),
    BestEffortDistance("5k", 5000.0, "5 km", "5 公里"),
    BestEffortDistance("10k", 10000.0, "10 km", "10 公里"),
    BestEffortDistance("15k", 15000.0, "15 km", "15 公里"),
    BestEffortDistance("10_mile", 10 * MILE_M, "10 miles", "10 英里"),
    BestEffortDistance("20k", 20000.0, "20 km", "20 公里"),
    BestEffortDistance("half_marathon", 21097.5, "Half marathon", "半程马拉松"),
    BestEffortDistance("30k", 30000.0, "30 km", "30 公里"),
    BestEffortDistance("marathon", 42195.0, "Marathon", "马拉松"),
)

_KEY_BY_DISTANCE = {d.distance_m: d.key for d in BEST_EFFORT_DISTANCES}


def distance_key(distance_m: float) -> str:
    """The key ("5k", "marathon", ...) of a standard distance, or ``"<n>m"`` for any other distance."""
    return _KEY_BY_DISTANCE.get(distance_m, f"{distance_m:g}m")


@dataclasses.dataclass(frozen=True, slots=True)
class Effort:
    """The fastest window of ``distance_m`` inside one run: its elapsed time and where it lies in the run."""

    distance_m: float
    time_s: float
    start_s: float
    end_s: float

    @property
    def key(self) -> str:
        return distance_key(self.distance_m)

    @property
    def speed_mps(self) -> float:
        return self.distance_m / self.time_s

    def to_dict(self) -> dict[str, float]:
        return {
            "distance_m": self.distance_m,
            "time_s": self.time_s,
            "start_s": self.start_s,
            "end_s": self.end_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, float]) -> Effort:
        return cls(
            distance_m=float(data["distance_m"]),
            time_s=float(data["time_s"]),
            start_s=float(data["start_s"]),
            end_s=float(data["end_s"]),
        )


def _check_stream(t_s: np.ndarray, distance_m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = np.asarray(t_s, dtype=np.float64)
    d = np.asarray(distance_m, dtype=np.float64)
    if t.ndim != 1 or t.shape != d.shape:
        raise EffortError(
            f"t_s and distance_m must be 1-d arrays of equal length, got {t.shape} and {d.shape}"
        )
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(d))):
        raise EffortError("t_s and distance_m must be finite (no NaN or inf)")
    if np.any(np.diff(t) <= 0):
        raise EffortError("t_s must be strictly increasing")
    if np.any(np.diff(d) < 0):
        raise EffortError("distance_m must never decrease")
    return t, d


def _best(t: np.ndarray, d: np.ndarray, target_m: float) -> Effort | None:
    n = len(d)
    if n < 2 or target_m <= 0 or d[-1] - d[0] < target_m:
        return None
    best_time, best_start, best_end = np.inf, 0.0, 0.0

    # Family 1: the window starts on sample i; its end is the first moment the distance reaches d[i] + D.
    goal = d + target_m
    j = np.searchsorted(d, goal, side="left")
    ok = j < n
    i1 = np.nonzero(ok)[0]
    if len(i1):
        j1 = j[ok]
        jp = np.maximum(j1 - 1, 0)
        span = d[j1] - d[jp]
        frac = np.divide(goal[i1] - d[jp], span, out=np.ones_like(span), where=span > 0)
        t_end = t[jp] + frac * (t[j1] - t[jp])
        dur = t_end - t[i1]
        k = int(np.argmin(dur))
        best_time, best_start, best_end = float(dur[k]), float(t[i1[k]]), float(t_end[k])

    # Family 2: the window ends on sample j; its start is the last moment the distance equals d[j] - D.
    origin = d - target_m
    i = np.searchsorted(d, origin, side="right") - 1
    ok = (i >= 0) & (i < n - 1)
    j2 = np.nonzero(ok)[0]
    if len(j2):
        i2 = i[ok]
        span = d[i2 + 1] - d[i2]
        frac = np.divide(origin[j2] - d[i2], span, out=np.zeros_like(span), where=span > 0)
        t_start = t[i2] + frac * (t[i2 + 1] - t[i2])
        dur = t[j2] - t_start
        k = int(np.argmin(dur))
        if dur[k] < best_time:
            best_time, best_start, best_end = float(dur[k]), float(t_start[k]), float(t[j2[k]])

    if not np.isfinite(best_time):
        return None
    return Effort(distance_m=float(target_m), time_s=best_time, start_s=best_start, end_s=best_end)


def best_effort(t_s: np.ndarray, distance_m: np.ndarray, target_m: float) -> Effort | None:
    """The fastest window of ``target_m`` metres in one distance stream, or None if the run is shorter."""
    t, d = _check_stream(t_s, distance_m)
    return _best(t, d, float(target_m))


def best_efforts(
    t_s: np.ndarray,
    distance_m: np.ndarray,
    targets_m: tuple[float, ...] | None = None,
) -> tuple[Effort, ...]:
    """Best efforts of every target distance the run covers (default: the standard distances), shortest first."""
    t, d = _check_stream(t_s, distance_m)
    targets = tuple(x.distance_m for x in BEST_EFFORT_DISTANCES) if targets_m is None else tuple(targets_m)
    out = []
    for target in sorted(targets):
        effort = _best(t, d, float(target))
        if effort is None:
            break
        out.append(effort)
    return tuple(out)
