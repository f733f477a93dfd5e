"""Virtual shoe sole: a runner's feet, the sole's IMU and workout plans, producing recordings with ground truth.

``simulate("10min@6:00/km, 2min walk")`` gives the left and right sole recordings
(:class:`soleware.gait.recording.Recording`) with every stride's true length, contact time and strike angle.
"""

from soleware.shoe.sim.foot import (
    PLACEMENTS,
    FootMotion,
    Runner,
    Stances,
    foot_model,
    foot_motion,
    footfalls,
    steer,
)
from soleware.shoe.sim.imu import ImuOutput, SensorModel
from soleware.shoe.sim.plan import Plan, PlanError, Segment, SpeedProfile, parse_plan
from soleware.shoe.sim.simulator import ShoeSimulator, mounting_rotation, simulate

__all__ = [
    "PLACEMENTS",
    "FootMotion",
    "ImuOutput",
    "Plan",
    "PlanError",
    "Runner",
    "Segment",
    "SensorModel",
    "ShoeSimulator",
    "SpeedProfile",
    "Stances",
    "foot_model",
    "foot_motion",
    "footfalls",
    "mounting_rotation",
    "parse_plan",
    "simulate",
    "steer",
]
