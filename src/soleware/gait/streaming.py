"""The gait engine fed sample by sample (or in chunks of any size), with bounded memory.

The streaming form runs the offline algorithms on a sliding window: once ``step_s`` of new data has arrived it
analyses the buffer (from ``context_s`` before the last emitted stride's end), emits the strides that end at
least ``guard_s`` before the newest sample, and forgets everything before that context. A stride is therefore
emitted within ``step_s + guard_s`` of its end, with exceptions that keep the stream equal to the offline
analysis: a stride ending in a rest waits until the rest has given the gyroscope bias (``rest_bias_s`` of
:class:`~soleware.gait.pipeline.GaitAnalysis`); one ending on a stance the detector doubts waits for the
stances after it; at a gap too long to fill, the last stride before it waits for four after it (they say how
:func:`~soleware.gait.pipeline.across_gap` bridges it); and data that begins on the move waits for the stances
its first 'up' is drawn from (``UP_START_ANCHORS``). Memory never exceeds one window.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from typing import Self

import numpy as np

from soleware.gait._signal import median
from soleware.gait.pipeline import (
    BRIDGE_CONTEXT,
    UP_START_ANCHORS,
    GaitAnalysis,
    RestBiases,
    RunSummary,
    Stride,
    across_gap,
    summarize,
)
from soleware.gait.recording import (
    MAX_INTERPOLATED_GAP_S,
    UNIT_CHECK_MIN_S,
    check_time_unit,
    check_units,
    timestamps_rate_hz,
    usable_samples,
)
from soleware.gait.stance import NEIGHBOURS

__all__ = ["StreamingGaitAnalysis"]

#: the stream's time unit is judged on the median of its latest steps between samples, once it has this many
_STEPS_JUDGED = 16
_STEPS_KEPT = 64
#: stances a window of data that began on the move holds before its strides are given: those its first 'up' is
#: drawn from, and the neighbours the detector judges the last of them by
_START_STANCES = UP_START_ANCHORS + NEIGHBOURS


class StreamingGaitAnalysis:
    """Strides of one foot, emitted shortly after each ends, from samples pushed in any chunk size.

    Parameters
    ----------
    sample_rate_hz
        Nominal sample rate (used for sizing, the timestamps themselves drive the integration; where they say
        another rate, theirs is used, as offline: :func:`~soleware.gait.recording.timestamps_rate_hz`).
    window_s
        Longest stretch of data held and analysed at once: a stride whose start would fall out of it (a stop
        longer than this) is emitted as it stands.
    step_s
        New data needed before the next analysis.
    guard_s
        Strides ending closer than this to the newest sample wait for the next analysis (their end stance may
        not be complete yet).
    context_s
        Data kept before the last emitted stride's end: the next window finds that stance again and sees the
        strides before it as the whole recording does (the stance detector estimates the stride period over
        several seconds).
    doubt_wait
        A stride ending on a stance the detector doubts more than this (see ``stance_doubt_``) waits until the
        stances after it, which the detector weighs too, are in the window.
    long_stride
        A stride lasting more than this many times the median of the strides before it in the window, out of no
        rest and into none, may hold a stance the detector finds only once it sees the seconds after (it weighs
        the stride period over 10 s: at a sprint's start, the stances of its first strides): it waits
        ``period_wait_s`` after its end.
    period_wait_s
        How long such a stride waits (half the detector's period window).
    analysis
        The offline analysis used on each window.

    Attributes
    ----------
    strides_
        Every stride emitted so far.
    last_swing_s_
        Time (s) of the newest sample analysed so far where the foot swung (its strides may still be pending).
    buffered_samples_
        Samples currently held (bounded by about ``(window_s + step_s) * sample_rate_hz``).
    missing_samples_
        Samples pushed with a NaN, an inf or a value no sensor reads (in the time or on any axis) and left out: a
        sensor's read failure is a missing sample. A gap of missing samples up to ``MAX_INTERPOLATED_GAP_S``
        (0.25 s) is integrated over, as a dropped packet's; a longer one ends a segment, as the offline analysis
        splits a recording there.
    """

    strides_: list[Stride]
    last_swing_s_: float
    buffered_samples_: int
    missing_samples_: int
    _t: np.ndarray
    _steps: np.ndarray
    _units_checked: bool
    _acc: np.ndarray
    _gyr: np.ndarray
    _pending_s: float
    _last_end_s: float | None
    _biases: RestBiases
    _gap_last: Stride | None
    _after_gap: list[Stride] | None
    _trimmed: bool

    def __init__(
        self,
        *,
        sample_rate_hz: float,
        window_s: float = 60.0,
        step_s: float = 1.0,
        guard_s: float = 1.0,
        context_s: float = 10.0,
        doubt_wait: float = 0.8,
        long_stride: float = 1.5,
        period_wait_s: float = 5.0,
        analysis: GaitAnalysis | None = None,
    ) -> None:
        self.sample_rate_hz = sample_rate_hz
        self.window_s = window_s
        self.step_s = step_s
        self.guard_s = guard_s
        self.context_s = context_s
        self.doubt_wait = doubt_wait
        self.long_stride = long_stride
        self.period_wait_s = period_wait_s
        self.analysis = analysis

    def _start(self) -> None:
        """Set up the stream's state on first use (``__init__`` only stores the parameters)."""
        if hasattr(self, "_t"):
            return
        if not (math.isfinite(self.sample_rate_hz) and self.sample_rate_hz > 0.0):
            raise ValueError(
                f"sample_rate_hz must be a positive number of samples per second, not {self.sample_rate_hz!r}"
            )
        self.strides_ = []
        self.buffered_samples_ = 0
        self.missing_samples_ = 0
        self.last_swing_s_ = -np.inf
        self._t = np.zeros(0)
        self._acc = np.zeros((0, 3))
        self._gyr = np.zeros((0, 3))
        self._steps = np.zeros(0)
        self._units_checked = False
        self._pending_s = 0.0
        self._last_end_s = None
        self._biases = RestBiases()
        self._trimmed = False
        self._gap_last = None
        self._after_gap = None

    def push(self, t_s: Iterable[float], acc_mps2: np.ndarray, gyr_rps: np.ndarray) -> list[Stride]:
        """Add samples (times in s, specific force in m/s², angular rate in rad/s); return the strides completed.

        Arrays other than (n, 3) are refused at once; timestamps that cannot be seconds once 16 steps are in, and
        samples in g or deg/s when the first window of 2 s or more is analysed, before any stride is emitted (by name, as
        :class:`~soleware.gait.recording.RecordingError`)."""
        self._start()
        t = np.atleast_1d(np.asarray(t_s, dtype=float))
        if len(t) == 0:
            return []
        acc, gyr = _rows(acc_mps2, "acc_mps2"), _rows(gyr_rps, "gyr_rps")
        if not (len(acc) == len(gyr) == len(t)):
            raise ValueError("t_s, acc_mps2 and gyr_rps must hold the same number of samples")
        good = usable_samples(t, acc, gyr)
        if good is not None:  # a read failure: a missing sample, as a dropped packet's are
            self.missing_samples_ += int(np.count_nonzero(~good))
            t, acc, gyr = t[good], acc[good], gyr[good]
            if len(t) == 0:
                return []
        joined = np.concatenate((self._t[-1:], t))
        back = np.flatnonzero(np.diff(joined) <= 0)
        if len(back):
            i = int(back[0])
            raise ValueError(f"time went backwards or repeated: {joined[i + 1]} s after {joined[i]} s")
        # timestamps that cannot be seconds, judged on the recent steps' median (a dropped packet's is one step)
        self._steps = np.r_[self._steps, np.diff(joined)][-_STEPS_KEPT:]
        if len(self._steps) >= _STEPS_JUDGED:
            check_time_unit("stream", float(median(self._steps)))
        # A gap too long to fill ends a segment, as the offline analysis splits a recording there: what came
        # before it is analysed as finished, and the samples after it start afresh (the rests' biases kept).
        cuts = np.flatnonzero(np.diff(joined) > MAX_INTERPOLATED_GAP_S) + 1 - (len(joined) - len(t))
        out: list[Stride] = []
        for j, (a, b) in enumerate(zip([0, *cuts.tolist()], [*cuts.tolist(), len(t)], strict=True)):
            if j:
                out += self._end_segment()
            out += self._extend(t[a:b], acc[a:b], gyr[a:b])
        self.buffered_samples_ = len(self._t)
        return out

    def _extend(self, t: np.ndarray, acc: np.ndarray, gyr: np.ndarray) -> list[Stride]:
        """Buffer continuous samples; analyse once ``step_s`` of new data has arrived."""
        if len(t) == 0:
            return []
        self._t = np.concatenate((self._t, t))
        self._acc = np.vstack((self._acc, acc))
        self._gyr = np.vstack((self._gyr, gyr))
        self._pending_s += float(t[-1] - t[0]) + 1.0 / self.sample_rate_hz
        if self._pending_s >= self.step_s and self._t[-1] - self._t[0] >= min(self.window_s, 4.0):
            self._pending_s = 0.0
            return self._analyse(final=False)
        return []

    def _end_segment(self) -> list[Stride]:
        """The strides left in the buffer, analysed as finished; then an empty buffer for the next segment. The
        last of them is held until the strides after the gap say whether it is bridged over
        (:func:`~soleware.gait.pipeline.across_gap`), as the offline analysis joins its segments."""
        out = self._analyse(final=True) if len(self._t) else []
        if self._after_gap is not None:
            out += self._join()
        if out:
            self._gap_last = self.strides_.pop()
            out = out[:-1]
        self._after_gap = []
        self._t, self._acc, self._gyr = np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3))
        self._pending_s, self._last_end_s, self._trimmed = 0.0, None, False
        return out

    def finish(self) -> list[Stride]:
        """Flush: analyse what is buffered and return the remaining strides."""
        self._start()
        out = self._analyse(final=True) if len(self._t) else []
        if self._after_gap is not None:
            out += self._join()
        self.buffered_samples_ = len(self._t)
        return out

    def _emit(self, fresh: list[Stride]) -> list[Stride]:
        """Strides found, given out; after a gap, held until those that set the bridge's pace are in (the first
        may be bridged over, the next ``BRIDGE_CONTEXT`` give the pace out of the gap)."""
        if self._after_gap is None:
            self.strides_ += fresh
            return fresh
        self._after_gap += fresh
        return self._join() if len(self._after_gap) > BRIDGE_CONTEXT else []

    def _join(self) -> list[Stride]:
        """The strides held on either side of a gap, joined by those it hid, given out."""
        assert self._after_gap is not None
        held = [] if self._gap_last is None else [self._gap_last]
        drop, joined = across_gap(
            self.strides_[-BRIDGE_CONTEXT:] + held,
            self._after_gap,
            max_s=(self.analysis or GaitAnalysis()).bridge_max_s,
            last_settled=not held,
        )
        out = held[: len(held) - drop] + joined
        self._gap_last, self._after_gap = None, None
        self.strides_ += out
        return out

    def summary(self, duration_s: float | None = None) -> RunSummary:
        """Totals of the strides emitted so far."""
        self._start()
        if duration_s is None:
            duration_s = (self.strides_[-1].t_end_s - self.strides_[0].t_start_s) if self.strides_ else 0.0
        return summarize(self.strides_, duration_s)

    def _analyse(self, *, final: bool) -> list[Stride]:
        if not self._units_checked:  # once per stream: its first window of UNIT_CHECK_MIN_S or more
            check_units(self._t, self._acc, self._gyr, name="stream")
            self._units_checked = self._t[-1] - self._t[0] >= UNIT_CHECK_MIN_S
        ga = self.analysis or GaitAnalysis()
        t0 = float(self._t[0])
        strides, traj = ga._segment(
            self._t,
            self._acc,
            self._gyr,
            timestamps_rate_hz(self._t, self.sample_rate_hz),
            rest_bias=self._biases.at(t0),
            open_start=self._trimmed,
            open_end=not final,
        )
        self._biases.update(t0, ga.rest_biases_)
        self.last_swing_s_ = max(self.last_swing_s_, ga.last_swing_s_)
        newest = self._t[-1]
        fresh: list[Stride] = []
        # A stop longer than the window: the stride into it is emitted as it stands before its start is forgotten.
        forced = self._last_end_s is not None and newest - self.window_s > self._last_end_s - self.context_s
        full = newest - self._t[0] >= self.window_s - 2.0 * self.step_s  # its start is forgotten next
        if (
            not (final or forced or full or self._trimmed)
            and ga.start_anchors_
            and len(strides) < _START_STANCES
        ):
            # data that began on the move: its first stance's 'up' is drawn from the stances after it, as the
            # whole recording finds them (each judged against its neighbours)
            strides = []
        if not (final or forced):
            strides = strides[:-1]  # its end stance is the window's last: nothing after it confirms it yet
            # A stance that barely passed as one is judged against the stances after it too: wait for them.
            doubtful = (ga.stance_doubt_[1 : len(strides) + 1] > self.doubt_wait) & (
                np.arange(len(strides), 0, -1) < NEIGHBOURS
            )
            if doubtful.any():
                strides = strides[: int(np.argmax(doubtful))]
            durations = np.array([s.duration_s for s in strides])
            before = [
                np.median(durations[max(0, i - NEIGHBOURS) : i]) if i else np.inf for i in range(len(strides))
            ]
            waits = [
                s.duration_s > self.long_stride * b
                and not (s.rest_at_start_s or s.rest_at_end_s)
                and s.t_end_s > newest - self.period_wait_s
                for s, b in zip(strides, before, strict=True)
            ]
            if any(waits):
                strides = strides[: waits.index(True)]
        for s in strides:
            if self._last_end_s is not None and s.t_start_s < self._last_end_s - 0.05:
                if s.t_end_s < self._last_end_s + 0.05:
                    continue
                # This window saw no stance where an earlier one ended a stride: emit the rest of the stride.
                s = _remainder(s, self._last_end_s, traj)
            if not final and s.t_end_s > newest - self.guard_s:
                break
            if not (final or forced) and s.t_end_s >= ga.final_until_s_:
                break
            if ga.is_gait(s):
                fresh.append(s)
            self._last_end_s = s.t_end_s
        fresh = self._emit(fresh)
        # Forget what no later window needs: all before the last stride's end stance (less some context), and
        # in any case all but the last window_s.
        keep_from = newest - self.window_s
        if self._last_end_s is not None:
            keep_from = max(keep_from, self._last_end_s - self.context_s)
        i = int(np.searchsorted(self._t, keep_from))
        self._trimmed = self._trimmed or i > 0
        self._t, self._acc, self._gyr = self._t[i:], self._acc[i:], self._gyr[i:]
        return fresh

    def forget_gyro_bias(self) -> None:
        """Drop the gyroscope biases measured so far: the next rest measures it again (sensor calibration)."""
        self._start()
        self._biases = RestBiases()

    def held_bytes(self) -> int:
        """Memory of the samples held for the next analysis (0 before the first push)."""
        self._start()
        return self._t.nbytes + self._acc.nbytes + self._gyr.nbytes

    def feed(self, t_s: np.ndarray, acc_mps2: np.ndarray, gyr_rps: np.ndarray, *, chunk: int = 1) -> Self:
        """Push a whole recording in chunks of ``chunk`` samples, then finish (for tests and benchmarks)."""
        for a in range(0, len(t_s), chunk):
            self.push(t_s[a : a + chunk], acc_mps2[a : a + chunk], gyr_rps[a : a + chunk])
        self.finish()
        return self


def _rows(x: np.ndarray, field: str) -> np.ndarray:
    """Samples pushed as (n, 3) rows of x, y, z, or one sample as its three values; any other shape (axes
    transposed, one missing) is refused rather than read in the wrong order."""
    x = np.asarray(x, dtype=float)
    if x.shape == (3,):
        return x[None, :]
    if x.ndim != 2 or x.shape[1] != 3:
        raise ValueError(f"{field} has shape {x.shape}, expected (n, 3): one row of x, y, z per sample")
    return x


def _remainder(stride: Stride, t_from_s: float, traj: np.ndarray) -> Stride:
    """The part of ``stride`` after ``t_from_s``: its horizontal distance along the window's trajectory."""
    here = [np.interp([t_from_s, stride.t_end_s], traj[:, 0], traj[:, i]) for i in (1, 2)]
    length = float(np.hypot(here[0][1] - here[0][0], here[1][1] - here[1][0]))
    part = stride.starting_at(t_from_s)
    duration = part.t_moving_end_s - part.t_moving_start_s
    return dataclasses.replace(part, length_m=length, speed_mps=length / duration if duration > 0 else 0.0)
