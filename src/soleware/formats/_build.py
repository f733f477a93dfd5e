"""Turning the samples read from any activity file into a ``Run``: one place for sorting, gaps, GPS distance,
pauses and totals, so the FIT, TCX and GPX readers only translate their format."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

import numpy as np

from soleware.formats._plausible import check_plausible
from soleware.formats._safety import FormatError, FormatNote, truncated
from soleware.runs.model import (
    GOOD_FIX_ACCURACY_M,
    Lap,
    Route,
    Run,
    RunDataError,
    Streams,
    detect_pauses,
    haversine_m,
)

__all__ = ["Samples", "build_run", "haversine_m", "zone_from_offset"]

#: zones without daylight saving time for the offsets that are not whole hours (minutes east of UTC)
_ODD_OFFSET_ZONES = {
    330: "Asia/Kolkata",
    345: "Asia/Kathmandu",
    270: "Asia/Kabul",
    390: "Asia/Yangon",
    210: "Asia/Tehran",
    570: "Australia/Darwin",
    525: "Australia/Eucla",
    -570: "Pacific/Marquesas",
}


def zone_from_offset(offset_s: float) -> str:
    """An IANA zone for a fixed UTC offset: "Etc/GMT-8" for +08:00 (POSIX sign), "Asia/Kolkata" for +05:30,
    "UTC" for 0 and for offsets no zone without daylight saving time has."""
    minutes = round(offset_s / 60)
    if minutes in _ODD_OFFSET_ZONES:
        return _ODD_OFFSET_ZONES[minutes]
    hours = round(offset_s / 3600)
    if hours == 0 or abs(offset_s - hours * 3600) > 60 or not -12 <= hours <= 14:
        return "UTC"
    return f"Etc/GMT{-hours:+d}"


@dataclasses.dataclass
class Samples:
    """What a reader found in a file, before it becomes a Run. Times are absolute (tz-aware UTC).

    Arrays may hold NaN for unknown values. ``pauses`` are absolute (start, end) instants when the file says
    where the timer stopped (FIT timer events, TCX/GPX track splits); None lets the pauses be detected from
    the distance stream. ``segment`` numbers the continuous pieces of the track: GPS distance never bridges
    two segments.

    Every sample with a position is a fix of the run's route. A distance from positions skips fixes whose
    accuracy is known to be worse than GOOD_FIX_ACCURACY_M. When the file has distance or speed, a sample
    with a position and nothing else (how Soleware writes the phone's fixes between stream samples) is a fix
    only, not a stream sample.
    """

    time: list[dt.datetime]
    distance_m: np.ndarray | None = None
    lat_deg: np.ndarray | None = None
    lon_deg: np.ndarray | None = None
    speed_mps: np.ndarray | None = None
    cadence_spm: np.ndarray | None = None
    stride_length_m: np.ndarray | None = None
    contact_time_s: np.ndarray | None = None
    segment: np.ndarray | None = None
    #: each position's horizontal accuracy and altitude, metres (NaN where unknown)
    accuracy_m: np.ndarray | None = None
    altitude_m: np.ndarray | None = None
    start_time: dt.datetime | None = None
    pauses: list[tuple[dt.datetime, dt.datetime]] | None = None
    laps: list[tuple[dt.datetime, float, str]] = dataclasses.field(default_factory=list)
    total_distance_m: float | None = None
    total_elapsed_s: float | None = None
    total_timer_s: float | None = None


def _column(values: np.ndarray | None, order: np.ndarray) -> np.ndarray | None:
    if values is None:
        return None
    arr = np.asarray(values, dtype=np.float64)[order]
    return arr if np.any(np.isfinite(arr)) else None


def _fill_monotone(d: np.ndarray) -> np.ndarray:
    """Fill unknown distances from their neighbours and forbid decreases (GPS and watch glitches)."""
    ok = np.isfinite(d)
    idx = np.arange(len(d))
    filled = np.interp(idx, idx[ok], d[ok])
    return np.maximum.accumulate(filled)


def _route(s: Samples, idx: np.ndarray, t_s: np.ndarray, name: str) -> Route | None:
    """The samples with a position as the run's route; accuracy and altitude only where every fix has one."""
    if s.lat_deg is None or s.lon_deg is None:
        return None
    lat, lon = np.asarray(s.lat_deg, np.float64)[idx], np.asarray(s.lon_deg, np.float64)[idx]
    fix = np.isfinite(lat) & np.isfinite(lon)
    if not fix.any():
        return None

    def known(values: np.ndarray | None) -> np.ndarray | None:
        if values is None:
            return None
        v = np.asarray(values, np.float64)[idx][fix]
        return v if np.all(np.isfinite(v)) else None

    try:
        return Route(t_s[fix], lat[fix], lon[fix], known(s.accuracy_m), known(s.altitude_m))
    except RunDataError as exc:
        raise FormatError(name, f"activity positions are inconsistent ({exc})", code="damaged") from exc


def _fix_only(s: Samples, idx: np.ndarray) -> np.ndarray | None:
    """Which samples hold a position and nothing else, when the file has distance or speed (else None)."""
    if s.lat_deg is None or s.lon_deg is None:
        return None
    data = [np.asarray(c, np.float64)[idx] for c in (s.distance_m, s.speed_mps) if c is not None]
    if not any(np.isfinite(c).any() for c in data):
        return None
    data += [
        np.asarray(c, np.float64)[idx]
        for c in (s.cadence_spm, s.stride_length_m, s.contact_time_s)
        if c is not None
    ]
    has_data = np.any([np.isfinite(c) for c in data], axis=0)
    position = np.isfinite(np.asarray(s.lat_deg, np.float64)[idx]) & np.isfinite(
        np.asarray(s.lon_deg, np.float64)[idx]
    )
    only: np.ndarray = position & ~has_data
    return only if only.any() else None


def build_run(
    s: Samples,
    *,
    name: str,
    source: str,
    time_zone: str,
    title: str = "",
    shoe_serials: Sequence[str] = (),
    cut: str | None = None,
    notes: list[FormatNote] | None = None,
) -> Run:
    """A Run from a reader's samples; raises FormatError naming the file when the samples cannot make one or
    make one no human activity on foot has (see _plausible).

    ``cut`` says how a file cut short stops (None: it is whole): the run is what its samples hold, its totals
    (written at the start of the file or a lap, counting what is lost) are left out, and a note with code
    ``cut_short`` goes to ``notes``; with fewer than two samples it is refused (``truncated``).
    """
    if cut is not None:
        if len(s.time) < 2:
            raise truncated(name, cut)
        s = dataclasses.replace(s, total_distance_m=None, total_elapsed_s=None, total_timer_s=None)
    if len(s.time) < 2:
        raise FormatError(
            name, f"activity has {len(s.time)} timed sample(s), need at least 2", code="too_few"
        )
    t_abs = np.array([x.timestamp() for x in s.time], dtype=np.float64)
    if not np.all(np.isfinite(t_abs)):
        raise FormatError(name, "activity has samples without a valid time", code="damaged")
    order = np.argsort(t_abs, kind="stable")
    t_abs = t_abs[order]
    keep = np.append(np.diff(t_abs) > 0, True)  # of samples sharing a time, the last one wins
    idx = order[keep]
    t_abs = t_abs[keep]
    if len(t_abs) < 2:
        raise FormatError(name, "activity samples all have the same time", code="too_few")

    start = s.start_time.timestamp() if s.start_time is not None else t_abs[0]
    start = min(start, t_abs[0])
    start_time = dt.datetime.fromtimestamp(start, dt.UTC)
    route = _route(s, idx, t_abs - start, name)
    fix_only = _fix_only(s, idx)
    if fix_only is not None:
        idx, t_abs = idx[~fix_only], t_abs[~fix_only]
        if len(t_abs) < 2:
            raise FormatError(
                name,
                f"activity has {len(t_abs)} timed sample(s) besides its positions, need 2",
                code="too_few",
            )
    t_s = t_abs - start

    pauses_s: list[tuple[float, float]] | None = None
    if s.pauses is not None:
        pauses_s = sorted(
            (max(a.timestamp() - start, 0.0), b.timestamp() - start) for a, b in s.pauses if b > a
        )

    segment = _column(s.segment, idx)
    if segment is None:
        segment = np.zeros(len(t_s))
    if pauses_s:
        # a pause between two samples ends a segment: no GPS distance is counted across it
        crossed = np.sum([t_s >= b for _, b in pauses_s], axis=0)
        segment = segment * (len(pauses_s) + 1) + crossed

    distance = _column(s.distance_m, idx)
    lat, lon = _column(s.lat_deg, idx), _column(s.lon_deg, idx)
    speed = _column(s.speed_mps, idx)
    if distance is not None:
        distance = _fill_monotone(distance)
    elif lat is not None and lon is not None:
        has_fix = np.isfinite(lat) & np.isfinite(lon)
        accuracy = _column(s.accuracy_m, idx)
        if (
            accuracy is not None
        ):  # a poor fix is not where the runner was: its jump there and back is no distance
            has_fix &= ~(accuracy > GOOD_FIX_ACCURACY_M)
        if has_fix.sum() < 2:
            raise FormatError(
                name, "activity has no distance and fewer than 2 GPS positions", code="no_distance"
            )
        k = np.nonzero(has_fix)[0]
        steps = haversine_m(lat[k], lon[k])
        steps[np.diff(segment[k]) != 0] = 0.0
        fix_distance = np.concatenate(([0.0], np.cumsum(steps)))
        distance = np.full(len(t_s), np.nan)
        distance[k] = fix_distance
        distance = _fill_monotone(distance)
    elif speed is not None:
        v = np.nan_to_num(speed, nan=0.0)
        steps = 0.5 * (v[1:] + v[:-1]) * np.diff(t_s)
        steps[np.diff(segment) != 0] = 0.0
        distance = np.concatenate(([0.0], np.cumsum(steps)))
    else:
        raise FormatError(name, "activity has neither distance, GPS positions nor speed", code="no_distance")

    if speed is None:
        speed = np.gradient(distance, t_s)
    if pauses_s is None:
        pauses_s = detect_pauses(t_s, distance)
        if t_s[0] >= 3.0:
            pauses_s.insert(0, (0.0, float(t_s[0])))

    elapsed = float(t_s[-1])
    if (
        s.total_elapsed_s is not None
        and np.isfinite(s.total_elapsed_s)
        and s.total_elapsed_s >= elapsed - 1.0
    ):
        elapsed = float(s.total_elapsed_s)
    paused = sum(min(b, elapsed) - a for a, b in pauses_s if a < elapsed)
    moving = elapsed - paused
    if s.total_timer_s is not None and np.isfinite(s.total_timer_s) and s.total_timer_s >= 0:
        moving = float(s.total_timer_s)
    moving = min(max(moving, 0.0), elapsed)
    total = float(distance[-1] - distance[0])
    if s.total_distance_m is not None and np.isfinite(s.total_distance_m) and s.total_distance_m >= 0:
        total = float(s.total_distance_m)

    laps: list[Lap] = []
    for lap_start, lap_elapsed_s, lap_name in s.laps:
        a = lap_start.timestamp() - start
        if lap_elapsed_s > 0:
            laps.append(Lap(t_start_s=a, t_end_s=a + lap_elapsed_s, name=lap_name))
    if len(laps) == 1 and laps[0].t_start_s <= 1.0 and laps[0].t_end_s >= elapsed - 1.0:
        laps = []  # one lap over the whole run is how files say "no laps"

    def f4(x: np.ndarray | None) -> np.ndarray | None:
        return None if x is None else x.astype(np.float32)

    try:
        streams = Streams(
            t_s=t_s,
            distance_m=distance,
            speed_mps=f4(speed),
            cadence_spm=f4(_column(s.cadence_spm, idx)),
            stride_length_m=f4(_column(s.stride_length_m, idx)),
            contact_time_s=f4(_column(s.contact_time_s, idx)),
        )
        run = Run(
            start_time=start_time,
            time_zone=time_zone,
            distance_m=total,
            elapsed_time_s=elapsed,
            moving_time_s=moving,
            streams=streams,
            pauses=[(float(a), float(b)) for a, b in pauses_s],
            laps=laps,
            shoe_serials=tuple(shoe_serials),
            source=source,
            title=title,
            route=route,
            cut_short=cut is not None,
        )
    except RunDataError as exc:
        raise FormatError(name, f"activity data is inconsistent ({exc})", code="damaged") from exc
    check_plausible(run, name=name)
    if cut is not None and notes is not None:
        ends = (start_time + dt.timedelta(seconds=float(t_s[-1]))).isoformat()
        problem = f"file is cut short ({cut}): read up to its last whole sample, at {ends}"
        notes.append(FormatNote(name, problem, code="cut_short", params={"ends": ends}))
    return run
