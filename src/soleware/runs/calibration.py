"""Each runner's distance calibration, learned from runs with a known distance.

A foot pod's distance is a few per cent off for one runner and shoe (mounting, running style) and that error is
the same from run to run; a factor learned from runs whose distance is known removes it. A *reference* is one such
run: a track (laps of 400 m in lane 1), a treadmill's reading, a race or measured course, the markers of a course
the runner pressed Lap at (``marker_reference``), or the straight stretches of the phone's GPS track with a good fix
(``gps_segments``). ``CalibrationEstimator`` turns a runner's references
for one shoe into a factor: robust (a wrong reference is rejected and cannot pull the factor far), and 1.0 until
several references agree. ``calibrate_run`` applies a factor to a new run; the run keeps its raw distance beside.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import itertools
import math
from collections.abc import Sequence
from typing import Self

import numpy as np
from numpy.typing import ArrayLike

from soleware.runs.model import Lap, Run, RunDataError, Sensor, Streams

__all__ = [
    "KIND_SIGMA",
    "SPEED_BANDS_MPS",
    "TRACK_LAP_M",
    "CalibrationEstimator",
    "GpsSegment",
    "Reference",
    "ReferenceKind",
    "calibrate_run",
    "gps_reference",
    "gps_segments",
    "marker_reference",
    "reference_distance_m",
    "shoe_key",
]

#: one lap of a standard outdoor track, measured 0.30 m from the inner kerb of lane 1
TRACK_LAP_M = 400.0
#: speed bands (lower edges, m/s) a factor may differ by: walking, easy, steady, fast
SPEED_BANDS_MPS = (0.0, 2.5, 3.5, 4.5)
_EARTH_RADIUS_M = 6_371_008.8


class ReferenceKind(enum.StrEnum):
    """Where a reference distance came from."""

    TRACK = "track"
    TREADMILL = "treadmill"
    COURSE = "course"
    GPS = "gps"
    #: the runner pressed Lap at a course's distance markers (every km of a race)
    MARKERS = "markers"


#: typical error of one reference of each kind (relative, 1 σ): a track run drifts out of lane 1, a treadmill's
#: belt is rarely calibrated, a measured course is run a little long, GPS is taken from its fit (see gps_segments)
KIND_SIGMA = {
    ReferenceKind.TRACK: 0.005,
    ReferenceKind.TREADMILL: 0.015,
    ReferenceKind.COURSE: 0.008,
    ReferenceKind.GPS: 0.01,
    # a race's markers stand on its measured line, which the runner runs a little wide of, as a course's
    ReferenceKind.MARKERS: 0.008,
}


def shoe_key(serials: Sequence[str], sensor: Sensor | None = None) -> str:
    """The shoe a factor belongs to: the run's sensor serials (both feet of a pair), sorted, joined by '+'; for a
    third-party pod's run (no serials of ours), "pod:" and the pod's serial, else its name."""
    if serials or sensor is None:
        return "+".join(sorted(set(serials)))
    return "pod:" + (sensor.serial or sensor.name)


def reference_distance_m(
    kind: ReferenceKind, *, distance_m: float | None = None, laps: float | None = None
) -> float:
    """The reference distance the runner gave: ``laps`` × 400 m for a track (or a distance), else a distance."""
    if (distance_m is None) == (laps is None):
        raise RunDataError("give either a distance or a number of laps")
    if laps is not None:
        if kind is not ReferenceKind.TRACK:
            raise RunDataError("laps are only for a track; give the distance")
        if not (math.isfinite(laps) and 0 < laps <= 500):
            raise RunDataError("laps must be a number between 0 and 500")
        return laps * TRACK_LAP_M
    assert distance_m is not None
    if not (math.isfinite(distance_m) and 100.0 <= distance_m <= 300_000.0):
        raise RunDataError("a reference distance must be between 100 m and 300 km")
    return float(distance_m)


def marker_reference(
    laps: Sequence[Lap],
    streams: Streams,
    pauses: Sequence[tuple[float, float]],
    *,
    marker_m: float,
    calibration_factor: float = 1.0,
) -> tuple[float, float, float]:
    """The known stretch of a run whose laps the runner pressed at markers ``marker_m`` apart, the first lap from
    the start line: (its distance, what the shoes measured over it before calibration, its moving time in s).

    It runs from the start to the end of the last lap but one: the last lap ends where the runner pressed Finish,
    not at a marker. Each lap but the last counts as one marker's distance: a marker passed without a press makes
    a wrong reference, left to the estimator's checks (too far from the shoes, or from the runner's other
    references) like any wrong entry.
    """
    if not (math.isfinite(marker_m) and marker_m > 0):
        raise RunDataError(f"markers must be a positive distance apart, got {marker_m}")
    ends = sorted(lap.t_end_s for lap in laps)[:-1]
    if not ends:
        raise RunDataError(
            "the run has no lap that ended at a marker: press Lap at each marker as you pass it"
        )
    end = ends[-1]
    reference_m = len(ends) * marker_m
    if not 100.0 <= reference_m <= 300_000.0:
        raise RunDataError(f"the markers pressed span {reference_m:.0f} m: a reference is 100 m to 300 km")
    raw_m = float(np.interp(end, streams.t_s, streams.distance_m)) / calibration_factor
    moving_s = end - sum(max(0.0, min(end, b) - a) for a, b in pauses if a < end)
    if raw_m <= 0 or moving_s <= 0:
        raise RunDataError("the shoes measured no distance up to the last marker")
    return reference_m, raw_m, moving_s


@dataclasses.dataclass(frozen=True, slots=True)
class Reference:
    """One run (or the GPS stretches of one run) whose true distance is known.

    ``raw_m`` is what the shoes measured over the same stretch, before any calibration; ``sigma`` the reference's
    own relative error (1 σ; ``KIND_SIGMA`` by default).
    """

    kind: ReferenceKind
    reference_m: float
    raw_m: float
    speed_mps: float
    time: dt.datetime
    shoe: str = ""
    run_id: str | None = None
    sigma: float | None = None

    @property
    def log_ratio(self) -> float:
        return math.log(self.reference_m / self.raw_m)

    @property
    def sigma_rel(self) -> float:
        return self.sigma if self.sigma is not None else KIND_SIGMA[self.kind]


class CalibrationEstimator:
    """A runner's factor for one shoe from their references: a robust mean of log(reference / raw).

    Parameters
    ----------
    min_agreeing
        References that must agree before the factor moves from 1.0 at all.
    implausible
        References further than this (relative) from 1.0 are rejected outright (a wrong entry, not a pod).
    reject_sigmas
        A reference further than this many robust standard deviations from the weighted median is rejected.
    noise_floor
        The smallest spread assumed between references (the engine's run-to-run error), relative.
    prior_sigma
        Spread of runners' personal biases; the estimate is shrunk toward 1.0 by this prior (relative).
    huber_k
        Huber's tuning constant for the mean of the accepted references (in standard deviations).
    tukey_c
        Tukey's biweight constant for the final mean, started from Huber's (in standard deviations).
    max_pull
        Once a factor stands, a later reference that alone would move it by more than this (relative) is held
        ("unconfirmed") until another held reference agrees with it, or until the factor stands on so many
        references that it no longer would: one reference, right or wrong, never moves a learned factor
        further than this. Leaving a good one out a while costs little; a wrong one would move the factor.
    hold_sigmas
        Two held references agree when they lie within this many standard deviations of each other.
    speed_bands_mps
        Lower edges of the speed bands; bands get their own factors only when at least two bands each have
        ``min_agreeing`` accepted references.

    Attributes
    ----------
    factor_
        The factor to apply (1.0 until ``min_agreeing`` references agree).
    band_factors_
        Factor per band lower edge, only for bands with enough references of their own.
    accepted_
        Per reference: used in the factor.
    reasons_
        Per reference: why it does not count (None when it does): "implausible", "disagrees" (with the others),
        "unconfirmed" (held until another reference agrees with it).
    n_agreeing_
        Accepted references.
    spread_
        Robust relative spread of the accepted references.
    """

    min_agreeing: int
    implausible: float
    reject_sigmas: float
    noise_floor: float
    prior_sigma: float
    huber_k: float
    tukey_c: float
    max_pull: float
    hold_sigmas: float
    speed_bands_mps: tuple[float, ...]

    factor_: float
    band_factors_: dict[float, float]
    accepted_: list[bool]
    reasons_: list[str | None]
    n_agreeing_: int
    spread_: float

    def __init__(
        self,
        *,
        min_agreeing: int = 3,
        implausible: float = 0.15,
        reject_sigmas: float = 3.0,
        noise_floor: float = 0.01,
        prior_sigma: float = 0.05,
        huber_k: float = 1.5,
        tukey_c: float = 4.685,
        max_pull: float = 0.0025,
        hold_sigmas: float = 2.0,
        speed_bands_mps: tuple[float, ...] = SPEED_BANDS_MPS,
    ) -> None:
        self.min_agreeing = min_agreeing
        self.implausible = implausible
        self.reject_sigmas = reject_sigmas
        self.noise_floor = noise_floor
        self.prior_sigma = prior_sigma
        self.huber_k = huber_k
        self.tukey_c = tukey_c
        self.max_pull = max_pull
        self.hold_sigmas = hold_sigmas
        self.speed_bands_mps = speed_bands_mps

    def estimate(self, references: Sequence[Reference]) -> Self:
        """Learn the factor from ``references`` (one runner, one shoe), taken in the order of their ``time``."""
        if self.min_agreeing < 1:
            raise RunDataError("`min_agreeing` must be >= 1")
        if not 0 < self.implausible < 1:
            raise RunDataError("`implausible` must be in (0, 1)")
        self.references = list(references)
        n = len(self.references)
        x = np.array([r.log_ratio for r in self.references])
        sig = np.array([max(r.sigma_rel, 0.001) for r in self.references])
        reasons: list[str | None] = [None] * n
        lo, hi = math.log(1 - self.implausible), math.log(1 + self.implausible)
        for i in range(n):
            if not lo <= x[i] <= hi:
                reasons[i] = "implausible"
        order = sorted((i for i in range(n) if reasons[i] is None), key=lambda i: self.references[i].time)
        # until a factor stands, each reference is judged against all the others so far
        k = 0
        agree: list[int] = []
        while k < len(order) and len(agree) < self.min_agreeing:
            k += 1
            agree = self._agreeing(x, sig, order[:k])
        for i in set(order[:k]) - set(agree):
            reasons[i] = "disagrees"
        if len(agree) >= self.min_agreeing:
            self._hold_or_accept(x, sig, agree, order[k:], reasons)
        self.reasons_ = reasons
        self.accepted_ = [r is None for r in reasons]
        acc = np.array(self.accepted_, dtype=bool)
        self.n_agreeing_ = int(acc.sum())
        self.spread_ = 0.0
        if self.n_agreeing_ < self.min_agreeing:
            self.factor_ = 1.0
            self.band_factors_ = {}
            return self
        mean, self.spread_, _ = self._huber(x[acc], sig[acc])
        self.factor_ = math.exp(mean)
        speeds = np.array([r.speed_mps for r in self.references])
        band = np.searchsorted(np.asarray(self.speed_bands_mps), speeds, side="right") - 1
        self.band_factors_ = {}
        for b, edge in enumerate(self.speed_bands_mps):
            sel = acc & (band == b)
            if sel.sum() >= self.min_agreeing:
                self.band_factors_[edge] = math.exp(self._huber(x[sel], sig[sel], prior=mean)[0])
        if len(self.band_factors_) < 2:  # one band alone says nothing about speed
            self.band_factors_ = {}
        return self

    def _hold_or_accept(
        self, x: np.ndarray, sig: np.ndarray, accepted: list[int], later: list[int], reasons: list[str | None]
    ) -> None:
        """Take the ``later`` references one at a time against the factor of the ``accepted`` ones: one that alone
        moves it by at most ``max_pull`` counts at once; else it is held until it no longer would, or another
        held one agrees with it."""
        accepted = list(accepted)
        held: list[int] = []
        max_step = math.log1p(self.max_pull)
        for i in later:
            held.append(i)
            mean, spread, _ = self._huber(x[accepted], sig[accepted])
            near = [
                j
                for j in held
                if abs(self._huber(x[[*accepted, j]], sig[[*accepted, j]])[0] - mean) <= max_step
            ]
            for a, b in itertools.combinations(held, 2):
                if abs(x[a] - x[b]) <= self.hold_sigmas * math.sqrt(
                    sig[a] ** 2 + sig[b] ** 2 + 2 * spread**2
                ):
                    near += [a, b]
            accepted += sorted(set(near))
            held = [j for j in held if j not in near]
        for i in held:
            reasons[i] = "unconfirmed" if i in self._agreeing(x, sig, [*accepted, i]) else "disagrees"
        for i in set(accepted) - set(self._agreeing(x, sig, accepted)):
            reasons[i] = "disagrees"

    def _agreeing(self, x: np.ndarray, sig: np.ndarray, idx: Sequence[int]) -> list[int]:
        """Those of ``idx`` within ``reject_sigmas`` robust standard deviations of their weighted median."""
        xi, si = x[idx], sig[idx]
        w = 1.0 / si**2
        centre = _weighted_median(xi, w)
        scale = max(1.4826 * _weighted_median(np.abs(xi - centre), w), self.noise_floor)
        # a reference's distance from the median: its own error, the engine's and the median's (about as large)
        tol = self.reject_sigmas * np.sqrt(2 * scale**2 + si**2)
        return [i for i, ok in zip(idx, np.abs(xi - centre) <= tol, strict=True) if ok]

    def _huber(self, x: np.ndarray, sig: np.ndarray, *, prior: float = 0.0) -> tuple[float, float, float]:
        """Robust mean of ``x`` (each with its own σ and the shared spread: Huber, then Tukey's biweight from
        there), shrunk toward ``prior``; the spread; and the mean's variance."""
        centre = float(np.median(x))
        spread = max(1.4826 * float(np.median(np.abs(x - centre))), self.noise_floor)
        s = np.sqrt(sig**2 + spread**2)
        for _ in range(20):
            r = (x - centre) / s
            w = np.minimum(1.0, self.huber_k / np.maximum(np.abs(r), 1e-12)) / s**2
            new = float(np.sum(w * x) / np.sum(w))
            if abs(new - centre) < 1e-9:
                break
            centre = new
        # then Tukey's biweight from there: a reference far out (but not rejected) loses most of its pull
        for _ in range(20):
            r = (x - centre) / (self.tukey_c * s)
            w = np.where(np.abs(r) < 1, (1 - r**2) ** 2, 0.0) / s**2
            if not np.any(w > 0):
                break
            new = float(np.sum(w * x) / np.sum(w))
            if abs(new - centre) < 1e-9:
                break
            centre = new
        var = 1.0 / float(np.sum(1.0 / s**2))
        shrink = self.prior_sigma**2 / (self.prior_sigma**2 + var)
        return prior + shrink * (centre - prior), spread, shrink * var

    def factor_at(self, speed_mps: float) -> float:
        """The factor for a run at ``speed_mps``: its band's own factor, else the shoe's."""
        if not self.band_factors_:
            return self.factor_
        edge = max((e for e in self.speed_bands_mps if e <= speed_mps), default=self.speed_bands_mps[0])
        return self.band_factors_.get(edge, self.factor_)


def _weighted_median(x: np.ndarray, w: np.ndarray) -> float:
    order = np.argsort(x)
    cw = np.cumsum(w[order])
    return float(x[order][np.searchsorted(cw, 0.5 * cw[-1])])


def calibrate_run(run: Run, factor: float) -> Run:
    """``run`` with its distance scaled by ``factor``: strides (and so streams, speeds, paces, splits and efforts)
    or, for a run without strides, its streams. The raw distance stays readable as ``raw_distance_m``."""
    if not (math.isfinite(factor) and 0.5 < factor < 2.0):
        raise RunDataError("a calibration factor must lie between 0.5 and 2")
    if factor == 1.0:
        return run
    if run.strides:
        rebuilt = Run.from_strides(
            [
                dataclasses.replace(s, length_m=s.length_m * factor, speed_mps=(s.speed_mps or 0.0) * factor)
                for s in run.strides
            ],
            start_time=run.start_time,
            time_zone=run.time_zone,
        )
        distance_m, streams, strides = rebuilt.distance_m, rebuilt.streams, rebuilt.strides
    else:
        st = run.streams
        distance_m, strides = run.distance_m * factor, run.strides
        streams = Streams(
            t_s=st.t_s,
            distance_m=st.distance_m * factor,
            speed_mps=st.speed_mps * factor,
            cadence_spm=st.cadence_spm,
            stride_length_m=st.stride_length_m * factor,
            contact_time_s=st.contact_time_s,
        )
    # everything else (times, pauses, laps, shoes, title, and whatever a run carries besides) as it was
    return dataclasses.replace(
        run,
        distance_m=distance_m,
        streams=streams,
        strides=strides,
        calibration_factor=run.calibration_factor * factor,
    )


# ---------------------------------------------------------------------------------------------------- GPS


@dataclasses.dataclass(frozen=True, slots=True)
class GpsSegment:
    """A straight stretch of the phone's track with a good fix, and what the shoes measured over it."""

    t_start_s: float
    t_end_s: float
    reference_m: float
    raw_m: float
    #: relative 1 σ of ``reference_m`` from the line fit
    sigma: float


def _local_xy(lat_deg: np.ndarray, lon_deg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lat0 = math.radians(float(np.mean(lat_deg)))
    x = np.radians(lon_deg - lon_deg[0]) * _EARTH_RADIUS_M * math.cos(lat0)
    y = np.radians(lat_deg - lat_deg[0]) * _EARTH_RADIUS_M
    return x, y


def gps_segments(
    t_s: ArrayLike,
    lat_deg: ArrayLike,
    lon_deg: ArrayLike,
    accuracy_m: ArrayLike,
    raw_t_s: ArrayLike,
    raw_distance_m: ArrayLike,
    *,
    max_accuracy_m: float = 10.0,
    min_length_m: float = 200.0,
    max_offset_m: float = 6.0,
    max_gap_s: float = 5.0,
    min_fixes: int = 10,
) -> list[GpsSegment]:
    """Straight stretches of a GPS track with a good fix, as references for the shoes' raw distance.

    A stretch is a run of consecutive fixes no worse than ``max_accuracy_m``, at most ``max_gap_s`` apart, that
    all lie within ``max_offset_m`` plus their accuracy of the straight line through them, and move along it in
    step with the shoes' distance (no turn, no stop), at least ``min_length_m`` long; where a turn ends it, the
    last ``max_offset_m`` plus accuracy metres before are dropped (the turn may have begun there). Its
    reference factor is the slope of the fixes' position along the line against the shoes' raw cumulative
    distance (``raw_distance_m`` at ``raw_t_s``) — a fit over every fix, so GPS noise at the two ends does not
    decide it, and a straight line's length is not inflated by noise across it as a path's would be.
    """
    t = np.asarray(t_s, dtype=np.float64)
    lat = np.asarray(lat_deg, dtype=np.float64)
    lon = np.asarray(lon_deg, dtype=np.float64)
    acc = np.asarray(accuracy_m, dtype=np.float64)
    rt = np.asarray(raw_t_s, dtype=np.float64)
    rd = np.asarray(raw_distance_m, dtype=np.float64)
    if not (len(t) == len(lat) == len(lon) == len(acc)) or len(rt) != len(rd):
        raise RunDataError("route columns (and the distance stream's) must be of equal length")
    if len(t) < min_fixes or len(rt) < 2:
        return []
    good = np.isfinite(t) & np.isfinite(lat) & np.isfinite(lon) & np.isfinite(acc) & (acc <= max_accuracy_m)
    x, y = _local_xy(lat, lon)
    d = np.interp(t, rt, rd)
    tol = max_offset_m + acc
    out: list[GpsSegment] = []
    i, n = 0, len(t)
    while i < n:
        if not good[i]:
            i += 1
            continue
        j, last_straight, turned = i + 1, 0, False
        while j < n and good[j] and t[j] - t[j - 1] <= max_gap_s:
            j += 1
            # check every fix at first, then every eighth of the window (a long stretch costs O(n log n))
            if j - i >= min_fixes and (j == n or (j - i) % max(1, (j - i) // 8) == 0 or not good[j]):
                if _is_straight(x[i:j], y[i:j], d[i:j], tol[i:j]):
                    last_straight = j
                else:
                    turned = True
                    break
        if not last_straight:
            i += 1
            continue
        end = last_straight
        if turned:
            # a turn hides in the noise for about ``tol`` metres before the window stops being straight
            end = i + int(np.searchsorted(d[i:end], d[end - 1] - float(np.median(tol[i:end])), side="right"))
        seg = (
            _segment(t[i:end], x[i:end], y[i:end], acc[i:end], d[i:end], min_length_m)
            if end - i >= min_fixes
            else None
        )
        if seg is not None:
            out.append(seg)
        i = max(last_straight, i + 1)
    return out


def _line(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions along and across the line fitted through the fixes (along increasing with time)."""
    pts = np.column_stack((x - x.mean(), y - y.mean()))
    _, _, vt = np.linalg.svd(pts, full_matrices=False)
    along, across = pts @ vt[0], pts @ vt[1]
    return (-along if along[-1] < along[0] else along), across


def _is_straight(x: np.ndarray, y: np.ndarray, d: np.ndarray, tol: np.ndarray) -> bool:
    """Whether the fixes lie on a line, and move along it as the shoes' distance does (no turn, no stop)."""
    along, across = _line(x, y)
    if np.any(np.abs(across) > tol):
        return False
    raw = d - d[0]
    if raw[-1] <= 0:
        return False
    resid = along - np.polyval(np.polyfit(raw, along, 1), raw)
    return not bool(np.any(np.abs(resid) > tol))


def _segment(
    t: np.ndarray, x: np.ndarray, y: np.ndarray, acc: np.ndarray, d: np.ndarray, min_length_m: float
) -> GpsSegment | None:
    """The stretch as a segment (slope of position along the line against raw distance), if long enough."""
    along, _ = _line(x, y)
    raw = d - d[0]
    if raw[-1] <= 0:
        return None
    slope, _ = np.polyfit(raw, along, 1, w=1.0 / np.maximum(acc, 1.0))
    length = slope * raw[-1]
    if length < min_length_m or not 0.5 < slope < 2.0:
        return None
    resid = along - np.polyval(np.polyfit(raw, along, 1), raw)
    noise = max(float(np.std(resid)), 1.0)
    sigma = noise / (float(np.std(raw)) * math.sqrt(len(raw)))
    return GpsSegment(float(t[0]), float(t[-1]), float(length), float(raw[-1]), float(max(sigma, 0.003)))


def gps_reference(
    segments: Sequence[GpsSegment], *, time: dt.datetime, shoe: str = "", run_id: str | None = None
) -> Reference | None:
    """One reference from a run's GPS stretches (together, so one run counts once toward agreement), or None."""
    if not segments:
        return None
    ref = sum(s.reference_m for s in segments)
    raw = sum(s.raw_m for s in segments)
    duration = sum(s.t_end_s - s.t_start_s for s in segments)
    sigma = max(1.0 / math.sqrt(sum(1.0 / s.sigma**2 for s in segments)), KIND_SIGMA[ReferenceKind.GPS] / 2)
    return Reference(
        kind=ReferenceKind.GPS,
        reference_m=ref,
        raw_m=raw,
        speed_mps=raw / duration if duration > 0 else 0.0,
        time=time,
        shoe=shoe,
        run_id=run_id,
        sigma=sigma,
    )
