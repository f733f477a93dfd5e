"""Kinematic model of a runner's feet: footfalls from a speed profile, then each foot's smooth 3-D motion.

Frames
------
- world: x along the direction of travel, y to the runner's left, z up; the ground is z = 0.
- foot: origin at the heel's ground contact point when the foot stands flat, x forward along the sole, y left,
  z up. The foot's pose is R = Rz(yaw) Ry(-pitch) Rx(roll) with pitch positive toe-up (dorsiflexion).

Each stance of a foot has four phases: roll-in from touchdown to foot-flat (about the heel for a positive strike
angle, about the ball of the foot for a negative one), foot-flat (the foot is still), roll-off from heel-off to
toe-off (about the ball), then the swing to the next touchdown. At touchdown the pivot point still moves into the
shoe's cushioning for a few milliseconds (the impact). At toe-off the foot plantar-flexes fastest: its pitch rate
turns there as sharply as measured on real shoes. Angles and positions are piecewise polynomials, quintics
joined with matching rate and acceleration plus bumps flat to second order at both ends, so position is C2 and
the accelerations come out analytically (no numerical differentiation).
"""

from __future__ import annotations

import bisect
import dataclasses

import numpy as np

from soleware.gait.vocabulary import GRAVITY_MPS2, StrikeType
from soleware.shoe.sim import _poly
from soleware.shoe.sim.plan import STOP_MPS, SpeedProfile

__all__ = ["PLACEMENTS", "FootMotion", "Runner", "Stances", "foot_model", "foot_motion", "footfalls", "steer"]

#: at or above this speed an ``auto`` segment is run, below it walked
RUN_FROM_MPS = 2.0
#: a ``run`` segment slower than this is walked all the same
RUN_MIN_MPS = 1.3

# Speed tables (interpolated, held constant beyond the ends). Steps per minute count both feet.
_RUN_V = (1.3, 2.5, 3.5, 4.5, 5.5, 6.5, 8.0)
_RUN_CADENCE = (156.0, 162.0, 168.0, 174.0, 182.0, 190.0, 200.0)
_RUN_CONTACT_S = (0.34, 0.30, 0.265, 0.23, 0.195, 0.16, 0.13)
_RUN_TOE_OFF_DEG = (40.0, 45.0, 52.0, 58.0, 63.0, 68.0, 70.0)
_RUN_SWING_HEIGHT_M = (0.08, 0.12, 0.17, 0.22, 0.28, 0.34, 0.40)
_RUN_TD_DOWN_MPS = (0.6, 0.8, 1.0, 1.15, 1.3, 1.45, 1.6)
_WALK_V = (0.3, 1.0, 1.4, 1.8, 2.4)
_WALK_CADENCE = (80.0, 100.0, 112.0, 122.0, 134.0)
_WALK_DUTY = (0.66, 0.62, 0.60, 0.58, 0.56)
_WALK_TOE_OFF_DEG = (42.0, 50.0, 55.0, 60.0, 64.0)
_WALK_SWING_HEIGHT_M = (0.03, 0.05, 0.06, 0.07, 0.08)
_WALK_TD_DOWN_MPS = (0.12, 0.2, 0.24, 0.28, 0.32)

#: where a chip sits in the foot frame (m from the heel's contact point: forward, left, up): in the midsole
#: under the arch, at the back of the heel counter, on the instep (laces) and in the toe cap
PLACEMENTS = {
    "sole": (0.10, 0.0, 0.025),
    "heel": (-0.01, 0.0, 0.05),
    "instep": (0.13, 0.0, 0.08),
    "toe": (0.24, 0.0, 0.04),
}

#: running strike angle (deg, + toe up) at touchdown by strike type; walking always strikes with the heel
STRIKE_ANGLE_DEG = {StrikeType.REARFOOT: 18.0, StrikeType.MIDFOOT: 3.0, StrikeType.FOREFOOT: -8.0}
STRIKE_TYPES = tuple(STRIKE_ANGLE_DEG)

