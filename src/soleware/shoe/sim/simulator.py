"""The virtual shoe: a workout plan in, the IMU recordings of both soles (with their ground truth) out."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Self

import numpy as np

from soleware.gait.recording import GroundTruth, Recording
from soleware.shoe.sim import _poly
from soleware.shoe.sim.foot import PLACEMENTS, Runner, Stances, foot_model, footfalls, steer
from soleware.shoe.sim.imu import SensorModel
from soleware.shoe.sim.plan import Plan, SpeedProfile, parse_plan

__all__ = ["ShoeSimulator", "mounting_rotation", "simulate"]

SIDES = ("left", "right")
_MIRROR = np.diag([1.0, -1.0, 1.0])
#: samples evaluated at once (bounds memory for long runs)
_CHUNK = 100_000

STRIDE_DEFINITION = (
    "A stride runs from the middle of one foot-flat of this foot to the middle of the next (where the engine "
    "anchors its strides); length_m is the horizontal distance between the sensor's positions at the two "
    "foot-flats. contact_time_s, flight_time_s and toe_off_angle_deg belong to the stance the stride starts "
    "from (flight: from this foot's toe-off to the other foot's touchdown, 0 when walking); strike_angle_deg "
    "(pitch at touchdown relative to foot-flat, + toe up), strike_type and t_contact_s to the stance it ends in."
)


def mounting_rotation(roll_deg: float, pitch_deg: float, yaw_deg: float) -> np.ndarray:
    """Sensor-to-foot rotation of a chip turned by these angles (Rz(yaw) Ry(pitch) Rx(roll))."""
    r = np.radians([roll_deg, pitch_deg, yaw_deg])
    return _poly.euler_zyx(np.array(r[2]), np.array(r[1]), np.array(r[0]))


class ShoeSimulator:
    """Simulate both soles of one runner following a workout plan.

    Parameters
    ----------
    runner
        Gait and foot of the runner (:class:`Runner` defaults: a rearfoot striker).
    sensor
        Error model of the sole's IMU; :meth:`SensorModel.perfect` gives the true signals.
    sample_rate_hz
        Output rate of the IMU.
    oversample
        True signals are averaged over this many instants per sample period (the IMU's decimation filter), so
        an integrated sample is the true velocity change over its period.
    mounting_deg
        (roll, pitch, yaw) of the right sole's chip relative to the foot, in degrees; the left one is its mirror
        image. ``None`` draws each angle from a normal distribution of ``mounting_sd_deg``.
    mounting_sd_deg
        Spread of a drawn mounting.
    placement
        Where the chip sits: a key of :data:`~soleware.shoe.sim.foot.PLACEMENTS` (sole, heel, instep, toe); None
        keeps the runner's ``sensor_in_foot_m`` (the sole by default).
    travel_deg, turn_deg_per_m
        Direction of travel relative to where the feet point (0 forward, 180 backward, ±90 side steps) and the
        path's curvature (deg per metre, + left); see :func:`~soleware.shoe.sim.foot.steer`.
    rest_s
        Standing still before the plan starts and after it ends (a watch is started and stopped standing).
    seed
        Everything random (strides, mounting, sensor errors) follows from it.

    Attributes
    ----------
    recordings_
        ``{"left": Recording, "right": Recording}`` with ground truth.
    stances_
        Stances of each foot (:class:`Stances`).
    profile_
        The target speed over time.
    mounting_
        Sensor-to-foot rotation of each side.
    """

    recordings_: dict[str, Recording]
    stances_: dict[str, Stances]
    profile_: SpeedProfile
    mounting_: dict[str, np.ndarray]

    def __init__(
        self,
        *,
        runner: Runner | None = None,
        sensor: SensorModel | None = None,
        sample_rate_hz: float = 200.0,
        oversample: int = 2,
        mounting_deg: tuple[float, float, float] | None = None,
        mounting_sd_deg: float = 2.0,
        placement: str | None = None,
        travel_deg: float = 0.0,
        turn_deg_per_m: float = 0.0,
        rest_s: float = 3.0,
        seed: int = 0,
    ) -> None:
        self.runner = runner
        self.sensor = sensor
        self.sample_rate_hz = sample_rate_hz
        self.oversample = oversample
        self.mounting_deg = mounting_deg
        self.mounting_sd_deg = mounting_sd_deg
        self.placement = placement
        self.travel_deg = travel_deg
        self.turn_deg_per_m = turn_deg_per_m
        self.rest_s = rest_s
        self.seed = seed

    def simulate(self, plan: str | Plan, *, sides: tuple[str, ...] = SIDES) -> Self:
        """Run the plan; fill ``recordings_`` for the requested ``sides``."""
        if isinstance(plan, str):
            plan = parse_plan(plan)
        if self.sample_rate_hz <= 0 or self.oversample < 1:
            raise ValueError("`sample_rate_hz` must be positive and `oversample` at least 1")
        unknown = [s for s in sides if s not in SIDES]
        if unknown:
            raise ValueError(f"sides must be among {SIDES}, not {unknown}")
        runner = self.runner or Runner()
        if self.placement is not None:
            if self.placement not in PLACEMENTS:
                raise ValueError(f"placement must be one of {', '.join(PLACEMENTS)}, not {self.placement!r}")
            runner = dataclasses.replace(runner, sensor_in_foot_m=PLACEMENTS[self.placement])
        sensor = self.sensor or SensorModel()
        ss = np.random.SeedSequence(self.seed)
        gait_ss, mount_ss, left_ss, right_ss = ss.spawn(4)
        self.profile_ = SpeedProfile.from_plan(plan, lead_s=self.rest_s, tail_s=self.rest_s)
        self.stances_ = {
            side: steer(st, travel_deg=self.travel_deg, turn_deg_per_m=self.turn_deg_per_m)
            for side, st in footfalls(self.profile_, runner, np.random.default_rng(gait_ss)).items()
        }
        angles = (
            np.random.default_rng(mount_ss).normal(0.0, self.mounting_sd_deg, 3)
            if self.mounting_deg is None
            else np.asarray(self.mounting_deg, dtype=float)
        )
        right = mounting_rotation(*angles)
        self.mounting_ = {"right": right, "left": _MIRROR @ right @ _MIRROR}
        mount_angles = {"right": angles, "left": angles * np.array([-1.0, 1.0, -1.0])}
        self.recordings_ = {}
        sensor_ss = {"left": left_ss, "right": right_ss}
        for side in sides:
            rng = np.random.default_rng(sensor_ss[side])
            self.recordings_[side] = self._one_side(
                plan, side, runner, sensor, rng, self.mounting_[side], mount_angles[side]
            )
        return self

    def _one_side(
        self,
        plan: Plan,
        side: str,
        runner: Runner,
        sensor: SensorModel,
        rng: np.random.Generator,
        mounting: np.ndarray,
        mount_angles: np.ndarray,
    ) -> Recording:
        fs = self.sample_rate_hz
        duration = self.profile_.duration_s
        n = int(math.floor(duration * fs)) + 1
        t = sensor.sample_times(n, fs, rng)
        st = self.stances_[side]
        acc, gyr, pos = _true_signals(st, runner, t, fs, self.oversample, mounting)
        out = sensor.apply(t, acc, gyr, fs, rng)
        other = self.stances_["right" if side == "left" else "left"]
        strides = _ground_truth_strides(st, other, runner, duration)
        gaits = {d["gait"] for d in strides}
        activity = (
            "run" if gaits == {"run"} else "walk" if gaits == {"walk"} else "mixed" if gaits else "other"
        )
        gt = GroundTruth(
            distance_m=float(sum(d["length_m"] for d in strides)),
            distance_source="simulated: sum of footfall-to-footfall distances of the sensor",
            steps=len(strides),
            strides=np.array([[d["t_start_s"], d["t_end_s"], d["length_m"]] for d in strides]).reshape(-1, 3),
            trajectory=np.column_stack([out.t_s, pos[out.kept]]),
            extra={
                "stride_definition": STRIDE_DEFINITION,
                "mounting_deg": [float(a) for a in mount_angles],
                "plan": plan.text,
                "travel_deg": self.travel_deg,
                "turn_deg_per_m": self.turn_deg_per_m,
            },
            stride_details=strides,
        )
        return Recording(
            t_s=out.t_s,
            acc_mps2=out.acc_mps2,
            gyr_rps=out.gyr_rps,
            sample_rate_hz=fs,
            acc_range_mps2=_stated_range(sensor.acc_range_mps2) if sensor.clip else None,
            gyr_range_rps=_stated_range(sensor.gyr_range_rps) if sensor.clip else None,
            placement=self.placement or "sole",
            side=side,
            activity=activity,
            ground_truth=gt,
            source={
                "dataset": "soleware.shoe.sim",
                "seed": self.seed,
                "plan": plan.text,
                "runner": _json_safe(dataclasses.asdict(runner)),
                "sensor": _json_safe(dataclasses.asdict(sensor)),
                "oversample": self.oversample,
            },
            notes=(
                "Simulated sole IMU (x forward, y left, z up when the foot stands flat, before the mounting "
                f"rotation). {int((~out.kept).sum())} samples dropped, {int(out.clipped.sum())} clipped."
            ),
            name=f"sim_{side}",
        )


def _stated_range(full_scale: float) -> float | None:
    """A chip's range as its recording states it (none for an ideal sensor that never clips)."""
    return float(full_scale) if np.isfinite(full_scale) else None


def _true_signals(
    st: Stances, runner: Runner, t: np.ndarray, fs: float, oversample: int, mounting: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sensor-frame specific force and angular rate, averaged over each sample period, and the true position."""
    n = len(t)
    acc = np.empty((n, 3))
    gyr = np.empty((n, 3))
    pos = np.empty((n, 3))
    k = oversample
    offsets = ((np.arange(k) + 0.5) / k - 0.5) / fs
    model = foot_model(st, runner)
    for a in range(0, n, _CHUNK):
        b = min(n, a + _CHUNK)
        m = model.evaluate((t[a:b, None] + offsets[None, :]).ravel())
        # foot frame to sensor frame: v_sensor = mounting^T v_foot
        acc[a:b] = m.specific_force_mps2.reshape(b - a, k, 3).mean(axis=1) @ mounting
        gyr[a:b] = m.omega_rps.reshape(b - a, k, 3).mean(axis=1) @ mounting
        pos[a:b] = (
            m.position_m.reshape(b - a, k, 3)[:, k // 2] if k % 2 else model.evaluate(t[a:b]).position_m
        )
    return acc, gyr, pos


def _ground_truth_strides(
    st: Stances, other: Stances, runner: Runner, duration_s: float
) -> list[dict[str, Any]]:
    """Strides of one foot between the middles of consecutive foot-flats inside the recording."""
    lo = np.maximum(st.t_ff, 0.0)
    hi = np.minimum(st.t_ho, duration_s)
    anchor = 0.5 * (lo + hi)
    inside = hi > lo
    sensor = np.array(runner.sensor_in_foot_m)
    flat_xy = st.heel_xy + np.column_stack(
        [
            np.cos(st.yaw) * sensor[0] - np.sin(st.yaw) * sensor[1],
            np.sin(st.yaw) * sensor[0] + np.cos(st.yaw) * sensor[1],
        ]
    )
    strides = []
    for j in range(len(st) - 1):
        if not (inside[j] and inside[j + 1]):
            continue
        length = float(np.hypot(*(flat_xy[j + 1] - flat_xy[j])))
        dur = float(anchor[j + 1] - anchor[j])
        gait = str(st.gait[j + 1])
        contact = float(st.t_to[j] - st.t_td[j])
        later = other.t_td[other.t_td > st.t_to[j]]
        flight = float(max(0.0, later[0] - st.t_to[j])) if len(later) and gait == "run" else 0.0
        walk = gait != "run"
        strides.append(
            {
                "t_start_s": float(anchor[j]),
                "t_end_s": float(anchor[j + 1]),
                "length_m": length,
                "speed_mps": length / dur if dur > 0 else 0.0,
                "gait": gait,
                "contact_time_s": contact,
                "flight_time_s": flight,
                "swing_time_s": float(st.t_td[j + 1] - st.t_to[j]),
                "toe_off_angle_deg": float(np.degrees(st.toe_off[j])),
                "t_contact_s": float(st.t_td[j + 1]),
                "strike_angle_deg": float(np.degrees(st.strike[j + 1])),
                "strike_type": "rearfoot" if walk else runner.strike,
                "standing_start": bool(st.t_ho[j] - st.t_ff[j] > 1.0),
                "standing_end": bool(st.t_ho[j + 1] - st.t_ff[j + 1] > 1.0),
            }
        )
    return strides


def _json_safe(x: Any) -> Any:
    if isinstance(x, dict):
        return {k: _json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_json_safe(v) for v in x]
    if isinstance(x, float | np.floating):
        return float(x) if math.isfinite(x) else None
    return x


def simulate(plan: str | Plan, **params: Any) -> dict[str, Recording]:
    """Both soles' recordings for a plan; ``params`` are those of :class:`ShoeSimulator`."""
    return ShoeSimulator(**params).simulate(plan).recordings_
