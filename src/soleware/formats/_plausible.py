"""Plausibility of an imported run: values no human activity on foot reaches are refused, not stored.

A file from another app can be intact and still absurd (a distance in the wrong unit, a clock that was never
set, a car ride recorded by a forgotten watch). Stored, such a run would poison records, achievements and
progress for good, so every importer (FIT, TCX, GPX, single files and bulk) passes its run through here.
The bounds are far beyond what any runner, walker or hiker does; each refusal names the field and the value.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from soleware.formats._safety import FormatError
from soleware.runs.model import Run

__all__ = [
    "EARLIEST_START",
    "FUTURE_SLACK_S",
    "MAX_DISTANCE_M",
    "MAX_ELAPSED_S",
    "MAX_SPEED_MPS",
    "SPEED_WINDOW_S",
    "check_plausible",
]

#: fastest average speed on foot accepted, m/s (45 km/h): the 100 m world record averages 10.44 m/s, and the
#: fastest split ever measured in it is about 12.4 m/s
MAX_SPEED_MPS = 12.5
#: shortest stretch of the distance stream over which the speed is checked, s (a GPS point may jump)
SPEED_WINDOW_S = 60.0
#: longest elapsed time of one activity, s (7 days: the longest non-stop ultra races take 2 to 5 days)
MAX_ELAPSED_S = 7 * 86_400.0
#: longest distance of one activity, m (the 6-day race record is 1,036.8 km)
MAX_DISTANCE_M = 1_500_000.0
#: no GPS watch wrote activities before this (FIT's epoch is 1989-12-31: a watch whose clock was never set)
EARLIEST_START = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
#: how far past the present an activity may end, s: a file that writes local time as UTC is up to 14 h ahead
FUTURE_SLACK_S = 86_400.0


def _refuse(name: str, what: str, *, check: str, value: str, limit: str) -> FormatError:
    """The refusal, its ``check`` (start, end, elapsed, distance, speed, stretch) with the ``value`` found and the
    ``limit`` it breaks, so a client can say it in the runner's language."""
    return FormatError(
        name,
        f"implausible activity: {what}",
        code="implausible",
        detail=what,
        check=check,
        value=value,
        limit=limit,
    )


def _hms(seconds: float) -> str:
    days, rest = divmod(round(seconds), 86_400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    return (f"{days} d " if days else "") + f"{h:d}:{m:02d}:{s:02d}"


def check_plausible(run: Run, *, name: str, now: dt.datetime | None = None) -> None:
    """Raise FormatError naming the first field whose value no human activity on foot has (dates, elapsed
    time, distance, average speed, speed over any stretch of ``SPEED_WINDOW_S`` of the distance stream)."""
    now = now or dt.datetime.now(dt.UTC)
    start = run.start_time.astimezone(dt.UTC)
    if start < EARLIEST_START:
        raise _refuse(
            name,
            f"start time {start.isoformat()} is before {EARLIEST_START.year} (clock not set?)",
            check="start",
            value=start.isoformat(),
            limit=str(EARLIEST_START.year),
        )
    end = start + dt.timedelta(seconds=run.elapsed_time_s)
    if (end - now).total_seconds() > FUTURE_SLACK_S:
        raise _refuse(
            name, f"end time {end.isoformat()} is in the future", check="end", value=end.isoformat(), limit=""
        )
    if run.elapsed_time_s > MAX_ELAPSED_S:
        raise _refuse(
            name,
            f"elapsed time {_hms(run.elapsed_time_s)} ({run.elapsed_time_s:.0f} s) is longer than "
            f"{_hms(MAX_ELAPSED_S)}",
            check="elapsed",
            value=_hms(run.elapsed_time_s),
            limit=_hms(MAX_ELAPSED_S),
        )
    if run.distance_m > MAX_DISTANCE_M:
        raise _refuse(
            name,
            f"distance {run.distance_m / 1000:.1f} km is longer than {MAX_DISTANCE_M / 1000:.0f} km",
            check="distance",
            value=f"{run.distance_m / 1000:.1f} km",
            limit=f"{MAX_DISTANCE_M / 1000:.0f} km",
        )
    time_s = run.moving_time_s if run.moving_time_s >= 1.0 else run.elapsed_time_s
    if time_s > 0 and run.distance_m / time_s > MAX_SPEED_MPS:
        raise _refuse(
            name,
            f"average speed {run.distance_m / time_s:.1f} m/s (distance {run.distance_m:.0f} m in "
            f"{time_s:.0f} s of moving time) is faster than {MAX_SPEED_MPS} m/s, beyond any human on foot",
            check="speed",
            value=f"{run.distance_m / time_s:.1f} m/s",
            limit=f"{MAX_SPEED_MPS} m/s",
        )
    t, d = run.streams.t_s, run.streams.distance_m
    if len(t) >= 2:
        window = min(SPEED_WINDOW_S, float(t[-1] - t[0]))
        i = np.arange(len(t))
        j = np.searchsorted(t, t + window, side="left")
        ok = j < len(t)
        i, j = i[ok], j[ok]
        if len(i) and window > 0:
            speed = (d[j] - d[i]) / (t[j] - t[i])
            k = int(np.argmax(speed))
            if speed[k] > MAX_SPEED_MPS:
                raise _refuse(
                    name,
                    f"distance stream covers {d[j[k]] - d[i[k]]:.0f} m in {t[j[k]] - t[i[k]]:.0f} s from "
                    f"{t[i[k]]:.0f} s ({speed[k]:.1f} m/s), faster than {MAX_SPEED_MPS} m/s, beyond any "
                    "human on foot",
                    check="stretch",
                    value=f"{speed[k]:.1f} m/s",
                    limit=f"{MAX_SPEED_MPS} m/s",
                )