# Phases as fractions of the contact time: roll-in (touchdown to foot-flat) and roll-off (heel-off to toe-off).
_ROLL_IN = {"walk": 0.20, "rearfoot": 0.28, "midfoot": 0.20, "forefoot": 0.26}
_ROLL_OFF = {"walk": 0.36, "run": 0.54}
#: the impact (pivot settling into the cushioning) lasts this long after touchdown
_IMPACT_S = {"walk": 0.03, "run": 0.02}
#: The foot plantar-flexes fastest as it leaves the ground: its pitch acceleration changes sign at toe-off with a
#: jerk of |pitch rate| / TOE_OFF_TURN_S². Sensors on top of real shoes (pyshoe_vicon walks and jogs, 1.1-2.1 m/s)
#: show the push-off pitch-rate minimum as a V: ~-7 rad/s recovering at a mean ~30 rad/s² over the next 10 ms
#: (jerk ~6000 rad/s³), not the flat plateau of a quintic with zero acceleration at toe-off.
TOE_OFF_TURN_S = 0.033


@dataclasses.dataclass(frozen=True)
class Runner:
    """One runner's gait and foot: strike type, geometry and how much the strides vary.

    ``strike`` is the running strike type (walking always lands on the heel). Lengths in metres, angles in
    degrees. ``sensor_in_foot_m`` is the sensor's position in the foot frame (from the heel's contact point:
    forward, left, up); the default is a chip in the midsole under the arch (see ``PLACEMENTS``).
    ``variability`` scales every stride-to-stride variation (0: identical strides). ``run_impact_s`` is how long
    the running touchdown impact lasts (the pivot's velocity falling to zero in the cushioning); None keeps
    20 ms. A sole chip in a firm shoe sees 8-12 ms (peaks of 20-40 g at 4-8 m/s), a soft shoe 20 ms and more.
    """

    strike: str = "rearfoot"
    strike_angle_deg: float | None = None
    walk_strike_angle_deg: float = 22.0
    step_width_m: float = 0.08
    toe_out_deg: float = 6.0
    heel_to_ball_m: float = 0.19
    sensor_in_foot_m: tuple[float, float, float] = (0.10, 0.0, 0.025)
    cadence_scale: float = 1.0
    swing_height_scale: float = 1.0
    variability: float = 1.0
    #: 1-sigma stride-to-stride variation: step time, step length, contact time (fractions), angles (deg)
    step_time_cv: float = 0.015
    step_length_cv: float = 0.012
    contact_cv: float = 0.03
    strike_angle_sd_deg: float = 1.5
    toe_off_sd_deg: float = 3.0
    yaw_sd_deg: float = 1.5
    lateral_sd_m: float = 0.01
    run_impact_s: float | None = None

    def __post_init__(self) -> None:
        if self.strike not in STRIKE_ANGLE_DEG:
            raise ValueError(f"strike must be one of {', '.join(STRIKE_TYPES)}, not {self.strike!r}")
        if self.run_impact_s is not None and not 0.002 <= self.run_impact_s <= 0.1:
            raise ValueError(f"run_impact_s must be between 0.002 and 0.1 s, not {self.run_impact_s}")

    @property
    def run_strike_angle_deg(self) -> float:
        return (
            STRIKE_ANGLE_DEG[StrikeType(self.strike)]
            if self.strike_angle_deg is None
            else self.strike_angle_deg
        )


def _interp(x: float, xs: tuple[float, ...], ys: tuple[float, ...]) -> float:
    """np.interp for one value on a small table, without numpy's per-call overhead."""
    if x <= xs[0]:
        return ys[0]
    if x >= xs[-1]:
        return ys[-1]
    i = bisect.bisect_right(xs, x)
    w = (x - xs[i - 1]) / (xs[i] - xs[i - 1])
    return ys[i - 1] + w * (ys[i] - ys[i - 1])


