"""Stance (zero-velocity) detection that adapts to the gait, from slow walking to sprinting.

A fixed angular-rate threshold that finds the foot-flat of a walk misses most running stances, where the foot
is on the ground for 0.2 s and never fully still. This detector instead finds, between consecutive swings, the
quietest instant of the foot (the stance), then grows a still interval around it whose threshold is set by that
stride's own signal: its quietest level and its swing peak.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from soleware.gait import _quat as quat
from soleware.gait._signal import (
    find_peaks,
    moving_average,
    range_first_above,
    range_last_above,
    range_max,
    samples,
)
from soleware.gait.vocabulary import GRAVITY_MPS2

__all__ = ["AdaptiveStanceDetector", "local_stride_period_s", "stillness"]


def stillness(acc_mps2: np.ndarray, gyr_rps: np.ndarray, *, acc_weight_rad_per_m: float) -> np.ndarray:
    """Per-sample motion energy in rad/s: angular-rate magnitude plus the weighted specific-force deviation."""
    acc_dev = np.abs(quat.norm(acc_mps2) - GRAVITY_MPS2)
    return quat.norm(gyr_rps) + acc_weight_rad_per_m * acc_dev


class AdaptiveStanceDetector:
    """Find each stance of one foot and the samples of it that may be taken as (nearly) still.

    Parameters
    ----------
    smoothing_s
        Width of the moving average applied to the motion energy.
    min_stride_s
        Shortest possible stride of one foot (a sprint at 240 steps/min has 0.5 s).
    swing_min_rps
        A swing must turn the foot at least this fast (slow walking reaches ~3 rad/s).
    still_fraction
        A stance's still interval holds the samples whose energy lies within this fraction of the way from the
        stance's quietest level to the following swing's peak.
    still_max_rps
        Ceiling of the still threshold, so a hard stride never counts fast motion as still.
    stance_max_ratio
        A stance's quietest level must stay below this fraction of the neighbouring swing peaks (this rejects
        the dip between the two angular-rate peaks of a walking swing).
    dip_factor, dip_margin_rps
        A stance may be at most ``dip_factor`` times, or ``dip_margin_rps`` above, the quiet level of the stances
        around it (their lower quartile); louder candidates are dips within a swing.
    sure_ratio
        ... unless its quiet level is under this fraction of the neighbouring swing peaks: then it is a stance
        whatever the stances around it. A sprint's foot is still for a sample or two, which a 50 Hz chip catches
        at one stance and misses at the next (0.04 and 0.7 rad/s, between swings of 40 rad/s): a third of its
        strides were lost as dips. A walking swing's dip stays above a third of its peaks; the dips of the
        simulator's sprints, above a tenth.
    half_stride_fraction
        A candidate closer than this fraction of the local stride period to both its neighbours, and half as loud
        again as either, splits a stride in two and is dropped (at a walk-to-run change the period estimate
        lags, and a running stance merely louder than its neighbours must stay). The other way round: where
        two stances kept are two or more local periods apart (within the rest of this fraction of a whole
        number) and candidates dropped as too loud against the stances around them tile the stretch, one near
        each multiple of its period, those are stances missed, if each is under twice ``sure_ratio`` of its
        swings. A sprint's foot at 50 Hz is caught in a quiet sample at most stances, the quartile of their
        levels is tiny, and a stance caught a sample off (5-9 % of its swings of 30 rad/s) was dropped as a dip:
        up to 11 of a 30 s sprint's 52 strides were lost. A walking swing's dip (a third of its swings) lies inside
        one period; a VICON walk's last, hesitant step into a stand (16 %) tiles its stride with the stand.
    acc_weight_rad_per_m
        Weight of the specific-force deviation from gravity in the motion energy (rad/s per m/s²).
    lone_still_ratio
        Where ``smoothing_s`` spans two samples or fewer (under 83 Hz), a sample this much quieter than both its
        neighbours keeps its own energy: a sprint's foot-flat at 50 Hz may be one still sample between two
        impacts, and the two-sample mean with one of them (4.6 rad/s in the simulator's heel sprint at 8 m/s)
        lost to a mid-swing dip (3.7 rad/s): a third of the strides were anchored in the air (-13.6 %). The stances
        around are judged against the quiet levels of the means, so one such sample does not make its neighbours
        look loud. A sample merely quieter than the mean with a loud neighbour (the first after a landing's impact
        at 50 Hz, whose next is as quiet) is no lone one: taken as the stance there, the VN-200's courses at 50 Hz
        came out shorter (median 1.57 → 1.65 %, worst 3.26 → 5.44 %).

    Attributes
    ----------
    energy_rps_
        Smoothed motion energy per sample.
    stance_index_
        Sample of each stance's quietest instant, increasing.
    still_intervals_
        ``(n_stance, 2)`` half-open ``[start, stop)`` still interval of each stance.
    swing_peak_rps_
        Peak energy of the swing that follows each stance (the last one: the preceding swing).
    stance_doubt_
        Per stance, its quiet level as a fraction of the loudest a stance may be (1: it barely passed as one).
    per_sample_still_
        Boolean mask of the still samples.
    """

    energy_rps_: np.ndarray
    stance_index_: np.ndarray
    still_intervals_: np.ndarray
    swing_peak_rps_: np.ndarray
    stance_doubt_: np.ndarray
    per_sample_still_: np.ndarray

    def __init__(
        self,
        *,
        smoothing_s: float = 0.03,
        min_stride_s: float = 0.5,
        swing_min_rps: float = 2.0,
        still_fraction: float = 0.08,
        still_max_rps: float = 1.0,
        stance_max_ratio: float = 0.35,
        dip_factor: float = 4.0,
        dip_margin_rps: float = 0.5,
        sure_ratio: float = 0.05,
        half_stride_fraction: float = 0.75,
        acc_weight_rad_per_m: float = 0.1,
        lone_still_ratio: float = 0.1,
    ) -> None:
        self.smoothing_s = smoothing_s
        self.min_stride_s = min_stride_s
        self.swing_min_rps = swing_min_rps
        self.still_fraction = still_fraction
        self.still_max_rps = still_max_rps
        self.stance_max_ratio = stance_max_ratio
        self.dip_factor = dip_factor
        self.dip_margin_rps = dip_margin_rps
        self.sure_ratio = sure_ratio
        self.half_stride_fraction = half_stride_fraction
        self.acc_weight_rad_per_m = acc_weight_rad_per_m
        self.lone_still_ratio = lone_still_ratio

    def detect(
        self,
        acc_mps2: np.ndarray,
        gyr_rps: np.ndarray,
        *,
        sample_rate_hz: float,
        open_start: bool = False,
        open_end: bool = False,
    ) -> Self:
        """Detect stances in (n, 3) specific force (m/s²) and angular rate (rad/s) sampled at ``sample_rate_hz``.

        Where the data really begins or ends, a quiet stretch between the edge and the nearest swing is a stance
        even without a local minimum of its own (see :func:`_edge_stances`); ``open_start``/``open_end`` say
        that more data lies before/after (a window of a stream), so an edge is no stance of its own.
        """
        if self.still_fraction <= 0 or self.still_fraction >= 1:
            raise ValueError("`still_fraction` must be between 0 and 1")
        n = len(acc_mps2)
        raw = stillness(acc_mps2, gyr_rps, acc_weight_rad_per_m=self.acc_weight_rad_per_m)
        width = samples(self.smoothing_s, sample_rate_hz)
        smoothed = moving_average(raw, width)
        e = smoothed
        if width <= 2 and len(raw) > 2:  # a two-sample mean takes in a loud neighbour whole
            louder = np.minimum(np.r_[np.inf, raw[:-1]], np.r_[raw[1:], np.inf])
            e = np.where(raw < self.lone_still_ratio * louder, raw, smoothed)
        self.energy_rps_ = e
        # Candidate stances: local minima of the energy at least a stride apart.
        cand, _ = find_peaks(-e, distance=samples(self.min_stride_s * 0.8, sample_rate_hz))
        cand = _edge_stances(e, cand, self.swing_min_rps, first=not open_start, last=not open_end)
        if len(cand) == 0:
            cand = np.array([int(np.argmin(e))])
        # Keep one stance per swing: merge candidates with no swing between them into the quietest one.
        keep: list[int] = []
        peaks: list[float] = []
        level_at = e[cand].tolist()
        gap_max = range_max(e, cand[:-1], cand[1:]).tolist()  # e[current:nxt] is a run of these gaps
        current, between = 0, -np.inf
        for nxt in range(1, len(cand)):
            between = max(between, gap_max[nxt - 1])
            if between >= self.swing_min_rps:
                keep.append(int(cand[current]))
                peaks.append(between)
                current, between = nxt, -np.inf
            elif level_at[nxt] < level_at[current]:
                current, between = nxt, -np.inf
        keep.append(int(cand[current]))
        peaks.append(peaks[-1] if peaks else float(e.max()))
        stance = np.array(keep, dtype=int)
        swing = np.array(peaks)
        # A mid-swing dip between two angular-rate peaks of a walking swing can look like a stance; a stance is
        # quiet both against its swings and against the quietest stances nearby.
        prev = np.r_[swing[:1], swing[:-1]]
        level = e[stance]
        local = _neighbourhood_quartile(smoothed[stance], NEIGHBOURS)
        around = np.minimum(prev, swing)
        deep = (level <= self.stance_max_ratio * around) & (
            (level <= np.maximum(self.dip_factor * local, local + self.dip_margin_rps))
            | (level <= self.sure_ratio * around)
        )
        period: np.ndarray | None = None
        loud = ~deep & (level <= 2.0 * self.sure_ratio * around)
        if loud.any():
            period = local_stride_period_s(e, sample_rate_hz, min_stride_s=self.min_stride_s)
            deep = self._keep_missed_strides(stance, deep, loud, period, sample_rate_hz)
        if not deep.all():
            merged: list[int] = []
            merged_peaks: list[float] = []
            for k, pk, ok in zip(stance, swing, deep, strict=True):
                if ok or not merged:
                    merged.append(int(k))
                    merged_peaks.append(float(pk))
                else:
                    merged_peaks[-1] = max(merged_peaks[-1], float(pk))
            stance = np.array(merged, dtype=int)
            swing = np.array(merged_peaks)
        n_deep = len(stance)
        stance, swing = self._drop_half_stride_dips(e, stance, swing, sample_rate_hz, period)
        if not deep.all() or len(stance) < n_deep:
            level = e[stance]
            local = _neighbourhood_quartile(smoothed[stance], NEIGHBOURS)
        around = np.minimum(np.r_[swing[:1], swing[:-1]], swing)
        self.stance_doubt_ = np.maximum(
            np.minimum(
                level / np.maximum(self.dip_factor * local, local + self.dip_margin_rps),
                level / np.maximum(self.sure_ratio * around, 1e-12),
            ),
            level / (self.stance_max_ratio * around),
        )
        # Still interval around each stance's quietest instant.
        quiet = e[stance]
        span = np.minimum(swing, np.r_[swing[:1], swing[:-1]]) - quiet
        thr = np.minimum(
            quiet + self.still_fraction * np.maximum(span, 0.0), np.maximum(self.still_max_rps, quiet)
        )
        lo = 1 + range_last_above(e, np.r_[0, stance[:-1]], stance, thr)
        hi = range_first_above(e, stance + 1, np.r_[stance[1:], n], thr)
        intervals = np.column_stack((lo, hi)).astype(int)
        edges = np.bincount(lo, minlength=n + 1) - np.bincount(hi, minlength=n + 1)
        mask = np.cumsum(edges[:n]) > 0
        self.stance_index_ = stance
        self.still_intervals_ = intervals
        self.swing_peak_rps_ = swing
        self.per_sample_still_ = mask
        return self

    def _keep_missed_strides(
        self, stance: np.ndarray, deep: np.ndarray, loud: np.ndarray, period_s: np.ndarray, fs: float
    ) -> np.ndarray:
        """``deep`` with the ``loud`` candidates (quiet against their swings, too loud against the stances around
        them) kept that tile a stretch between two stances kept, two or more local periods long, one near each
        multiple of its period (see ``half_stride_fraction``)."""
        keep = deep.copy()
        at = stance / fs
        slack = 1.0 - self.half_stride_fraction
        kept = np.flatnonzero(deep)
        # only the stretches between kept stances that hold a loud candidate
        after = np.searchsorted(kept, np.flatnonzero(loud))
        after = np.unique(after[(after > 0) & (after < len(kept))])
        for p, q in zip(kept[after - 1].tolist(), kept[after].tolist(), strict=True):
            inner = p + 1 + np.flatnonzero(loud[p + 1 : q])
            periods = (at[q] - at[p]) / float(period_s[(stance[p] + stance[q]) // 2])
            k = round(periods)
            if k < 2 or abs(periods - k) > slack:
                continue
            stride = (at[q] - at[p]) / k
            target = at[p] + stride * np.arange(1, k)
            pick = inner[np.argmin(np.abs(at[inner][None, :] - target[:, None]), axis=1)]
            if len(set(pick.tolist())) == k - 1 and np.all(np.abs(at[pick] - target) <= slack * stride):
                keep[pick] = True
        return keep

    def _drop_half_stride_dips(
        self,
        e: np.ndarray,
        stance: np.ndarray,
        swing: np.ndarray,
        fs: float,
        period: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Remove candidates that split one stride into two halves shorter than the local stride period allows
        (``period``: :func:`local_stride_period_s` of ``e`` where the caller has it)."""
        if len(stance) < 3:
            return stance, swing
        keep = np.ones(len(stance), dtype=bool)
        peaks = swing.tolist()
        at, level = stance.tolist(), e[stance].tolist()
        limit: list[float] = []  # the stride period is estimated once a candidate is loud enough to need it
        for i in range(1, len(stance) - 1):
            p = i - 1
            while p > 0 and not keep[p]:
                p -= 1
            if level[i] <= 1.5 * max(level[p], level[i + 1]):
                continue
            if not limit:
                if period is None:
                    period = local_stride_period_s(e, fs, min_stride_s=self.min_stride_s)
                limit = (self.half_stride_fraction * period[stance]).tolist()
            if (at[i] - at[p]) / fs < limit[i] and (at[i + 1] - at[i]) / fs < limit[i]:
                keep[i] = False
                peaks[p] = max(peaks[p], peaks[i])
        return stance[keep], np.array(peaks)[keep]


def _edge_stances(
    e: np.ndarray, cand: np.ndarray, swing_min: float, *, first: bool, last: bool
) -> np.ndarray:
    """``cand`` with a candidate in the quiet stretch between the first (last) swing and the data's start (end),
    where that stretch has none: a foot at rest to the last sample whose readings hold still (a quantised chip,
    its noise below one step) has a flat energy there, and no local minimum. The candidate is the middle of the
    stretch's quietest run. Where the quietest sample is the data's first (last) and does not repeat, the energy
    is still falling at the edge: the foot lifts off after the first sample or lands at the last, and no
    footfall lies inside the data."""
    swinging = np.flatnonzero(e >= swing_min)
    if not len(swinging):
        return cand
    out = cand
    if first and swinging[0] > 0 and not (len(cand) and cand[0] < swinging[0]):
        k = _quietest(e, 0, int(swinging[0]))
        if k > 0:
            out = np.r_[k, out]
    if last and swinging[-1] < len(e) - 1 and not (len(cand) and cand[-1] > swinging[-1]):
        k = _quietest(e, int(swinging[-1]) + 1, len(e))
        if k < len(e) - 1:
            out = np.r_[out, k]
    return out.astype(int)


def _quietest(e: np.ndarray, lo: int, hi: int) -> int:
    """Index of the least ``e[lo:hi]``: the middle (rounded down) of its first run where it repeats."""
    seg = e[lo:hi]
    at = int(np.argmin(seg))
    other = np.flatnonzero(seg[at:] != seg[at])
    end = at + (int(other[0]) if len(other) else len(seg) - at) - 1
    return lo + (at + end) // 2


#: stances on each side whose quiet levels judge a candidate (a window of a stream has them all only later)
NEIGHBOURS = 5


def _neighbourhood_quartile(x: np.ndarray, k: int) -> np.ndarray:
    """Per element, the 25th percentile of ``x[i - k : i + k + 1]`` (clipped at the ends), as ``np.percentile``
    computes it (linear interpolation), for all windows at once."""
    n = len(x)
    if n == 0:
        return np.zeros(0)
    idx = np.arange(n)[:, None] + np.arange(-k, k + 1)
    valid = (idx >= 0) & (idx < n)
    w = np.where(valid, x[np.clip(idx, 0, n - 1)], np.inf)
    w.sort(axis=1)
    m = valid.sum(axis=1)
    h = 0.25 * (m - 1)
    lo = np.floor(h).astype(int)
    rows = np.arange(n)
    return w[rows, lo] + (h - lo) * (w[rows, np.minimum(lo + 1, m - 1)] - w[rows, lo])


def local_stride_period_s(
    energy: np.ndarray, sample_rate_hz: float, *, min_stride_s: float, window_s: float = 10.0
) -> np.ndarray:
    """Per sample, the stride period (s) of the motion energy's strongest periodicity in a window around it.

    The autocorrelation peak between ``min_stride_s`` and 2.5 s is taken; a one-foot signal repeats every
    stride, and the stride (not the half stride between its two swing peaks) is its fundamental.
    """
    n = len(energy)
    win = samples(window_s, sample_rate_hz)
    lo_lag = samples(min_stride_s, sample_rate_hz)
    hi_lag = samples(2.5, sample_rate_hz)
    centers = np.arange(win // 2, max(n - win // 2, win // 2 + 1), max(1, win // 2))
    periods = []
    for c in centers:
        seg = energy[max(0, c - win // 2) : c + win // 2]
        seg = seg - seg.mean()
        if len(seg) <= hi_lag:
            periods.append(np.nan)
            continue
        f = np.fft.rfft(seg, 2 * len(seg))
        ac = np.fft.irfft(f * np.conj(f))[: len(seg)]
        if ac[0] <= 0:
            periods.append(np.nan)
            continue
        lag = lo_lag + int(np.argmax(ac[lo_lag:hi_lag]))
        periods.append(lag / sample_rate_hz)
    per = np.array(periods, dtype=float)
    if np.all(np.isnan(per)):
        return np.full(n, np.inf)
    good = ~np.isnan(per)
    return np.interp(np.arange(n), centers[good], per[good])
