"""Run facts: what records and achievements need of each run, as columns (one numpy array per field).

A runner's whole history in this form is one narrow read, and records and achievements follow from it in a few
vectorised passes (``PersonalRecords.compute_facts``, ``Achievements.compute_facts``) that give exactly what
walking the run summaries one by one gives, whatever the history's length and wherever in time a run was added
or deleted. Storage keeps these fields as columns of every run (local day and hour in the run's own zone).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import struct
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from soleware.runs.efforts import Effort
from soleware.runs.model import RunSummary

__all__ = ["RunFacts", "local_day_hour", "pack_efforts", "unpack_efforts"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)
_EFFORT = struct.Struct("<4d")


def local_day_hour(start_time: dt.datetime, zone: str) -> tuple[int, int]:
    """The local date (as its ordinal) and hour of a start time in ``zone``."""
    local = start_time.astimezone(ZoneInfo(zone))
    return local.date().toordinal(), local.hour


def start_us(start_time: dt.datetime) -> int:
    """Microseconds since 1970-01-01 UTC, exactly."""
    return (start_time - _EPOCH) // _US


def start_offset_s(start_time: dt.datetime) -> int:
    """The UTC offset a start time was given with (it shows in the ISO text of awards and records)."""
    offset = start_time.utcoffset()
    if offset is None:
        raise ValueError("start_time must be timezone-aware")
    return round(offset.total_seconds())


def pack_efforts(efforts: Sequence[Effort]) -> bytes:
    """A run's efforts as float64 quadruples (distance, time, start, end), in the run's order."""
    return b"".join(_EFFORT.pack(e.distance_m, e.time_s, e.start_s, e.end_s) for e in efforts)


def unpack_efforts(blob: bytes) -> tuple[Effort, ...]:
    """Inverse of pack_efforts."""
    return tuple(Effort(*x) for x in _EFFORT.iter_unpack(blob))


@dataclasses.dataclass(frozen=True)
class RunFacts:
    """Per-run fields as arrays of one length (``efforts`` columns: one entry per effort, ``effort_run`` its run).

    Missing cadence or strike fraction is NaN. Build with ``from_summaries`` or ``from_rows``; ``ordered``
    puts the runs in run order (start time, then id) as every computation needs them.
    """

    run_id: np.ndarray  # str
    start_us: np.ndarray  # int64, UTC microseconds since 1970
    offset_s: np.ndarray  # int64, the start time's UTC offset as given
    time_zone: np.ndarray  # str
    distance_m: np.ndarray
    local_day: np.ndarray  # int64, date ordinal (0001-01-01 is 1)
    local_hour: np.ndarray  # int64
    cadence_spm: np.ndarray
    fore_mid_fraction: np.ndarray
    effort_run: np.ndarray  # int64 index of the effort's run
    effort_distance_m: np.ndarray
    effort_time_s: np.ndarray
    effort_start_s: np.ndarray
    effort_end_s: np.ndarray

    def __len__(self) -> int:
        return len(self.run_id)

    @classmethod
    def from_rows(
        cls,
        rows: Iterable[Sequence[Any]],
    ) -> RunFacts:
        """From stored rows: (id, start_us, offset_s, time zone, distance, local day, local hour, cadence,
        strike fraction, ``pack_efforts`` blob)."""
        rows = list(rows)
        columns: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 10
        ids, us, off, zones, dist, day, hour, cad, fore, blobs = columns
        lengths = np.array([len(b) for b in blobs], dtype=np.int64)
        if np.any(lengths % _EFFORT.size):
            raise ValueError("an efforts blob is not a whole number of efforts")
        e = np.frombuffer(b"".join(blobs), dtype="<f8").reshape(-1, 4)
        return cls(
            run_id=np.array(ids, dtype=str),
            start_us=np.array(us, dtype=np.int64),
            offset_s=np.array(off, dtype=np.int64),
            time_zone=np.array(zones, dtype=str),
            distance_m=np.array(dist, dtype=np.float64),
            local_day=np.array(day, dtype=np.int64),
            local_hour=np.array(hour, dtype=np.int64),
            cadence_spm=np.array([np.nan if x is None else x for x in cad], dtype=np.float64),
            fore_mid_fraction=np.array([np.nan if x is None else x for x in fore], dtype=np.float64),
            effort_run=np.repeat(np.arange(len(ids), dtype=np.int64), lengths // _EFFORT.size),
            effort_distance_m=e[:, 0].copy(),
            effort_time_s=e[:, 1].copy(),
            effort_start_s=e[:, 2].copy(),
            effort_end_s=e[:, 3].copy(),
        )

    @classmethod
    def from_summaries(cls, runs: Iterable[RunSummary], *, time_zone: str | None = None) -> RunFacts:
        """From run summaries; local days and hours in ``time_zone``, or in each run's own zone (None)."""
        rows = []
        for r in runs:
            day, hour = local_day_hour(r.start_time, time_zone or r.time_zone)
            rows.append(
                (
                    r.run_id,
                    start_us(r.start_time),
                    start_offset_s(r.start_time),
                    r.time_zone,
                    r.distance_m,
                    day,
                    hour,
                    r.avg_cadence_spm,
                    r.fore_mid_strike_fraction,
                    pack_efforts(r.efforts),
                )
            )
        return cls.from_rows(rows)

    def ordered(self) -> RunFacts:
        """The same runs in run order (start time, then id); each run's efforts keep their order."""
        order = np.lexsort((self.run_id, self.start_us)) if len(self) else np.arange(0)
        if np.all(order == np.arange(len(order))):
            return self
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        new_run = rank[self.effort_run]
        e_order = np.argsort(new_run, kind="stable")
        runs = {
            f.name: getattr(self, f.name)[order]
            for f in dataclasses.fields(self)
            if not f.name.startswith("effort_")
        }
        efforts = {
            f.name: getattr(self, f.name)[e_order]
            for f in dataclasses.fields(self)
            if f.name.startswith("effort_")
        }
        efforts["effort_run"] = new_run[e_order]
        return RunFacts(**runs, **efforts)

    def start_time(self, i: int) -> dt.datetime:
        """Run ``i``'s start time with the UTC offset it was given with."""
        off = int(self.offset_s[i])
        tz = dt.UTC if off == 0 else dt.timezone(dt.timedelta(seconds=off))
        return (_EPOCH + dt.timedelta(microseconds=int(self.start_us[i]))).astimezone(tz)

    def check_unique(self) -> None:
        ids = np.sort(self.run_id)
        if len(ids) > 1 and np.any(ids[1:] == ids[:-1]):
            raise ValueError("run ids must be unique")