def cadence_spm(speed_mps: float, gait: str, runner: Runner) -> float:
    """Steps per minute (both feet) at a speed."""
    if gait == "walk":
        return runner.cadence_scale * _interp(speed_mps, _WALK_V, _WALK_CADENCE)
    return runner.cadence_scale * _interp(speed_mps, _RUN_V, _RUN_CADENCE)


def contact_s(speed_mps: float, gait: str, step_s: float) -> float:
    """Ground contact time of one foot."""
    if gait == "walk":
        return _interp(speed_mps, _WALK_V, _WALK_DUTY) * 2.0 * step_s
    return _interp(speed_mps, _RUN_V, _RUN_CONTACT_S)


@dataclasses.dataclass
class Stances:
    """Every stance of one foot as parallel arrays (times in s, lengths in m, angles in rad).

    Stance ``j`` touches down at ``t_td[j]``, is flat from ``t_ff`` to ``t_ho`` and leaves the ground at
    ``t_to``; the swing after it ends at ``t_td[j + 1]``. ``heel_xy`` is where the heel stands during the
    foot-flat. ``moving`` is False for the stances standing before the first step and after the last.
    """

    side: str
    t_td: np.ndarray
    t_ff: np.ndarray
    t_ho: np.ndarray
    t_to: np.ndarray
    heel_xy: np.ndarray
    yaw: np.ndarray
    strike: np.ndarray
    toe_off: np.ndarray
    roll_td: np.ndarray
    roll_to: np.ndarray
    td_velocity: np.ndarray
    impact_s: np.ndarray
    td_rate_factor: np.ndarray
    to_rate_factor: np.ndarray
    swing_height: np.ndarray
    swing_pitch_early: np.ndarray
    swing_pitch_late: np.ndarray
    swing_yaw: np.ndarray
    swing_lateral: np.ndarray
    gait: np.ndarray
    speed_mps: np.ndarray

    def __len__(self) -> int:
        return len(self.t_td)


