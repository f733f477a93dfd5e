"""Zero-velocity-aided inertial navigation of the foot, stride by stride.

Frames
------
- sensor frame: the device's own axes, whatever the mounting.
- navigation frame: z up (against gravity), x and y horizontal; heading starts where the first stride starts.

Each stride is integrated from one stance anchor to the next. Attitude comes from the angular rate (one
vectorised quaternion scan for the whole recording); tilt is re-anchored at every stance to an 'up' that blends
the accelerometer's with the one the gyroscope carries from the stance before (:func:`blended_up`), and the tilt
mismatch at the stride's end is corrected where the foot comes to rest, or, as far as a clipped gyroscope lost
that turn, where it clipped. Velocity is integrated from the stance velocity at the start and corrected linearly
so that it meets the stance velocity at the end (what a clipped impact lost is given back where it was lost);
position is its integral.
"""

from __future__ import annotations

import itertools
from typing import Self

import numpy as np

from soleware.gait import _quat as quat
from soleware.gait._signal import median, runs_of_true, window_mean
from soleware.gait.vocabulary import ACC_RANGE_MPS2, FULL_SCALE_TOL, GRAVITY_MPS2

__all__ = [
    "StrideIntegration",
    "add_clipped_turns",
    "anchor_tilt_mismatch_rad",
    "attitude_scan",
    "blended_up",
    "carried_tilt_mismatch_rad",
    "clip_signs",
    "clipped_turn_sizes_rad",
    "stride_of_runs",
    "tilt_agrees_near",
    "tilt_quaternion",
    "yaw_of",
]

_Z = np.array([0.0, 0.0, 1.0])


def tilt_quaternion(up_sensor: np.ndarray) -> np.ndarray:
    """Smallest rotation taking the sensor-frame 'up' direction(s) onto the navigation z axis."""
    u = up_sensor / quat.norm(up_sensor, keepdims=True)
    q = np.stack((u[..., 1], -u[..., 0], np.zeros_like(u[..., 0]), 1.0 + u[..., 2]), axis=-1)
    bad = q[..., 3] < 1e-9  # upside down: any horizontal axis will do
    q[bad] = (1.0, 0.0, 0.0, 0.0)
    return quat.normalize(q)


def yaw_of(q: np.ndarray) -> np.ndarray:
    """Heading angle (rad) of attitude quaternions, split as q = yaw about z ⊗ smallest tilt."""
    up_s = quat.rotate(quat.conjugate(q), np.broadcast_to(_Z, q.shape[:-1] + (3,)))
    rz = quat.multiply(q, quat.conjugate(tilt_quaternion(up_s)))
    return 2.0 * np.arctan2(rz[..., 2], rz[..., 3])


def attitude_scan(t_s: np.ndarray, gyr_rps: np.ndarray) -> np.ndarray:
    """Attitude of every sample relative to the first, from the angular rate: one vectorised quaternion scan.

    Each increment turns by the mean rate over its interval; the relative attitude between any two samples is
    ``conjugate(scan[i]) ⊗ scan[j]``.
    """
    dt = np.diff(t_s, prepend=t_s[0])
    mid = np.vstack((gyr_rps[:1], 0.5 * (gyr_rps[1:] + gyr_rps[:-1])))
    return quat.cumulative_product(quat.from_rotvec(mid * dt[:, None]))


def blended_up(
    scan: np.ndarray, anchors: np.ndarray, up_sensor: np.ndarray, *, weight: float | np.ndarray
) -> np.ndarray:
    """Each anchor's 'up' (sensor frame) as ``weight`` times the accelerometer's own (``up_sensor``) plus
    ``1 - weight`` times the blended 'up' of the anchor before, carried there by the gyroscope (``scan`` from
    :func:`attitude_scan`); the first anchor keeps its own.

    That is a mean of every earlier anchor's measured 'up', each carried to this one, weighted down by
    ``1 - weight`` per stride: the accelerometer's error at a stance (a running foot is never still, not even at
    its quietest instant) and the gyroscope's over a stride are both averaged. ``weight`` is one for all anchors
    or one per anchor (how far each measurement is trusted). Each row keeps ``up_sensor``'s length; ``weight`` 1
    returns ``up_sensor``. A row without a direction (zero or not finite) is returned as it is and leaves the
    mean as it was, so it spoils no other anchor.
    """
    weights = np.broadcast_to(np.asarray(weight, dtype=float), (len(anchors),))
    if not np.all((weights > 0.0) & (weights <= 1.0)):
        raise ValueError("`weight` must be in (0, 1]")
    if np.all(weights == 1.0) or len(anchors) < 2:
        return up_sensor
    length = np.linalg.norm(up_sensor, axis=1, keepdims=True)
    has_dir = np.isfinite(length[:, 0]) & (length[:, 0] > 0)
    q = scan[anchors]
    unit = np.divide(up_sensor, length, out=np.zeros_like(up_sensor), where=has_dir[:, None])
    mine = quat.rotate(q, unit).tolist()  # in the frame of the scan's first sample
    mean: list[list[float]] = []
    for (x, y, z), ok, w in zip(mine, has_dir.tolist(), weights.tolist(), strict=True):
        if not mean:
            mean.append([x, y, z] if ok else [0.0, 0.0, 0.0])
            continue
        px, py, pz = mean[-1]
        if not ok:
            mean.append([px, py, pz])
        elif px == py == pz == 0.0:
            mean.append([x, y, z])
        else:
            keep = 1.0 - w
            mean.append([keep * px + w * x, keep * py + w * y, keep * pz + w * z])
    out = quat.rotate(quat.conjugate(q), np.array(mean))
    norm = np.linalg.norm(out, axis=1, keepdims=True)
    blended = np.divide(out * length, norm, out=np.zeros_like(out), where=has_dir[:, None] & (norm > 0))
    return np.where(has_dir[:, None], blended, up_sensor)


