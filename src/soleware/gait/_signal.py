"""Small signal helpers shared by the gait algorithms (pure functions, SI units)."""

from __future__ import annotations

import numpy as np

__all__ = ["window_mean", "moving_average", "repair_saturation", "runs_of_true", "samples"]


def samples(duration_s: float, sample_rate_hz: float, *, minimum: int = 1) -> int:
    """A duration in seconds as a whole number of samples (the one place this conversion happens)."""
    return max(minimum, int(round(duration_s * sample_rate_hz)))


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
    x: np.ndarray, *, rel_level: float = 0.995, min_run: int = 2, context: int = 3
) -> np.ndarray:
    """Reconstruct the tops of clipped peaks, per column, where a sensor saturated.

    A run of at least ``min_run`` samples within ``rel_level`` of the column's extreme value is taken as clipped
    only if it is flat (a plateau). The run is replaced by a parabola fitted to ``context`` unclipped samples on
    each side, never below the clipped value: the true peak was at least that high.
    """
    x = np.array(x, dtype=float, copy=True)
    if x.ndim == 1:
        x = x[:, None]
        squeeze = True
    else:
        squeeze = False
    n = len(x)
    for col in range(x.shape[1]):
        v = x[:, col]
        for sign in (1.0, -1.0):
            peak = np.max(sign * v)
            if peak <= 0:
                continue
            near = sign * v >= rel_level * peak
            for a, b in runs_of_true(near):
                if b - a < min_run or a < context or b + context > n:
                    continue
                seg = sign * v[a:b]
                if np.ptp(seg) > 1e-3 * peak:
                    continue
                idx = np.r_[a - context : a, b : b + context]
                coef = np.polyfit(idx - a, sign * v[idx], 2)
                if coef[0] >= 0:
                    continue
                fit = np.polyval(coef, np.arange(a, b) - a)
                v[a:b] = sign * np.maximum(fit, seg)
        x[:, col] = v
    return x[:, 0] if squeeze else x


def window_mean(x: np.ndarray, index: np.ndarray, half: int) -> np.ndarray:
    """Mean of the rows of ``x`` within ``half`` samples of each index (clipped at the ends)."""
    csum = np.vstack((np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)))
    lo = np.clip(index - half, 0, len(x) - 1)
    hi = np.clip(index + half + 1, 1, len(x))
    return (csum[hi] - csum[lo]) / (hi - lo)[:, None]
