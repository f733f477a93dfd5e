"""The offline gait pipeline: a recording in, strides and a run summary out."""

from __future__ import annotations

import dataclasses
import math
from typing import Self

import numpy as np

from soleware.gait import _quat as quat
from soleware.gait._signal import (
    clipped_run_losses,
    moving_average,
    range_max,
    repair_saturation,
    repair_soft_clips,
    runs_of_true,
    samples,
    spatial_median,
    window_mean,
)
from soleware.gait.events import ContactEventDetection, sagittal_axis
from soleware.gait.navigation import (
    StrideIntegration,
    add_clipped_turns,
    anchor_tilt_mismatch_rad,
    attitude_scan,
    blended_up,
    clip_signs,
    clipped_turn_sizes_rad,
    stride_of_runs,
    tilt_agrees_near,
    tilt_quaternion,
)
from soleware.gait.recording import (
    Recording,
    check_units,
    timestamps_rate_hz,
    with_missing_samples_repaired,
)
from soleware.gait.stance import AdaptiveStanceDetector
from soleware.gait.vocabulary import GRAVITY_MPS2, Gait, StrikeType

__all__ = ["GaitAnalysis", "RunSummary", "Stride", "strike_type"]

#: the rate the repair of clipped tops was checked at on real recordings, and the band under a clipped gyroscope
#: top whose samples make up its plateau there (see ``clip_context_s``)
_CLIP_CHECKED_HZ = 200.0
_CLIP_BAND = 0.005

#: Foot strike classes by strike angle (deg, + toe up at contact), after Altman & Davis 2012.
REARFOOT_MIN_DEG = 8.0
FOREFOOT_MAX_DEG = -1.6
#: an accelerometer axis peaking below this is not looked at for clipping (no chip's range is that small)
ACC_CLIP_MIN_MPS2 = 15.0
#: nor a gyroscope axis peaking below this (rad/s, ~230 °/s: under the ±250 °/s most chips offer at least)
GYR_CLIP_MIN_RPS = 4.0


def strike_type(angle_deg: float) -> StrikeType | None:
    """Rearfoot, midfoot or forefoot from the foot's pitch at initial contact relative to foot-flat (None: no
    angle)."""
    if not math.isfinite(angle_deg):
        return None
    if angle_deg > REARFOOT_MIN_DEG:
        return StrikeType.REARFOOT
    if angle_deg < FOREFOOT_MAX_DEG:
        return StrikeType.FOREFOOT
    return StrikeType.MIDFOOT


@dataclasses.dataclass(frozen=True)
class Stride:
    """One stride of one foot, stance to stance. Times in seconds from the recording's start, SI units.

    ``cadence_spm`` counts the steps of both feet per minute (two steps per stride of one foot).
    ``contact_time_s`` is the ground contact of the stance the stride starts from: its initial contact to its
    terminal contact (toe-off). ``swing_time_s`` is this foot's time in the air: from that toe-off to the initial
    contact of the stance the stride ends in (``t_initial_contact_s``); ``strike_angle_deg`` and ``impact_mps2``
    belong to that initial contact. ``flight_time_s`` is the time neither foot touches the ground, per step: one
    foot cannot see the other, so it assumes both feet alike, (stride duration − 2 × contact) / 2, and 0 for a walk.

    A stride runs from one stance's anchor (its quietest instant) to the next, so a stride into or out of a rest
    (a traffic light) holds part of that rest: ``rest_at_start_s`` and ``rest_at_end_s`` say how much, and
    ``t_moving_start_s``/``t_moving_end_s`` bound the stride without it, from the foot's lift off a rest to its
    landing in one (:meth:`without_rests`). Its speed is that of the moving part and its cadence that of its gait
    cycle (contact to contact into a rest, lift to lift out of one); a rest is no ground contact, so a stride out
    of one has no ``contact_time_s``.
    """

    t_start_s: float
    t_end_s: float
    length_m: float
    speed_mps: float
    cadence_spm: float
    contact_time_s: float
    flight_time_s: float
    strike_angle_deg: float
    strike_type: StrikeType | None
    impact_mps2: float
    gait: Gait
    swing_time_s: float = float("nan")
    t_initial_contact_s: float = float("nan")
    #: time the foot moved in this stride, rests (standing for seconds) not counted (s)
    moving_s: float = float("nan")
    #: velocity change (m/s) given back to accelerometer samples clipped at the chip's range (0: none clipped)
    clip_recovered_mps: float = 0.0
    #: turn (rad) given back to gyroscope samples clipped at the chip's range, beyond their rebuilt tops
    clip_turn_recovered_rad: float = 0.0
    #: seconds of a rest (standing for ``rest_min_s`` or more) the stride starts in, from its anchor to the lift
    rest_at_start_s: float = 0.0
    #: seconds of a rest the stride ends in, from the landing to its anchor
    rest_at_end_s: float = 0.0
    #: estimated across samples lost to a gap (see :func:`bridged`), not measured: no form figures
    bridged: bool = False

    @property
    def duration_s(self) -> float:
        return self.t_end_s - self.t_start_s

    @property
    def t_moving_start_s(self) -> float:
        """When the foot leaves the stance the stride starts from (its anchor, or the end of a rest)."""
        return self.t_start_s + self.rest_at_start_s

    @property
    def t_moving_end_s(self) -> float:
        """When the foot reaches the stance the stride ends in (its anchor, or the start of a rest)."""
        return self.t_end_s - self.rest_at_end_s

    def starting_at(self, t_s: float) -> Stride:
        """This stride as if it started at ``t_s`` (where a later window joins it), its lift kept."""
        return dataclasses.replace(self, t_start_s=t_s, rest_at_start_s=max(0.0, self.t_moving_start_s - t_s))

    def without_rests(self) -> Stride:
        """This stride from the foot's lift off a rest to its landing in one: what a runner's moving time,
        pauses and per-stride figures count (the rest in between is a pause, not a slow stride)."""
        if not (self.rest_at_start_s or self.rest_at_end_s):
            return self
        return dataclasses.replace(
            self,
            t_start_s=self.t_moving_start_s,
            t_end_s=self.t_moving_end_s,
            rest_at_start_s=0.0,
            rest_at_end_s=0.0,
        )


@dataclasses.dataclass(frozen=True)
class RunSummary:
    """Totals of one foot's recording. ``steps`` counts this foot's footfalls (= strides); ``splits_s`` is the
    moving time of each full kilometre, ``stops`` the (start, end) of each stop in s."""

    distance_m: float
    duration_s: float
    moving_time_s: float
    steps: int
    cadence_spm: float
    avg_pace_s_per_km: float | None
    best_pace_s_per_km: float | None
    splits_s: list[float]
    stops: list[tuple[float, float]]