def anchor_tilt_mismatch_rad(scan: np.ndarray, anchors: np.ndarray, up_sensor: np.ndarray) -> np.ndarray:
    """Per stride between consecutive anchors, the angle (rad) between the 'up' measured at its end anchor and
    the 'up' of its start anchor carried there by the gyroscope (``scan`` from :func:`attitude_scan`)."""
    return carried_tilt_mismatch_rad(scan, anchors[:-1], up_sensor[:-1], anchors[1:], up_sensor[1:])


def carried_tilt_mismatch_rad(
    scan: np.ndarray, src: np.ndarray, up_src: np.ndarray, dst: np.ndarray, up_dst: np.ndarray
) -> np.ndarray:
    """The angle (rad) between the 'up' ``up_dst`` measured at samples ``dst`` and the 'up' ``up_src`` of samples
    ``src`` carried there by the gyroscope (``scan`` from :func:`attitude_scan`), pair by pair (broadcasting)."""
    rel = quat.multiply(quat.conjugate(scan[src]), scan[dst])
    u_src = up_src / np.linalg.norm(up_src, axis=-1, keepdims=True)
    u_dst = up_dst / np.linalg.norm(up_dst, axis=-1, keepdims=True)
    carried = quat.rotate(quat.conjugate(rel), u_src)
    return np.arccos(np.clip(np.sum(carried * u_dst, axis=-1), -1.0, 1.0))


def tilt_agrees_near(
    scan: np.ndarray,
    f: np.ndarray,
    anchors: np.ndarray,
    up_sensor: np.ndarray,
    which: np.ndarray,
    *,
    half: int,
    max_rad: float,
) -> np.ndarray:
    """Per anchor ``anchors[which]`` (neither the first nor the last), whether at some sample within ``half`` of
    it the specific force ``f`` (sensor frame) points within ``max_rad`` of the 'up' of a neighbouring anchor
    carried there by the gyroscope (``scan`` from :func:`attitude_scan`).

    The second look at an anchor whose own 'up' disagrees with both neighbours. A running foot's force turns
    through its stance, and what the gyroscope carries over may be a little off (a turn lost to clipping): at
    100 Hz a held-out run's quietest instant read 36-38° off both neighbours, the samples 10-20 ms before it
    22-26°; a simulated sprint's still samples 35-44°, samples within 20 ms of them 21-32°. A foot hanging in
    the air (before a stop, at the first step off a standstill) is 45-160° off and agrees at none.
    """
    at = np.clip(anchors[which][:, None] + np.arange(-half, half + 1), 0, len(f) - 1)
    near = np.zeros(at.shape, dtype=bool)
    for nb in (which - 1, which + 1):
        near |= (
            carried_tilt_mismatch_rad(scan, anchors[nb][:, None], up_sensor[nb][:, None], at, f[at])
            <= max_rad
        )
    return np.any(near, axis=1)


def clip_signs(
    x: np.ndarray, *, min_level: float, full_scale: float | None = None, tol: float = 1e-6
) -> np.ndarray:
    """Per sample and axis, +1 / -1 where ``x`` (n, 3) sits at its chip's positive / negative range, else 0.

    With ``full_scale`` known, every sample within ``tol`` (fraction) of it is clipped. Otherwise an axis whose
    extreme (at least ``min_level``) is held flat -- within ``tol`` of it in two runs of at least two samples, or
    one of three, or three times in all -- is taken as clipped there: a noisy peak does not repeat its top value,
    a clipped one does. A clipped impact may last one sample; those count too once the axis is known to clip.
    """
    x = np.asarray(x, dtype=float)
    out = np.zeros(x.shape, dtype=np.int8)
    if not len(x):
        return out
    for col in range(x.shape[1]):
        v = np.ascontiguousarray(x[:, col])
        for sign, top in ((1, float(v.max())), (-1, -float(v.min()))):
            if full_scale is None and top < min_level:
                continue
            level = (1.0 - tol) * top if full_scale is None else (1.0 - max(tol, FULL_SCALE_TOL)) * full_scale
            if top < level:  # nothing reaches the range: no pass over the samples
                continue
            near = v >= level if sign > 0 else v <= -level
            if full_scale is None:
                runs = np.diff(runs_of_true(near), axis=1).ravel()
                if not (np.sum(runs >= 2) >= 2 or np.any(runs >= 3) or np.sum(near) >= 3):
                    continue
            out[near, col] = sign
    return out


