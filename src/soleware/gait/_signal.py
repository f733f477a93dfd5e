"""Small signal helpers shared by the gait algorithms (pure functions, SI units)."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import numpy as np

__all__ = [
    "SoftClip",
    "find_peaks",
    "first_crossing",
    "median",
    "moving_average",
    "near_tops",
    "percentile",
    "range_argmax",
    "range_argmin",
    "range_first_above",
    "range_last_above",
    "range_max",
    "rebuilt_top",
    "repair_saturation",
    "repair_soft_clips",
    "runs_of_true",
    "samples",
    "soft_clipped_runs",
    "spatial_median",
    "window_mean",
]


def samples(duration_s: float, sample_rate_hz: float, *, minimum: int = 1) -> int:
    """A duration in seconds as a whole number of samples (the one place this conversion happens)."""
    return max(minimum, int(round(duration_s * sample_rate_hz)))


def median(x: np.ndarray, axis: int | None = None) -> Any:
    """``np.median(x, axis=axis)``, the same values, without the masked-array check whose first call imports
    ``numpy.ma`` (a fiftieth of a second of every command that analyses a recording)."""
    x = np.asarray(x, dtype=float)
    if axis is None:
        x, axis = x.ravel(), 0
    n = x.shape[axis]
    if n == 0:
        return np.median(x, axis=axis)
    kth = [n // 2 - 1, n // 2] if n % 2 == 0 else [n // 2]
    part = np.partition(x, [*kth, n - 1], axis=axis)  # the largest last: a NaN sorts there
    out = np.mean(np.take(part, kth, axis=axis), axis=axis)
    return np.where(np.isnan(np.take(part, n - 1, axis=axis)), np.nan, out)[()]


def spatial_median(x: np.ndarray, *, iterations: int = 50, tol: float = 1e-10) -> np.ndarray:
    """The point of least summed distance to the rows of ``x`` (n, k): a median of vectors that turns with them.

    The median of each column depends on the axes the vectors are written in: a chip mounted at another angle
    would find another gyroscope bias in the same rest. This one does not (Weiszfeld's iterations from the mean;
    a row that coincides with the estimate is stepped past by a tiny floor on its distance).
    """
    x = np.asarray(x, dtype=float)
    m = x.mean(axis=0)
    for _ in range(iterations):
        d = np.linalg.norm(x - m, axis=1)
        w = 1.0 / np.maximum(d, 1e-12)
        nxt = (w @ x) / w.sum()
        if np.linalg.norm(nxt - m) <= tol:
            return nxt
        m = nxt
    return m


def percentile(x: np.ndarray, q: float) -> float:
    """``np.percentile(x, q)`` of all of ``x`` (its default linear interpolation, the same value), without the
    masked-array check that imports ``numpy.ma``; NaN where ``x`` has one."""
    x = np.asarray(x, dtype=float).ravel()
    if len(x) == 0:
        return float(np.percentile(x, q))
    at = (len(x) - 1) * np.true_divide(q, 100)
    below = int(np.floor(at))
    above = min(below + 1, len(x) - 1)
    part = np.partition(x, sorted({0, below, above, len(x) - 1}))
    if np.isnan(part[-1]):
        return float("nan")
    a, b, gamma = part[below], part[above], at - below
    # numpy's _lerp: from the nearer end, so the value is exact at either
    return float(b - (b - a) * (1 - gamma) if gamma >= 0.5 else a + (b - a) * gamma)


def moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average along axis 0 with edge padding; ``width`` in samples (odd or even)."""
    if width <= 1:
        return np.asarray(x, dtype=float)
    x = np.asarray(x, dtype=float)
    left = width // 2
    right = width - 1 - left
    pad = [(left, right)] + [(0, 0)] * (x.ndim - 1)
    xp = np.pad(x, pad, mode="edge")
    c = np.cumsum(xp, axis=0)
    c = np.concatenate([np.zeros((1,) + x.shape[1:]), c], axis=0)
    return (c[width:] - c[:-width]) / width


def runs_of_true(mask: np.ndarray) -> np.ndarray:
    """Half-open ``[start, stop)`` index pairs of the runs of True in a boolean array, shape (n, 2)."""
    m = np.concatenate(([False], np.asarray(mask, dtype=bool), [False]))
    d = np.diff(m.astype(np.int8))
    return np.column_stack((np.flatnonzero(d == 1), np.flatnonzero(d == -1)))