class GaitAnalysis:
    """Strides, distance and running form of one foot from its IMU recording.

    Parameters
    ----------
    stance_detector
        Finds the stances; an :class:`AdaptiveStanceDetector` by default.
    gravity_window_s
        Half-width of the window around a stance's quietest instant that gives the direction of gravity.
    up_weight
        Weight of that measured direction in each stance's 'up', against the 'up' the gyroscope carries from the
        stance before (:func:`~soleware.gait.navigation.blended_up`). Neither is exact: a running foot is never
        still, even at its quietest instant, and the gyroscope drifts over a stride. 0.5 weighs them alike; 1
        takes the accelerometer alone.
    up_trust_mps2
        How far the specific force at a stance may be off gravity's size before its measured 'up' weighs half
        of ``up_weight``: a foot that still accelerates there tilts it. At 50 Hz a sprinting instep's quietest
        sample may lie in the roll-in or roll-off (at 8 m/s its 'up' is over 40° off at one stance in ten);
        trusted as much as a still one, it took 8-11 % off a simulated 20 s run at 8 m/s. Since the stance
        detector keeps a stance caught in one still sample (``lone_still_ratio``), that run's stances are mostly
        still ones, and trusting them all alike gives +1.2 / +1.7 / -0.6 % on three seeds against +2.1 / +3.3 /
        +2.3 % with this. On the real recordings it still helps a little: equal trust gives ../shared/datasets
        running 0.82 / 1.71 % (0.81 / 1.68 % with this) and the held-out running trials 1.09 / 2.32 % (1.07 /
        2.23 %); 2 to 5 m/s² give the same running errors to 0.01 points; 1 trusts running stances too little
        (running median 0.92 %).
    run_duty_factor
        A stride whose ground contact lasts less than this fraction of its gait cycle (initial contact to the
        next) is running (a flight phase exists).
    stop_s
        A gap between strides longer than this is a stop.
    pivot_height_m
        Height of the sensor above the point the foot rolls about in stance: 8 cm is the instep of a running
        shoe (sole plus foot), a geometric value, not fitted to any recording. 0 takes the foot as still at its
        quietest instant.
    rest_min_s
        A still interval at least this long is standing (not a walking foot-flat) and gives the gyroscope bias.
    rest_bias_s
        The gyroscope bias is the spatial median of the angular rate over a rest's first this many seconds (a
        stream need not wait longer than this for it); unlike a median per axis it turns with the chip, however
        that is mounted. A "rest" over which the accelerometer's 'up' turns as that rate says (a slow shuffle)
        gives none (``_turns_while_still``).
    acc_offset_deadband_mps2
        Over the same window the accelerometer reads gravity plus its offset along 'up' (a cheap chip's zero-g
        offset is 20-60 mg; at stance it only tilts 'up' a little, but it turns with the foot in the swing and
        changes a slow walk's length by 0.4-1 % per 0.1 m/s², by placement). Until the next rest, that offset is taken off every
        sample, less this much: local gravity lies within ±0.03 m/s² of the standard 9.80665 (equator to pole),
        so a smaller offset cannot be told from it and is left alone. ``math.inf`` takes none off. An offset
        across 'up' is not observable from a foot that stands flat and stays; one beyond ``_ACC_OFFSET_MAX_MPS2``
        is no chip's (a "rest" in an accelerating lift or vehicle) and is not taken either.
    stance_tilt_max_rad
        A stance's measured 'up' must agree within this angle (~34°) with the 'up' the gyroscope carries over
        from at least one neighbouring stance, at its quietest instant or at a sample within
        ``gravity_window_s`` of it. A foot on the ground differs by < 25° even running (the accelerometer sees
        the foot's own acceleration; at 100 Hz the one quiet sample of a running stance may differ by 36°, one
        20 ms before it by 22°); a quiet instant in the air, before a stop or at the first step off a
        standstill, differs by 45-160° from both sides and is dropped, so its two strides become one.
    max_moving_s
        Moving this long between two footfalls is not walking or running (crawling, shuffling on the spot, a shoe
        carried or on a bike pedal; a slow walking stride moves for 1-2.5 s): such a "stride" is left out, its
        time counts as a stop.
    bridge_max_s
        Samples lost for longer than a gap that can be filled (0.25 s; a dropped Bluetooth packet's is far less)
        split a recording, and the foot's way from the last stance before the gap to the first one after it is
        not seen. It is estimated from the strides either side, at their pace, where they lie at most this long
        apart and the foot stood at neither (:func:`across_gap`); each piece's gyroscope bias is the last rest's,
        whichever piece that rest was in. Half a second lost every 20 s took a median 5.3 % (walks) and 5.0 %
        (runs) off ../shared/datasets' distances, up to 10.6 %; 0.8 % and 1.3 % now, up to 5.5 %
        (``benchmarks/robustness.py``). On the VN-200's straight courses, which end in a stop and a turn, a
        median 6.1 % and up to 12.0 % short before, 0.6 % and 6.1 % now (a sprint's stop inside a gap: the pace
        out of it is a walk's).
    acc_range_mps2
        Full-scale range of the accelerometer where it is known (else the range the recording states, see
        :class:`~soleware.gait.recording.Recording`); otherwise an axis counts as clipped where it is
        held flat at its largest value (:func:`~soleware.gait.navigation.clip_signs`).
    gyr_range_rps
        The same for the gyroscope. Where it clipped, its tops are rebuilt (see ``clip_context_s``), and the
        turn each clipped run still lacks is given back to its samples before the strides are integrated: as much
        as the tilt the stride's next stance shows calls for, weighed against what the run's sides predict it
        lost (:func:`~soleware.gait._signal.clipped_run_losses`,
        :func:`~soleware.gait.navigation.clipped_turn_sizes_rad`). A stride with a positive and a negative run on
        one axis shows only their difference; the predictions split it. A ±500 °/s chip running at 5-8 m/s
        lost 10-30° a stride that way; the simulator's ±500 °/s runs came out a median 9.7 % short with that
        turn bounded by each run's tangents and put where the stride's mismatch is corrected, 1.8 % now. Real
        recordings clipped at 400 °/s (below the 525 °/s where their own gyroscope flattens): a median 1.5 %
        off their distance as recorded then, 1.0 % now. A module that calibrates its output clips
        softly, its plateau wobbling with the other axes (:func:`~soleware.gait._signal.soft_clipped_runs`: a
        plateau of 15 ms and more, at least 2 samples, judged against 10 ms of samples on either side; with the
        range known, only one near it): the plateau and its edges within 5 % of its top are rebuilt as a flat
        top is, and the turn it lacks, bounded by the tangents at the plateau's edges, is given back from the
        stride's tilt mismatch (:class:`~soleware.gait.navigation.StrideIntegration`; a few samples of such a
        plateau at one value are part of it, not a flat top). Left as recorded, a calibrated ±500 °/s module made
        a 4 m/s run 3.7 % short in the simulator (0.4 % now), 9.9 % with a 3-sample output filter (2.0 %); the VICON
        recordings' own 525 °/s plateaus made their mixed trials up to 2.3 % long (1.6 %).
    clip_context_s
        A clipped top (gyroscope or accelerometer) is rebuilt from the samples this long on either side of it
        (:func:`~soleware.gait._signal.repair_saturation`; at least 3): 15 ms is 3 samples at 200 Hz, where the
        repair was checked on real recordings. A count of samples instead shrinks with the rate: at 800 Hz three
        samples span 4 ms, the sides' curvature there is mostly noise, and a sprint whose gyroscope clipped at
        ±1000 °/s came out 10 % short. For the same reason the band under a gyroscope's top whose samples make
        up the plateau (0.5 % at 200 Hz and below) narrows in proportion to the sample period above 200 Hz: a
        signal on its way up to the top crosses it in one 5 ms period, in several samples at 800 Hz, and a
        plateau with those samples around it was left unrepaired as not flat (that sprint: -7 % to -1.4 %). The
        accelerometer's band stays: the stride's velocity gap tops up its rebuilt peaks, and more of them
        rebuilt overshot in the simulator's ±4 g chips. Its tops are held under each side's own trend as the
        gyroscope's are (``capped_by_sides``): a toe cap clips at ±8 g for 100 ms through push-off, and a
        parabola through both sides, carried that far, added up to 6 m/s to a stride's velocity that the gap
        can only add to, never take back (a 5 m/s run came out 10-17 % long).
    chunk_s
        Continuous data longer than this is analysed in chunks of this length, each overlapping the last stride
        of the one before, so memory stays bounded (a marathon needs no more than a chunk does). Strides are
        stitched at stance boundaries; the trajectory keeps its position across a join, its heading may turn.
        Five minutes hold many strides and rests for the detector and the gyroscope bias, and are faster than
        longer chunks (their working set stays in cache).

    Attributes
    ----------
    strides_
        The strides found, in time order.
    summary_
        Totals over the recording.
    trajectory_m_
        ``(n, 4)`` t_s, x, y, z of the sensor in the navigation frame (z up).
    rest_biases_
        Every rest that gave biases, in time order: its start (s) and a (2, 3) sensor-frame array, the gyroscope's
        bias (rad/s) and the accelerometer offset taken off (m/s², see ``acc_offset_deadband_mps2``).
    """

    strides_: list[Stride]
    summary_: RunSummary
    trajectory_m_: np.ndarray
    rest_biases_: list[tuple[float, np.ndarray]]

    def __init__(
        self,
        *,
        stance_detector: AdaptiveStanceDetector | None = None,
        gravity_window_s: float = 0.02,
        up_weight: float = 0.5,
        up_trust_mps2: float = 3.0,
        run_duty_factor: float = 0.5,
        stop_s: float = 3.0,
        pivot_height_m: float = 0.08,
        rest_min_s: float = 1.0,
        rest_bias_s: float = 5.0,
        acc_offset_deadband_mps2: float = 0.03,
        stance_tilt_max_rad: float = 0.6,
        max_moving_s: float = 6.0,
        bridge_max_s: float = 4.0,
        chunk_s: float = 300.0,
        acc_range_mps2: float | None = None,
        gyr_range_rps: float | None = None,
        clip_context_s: float = 0.015,
    ) -> None:
        self.stance_detector = stance_detector
        self.gravity_window_s = gravity_window_s
        self.up_weight = up_weight
        self.up_trust_mps2 = up_trust_mps2
        self.run_duty_factor = run_duty_factor
        self.stop_s = stop_s
        self.pivot_height_m = pivot_height_m
        self.rest_min_s = rest_min_s
        self.rest_bias_s = rest_bias_s
        self.acc_offset_deadband_mps2 = acc_offset_deadband_mps2
        self.stance_tilt_max_rad = stance_tilt_max_rad
        self.max_moving_s = max_moving_s
        self.bridge_max_s = bridge_max_s
        self.chunk_s = chunk_s
        self.acc_range_mps2 = acc_range_mps2
        self.gyr_range_rps = gyr_range_rps
        self.clip_context_s = clip_context_s

    def analyze(self, recording: Recording) -> Self:
        """Analyse every continuous segment of ``recording``: samples holding a NaN, an inf or a value no sensor
        reads are missing ones, and a gap over 0.25 s splits a segment (see
        :func:`~soleware.gait.recording.with_missing_samples_repaired`); a ``sample_rate_hz`` its timestamps do
        not bear out is not used (:func:`~soleware.gait.recording.timestamps_rate_hz`); samples in g or deg/s
        are refused by name unless their units were stated (:func:`~soleware.gait.recording.check_units`)."""
        recording = with_missing_samples_repaired(recording)
        name = recording.name or "recording"
        if not recording.units_stated:
            check_units(recording.t_s, recording.acc_mps2, recording.gyr_rps, name=name)
        strides: list[Stride] = []
        traj: list[np.ndarray] = []
        rests: list[tuple[float, np.ndarray]] = []
        segments = getattr(recording, "segments", None) or [(0, len(recording))]
        biases = RestBiases()  # a chip's bias outlasts a gap in its samples
        for lo, hi in segments:
            s, tr = self._chunked(
                recording.t_s[lo:hi],
                recording.acc_mps2[lo:hi],
                recording.gyr_rps[lo:hi],
                timestamps_rate_hz(recording.t_s[lo:hi], recording.sample_rate_hz),
                acc_range_mps2=self.acc_range_mps2 or getattr(recording, "acc_range_mps2", None),
                gyr_range_rps=self.gyr_range_rps or getattr(recording, "gyr_range_rps", None),
                rests=rests,
                biases=biases,
            )
            drop, joined = across_gap(
                strides[-BRIDGE_CONTEXT - 1 :], [x for x in s if self.is_gait(x)], max_s=self.bridge_max_s
            )
            strides = strides[: len(strides) - drop] + joined
            traj += tr
        self.rest_biases_ = rests
        self.strides_ = strides
        self.trajectory_m_ = np.vstack(traj) if traj else np.zeros((0, 4))
        self.summary_ = summarize(strides, recording.duration_s, stop_s=self.stop_s)
        return self

    def _rest_bias(self, acc: np.ndarray, gyr: np.ndarray) -> np.ndarray:
        """(2, 3) sensor-frame biases a rest shows: the gyroscope's (rad/s; the spatial median of its rate) and the
        accelerometer's along 'up' beyond ``acc_offset_deadband_mps2`` (m/s²; the mean specific force reads
        gravity plus it)."""
        mean = acc.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        excess = norm - GRAVITY_MPS2
        offset = max(abs(excess) - self.acc_offset_deadband_mps2, 0.0) * math.copysign(1.0, excess)
        if abs(excess) > _ACC_OFFSET_MAX_MPS2:
            offset = 0.0
        return np.stack((spatial_median(gyr), mean * (offset / norm if norm > 0 else 0.0)))

    def is_gait(self, stride: Stride) -> bool:
        """Whether ``stride`` is walking or running, not a foot moving for ``max_moving_s`` without a footfall."""
        return stride.moving_s <= self.max_moving_s

    def _chunked(
        self,
        t: np.ndarray,
        acc: np.ndarray,
        gyr: np.ndarray,
        fs: float,
        *,
        acc_range_mps2: float | None = None,
        gyr_range_rps: float | None = None,
        rests: list[tuple[float, np.ndarray]],
        biases: RestBiases,
    ) -> tuple[list[Stride], list[np.ndarray]]:
        """One continuous segment, in chunks of ``chunk_s`` joined at the last stride's end stance; the rests'
        biases are added to ``rests`` (a rest two chunks see, once), and ``biases`` carries them on."""
        strides: list[Stride] = []
        traj: list[np.ndarray] = []
        lo, n = 0, len(t)
        guard_s, context_s = 5.0, 2.0
        while lo < n:
            hi = int(np.searchsorted(t, t[lo] + self.chunk_s))
            last = hi >= n
            if n - hi < samples(2 * guard_s, fs):  # never leave a sliver for a last chunk
                hi, last = n, True
            s, tr = self._segment(
                t[lo:hi],
                acc[lo:hi],
                gyr[lo:hi],
                fs,
                rest_bias=biases.at(t[lo]),
                open_start=lo > 0,
                open_end=not last,
                acc_range_mps2=acc_range_mps2,
                gyr_range_rps=gyr_range_rps,
            )
            biases.update(t[lo], self.rest_biases_)
            rests += [r for r in self.rest_biases_ if not rests or r[0] > rests[-1][0]]
            if strides:
                prev_end = strides[-1].t_end_s
                s = [x for x in s if x.t_start_s >= prev_end - 0.05]
                if s and s[0].t_start_s < prev_end:  # the join stance found a sample or two earlier
                    s[0] = s[0].starting_at(prev_end)
            if not last:
                s = [x for x in s if x.t_end_s <= t[hi - 1] - guard_s and x.t_end_s < self.final_until_s_]
            if s and len(tr):
                t_from = s[0].t_start_s if traj else -np.inf
                t_to = np.inf if last else s[-1].t_end_s
                piece = np.compress((tr[:, 0] >= t_from) & (tr[:, 0] <= t_to), tr, axis=0)  # tr[mask], faster
                if traj and len(piece) and len(traj[-1]):
                    # continue the path where the previous piece ended (the same stance)
                    piece = piece.copy()
                    piece[:, 1:] += traj[-1][-1, 1:] - piece[0, 1:]
                    piece = piece[1:]
                traj.append(piece)
            strides += s
            if last:
                break
            resume = strides[-1].t_end_s - context_s if strides else t[hi - 1] - 2 * guard_s
            nxt = int(np.searchsorted(t, resume))
            lo = nxt if nxt > lo else hi
        return strides, traj

    def _segment(
        self,
        t: np.ndarray,
        acc: np.ndarray,
        gyr: np.ndarray,
        fs: float,
        *,
        rest_bias: np.ndarray | None = None,
        open_start: bool = False,
        open_end: bool = False,
        acc_range_mps2: float | None = None,
        gyr_range_rps: float | None = None,
    ) -> tuple[list[Stride], np.ndarray]:
        """Strides and trajectory of one continuous segment.

        Gyroscope bias drifts, so each sample takes the bias of the latest rest (still for ``rest_min_s`` or more)
        that began at or before it: the spatial median of the angular rate over the rest's first ``rest_bias_s``;
        so does the accelerometer's offset along 'up' (``acc_offset_deadband_mps2``). Before the first rest,
        ``rest_bias`` (the last known, see :meth:`_rest_bias`) or none. A window of a stream thus finds
        the values the whole recording gives: with ``open_start`` data before ``t[0]`` existed (an earlier window
        measured a rest running into the first sample), with ``open_end`` more data follows, and a rest running
        into the last sample that is shorter than ``rest_bias_s`` is not measured yet; strides from its start on
        are not final (``self.final_until_s_``). ``self.rest_biases_`` lists the rests' (start time s, bias);
        ``self.stance_doubt_`` the detector's doubt of each stance the strides join (stride ``i`` ends on ``i + 1``);
        ``self.last_swing_s_`` the time of the last sample of a swing (motion energy of at least the detector's
        ``swing_min_rps``); ``self.start_anchors_`` the stances the first one's 'up' was drawn from where the data
        begins on the move (0 where it begins standing).
        """
        self.rest_biases_: list[tuple[float, np.ndarray]] = []
        self.final_until_s_ = np.inf
        self.stance_doubt_ = np.zeros(0)
        self.last_swing_s_ = -np.inf
        self.start_anchors_ = 0
        if len(t) < samples(2.0, fs):
            return [], np.zeros((0, 4))
        context = samples(self.clip_context_s, fs, minimum=3)
        plateau = 1.0 - _CLIP_BAND * min(1.0, _CLIP_CHECKED_HZ / fs)
        gyr_full_scale = gyr_range_rps or self.gyr_range_rps
        hard = clip_signs(gyr, min_level=GYR_CLIP_MIN_RPS, full_scale=gyr_full_scale)
        repaired = repair_saturation(gyr, capped_by_sides=True, context=context, rel_level=plateau)
        # a module that calibrates its output clips softly: its plateaus wobble with the other axes
        repaired, soft = repair_soft_clips(
            repaired,
            min_level=GYR_CLIP_MIN_RPS,
            context=context,
            min_run=max(2, round(3 * fs / _CLIP_CHECKED_HZ)),
            side=max(2, round(2 * fs / _CLIP_CHECKED_HZ)),
            full_scale=gyr_full_scale,
            found_on=gyr,
            skip=hard,
        )
        # what a clipped run may still lack, against its rebuilt top before any bias is taken off: a soft clip's
        # bounded by the tangents at its edges (a few samples of its plateau at one value are part of it), a hard
        # clip's predicted by its sides and sized at the next stance (below)
        if soft.any():
            hard = _few_flat_samples_to_soft(hard, soft)
            soft = np.where(hard != 0, 0, soft)
        turn_runs, turn_predicted = (
            clipped_run_losses(t, gyr, repaired, hard) if hard.any() else (np.zeros((0, 4), int), np.zeros(0))
        )
        gyr_lost = _turn_lost_bound_rad(t, gyr, repaired, soft) if soft.any() else None
        gyr = repaired
        detector = self.stance_detector or AdaptiveStanceDetector()
        # stillness compares |f| with g: an accelerometer offset along 'up' makes every stance look louder, so the
        # stances are found with the offset known so far taken off, and found again if the rests here show another
        known = None if rest_bias is None or not rest_bias[1].any() else rest_bias[1]
        det = detector.detect(
            acc if known is None else acc - known,
            gyr,
            sample_rate_hz=fs,
            open_start=open_start,
            open_end=open_end,
        )
        swinging = np.flatnonzero(det.energy_rps_ >= det.swing_min_rps)
        if len(swinging):
            self.last_swing_s_ = float(t[swinging[-1]])
        n_rest, n_bias = samples(self.rest_min_s, fs), samples(self.rest_bias_s, fs)
        settle = min(samples(_REST_SETTLE_S, fs), n_rest // 4)
        starts: list[int] = []
        standing = np.zeros(len(t), dtype=bool)
        for a, b in det.still_intervals_.tolist():
            if b - a >= n_rest:
                standing[a:b] = True
            if b - a < n_rest or (open_start and a == 0):
                continue
            if open_end and b == len(t) and b - a < n_bias:
                self.final_until_s_ = float(t[a])
                break
            e = min(b, a + n_bias)
            lo, hi = a + settle, e - settle
            bias = self._rest_bias(acc[lo:hi], gyr[a:e])
            if _turns_while_still(acc[lo:hi], spatial_median(gyr[lo:hi]), fs):
                continue
            starts.append(int(a))
            self.rest_biases_.append((float(t[a]), bias))
        acc_raw, acc_offset = acc, None
        if starts or rest_bias is not None:
            table = np.array(
                [np.zeros((2, 3)) if rest_bias is None else rest_bias] + [b for _, b in self.rest_biases_]
            )
            counts = np.diff([0, *starts, len(t)])
            if table[:, 1].any():
                acc_offset = np.repeat(table[:, 1], counts, axis=0)
                acc = acc - acc_offset
                changed = np.abs(table[1:, 1] - (0.0 if known is None else known)).max(initial=0.0)
                if known is None or changed > _OFFSET_REDETECT_MPS2:
                    det = detector.detect(
                        acc, gyr, sample_rate_hz=fs, open_start=open_start, open_end=open_end
                    )
            gyr = gyr - np.repeat(table[:, 0], counts, axis=0)
        k = det.stance_index_
        if len(k) < 2:
            return [], np.zeros((0, 4))
        hw = samples(self.gravity_window_s, fs)
        # Gravity from the still samples around each stance's quietest instant: a sprint's foot-flat lasts
        # ~25 ms, and the roll-in and roll-off on either side (tens of g at a toe cap) would tilt a wider mean.
        still = det.still_intervals_
        up = _clamped_window_mean(
            acc, k, np.maximum(k - hw, still[:, 0]), np.minimum(k + hw + 1, still[:, 1])
        )
        scan = attitude_scan(t, gyr)
        sizes = np.zeros(len(turn_runs))
        if len(turn_runs):
            # the turn each hard-clipped run lost, as its stride's next stance shows it, given back to its samples
            sizes = clipped_turn_sizes_rad(scan, turn_runs, turn_predicted, k, up)
            gyr = add_clipped_turns(t, gyr, turn_runs, sizes)
            scan = attitude_scan(t, gyr)
        # A quiet instant where the measured 'up' disagrees with the gyroscope from both neighbouring stances
        # is no stance: the foot hangs in the air (the slowing swing before a stop, the first step off a
        # standstill).
        mismatch = anchor_tilt_mismatch_rad(scan, k, up)
        airborne = 1 + np.flatnonzero(
            (mismatch[:-1] > self.stance_tilt_max_rad) & (mismatch[1:] > self.stance_tilt_max_rad)
        )
        if len(airborne):
            airborne = airborne[
                ~tilt_agrees_near(scan, acc, k, up, airborne, half=hw, max_rad=self.stance_tilt_max_rad)
            ]
        self.stance_doubt_ = det.stance_doubt_
        if len(airborne):
            k, up = np.delete(k, airborne), np.delete(up, airborne, axis=0)
            self.stance_doubt_ = np.delete(self.stance_doubt_, airborne)
        run_stride = stride_of_runs(turn_runs, k)
        inside = run_stride >= 0
        turn_given = np.bincount(run_stride[inside], weights=sizes[inside], minlength=len(k) - 1)
        # A quiet instant whose specific force is off gravity's size still accelerates: its 'up' is trusted less.
        # A stance without an 'up' (NaN) gets the plain weight; blended_up keeps such a row as it is.
        off_g = np.nan_to_num((quat.norm(up) - GRAVITY_MPS2) / self.up_trust_mps2)
        weight = self.up_weight / (1.0 + off_g * off_g)
        if not standing[k[0]]:
            # data that begins on the move (after a gap, a stream joined mid-run): the first stance is as often
            # the tail of one (the foot rolling off) and has no stance before it to be averaged with, so the mean
            # starts from the stances after it, carried back to it
            m = self.start_anchors_ = min(len(k), UP_START_ANCHORS)
            back = weight[:m][::-1].copy()
            back[-1] = _UP_START_OWN_WEIGHT
            up = up.copy()
            up[0] = blended_up(scan, k[:m][::-1], up[:m][::-1], weight=back)[-1]
        up = blended_up(scan, k, up, weight=weight)
        # The foot rolls over the ground even at its stillest instant: the sensor, pivot_height_m above the
        # rolling contact, moves at ω × r there rather than standing still.
        w_level = quat.rotate(tilt_quaternion(up), window_mean(gyr, k, hw))
        v_anchor = np.cross(w_level, [0.0, 0.0, self.pivot_height_m])
        # An accelerometer clipped at its range lost the peaks of its impacts: their tops are reconstructed, and
        # what the stride's end velocity says is still missing is given back to them (StrideIntegration).
        clipped = clip_signs(
            acc_raw, min_level=ACC_CLIP_MIN_MPS2, full_scale=acc_range_mps2 or self.acc_range_mps2
        )
        acc_nav = acc
        if clipped.any():  # the clipped level is the chip's range: repaired before the offset is taken off
            acc_nav = repair_saturation(acc_raw, context=context, capped_by_sides=True)
            acc_nav = acc_nav if acc_offset is None else acc_nav - acc_offset
        nav = StrideIntegration(gravity_window_s=self.gravity_window_s).integrate(
            t,
            acc_nav,
            gyr,
            starts=k[:-1],
            ends=k[1:],
            start_up=up[:-1],
            end_up=up[1:],
            start_velocity_mps=v_anchor[:-1],
            end_velocity_mps=v_anchor[1:],
            moving=~det.per_sample_still_,
            standing=standing,
            scan=scan,
            clipped=clipped if clipped.any() else None,
            gyr_clipped=soft if gyr_lost is not None else None,
            gyr_lost_rad=gyr_lost,
        )
        length = np.linalg.norm(nav.displacement_m_[:, :2], axis=1)
        left = _lateral_axis(gyr, up, nav)
        ev = ContactEventDetection().detect(acc, gyr, sample_rate_hz=fs, stance_index=k, lateral_axis=left)
        ic_all, tc_all = ev.initial_contact_, ev.terminal_contact_
        t_ic, t_tc = _times_at(t, ic_all), _times_at(t, tc_all)
        acc_mag = moving_average(quat.norm(acc), 1)
        moved_s = np.concatenate(([0.0], np.cumsum(np.diff(t, append=t[-1]) * ~standing)))
        moving_s = moved_s[k[1:]] - moved_s[k[:-1]]
        rest_at_start, rest_at_end = _rest_ends_s(t, standing, k)
        strides = []
        bounds = np.searchsorted(nav.stride_of_sample_, np.arange(len(k)))
        angles = _strike_angles_deg(
            nav.attitude_, nav.sample_index_, bounds, ic_all[1:], np.cross(left, up[1:]), scan
        )
        impact = _impacts_mps2(acc_mag, k, ic_all[1:], fs)
        t_k, t_ic, t_tc = t[k].tolist(), t_ic.tolist(), t_tc.tolist()
        columns = (
            length.tolist(),
            angles.tolist(),
            impact.tolist(),
            moving_s.tolist(),
            nav.clip_recovered_mps_.tolist(),
            (nav.clip_turn_recovered_rad_ + turn_given).tolist(),
            rest_at_start.tolist(),
            rest_at_end.tolist(),
        )
        for i, (length_m, ang, impact_mps2, moved, recovered, turn_recovered, rest0, rest1) in enumerate(
            zip(*columns, strict=True)
        ):
            dur = t_k[i + 1] - t_k[i]
            # Contact of the stance this stride starts from: its initial to its terminal contact. The gait cycle
            # runs from that initial contact to the next (contact and swing): a stride into a stop ends in a
            # rest, and its anchor there says nothing of how long the foot flew. A rest is no contact of a stride.
            contact = t_tc[i] - t_ic[i] if rest0 == 0.0 else math.nan
            swing = t_ic[i + 1] - t_tc[i]
            cycle = t_ic[i + 1] - t_ic[i] if math.isfinite(t_ic[i + 1]) else dur
            gait = (
                Gait.RUN if math.isfinite(contact) and contact < self.run_duty_factor * cycle else Gait.WALK
            )
            # A rest the stride starts or ends in is a pause, not part of a step: speed is over the foot's motion,
            # cadence over its gait cycle, contact to contact into a rest and lift to lift out of one, and no
            # shorter than the shortest stride the detector finds (the motion alone of a foot settling into a rest
            # lasts a quarter of a second: 500 "steps/min").
            on_foot = dur - rest0 - rest1 if dur - rest0 - rest1 > 0 else dur
            period = dur
            if rest0 or rest1:
                if rest0 and rest1:  # one step between two rests: no cycle to measure
                    gait_cycle = math.nan
                elif rest0:
                    gait_cycle = t_tc[i + 1] - t_tc[i]
                else:
                    gait_cycle = t_ic[i + 1] - t_ic[i]
                period = gait_cycle if math.isfinite(gait_cycle) and gait_cycle > 0 else on_foot
                period = max(period, getattr(detector, "min_stride_s", _MIN_STRIDE_S))
            strides.append(
                Stride(
                    t_start_s=t_k[i],
                    t_end_s=t_k[i + 1],
                    length_m=length_m,
                    speed_mps=length_m / on_foot if on_foot > 0 else 0.0,
                    cadence_spm=120.0 / period if period > 0 else 0.0,
                    contact_time_s=contact,
                    flight_time_s=max(0.0, 0.5 * cycle - contact) if gait is Gait.RUN else 0.0,
                    strike_angle_deg=ang,
                    strike_type=strike_type(ang),
                    impact_mps2=impact_mps2,
                    gait=gait,
                    swing_time_s=swing,
                    t_initial_contact_s=t_ic[i + 1],
                    moving_s=moved,
                    clip_recovered_mps=recovered,
                    clip_turn_recovered_rad=turn_recovered,
                    rest_at_start_s=rest0,
                    rest_at_end_s=rest1,
                )
            )
        traj = np.column_stack((t[nav.sample_index_], nav.position_m_))
        return strides, traj


#: the shortest stride of one foot (s) where a detector states none: a sprint at 240 steps/min
_MIN_STRIDE_S = 0.5
#: a rest's first and last this many seconds (at most a quarter of ``rest_min_s``) give no accelerometer offset
#: and are not judged by ``_turns_while_still``: the foot still settles from its landing or already lifts (±0.05 m/s²
#: on the accelerometer in the VICON recordings, ±0.02 m/s² between rests without them; a lift tilts 'up' as a
#: gyroscope bias would). The gyroscope's bias, a spatial median, keeps the whole window.
_REST_SETTLE_S = 0.2
#: stances are found again where a rest's accelerometer offset differs from the one they were found with by more
#: than this (m/s²): 0.01 m/s² moves the stillness energy by 0.001 rad/s, far below a stance's quiet level
_OFFSET_REDETECT_MPS2 = 0.01
#: a rest reading more than this (m/s²) off gravity shows no chip's offset (consumer parts: ±20 mg typical, up to
#: ±80 mg in older ones) but an accelerating lift or vehicle
_ACC_OFFSET_MAX_MPS2 = 1.0


class RestBiases:
    """Biases measured at rests (:meth:`GaitAnalysis._rest_bias`), by the time (s) each rest began: what the next
    window starts from.

    Only the latest rest before a window is kept, so the history stays bounded however long the recording.
    """

    def __init__(self) -> None:
        self._items: list[tuple[float, np.ndarray]] = []

    def at(self, t_s: float) -> np.ndarray | None:
        """Bias in force at ``t_s`` (of the latest rest begun by then), or None before any rest."""
        before = [b for t0, b in self._items if t0 <= t_s]
        return before[-1] if before else None

    def update(self, window_start_s: float, found: list[tuple[float, np.ndarray]]) -> None:
        """Replace what a window starting at ``window_start_s`` saw again by what it ``found``."""
        self._items = [x for x in self._items if x[0] <= window_start_s][-1:] + list(found)


def _turns_while_still(
    acc: np.ndarray,
    rate_rps: np.ndarray,
    fs: float,
    *,
    edge_s: float = 0.2,
    min_turn_rad: float = math.radians(1.0),
    confirm: float = 0.5,
) -> bool:
    """Whether a "rest" turns the foot: its angular rate ``rate_rps`` (the spatial median) is motion, not the
    gyroscope's bias.

    A foot at rest keeps its accelerometer's 'up' while a bias, integrated over the rest, would tilt it. A slow
    shuffle's foot is quiet enough to look still, yet turns steadily: taking that turn as the bias spoils every
    stride that follows. The turn about 'up' is invisible to the accelerometer, so only the rate across 'up' is
    judged: over the interval ``acc`` (between the means of its first and last ``edge_s``) it predicts a tilt;
    where that is at least ``min_turn_rad`` and the accelerometer's 'up' turned by at least ``confirm`` of it, the
    interval is no rest to take a bias from. A real bias (cheap chips: up to a few °/s) leaves 'up' in place.
    """
    n = samples(edge_s, fs)
    if len(acc) < 2 * n:
        return False
    first, last = acc[:n].mean(axis=0), acc[-n:].mean(axis=0)
    first_norm, last_norm = float(np.linalg.norm(first)), float(np.linalg.norm(last))
    if first_norm == 0.0 or last_norm == 0.0:
        return False
    up = first / first_norm
    across = rate_rps - float(rate_rps @ up) * up
    predicted_rad = float(np.linalg.norm(across)) * (len(acc) - n) / fs
    if predicted_rad < min_turn_rad:
        return False
    seen_rad = math.acos(min(1.0, max(-1.0, float(first @ last) / (first_norm * last_norm))))
    return seen_rad >= confirm * predicted_rad


def _rest_ends_s(t: np.ndarray, standing: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per stride between anchors ``k[i]`` and ``k[i + 1]``: the seconds from its start anchor to the end of the
    rest (``standing``) it lies in, and from the start of the rest its end anchor lies in to that anchor (0 where
    an anchor is no rest)."""
    dur = t[k[1:]] - t[k[:-1]]
    start, end = np.zeros(len(dur)), np.zeros(len(dur))
    rests = runs_of_true(standing)
    if not len(rests) or not len(dur):
        return start, end
    j = np.searchsorted(rests[:, 0], k, side="right") - 1
    inside = (j >= 0) & (rests[np.maximum(j, 0), 1] > k)
    lift = t[np.minimum(rests[np.maximum(j, 0), 1], len(t) - 1)]
    land = t[rests[np.maximum(j, 0), 0]]
    start = np.where(inside[:-1], np.clip(lift[:-1] - t[k[:-1]], 0.0, dur), 0.0)
    end = np.where(inside[1:], np.clip(t[k[1:]] - land[1:], 0.0, dur - start), 0.0)
    return start, end


def _clamped_window_mean(x: np.ndarray, index: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Mean of the rows ``x[lo:hi]`` per index (the row at ``index`` alone where that range is empty)."""
    csum = np.vstack((np.zeros((1,) + x.shape[1:]), np.cumsum(x, axis=0)))
    empty = hi <= lo
    lo = np.where(empty, index, lo)
    hi = np.where(empty, index + 1, hi)
    return (csum[hi] - csum[lo]) / (hi - lo)[:, None]


def _impacts_mps2(acc_mag: np.ndarray, k: np.ndarray, ic: np.ndarray, fs: float) -> np.ndarray:
    """Per stride ``k[i]..k[i + 1]``, the peak specific force of its landing: over the 50 ms from its initial
    contact ``ic[i]`` (fractional sample) where that lies inside the stride, else over its last 0.3 s."""
    a, b = k[:-1], k[1:]
    inside = np.isfinite(ic) & (a < ic) & (ic < b)
    j0 = np.where(inside, ic, a).astype(int)
    lo = np.where(inside, j0, np.maximum(a, b - samples(0.3, fs)))
    hi = np.where(inside, np.minimum(b, j0 + samples(0.05, fs)) + 1, b)
    return range_max(acc_mag, lo, hi)


def _few_flat_samples_to_soft(hard: np.ndarray, soft: np.ndarray) -> np.ndarray:
    """``hard`` (clip signs per sample and axis) without the samples of each soft-clipped run (``soft``) that is
    less than half hard: a few samples of a soft plateau at one value (its quantised top met a few times) are
    part of it, not a hard clip of their own."""
    out = hard.copy()
    for col in range(hard.shape[1]):
        for a, b in runs_of_true(soft[:, col] != 0).tolist():
            if 0 < np.count_nonzero(hard[a:b, col]) < 0.5 * (b - a):
                out[a:b, col] = 0
    return out


def _turn_lost_bound_rad(
    t: np.ndarray, raw: np.ndarray, repaired: np.ndarray, signs: np.ndarray
) -> np.ndarray:
    """Per clipped run of the gyroscope (``signs``, +1 / -1 per sample and axis: the pipeline passes a calibrated
    module's soft clips), the most turn (rad) it may have lost beyond what the repair gave back (``repaired``),
    spread over the run's samples.

    A peak is concave at its top, so it lies under its tangents where it crosses the clip level. The crossing is
    taken halfway between the last sample under the level and the first at it, the tangent's slope as that from
    the one to the level there, on either side; the triangle the two lines span over the run is the most turn
    it is taken to have lost. A run at either end of the data gets no bound."""
    out = np.zeros(raw.shape)
    n = len(raw)
    for ax in range(raw.shape[1]):
        for sign in (1, -1):
            for a, b in runs_of_true(signs[:, ax] == sign).tolist():
                if a == 0 or b == n:
                    continue
                level = sign * raw[a, ax]
                rise = (level - sign * raw[a - 1, ax]) / (0.5 * (t[a] - t[a - 1]))
                fall = (level - sign * raw[b, ax]) / (0.5 * (t[b] - t[b - 1]))
                width = 0.5 * (t[b] + t[b - 1] - t[a] - t[a - 1])
                if rise <= 0 or fall <= 0:
                    continue
                apex = width * rise * fall / (rise + fall)
                given = float(np.sum(sign * (repaired[a:b, ax] - raw[a:b, ax]) * np.diff(t[a - 1 : b])))
                out[a:b, ax] = sign * max(0.5 * apex * width - given, 0.0) / (b - a)
    return out


def _times_at(t: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Times (s) at fractional samples ``x`` (NaN stays NaN)."""
    x = np.asarray(x, float)
    i = np.clip(np.floor(np.nan_to_num(x)), 0, len(t) - 2).astype(int)
    return t[i] + (x - i) * (t[i + 1] - t[i])


def _lateral_axis(gyr: np.ndarray, up: np.ndarray, nav: StrideIntegration) -> np.ndarray:
    """Sensor-frame axis to the foot's left: the pitch axis, signed so that its forward partner points along travel.

    Forward is left × up; at each stride's end anchor it is compared with the stride's displacement, weighted by
    the stride's length, so walking forward decides the sign.
    """
    up_flat = spatial_median(up / np.linalg.norm(up, axis=1, keepdims=True))
    left = sagittal_axis(gyr, up_flat)
    ends = np.searchsorted(nav.stride_of_sample_, np.arange(1, len(nav.displacement_m_) + 1)) - 1
    if len(ends):
        fwd_nav = quat.rotate(nav.attitude_[ends], np.broadcast_to(np.cross(left, up_flat), (len(ends), 3)))
        if float(np.sum(fwd_nav[:, :2] * nav.displacement_m_[:, :2])) < 0:
            left = -left
    return left


def _strike_angles_deg(
    att: np.ndarray,
    sample_index: np.ndarray,
    bounds: np.ndarray,
    ic: np.ndarray,
    fwd_sensor: np.ndarray,
    scan: np.ndarray,
) -> np.ndarray:
    """Foot pitch at each stride's initial contact relative to the foot-flat at its end (deg, + toe up).

    Stride ``i`` holds the navigation samples ``bounds[i]:bounds[i + 1]``; its pitch is the elevation of the
    foot's forward axis (``fwd_sensor[i]``, sensor frame, horizontal at the end anchor) in the navigation
    frame, interpolated to the fractional sample ``ic[i]``. The attitude at the contact is the end anchor's
    carried back by the gyroscope alone (``scan``, :func:`attitude_scan`): over the landing that relative
    rotation is exact, and a tilt correction made where the foot comes to rest does not enter the angle. NaN
    where the contact lies outside the stride.
    """
    lo, hi = bounds[:-1], bounds[1:]
    ok = (hi - lo >= 2) & np.isfinite(ic)
    lo, hi = np.where(ok, lo, 0), np.where(ok, hi, 2)
    first, last = sample_index[lo], sample_index[hi - 1]
    ok &= (ic >= first) & (ic <= last)
    x = np.where(ok, ic, first) - first
    j = np.minimum(x.astype(int), hi - lo - 2)
    w = x - j
    f = fwd_sensor / np.linalg.norm(fwd_sensor, axis=1, keepdims=True)
    end_att = att[hi - 1]
    to_end = quat.conjugate(scan[last])

    def pitch(samples_at: np.ndarray) -> np.ndarray:
        f_end = quat.rotate(quat.multiply(to_end, scan[samples_at]), f)
        return np.degrees(np.arcsin(np.clip(quat.rotate(end_att, f_end)[:, 2], -1.0, 1.0)))

    out = (1.0 - w) * pitch(first + j) + w * pitch(first + j + 1) - pitch(last)
    out[~ok] = np.nan
    return out


#: strides on either side of a gap whose pace and duration its bridge takes
BRIDGE_CONTEXT = 3
#: stances whose 'up' the first one's starts from, where the data begins on the move (a stream waits for them)
UP_START_ANCHORS = 4
#: the first stance's own weight in that mean
_UP_START_OWN_WEIGHT = 1e-3


def across_gap(
    before: list[Stride], after: list[Stride], *, max_s: float, last_settled: bool = False
) -> tuple[int, list[Stride]]:
    """The strides of a foot on either side of samples lost (a gap that split the recording) joined by the strides
    not seen (:func:`bridged`): how many of ``before``'s last to leave out (0 or 1), and what follows them.

    The stances next to a gap are as often the tail of one (the foot rolling off) or a lull in a swing as whole
    stances, and the strides from and to them measure little of their way: where the strides beyond them lie
    within ``max_s`` of each other, the bridge reaches those instead (``last_settled``: ``before``'s last is
    given already and stays). Its pace is that of the ``BRIDGE_CONTEXT`` strides on either side. Nothing is
    bridged when the foot stood at either side: the runner may have stopped."""
    if not before or not after or after[0].rest_at_start_s or before[-1].rest_at_end_s:
        return 0, after
    for drop in (0,) if last_settled else (1, 0):
        for skip in (1, 0):
            if len(before) > drop and len(after) > skip:
                kept = before[: len(before) - drop]
                bridge = bridged(kept[-BRIDGE_CONTEXT:], after[skip : skip + BRIDGE_CONTEXT], max_s=max_s)
                if bridge:
                    return drop, bridge + after[skip:]
    return 0, after


def bridged(before: list[Stride], after: list[Stride], *, max_s: float) -> list[Stride]:
    """Strides from the end of ``before``'s last to the start of ``after``'s first, where samples were lost: at the
    mean of the pace going into the gap and coming out of it (each the median speed of the strides given on that
    side, so one stride from a lull counts little), as many as the strides' median duration fits in; none when the
    foot stood at either side (a rest) or they lie more than ``max_s`` apart. Marked ``bridged``: only length,
    speed and cadence are known."""
    span_s = after[0].t_start_s - before[-1].t_end_s
    speed_mps = 0.5 * float(
        np.median([s.speed_mps for s in before]) + np.median([s.speed_mps for s in after])
    )
    if (
        not (0.0 < span_s <= max_s)
        or before[-1].rest_at_end_s
        or after[0].rest_at_start_s
        or not speed_mps > 0.0
    ):
        return []
    k = max(1, round(span_s / float(np.median([s.duration_s for s in (*before, *after)]))))
    d_s = span_s / k
    nan = float("nan")
    return [
        Stride(
            t_start_s=before[-1].t_end_s + i * d_s,
            t_end_s=before[-1].t_end_s + (i + 1) * d_s,
            length_m=speed_mps * d_s,
            speed_mps=speed_mps,
            cadence_spm=120.0 / d_s,
            contact_time_s=nan,
            flight_time_s=nan,
            strike_angle_deg=nan,
            strike_type=None,
            impact_mps2=nan,
            gait=after[0].gait,
            moving_s=d_s,
            bridged=True,
        )
        for i in range(k)
    ]


def summarize(strides: list[Stride], duration_s: float, *, stop_s: float = 3.0) -> RunSummary:
    """Distance, moving time, pace, cadence, per-km splits and stops from a list of strides.

    A rest a stride starts or ends in (:meth:`Stride.without_rests`) is no moving time: a traffic light is a stop.
    """
    if not strides:
        return RunSummary(0.0, duration_s, 0.0, 0, 0.0, None, None, [], [])
    length = np.array([s.length_m for s in strides])
    t0 = np.array([s.t_moving_start_s for s in strides])
    t1 = np.array([s.t_moving_end_s for s in strides])
    dist = float(length.sum())
    moving = float(np.sum(t1 - t0))
    stops = [(float(a), float(b)) for a, b in zip(t1[:-1], t0[1:], strict=True) if b - a > stop_s]
    # each full km's moving time (a stop inside one is not in it, as in the run service's splits)
    marks_s = np.interp(
        1000.0 * np.arange(1, int(dist // 1000) + 1),
        np.r_[0.0, np.cumsum(length)],
        np.r_[0.0, np.cumsum(t1 - t0)],
    )
    splits = np.diff(np.r_[0.0, marks_s]).tolist()
    speeds = length / np.maximum(t1 - t0, 1e-9)
    best = float(np.max(moving_average(speeds, min(len(speeds), 10))))
    return RunSummary(
        distance_m=dist,
        duration_s=duration_s,
        moving_time_s=moving,
        steps=len(strides),
        cadence_spm=120.0 * len(strides) / moving if moving > 0 else 0.0,
        avg_pace_s_per_km=1000.0 * moving / dist if dist > 0 else None,
        best_pace_s_per_km=1000.0 / best if best > 0 else None,
        splits_s=splits,
        stops=stops,
    )