def _bounded_lsq(a: np.ndarray, b: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """Least squares ``a x ≈ b`` with ``0 ≤ x ≤ ub`` (bounded-variable least squares, Stark & Parker's active set;
    ``a`` has a handful of columns): a column leaves its bound where the gradient pulls it inside, the free ones
    are solved for and stepped back to the first bound they would cross."""
    n = a.shape[1]
    ub = np.maximum(np.asarray(ub, dtype=float), 0.0)
    x = np.zeros(n)
    at = np.full(n, -1)  # -1 at zero, +1 at its bound, 0 free
    tol = 1e-12 * max(1.0, float(np.abs(a).max(initial=0.0)) * float(np.abs(b).max(initial=0.0)))
    for _ in range(4 * n + 4):
        g = a.T @ (b - a @ x)
        pulls = ((at == -1) & (g > tol) & (ub > 0)) | ((at == 1) & (g < -tol))
        if not pulls.any():
            break
        at[int(np.argmax(np.where(pulls, np.abs(g), -np.inf)))] = 0
        for _ in range(n + 1):
            free = at == 0
            if not free.any():
                break
            fixed = np.where(at == 1, ub, 0.0)
            z = fixed.copy()
            z[free] = np.linalg.lstsq(a[:, free], b - a[:, ~free] @ fixed[~free], rcond=None)[0]
            inside = (z >= 0) & (z <= ub)
            if inside[free].all():
                x = z
                break
            # from x towards z, as far as the first free column's bound
            step = np.ones(n)
            low, high = free & (z < 0), free & (z > ub)
            step[low] = x[low] / (x[low] - z[low])
            step[high] = (ub[high] - x[high]) / (z[high] - x[high])
            alpha = float(np.clip(step.min(), 0.0, 1.0))
            x = np.where(free, x + alpha * (z - x), fixed)
            at[free & (x <= 0)] = -1
            at[free & (x >= ub)] = 1
            x = np.clip(x, 0.0, ub)
    return np.clip(x, 0.0, ub)


def _yaw_quaternion(yaw: np.ndarray) -> np.ndarray:
    z = np.zeros_like(yaw)
    return np.stack((z, z, np.sin(yaw / 2), np.cos(yaw / 2)), axis=-1)


def _segment_cumsum(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Cumulative sum along axis 0 restarting at each index in ``starts`` (first element of each segment)."""
    c = np.cumsum(x, axis=0)
    offset = np.zeros((len(starts),) + x.shape[1:])
    offset[1:] = c[starts[1:] - 1]
    return c - np.repeat(offset, np.diff(starts, append=len(x)), axis=0)


def _spread(weight: np.ndarray, first: np.ndarray, last: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Per stride, the running share (0 at the start anchor, 1 at the end) of a non-negative weight."""
    w = weight.copy()
    w[first] = 0.0
    cum = _segment_cumsum(w, first)
    total = np.repeat(cum[last], last - first + 1)
    ok = total > 1e-12
    return np.where(ok, cum / np.where(ok, total, 1.0), fallback)


def _landing_step(
    moving_dt: np.ndarray, first: np.ndarray, sid: np.ndarray, *, max_moving_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Per stride, 0 up to its last moving sample and 1 from there on (where the foot has come to rest), and per
    point whether its stride has such a step.

    ``moving_dt`` is each integrated point's moving time (s, 0 where still). A stride without a moving sample,
    or moving for longer than ``max_moving_s`` in all, has none.
    """
    pos = np.arange(len(moving_dt))
    is_moving = moving_dt > 0
    is_moving[first] = False
    last_moving = np.maximum.reduceat(np.where(is_moving, pos, -1), first)
    moved_s = np.add.reduceat(moving_dt, first)
    use = ((last_moving >= 0) & (moved_s <= max_moving_s))[sid]
    return (pos > last_moving[sid]).astype(float), use


def _clip_bound(y: np.ndarray) -> np.ndarray | float:
    """Most a clipped run ``y`` (after :func:`~soleware.gait._signal.repair_saturation`) may still have lost at
    its peak: as much again as the repair added, or, where the repair could not shape it (a run of one sample,
    no bend into it), the clip level itself (a peak of twice the range)."""
    added = float(np.ptp(y))
    return added if added > 1e-9 else abs(float(y[0]))


#: the spread (rad) of a stride's tilt mismatch that is not the gyroscope's: the accelerometer's 'up' at a running
#: stance is off (the foot still accelerates at its quietest instant); without clipping, the mismatches of the
#: running trials in ../shared/datasets reach 19° (99 % under 10.5°). A clipped run takes on the mismatch as far
#: as its bound is large against this: a barely clipped peak next to nothing, a sprint's clipped swing most of it.
_ANCHOR_TILT_SD_RAD = 0.3


def _clipped_runs(
    cs: np.ndarray, first: np.ndarray, sid: np.ndarray
) -> dict[int, list[tuple[int, int, int, int]]]:
    """Per stride, its runs of clipped samples in ``cs`` ((N, 3) clip signs of the integrated points; a run ends
    where its stride does) as ``(start, stop, axis, sign)``, in order of their start."""
    is_first = np.zeros(len(cs), dtype=bool)
    is_first[first] = True
    runs: list[tuple[int, int, int, int]] = []
    for ax in range(3):
        c = cs[:, ax]
        new = (c != 0) & (np.r_[True, c[1:] != c[:-1]] | is_first)
        end = (c != 0) & (np.r_[c[1:] != c[:-1], True] | np.r_[is_first[1:], True])
        runs += [
            (int(a), int(b) + 1, ax, int(c[a]))
            for a, b in zip(np.flatnonzero(new), np.flatnonzero(end), strict=True)
        ]
    runs.sort(key=lambda r: r[0])
    by_stride: dict[int, list[tuple[int, int, int, int]]] = {}
    for r in runs:
        by_stride.setdefault(int(sid[r[0]]), []).append(r)
    return by_stride


def _turn_lost(
    gcs: np.ndarray,
    lost_rad: np.ndarray,
    q: np.ndarray,
    first: np.ndarray,
    sid: np.ndarray,
    err_nav: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a clipped gyroscope lost turn, the share of each stride's tilt mismatch ``err_nav`` it explains.

    Per clipped run (``gcs``: clip signs of the integrated points; ``lost_rad``: the most each run's samples may
    still have lost, rad, summed over the run), a turn about the clipped axis (its horizontal part, in the
    navigation frame at the run's middle) of non-negative size up to that bound: the sizes that best close the
    mismatch while small against their bounds (a turn as large as its bound weighs as much as a mismatch of
    ``_ANCHOR_TILT_SD_RAD`` left). Returns the per-point correction (rotation vector, nav frame) built up over
    each run's samples, per stride the mismatch left (corrected as usual), and per stride the turn given back
    (rad)."""
    rotvec = np.zeros((len(gcs), 3))
    left = err_nav.copy()
    given = np.zeros(len(err_nav))
    eye = np.eye(3)
    for k, rs in _clipped_runs(gcs, first, sid).items():
        axes = np.array([sign * quat.rotate(q[(a + b - 1) // 2], eye[ax]) for a, b, ax, sign in rs])
        axes[:, 2] = 0.0
        bound = np.array([abs(float(lost_rad[a:b, ax].sum())) for a, b, ax, _ in rs])
        prior = np.diag(_ANCHOR_TILT_SD_RAD / np.maximum(bound, 1e-9))
        size = _bounded_lsq(
            np.vstack((axes[:, :2].T, prior)), np.r_[err_nav[k, :2], np.zeros(len(rs))], bound
        )
        for (a, b, _, _), turn in zip(rs, size[:, None] * axes, strict=True):
            rotvec[a:b] += np.linspace(1.0 / (b - a), 1.0, b - a)[:, None] * turn
            rotvec[b : first[k + 1] if k + 1 < len(first) else len(gcs)] += turn
        left[k] -= size @ axes
        given[k] = float(np.linalg.norm(size @ axes))
    return rotvec, left, given


#: the error (rad) of a stance's measured 'up' a hard-clipped gyroscope's lost turn is weighed against: 5.7°, over
#: the 3.5° a side that the unclipped running trials' tilt mismatches mean (99 % under 10.5°); of 0.1-0.3 rad, the
#: best both for real recordings clipped at 300-400 °/s and for the simulator's clipping chips
CLIPPED_TURN_UP_SD_RAD = 0.1
#: the most a hard-clipped run is taken to have lost, against what its sides predict (90 % of the real peaks lost
#: under 1.5 times, of the simulated ones under 1.3 times)
CLIPPED_TURN_MAX_RATIO = 4.0


def stride_of_runs(runs: np.ndarray, anchors: np.ndarray) -> np.ndarray:
    """The stride (between consecutive ``anchors``) each run (rows of start and stop sample, ...) lies in, by its
    middle sample; -1 for a run outside every stride."""
    stride = np.searchsorted(anchors, (runs[:, 0] + runs[:, 1] - 1) // 2, side="right") - 1
    return np.where(stride < len(anchors) - 1, stride, -1)


def clipped_turn_sizes_rad(
    scan: np.ndarray,
    runs: np.ndarray,
    predicted_rad: np.ndarray,
    anchors: np.ndarray,
    up_sensor: np.ndarray,
    *,
    up_sd_rad: float = CLIPPED_TURN_UP_SD_RAD,
    max_ratio: float = CLIPPED_TURN_MAX_RATIO,
) -> np.ndarray:
    """Per hard-clipped gyroscope run, the turn (rad, at least 0) it lost beyond its rebuilt top, as its stride's
    next stance shows it.

    ``runs`` (m, 4) holds each run's start and stop sample, axis and sign; ``predicted_rad`` what its sides say
    it lost (:func:`~soleware.gait._signal.clipped_run_losses`). Per stride between consecutive
    ``anchors``, the 'up' measured at its end (``up_sensor``) against its start's carried there by ``scan``
    (:func:`attitude_scan`) is a turn about horizontal axes; each run inside the stride turns about its axis as
    seen at its middle. The sizes are the least squares of that mismatch (weighed by ``up_sd_rad``) and of each
    size against its prediction as its scale (a turn as large as predicted costs as much as a mismatch of
    ``up_sd_rad``), between 0 and ``max_ratio`` times the prediction. The mismatch closes only as far as the
    clipped runs can turn about the axes it needs: a stride with a positive and a negative run on one axis shows
    their difference, which is split by the predictions. A run outside every stride gets 0.
    """
    sizes = np.zeros(len(runs))
    if not len(runs) or len(anchors) < 2:
        return sizes
    mid = (runs[:, 0] + runs[:, 1] - 1) // 2
    stride = stride_of_runs(runs, anchors)
    inside = stride >= 0
    start_q = quat.multiply(tilt_quaternion(up_sensor[:-1]), quat.conjugate(scan[anchors[:-1]]))
    err = quat.to_rotvec(
        tilt_quaternion(quat.rotate(quat.multiply(start_q, scan[anchors[1:]]), up_sensor[1:]))
    )
    unit = np.eye(3)[runs[:, 2]] * runs[:, 3:4]
    axes = np.zeros((len(runs), 3))
    axes[inside] = quat.rotate(quat.multiply(start_q[stride[inside]], scan[mid[inside]]), unit[inside])
    scale = np.maximum(np.asarray(predicted_rad, dtype=float), 1e-9)
    by_stride = np.argsort(stride, kind="stable")
    groups = [
        js for js in np.split(by_stride, np.flatnonzero(np.diff(stride[by_stride])) + 1) if inside[js[0]]
    ]
    for count in sorted({len(js) for js in groups}):
        runs_of = np.array([js for js in groups if len(js) == count])  # (strides, count)
        u, e = axes[runs_of, :2] / up_sd_rad, err[stride[runs_of[:, 0]], :2] / up_sd_rad
        if count <= _SMALL_QP:
            sizes[runs_of] = _small_box_qp(u, e, scale[runs_of], max_ratio * scale[runs_of])
            continue
        for js, uj, ej in zip(runs_of, u, e, strict=True):
            a = np.vstack((uj.T, np.diag(1.0 / scale[js])))
            sizes[js] = _bounded_lsq(a, np.r_[ej, np.zeros(count)], max_ratio * scale[js])
    return sizes


#: problems of at most this many runs are solved by trying every active set at once (3 ** count of them)
_SMALL_QP = 3


def _small_box_qp(u: np.ndarray, e: np.ndarray, scale: np.ndarray, ub: np.ndarray) -> np.ndarray:
    """Per problem (row), the ``x`` (k) in ``[0, ub]`` that is the least squares of ``Σ x_j u_j ≈ e`` (``u``
    (g, k, 2): its k columns, ``e`` (g, 2)) and of ``x / scale ≈ 0``: what :func:`_bounded_lsq` gives, for many
    small problems at once. Strictly convex, so the optimum is the cheapest of the candidates that hold each
    variable at 0, at its bound or free and keep the free ones within their bounds."""
    g, k = scale.shape
    hess = np.einsum("gki,gli->gkl", u, u) + np.eye(k) / scale[:, :, None] ** 2
    grad = np.einsum("gki,gi->gk", u, e)
    best, out = np.full(g, np.inf), np.zeros((g, k))
    for pattern in itertools.product((0, 1, 2), repeat=k):  # at 0, free, at the bound
        free = np.array(pattern) == 1
        x = np.where(np.array(pattern) == 2, ub, 0.0)
        if free.any():
            rhs = grad[:, free] - np.einsum("gkl,gl->gk", hess[:, free][:, :, ~free], x[:, ~free])
            x[:, free] = np.linalg.solve(hess[:, free][:, :, free], rhs[..., None])[..., 0]
        ok = np.all((x >= 0.0) & (x <= ub), axis=1)
        cost = np.einsum("gk,gkl,gl->g", x, hess, x) - 2.0 * np.einsum("gk,gk->g", grad, x)
        take = ok & (cost < best)
        best[take], out[take] = cost[take], x[take]
    return out


def add_clipped_turns(
    t_s: np.ndarray, gyr_rps: np.ndarray, runs: np.ndarray, sizes_rad: np.ndarray
) -> np.ndarray:
    """``gyr_rps`` with each clipped run (``runs`` as in :func:`clipped_turn_sizes_rad`) given back its lost turn
    ``sizes_rad``: a parabola over the run's samples, zero at its edges, whose area is that turn."""
    out = np.array(gyr_rps, dtype=float, copy=True)
    for (a, b, axis, sign), size in zip(runs.tolist(), np.asarray(sizes_rad).tolist(), strict=True):
        if size <= 0.0:
            continue
        x = (np.arange(b - a) + 0.5) / (b - a)
        shape = 1.0 - (2.0 * x - 1.0) ** 2
        period_s = float(np.mean(np.diff(t_s[max(a - 1, 0) : b + 1])))
        out[a:b, axis] += sign * size * shape / (shape.sum() * period_s)
    return out


def _recover_clipped(
    cs: np.ndarray,
    q: np.ndarray,
    dts: np.ndarray,
    first: np.ndarray,
    sid: np.ndarray,
    gap: np.ndarray,
    acc_s: np.ndarray,
) -> np.ndarray:
    """Navigation-frame acceleration (N, 3) lost to clipping: per clipped run, a parabola in the clipped
    direction whose non-negative height best cancels its stride's velocity ``gap`` (integrated minus anchor)."""
    extra = np.zeros((len(cs), 3))
    # trapezoid weight of each sample in its stride's velocity (the anchors' dt is 0)
    tw = 0.5 * (dts + np.r_[dts[1:], 0.0])
    eye = np.eye(3)
    for k, rs in _clipped_runs(cs, first, sid).items():
        shapes = []
        cols = np.zeros((3, len(rs)))
        for j, (a, b, ax, sign) in enumerate(rs):
            pos = np.arange(b - a) - 0.5 * (b - a - 1)
            w = 1.0 - (pos / (0.5 * (b - a + 1))) ** 2
            d = sign * quat.rotate(q[a:b], np.broadcast_to(eye[ax], (b - a, 3)))
            shapes.append(w[:, None] * d)
            cols[:, j] = np.sum(shapes[-1] * tw[a:b, None], axis=0)
        # a run may add at most twice what the repair of its peak (in ``acc_s``) gave, plus a quarter of its level
        ub = np.array([_clip_bound(acc_s[a:b, ax]) for a, b, ax, _ in rs])
        height = _bounded_lsq(cols, -gap[k], ub)
        for (a, b, _, _), shape, h in zip(rs, shapes, height, strict=True):
            extra[a:b] += h * shape
    return extra


#: a landing reaches its chip's range where it comes within this fraction of the landing's largest reading
_RANGE_BAND = 0.02


def _landing(vel: np.ndarray, first: np.ndarray, sid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per integrated point, whether it belongs to its stride's landing: from the foot's fastest instant (the
    horizontal speed of ``vel``, not yet corrected) to the stride's end; and per stride, that instant's point."""
    speed = np.hypot(vel[:, 0], vel[:, 1])
    pos = np.arange(len(speed))
    top = np.maximum.reduceat(speed, first)
    fastest = np.minimum.reduceat(np.where(speed >= top[sid], pos, len(pos)), first)
    return pos >= fastest[sid], fastest


def _settling(
    vel: np.ndarray,
    first: np.ndarray,
    last: np.ndarray,
    sid: np.ndarray,
    landing: np.ndarray,
    *,
    tol_mps: float,
) -> np.ndarray:
    """Per integrated point, 1 where its stride's landing settles, else 0: the first point of the landing from
    which on the velocity ``vel`` stays within ``tol_mps`` of the stride's end velocity. The impact ends there:
    the foot stops, and what the chip read of the impact is over. A stride whose landing never strays that far
    has no such point (and no weight)."""
    dev = quat.norm(vel - np.take(vel[last], sid, axis=0))
    unsettled = np.maximum.reduceat(np.where(landing & (dev > tol_mps), np.arange(len(vel)), -1), first)
    out = np.zeros(len(vel))
    found = unsettled >= 0
    out[np.minimum(unsettled[found] + 1, last[found])] = 1.0
    return out


def _ringing_landing(
    acc_s: np.ndarray,
    cs: np.ndarray | None,
    landing: np.ndarray,
    t_s: np.ndarray,
    first: np.ndarray,
    sid: np.ndarray,
    *,
    window_s: float,
) -> np.ndarray:
    """Per integrated point, whether its stride's landing rings and the point is one of its samples at the range.

    ``landing`` marks the landings' points (:func:`_landing`). Per axis of the readings ``acc_s``, its samples at
    the range are those clipped (``cs``, clip signs; None: none found) and those within ``_RANGE_BAND`` of the
    landing's largest magnitude on that axis, at least the smallest chip range (a module that calibrates its
    output clips softly, at a level of its own); the landing rings where, on one axis, at least two of them lie
    on either side and two of opposite sign follow each other within ``window_s``. A damped swing of the foot or
    shoe does not come back to the same magnitude, a chip rattling between the ends of its range does.
    """
    n_str = len(first)
    at_range = np.zeros(len(landing), dtype=bool)
    for ax in range(3):
        a = acc_s[:, ax]
        size = np.where(landing, np.abs(a), 0.0)
        level = np.maximum.reduceat(size, first)
        sign = np.where(
            size >= np.maximum((1.0 - _RANGE_BAND) * level, ACC_RANGE_MPS2[0])[sid], np.sign(a), 0.0
        )
        if cs is not None:
            sign = np.where(landing & (cs[:, ax] != 0), cs[:, ax], sign)
        at = np.flatnonzero(sign)
        s = sign[at]
        both = (np.bincount(sid[at], weights=s > 0, minlength=n_str) >= 2) & (
            np.bincount(sid[at], weights=s < 0, minlength=n_str) >= 2
        )
        flip = (s[1:] != s[:-1]) & (sid[at[1:]] == sid[at[:-1]]) & (np.diff(t_s[at]) <= window_s)
        ringing = np.zeros(n_str, dtype=bool)
        ringing[sid[at[1:][flip]]] = True
        ringing &= both
        at_range[at[ringing[sid[at]]]] = True
    return at_range


class StrideIntegration:
    """Integrate each stride between two stance anchors into attitude, velocity and position.

    Parameters
    ----------
    gravity_window_s
        Half-width of the window around an anchor whose mean specific force gives the direction of gravity.
    spread_tilt_error
        Correct the tilt mismatch at the stride's end over the stride (else only the start is anchored).
    tilt_error_at_landing
        Correct that mismatch where the foot comes to rest (its last moving sample; needs ``moving``) rather
        than spreading it over the swing by angle turned. On the VICON running trials the mismatch is mostly
        the error of the accelerometer's 'up' at the anchors (the foot still accelerates in a short stance),
        not gyroscope error: spread into the swing it tilts the swing's large accelerations and shortens
        running strides by ~2.5 %, while the gyroscope-propagated attitude keeps them within ~1.3 % of the
        mocap.
    max_moving_s
        A stride moving longer than this in all is no gait stride (crawling, shuffling); there gyroscope drift
        dominates and its mismatch stays spread by angle turned.
    ringing_window_s
        A landing whose accelerometer reaches both ends of its range within this time rings: the chip rattles on
        its mount at the impact and reads it only in part, clipped one way and the other (10 ms, half a period at
        50 Hz: the foot's own motion does not swing from one end of a range to the other that fast). 0 switches
        the rule off.
    drift_mps
        The most of the velocity residual at the end of a stride with a ringing or hard landing taken as drift
        (spread over the stride as usual); the rest is what the landing's impact lost, taken off there. Spread
        over the swing instead, it shortens the stride: a VectorNav VN-200 on a sprinting foot rings at ±16 g at
        every landing and leaves 2-8 m/s, and one runner's 87.6 m courses came out 3.6-7.6 % short
        (``benchmarks/heldout_vectornav.py``). A walking stride's residual stays under 0.5 m/s: a walk whose
        landings rattle keeps its strides.
    hard_landing_mps2
        A landing whose specific force reaches this (10 g; less at low rates, see ``impact_s``) is hard: an
        impact of a few milliseconds, which a chip's decimation filter, its range and its mount read only in
        part. Where the stride's end finds the foot still moving on the way it went (the residual has a part
        along the velocity at the foot's fastest instant), the residual beyond ``drift_mps`` is the impact's lost
        part and is taken off where the landing settles: from the first point on which the velocity stays within
        ``drift_mps`` of its end value (the foot has stopped, the impact is over). The VN-200's courses read at
        200 Hz (the rattle averaged away, nothing left to ring) came out a median 3.6 % short, 0.55 % with the
        rule; at 800 Hz 0.9 and 0.6 %. Taken off over the landing as its acceleration goes, the loss went partly
        into the late swing's braking (8-10 g for the 80 ms before a sprint's touchdown), where a 100 or 200 Hz
        sample weighs as much as the impact's: 1.4 / 1.0 % at 100 / 200 Hz. Softer landings, a residual against
        the foot's way and one within drift are spread as usual: a heel chip's walk lands at 8-18 g, yet 4 of
        the 3,177 strides of ../shared/datasets and the held-out recordings change. ``np.inf`` switches the rule
        off.
    impact_s
        How long an impact lasts, about: a chip sampling less often reads it averaged over its period, and a hard
        landing reads ``hard_landing_mps2`` times this share of the period (5 g at 50 Hz, 10 g from 100 Hz). At
        50 Hz with 10 g the rule hardly ever fired on the VN-200's courses (median 2.2 %, worst 4.4 %; 1.6 and
        3.3 % with 5 g) or on ../shared/datasets' running trials (median 0.84 %; 0.71 %).

    Attributes
    ----------
    sample_index_
        Sample of each integrated point (strides concatenated; the anchors appear at both stride ends).
    stride_of_sample_
        Stride number of each integrated point.
    attitude_
        Sensor-to-navigation quaternion (x, y, z, w) of each integrated point.
    velocity_mps_
        Velocity in the navigation frame of each integrated point.
    position_m_
        Position in the navigation frame of each integrated point (continuous over the recording).
    displacement_m_
        ``(n_strides, 3)`` displacement from each stride's start anchor to its end anchor.
    clip_recovered_mps_
        Per stride, the velocity change (m/s) given back to clipped accelerometer samples and to a ringing or hard
        landing's lost impact (0: nothing lost).
    clip_turn_recovered_rad_
        Per stride, the turn (rad) given back to clipped gyroscope samples beyond their rebuilt tops.
    """

    sample_index_: np.ndarray
    stride_of_sample_: np.ndarray
    attitude_: np.ndarray
    velocity_mps_: np.ndarray
    position_m_: np.ndarray
    displacement_m_: np.ndarray
    clip_recovered_mps_: np.ndarray
    clip_turn_recovered_rad_: np.ndarray

    def __init__(
        self,
        *,
        gravity_window_s: float = 0.02,
        spread_tilt_error: bool = True,
        tilt_error_at_landing: bool = True,
        max_moving_s: float = 2.5,
        ringing_window_s: float = 0.01,
        drift_mps: float = 0.5,
        hard_landing_mps2: float = 10.0 * GRAVITY_MPS2,
        impact_s: float = 0.01,
    ) -> None:
        self.gravity_window_s = gravity_window_s
        self.spread_tilt_error = spread_tilt_error
        self.tilt_error_at_landing = tilt_error_at_landing
        self.max_moving_s = max_moving_s
        self.ringing_window_s = ringing_window_s
        self.drift_mps = drift_mps
        self.hard_landing_mps2 = hard_landing_mps2
        self.impact_s = impact_s

    def integrate(
        self,
        t_s: np.ndarray,
        acc_mps2: np.ndarray,
        gyr_rps: np.ndarray,
        *,
        starts: np.ndarray,
        ends: np.ndarray,
        start_velocity_mps: np.ndarray | None = None,
        end_velocity_mps: np.ndarray | None = None,
        start_up: np.ndarray | None = None,
        end_up: np.ndarray | None = None,
        moving: np.ndarray | None = None,
        gravity_mps2: float = GRAVITY_MPS2,
        scan: np.ndarray | None = None,
        standing: np.ndarray | None = None,
        clipped: np.ndarray | None = None,
        gyr_clipped: np.ndarray | None = None,
        gyr_lost_rad: np.ndarray | None = None,
    ) -> Self:
        """Integrate strides ``[starts[i], ends[i]]`` (sample indices, inclusive, increasing, non-overlapping).

        ``start_velocity_mps``/``end_velocity_mps`` are (n_strides, 3) navigation-frame velocities of the foot's
        sensor at the anchors in the tilt-only frame (z up, the sensor's heading), zero when omitted: the foot
        stands still. ``start_up``/``end_up`` are (n_strides, 3)
        sensor-frame directions of 'up' at the anchors (the mean specific force of the stance); when omitted they
        are the mean specific force in a window of ``gravity_window_s`` around the anchor. ``moving`` (n,) marks
        the samples where velocity error may build up (the foot moves); the velocity correction is spread over
        those alone, so a foot standing flat keeps zero velocity. Attitude error is corrected where the foot
        comes to rest (``tilt_error_at_landing`` with ``moving``), else spread in proportion to the angle
        turned. ``scan`` is :func:`attitude_scan` of ``t_s`` and ``gyr_rps`` when the caller has it already.
        ``standing`` (n,) marks the samples of rests (the foot stands for seconds): no acceleration is integrated
        there, so a gyroscope bias error, growing into a tilt error over a long rest, leaks no gravity into the
        velocity.
        ``clipped`` (n, 3) is :func:`clip_signs` of ``acc_mps2``: where an axis sat at its range the sensor lost
        the rest of the force (the landing impulse, mostly). Per stride, the loss is recovered as a parabola over
        each clipped run, in the clipped direction, of the non-negative heights that best close the gap between
        the integrated and the anchor velocity at the stride's end; what is left is corrected as usual. Spread
        over the swing instead, a lost landing impulse shortens the stride. Where the landing rings
        (``ringing_window_s``), what is left beyond ``drift_mps`` is taken off over the landing's clipped samples;
        where it is hard (``hard_landing_mps2``) and the foot still moves on its way at the end, where the landing
        settles.
        ``gyr_clipped`` (n, 3) marks clipped runs of the gyroscope (+1 / -1 as :func:`clip_signs` gives; the
        pipeline passes a calibrated module's soft clips here, and gives a hard clip its turn before, see
        :func:`clipped_turn_sizes_rad`), and
        ``gyr_lost_rad`` (n, 3) the most turn each clipped run may still have lost, spread over its samples (signed
        as the run): the tilt mismatch is corrected over a clipped run as far as that turn explains it
        (:func:`_turn_lost`), the rest as above. Left to the landing, a turn a sprint's gyroscope lost in
        push-off tilts all of the swing after it (at ±1000 °/s and 100 Hz, 8 m/s came out 11 % short).
        """
        starts = np.asarray(starts, dtype=int)
        ends = np.asarray(ends, dtype=int)
        n_str = len(starts)
        if n_str == 0:
            self.sample_index_ = np.zeros(0, dtype=int)
            self.stride_of_sample_ = np.zeros(0, dtype=int)
            self.attitude_ = np.zeros((0, 4))
            self.velocity_mps_ = self.position_m_ = np.zeros((0, 3))
            self.displacement_m_ = np.zeros((0, 3))
            self.clip_recovered_mps_ = self.clip_turn_recovered_rad_ = np.zeros(0)
            return self
        dt = np.diff(t_s, prepend=t_s[0])
        big_q = attitude_scan(t_s, gyr_rps) if scan is None else scan

        lengths = ends - starts + 1
        sid = np.repeat(np.arange(n_str), lengths)
        first = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        last = first + lengths - 1
        idx = np.arange(len(sid)) - first[sid] + starts[sid]

        if start_up is None or end_up is None:
            half = max(1, int(round(self.gravity_window_s / median(np.diff(t_s)))))
        up0 = window_mean(acc_mps2, starts, half) if start_up is None else np.asarray(start_up, float)
        up1 = window_mean(acc_mps2, ends, half) if end_up is None else np.asarray(end_up, float)
        # Per stride, attitude = correction(t) ⊗ yaw ⊗ tilt(start) ⊗ (rotation since the start): the stride-wide
        # factors are combined per stride, so only two products run over every sample.
        start_q = quat.multiply(tilt_quaternion(up0), quat.conjugate(big_q[starts]))
        frac = (t_s[idx] - t_s[starts][sid]) / np.maximum(t_s[ends] - t_s[starts], 1e-9)[sid]
        dts = dt[idx]
        moving_dt = None if moving is None else np.asarray(moving, float)[idx] * dts
        vel_frac = frac if moving_dt is None else _spread(moving_dt, first, last, frac)
        end_q = quat.multiply(start_q, big_q[ends])
        err = np.zeros((n_str, 3))
        self.clip_turn_recovered_rad_ = np.zeros(n_str)
        if self.spread_tilt_error:
            err = quat.to_rotvec(tilt_quaternion(quat.rotate(end_q, up1)))
            end_q = quat.multiply(quat.from_rotvec(err), end_q)
        yaw_change = yaw_of(end_q)
        yaw = np.concatenate(([0.0], np.cumsum(yaw_change)[:-1]))
        yaw_q = _yaw_quaternion(yaw)
        # the per-sample chain in components (contiguous rows): q = correction ⊗ yaw ⊗ tilt(start) ⊗ scan. Per-sample
        # rows are gathered with np.take: the same copies as fancy indexing, several times faster on 2-D arrays.
        q_parts = quat.product(
            np.take(quat.components(quat.multiply(yaw_q, start_q)), sid, axis=1),
            np.take(quat.components(big_q), idx, axis=1),
        )
        if self.spread_tilt_error:
            landing, has_landing = np.zeros(0), np.zeros(len(idx), dtype=bool)
            if self.tilt_error_at_landing and moving_dt is not None:
                landing, has_landing = _landing_step(moving_dt, first, sid, max_moving_s=self.max_moving_s)
            err_nav = quat.rotate(yaw_q, err)
            turn_lost = None
            if gyr_clipped is not None and gyr_lost_rad is not None:
                gcs = np.asarray(gyr_clipped)[idx]
                gcs[first] = 0
                if gcs.any():
                    turn_lost, err_nav, self.clip_turn_recovered_rad_ = _turn_lost(
                        gcs, np.asarray(gyr_lost_rad)[idx], np.stack(q_parts, axis=-1), first, sid, err_nav
                    )
            if has_landing.all() and turn_lost is None:
                # a step from none to all of each stride's correction: two rotations per stride, not one per sample
                either = quat.components(quat.from_rotvec(np.concatenate((np.zeros_like(err_nav), err_nav))))
                correction = np.take(either, sid + n_str * (landing > 0), axis=1)
            else:  # per sample: by angle turned where a stride has no landing, plus a clipped gyroscope's turn
                tilt_frac = landing
                if not has_landing.all():
                    by_turn = _spread(quat.norm(np.take(gyr_rps, idx, axis=0)) * dts, first, last, frac)
                    tilt_frac = np.where(has_landing, landing, by_turn) if len(landing) else by_turn
                rotvec = tilt_frac[:, None] * np.take(err_nav, sid, axis=0)
                correction = quat.components(
                    quat.from_rotvec(rotvec if turn_lost is None else rotvec + turn_lost)
                )
            q_parts = quat.product(correction, q_parts)
        q = np.stack(q_parts, axis=-1)
        acc_nav = np.stack(quat.rotated(q_parts, np.take(quat.components(acc_mps2), idx, axis=1)), axis=-1)
        acc_nav[:, 2] -= gravity_mps2
        dts[first] = 0.0
        step = np.zeros_like(acc_nav)
        step[1:] = 0.5 * (acc_nav[1:] + acc_nav[:-1]) * dts[1:, None]
        step[first] = 0.0
        if standing is not None:
            step[np.asarray(standing, bool)[idx]] = 0.0
        v0 = np.zeros((n_str, 3)) if start_velocity_mps is None else np.asarray(start_velocity_mps, float)
        v1 = np.zeros((n_str, 3)) if end_velocity_mps is None else np.asarray(end_velocity_mps, float)
        # Anchor velocities are given in the tilt-only frame of their instant (gravity up, no heading): give them
        # the heading the stride has at its start and at its end.
        v0 = quat.rotate(_yaw_quaternion(yaw), v0)
        v1 = quat.rotate(_yaw_quaternion(yaw + yaw_change), v1)
        vel = _segment_cumsum(step, first) + np.take(v0, sid, axis=0)
        acc_s = np.take(acc_mps2, idx, axis=0)
        recovered = np.zeros((n_str, 3))
        cs = None
        if clipped is not None:
            cs = np.asarray(clipped)[idx]
            cs[first] = 0
            if cs.any():
                extra = _recover_clipped(cs, q, dts, first, sid, vel[last] - v1, acc_s)
                if standing is not None:
                    extra[np.asarray(standing, bool)[idx]] = 0.0
                estep = np.zeros_like(extra)
                estep[1:] = 0.5 * (extra[1:] + extra[:-1]) * dts[1:, None]
                estep[first] = 0.0
                gained = _segment_cumsum(estep, first)
                vel += gained
                recovered = gained[last]
        # A landing whose impact was read only in part: what the stride's end says is still missing beyond drift
        # is taken off at the impact. A ringing landing: over its samples at the range. A hard one, the foot still
        # moving on the way it went: where the landing settles.
        landing, fastest = _landing(vel, first, sid)
        ahead = np.einsum("ij,ij->i", vel[last] - v1, vel[fastest]) > 0.0
        impact = (
            _ringing_landing(acc_s, cs, landing, t_s[idx], first, sid, window_s=self.ringing_window_s) * dts
        )
        impact[first] = 0.0
        period_s = (t_s[-1] - t_s[0]) / max(len(t_s) - 1, 1)
        hard_mps2 = self.hard_landing_mps2 * min(1.0, self.impact_s / period_s) if period_s > 0 else np.inf
        hard = np.maximum.reduceat(np.where(landing, quat.norm(acc_s), 0.0), first) >= hard_mps2
        rules = (
            (np.add.reduceat(impact, first) > 0.0, lambda: impact),
            (hard & ahead, lambda: _settling(vel, first, last, sid, landing, tol_mps=self.drift_mps)),
        )
        for strides, weight in rules:
            if strides.any():
                gap = vel[last] - v1
                size = np.linalg.norm(gap, axis=1)
                lost = gap * np.clip(1.0 - self.drift_mps / np.maximum(size, 1e-12), 0.0, 1.0)[:, None]
                lost[~strides] = 0.0
                vel -= _spread(weight(), first, last, vel_frac)[:, None] * np.take(lost, sid, axis=0)
                recovered = recovered - lost
        self.clip_recovered_mps_ = np.linalg.norm(recovered, axis=1)
        vel -= vel_frac[:, None] * np.take(vel[last] - v1, sid, axis=0)
        pstep = np.zeros_like(vel)
        pstep[1:] = 0.5 * (vel[1:] + vel[:-1]) * dts[1:, None]
        pstep[first] = 0.0
        pos = _segment_cumsum(pstep, first)
        disp = pos[last]
        origin = np.vstack((np.zeros((1, 3)), np.cumsum(disp, axis=0)[:-1]))
        self.sample_index_ = idx
        self.stride_of_sample_ = sid
        self.attitude_ = q
        self.velocity_mps_ = vel
        self.position_m_ = pos + np.take(origin, sid, axis=0)
        self.displacement_m_ = disp
        return self