def repair_saturation(
    x: np.ndarray,
    *,
    rel_level: float = 0.995,
    min_run: int = 2,
    context: int = 3,
    capped_by_sides: bool = False,
) -> np.ndarray:
    """Reconstruct the tops of clipped peaks, per column, where a sensor saturated.

    A run of at least ``min_run`` samples within ``rel_level`` of the column's extreme value is taken as clipped
    only if it is flat (a plateau). The run is replaced by a parabola fitted to ``context`` unclipped samples on
    each side, never below the clipped value: the true peak was at least that high. With ``capped_by_sides``
    the parabola is also held under each side's own quadratic trend (through its ``context`` samples, carried
    across the run): where one side bends away from the peak sooner than the other, the top was flatter than a
    parabola through both, and the symmetric fit would overshoot it (real gyroscope peaks in a fast swing are
    often flat-topped; a plateau of 70 ms got 260 °/s too much and cost 3.7 % of the distance).
    """
    x = np.array(x, dtype=float, copy=True)
    if x.ndim == 1:
        x = x[:, None]
        squeeze = True
    else:
        squeeze = False
    n = len(x)
    for col in range(x.shape[1]):
        v = np.ascontiguousarray(x[:, col])  # the passes over a column run several times faster contiguous
        repaired = False
        for sign in (1.0, -1.0):
            # the top of sign * v and the samples near it, found on v itself (the negative side after the
            # positive one's repair)
            peak = v.max() if sign > 0 else -v.min()
            if peak <= 0:
                continue
            level = rel_level * peak
            near = np.flatnonzero(v >= level if sign > 0 else v <= -level)
            breaks = np.flatnonzero(np.diff(near) > 1)
            runs = zip(
                near[np.r_[0, breaks + 1]].tolist(),
                (near[np.r_[breaks, len(near) - 1]] + 1).tolist(),
                strict=True,
            )
            for a, b in runs:
                if b - a < min_run or a < context or b + context > n:
                    continue
                seg = sign * v[a:b]
                if np.ptp(seg) > 1e-3 * peak:
                    continue
                top = rebuilt_top(
                    sign * v[a - context : a], seg, sign * v[b : b + context], capped_by_sides=capped_by_sides
                )
                if top is not None:
                    v[a:b] = sign * top
                    repaired = True
        if repaired:
            x[:, col] = v
    return x[:, 0] if squeeze else x


def clipped_run_losses(
    t_s: np.ndarray,
    raw: np.ndarray,
    repaired: np.ndarray,
    signs: np.ndarray,
    *,
    slope_window_s: float = 0.010,
) -> tuple[np.ndarray, np.ndarray]:
    """The clipped runs of ``raw`` (n, k) marked in ``signs`` (+1 / -1 per sample and column, as
    :func:`~soleware.gait.navigation.clip_signs` gives) as rows of start, stop (samples), column and sign, and what
    each lost beyond its rebuilt top (``repaired``), as its sides predict (the signal's unit times s).

    A peak heading over the clip level at the slope its side had over the last ``slope_window_s`` (at least two
    samples; a line fitted through them) and leaving it at the slope of the other side spans the triangle under
    those two lines over the run's duration; what the rebuilt top gave already is taken off. Real gyroscope
    peaks clipped at 250-450 °/s lost a median 0.7 times that triangle (the middle 80 % 0.3-1.5 times),
    simulated ones 0.8 times (0.6-1.3), where slopes from one sample a side scattered 2.8 times as much. The
    triangle is the scale of what a run may have lost, not the loss. A run at either end of the data is left
    out; one whose sides do not bend into a peak is predicted to have lost 2 % of its level times its duration.
    """
    n = len(raw)
    found = []
    for col in range(raw.shape[1]):
        for sign in (1, -1):
            r = runs_of_true(signs[:, col] == sign)
            r = r[(r[:, 0] > 0) & (r[:, 1] < n)]
            found.append(np.column_stack((r, np.full(len(r), col), np.full(len(r), sign))))
    runs = np.concatenate(found).astype(int)
    a, b, col, sign = runs.T
    period = (t_s[b] - t_s[a - 1]) / (b - a + 1)
    width = (b - a) * period
    m = np.maximum(2, np.round(slope_window_s / period)).astype(int)
    # the run's excess over what was recorded, from cumulative sums: one pass per column, not one per run
    excess = np.vstack((np.zeros((1, raw.shape[1])), np.cumsum(repaired - raw, axis=0)))
    given = sign * (excess[b, col] - excess[a, col]) * period
    triangle = np.zeros(len(runs))
    for mm in np.unique(m).tolist():
        k = np.flatnonzero((m == mm) & (a >= mm) & (b + mm <= n))
        rise = _line_slopes(t_s, raw, col[k], a[k, None] + np.arange(-mm, 0)) * sign[k]
        fall = -_line_slopes(t_s, raw, col[k], b[k, None] + np.arange(mm)) * sign[k]
        ok = (rise > 0) & (fall > 0)
        w, r, f = width[k[ok]], rise[ok], fall[ok]
        triangle[k[ok]] = 0.5 * w * w * r * f / (r + f)
    return runs, np.maximum(triangle - given, 0.02 * np.abs(raw[a, col]) * width)