def footfalls(profile: SpeedProfile, runner: Runner, rng: np.random.Generator) -> dict[str, Stances]:
    """Stances of both feet for a speed profile: alternating steps, standing where the speed drops to zero.

    The right foot touches down half a stride after the left (steps alternate), and a stop brings the moving
    foot beside the other.
    """
    var = runner.variability
    end_s = profile.duration_s
    grid_dt = 0.02
    grid = np.arange(0.0, end_s + 5.0, grid_dt)
    v_grid = profile.speed_mps(grid)
    v_list = v_grid.tolist()
    bounds = profile.boundaries_s.tolist()

    def speed(t: float) -> float:
        x = min(max(t / grid_dt, 0.0), len(v_list) - 1.001)
        i = int(x)
        return v_list[i] + (x - i) * (v_list[i + 1] - v_list[i])

    def activity(t: float) -> str:
        k = min(max(bisect.bisect_right(bounds, t) - 1, 0), len(profile.activities) - 1)
        return profile.activities[k]

    sides = ("left", "right")
    rows: dict[int, list[dict]] = {0: [], 1: []}
    y_side = np.array([0.5, -0.5]) * runner.step_width_m
    mirror = np.array(
        [1.0, -1.0]
    )  # left, right: + yaw is toe-out for the left foot, + roll inversion for right

    def gait_of(t: float, v: float) -> str:
        act = activity(t)
        if act == "walk" or v < RUN_MIN_MPS:
            return "walk"
        if act == "run":
            return "run"
        return "run" if v >= RUN_FROM_MPS else "walk"

    def new_stance(f: int, t_td: float, x: float, v: float, gait: str, tc: float) -> dict:
        n = rng.standard_normal(8) * var
        walk = gait == "walk"
        kind = "walk" if walk else runner.strike
        strike = runner.walk_strike_angle_deg if walk else runner.run_strike_angle_deg
        strike_sd = runner.strike_angle_sd_deg * (0.5 if kind == "midfoot" else 1.0)
        strike += strike_sd * n[0]
        if not walk and runner.strike == "midfoot":
            strike = float(np.clip(strike, 0.0, 6.0))
        table_v = _WALK_V if walk else _RUN_V
        toe_off = _interp(v, table_v, _WALK_TOE_OFF_DEG if walk else _RUN_TOE_OFF_DEG)
        toe_off += runner.toe_off_sd_deg * n[1]
        height = _interp(v, table_v, _WALK_SWING_HEIGHT_M if walk else _RUN_SWING_HEIGHT_M)
        height *= runner.swing_height_scale * (1.0 + 0.05 * n[2])
        down = _interp(v, table_v, _WALK_TD_DOWN_MPS if walk else _RUN_TD_DOWN_MPS)
        down *= 1.0 + 0.1 * n[3]
        yaw = mirror[f] * np.radians(runner.toe_out_deg) + np.radians(runner.yaw_sd_deg) * n[4]
        t_ff = t_td + _ROLL_IN[kind] * tc
        return {
            "t_td": t_td,
            "t_ff": t_ff,
            "t_ho": np.inf,
            "t_to": np.inf,
            "tc": tc,
            "roll_off": _ROLL_OFF["walk" if walk else "run"] * tc,
            "heel_x": x,
            "heel_y": y_side[f] + runner.lateral_sd_m * n[5],
            "yaw": yaw,
            "strike": np.radians(strike),
            "toe_off": np.radians(max(toe_off, 20.0)),
            "roll_td": mirror[f] * np.radians(4.0 + n[6]),
            "roll_to": mirror[f] * np.radians(3.0),
            "td_velocity": (0.15 * v if walk else 0.12 * v, 0.0, -down),
            "impact_s": min(
                _IMPACT_S["walk"] if walk else runner.run_impact_s or _IMPACT_S["run"], 0.8 * (t_ff - t_td)
            ),
            "td_rate_factor": 1.3,
            "to_rate_factor": 1.6,
            "swing_height": height,
            "swing_pitch_early": -np.radians((0.05 if walk else 0.10) * toe_off),
            "swing_pitch_late": np.radians(0.0 if walk else 3.0),
            "swing_yaw": mirror[f] * np.radians(2.0 * (1 + 0.2 * n[7])),
            "swing_lateral": -mirror[f] * 0.012,
            "gait": gait,
            "speed_mps": v,
            "moving": True,
        }

    def close(f: int, t_to: float, roll_off: float) -> None:
        st = rows[f][-1]
        st["t_to"] = t_to
        st["t_ho"] = max(t_to - roll_off, st["t_ff"] + 1e-3)
        if st["t_ho"] >= t_to:
            st["t_ho"] = 0.5 * (st["t_ff"] + t_to)

    x = np.zeros(2)
    for f in (0, 1):
        st = new_stance(f, -10.0, 0.0, 1.0, "walk", 0.7)
        st["moving"] = False
        rows[f].append(st)
    t = 0.0
    f = 1
    standing = True
    t_last = 0.0
    step_s = 0.5
    while True:
        if standing:
            moving = np.flatnonzero((grid >= t) & (v_grid > STOP_MPS))
            if len(moving) == 0:
                break
            t_r = float(grid[moving[0]])
            v = speed(t_r + 0.5)
            gait = gait_of(t_r + 0.5, v)
            step_s = 60.0 / cadence_spm(v, gait, runner)
            tc = min(contact_s(v, gait, step_s), 2 * step_s - 0.25)
            swing = 2 * step_s - tc
            close(f, t_r, _ROLL_OFF["walk" if gait == "walk" else "run"] * tc)
            close(1 - f, t_r + step_s, _ROLL_OFF["walk" if gait == "walk" else "run"] * tc)
            t_td = t_r + swing
            standing = False
        else:
            t_td = t_last + step_s
        if t_td > end_s + 3.0:
            break
        v = speed(t_td)
        other = 1 - f
        other_on_ground = rows[other][-1]["t_to"] > t_td
        if v < STOP_MPS and other_on_ground:
            rows[f].append(new_stance(f, t_td, x[other], max(v, 0.5), "walk", 0.7))
            rows[other][-1]["t_ho"] = rows[other][-1]["t_to"] = np.inf
            x[f] = x[other]
            standing = True
            t = t_td + 0.5
            f = other
            continue
        v = max(v, STOP_MPS)
        gait = gait_of(t_td, v)
        step_s = (
            60.0 / cadence_spm(v, gait, runner) * (1.0 + runner.step_time_cv * var * rng.standard_normal())
        )
        tc = contact_s(v, gait, step_s) * (1.0 + runner.contact_cv * var * rng.standard_normal())
        tc = min(tc, 2 * step_s - 0.25)
        length = v * step_s * (1.0 + runner.step_length_cv * var * rng.standard_normal())
        x[f] = x[other] + length
        st = new_stance(f, t_td, x[f], v, gait, tc)
        rows[f].append(st)
        close(f, t_td + tc, st["roll_off"])
        t_last = t_td
        f = other

    out = {}
    for f in (0, 1):
        r = rows[f]
        r[-1]["t_ho"], r[-1]["t_to"] = 1e9, 1e9 + 1.0
        out[sides[f]] = Stances(
            side=sides[f],
            t_td=np.array([s["t_td"] for s in r]),
            t_ff=np.array([s["t_ff"] for s in r]),
            t_ho=np.array([s["t_ho"] for s in r]),
            t_to=np.array([s["t_to"] for s in r]),
            heel_xy=np.array([[s["heel_x"], s["heel_y"]] for s in r]),
            yaw=np.array([s["yaw"] for s in r]),
            strike=np.array([s["strike"] for s in r]),
            toe_off=np.array([s["toe_off"] for s in r]),
            roll_td=np.array([s["roll_td"] for s in r]),
            roll_to=np.array([s["roll_to"] for s in r]),
            td_velocity=np.array([s["td_velocity"] for s in r]),
            impact_s=np.array([s["impact_s"] for s in r]),
            td_rate_factor=np.array([s["td_rate_factor"] for s in r]),
            to_rate_factor=np.array([s["to_rate_factor"] for s in r]),
            swing_height=np.array([s["swing_height"] for s in r]),
            swing_pitch_early=np.array([s["swing_pitch_early"] for s in r]),
            swing_pitch_late=np.array([s["swing_pitch_late"] for s in r]),
            swing_yaw=np.array([s["swing_yaw"] for s in r]),
            swing_lateral=np.array([s["swing_lateral"] for s in r]),
            gait=np.array([s["gait"] if s["moving"] else "stand" for s in r]),
            speed_mps=np.array([s["speed_mps"] if s["moving"] else 0.0 for s in r]),
        )
    return out


