"""Run facts: what records and achievements need of each run, as columns (one numpy array per field).

A runner's whole history in this form is one narrow read, and records and achievements follow from it in a few
vectorised passes (``PersonalRecords.compute_facts``, ``Achievements.compute_facts``) that give exactly what
walking the run summaries one by one gives, whatever the history's length and wherever in time a run was added
or deleted. Storage keeps them with every run as two small blobs (``pack_facts``, local day and hour in the run's
own zone; ``pack_efforts``) in a covering index, so a runner's facts are one index-only read.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import struct
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from soleware.runs.efforts import Effort
from soleware.runs.model import RunSummary

__all__ = ["RunFacts", "local_day_hour", "pack_efforts", "pack_facts", "unpack_efforts"]

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)
_EFFORT = struct.Struct("<4d")
#: a run's packed facts (its efforts are packed apart: ``pack_efforts``)
_HEAD = np.dtype(
    [
        ("start_us", "<i8"),
        ("offset_s", "<i4"),
        ("local_day", "<i4"),
        ("local_hour", "<i4"),
        ("distance_m", "<f8"),
        ("cadence_spm", "<f8"),
        ("fore_mid_fraction", "<f8"),
    ]
)


@functools.cache
def _offset(seconds: int) -> dt.tzinfo:
    return dt.UTC if seconds == 0 else dt.timezone(dt.timedelta(seconds=seconds))


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


def pack_facts(summary: RunSummary, *, time_zone: str | None = None) -> bytes:
    """A run's facts but its efforts (those are ``pack_efforts``) as a small fixed-size blob: start, UTC offset,
    local day and hour (in ``time_zone``, or the run's own zone), distance, cadence, strike fraction."""
    day, hour = local_day_hour(summary.start_time, time_zone or summary.time_zone)
    head = np.array(
        [
            (
                start_us(summary.start_time),
                start_offset_s(summary.start_time),
                day,
                hour,
                summary.distance_m,
                np.nan if summary.avg_cadence_spm is None else summary.avg_cadence_spm,
                np.nan if summary.fore_mid_strike_fraction is None else summary.fore_mid_strike_fraction,
            )
        ],
        dtype=_HEAD,
    )
    return head.tobytes()


@dataclasses.dataclass(frozen=True, eq=False)
class RunFacts:
    """Per-run fields as arrays of one length (``effort_*``: one entry per effort, ``effort_run`` its run).

    Missing cadence or strike fraction is NaN. Build with ``from_summaries`` or ``from_packed``; ``ordered``
    puts the runs in run order (start time, then id) as every computation needs them.
    """

    run_id: list[str]
    start_us: np.ndarray  # int64, UTC microseconds since 1970
    offset_s: np.ndarray  # int64, the start time's UTC offset as given
    time_zone: list[str]
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

    def __eq__(self, other: object) -> bool:
        """The same runs in the same order with the same values (a missing cadence, NaN, equals another)."""
        if not isinstance(other, RunFacts):
            return NotImplemented
        for f in dataclasses.fields(self):
            a, b = np.asarray(getattr(self, f.name)), np.asarray(getattr(other, f.name))
            if not np.array_equal(a, b, equal_nan=a.dtype.kind == "f" and b.dtype.kind == "f"):
                return False
        return True

    @classmethod
    def from_packed(cls, rows: Iterable[Sequence[Any]]) -> RunFacts:
        """From stored rows: (run id, time zone, ``pack_facts`` blob, ``pack_efforts`` blob)."""
        rows = list(rows)
        n = len(rows)
        ids, zones, heads, efforts = (list(c) for c in zip(*rows, strict=True)) if rows else ([], [], [], [])
        head_bytes = b"".join(heads)
        lengths = np.array(list(map(len, efforts)), dtype=np.int64)
        if len(head_bytes) != n * _HEAD.itemsize or np.any(lengths % _EFFORT.size):
            raise ValueError("a run's packed facts are not one head and whole efforts")
        head = np.frombuffer(head_bytes, dtype=_HEAD)
        e = np.frombuffer(b"".join(efforts), dtype="<f8").reshape(-1, 4).T.copy()
        return cls(
            run_id=ids,
            start_us=head["start_us"].astype(np.int64),
            offset_s=head["offset_s"].astype(np.int64),
            time_zone=zones,
            distance_m=head["distance_m"].astype(np.float64),
            local_day=head["local_day"].astype(np.int64),
            local_hour=head["local_hour"].astype(np.int64),
            cadence_spm=head["cadence_spm"].astype(np.float64),
            fore_mid_fraction=head["fore_mid_fraction"].astype(np.float64),
            effort_run=np.repeat(np.arange(n, dtype=np.int64), lengths // _EFFORT.size),
            effort_distance_m=e[0],
            effort_time_s=e[1],
            effort_start_s=e[2],
            effort_end_s=e[3],
        )

    @classmethod
    def from_summaries(cls, runs: Iterable[RunSummary], *, time_zone: str | None = None) -> RunFacts:
        """From run summaries; local days and hours in ``time_zone``, or in each run's own zone (None)."""
        return cls.from_packed(
            (r.run_id, r.time_zone, pack_facts(r, time_zone=time_zone), pack_efforts(r.efforts)) for r in runs
        )

    def ordered(self) -> RunFacts:
        """The same runs in run order (start time, then id); each run's efforts keep their order."""
        n = len(self)
        order = np.argsort(self.start_us, kind="stable")
        us = self.start_us[order]
        tied = np.flatnonzero(np.diff(us) == 0)
        if len(tied):  # equal starts (rare): those in id order
            group = np.concatenate(([0], np.cumsum(np.diff(us) != 0)))
            for g in np.unique(group[tied]):
                at = np.flatnonzero(group == g)
                order[at] = sorted(order[at], key=lambda i: self.run_id[i])
        if np.array_equal(order, np.arange(n)):
            return self
        rank = np.empty_like(order)
        rank[order] = np.arange(n)
        new_run = rank[self.effort_run]
        e_order = np.argsort(new_run, kind="stable")
        arrays = {
            f.name: getattr(self, f.name)[order]
            for f in dataclasses.fields(self)
            if f.name not in ("run_id", "time_zone") and not f.name.startswith("effort_")
        }
        efforts = {
            f.name: getattr(self, f.name)[e_order]
            for f in dataclasses.fields(self)
            if f.name.startswith("effort_")
        }
        efforts["effort_run"] = new_run[e_order]
        return RunFacts(
            run_id=[self.run_id[i] for i in order],
            time_zone=[self.time_zone[i] for i in order],
            **arrays,
            **efforts,
        )

    @classmethod
    def concat(cls, parts: Sequence[RunFacts]) -> RunFacts:
        """The runs of ``parts`` one after the other (call ``ordered`` for run order)."""
        firsts = np.cumsum([0, *(len(p) for p in parts[:-1])], dtype=np.int64)
        columns: dict[str, Any] = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in dataclasses.fields(cls)
            if f.name not in ("run_id", "time_zone", "effort_run")
        }
        return cls(
            run_id=[i for p in parts for i in p.run_id],
            time_zone=[z for p in parts for z in p.time_zone],
            effort_run=np.concatenate([p.effort_run + first for p, first in zip(parts, firsts, strict=True)]),
            **columns,
        )

    def without(self, run_ids: Iterable[str]) -> RunFacts:
        """The same runs, in the same order, less ``run_ids`` (ids not here are ignored)."""
        gone = set(run_ids)
        keep = np.array([i not in gone for i in self.run_id], dtype=bool)
        if keep.all():
            return self
        new_index = np.cumsum(keep) - 1
        kept_effort = keep[self.effort_run]
        columns: dict[str, Any] = {
            f.name: getattr(self, f.name)[kept_effort if f.name.startswith("effort_") else keep]
            for f in dataclasses.fields(self)
            if f.name not in ("run_id", "time_zone", "effort_run")
        }
        return RunFacts(
            run_id=[i for i, k in zip(self.run_id, keep, strict=True) if k],
            time_zone=[z for z, k in zip(self.time_zone, keep, strict=True) if k],
            effort_run=new_index[self.effort_run[kept_effort]],
            **columns,
        )

    def start_time(self, i: int) -> dt.datetime:
        """Run ``i``'s start time with the UTC offset it was given with."""
        return (_EPOCH + dt.timedelta(microseconds=int(self.start_us[i]))).astimezone(
            _offset(int(self.offset_s[i]))
        )

    def check_unique(self) -> None:
        if len(set(self.run_id)) != len(self.run_id):
            raise ValueError("run ids must be unique")