def _line_slopes(t_s: np.ndarray, x: np.ndarray, col: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Slope of the least-squares line through the samples ``at`` (one row of indices each) of column ``col``."""
    tt = t_s[at] - t_s[at].mean(axis=1, keepdims=True)
    y = x[at, col[:, None]]
    return np.sum(tt * (y - y.mean(axis=1, keepdims=True)), axis=1) / np.sum(tt * tt, axis=1)


def rebuilt_top(
    before: np.ndarray, seg: np.ndarray, after: np.ndarray, *, capped_by_sides: bool = False
) -> np.ndarray | None:
    """The top of one clipped (positive) run ``seg`` rebuilt from the samples just ``before`` and ``after`` it (see
    :func:`repair_saturation`); None where they do not bend into a peak."""
    m, k = len(before), np.arange(len(seg))
    coef = np.polyfit(np.r_[np.arange(-m, 0), np.arange(len(after)) + len(seg)], np.r_[before, after], 2)
    if coef[0] >= 0:
        return None
    fit = np.polyval(coef, k)
    if capped_by_sides:
        lead = np.polyfit(np.arange(-m, 0), before, 2)
        trail = np.polyfit(np.arange(len(after)) + len(seg), after, 2)
        fit = np.minimum(fit, np.minimum(np.polyval(lead, k), np.polyval(trail, k)))
    return np.maximum(fit, seg)


@dataclasses.dataclass(frozen=True)
class SoftClip:
    """One soft-clipped run of an axis (:func:`soft_clipped_runs`): ``start:stop`` its plateau, ``sign`` +1 / -1
    for a positive / negative top, and ``wide_start:wide_stop`` the plateau with the samples next to it that are
    within the band of its top (a module's output filter spreads the clip into them)."""

    start: int
    stop: int
    sign: int
    wide_start: int
    wide_stop: int


def near_tops(x: np.ndarray, *, min_level: float, band: float) -> list[tuple[int, float, np.ndarray]]:
    """Per sign of one axis ``x`` whose largest value ``top`` is at least ``min_level``: (sign, top, the indices
    of the samples within ``band`` (fraction) of top), the one pass over the axis the clip tests look at."""
    out = []
    for sign, top in ((1, float(x.max())), (-1, -float(x.min()))):
        if top >= min_level:
            out.append(
                (sign, top, np.flatnonzero(x >= (1.0 - band) * top if sign > 0 else x <= -(1.0 - band) * top))
            )
    return out


def soft_clipped_runs(
    x: np.ndarray,
    *,
    min_level: float,
    band: float = 0.05,
    flat: float = 0.015,
    overshoot: float = 0.05,
    min_run: int = 3,
    side: int = 2,
    near: list[tuple[int, float, np.ndarray]] | None = None,
) -> list[SoftClip]:
    """Runs of one axis ``x`` held at its extreme with a wobble: soft clipping.

    A module that calibrates its output (a MicroStrain 3DM-GX5, an Xsens) clips the raw reading of each axis at its
    range and then mixes the axes by its calibration: the clipped plateau moves with the other axes and never
    repeats one value (the VICON recordings' MicroStrain holds 517-528 °/s for up to 170 ms). Per sign of the
    axis, against its largest value ``top`` (at least ``min_level``): a run of at least ``min_run`` samples within
    ``flat`` (fraction of top) of its own highest, within ``band`` of top, where a parabola through the ``side``
    samples before and the ``side`` after it says the signal was heading at least ``overshoot`` above the plateau.
    A smooth peak is itself close to a parabola and predicts its own top, so it is not taken. ``near`` is
    :func:`near_tops` of ``x`` where the caller has it.
    """
    x = np.ascontiguousarray(x)  # a column of the samples: its passes run several times faster
    n = len(x)
    out = []
    for sign, top, inside in near_tops(x, min_level=min_level, band=band) if near is None else near:
        first = np.concatenate(([0], np.flatnonzero(np.diff(inside) > 1) + 1))
        ends = np.concatenate((first[1:], [len(inside)]))
        # a run needs min_run samples within ``flat`` of its highest: most of a swing's smooth peaks go here at once
        y_in = sign * x[inside]
        run_top = np.maximum.reduceat(y_in, first)
        enough = np.add.reduceat(y_in >= np.repeat(run_top, ends - first) - flat * top, first) >= min_run
        plateaus = []
        for s, e in zip(inside[first[enough]].tolist(), (inside[ends[enough] - 1] + 1).tolist(), strict=True):
            y = sign * x[s:e]
            k = int(np.argmax(y))
            level = y[k] - flat * top
            p, q = k, k + 1
            while p > 0 and y[p - 1] >= level:
                p -= 1
            while q < e - s and y[q] >= level:
                q += 1
            if q - p >= min_run and p + s >= side and q + s + side <= n:
                plateaus.append((p + s, q + s, float(y[k])))
        if not plateaus:
            continue
        # the parabola through the samples on either side of every plateau at once: least squares on positions
        # relative to the plateau's start, its largest value over the plateau against the plateau's own top
        p_at, q_at, y_top = (np.array(c) for c in zip(*plateaus, strict=True))
        offset = np.arange(-side, side)
        pos = np.where(offset < 0, offset, (q_at - p_at)[:, None] + offset).astype(float)
        y_side = sign * x[np.where(offset < 0, p_at[:, None] + offset, q_at[:, None] + offset)]
        design = np.stack((pos**2, pos, np.ones_like(pos)), axis=-1)
        gram = np.einsum("rki,rkj->rij", design, design)
        a2, a1, a0 = np.linalg.solve(gram, np.einsum("rki,rk->ri", design, y_side)[..., None])[..., 0].T
        last = (q_at - p_at - 1).astype(float)
        vertex = np.clip(-a1 / np.where(a2 < 0, 2 * a2, -1.0), 0.0, last)  # of a concave one; else an end
        # the largest over the plateau's samples: at the one or two nearest the vertex, or at an end
        at = (np.floor(vertex), np.ceil(vertex), np.zeros_like(last), last)
        peak = np.max([a2 * k**2 + a1 * k + a0 for k in at], axis=0)
        for (p, q, y_k), taken in zip(plateaus, peak - y_top >= overshoot * top, strict=True):
            if not taken:
                continue
            low = (1.0 - band) * y_k
            a, b = p, q
            while a > 0 and sign * x[a - 1] >= low:
                a -= 1
            while b < n and sign * x[b] >= low:
                b += 1
            out.append(SoftClip(p, q, sign, a, b))
    return out


def repair_soft_clips(
    x: np.ndarray,
    *,
    min_level: float,
    context: int = 3,
    min_run: int = 3,
    side: int = 2,
    band: float = 0.05,
    full_scale: float | None = None,
    found_on: np.ndarray | None = None,
    skip: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (n, k) with each soft-clipped run (:func:`soft_clipped_runs`, its plateau and the edges within the
    band of its top) rebuilt from the ``context`` samples on either side as :func:`repair_saturation` rebuilds a
    flat top (``capped_by_sides``), and those runs' signs per sample and column (+1 / -1, 0 elsewhere). ``x``
    itself comes back where no column has such a run.

    Where the chip's range is known (``full_scale``), only plateaus within the band of it are clips. The runs are
    found on ``found_on`` where given (the samples as recorded, when ``x`` had other repairs that moved an axis's
    top); one whose plateau is at least half nonzero in ``skip`` (the same shape: samples found clipped
    otherwise) and was rebuilt there already (``x`` differs from ``found_on`` on it) is left as it is. A few
    samples of a plateau taken for a flat top's (its quantised top value met three times in a window of a stream)
    do not make it one, nor a plateau over a range stated a little under it that the flat-top repair left alone.
    """
    x = np.asarray(x, dtype=float)
    src = x if found_on is None else np.asarray(found_on, dtype=float)
    out = x  # copied once a column has a run to rebuild
    signs = np.zeros(x.shape, dtype=np.int8)
    n = len(x)
    for col in range(x.shape[1]):
        clips = soft_clipped_runs(src[:, col], min_level=min_level, band=band, min_run=min_run, side=side)
        if not clips:
            continue
        v = np.array(x[:, col])
        for clip in clips:
            a, b, sign = clip.wide_start, clip.wide_stop, clip.sign
            plateau = slice(clip.start, clip.stop)
            rebuilt_already = (
                skip is not None
                and np.count_nonzero(skip[plateau, col]) >= 0.5 * (clip.stop - clip.start)
                and (found_on is None or np.any(v[plateau] != src[plateau, col]))
            )
            if rebuilt_already or a < context or b + context > n:
                continue
            if full_scale is not None and np.abs(src[plateau, col]).max() < (1.0 - band) * full_scale:
                continue
            top = rebuilt_top(
                sign * v[a - context : a], sign * v[a:b], sign * v[b : b + context], capped_by_sides=True
            )
            if top is not None:
                v[a:b] = sign * top
            signs[a:b, col] = sign
        if out is x:
            out = x.copy()
        out[:, col] = v
    return out, signs


def window_mean(x: np.ndarray, index: np.ndarray, half: int) -> np.ndarray:
    """Mean of the rows of ``x`` within ``half`` samples of each index (clipped at the ends)."""
    csum = np.vstack((np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)))
    lo = np.clip(index - half, 0, len(x) - 1)
    hi = np.clip(index + half + 1, 1, len(x))
    return (csum[hi] - csum[lo]) / (hi - lo)[:, None]


def find_peaks(x: np.ndarray, *, distance: float | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Local maxima of a 1-D signal, as ``scipy.signal.find_peaks(x, distance=...)`` finds them.

    Hand-written so the gait engine does not import ``scipy.signal`` (most of a command's start-up time); the
    same peaks in the same order for every input, ties and plateaus included (the tests compare with scipy). A
    plateau's peak is its middle sample (rounded down); a plateau at either end is no peak. With ``distance``
    (samples, at least 1), peaks closer than that to a higher one are dropped, the highest first. The second
    element is an empty properties dict, for scipy's call shape.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 1:
        raise ValueError(f"`x` must be a 1-D array, not {x.ndim}-D")
    if distance is not None and distance < 1:
        raise ValueError("`distance` must be greater or equal to 1")
    peaks = _local_maxima(x)
    if distance is not None and len(peaks) > 1:
        peaks = peaks[_keep_by_distance(peaks, x[peaks], math.ceil(distance))]
    return peaks, {}


def _local_maxima(x: np.ndarray) -> np.ndarray:
    if len(x) < 3:
        return np.zeros(0, dtype=np.intp)
    if not np.any(x[1:] == x[:-1]):
        return np.flatnonzero((x[1:-1] > x[:-2]) & (x[1:-1] > x[2:])) + 1
    # runs of equal values: a run higher than both neighbouring runs is a peak (a plateau), at its middle
    start = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    end = np.r_[start[1:], len(x)] - 1
    v = x[start]
    peak = np.r_[False, v[:-1] < v[1:]] & np.r_[v[1:] < v[:-1], False]
    return (start[peak] + end[peak]) // 2


def _keep_by_distance(peaks: np.ndarray, height: np.ndarray, distance: int) -> np.ndarray:
    """Which peaks survive, visiting them from the highest down (ties in ``np.argsort``'s order, as scipy)."""
    pos = peaks.tolist()
    n = len(pos)
    keep = [True] * n
    for j in np.argsort(height)[::-1].tolist():
        if not keep[j]:
            continue
        p = pos[j]
        k = j - 1
        while k >= 0 and p - pos[k] < distance:
            keep[k] = False
            k -= 1
        k = j + 1
        while k < n and pos[k] - p < distance:
            keep[k] = False
            k += 1
    return np.array(keep, dtype=bool)


def _ranges(lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The samples of the ranges ``[lo, hi)`` one after another: their indices, each range's first position in
    them, and each range's length (every range must be non-empty)."""
    lens = np.asarray(hi, dtype=np.intp) - lo
    if np.any(lens <= 0):
        raise ValueError("every range [lo, hi) must hold at least one sample")
    starts = np.zeros(len(lens), dtype=np.intp)
    np.cumsum(lens[:-1], out=starts[1:])
    return np.arange(int(lens.sum())) - np.repeat(starts - lo, lens), starts, lens


def range_max(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``x[lo[i]:hi[i]].max()`` for every (non-empty) range at once."""
    if len(lo) == 0:
        return np.zeros(0, dtype=x.dtype)
    idx, starts, _ = _ranges(lo, hi)
    return np.maximum.reduceat(x[idx], starts)


def _range_arg(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
    if len(lo) == 0:
        return np.zeros(0, dtype=np.intp)
    idx, starts, lens = _ranges(lo, hi)
    v = x[idx]
    best = ufunc.reduceat(v, starts)
    pos = np.where(v == np.repeat(best, lens), np.arange(len(v)), len(v))
    return np.minimum.reduceat(pos, starts) - starts


def range_argmax(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``np.argmax(x[lo[i]:hi[i]])`` (the first maximum, relative to ``lo``) for every non-empty range of a
    signal without NaN."""
    return _range_arg(x, lo, hi, np.maximum)


def range_argmin(x: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``np.argmin(x[lo[i]:hi[i]])`` (the first minimum, relative to ``lo``) for every non-empty range of a
    signal without NaN."""
    return _range_arg(x, lo, hi, np.minimum)


def first_crossing(y: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per range ``[lo, hi)``, the fractional sample where ``y`` first reaches ``level`` (NaN where it does not).

    Linear interpolation between the sample before and the first at or above the level; the range's first
    sample itself when it is already there.
    """
    if len(lo) == 0:
        return np.zeros(0)
    idx, starts, lens = _ranges(lo, hi)
    d = y[idx] - np.repeat(level, lens)
    first = np.minimum.reduceat(np.where(d >= 0, np.arange(len(d)), len(d)), starts)
    found = first < np.r_[starts[1:], len(d)]
    m = np.where(found, first - starts + lo, lo)
    before = np.maximum(m - 1, 0)
    y0, y1 = y[before] - level, y[m] - level
    same = y0 == y1
    frac = np.where(same, 1.0, y0 / np.where(same, 1.0, y0 - y1))
    out = np.where(m == lo, m.astype(float), (m - 1) + frac)
    out[~found] = np.nan
    return out


def range_first_above(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per range ``[lo, hi)`` (may be empty), the first index where ``x > level``, else ``hi``."""
    out = np.array(hi, dtype=np.intp, copy=True)
    some = np.flatnonzero(np.asarray(hi) > lo)
    if len(some):
        idx, starts, _ = _ranges(lo[some], hi[some])
        above = x[idx] > np.repeat(level[some], hi[some] - lo[some])
        first = np.minimum.reduceat(np.where(above, np.arange(len(idx)), len(idx)), starts)
        found = first < np.r_[starts[1:], len(idx)]
        out[some[found]] = idx[first[found]]
    return out


def range_last_above(x: np.ndarray, lo: np.ndarray, hi: np.ndarray, level: np.ndarray) -> np.ndarray:
    """Per range ``[lo, hi)`` (may be empty), the last index where ``x > level``, else ``lo - 1``."""
    out = np.asarray(lo, dtype=np.intp) - 1
    some = np.flatnonzero(np.asarray(hi) > lo)
    if len(some):
        idx, starts, _ = _ranges(lo[some], hi[some])
        above = x[idx] > np.repeat(level[some], hi[some] - lo[some])
        last = np.maximum.reduceat(np.where(above, np.arange(len(idx)), -1), starts)
        found = last >= starts
        out[some[found]] = idx[last[found]]
    return out