def steer(stances: Stances, *, travel_deg: float = 0.0, turn_deg_per_m: float = 0.0) -> Stances:
    """The same steps laid along another path: travelling at ``travel_deg`` to where the feet point (0 forward,
    180 backward, 90 sideways to the left) along a curve turning ``turn_deg_per_m`` (+ left) per metre.

    The straight path's distance along travel becomes arc length on the curve, its lateral offsets stay normal
    to it, and the feet (and the runner) turn with the curve; step lengths along the path are kept.
    """
    x, y = stances.heel_xy[:, 0], stances.heel_xy[:, 1]
    kappa = np.radians(turn_deg_per_m)
    alpha = np.radians(travel_deg)
    heading = kappa * x
    if abs(kappa) > 1e-12:
        cx = (np.sin(heading + alpha) - np.sin(alpha)) / kappa
        cy = (np.cos(alpha) - np.cos(heading + alpha)) / kappa
    else:
        cx, cy = x * np.cos(alpha), x * np.sin(alpha)
    path = heading + alpha
    heel = np.column_stack([cx - y * np.sin(path), cy + y * np.cos(path)])
    v = stances.td_velocity
    td = np.column_stack(
        [
            v[:, 0] * np.cos(path) - v[:, 1] * np.sin(path),
            v[:, 0] * np.sin(path) + v[:, 1] * np.cos(path),
            v[:, 2],
        ]
    )
    return dataclasses.replace(stances, heel_xy=heel, yaw=stances.yaw + heading, td_velocity=td)


