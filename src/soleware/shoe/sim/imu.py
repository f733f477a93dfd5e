"""Sensor model of a cheap MEMS IMU in a shoe sole: noise, bias, scale and axis errors, 16-bit output, clipping,
sample-time jitter and dropped samples. Deterministic for a given ``numpy.random.Generator``.
"""

from __future__ import annotations

import dataclasses
from typing import Self

import numpy as np

from soleware.gait.vocabulary import GRAVITY_MPS2

__all__ = ["ImuOutput", "SensorModel"]

_WALK_RATE_HZ = 10.0


@dataclasses.dataclass(frozen=True)
class SensorModel:
    """Error parameters of an accelerometer + gyroscope pair (SI units; 1-sigma values unless said otherwise).

    The defaults are a consumer 6-axis MEMS part (BMI270/LSM6DSO class) after factory trim: white noise from the
    noise densities over the output bandwidth (half the sample rate), a turn-on bias drawn once, a bias random
    walk, per-axis scale-factor errors and small axis misalignments, 16-bit words over the full-scale ranges
    (values beyond them clip), timing jitter of the sampling instants and samples lost in transfer.

    ``factory_calibrated`` makes it a module that calibrates its output (a MicroStrain 3DM-GX5, an Xsens): each
    sensor's raw reading, with the sensor's own cross-axis sensitivity (``raw_cross_axis``, off-diagonal and scale,
    drawn once), clips at the range, and the module's calibration then takes that sensitivity out. What it reports
    is the signal with the residual errors above wherever nothing clipped, but a clipped plateau moves with the
    other axes and never repeats a value (soft clipping). ``output_filter_samples`` > 1 averages each output over
    that many samples, as such a module's output filter does, which rounds the plateau's edges too.
    """

    acc_range_mps2: float = 16.0 * GRAVITY_MPS2
    gyr_range_rps: float = float(np.radians(2000.0))
    bits: int = 16
    acc_noise_density: float = 1.6e-3  # m/s²/√Hz (~160 µg/√Hz)
    gyr_noise_density: float = 1.4e-4  # rad/s/√Hz (~0.008 °/s/√Hz)
    acc_bias_mps2: float = 0.1  # ~10 mg: the datasheets give a zero-g offset of ±20 mg typical
    gyr_bias_rps: float = float(np.radians(0.8))
    acc_bias_walk: float = 2e-4  # m/s² per √s
    gyr_bias_walk: float = 3e-5  # rad/s per √s
    acc_scale_error: float = 0.005
    gyr_scale_error: float = 0.005
    misalignment_rad: float = float(np.radians(0.2))
    time_jitter_s: float = 20e-6
    drop_probability: float = 5e-4
    drop_burst_max: int = 3
    quantize: bool = True
    clip: bool = True
    factory_calibrated: bool = False
    raw_cross_axis: float = 0.02
    output_filter_samples: int = 1

    @classmethod
    def perfect(cls) -> SensorModel:
        """An ideal sensor: no errors, no quantisation, no range limit, no timing errors."""
        return cls(
            acc_range_mps2=np.inf,
            gyr_range_rps=np.inf,
            acc_noise_density=0.0,
            gyr_noise_density=0.0,
            acc_bias_mps2=0.0,
            gyr_bias_rps=0.0,
            acc_bias_walk=0.0,
            gyr_bias_walk=0.0,
            acc_scale_error=0.0,
            gyr_scale_error=0.0,
            misalignment_rad=0.0,
            time_jitter_s=0.0,
            drop_probability=0.0,
            quantize=False,
            clip=False,
        )

    def with_(self, **changes: float | int | bool) -> Self:
        """A copy with some parameters changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    @property
    def acc_lsb_mps2(self) -> float:
        return 2.0 * self.acc_range_mps2 / 2**self.bits

    @property
    def gyr_lsb_rps(self) -> float:
        return 2.0 * self.gyr_range_rps / 2**self.bits

    def sample_times(self, n: int, sample_rate_hz: float, rng: np.random.Generator) -> np.ndarray:
        """The instants the sensor really samples: the nominal grid plus jitter (the first sample at 0)."""
        t = np.arange(n) / sample_rate_hz
        if self.time_jitter_s > 0:
            jit = np.clip(rng.normal(0.0, self.time_jitter_s, n), -0.3 / sample_rate_hz, 0.3 / sample_rate_hz)
            jit[0] = 0.0
            t = t + jit
        return t

    def apply(
        self,
        t_s: np.ndarray,
        specific_force_mps2: np.ndarray,
        angular_rate_rps: np.ndarray,
        sample_rate_hz: float,
        rng: np.random.Generator,
    ) -> ImuOutput:
        """What the sensor reports for true sensor-frame signals sampled at ``t_s``."""
        n = len(t_s)
        acc = self._channel(
            specific_force_mps2,
            rng,
            scale_error=self.acc_scale_error,
            bias=self.acc_bias_mps2,
            bias_walk=self.acc_bias_walk,
            noise=self.acc_noise_density,
            sample_rate_hz=sample_rate_hz,
        )
        gyr = self._channel(
            angular_rate_rps,
            rng,
            scale_error=self.gyr_scale_error,
            bias=self.gyr_bias_rps,
            bias_walk=self.gyr_bias_walk,
            noise=self.gyr_noise_density,
            sample_rate_hz=sample_rate_hz,
        )
        if self.factory_calibrated:
            acc, acc_clip = self._calibrated(acc, self.acc_range_mps2, rng)
            gyr, gyr_clip = self._calibrated(gyr, self.gyr_range_rps, rng)
            acc, _ = self._digitise(acc, np.inf, self.acc_lsb_mps2)
            gyr, _ = self._digitise(gyr, np.inf, self.gyr_lsb_rps)
        else:
            acc, acc_clip = self._digitise(acc, self.acc_range_mps2, self.acc_lsb_mps2)
            gyr, gyr_clip = self._digitise(gyr, self.gyr_range_rps, self.gyr_lsb_rps)
        keep = np.ones(n, dtype=bool)
        if self.drop_probability > 0 and n > 2:
            starts = np.flatnonzero(rng.random(n) < self.drop_probability)
            lengths = rng.integers(1, max(1, self.drop_burst_max) + 1, len(starts))
            for a, k in zip(starts, lengths, strict=True):
                keep[a : a + k] = False
            keep[0] = keep[-1] = True
        return ImuOutput(
            t_s=t_s[keep],
            acc_mps2=acc[keep],
            gyr_rps=gyr[keep],
            kept=keep,
            clipped=(acc_clip | gyr_clip)[keep],
        )

    def _channel(
        self,
        x: np.ndarray,
        rng: np.random.Generator,
        *,
        scale_error: float,
        bias: float,
        bias_walk: float,
        noise: float,
        sample_rate_hz: float,
    ) -> np.ndarray:
        n = len(x)
        m = np.eye(3) + np.diag(rng.normal(0.0, scale_error, 3))
        off = rng.normal(0.0, self.misalignment_rad, (3, 3))
        m += off - np.diag(np.diag(off))
        b = rng.normal(0.0, bias, 3)
        out = x @ m.T + b
        if bias_walk > 0:
            # the walk is drawn at 10 Hz and interpolated: it wanders far slower than that
            n_walk = int(np.ceil(n / sample_rate_hz * _WALK_RATE_HZ)) + 2
            walk = np.vstack(
                [
                    np.zeros(3),
                    np.cumsum(rng.normal(0.0, bias_walk / np.sqrt(_WALK_RATE_HZ), (n_walk - 1, 3)), axis=0),
                ]
            )
            pos = np.arange(n) * (_WALK_RATE_HZ / sample_rate_hz)
            i = pos.astype(int)
            frac = (pos - i)[:, None]
            out += walk[i] * (1.0 - frac) + walk[i + 1] * frac
        if noise > 0:
            out += rng.normal(0.0, noise * np.sqrt(sample_rate_hz / 2.0), (n, 3))
        return out

    def _calibrated(
        self, x: np.ndarray, full_scale: float, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """What a calibrating module reports of ``x``: its raw reading clipped at ``full_scale``, then calibrated
        (and filtered, see the class); with the samples where the raw reading clipped."""
        raw_axes = np.eye(3) + rng.normal(0.0, self.raw_cross_axis, (3, 3))
        raw = x @ raw_axes.T
        clipped = np.zeros(len(x), dtype=bool)
        if self.clip and np.isfinite(full_scale):
            clipped = np.asarray((np.abs(raw) > full_scale).any(axis=1))
            raw = np.clip(raw, -full_scale, full_scale)
        out = raw @ np.linalg.inv(raw_axes).T
        k = self.output_filter_samples
        if k > 1:  # a centred mean, the first and last samples held beyond the ends
            padded = np.pad(out, ((k // 2, (k - 1) // 2), (0, 0)), mode="edge")
            csum = np.vstack((np.zeros((1, 3)), np.cumsum(padded, axis=0)))
            out = (csum[k:] - csum[:-k]) / k
        return out, clipped

    def _digitise(self, x: np.ndarray, full_scale: float, lsb: float) -> tuple[np.ndarray, np.ndarray]:
        clipped = np.zeros(len(x), dtype=bool)
        if self.clip and np.isfinite(full_scale):
            lo, hi = -full_scale, full_scale - lsb
            clipped = np.asarray(((x < lo) | (x > hi)).any(axis=1))
            x = np.clip(x, lo, hi)
        if self.quantize and np.isfinite(lsb):
            x = np.round(x / lsb) * lsb
        return x, clipped


@dataclasses.dataclass
class ImuOutput:
    """Samples a sensor delivered: times, specific force, angular rate; ``kept`` marks the samples not dropped."""

    t_s: np.ndarray
    acc_mps2: np.ndarray
    gyr_rps: np.ndarray
    kept: np.ndarray
    clipped: np.ndarray
