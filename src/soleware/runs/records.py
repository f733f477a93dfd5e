"""Personal records of one runner: per distance the best efforts (top 3 from different runs) and the history.

Everything is a pure function of the runner's run summaries (their best efforts), taken in run order
(start time, then run id), so deleting or editing a run is "recompute from the remaining runs". ``add`` is the
incremental path for one new run and gives exactly what a recompute would, in any order (tested).

History: walking the runs in order, a run's effort sets a record when it is strictly faster than the record
standing at that moment (the first effort at a distance sets the first record, replacing nothing). Ties keep the
earlier record. Ranking (top 3): by time, ties broken by run order.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import heapq
import operator
from collections.abc import Callable, Iterable
from typing import Any, Self

import numpy as np

from soleware.runs.efforts import BEST_EFFORT_DISTANCES, Effort, distance_key
from soleware.runs.facts import RunFacts
from soleware.runs.model import RunSummary

__all__ = ["DistanceRecords", "PersonalRecords", "RecordChange", "RecordEntry"]


@dataclasses.dataclass(frozen=True, slots=True)
class RecordEntry:
    """One run's best effort at one distance."""

    run_id: str
    run_start: dt.datetime
    distance_m: float
    time_s: float
    #: where the effort lies inside the run, seconds from the run's start
    start_s: float
    end_s: float

    @property
    def order(self) -> tuple[dt.datetime, str]:
        return (self.run_start, self.run_id)

    @property
    def rank_key(self) -> tuple[float, dt.datetime, str]:
        return (self.time_s, self.run_start, self.run_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "run_start": self.run_start.isoformat(),
            "distance_m": self.distance_m,
            "time_s": self.time_s,
            "start_s": self.start_s,
            "end_s": self.end_s,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RecordEntry:
        return cls(
            d["run_id"],
            dt.datetime.fromisoformat(d["run_start"]),
            float(d["distance_m"]),
            float(d["time_s"]),
            float(d["start_s"]),
            float(d["end_s"]),
        )


@dataclasses.dataclass(frozen=True, slots=True)
class RecordChange:
    """A record being set: the new best effort and the one it replaced (None for the first at a distance)."""

    record: RecordEntry
    replaced: RecordEntry | None

    @property
    def improvement_s(self) -> float | None:
        return None if self.replaced is None else self.replaced.time_s - self.record.time_s


@dataclasses.dataclass(frozen=True, slots=True)
class DistanceRecords:
    """Records at one distance: ``best`` (fastest first, one per run, up to top_n) and ``history`` (oldest first)."""

    distance_m: float
    best: tuple[RecordEntry, ...]
    history: tuple[RecordChange, ...]

    @property
    def key(self) -> str:
        return distance_key(self.distance_m)

    @property
    def record(self) -> RecordEntry | None:
        return self.best[0] if self.best else None


def _make_entry(run: RunSummary, e: Effort) -> RecordEntry:
    return RecordEntry(run.run_id, run.start_time, e.distance_m, e.time_s, e.start_s, e.end_s)


_first = operator.itemgetter(0)


def _changes(setters: list[RecordEntry]) -> tuple[RecordChange, ...]:
    return tuple(RecordChange(e, setters[k - 1] if k else None) for k, e in enumerate(setters))


class PersonalRecords:
    """Personal records per distance from the best efforts of a runner's runs.

    Parameters
    ----------
    distances_m
        The distances to keep records for (default: the standard best-effort distances).
    top_n
        How many best efforts to keep per distance (each from a different run).

    Attributes
    ----------
    records_
        Distance key ("5k", ...) to DistanceRecords, only for distances with at least one effort, shortest first.
    run_ids_
        Ids of the runs taken into account.
    """

    records_: dict[str, DistanceRecords]
    run_ids_: set[str]

    def __init__(self, *, distances_m: tuple[float, ...] | None = None, top_n: int = 3) -> None:
        self.distances_m = distances_m
        self.top_n = top_n

    def _distances(self) -> tuple[float, ...]:
        if self.distances_m is None:
            return tuple(d.distance_m for d in BEST_EFFORT_DISTANCES)
        return tuple(sorted(self.distances_m))

    @staticmethod
    def _entry(run: RunSummary, distance_m: float) -> RecordEntry | None:
        e = run.effort(distance_m)
        return None if e is None else _make_entry(run, e)

    def compute(self, runs: Iterable[RunSummary]) -> Self:
        """Records from scratch for this set of runs (input order does not matter)."""
        if self.top_n < 1:
            raise ValueError(f"top_n must be >= 1, got {self.top_n}")
        ordered = sorted(runs, key=lambda r: r.sort_key)
        ids = [r.run_id for r in ordered]
        if len(set(ids)) != len(ids):
            raise ValueError("run ids must be unique")
        self.run_ids_ = set(ids)
        self.records_ = {}
        wanted = set(self._distances())
        # one pass over the runs; per distance (time, position in run order, run, effort), still in run order
        raw: dict[float, list[tuple[float, int, RunSummary, Effort]]] = {d: [] for d in wanted}
        for k, r in enumerate(ordered):
            for e in r.efforts:
                if e.distance_m in wanted:
                    raw[e.distance_m].append((e.time_s, k, r, e))
        for distance in self._distances():
            items = raw[distance]
            if not items:
                continue
            # nsmallest is stable: equal times keep run order, as rank_key does
            best = tuple(_make_entry(r, e) for _, _, r, e in heapq.nsmallest(self.top_n, items, key=_first))
            setters: list[RecordEntry] = []
            standing = float("inf")
            for time_s, _, r, e in items:
                if time_s < standing:
                    standing = time_s
                    setters.append(_make_entry(r, e))
            self.records_[distance_key(distance)] = DistanceRecords(distance, best, _changes(setters))
        return self

    def compute_facts(self, facts: RunFacts) -> Self:
        """Records from the runs' facts, equal to ``compute`` over the same runs (tested): a few vectorised
        passes, so a deleted record holder costs one read of the facts, not a walk over every run."""
        if self.top_n < 1:
            raise ValueError(f"top_n must be >= 1, got {self.top_n}")
        f = facts.ordered()
        f.check_unique()
        self.run_ids_ = set(f.run_id)
        self.records_ = {}

        def entry(k: int) -> RecordEntry:
            i = int(f.effort_run[k])
            return RecordEntry(
                f.run_id[i],
                f.start_time(i),
                float(f.effort_distance_m[k]),
                float(f.effort_time_s[k]),
                float(f.effort_start_s[k]),
                float(f.effort_end_s[k]),
            )

        for distance in self._distances():
            sel = np.flatnonzero(f.effort_distance_m == distance)  # in run order
            if not len(sel):
                continue
            t = f.effort_time_s[sel]
            # the top n: those no slower than the n-th fastest, fastest first, equal times in run order
            near = np.arange(len(t))
            if len(t) > self.top_n and not np.isnan(nth := np.partition(t, self.top_n - 1)[self.top_n - 1]):
                near = np.flatnonzero(t <= nth)
            top = near[np.argsort(t[near], kind="stable")[: self.top_n]]
            best = tuple(entry(k) for k in sel[top])
            standing = np.fmin.accumulate(np.concatenate(([np.inf], t)))[:-1]
            setters = [entry(k) for k in sel[t < standing]]
            self.records_[distance_key(distance)] = DistanceRecords(distance, best, _changes(setters))
        return self

    def involves(self, run_id: str) -> bool:
        """Whether the run holds a top-n place or set a record (deleting it changes the records)."""
        return any(
            e.run_id == run_id
            for r in self.records_.values()
            for e in (*r.best, *(c.record for c in r.history))
        )

    def add(self, run: RunSummary) -> Self:
        """Take one new run into account; the result equals ``compute(previous runs + [run])``.

        Works for a run anywhere in time (an old run imported late may rewrite later history).
        """
        if run.run_id in self.run_ids_:
            raise ValueError(f"run {run.run_id!r} is already counted; to edit a run, recompute")
        self.run_ids_.add(run.run_id)
        updated: dict[str, DistanceRecords] = {}
        for distance in self._distances():
            key = distance_key(distance)
            current = self.records_.get(key)
            new = self._entry(run, distance)
            if new is None:
                if current is not None:
                    updated[key] = current
                continue
            if current is None:
                updated[key] = DistanceRecords(distance, (new,), (RecordChange(new, None),))
                continue
            best = list(current.best)
            bisect.insort(best, new, key=lambda e: e.rank_key)
            setters = [c.record for c in current.history]
            # setters before the new run are untouched; the new run sets a record if it beats the one standing
            # then; later setters survive only if they beat the new run's time.
            pos = bisect.bisect_left([s.order for s in setters], new.order)
            before = setters[:pos]
            if not before or new.time_s < before[-1].time_s:
                after = [s for s in setters[pos:] if s.time_s < new.time_s]
                setters = [*before, new, *after]
            updated[key] = DistanceRecords(distance, tuple(best[: self.top_n]), _changes(setters))
        self.records_ = updated
        return self

    def remove(
        self, run_id: str, *, remaining: Iterable[RunSummary] | Callable[[], Iterable[RunSummary]]
    ) -> Self:
        """Forget a deleted run; equals ``compute(remaining)``.

        When the run holds no top-n place and set no record, nothing else changes and ``remaining`` is not read
        (pass a callable to load the runs lazily); otherwise the records are recomputed from ``remaining``.
        """
        if self.run_ids_ and run_id not in self.run_ids_:  # ids are known only in memory, not once stored
            raise ValueError(f"run {run_id!r} is not counted")
        if not self.involves(run_id):
            self.run_ids_.discard(run_id)
            return self
        runs = remaining() if callable(remaining) else remaining
        return self.compute(r for r in runs if r.run_id != run_id)

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """State as JSON-able data, so storage can keep it and apply ``add`` later without loading all runs (run
        ids are not kept: a stored state does not check ``add`` for a run counted twice)."""
        return {
            "top_n": self.top_n,
            "distances_m": None if self.distances_m is None else list(self.distances_m),
            "records": {
                k: {
                    "distance_m": v.distance_m,
                    "best": [e.to_dict() for e in v.best],
                    "history": [c.record.to_dict() for c in v.history],
                }
                for k, v in self.records_.items()
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PersonalRecords:
        distances = data.get("distances_m")
        obj = cls(distances_m=None if distances is None else tuple(distances), top_n=int(data["top_n"]))
        obj.run_ids_ = (
            set()
        )  # not stored: storage keeps runs unique, and the list would grow with the history
        obj.records_ = {
            k: DistanceRecords(
                float(v["distance_m"]),
                tuple(RecordEntry.from_dict(e) for e in v["best"]),
                _changes([RecordEntry.from_dict(e) for e in v["history"]]),
            )
            for k, v in data["records"].items()
        }
        return obj