@dataclasses.dataclass
class FootMotion:
    """True motion of one foot's sensor point at sample times (SI units).

    ``position_m`` and ``velocity_mps`` are in the world frame; ``specific_force_mps2`` (acceleration minus
    gravity) and ``omega_rps`` are in the foot frame. ``angles_rad`` holds pitch (+ toe up), roll and yaw.
    """

    t_s: np.ndarray
    position_m: np.ndarray
    velocity_mps: np.ndarray
    specific_force_mps2: np.ndarray
    omega_rps: np.ndarray
    angles_rad: np.ndarray

    def rotation(self) -> np.ndarray:
        """Foot-to-world rotation matrices (n, 3, 3)."""
        pitch, roll, yaw = self.angles_rad.T
        return _poly.euler_zyx(yaw, -pitch, roll)

    @property
    def accel_mps2(self) -> np.ndarray:
        """World-frame acceleration of the sensor point."""
        f_w = np.einsum("nij,nj->ni", self.rotation(), self.specific_force_mps2)
        return f_w - np.array([0.0, 0.0, GRAVITY_MPS2])


_BUMP_EARLY = _poly.bump(3, 6)
_BUMP_LATE = _poly.bump(6, 3)
_BUMP_MID = _poly.bump(3, 4)
_BUMP_HEIGHT = _poly.bump(3, 5)
#: -s^8 (1-s)^3 / 6 and s^3 (1-s)^8 / 6: zero value, rate and acceleration at both ends, third derivative 1 at the
#: end (added to the roll-off) or at the start (added to the swing)
_JERK_END = -_poly.bump(8, 3) * (8**8 * 3**3 / 11**11) / 6.0
_JERK_START = _poly.bump(3, 8) * (3**3 * 8**8 / 11**11) / 6.0
#: third derivative at s = 1 of a polynomial in s, from its coefficients
_D3_AT_END = np.array([k * (k - 1) * (k - 2) for k in range(_poly.N_COEF)], dtype=float)


