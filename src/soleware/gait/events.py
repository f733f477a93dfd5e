"""Initial and terminal contact of each stance of one foot, from the foot's sagittal angular rate and its jerk.

The stance detector finds each stance's quietest instant; the events around it come from features the
literature uses for foot-mounted IMUs (Rampp et al. 2015; Figueiredo et al. 2018; Herzer 2021, as implemented in
gaitmap):

- the sagittal (pitch) angular rate, + toe up, peaks in mid-swing as the foot swings forward and dorsiflexes;
- terminal contact (toe-off) ends the push-off: after the push-off's fastest plantar flexion (the pitch-rate
  minimum before the swing peak, Figueiredo/Herzer) the foot, free of the ground, starts to dorsiflex; TC is the
  onset of that angular acceleration (it first reaches ``push_off_fraction`` of its peak before the swing peak).
  On the gaitmap example walk this lands 4-8 ms before the motion-capture toe-off; Rampp's later zero crossing
  marks the foot's peak plantar flexion in early swing instead;
- initial contact is the impact: the onset of the jerk (derivative of the specific force vector) between the
  swing peak and the stance, where it first reaches ``impact_fraction`` of its peak (the peak itself often lies
  in the ringing after the impact). The impact is what the sensor feels of touchdown; it comes ~10 ms after the
  marker-based heel strike of the gaitmap example.

The sagittal axis is the sensor-frame axis the foot turns about most (the principal axis of the angular rate),
made horizontal at foot-flat; it does not depend on how the chip is mounted.
"""

from __future__ import annotations

from typing import Self

import numpy as np

from soleware.gait._signal import (
    first_crossing,
    median,
    moving_average,
    range_argmax,
    range_argmin,
    range_max,
    samples,
)

__all__ = ["ContactEventDetection", "sagittal_axis"]


def sagittal_axis(gyr_rps: np.ndarray, up_sensor: np.ndarray) -> np.ndarray:
    """Sensor-frame unit axis of the foot's pitch rotation, perpendicular to ``up_sensor`` (foot-flat 'up').

    The sign is arbitrary; the caller fixes it from the direction of travel.
    """
    w = np.asarray(gyr_rps, float)
    _, vec = np.linalg.eigh(w.T @ w)
    axis = vec[:, -1]
    up = np.asarray(up_sensor, float) / np.linalg.norm(up_sensor)
    axis = axis - axis.dot(up) * up
    return axis / max(float(np.linalg.norm(axis)), 1e-12)


class ContactEventDetection:
    """Initial contact (IC) before and terminal contact (TC) after each stance of one foot.

    Parameters
    ----------
    swing_min_rps
        A swing peak of the pitch rate below this is no swing; the events next to it are not detected.
    jerk_smoothing_s
        Width of the moving average applied to the specific force before it is differentiated.
    impact_fraction
        Initial contact is where the jerk first reaches this fraction of its peak between swing and stance.
    push_off_fraction
        Terminal contact is where, after the push-off's pitch-rate minimum, the pitch acceleration first reaches
        this fraction of its peak before the swing peak.

    Attributes
    ----------
    sagittal_rate_rps_
        Pitch rate of the foot per sample (rad/s, + toe up).
    initial_contact_
        ``(n_stance,)`` fractional sample of the initial contact that begins each stance (NaN where not found).
    terminal_contact_
        ``(n_stance,)`` fractional sample of the terminal contact that ends each stance (NaN where not found).
    swing_peak_index_
        ``(n_stance - 1,)`` sample of the pitch-rate peak of the swing between consecutive stances.
    """

    sagittal_rate_rps_: np.ndarray
    initial_contact_: np.ndarray
    terminal_contact_: np.ndarray
    swing_peak_index_: np.ndarray

    def __init__(
        self,
        *,
        swing_min_rps: float = 1.0,
        jerk_smoothing_s: float = 0.0,
        impact_fraction: float = 0.5,
        push_off_fraction: float = 0.05,
    ) -> None:
        self.swing_min_rps = swing_min_rps
        self.jerk_smoothing_s = jerk_smoothing_s
        self.impact_fraction = impact_fraction
        self.push_off_fraction = push_off_fraction

    def detect(
        self,
        acc_mps2: np.ndarray,
        gyr_rps: np.ndarray,
        *,
        sample_rate_hz: float,
        stance_index: np.ndarray,
        lateral_axis: np.ndarray,
    ) -> Self:
        """Detect the events around ``stance_index`` (quietest samples, increasing).

        ``lateral_axis`` is the sensor-frame unit axis pointing to the foot's left (pitch rate = −ω · left).
        """
        for name in ("impact_fraction", "push_off_fraction"):
            if not 0 < getattr(self, name) < 1:
                raise ValueError(f"`{name}` must be between 0 and 1")
        fs = sample_rate_hz
        k = np.asarray(stance_index, dtype=int)
        n = len(acc_mps2)
        g = -np.asarray(gyr_rps, float) @ np.asarray(lateral_axis, float)
        self.sagittal_rate_rps_ = g
        f = moving_average(acc_mps2, samples(self.jerk_smoothing_s, fs))
        dg = np.gradient(g) * fs
        # |df| as np.linalg.norm sums it, (x² + y²) + z², on the columns: several times faster
        dx, dy, dz = np.gradient(f, axis=0).T
        jerk = np.sqrt((dx * dx + dy * dy) + dz * dz) * fs
        ic = np.full(len(k), np.nan)
        tc = np.full(len(k), np.nan)
        peaks = np.zeros(max(len(k) - 1, 0), dtype=int)
        if len(k):
            # Swings: between consecutive stances, plus one before the first and after the last (if in the data).
            gap = int(median(np.diff(k))) if len(k) > 1 else samples(1.0, fs)
            a = np.r_[max(0, k[0] - gap), k]
            b = np.r_[k, min(n, k[-1] + gap)]
            s = np.flatnonzero(b - a >= 3)
            a, b = a[s], b[s]
            p = a + range_argmax(g, a, b)
            inner = (s > 0) & (s < len(k))
            peaks[s[inner] - 1] = p[inner]
            swing = g[p] >= self.swing_min_rps
            # terminal contact: after the push-off's pitch-rate minimum, before the swing peak
            to = swing & (s > 0) & (p > a)
            j = a[to] + range_argmin(g, a[to], p[to])
            level = self.push_off_fraction * range_max(dg, j, p[to])
            tc[s[to] - 1] = first_crossing(dg, j, p[to], level)
            # initial contact: between the swing peak and the stance
            to = swing & (s < len(k)) & (b > p)
            level = self.impact_fraction * range_max(jerk, p[to], b[to])
            ic[s[to]] = first_crossing(jerk, p[to], b[to], level)
        self.initial_contact_ = ic
        self.terminal_contact_ = tc
        self.swing_peak_index_ = peaks
        return self