class _Model:
    """Segment polynomials of one foot, built once from its stances and evaluated at any times."""

    def __init__(self, st: Stances, runner: Runner) -> None:
        m = len(st)
        self.sensor = np.array(runner.sensor_in_foot_m, dtype=float)
        self.ball = np.array([runner.heel_to_ball_m, 0.0, 0.0])
        nxt = np.r_[np.arange(1, m), m - 1]
        # ---------------------------------------------------------------- angles: 4 segments per stance
        t_in = st.t_ff - st.t_td
        t_off = st.t_to - st.t_ho
        t_sw = np.maximum(st.t_td[nxt] - st.t_to, 1e-3)
        t_sw[-1] = 1.0
        z = np.zeros(m)
        pitch_rate_td = -st.td_rate_factor * st.strike / t_in
        pitch_rate_to = -st.to_rate_factor * st.toe_off / t_off
        pitch = np.zeros((m, 4, _poly.N_COEF))
        pitch[:, 0] = _poly.hermite5(st.strike, pitch_rate_td, z, z, z, z, t_in)
        pitch[:, 2] = _poly.hermite5(z, z, z, -st.toe_off, pitch_rate_to, z, t_off)
        pitch[:, 3] = _poly.hermite5(
            -st.toe_off, pitch_rate_to, z, st.strike[nxt], pitch_rate_td[nxt], z, t_sw
        )
        pitch[:, 3] += (
            st.swing_pitch_early[nxt, None] * _BUMP_EARLY + st.swing_pitch_late[nxt, None] * _BUMP_LATE
        )
        # Toe-off: the pitch rate turns from speeding up to slowing down (see TOE_OFF_TURN_S). Both segments get
        # that jerk at toe-off; values, rates and accelerations at every joint stay as they were.
        jerk_to = np.abs(pitch_rate_to) / TOE_OFF_TURN_S**2
        off_s3, sw_s3 = t_off**3, t_sw**3
        pitch[:, 2] += (jerk_to * off_s3 - pitch[:, 2] @ _D3_AT_END)[:, None] * _JERK_END
        pitch[:, 3] += (jerk_to * sw_s3 - 6.0 * pitch[:, 3, 3])[:, None] * _JERK_START
        roll = np.zeros((m, 4, _poly.N_COEF))
        roll[:, 0] = _poly.hermite5(st.roll_td, z, z, z, z, z, t_in)
        roll[:, 2] = _poly.hermite5(z, z, z, st.roll_to, z, z, t_off)
        roll[:, 3] = _poly.hermite5(st.roll_to, z, z, st.roll_td[nxt], z, z, t_sw)
        yaw = np.zeros((m, 4, _poly.N_COEF))
        yaw[:, :3, 0] = st.yaw[:, None]
        yaw[:, 3] = (
            _poly.hermite5(st.yaw, z, z, st.yaw[nxt], z, z, t_sw) + st.swing_yaw[nxt, None] * _BUMP_MID
        )
        self.ang_t0 = np.column_stack([st.t_td, st.t_ff, st.t_ho, st.t_to]).ravel()
        self.ang_T = np.column_stack([t_in, st.t_ho - st.t_ff, t_off, t_sw]).ravel()
        self.angles = np.stack(
            [pitch.reshape(-1, _poly.N_COEF), roll.reshape(-1, _poly.N_COEF), yaw.reshape(-1, _poly.N_COEF)],
            axis=1,
        )

        # ---------------------------------------------------------------- base point: 5 segments per stance
        heel = np.column_stack([st.heel_xy, z])
        ball = heel + np.column_stack([np.cos(st.yaw), np.sin(st.yaw), z]) * runner.heel_to_ball_m
        on_ball = st.strike < 0
        pivot_td = np.where(on_ball[:, None], ball, heel)
        lever_td = on_ball.astype(int)
        tau = st.impact_s
        v_td = st.td_velocity
        base = np.zeros((m, 5, 3, _poly.N_COEF))
        # impact: the pivot sinks into the cushioning, its velocity falling from v_td to 0 (see module doc)
        vt = v_td * tau[:, None]
        base[:, 0, :, 0] = pivot_td - 0.4 * vt
        base[:, 0, :, 1] = vt
        base[:, 0, :, 3] = -2.0 * vt
        base[:, 0, :, 4] = 2.0 * vt
        base[:, 0, :, 5] = -0.6 * vt
        base[:, 1, :, 0] = pivot_td
        base[:, 2, :, 0] = heel
        base[:, 3, :, 0] = ball
        # swing of the heel from its toe-off state to the next touchdown state
        h0, dh0, ddh0 = self._heel_state(
            ball, 1, (st.yaw, z, z), (st.toe_off, -pitch_rate_to, z), (st.roll_to, z, z), None
        )
        h1, dh1, ddh1 = self._heel_state(
            pivot_td,
            lever_td,
            (st.yaw, z, z),
            (-st.strike, -pitch_rate_td, z),
            (st.roll_td, z, z),
            (-0.4 * vt, v_td),
        )
        for k in range(3):
            base[:, 4, k] = _poly.hermite5(
                h0[:, k], dh0[:, k], ddh0[:, k], h1[nxt, k], dh1[nxt, k], ddh1[nxt, k], t_sw
            )
        base[:, 4, 2] += st.swing_height[nxt, None] * _BUMP_HEIGHT
        base[:, 4, 1] += st.swing_lateral[nxt, None] * _BUMP_MID
        self.base_t0 = np.column_stack([st.t_td, st.t_td + tau, st.t_ff, st.t_ho, st.t_to]).ravel()
        self.base_T = np.column_stack([tau, t_in - tau, st.t_ho - st.t_ff, t_off, t_sw]).ravel()
        self.base = base.reshape(-1, 3, _poly.N_COEF)
        self.lever = np.column_stack([lever_td, lever_td, z, z + 1, z]).astype(int).ravel()
        self.n_stances = m

    def _heel_state(
        self,
        pivot: np.ndarray,
        lever: np.ndarray | int,
        yaw: tuple,
        beta: tuple,
        roll: tuple,
        settle: tuple | None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Heel position, velocity, acceleration while the foot turns about ``pivot`` (heel or ball)."""
        R = _poly.euler_zyx(yaw[0], beta[0], roll[0])
        omega, alpha = _poly.euler_rates(yaw, beta, roll)
        p_local = np.where(np.asarray(lever)[..., None] == 1, self.ball, 0.0) * np.ones((len(pivot), 1))
        rp = np.einsum("nij,nj->ni", R, p_local)
        offset, vel = settle if settle is not None else (0.0, 0.0)
        pos = pivot + offset - rp
        dpos = vel - np.cross(omega, rp)
        ddpos = -np.cross(alpha, rp) - np.cross(omega, np.cross(omega, rp))
        return pos, dpos, ddpos

    def evaluate(self, t_s: np.ndarray) -> FootMotion:
        t = np.asarray(t_s, dtype=float)
        ka = np.clip(np.searchsorted(self.ang_t0, t, side="right") - 1, 0, len(self.ang_t0) - 1)
        ang, dang, ddang = _poly.evaluate(self.angles, ka, (t - self.ang_t0[ka]) / self.ang_T[ka], self.ang_T)
        pitch = np.column_stack([ang[:, 0], dang[:, 0], ddang[:, 0]])
        roll = np.column_stack([ang[:, 1], dang[:, 1], ddang[:, 1]])
        yaw = np.column_stack([ang[:, 2], dang[:, 2], ddang[:, 2]])
        cos, sin = np.cos(ang), np.sin(ang)
        # beta = -pitch: cos(beta) = cos(pitch), sin(beta) = -sin(pitch)
        trig = (cos[:, 2], sin[:, 2], cos[:, 0], -sin[:, 0], cos[:, 1], sin[:, 1])
        w_b, a_b = _poly.body_rates(*trig[2:], yaw, -pitch, roll)
        kb = np.clip(np.searchsorted(self.base_t0, t, side="right") - 1, 0, len(self.base_t0) - 1)
        pos_b, vel_b, acc_b = _poly.evaluate(
            self.base, kb, (t - self.base_t0[kb]) / self.base_T[kb], self.base_T
        )
        r = np.where(self.lever[kb][:, None] == 1, self.sensor - self.ball, self.sensor)
        w_r = np.cross(w_b, r)
        acc_b[:, 2] += GRAVITY_MPS2
        f = _poly.to_body(*trig, acc_b) + np.cross(a_b, r) + np.cross(w_b, w_r)
        return FootMotion(
            t_s=t,
            position_m=pos_b + _poly.to_world(*trig, r),
            velocity_mps=vel_b + _poly.to_world(*trig, w_r),
            specific_force_mps2=f,
            omega_rps=w_b,
            angles_rad=ang,
        )


def foot_motion(stances: Stances, runner: Runner, t_s: np.ndarray) -> FootMotion:
    """True motion of one foot's sensor point at the times ``t_s``."""
    return _Model(stances, runner).evaluate(t_s)


def foot_model(stances: Stances, runner: Runner) -> _Model:
    """The segment polynomials of one foot; ``.evaluate(t_s)`` gives its :class:`FootMotion` at any times."""
    return _Model(stances, runner)
